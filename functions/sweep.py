"""The sweep: read the register -> evaluate it (functions/evaluate.py) -> plan and send today's emails -> write the AR
columns and the Contributions cells back, in one write. Orchestration only: the connectors, the mail transport, the
ledger, the link signer and the email step's time limit come in as arguments, built by functions/bootstrap.py.

Crash between sending and writing: every email is recorded in the sent-ledger before and after it goes
(functions/mailer.py). The next sweep plans nothing the ledger holds and re-issues the Contributions cells (Requested,
Chasers, Last chased) from the ledger's dates, so nothing is sent twice. The worst case is one email whose send began
but was never confirmed (a crash inside the SMTP conversation, or a mail server that stopped answering once it had the
message): it counts as sent, so it may be lost, never doubled; the next chaser (7 days on) covers it.

Time: the email step stops at `deadline` seconds (KEEPER_MAIL_DEADLINE, 240 by default) or after 3 transient failures
in a row, so a stalled mail server cannot run the function into its 540 s limit before the write: the write records
what went, and the emails not tried wait for the next sweep. If the ledger itself is lost (a Cloud Function's temporary
disk, with no KEEPER_LEDGER on lasting storage), a crash after sending and before the write would send that day's
emails again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from email.utils import parseaddr
from typing import Any

from connectors.base import CellWrite, Register, RegisterData, WritePlan
from connectors.lease import DEFAULT_WAIT, Lease
from connectors.mail_base import MailTransport
from connectors.outbox import OutboxTransport
from connectors.submission_queue import SubmissionQueue
from sheet_schema.ar_columns import DATE_FORMAT
from sheet_schema.contribution_formulas import formula_issues
from sheet_schema.contributions import (
    CONTRIBUTION_HEADERS,
    CONTRIBUTIONS_SHEET,
    INVITED_FOR,
    RECEIVED,
    REQUESTED,
    Contribution,
    find_contributions_header,
    find_contributions_tab,
    outstanding_by_pupil,
    parse_contributions,
)
from sheet_schema.model import ReviewedPupil

from .ar_writes import outstanding_plan, write_plan
from .contribution_writes import contributions_write_plan, rows_to_append, updates_to_write
from .digest_records import attach_records_enabled, attach_review_records, contribution_lines
from .evaluate import (
    Evaluation,
    _london_now,
    _tab,
    evaluate,
    london_today,
    outstanding_from_tab,
    previous_statuses,
    review_pupil,
)
from .la_sweep import LAPlan, plan_la, send_la
from .links import LinkSigner
from .mailer import DEFAULT_DEADLINE, Ledger, MemoryLedger, SendOutcome, send_all, went_keys
from .planning import mail_plan_settings
from .rendering import EmailPlan, plan_emails
from .results import URGENCY, MailReport, SweepResult, ordered_by_urgency, pupil_json
from .settings import Settings, SettingsError
from .submit import apply_queued
from .sweep_guard import sweep_lease, write_noting_emails

log = logging.getLogger("review_keeper.sweep")


@dataclass(frozen=True)
class MailSetup:
    """What the email step needs, built by functions/bootstrap.py from the school's settings."""

    transport: MailTransport | None  # None: KEEPER_MAIL=none, the school sends no emails
    ledger: Ledger
    signer: LinkSigner | None  # None: no KEEPER_LINK_SECRET, so emails ask for a reply instead of carrying a link
    deadline: float = DEFAULT_DEADLINE  # seconds the email step may take


def _email_json(outcome: SendOutcome) -> dict[str, Any]:
    e = outcome.email
    return {"kind": e.kind, "to": e.to, "pupil_row": e.pupil_row, "subject": e.subject}


def _date_cell(value: Any) -> CellWrite:
    return CellWrite(value, DATE_FORMAT) if isinstance(value, date) else CellWrite(value)


def outstanding_after(
    plan: EmailPlan, contributions: Iterable[Contribution], pupils: Sequence[ReviewedPupil], sent_keys: set[str]
) -> dict[int, str]:
    """The AR outstanding cell per pupil row, counting what went out today: "EP, Class teacher (2 chasers)"."""
    return outstanding_by_pupil((*contributions, *plan.new_rows), pupils, updates_to_write(plan, sent_keys))


def _transport_name(transport: MailTransport) -> str:
    name = type(transport).__name__
    return {"OutboxTransport": "outbox", "SmtpTransport": "smtp", "SendGridTransport": "sendgrid"}.get(name, name)


