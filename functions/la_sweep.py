"""The LA's clock in the sweep (issue 14): the LA chasers (functions/la_chasing.py) and the family's status emails
(functions/status_emails.py) as emails, sent through the sweep's transport and sent-ledger, and recorded in the
register's `LA chasers` tab (docs/register.md s5). Orchestration only; the deciding is pure and lives there.

The `LA chasers` tab is the product's own: one row per email to an LA (and per review record submitted), appended,
never edited. Its last column holds the sent-ledger's reason key (a digest, no name), so a lost ledger still knows what
went: nothing is sent to an LA twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connectors.base import CellValue, CellWrite, RegisterData, WritePlan
from connectors.mail_base import MailTransport
from sheet_schema.ar_columns import DATE_FORMAT
from sheet_schema.fields import normalise_header
from sheet_schema.model import ReviewedPupil

from .la_chasing import STEP_WORDS, LAChaser, decide_la_chasers, initials, report_reminders
from .la_profiles import profile_warnings, profiles_for, status_emails_on
from .mailer import Ledger, send_all, went_keys
from .plan_model import DueEmail, MailPlanSettings
from .rendering import EmailPlan, render_email
from .status_emails import decide_status_emails

log = logging.getLogger("review_keeper.la")

LA_CHASERS_SHEET = "LA chasers"
LA_TAB_HEADERS = ("Pupil", "LA", "Meeting", "Step", "Chaser", "Sent", "To", "Key")
STEP_LABELS = {
    "decision_due": "LA decision (reg 20(10))",
    "final_plan_due": "Final amended plan (reg 22(3))",
    "report": "Review record sent (submit)",
}
_STAGE_SUBJECTS = {
    "invited": "annual review meeting date",
    "meeting_held": "annual review meeting held",
    "report_sent": "report sent to the local authority",
    "decision_made": "the local authority's decision",
    "decision_late": "the local authority's decision is late",
    "final_plan_late": "the final amended plan is late",
}


@dataclass(frozen=True)
class LAPlan:
    emails: tuple[DueEmail, ...]
    notes: tuple[str, ...]  # for the digest's "The LA's clock"
    prompt: bool  # send a digest today for them
    tab_rows: Mapping[str, Mapping[str, CellValue]]  # reason key -> the LA chasers row to append once it has gone


def _find_tab(data: RegisterData) -> tuple[str | None, list[list[CellValue]]]:
    for sheet in data.sheets:
        if normalise_header(sheet.title) == normalise_header(LA_CHASERS_SHEET):
            return sheet.title, sheet.rows
    return None, []


def _header_row(rows: list[list[CellValue]]) -> tuple[int, dict[str, int]] | None:
    for i, values in enumerate(rows[:10]):
        names = {normalise_header(v): c for c, v in enumerate(values) if v not in (None, "")}
        if "key" in names and "sent" in names:
            return i + 1, names
    return None


def sent_from_tab(data: RegisterData) -> dict[str, date]:
    """Reason key -> day sent, as the LA chasers tab records them."""
    _, rows = _find_tab(data)
    found = _header_row(rows)
    if found is None:
        return {}
    header_row, names = found
    out: dict[str, date] = {}
    for values in rows[header_row:]:
        key = values[names["key"]] if names["key"] < len(values) else None
        day = values[names["sent"]] if names["sent"] < len(values) else None
        if isinstance(day, datetime):
            day = day.date()
        if isinstance(key, str) and key.strip() and isinstance(day, date):
            out[key.strip()] = day
    return out


def _pupil_ref(pupil: ReviewedPupil) -> str:
    return pupil.record.upn or pupil.record.short_name


def _chaser_email(c: LAChaser, ms: MailPlanSettings) -> DueEmail:
    what, law = STEP_WORDS[c.step]
    facts = c.pupil.record.facts
    who = initials(c.pupil)
    ref = c.pupil.record.la_ref
    context: dict[str, Any] = {
        "subject": f"Annual review of {who}{f' (ref {ref})' if ref else ''}: {what.split(' whether')[0]} was due "
        f"{c.due:%d/%m/%Y}",
        "la": c.la,
        "initials": who,
        "la_ref": ref,
        "meeting": c.meeting,
        "report_sent": facts.report_sent if facts is not None else None,
        "what": what,
        "law": law,
        "due": c.due,
        "number": c.number,
        "previous": list(c.previous),
        "school_name": ms.school_name,
        "sendco_name": ms.sendco_name,
        "sendco_email": ms.sendco_email,
    }
    return DueEmail(
        kind="la_chaser",
        to=c.to or "",
        pupil_row=c.pupil.record.row,
        reason_key=c.reason_key,
        context=context,
        reply_to=ms.sendco_email,
        cc=(ms.sendco_email,) if ms.sendco_email else (),
    )


def plan_la(
    pupils: Sequence[ReviewedPupil],
    settings: Any,
    ms: MailPlanSettings,
    *,
    today: date,
    sent_log: Mapping[str, date],
    data: RegisterData,
) -> LAPlan:
    """Today's LA chasers and status emails, the digest's lines about the LA's clock, and the tab rows to record."""
    sent = {**sent_from_tab(data), **sent_log}
    calendar = ms.calendar
    profiles = profiles_for(settings)
    decided = decide_la_chasers(pupils, profiles, today=today, calendar=calendar, sent=sent)
    reminders = report_reminders(pupils, today=today, calendar=calendar, profiles=profiles)
    emails: list[DueEmail] = []
    tab: dict[str, Mapping[str, CellValue]] = {}
    for c in decided.chasers:
        if not c.send:
            continue
        emails.append(_chaser_email(c, ms))
        tab[c.reason_key] = {
            "Pupil": _pupil_ref(c.pupil),
            "LA": c.la,
            "Meeting": c.meeting,
            "Step": STEP_LABELS[c.step],
            "Chaser": c.number,
            "Sent": today,
            "To": c.to,
            "Key": c.reason_key,
        }
    enabled = status_emails_on(settings.extra)
    for s in decide_status_emails(pupils, today=today, sent=sent, enabled=enabled, profiles=profiles):
        whose = "your" if s.young_person else f"{s.pupil.record.first_name}'s"
        context = {
            **s.context,
            # Only the first letter: str.capitalize() would lower the rest ("McKenzie's" -> "Mckenzie's").
            "subject": f"{whose[:1].upper()}{whose[1:]} annual review: {_STAGE_SUBJECTS[s.stage]}",
            "school_name": ms.school_name,
            "sendco_name": ms.sendco_name,
        }
        emails.append(DueEmail("status", s.to, s.pupil.record.row, s.reason_key, context, ms.sendco_email))
    # Unknown LA names (listing the known ones) and profiles no pupil has: said in the digest, never a stop.
    warnings = profile_warnings((p.record.la or "" for p in pupils), profiles)
    notes = (*reminders, *decided.notes, *warnings)
    return LAPlan(tuple(emails), notes, prompt=bool(reminders or decided.prompt), tab_rows=tab)


