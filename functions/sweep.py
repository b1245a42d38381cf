"""The sweep: read the register -> validate rows -> compute each review's clock -> plan and send today's emails ->
write the AR columns and the Contributions cells back, in one write.

Connectors come in as arguments (built by main.py), so tests hand in a workbook on disk or a local fake server.

Crash between sending and writing: every email is recorded in the sent-ledger before and after it goes
(functions/mailer.py). The next sweep plans nothing the ledger holds and re-issues the Contributions cells (Requested,
Chasers, Last chased) from the ledger's dates, so nothing is sent twice. The worst case is one email whose send began
but was never confirmed (a crash inside the SMTP conversation, or a mail server that stopped answering once it had the
message): it counts as sent, so it may be lost, never doubled; the next chaser (7 days on) covers it.

Time: the email step stops at KEEPER_MAIL_DEADLINE seconds (240 by default) or after 3 transient failures in a row, so
a stalled mail server cannot run the function into its 540 s limit before the write: the write records what went, and
the emails not tried wait for the next sweep. If the ledger itself is lost (a Cloud Function's temporary disk, with no
KEEPER_LEDGER on lasting storage), a crash after sending and before the write would send that day's emails again."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from connectors.base import CellValue, CellWrite, Register, RegisterData, RegisterError, WritePlan, WriteResult
from connectors.mail import MailError, MailTransport, OutboxTransport, transport_from_env
from review_rules.clock import compute_review
from review_rules.model import ReviewClock, Status
from review_rules.school_days import SchoolCalendar, calendar_for
from sheet_schema.ar_columns import AR_HEADERS, AR_STATUS, ar_row
from sheet_schema.contributions import (
    CHASERS,
    CONTRIBUTION_HEADERS,
    CONTRIBUTIONS_SHEET,
    INVITED_FOR,
    RECEIVED,
    REQUESTED,
    Contribution,
    find_contributions_header,
    match_pupil,
    parse_contributions,
)
from sheet_schema.fields import normalise_header
from sheet_schema.header import check_required, choose_register, find_header
from sheet_schema.model import Field, HeaderMatch, PupilRecord, ReviewedPupil
from sheet_schema.validate import row_key, validate_rows

from .digest_records import attach_records_enabled, attach_review_records, contribution_lines
from .links import SECRET_ENV, LinkSigner
from .mailer import (
    DEFAULT_DEADLINE,
    LEDGER_NAME,
    FileLedger,
    Ledger,
    MemoryLedger,
    SendOutcome,
    send_all,
    went_keys,
)
from .planning import (
    DATE_FORMAT,
    EmailPlan,
    contributions_write_plan,
    mail_plan_settings,
    plan_emails,
    rows_to_append,
    updates_to_write,
)
from .settings import Settings, SettingsError

log = logging.getLogger("review_keeper.sweep")

# The order a SENDCo wants to read them in: what is late first, what needs nothing last.
URGENCY: tuple[Status, ...] = (
    Status.OVERDUE,
    Status.DUE_SOON,
    Status.INVALID,
    Status.PREPARE,
    Status.ON_TRACK,
    Status.INACTIVE,
)


@dataclass(frozen=True)
class Evaluation:
    """The register understood: where its table is and every pupil's computed review."""

    source: str
    header: HeaderMatch
    pupils: list[ReviewedPupil]
    rows: list[list[CellValue]]


EMAIL_KEYS = ("kind", "to", "pupil_row", "subject")


