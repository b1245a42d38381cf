"""An independent, literal reading of review-rules.md sections 1-9 (rules v2, 2026-11-29), used as a differential-testing oracle.

Written from the spec text alone (review-rules.md and register.md section 7), without reading the product's
review_rules implementation, so that the two can disagree. Deliberately naive: loops instead of formulas where the
spec describes a search, so that a clever shortcut in the product has something different to be checked against.

Where the spec can be read more than one way, the reading taken here is written down in a comment marked READING.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays
from dateutil.relativedelta import relativedelta


@dataclass(frozen=True)
class OracleSettings:
    """The per-school settings named in review-rules.md, with the spec's defaults."""

    anchor: str = "decision"  # "decision" | "meeting" (section 4)
    period: str = "twelve_months"  # "twelve_months" | "anniversary" (section 1)
    transfer_after_years: tuple[int, ...] = (6, 11)  # section 5
    phase_deadline_inclusive: bool = False  # section 5
    closures: tuple[tuple[date, date], ...] | None = None  # section 2; None = the default closures


# ---------------------------------------------------------------- section 1: date helpers


def anniversary(d: date) -> date:
    """Same day and month one year later; 29 February maps to 1 March when the next year is not a leap year."""
    try:
        return date(d.year + 1, d.month, d.day)
    except ValueError:  # only 29 February can fail, and the year after a leap year never is one
        return date(d.year + 1, 3, 1)


def window_end(d: date, period: str = "twelve_months") -> date:
    """Last day of the 12-month period starting with d (default), or d + 12 months ("anniversary" setting)."""
    if period == "anniversary":
        if (d.month, d.day) == (2, 29):
            return date(d.year + 1, 2, 28)  # "29 Feb clamped to 28 Feb"
        return date(d.year + 1, d.month, d.day)
    return anniversary(d) - timedelta(days=1)


# ---------------------------------------------------------------- section 2: school days


@lru_cache(maxsize=1)
def _bank_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=range(2000, 2045))


def _in_default_closure(d: date) -> bool:
    md = (d.month, d.day)
    summer = (7, 21) <= md <= (8, 31)
    christmas = md >= (12, 21) or md <= (1, 3)
    return summer or christmas


def is_school_day(d: date, closures: tuple[tuple[date, date], ...] | None = None) -> bool:
    if d.weekday() >= 5:
        return False
    if d in _bank_holidays():
        return False
    if closures is None:
        return not _in_default_closure(d)
    return not any(first <= d <= last for first, last in closures)


def school_day_on_or_before(d: date, closures: tuple[tuple[date, date], ...] | None = None) -> date:
    while not is_school_day(d, closures):
        d -= timedelta(days=1)
    return d


# ---------------------------------------------------------------- section 3: year group


def ay_start(d: date) -> int:
    return d.year if d.month >= 9 else d.year - 1


def age_on(dob: date, on: date) -> int:
    years = on.year - dob.year
    if (on.month, on.day) < (dob.month, dob.day):
        years -= 1
    return years


def nc_year_from_dob(dob: date, d: date) -> int:
    return age_on(dob, date(ay_start(d), 8, 31)) - 4


def year_at(dob: date, recorded_year: int | None, today: date, d: date) -> int:
    """The pupil's NC year on d: from the recorded year (the year in today's academic year) when present, else dob."""
    if recorded_year is not None:
        return recorded_year + (ay_start(d) - ay_start(today))
    return nc_year_from_dob(dob, d)