def _cell(value: CellValue) -> CellWrite:
    if isinstance(value, date):
        return CellWrite(value, DATE_FORMAT)
    return CellWrite(None if value is None else value if isinstance(value, int) else str(value))


def tab_write_plan(rows: Sequence[Mapping[str, CellValue]]) -> WritePlan:
    """The LA chasers rows to append (the tab is created when missing)."""

    def find_header_row(sheet_rows: list[list[CellValue]]) -> int | None:
        found = _header_row(sheet_rows)
        return found[0] if found else None

    return WritePlan(
        sheet=LA_CHASERS_SHEET,
        headers=LA_TAB_HEADERS,
        find_header_row=find_header_row,
        key_of=lambda values: None,
        rows={},
        append_rows=[{h: _cell(v) for h, v in row.items()} for row in rows],
        create_if_missing=True,
        header_key=normalise_header,
    )


def send_la(
    la: LAPlan,
    *,
    today: date,
    transport: MailTransport,
    ledger: Ledger,
    deadline: float,
    dry_run: bool,
    sender_name: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[WritePlan]]:
    """Send the LA and family emails (once each: the sent-ledger); the sent, the failed, and the tab's write plan."""
    plan = EmailPlan(today, tuple(render_email(d) for d in la.emails), (), (), (), {})
    if dry_run:
        return plan.emails_json(), [], []
    outcomes = send_all(plan, transport, ledger, sender_name=sender_name, deadline=deadline)
    keys = went_keys(outcomes)
    sent = [
        {"kind": o.email.kind, "to": o.email.to, "pupil_row": o.email.pupil_row, "subject": o.email.subject}
        for o in outcomes
        if o.status == "sent"
    ]
    failed = [
        {"kind": o.email.kind, "to": o.email.to, "pupil_row": o.email.pupil_row, "error": o.error or ""}
        for o in outcomes
        if o.status in ("failed", "not sent")
    ]
    rows = [row for key, row in la.tab_rows.items() if key in keys]
    return sent, failed, [tab_write_plan(rows)] if rows else []


__all__ = ["LA_CHASERS_SHEET", "LA_TAB_HEADERS", "LAPlan", "plan_la", "send_la", "sent_from_tab", "tab_write_plan"]
