"""Suggested review meetings (the year's plan, issue 13) as tentative calendar events: the SENDCo sees where the plan
would put each meeting before accepting it. UIDs are stable per pupil and review cycle, so a new plan moves the event
instead of adding another; summaries carry first name and surname initial only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar, Event

from review_rules.model import Status
from sheet_schema.model import ReviewedPupil

from .calendar import event_uid
from .common import uk_date


def add_tentative_meetings(
    cal: Calendar, pupils: Sequence[ReviewedPupil], suggested: Mapping[int, date], *, today: date
) -> int:
    """One all-day TENTATIVE event per active pupil with a suggested meeting ahead and none planned. Returns how many."""
    stamp = datetime.combine(today, time(0, 0), tzinfo=UTC)
    added = 0
    for pupil in sorted(pupils, key=lambda p: p.record.row):
        day = suggested.get(pupil.record.row)
        clock = pupil.clock
        if day is None or day < today or clock is None or clock.meeting_is_planned:
            continue
        if pupil.status in (Status.INVALID, Status.INACTIVE):
            continue
        who = pupil.record.short_name or f"row {pupil.record.row}"
        event = Event()
        event.add("uid", event_uid(pupil, "suggested_meeting", clock.meeting_anchor))
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", f"Suggested review meeting (tentative): {who}")
        event.add(
            "description",
            f"The year's plan suggests holding {who}'s annual review meeting on {uk_date(day)} (register row "
            f"{pupil.record.row}); hold it by {uk_date(clock.meeting_target)}. Accept it by typing the date into your "
            "planned meeting column, or with plan --accept.",
        )
        event.add("status", "TENTATIVE")
        event.add("categories", ["Annual review"])
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
        added += 1
    return added