def run_sweep(
    register: Register,
    *,
    today: date,
    settings: Settings,
    dry_run: bool = False,
    now: Callable[[], datetime] | None = None,
    transport: MailTransport | None = None,
    ledger: Ledger | None = None,
    signer: LinkSigner | None = None,
    deadline: float = DEFAULT_DEADLINE,
    queue: SubmissionQueue | None = None,
    lease: Lease | None = None,  # one sweep per register at a time (functions/sweep_guard.py)
    lease_wait: float = DEFAULT_WAIT,
) -> SweepResult:
    """One sweep. The email step runs when a `transport` is given; without one the sweep writes the AR columns only.
    `ledger` defaults to an in-memory one (idempotency then rests on the sheet alone). With `dry_run` nothing is sent
    and nothing written, and the result lists the emails that would go. `deadline`: seconds the email step may take."""

    with sweep_lease(lease, lease_wait, dry_run):
        waiting_advice: dict[str, int] = {}
        if queue is not None and not dry_run and len(queue):
            # Contributors' submissions that arrived while the register was open in Excel (docs/register.md s8):
            # into the register first, so this sweep's AR outstanding already counts them.
            applied, waiting = apply_queued(register, queue)
            waiting_advice = {"advice_applied": applied, "advice_waiting": waiting}
        data = register.read()
        evaluation = evaluate(data, today=today, settings=settings)
        result = SweepResult(today=today, evaluation=evaluation, dry_run=dry_run)
        result.extra.update(waiting_advice)
        extra_plans: list[WritePlan] = []
        outstanding: dict[int, str] = {}
        la_plans: list[WritePlan] = []
        if transport is not None:
            ledger = ledger if ledger is not None else MemoryLedger()
            # The LA's clock (issue 14, functions/la_sweep.py): decided first, so the digest can say what it found.
            la = plan_la(evaluation.pupils, settings, mail_plan_settings(settings, signer), today=today,
                         sent_log=ledger.sent_log(), data=data)  # fmt: skip
            extra_plans, outstanding = _email_step(
                data, evaluation, result, today=today, settings=settings, dry_run=dry_run,
                transport=transport, ledger=ledger, signer=signer, deadline=deadline, la=la,
                before_sending=getattr(register, "check_writable", lambda: None),
            )  # fmt: skip
            la_plans = _la_step(la, result, today=today, transport=transport, ledger=ledger, deadline=deadline,
                                dry_run=dry_run, settings=settings)  # fmt: skip
        else:
            # No emails (KEEPER_MAIL=none, or the cloud's outbox): the AR outstanding column still shows what the
            # Contributions tab says is awaited, as the SENDCo keeps it by hand.
            outstanding = outstanding_from_tab(data, evaluation)
        if dry_run:
            return result
        checked_at = (now or _london_now)()
        tab = find_contributions_tab(data.sheets)
        blocked = formula_issues(tab.rows, tab.formulas, evaluation.pupils) if tab is not None else {}
        plan = write_plan(
            evaluation,
            today=today,
            checked_at=checked_at,
            settings=settings,
            outstanding=outstanding,
            more_issues=blocked,
        )
        # ONE write for the register's AR cells and the Contributions cells: one save, or one batchUpdate.
        result.write = write_noting_emails(register, result, (plan, *extra_plans, *la_plans))
        if result.mail is not None and extra_plans and result.write.more:
            result.mail.appended_rows = result.write.more[0].appended_rows
            result.mail.created_tab = result.write.more[0].created_sheet
        log.info("wrote %d rows (%d pupils no longer found)", result.write.written_rows, len(result.write.missing_keys))
        return result