@dataclass
class MailReport:
    """What the email step did, for the summary and the JSON."""

    sent: list[dict[str, Any]]  # {"kind", "to", "pupil_row", "subject"}: sent, or would be with --dry-run
    failures: list[dict[str, Any]]  # the same keys plus "error": not sent; the next sweep tries them again
    notes: list[str]  # Contributions tab problems and other sentences for the SENDCo
    outbox: str | None  # the outbox folder when emails go there (KEEPER_MAIL=outbox)
    transport: str  # "outbox" | "smtp" | "sendgrid" | the class name
    appended_rows: int = 0  # Parent/carer rows added to the Contributions tab
    created_tab: bool = False
    records_attached: int = 0  # review records on the digest (issue 6); sent, or would be with --dry-run
    # The same keys plus "error": handed over with no answer, so they may have gone; counted as sent, never resent.
    unconfirmed: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SweepResult:
    today: date
    evaluation: Evaluation
    dry_run: bool
    write: WriteResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    mail: MailReport | None = None  # None: the sweep ran without the email step (no transport given)

    @property
    def pupils(self) -> list[ReviewedPupil]:
        return self.evaluation.pupils

    def counts(self) -> Counter[Status]:
        return Counter(p.status for p in self.pupils)

    def to_json(self) -> dict[str, Any]:
        """register.md section 7, exactly."""
        out: dict[str, Any] = {"today": self.today.isoformat(), "pupils": [pupil_json(p) for p in self.pupils]}
        if self.mail is not None:
            out["emails"] = self.mail.sent
            out["email_failures"] = self.mail.failures
            out["email_unconfirmed"] = self.mail.unconfirmed
        out.update(self.extra)
        return out


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def pupil_json(pupil: ReviewedPupil) -> dict[str, Any]:
    clock = pupil.clock
    record = pupil.record
    out: dict[str, Any] = {
        "row": record.row,
        "name": record.name,
        "upn": record.upn,
        "status": pupil.status.value,
        "window_end": None,
        "meeting_latest": None,
        "meeting_target": None,
        "requests_from": None,
        "contributions_due": None,
        "invites_by": None,
        "nc_year_at_review": None,
        "pfa_required": None,
        "phase_transfer": None,
        "after_meeting": None,
        "errors": list(pupil.errors),
        "warnings": list(pupil.warnings),
    }
    if clock is None:
        return out
    out.update(
        {
            "window_end": _iso(clock.window_end),
            "meeting_latest": _iso(clock.meeting_latest),
            "meeting_target": _iso(clock.meeting_target),
            "requests_from": _iso(clock.requests_from),
            "contributions_due": _iso(clock.contributions_due),
            "invites_by": _iso(clock.invites_by),
            "nc_year_at_review": clock.nc_year_at_review,
            "pfa_required": clock.pfa_required,
        }
    )
    if clock.phase_transfer is not None:
        t = clock.phase_transfer
        out["phase_transfer"] = {
            "transfer_date": _iso(t.transfer_date),
            "final_by": _iso(t.final_by),
            "meeting_latest": _iso(t.meeting_latest),
        }
    if clock.after_meeting is not None:
        a = clock.after_meeting
        out["after_meeting"] = {
            "report_due": _iso(a.report_due),
            "decision_due": _iso(a.decision_due),
            "final_plan_due": _iso(a.final_plan_due),
            "late": list(a.late),
        }
    return out


def _planned_meeting_warning(record: PupilRecord, clock: ReviewClock, header: HeaderMatch) -> str:
    column = header.header_text.get(Field.PLANNED_MEETING, "Planned meeting")
    return (
        f'row {record.row}: "{column}" is {clock.meeting_date:%d/%m/%Y}, after the deadline for this review '
        f"({clock.meeting_latest:%d/%m/%Y}); move the meeting earlier or record why it cannot be."
    )


def review_pupil(
    record: PupilRecord, header: HeaderMatch, *, today: date, settings: Settings, calendar: SchoolCalendar
) -> ReviewedPupil:
    """One row's clock. A rule that cannot be computed for odd data becomes an error on that row, never a crash."""
    if not record.valid or record.facts is None:
        return ReviewedPupil(record, None, Status.INVALID, record.errors, record.warnings)
    try:
        clock = compute_review(record.facts, today, settings.rules, calendar)
    except (ValueError, OverflowError) as exc:
        log.warning("row %s could not be computed: %s", record.row, type(exc).__name__)
        message = (
            f"row {record.row}: the dates on this row cannot be worked out ({exc}); check the date of birth, "
            "plan and review dates."
        )
        return ReviewedPupil(record, None, Status.INVALID, (*record.errors, message), record.warnings)
    warnings = record.warnings
    if clock.planned_after_deadline:
        warnings = (*warnings, _planned_meeting_warning(record, clock, header))
    return ReviewedPupil(record, clock, clock.status, record.errors, warnings)


