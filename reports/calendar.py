"""The review deadlines as an iCalendar file (RFC 5545) the SENDCo imports into the calendar they already use.

Each deadline is an all-day event with a UID derived from a salted hash of the pupil's key, the kind of deadline and
the cycle's anchor date: importing a newer file updates the same events instead of adding duplicates, and a new cycle
(a review held) gets new events. Summaries carry first name and surname initial only; no date of birth or UPN is
written anywhere in the file. The file is a pure function of the register and `today`: two runs on the same data give
the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from icalendar import Calendar, Event

from review_rules.model import RuleSettings, Status
from sheet_schema.model import ReviewedPupil
from sheet_schema.output_text import ics_text

from .common import computed_for_statement, hold_by_rule, pupil_key_hash, replaced_atomically, rule_for, uk_date

PRODID = "-//Review Keeper//EHCP annual reviews//EN"
UID_DOMAIN = "review-keeper.invalid"  # RFC 2606 reserved name: the UID looks like an address but reaches no one


@dataclass(frozen=True)
class Deadline:
    """One calendar entry before it becomes a VEVENT."""

    kind: str
    on: date
    summary: str
    description: str
    uid: str


def event_uid(pupil: ReviewedPupil, kind: str, cycle_anchor: date) -> str:
    """Stable across runs and across sorting of the register; opaque (a hash, never the UPN or date of birth)."""
    digest = pupil_key_hash(pupil, extra=f"{kind}|{cycle_anchor.isoformat()}")
    return f"{digest[:32]}@{UID_DOMAIN}"


def deadlines(pupils: Sequence[ReviewedPupil], *, today: date) -> list[Deadline]:
    """The deadlines to put in the calendar, in date order: the current cycle's hold-by date, invitation deadline and
    contributions due for every pupil on roll, and the report and LA decision (and final amended plan) still awaited
    after the last meeting."""
    out: list[Deadline] = []
    for pupil in pupils:
        clock = pupil.clock
        if clock is None or pupil.status in (Status.INVALID, Status.INACTIVE):
            continue
        who = pupil.record.short_name or f"row {pupil.record.row}"
        anchor = clock.meeting_anchor

        def add(kind: str, on: date, what: str, rule: str, cycle: date, *, who: str = who, p: ReviewedPupil = pupil):
            out.append(
                Deadline(
                    kind=kind,
                    on=on,
                    summary=f"{what}: {who} (annual review)",
                    description=f"{what} for {who}, register row {p.record.row}. {rule}",
                    uid=event_uid(p, kind, cycle),
                )
            )

        add("hold_by", clock.meeting_target, "Hold review meeting by", hold_by_rule(clock), anchor)
        add("invites_by", clock.invites_by, "Send review invitations by", rule_for(clock, "invites_by"), anchor)
        add(
            "contributions_due",
            clock.contributions_due,
            "Review contributions due",
            rule_for(clock, "contributions_due"),
            anchor,
        )

        after = clock.after_meeting
        facts = pupil.record.facts
        if after is not None and facts is not None:
            held = after.meeting_held
            # Only steps still awaited: a date recorded on or after the meeting belongs to this meeting.
            if not (facts.report_sent and facts.report_sent >= held):
                add("report_due", after.report_due, "Review report to LA due", rule_for(clock, "report_due"), held)
            if not (facts.la_decision and facts.la_decision >= held):
                add("decision_due", after.decision_due, "LA review decision due", rule_for(clock, "decision_due"), held)
            if after.final_plan_due is not None and not (facts.final_plan and facts.final_plan >= held):
                add(
                    "final_plan_due",
                    after.final_plan_due,
                    "Final amended plan due",
                    rule_for(clock, "final_plan_due"),
                    held,
                )
    out.sort(key=lambda d: (d.on, d.summary, d.uid))
    return out


def build_calendar(
    pupils: Sequence[ReviewedPupil],
    *,
    today: date,
    school_name: str,
    settings: RuleSettings | None = None,
    suggested: Mapping[int, date] | None = None,
) -> Calendar:
    """The deadlines as all-day events; with `suggested` (sheet row -> the plan's suggested meeting, from the AR
    suggested meeting column), the meetings the plan suggests as tentative events too (reports/plan_events.py)."""
    settings = settings or RuleSettings()
    statement = computed_for_statement(today, settings)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", ics_text(f"Annual reviews: {school_name}"))
    cal.add("x-wr-caldesc", ics_text(statement))
    # DTSTAMP is required; taking it from `today` (midnight UTC) rather than the clock keeps runs reproducible.
    stamp = datetime.combine(today, time(0, 0), tzinfo=UTC)
    for d in deadlines(pupils, today=today):
        event = Event()
        event.add("uid", d.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", d.on)
        event.add("dtend", d.on + timedelta(days=1))  # all-day: DTEND is the next day, exclusive (RFC 5545 3.6.1)
        # Register text (a name) may hold control characters a calendar line cannot carry (RFC 5545 3.3.11).
        event.add("summary", ics_text(d.summary))
        event.add("description", ics_text(f"{d.description}\nDue {uk_date(d.on)}. {statement}"))
        event.add("categories", ["Annual review"])
        event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: it does not block the diary
        cal.add_component(event)
    if suggested:
        from .plan_events import add_tentative_meetings  # imports this module: imported here, not at the top

        add_tentative_meetings(cal, pupils, suggested, today=today)
    return cal


def write_calendar(
    pupils: Sequence[ReviewedPupil],
    *,
    today: date,
    school_name: str,
    out: Path,
    settings: RuleSettings | None = None,
    suggested: Mapping[int, date] | None = None,
) -> Path:
    """Write the review deadlines (and the plan's suggested meetings, as tentative events) to an .ics file at `out`."""
    cal = build_calendar(pupils, today=today, school_name=school_name, settings=settings, suggested=suggested)
    with replaced_atomically(out) as tmp:
        tmp.write_bytes(cal.to_ical())
    return out