# ---------------------------------------------------------------- the oracle


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def review_clock(
    *,
    dob: date,
    today: date,
    plan_issued: date | None = None,
    last_review: date | None = None,
    la_decision: date | None = None,
    decision: str | None = None,
    amendment_notice: date | None = None,
    final_plan: date | None = None,
    report_sent: date | None = None,
    planned_meeting: date | None = None,
    recorded_year: int | None = None,
    transfer_date: date | None = None,
    inactive: bool = False,
    settings: OracleSettings | None = None,
    columns_missing: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One pupil's computed fields, shaped like register.md section 7 (dates as ISO strings).

    `columns_missing`: register fields the sheet has no column for ("report_sent", "la_decision", "final_plan");
    register.md s5 says a step that cannot be recorded is never LATE."""
    s = settings or OracleSettings()

    # Section 4: which date the clock runs from.
    if last_review is not None:
        meeting_anchor = last_review
    elif plan_issued is not None:
        meeting_anchor = plan_issued
    else:
        raise ValueError("neither last review nor plan issued: an INVALID row, nothing is computed")

    # READING: "the LA's decision date for that last review": only a decision recorded beside a last review counts
    # (with no review held there is no "meeting" for it to be compared with), and only when not before that meeting.
    if last_review is not None and la_decision is not None and la_decision >= last_review:
        decision_anchor = la_decision
    else:
        decision_anchor = meeting_anchor

    w_end = window_end(meeting_anchor, s.period)
    if s.anchor == "meeting":
        meeting_latest = w_end
    else:
        meeting_latest = min(w_end, window_end(decision_anchor, s.period) - timedelta(days=28))

    # Section 5: phase transfers.
    # READING: a per-pupil transfer date replaces every derived transfer (it is "the" transfer); k is then the
    # pupil's year on the day before T (the year they are in when they leave).
    candidates: list[tuple[int, date]] = []
    if transfer_date is not None:
        k = year_at(dob, recorded_year, today, transfer_date - timedelta(days=1))
        candidates.append((k, transfer_date))
    else:
        for k in s.transfer_after_years:
            # The academic year in which the pupil is in year k, found by walking the academic years.
            for ay in range(1980, 2080):
                if year_at(dob, recorded_year, today, date(ay, 9, 1)) == k:
                    candidates.append((k, date(ay + 1, 9, 1)))
                    break

    phase: dict[str, Any] | None = None
    binding: list[tuple[date, int, date, date]] = []
    for k, t in candidates:
        # READING: "30 March when k = 11 or the transfer is to post-16": k >= 11 is a move out of a school's
        # secondary phase (a sixth form is secondary education) into a post-16 institution.
        to_post16 = k >= 11
        if to_post16:
            final_by = date(t.year, 3, 31) if s.phase_deadline_inclusive else date(t.year, 3, 30)
        else:
            final_by = date(t.year, 2, 15) if s.phase_deadline_inclusive else date(t.year, 2, 14)
        # Rules v2: "the plan must be final before the move itself" (T - 1 day), and for k >= 11 also
        # add_months_clamped(T, -5). READING: applied to every T; for 1 September neither is earlier.
        final_by = min(final_by, t - timedelta(days=1))
        if to_post16:
            final_by = min(final_by, t + relativedelta(months=-5))  # relativedelta clamps to the month's end
        phase_meeting_latest = final_by - timedelta(days=84)
        # READING: "T - 1 year" is calendar arithmetic with 29 February clamped to 28 February.
        if meeting_anchor < t - relativedelta(years=1) <= meeting_latest:
            binding.append((t, k, final_by, phase_meeting_latest))
    if binding:
        t, _k, final_by, phase_meeting_latest = min(
            binding
        )  # READING: the earliest binding transfer (at most one in practice)
        meeting_latest = min(meeting_latest, phase_meeting_latest)
        phase = {"transfer_date": _iso(t), "final_by": _iso(final_by), "meeting_latest": _iso(phase_meeting_latest)}

    # Section 6: the meeting date and the stages.
    meeting_target = school_day_on_or_before(meeting_latest, s.closures)
    m = planned_meeting if planned_meeting is not None else meeting_target

    # Section 7: "a review with no planned meeting cannot now be held before today: then the year on max(M, today)".
    review_day = m if planned_meeting is not None else max(m, today)
    nc_year_at_review = year_at(dob, recorded_year, today, review_day)
    pfa_required = nc_year_at_review >= 9

    # Section 6: "M - 70 days when pfa_required or a phase transfer binds".
    lead = 70 if (pfa_required or phase is not None) else 42
    invites_by = school_day_on_or_before(m - timedelta(days=14), s.closures)
    # "contributions_due = invites_by - 7 days, after invites_by has been moved".
    contributions_due = school_day_on_or_before(invites_by - timedelta(days=7), s.closures)
    requests_from = school_day_on_or_before(m - timedelta(days=lead), s.closures)

    # Section 8: the LA clock after the last meeting H.
    after: dict[str, Any] | None = None
    if last_review is not None:
        h = last_review

        # "Every recorded after-meeting date ... earlier than H belongs to the previous cycle: it does not count";
        # "an outcome whose decision date is earlier than H is the previous cycle's outcome and is ignored too".
        def this_cycle(d: date | None) -> date | None:
            return d if d is not None and d >= h else None

        if la_decision is not None and la_decision < h:
            decision = None
        report_sent, la_decision = this_cycle(report_sent), this_cycle(la_decision)
        amendment_notice, final_plan = this_cycle(amendment_notice), this_cycle(final_plan)
        report_due = h + timedelta(days=14)
        decision_due = h + timedelta(days=28)
        final_plan_due: date | None = None
        if decision is not None and str(decision).lower() == "amend":
            if amendment_notice is not None:
                final_plan_due = min(amendment_notice + timedelta(days=56), h + timedelta(days=84))
            else:
                final_plan_due = h + timedelta(days=84)
        # READING: "has passed" = today is after the date; "records no date" = the matching date column is blank
        # (report sent / LA decision date / final amended plan), whatever else is recorded.
        # READING (register.md s5 "never LATE" where the register has no column to record the step): such a step is
        # left out of `late` too, so the JSON never claims what the SENDCo could not record.
        late: list[str] = []
        if today > report_due and report_sent is None and "report_sent" not in columns_missing:
            late.append("report_due")
        if today > decision_due and la_decision is None and "la_decision" not in columns_missing:
            late.append("decision_due")
        if (
            final_plan_due is not None
            and today > final_plan_due
            and final_plan is None
            and "final_plan" not in columns_missing
        ):
            late.append("final_plan_due")
        after = {
            "report_due": _iso(report_due),
            "decision_due": _iso(decision_due),
            "final_plan_due": _iso(final_plan_due),
            "late": late,
        }

    # Section 9: status, in order (INVALID rows never reach here).
    if inactive:
        status = "INACTIVE"
    elif today > meeting_latest:
        status = "OVERDUE"
    elif today >= meeting_latest - timedelta(days=28):
        status = "DUE_SOON"
    elif today >= requests_from:
        status = "PREPARE"
    else:
        status = "ON_TRACK"

    return {
        "status": status,
        "window_end": _iso(w_end),
        "meeting_latest": _iso(meeting_latest),
        "meeting_target": _iso(meeting_target),
        "requests_from": _iso(requests_from),
        "contributions_due": _iso(contributions_due),
        "invites_by": _iso(invites_by),
        "nc_year_at_review": nc_year_at_review,
        "pfa_required": pfa_required,
        "phase_transfer": phase,
        "after_meeting": after,
    }
