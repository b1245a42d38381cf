"""What the SENDCo's digest and calendar show of the year's plan, read back from the register (the `AR suggested
meeting` column `plan` wrote), with no solving: next week's planned load against capacity, and the suggestions not yet
accepted (a suggestion is accepted when the SENDCo types a planned meeting date)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from connectors.base import CellValue
from functions.capacity import BookedReview, WeekLoad, loads_for
from functions.capacity_settings import CapacitySettings
from review_rules.dates import format_date
from review_rules.model import Status
from review_rules.school_days import SchoolCalendar
from sheet_schema.ar_columns import AR_SUGGESTED
from sheet_schema.model import HeaderMatch, ReviewedPupil
from sheet_schema.suggested import suggested_meetings

_SHOWN = 5


@dataclass(frozen=True)
class PendingSuggestion:
    row: int
    name: str  # first name and surname initial
    meeting: date


def pending_suggestions(
    pupils: Sequence[ReviewedPupil], rows: Sequence[Sequence[CellValue]], header: HeaderMatch, today: date
) -> list[PendingSuggestion]:
    """Active pupils with a suggested meeting still ahead and no planned meeting of their own, by date."""
    suggested = suggested_meetings(rows, header)
    out = []
    for p in pupils:
        day = suggested.get(p.record.row)
        if day is None or day < today or p.clock is None or p.status in (Status.INVALID, Status.INACTIVE):
            continue
        if not p.clock.meeting_is_planned:
            out.append(PendingSuggestion(p.record.row, p.record.short_name, day))
    return sorted(out, key=lambda s: (s.meeting, s.row))


def planned_weeks(
    pupils: Sequence[ReviewedPupil],
    pending: Sequence[PendingSuggestion],
    *,
    calendar: SchoolCalendar,
    capacity: CapacitySettings,
    today: date,
) -> tuple[WeekLoad, ...]:
    """Week loads of the booked meetings and the pending suggestions, with each unbooked review's deadline as the
    "before the plan" line (for the overview's chart)."""
    booked, unbooked = [], []
    by_row = {s.row: s for s in pending}
    meetings = []
    for p in pupils:
        clock = p.clock
        if clock is None or p.status in (Status.INVALID, Status.INACTIVE):
            continue
        heavy = clock.pfa_required or clock.phase_transfer is not None
        if clock.meeting_is_planned:
            booked.append(BookedReview(p.record.row, clock.meeting_date, heavy))
        else:
            unbooked.append((clock.meeting_target, heavy))
            if p.record.row in by_row:
                meetings.append((by_row[p.record.row].meeting, heavy))
    return loads_for(
        meetings,
        booked,
        is_school_day=calendar.is_school_day,
        on_or_before=calendar.school_day_on_or_before,
        settings=capacity,
        today=today,
        baseline=unbooked,
    )


def digest_lines(weeks: Sequence[WeekLoad], pending: Sequence[PendingSuggestion], today: date) -> list[str]:
    """Two lines at most for the digest: next week's planned load, and the suggestions waiting to be accepted."""
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
    lines = []
    week = next((w for w in weeks if w.week_start == monday), None)
    if week is not None and (week.hours or week.meetings):
        over = f", {week.over_hours:g} h over" if week.over_hours else ""
        lines.append(
            f"Next week (from {format_date(monday)}): {week.meetings} review meeting(s), {week.hours:g} h of review "
            f"work planned against {week.capacity_hours:g} h available{over}."
        )
    if pending:
        shown = ", ".join(f"{s.name} {format_date(s.meeting)}" for s in pending[:_SHOWN])
        more = f" and {len(pending) - _SHOWN} more" if len(pending) > _SHOWN else ""
        lines.append(
            f"Suggested meetings not yet accepted: {shown}{more}. Type the date into your planned meeting column, "
            "or run plan --accept."
        )
    return lines


def digest_notes(
    pupils: Sequence[ReviewedPupil],
    rows: Sequence[Sequence[CellValue]],
    header: HeaderMatch,
    *,
    calendar: SchoolCalendar,
    capacity: CapacitySettings,
    today: date,
) -> list[str]:
    """The digest's plan lines, once `plan` has written its column (before that there is no plan to show)."""
    if AR_SUGGESTED not in header.ar_columns:
        return []
    pending = pending_suggestions(pupils, rows, header, today)
    weeks = planned_weeks(pupils, pending, calendar=calendar, capacity=capacity, today=today)
    return digest_lines(weeks, pending, today)
