"""Chasing the local authority after the meeting (issue 14 item 2). Pure: which LA chasers are due today, from the
computed reviews, the LA profiles, the school calendar and what has gone already; no sheet, no network, no clock.

After the meeting H the clock is the LA's (docs/rules.md s8): its decision within 4 weeks (reg 20(10)), the final
amended plan within 12 weeks of H, or 8 weeks of the amendment notice if sooner (reg 22(3); Devon [2022] EWHC 493
(Admin)). A step is chased when it is *late* as the clock says, which it only ever is when the register has a column
to record it (`AfterMeeting.due_without_column` steps are never chased: the digest asks for the column instead).

The schedule, on school days only (nobody reads a chaser in the holidays): the first on the first school day the step
is late, then on the first school day at least 7 days after the last, at most 3 per step; at most one email per
review a day. The decision is chased only once the school's report has gone (on or after H): until then the delay is
the school's, not the LA's. Off per LA until `chase = true`: the digest then says what would have gone, on the days
it would have gone (the same schedule, as if each had been sent).

What went is known from the sent-ledger and the register's `LA chasers` tab (docs/register.md s5), keyed alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from review_rules.dates import format_date
from review_rules.model import Status
from review_rules.school_days import SchoolCalendar
from sheet_schema.model import ReviewedPupil

from .la_keys import pupil_key
from .la_profiles import LAProfile, match

LA_CHASER_EVERY_DAYS = 7
LA_CHASER_MAX = 3
CHASED_STEPS = ("decision_due", "final_plan_due")

# What each step is, and the law the chaser cites (docs/rules.md s8).
STEP_WORDS: Mapping[str, tuple[str, str]] = {
    "decision_due": (
        "the local authority's decision whether to keep, amend or cease the EHC plan",
        "regulation 20(10) of the SEND Regulations 2014: the decision is due within 4 weeks of the review meeting",
    ),
    "final_plan_due": (
        "the final amended EHC plan",
        "regulation 22(3) of the SEND Regulations 2014 and Devon [2022] EWHC 493 (Admin): the amended plan is due "
        "within 8 weeks of the amendment notice and no later than 12 weeks after the review meeting",
    ),
}


@dataclass(frozen=True)
class LAChaser:
    """One chaser to an LA, due today: sent when the LA's profile has `chase = true` (`send`), else only reported."""

    pupil: ReviewedPupil
    la: str  # as the register names it
    profile: LAProfile | None
    step: str  # "decision_due" or "final_plan_due"
    number: int  # 1..LA_CHASER_MAX
    due: date
    meeting: date
    reason_key: str
    previous: tuple[date, ...]  # the earlier chasers for this step
    send: bool

    @property
    def to(self) -> str | None:
        return self.profile.email if self.profile is not None else None


@dataclass(frozen=True)
class LADecisions:
    chasers: tuple[LAChaser, ...]  # every chaser due today, sent or not (`send`)
    notes: tuple[str, ...]  # for the SENDCo's digest: what would have gone, missing columns, LAs that never answered
    prompt: bool  # the digest should go today even if it is not its weekly day


def la_chaser_key(meeting: date, pkey: str, step: str, number: int) -> str:
    return f"la_chaser|{meeting.isoformat()}|{pkey}|{step}|{number}"


def initials(pupil: ReviewedPupil) -> str:
    """ "E. L.": how a chaser names the pupil to the LA (with the LA's own reference, never a date of birth)."""
    r = pupil.record
    first = f"{r.first_name[:1].upper()}." if r.first_name else ""
    return f"{first} {r.surname_initial}".strip()


def first_school_day_from(day: date, calendar: SchoolCalendar) -> date:
    while not calendar.is_school_day(day):
        day += timedelta(days=1)
    return day


def schedule(due: date, calendar: SchoolCalendar) -> tuple[date, ...]:
    """The days the chasers go when none is missed: the first school day after `due`, then the first school day at
    least 7 days after the one before."""
    days = [first_school_day_from(due + timedelta(days=1), calendar)]
    while len(days) < LA_CHASER_MAX:
        days.append(first_school_day_from(days[-1] + timedelta(days=LA_CHASER_EVERY_DAYS), calendar))
    return tuple(days)


def _sent_dates(sent: Mapping[str, date], meeting: date, pkey: str, step: str) -> tuple[date, ...]:
    out: list[date] = []
    while la_chaser_key(meeting, pkey, step, len(out) + 1) in sent:
        out.append(sent[la_chaser_key(meeting, pkey, step, len(out) + 1)])
    return tuple(out)


def _due_date(step: str, after: Any) -> date:
    return after.decision_due if step == "decision_due" else after.final_plan_due


def _label(pupil: ReviewedPupil) -> str:
    return f"row {pupil.record.row} ({pupil.record.short_name})"