def _email_step(
    data: RegisterData,
    evaluation: Evaluation,
    result: SweepResult,
    *,
    today: date,
    settings: Settings,
    dry_run: bool,
    transport: MailTransport,
    ledger: Ledger,
    signer: LinkSigner | None,
    deadline: float = DEFAULT_DEADLINE,
    la: LAPlan | None = None,
    before_sending: Callable[[], None] = lambda: None,
) -> tuple[list[WritePlan], dict[int, str]]:
    """Plan today's emails, send them (unless a dry run), and return the Contributions write plan (if any) and the AR
    outstanding cells."""
    title, rows = _tab(data, CONTRIBUTIONS_SHEET)
    tab = find_contributions_tab(data.sheets)
    contributions, issues = parse_contributions(rows, tab.formulas if tab is not None else frozenset())
    try:
        mail_settings = mail_plan_settings(settings, signer)
    except ValueError as exc:
        raise SettingsError(f"{settings.source}: {exc}") from None
    attach_records = attach_records_enabled(settings)  # checked every sweep, not only on digest days
    plan = plan_emails(
        evaluation.pupils,
        contributions,
        today=today,
        settings=mail_settings,
        sent_log=ledger.sent_log(),
        previous_status=previous_statuses(evaluation),
        # The year's plan (issue 13): next week's planned load and the suggestions not yet accepted, in the digest.
        contribution_issues=[*issues, *_plan_notes(evaluation, today, settings)],
        la_notes=la.notes if la else (),
        la_prompt=la.prompt if la else False,
    )
    records_notes: tuple[str, ...] = ()
    records_attached = 0
    if attach_records and any(e.kind == "digest" for e in plan.emails):
        # issue 6: the digest carries the records of the reviews meeting in the next four weeks. Made here, not in
        # plan_emails, so planning stays pure (no files); a dry run makes them too, so it shows what would go.
        attached = attach_review_records(
            plan,
            evaluation.pupils,
            contribution_lines(contributions, evaluation.pupils, plan),
            today=today,
            settings=settings,
        )
        plan, records_notes, records_attached = attached.plan, attached.notes, attached.attached
    outbox = str(transport.folder) if isinstance(transport, OutboxTransport) else None
    report = MailReport(
        sent=[],
        failures=[],
        notes=[*plan.notes, *records_notes],
        outbox=outbox,
        transport=_transport_name(transport),
        records_attached=records_attached,
    )
    result.mail = report
    if dry_run:
        report.sent = plan.emails_json()
        return [], dict(plan.outstanding)
    before_sending()  # opened in Excel since the read? refused now, before any email goes (issue 10 item 14)
    has_name = bool(parseaddr(transport.sender)[0])
    outcomes = send_all(
        plan, transport, ledger, sender_name=None if has_name else settings.school_name, deadline=deadline
    )
    keys = went_keys(outcomes)
    report.sent = [_email_json(o) for o in outcomes if o.status == "sent"]
    report.failures = [
        {**_email_json(o), "error": o.error or ""} for o in outcomes if o.status in ("failed", "not sent")
    ]
    report.unconfirmed = [{**_email_json(o), "error": o.error or ""} for o in outcomes if o.status == "in doubt"]
    report.notes.extend(_sending_notes(outcomes))
    outstanding = outstanding_after(plan, contributions, evaluation.pupils, keys)

    headers = (*CONTRIBUTION_HEADERS, INVITED_FOR)
    appended = [
        {h: _date_cell(v) for h, v in zip(headers, values, strict=True) if v not in (None, "")}
        for values in rows_to_append(plan, keys)
        # A register row with neither UPN nor name cannot be matched back: appended, it would be seeded again daily.
        if values[0] not in (None, "")
    ]
    contributions_plan = contributions_write_plan(plan, keys)
    if title is not None and find_contributions_header(rows) is None:
        # A tab the product cannot read is the SENDCo's to fix (the note says how); writing into it could misplace cells.
        return [], outstanding
    if title is not None and not contributions_plan.rows and not appended:
        return [], outstanding  # nothing to record: the SENDCo's tab is left exactly as it is
    contributions_plan = replace(
        contributions_plan,
        sheet=title or CONTRIBUTIONS_SHEET,
        append_rows=appended,
        create_if_missing=True,
        # Requested and Received are filled only while blank at write time: a date the SENDCo typed always wins.
        blank_only=frozenset({REQUESTED, RECEIVED}),
    )
    return [contributions_plan], outstanding


def _la_step(
    la: LAPlan,
    result: SweepResult,
    *,
    today: date,
    transport: MailTransport,
    ledger: Ledger,
    deadline: float,
    dry_run: bool,
    settings: Settings,
) -> list[WritePlan]:
    """The LA chasers and the family's status emails, sent after the school's own; the LA chasers tab to write."""
    if not la.emails:
        return []
    name = None if parseaddr(transport.sender)[0] else settings.school_name  # as the school's own emails
    sent, failed, plans = send_la(la, today=today, transport=transport, ledger=ledger, deadline=deadline,
                                  dry_run=dry_run, sender_name=name)  # fmt: skip
    if result.mail is not None:
        result.mail.sent.extend(sent)
        result.mail.failures.extend(failed)
    return plans


def _plan_notes(evaluation: Evaluation, today: date, settings: Settings) -> list[str]:
    from review_rules.school_days import calendar_for

    from .plan_digest import digest_notes

    capacity = settings.capacity
    calendar = calendar_for(settings.rules.closures)
    return digest_notes(
        evaluation.pupils, evaluation.rows, evaluation.header, calendar=calendar, capacity=capacity, today=today
    )


def _sending_notes(outcomes: Sequence[SendOutcome]) -> list[str]:
    """Sentences for the SENDCo about emails that may not have arrived (no names: the summary goes to the logs)."""
    notes = []
    doubtful = sum(o.status == "in doubt" for o in outcomes)
    if doubtful:
        one = doubtful == 1
        notes.append(
            f"{doubtful} email{'' if one else 's'} may not have arrived: the mail service stopped answering after "
            f"taking {'it' if one else 'them'}. {'It is' if one else 'They are'} counted as sent and not sent again "
            "(the next chaser or digest covers a lost one)."
        )
    waiting = [o for o in outcomes if o.status == "not sent"]
    if waiting:
        notes.append(f"{len(waiting)} email{'s' if len(waiting) != 1 else ''} not tried today. {waiting[0].error}")
    return notes


# Evaluate, results and the mail set-up moved out of this module; their names stay importable from here until every
# caller imports them from functions.evaluate, functions.results and functions.bootstrap.
__all__ = [
    "URGENCY",
    "Evaluation",
    "MailReport",
    "MailSetup",
    "SweepResult",
    "evaluate",
    "london_today",
    "ordered_by_urgency",
    "outstanding_after",
    "outstanding_from_tab",
    "outstanding_plan",
    "previous_statuses",
    "pupil_json",
    "review_pupil",
    "run_sweep",
    "write_plan",
]


def __getattr__(name: str) -> Any:
    # mail_deadline now lives in the composition root, which imports this module: loaded on first use.
    if name == "mail_deadline":
        from . import bootstrap

        return getattr(bootstrap, name)
    raise AttributeError(name)
