"""The SENDCo's digest (issue 4): whether one is due today, and what it says, as plain data. Pure: the words are in
functions/templates/digest.*.j2 and functions/rendering.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from connectors.base import CellValue
from review_rules.dates import format_date
from review_rules.model import Status
from review_rules.periods import DUE_SOON_DAYS
from sheet_schema.ar_columns import STATUS_LABELS, transfer_label
from sheet_schema.model import ReviewedPupil

from .plan_model import DueEmail, MailPlanSettings, PlannedRow, digest_key

# Statuses that mean the SENDCo must act; the digest goes out on the day a review turns into one of them.
URGENT = (Status.OVERDUE, Status.DUE_SOON)


def _status_of(value: Status | CellValue) -> Status | None:
    if value is None or isinstance(value, Status):
        return value
    text = " ".join(str(value).split()).upper().replace("_", " ")
    for status, label in STATUS_LABELS.items():
        if label == text:
            return status
    return None


def _turned_today(pupil: ReviewedPupil, today: date, previous: Mapping[int, Status | CellValue] | None) -> bool:
    """Did this review become OVERDUE or DUE SOON today? With the AR status the register held before this sweep, a
    change into an urgent status (a first sweep counts: nothing was shown before). Without it, the day the status
    starts: meeting_latest - DUE_SOON_DAYS (DUE SOON) or the day after meeting_latest (OVERDUE)."""
    if pupil.status not in URGENT or pupil.clock is None:
        return False
    if previous is not None:
        return _status_of(previous.get(pupil.record.row)) is not pupil.status
    latest = pupil.clock.meeting_latest
    starts = latest + timedelta(days=1) if pupil.status is Status.OVERDUE else latest - timedelta(days=DUE_SOON_DAYS)
    return today == starts


def _label(pupil: ReviewedPupil) -> str:
    name = pupil.record.short_name
    return f"row {pupil.record.row} ({name})" if name else f"row {pupil.record.row}"


def plan_digest(
    pupils: Sequence[ReviewedPupil],
    rows: Sequence[PlannedRow],
    *,
    today: date,
    settings: MailPlanSettings,
    sent: Mapping[str, date],
    previous_status: Mapping[int, Status | CellValue] | None,
    notes: Sequence[str],
    todays: Sequence[DueEmail],
    short_notice: bool,
    la_notes: Sequence[str] = (),
    la_prompt: bool = False,
) -> DueEmail | None:
    """The SENDCo's digest, when one is due today: weekly, on the day a review turns urgent, or after a short-notice
    invitation; None otherwise, or when it went already (the sent-ledger) or there is no SENDCo email.
    `la_notes`, `la_prompt`: the LA's clock (functions/la_sweep.py): its lines, and whether they need a digest today."""
    if settings.sendco_email is None or digest_key(today) in sent:
        return None
    turned = [p for p in pupils if _turned_today(p, today, previous_status)]
    weekly = settings.digest_weekday is not None and today.weekday() == settings.digest_weekday
    if not (weekly or turned or short_notice or la_prompt):
        return None

    active = [p for p in pupils if p.clock is not None and p.status not in (Status.INVALID, Status.INACTIVE)]
    urgent = [
        {
            "label": _label(p),
            "status": STATUS_LABELS[p.status],
            "meeting_latest": p.clock.meeting_latest,
            "meeting_target": p.clock.meeting_target,
            "new": p in turned,
        }
        for p in sorted(active, key=lambda p: (p.status is not Status.OVERDUE, p.clock.meeting_latest))  # type: ignore[union-attr]
        if p.status in URGENT and p.clock is not None
    ]
    week_end = today + timedelta(days=6)
    actions: list[dict[str, Any]] = []
    for p in active:
        clock = p.clock
        assert clock is not None
        steps = [
            (clock.requests_from, "ask for contributions"),
            (clock.contributions_due, "contributions due"),
            (clock.invites_by, "send invitations"),
            (clock.papers_by, "circulate the papers"),
            (clock.meeting_date, "review meeting" if clock.meeting_is_planned else "hold the meeting by"),
        ]
        if clock.after_meeting is not None:
            steps += [
                (clock.after_meeting.report_due, "send the review report to the LA"),
                (clock.after_meeting.decision_due, "LA decision due"),
            ]
        for when, what in steps:
            if today <= when <= week_end:
                actions.append({"when": when, "label": _label(p), "what": what})
    actions.sort(key=lambda a: (a["when"], a["label"]))

    awaited: list[dict[str, Any]] = []
    unanswered: list[dict[str, Any]] = []
    for r in rows:
        if r.contribution.is_received or r.requested is None:
            continue
        item = {
            "label": _label(r.pupil),
            "role": r.contribution.role,
            "name": r.contribution.name,
            "requested": r.requested,
            "chasers": r.chasers,
        }
        awaited.append(item)
        if r.chasers >= settings.max_chasers:
            unanswered.append(item)

    soon: list[dict[str, Any]] = []
    for p in active:
        clock = p.clock
        assert clock is not None
        if not (clock.pfa_required or clock.phase_transfer):
            continue
        if today - timedelta(days=7) <= clock.requests_from <= today + timedelta(days=settings.starting_soon_days):
            why = []
            if clock.pfa_required:
                why.append(f"Year {clock.nc_year_at_review}: preparing for adulthood")
            if clock.phase_transfer is not None:
                t = clock.phase_transfer
                why.append(f"{transfer_label(t.from_year, t.to_post16)}: plan final by {format_date(t.final_by)}")
            soon.append({"label": _label(p), "starts": clock.requests_from, "why": "; ".join(why)})

    late = [
        {"label": _label(p), "steps": [_LATE_WORDS.get(s, s) for s in p.clock.after_meeting.late]}  # type: ignore[union-attr]
        for p in active
        if p.clock is not None and p.clock.after_meeting is not None and p.clock.after_meeting.late
    ]
    # Never copy a row's messages into an email: they can quote a date of birth. Say where to look instead.
    issues = [
        {"label": _label(p), "what": "cannot be checked until it is fixed" if p.status is Status.INVALID else ""}
        for p in pupils
        if p.status is Status.INVALID or p.warnings
    ]
    counts = {k: sum(1 for e in todays if e.kind == k) for k in ("request", "chaser", "invitation")}
    reasons = []
    if turned:
        reasons.append(f"{len(turned)} review{'s' if len(turned) != 1 else ''} became overdue or due soon today")
    if short_notice:
        reasons.append("an invitation went out with short notice")
    if la_prompt:
        reasons.append("the LA's clock needs a look")
    if weekly:
        reasons.append("your weekly summary")
    context = {
        "today": today,
        "school_name": settings.school_name,
        "sendco_name": settings.sendco_name,
        "reasons": reasons,
        "urgent": urgent,
        "actions": actions,
        "awaited": awaited,
        "unanswered": unanswered,
        "max_chasers": settings.max_chasers,
        "soon": soon,
        "late": late,
        "issues": issues,
        "notes": list(notes),
        "la_notes": list(la_notes),
        "counts": counts,
    }
    return DueEmail(
        kind="digest",
        to=settings.sendco_email,
        pupil_row=None,
        reason_key=digest_key(today),
        context=context,
        reply_to=None,
    )


_LATE_WORDS = {
    "report_due": "review report to the LA",
    "decision_due": "LA decision",
    "final_plan_due": "final amended plan",
}


__all__ = ["URGENT", "plan_digest"]