def decide_la_chasers(
    pupils: Sequence[ReviewedPupil],
    profiles: Sequence[LAProfile],
    *,
    today: date,
    calendar: SchoolCalendar,
    sent: Mapping[str, date],
) -> LADecisions:
    """Today's LA chasers. `sent`: reason key -> day, from the sent-ledger and the LA chasers tab together."""
    chasers: list[LAChaser] = []
    notes: list[str] = []
    school_day = calendar.is_school_day(today)
    for pupil in pupils:
        clock = pupil.clock
        if clock is None or clock.after_meeting is None or pupil.status in (Status.INVALID, Status.INACTIVE):
            continue
        after = clock.after_meeting
        la = pupil.record.la or ""
        profile = match(la, profiles)
        for step in after.due_without_column:
            if step in CHASED_STEPS:
                what = "LA decision date" if step == "decision_due" else "Final amended plan"
                notes.append(
                    f"{_label(pupil)}: {STEP_WORDS[step][0]} was due {format_date(_due_date(step, after))}; add a "
                    f'"{what}" column so the product can tell whether it came and chase the LA when it is late.'
                )
        facts = pupil.record.facts
        report_sent = facts.report_sent if facts is not None else None
        pkey = pupil_key(pupil)
        for step in (s for s in CHASED_STEPS if s in after.late):
            due = _due_date(step, after)
            if step == "decision_due" and (report_sent is None or report_sent < after.meeting_held):
                notes.append(
                    f"{_label(pupil)}: the LA decision is late, but the register shows no report sent since the "
                    "meeting; send the report and record its date, then the LA can be chased."
                )
                continue
            done = _sent_dates(sent, after.meeting_held, pkey, step)
            chase_on = profile is not None and profile.chase
            if chase_on:
                if len(done) >= LA_CHASER_MAX:
                    notes.append(
                        f"{_label(pupil)}: {la} has had {LA_CHASER_MAX} chasers about {STEP_WORDS[step][0]} (the "
                        f"last on {format_date(done[-1])}) and has not answered; no more will go. Consider the LA's "
                        "complaints process or asking the family whether they want to seek advice."
                    )
                    continue
                if not school_day or today <= due:
                    continue
                if done and (today - done[-1]).days < LA_CHASER_EVERY_DAYS:
                    continue
                number = len(done) + 1
            else:
                # Off: say what would have gone, on the days it would have gone.
                days = schedule(due, calendar)
                if today not in days:
                    continue
                number = days.index(today) + 1
                # Chasing is off by default (docs/la-clock.md): say how to turn it on, not that it was turned off.
                why = (
                    f'{la or "the LA"} has no profile in keeper.toml (add [las."{la or "Name"}"] with its email and '
                    "chase = true to send them)"
                    if profile is None
                    else f'chasers to {profile.name} are off (chase = true under [las."{profile.name}"] in '
                    "keeper.toml sends them)"
                )
                notes.append(
                    f"{_label(pupil)}: chaser {number} to {la or 'the LA'} about {STEP_WORDS[step][0]} (due "
                    f"{format_date(due)}) would have been sent today, but {why}."
                )
            chasers.append(
                LAChaser(
                    pupil=pupil,
                    la=la,
                    profile=profile,
                    step=step,
                    number=number,
                    due=due,
                    meeting=after.meeting_held,
                    reason_key=la_chaser_key(after.meeting_held, pkey, step, number),
                    previous=done,
                    send=chase_on,
                )
            )
    # One email per review a day: the first late step (the decision before the plan); the other waits a day.
    seen: set[int] = set()
    kept: list[LAChaser] = []
    for c in chasers:
        if c.send and c.pupil.record.row in seen:
            continue
        if c.send:
            seen.add(c.pupil.record.row)
        kept.append(c)
    return LADecisions(tuple(kept), tuple(notes), prompt=bool(kept))


def report_reminders(
    pupils: Sequence[ReviewedPupil],
    *,
    today: date,
    calendar: SchoolCalendar,
    profiles: Sequence[LAProfile] = (),
) -> tuple[str, ...]:
    """Item 3: on report_due minus 3 school days, the digest reminds the SENDCo to send the report to the LA, the way
    the LA's profile says it takes it."""
    out: list[str] = []
    for pupil in pupils:
        clock = pupil.clock
        if clock is None or clock.after_meeting is None or pupil.status in (Status.INVALID, Status.INACTIVE):
            continue
        after = clock.after_meeting
        facts = pupil.record.facts
        if facts is not None and facts.report_sent is not None and facts.report_sent >= after.meeting_held:
            continue
        if today == school_days_before(after.report_due, 3, calendar):
            out.append(
                f"{_label(pupil)}: the review report is due with {pupil.record.la or 'the LA'} by "
                f"{format_date(after.report_due)} (reg 20(7)-(8)); {_how_to_send(pupil, profiles)}"
            )
    return tuple(out)


def _how_to_send(pupil: ReviewedPupil, profiles: Sequence[LAProfile]) -> str:
    profile = match(pupil.record.la, profiles)
    if profile is None:
        return 'send it as the LA asks (`main.py submit` emails it for an LA whose profile says submit = "email").'
    if profile.submit == "email":
        return f"`main.py submit REGISTER --pupil {pupil.record.row} --send` emails it to {profile.name}."
    if profile.submit == "portal":
        return f"upload it to {profile.name}'s portal{f' ({profile.portal_url})' if profile.portal_url else ''}."
    if profile.submit == "post":
        return f"{profile.name} takes it by post."
    return f"send it as {profile.name} asks (its profile sets no submit way)."


def school_days_before(day: date, n: int, calendar: SchoolCalendar) -> date:
    """The n-th school day before `day`."""
    while n > 0:
        day -= timedelta(days=1)
        if calendar.is_school_day(day):
            n -= 1
    return day


__all__ = [
    "CHASED_STEPS",
    "LA_CHASER_EVERY_DAYS",
    "LA_CHASER_MAX",
    "STEP_WORDS",
    "LAChaser",
    "LADecisions",
    "decide_la_chasers",
    "initials",
    "la_chaser_key",
    "pupil_key",
    "report_reminders",
    "schedule",
    "school_days_before",
]
