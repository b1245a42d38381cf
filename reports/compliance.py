"""The overview's compliance measures: DfE-style timeliness counts over the register, each computed only where the
register holds the dates it needs, and each saying exactly what it counts (so a reader can check it by hand).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from review_rules.dates import add_months_clamped, window_end
from review_rules.model import RuleSettings, Status
from review_rules.periods import DECISION_DAYS, FINAL_AFTER_MEETING_DAYS
from sheet_schema.model import ReviewedPupil

from .common import uk_date

NOT_RECORDED = "(not recorded)"


@dataclass(frozen=True)
class Measure:
    """One compliance measure: how many of `denominator` met it, and what exactly is counted."""

    name: str
    met: int
    denominator: int
    counts: str
    not_judged: int = 0  # reviews the register does not hold enough dates to judge (said in `counts`)

    @property
    def percent(self) -> float | None:
        return round(100 * self.met / self.denominator, 1) if self.denominator else None


def caseload(pupils: Sequence[ReviewedPupil]) -> list[ReviewedPupil]:
    """Pupils with a current review cycle: computed (not INVALID) and on roll (not INACTIVE)."""
    return [p for p in pupils if p.clock is not None and p.status not in (Status.INVALID, Status.INACTIVE)]


def last_year_start(today: date) -> date:
    """First day of "the last 12 months" ending today: the day after the same date a year earlier."""
    return add_months_clamped(today, -12) + timedelta(days=1)


def compliance_measures(pupils: Sequence[ReviewedPupil], *, today: date, settings: RuleSettings) -> list[Measure]:
    """The DfE-style timeliness measures, computed only where the register holds the dates they need."""
    active = caseload(pupils)
    start = last_year_start(today)
    period = f"{uk_date(start)} to {uk_date(today)}"
    # Reviews held in the last 12 months: (last review, facts) of pupils on roll whose last review falls in the period.
    held = [
        (p.record.facts.last_review, p.record.facts)
        for p in active
        if p.record.facts is not None
        and p.record.facts.last_review is not None
        and start <= p.record.facts.last_review <= today
    ]

    # Measure 1, snapshot. CFA s44(1): every plan is reviewed within 12 months of the plan or the last review; a plan
    # whose 12 months have run out with no review recorded is out of time today.
    in_window = sum(1 for p in active if p.clock is not None and today <= p.clock.window_end)
    m1 = Measure(
        "Plans inside their 12-month review window today",
        in_window,
        len(active),
        "Pupils on roll with a computed review: how many have not passed the end of the 12 months starting with "
        "their last review (or, with no review yet, the plan's issue date), CFA 2014 s44(1).",
    )

    # Measure 2, last year: first reviews only. plan_issued is the date the plan was FIRST issued (docs/rules.md s4)
    # and the register holds only the latest review, so the date a review's 12 months ran from is known only for a
    # first review: a later review ran from the review before it, which the register no longer holds. Only what the
    # register proves is counted:
    # - in time: a review recorded on or after the plan date and within 12 months of it (in time whatever came before
    #   it, since an earlier review only moves the deadline later), when those 12 months ended in the period or the
    #   review was held in it (an early first review);
    # - late: those 12 months ended in the period and no review is recorded at all.
    # A review recorded after those 12 months may be a late first review or a later review held in time against one
    # the register no longer holds: not measurable, counted separately and never as late.
    judged: dict[int, bool] = {}
    for p in active:
        f = p.record.facts
        if f is None or f.plan_issued is None:
            continue
        first_due = window_end(f.plan_issued, settings.period)
        if f.last_review is None:
            if start <= first_due <= today:
                judged[p.record.row] = False
        elif f.plan_issued <= f.last_review <= first_due and (start <= first_due <= today or start <= f.last_review):
            judged[p.record.row] = True
    not_judged = sum(
        1
        for p in active
        if p.record.row not in judged
        and p.record.facts is not None
        and p.record.facts.last_review is not None
        and start <= p.record.facts.last_review <= today
    )
    m2 = Measure(
        "First reviews held within 12 months of the plan (last year)",
        sum(judged.values()),
        len(judged),
        f"Pupils on roll whose first annual review fell due {period} (12 months from the date the plan was first "
        "issued, CFA 2014 s44(1)), or was held early in that period: how many had a review recorded within those 12 "
        "months (late: none recorded at all). Later reviews are not measurable from this register, because it keeps "
        "only the latest review date and each later review runs from the one before it; nor is a review recorded "
        "more than 12 months after the plan, which may be a late first review or a later one held in time. "
        f"{not_judged} review{' was' if not_judged == 1 else 's were'} held {period} that this measure cannot judge "
        "for these reasons; they are not counted.",
        not_judged=not_judged,
    )

    # Dates earlier than the meeting belong to the previous cycle (as in the clock's after-meeting rules).
    decided = [(f.la_decision - held_on).days for held_on, f in held if f.la_decision and f.la_decision >= held_on]
    m3 = Measure(
        f"LA decisions within {DECISION_DAYS // 7} weeks of the meeting",
        sum(1 for days in decided if days <= DECISION_DAYS),
        len(decided),
        f"Reviews held {period} with an LA decision date recorded (on or after the meeting): how many decisions "
        f"came within {DECISION_DAYS} days of the meeting (SEND Regulations 2014 reg 20(10)).",
    )

    finalised = [(f.final_plan - held_on).days for held_on, f in held if f.final_plan and f.final_plan >= held_on]
    m4 = Measure(
        f"Amended plans final within {FINAL_AFTER_MEETING_DAYS // 7} weeks of the meeting",
        sum(1 for days in finalised if days <= FINAL_AFTER_MEETING_DAYS),
        len(finalised),
        f"Reviews held {period} with a final amended plan date recorded (on or after the meeting): how many "
        f"amended plans were final within {FINAL_AFTER_MEETING_DAYS} days ({FINAL_AFTER_MEETING_DAYS // 7} weeks) of the "
        "meeting (reg 20(10), reg 22(3); Devon [2022]).",
    )
    return [m1, m2, m3, m4]