def evaluate(data: RegisterData, *, today: date, settings: Settings) -> Evaluation:
    """Find the table, validate every row and compute every clock. Raises RegisterError only for a register that
    cannot be read at all (no table, no required columns); one bad row never stops the others."""
    sheets = [(s.title, s.rows) for s in data.sheets]
    if not sheets:
        raise RegisterError(f"{data.source} has no worksheets; add your register to a worksheet and run again.")
    if settings.register_sheet is not None and settings.register_sheet not in {t for t, _ in sheets}:
        names = ", ".join(f'"{t}"' for t, _ in sheets)
        raise RegisterError(
            f'{data.source} has no worksheet called "{settings.register_sheet}" (it has {names}); '
            "fix register_sheet in keeper.toml."
        )
    header = choose_register(sheets, sheet_name=settings.register_sheet, mapping=settings.headers)
    if header is None:
        if all(not any(v not in (None, "") for row in rows for v in row) for _, rows in sheets):
            raise RegisterError(f"{data.source} is empty; put your register in it (one row per pupil) and run again.")
        raise RegisterError(
            f"{data.source} has no row of column headers the product recognises in the first 15 rows of any sheet; "
            "it needs at least a Name, a Date of birth and an EHCP issued or Last review column (or map your own "
            "headers in keeper.toml under [headers])."
        )
    missing = check_required(header)
    if missing:
        raise RegisterError(f'{data.source}, sheet "{header.sheet}": ' + " ".join(missing))
    rows = next(r for t, r in sheets if t == header.sheet)
    records = validate_rows(rows, header, today=today)
    calendar = calendar_for(settings.rules.closures)  # shared: bank holidays and closures are built once a process
    pupils = [review_pupil(r, header, today=today, settings=settings, calendar=calendar) for r in records]
    log.info("evaluated %d rows on sheet index %d", len(pupils), [t for t, _ in sheets].index(header.sheet))
    return Evaluation(data.source, header, pupils, rows)


def _cell(value: Any) -> CellWrite:
    return CellWrite(value.value, value.number_format, value.fill)


def _full_key(values: Sequence[CellValue], header: HeaderMatch, duplicated: AbstractSet[Hashable]) -> object | None:
    key = row_key(values, header)
    if key is None or key not in duplicated:
        return key
    return (
        key,
        tuple("" if values[i] is None else str(values[i]) for i in sorted(header.columns.values()) if i < len(values)),
    )


def write_plan(
    evaluation: Evaluation,
    *,
    today: date,
    checked_at: datetime,
    settings: Settings,
    outstanding: Mapping[int, str] | None = None,
) -> WritePlan:
    """The AR cells for every pupil, keyed the way the adapter will find their rows again at write time.
    `outstanding`: pupil row -> the AR outstanding cell (awaited contributions and their chasers)."""
    outstanding = outstanding or {}
    header = evaluation.header
    mapping = settings.headers

    # The adapter calls find_header_row on the sheet as it is at write time, then key_of on each row below it: the
    # SENDCo may have moved columns or rows since the read, so the key columns are located afresh from that header.
    current = {"header": header}

    def find_header_row(rows: list[list[CellValue]]) -> int | None:
        found = find_header(rows, sheet=header.sheet, mapping=mapping)
        if found is None:
            return None
        current["header"] = found
        return found.header_row

    def key_of(values: list[CellValue]) -> object | None:
        return _full_key(values, current["header"], duplicated)

    # Two rows with one key (a duplicated UPN, or the same name and DOB twice) are both INVALID, and each must still
    # show why on its own row: their key is widened with the row's known fields so each is matched to itself.
    base = [(row_key(evaluation.rows[p.record.row - 1], header), p) for p in evaluation.pupils]
    base_counts = Counter(k for k, _ in base if k is not None)
    duplicated = {k for k, n in base_counts.items() if n > 1}
    keyed = [
        (_full_key(evaluation.rows[p.record.row - 1], header, duplicated) if k in duplicated else k, p) for k, p in base
    ]
    counts = Counter(k for k, _ in keyed)
    rows: dict[object, dict[str, CellWrite]] = {}
    for key, pupil in keyed:
        if key is None or counts[key] > 1:
            continue  # identical rows: neither can be told apart from the other, so neither is written
        cells = ar_row(pupil, today=today, checked_at=checked_at, outstanding=outstanding.get(pupil.record.row, ""))
        rows[key] = {h: _cell(v) for h, v in cells.items()}
    return WritePlan(
        sheet=header.sheet,
        headers=AR_HEADERS,
        find_header_row=find_header_row,
        key_of=key_of,
        rows=rows,
        # The AR columns are found as the parser finds headers ("AR status:" is AR status), so none is added twice.
        header_key=normalise_header,
    )


def mail_deadline(settings: Settings, env: Mapping[str, str]) -> float:
    """Seconds the email step may take: KEEPER_MAIL_DEADLINE, else [mail] deadline in keeper.toml, else 240. A Cloud
    Function is stopped at 540 s; the register's read and its one write need the rest."""
    raw: object = (env.get("KEEPER_MAIL_DEADLINE") or "").strip() or (settings.extra.get("mail") or {}).get("deadline")
    if raw in (None, ""):
        return DEFAULT_DEADLINE
    try:
        seconds = float(str(raw))
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise SettingsError(f'KEEPER_MAIL_DEADLINE is "{raw}"; give the seconds the email step may take, e.g. 240.')
    return seconds


def ledger_path(settings: Settings, env: Mapping[str, str], base_dir: Path) -> Path:
    """KEEPER_LEDGER, else [mail] ledger in keeper.toml, else review-keeper-sent.jsonl in `base_dir` (beside the
    register). Relative paths are taken from `base_dir`. On Cloud Functions the local disk is temporary: point this at
    lasting storage (a mounted bucket or file share) or a crash between sending and writing may send twice."""
    configured = (env.get("KEEPER_LEDGER") or "").strip() or str((settings.extra.get("mail") or {}).get("ledger", ""))
    path = Path(configured) if configured.strip() else Path(LEDGER_NAME)
    return path if path.is_absolute() else base_dir / path


@dataclass(frozen=True)
class MailSetup:
    transport: MailTransport | None  # None: KEEPER_MAIL=none, the school sends no emails
    ledger: Ledger
    signer: LinkSigner | None


def mail_setup(
    settings: Settings, env: Mapping[str, str], base_dir: Path, *, school_id: str | None = None
) -> MailSetup:
    """The transport (KEEPER_MAIL: outbox (the default: an outbox/ folder in `base_dir` or KEEPER_OUTBOX), smtp,
    sendgrid, or none for no emails at all), the sent-ledger and the
    link signer (None when KEEPER_LINK_SECRET is unset: emails then ask for a reply instead of carrying a link).
    `base_dir` is the register's folder, or the working directory for a Google Sheet."""
    mail_settings = settings.extra.get("mail", {}) or {}
    kind = str(env.get("KEEPER_MAIL") or mail_settings.get("transport") or "").strip().lower()
    transport: MailTransport | None = None
    if kind != "none":  # "none": this school sends no emails (the AR columns are still written)
        try:
            transport = transport_from_env(env, mail_settings, base_dir)
        except MailError as exc:
            raise SettingsError(str(exc)) from None
    # Links carry the school's id (the confirm page opens that school's register): the trust's [[schools]] id, or
    # KEEPER_SCHOOL_ID, or none for a one-school install (the confirm page then has only one register to open).
    school = school_id if school_id is not None else env.get("KEEPER_SCHOOL_ID", "").strip()
    signer = LinkSigner.from_env(env, school=school) if env.get(SECRET_ENV, "").strip() else None
    return MailSetup(transport, FileLedger(ledger_path(settings, env, base_dir)), signer)


def _tab(data: RegisterData, name: str) -> tuple[str | None, list[list[CellValue]]]:
    """The tab called `name` (ignoring case and spaces: Excel and Sheets treat "contributions" as the same name)."""
    wanted = " ".join(name.split()).casefold()
    for sheet in data.sheets:
        if " ".join(sheet.title.split()).casefold() == wanted:
            return sheet.title, sheet.rows
    return None, []


def previous_statuses(evaluation: Evaluation) -> dict[int, CellValue]:
    """pupil row -> the "AR status" cell as the register holds it before this sweep writes (empty when the register has
    no AR status column yet: every urgent review is then new to the SENDCo)."""
    column = evaluation.header.ar_columns.get(AR_STATUS)
    if column is None:
        return {}
    out: dict[int, CellValue] = {}
    for pupil in evaluation.pupils:
        values = evaluation.rows[pupil.record.row - 1]
        out[pupil.record.row] = values[column] if column < len(values) else None
    return out


def _email_json(outcome: SendOutcome) -> dict[str, Any]:
    e = outcome.email
    return {"kind": e.kind, "to": e.to, "pupil_row": e.pupil_row, "subject": e.subject}


def _date_cell(value: Any) -> CellWrite:
    return CellWrite(value, DATE_FORMAT) if isinstance(value, date) else CellWrite(value)


def outstanding_after(
    plan: EmailPlan, contributions: Iterable[Contribution], pupils: Sequence[ReviewedPupil], sent_keys: set[str]
) -> dict[int, str]:
    """The AR outstanding cell per pupil row, counting what went out today: "EP, Class teacher (2 chasers)"."""
    cells = updates_to_write(plan, sent_keys)
    parts: dict[int, list[str]] = {}
    for c in (*contributions, *plan.new_rows):
        done = cells.get(c.key, {})
        requested = done.get(REQUESTED, c.requested)
        chasers = int(done.get(CHASERS, c.chasers))
        if requested is None or c.is_received:
            continue
        pupil = match_pupil(c, pupils)
        if pupil is None or pupil.clock is None or pupil.status in (Status.INVALID, Status.INACTIVE):
            continue
        if requested < pupil.clock.meeting_anchor:
            continue  # asked for an earlier review: history, not awaited
        label = c.role + (f" ({chasers} chaser{'s' if chasers != 1 else ''})" if chasers else "")
        parts.setdefault(pupil.record.row, []).append(label)
    return {row: ", ".join(labels) for row, labels in parts.items()}


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
    env: Mapping[str, str] | None = None,
) -> SweepResult:
    """One sweep. The email step runs when a `transport` is given, or `env` to build one from (mail_setup, with the
    working directory as the base for the outbox and ledger); without either the sweep writes the AR columns only.
    `ledger` defaults to an in-memory one (idempotency then rests on the sheet alone). With `dry_run` nothing is sent
    and nothing written, and the result lists the emails that would go. The email step's time limit is
    KEEPER_MAIL_DEADLINE from `env` (else the process environment) or [mail] deadline (mail_deadline)."""
    if transport is None and env is not None:
        setup = mail_setup(settings, env, Path(os.getcwd()))
        transport = setup.transport
        ledger = ledger or setup.ledger
        signer = signer or setup.signer
    data = register.read()
    evaluation = evaluate(data, today=today, settings=settings)
    result = SweepResult(today=today, evaluation=evaluation, dry_run=dry_run)
    extra_plans: list[WritePlan] = []
    outstanding: dict[int, str] = {}
    if transport is not None:
        ledger = ledger if ledger is not None else MemoryLedger()
        deadline = mail_deadline(settings, env if env is not None else os.environ)
        extra_plans, outstanding = _email_step(
            data, evaluation, result, today=today, settings=settings, dry_run=dry_run,
            transport=transport, ledger=ledger, signer=signer, deadline=deadline,
        )  # fmt: skip
    else:
        # No emails (KEEPER_MAIL=none, or the cloud's outbox): the AR outstanding column still shows what the
        # Contributions tab says is awaited, as the SENDCo keeps it by hand.
        outstanding = outstanding_from_tab(data, evaluation)
    if dry_run:
        return result
    checked_at = (now or _london_now)()
    plan = write_plan(evaluation, today=today, checked_at=checked_at, settings=settings, outstanding=outstanding)
    # ONE write for the register's AR cells and the Contributions cells: one save, or one batchUpdate.
    result.write = register.write(plan, *extra_plans)
    if result.mail is not None and result.write.more:
        result.mail.appended_rows = result.write.more[0].appended_rows
        result.mail.created_tab = result.write.more[0].created_sheet
    log.info("wrote %d rows (%d pupils no longer found)", result.write.written_rows, len(result.write.missing_keys))
    return result


def outstanding_from_tab(data: RegisterData, evaluation: Evaluation) -> dict[int, str]:
    """pupil row -> the AR outstanding text, read from the Contributions tab as it stands (nothing planned or sent)."""
    _, rows = _tab(data, CONTRIBUTIONS_SHEET)
    if not rows:
        return {}
    contributions, _ = parse_contributions(rows)
    parts: dict[int, list[str]] = {}
    for c in contributions:
        if c.is_received or c.requested is None:
            continue
        pupil = match_pupil(c, evaluation.pupils)
        if pupil is None or pupil.clock is None:
            continue
        label = c.role + (f" ({c.chasers} chaser{'s' if c.chasers != 1 else ''})" if c.chasers else "")
        parts.setdefault(pupil.record.row, []).append(label)
    return {row: ", ".join(labels) for row, labels in parts.items()}


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
) -> tuple[list[WritePlan], dict[int, str]]:
    """Plan today's emails, send them (unless a dry run), and return the Contributions write plan (if any) and the AR
    outstanding cells."""
    title, rows = _tab(data, CONTRIBUTIONS_SHEET)
    contributions, issues = parse_contributions(rows)
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


def _plan_notes(evaluation: Evaluation, today: date, settings: Settings) -> list[str]:
    from .capacity_settings import capacity_from_mapping
    from .plan_digest import digest_notes

    capacity = capacity_from_mapping(settings.extra.get("capacity"), where=settings.source)
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


def _london_now() -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/London"))


def london_today() -> date:
    return _london_now().date()


def ordered_by_urgency(pupils: Sequence[ReviewedPupil]) -> list[ReviewedPupil]:
    rank = {s: i for i, s in enumerate(URGENCY)}

    def sort_key(p: ReviewedPupil) -> tuple[int, date, int]:
        latest = p.clock.meeting_latest if p.clock else date.max
        return (rank[p.status], latest, p.record.row)

    return sorted(pupils, key=sort_key)


__all__ = [
    "Evaluation",
    "MailReport",
    "MailSetup",
    "SweepResult",
    "evaluate",
    "ledger_path",
    "mail_deadline",
    "mail_setup",
    "outstanding_after",
    "previous_statuses",
    "run_sweep",
    "write_plan",
]
