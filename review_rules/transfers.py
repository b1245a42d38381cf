"""Phase transfers (SEND Regulations 2014 reg 18; docs/rules.md s5).

Reg 18: when a child or young person is within 12 months of a transfer between phases of education, the EHC plan must be
reviewed and amended before 15 February of the calendar year of the transfer, or before 31 March for a transfer from
secondary school to a post-16 institution.
"""

from __future__ import annotations

from datetime import date, timedelta

from review_rules.dates import add_months_clamped
from review_rules.model import PhaseTransfer, ReviewFacts, RuleSettings
from review_rules.periods import DAYS_FROM_MEETING_TO_FINAL_PLAN, POST16_MIDYEAR_MONTHS
from review_rules.year_groups import ay_start, pupil_year

# Year 11 -> post-16: the later reg 18 deadline (31 March) applies.
POST16_FROM_YEAR = 11
# Reg 18: "before 15 February" -> final by 14 February; "before 31 March" -> final by 30 March.
FINAL_BY_MONTH_DAY = (2, 14)
FINAL_BY_POST16_MONTH_DAY = (3, 30)
# Setting phase_deadline_inclusive: the school's LA reads reg 18 as "by" 15 February / 31 March.
FINAL_BY_INCLUSIVE_MONTH_DAY = (2, 15)
FINAL_BY_POST16_INCLUSIVE_MONTH_DAY = (3, 31)


def derived_transfer_dates(facts: ReviewFacts, today: date, settings: RuleSettings) -> list[tuple[int, date]]:
    """(k, T) for each transfer year k in the settings: T is 1 September after the academic year in which the pupil is
    in year k (by the recorded year when the register has one, else by date of birth)."""
    year_now = pupil_year(facts.dob, facts.recorded_year, today, today)
    transfers = []
    for k in settings.transfer_after_years:
        academic_year_in_k = ay_start(today) + (k - year_now)
        transfers.append((k, date(academic_year_in_k + 1, 9, 1)))
    return transfers


def phase_transfer_for(k: int, transfer_date: date, settings: RuleSettings) -> PhaseTransfer:
    """The reg 18 deadlines for a transfer on `transfer_date` from year `k`."""
    to_post16 = k >= POST16_FROM_YEAR
    if to_post16:
        month, day = (
            FINAL_BY_POST16_INCLUSIVE_MONTH_DAY if settings.phase_deadline_inclusive else FINAL_BY_POST16_MONTH_DAY
        )
    else:
        month, day = FINAL_BY_INCLUSIVE_MONTH_DAY if settings.phase_deadline_inclusive else FINAL_BY_MONTH_DAY
    # Reg 18: the deadline is in "the calendar year of the transfer".
    final_by = date(transfer_date.year, month, day)
    # A mid-year move (a per-pupil date that is not 1 September) can come before that date: the plan must then be final
    # before the move itself, and for a post-16 move at least five months before it (reg 18(2); docs/rules.md s5).
    # For a 1 September transfer neither bound is earlier, so applying them always changes nothing there.
    final_by = min(final_by, transfer_date - timedelta(days=1))
    if to_post16:
        final_by = min(final_by, add_months_clamped(transfer_date, -POST16_MIDYEAR_MONTHS))
    return PhaseTransfer(
        from_year=k,
        transfer_date=transfer_date,
        final_by=final_by,
        meeting_latest=final_by - timedelta(days=DAYS_FROM_MEETING_TO_FINAL_PLAN),
        to_post16=to_post16,
    )


def twelve_months_before(transfer_date: date) -> date:
    """T - 1 year: the start of the 12 months before the transfer (29 February -> 28 February)."""
    return add_months_clamped(transfer_date, -12)


def binding_transfer(
    facts: ReviewFacts,
    today: date,
    meeting_anchor: date,
    meeting_latest: date,
    settings: RuleSettings,
) -> PhaseTransfer | None:
    """The phase transfer that binds the current cycle, if any.

    A transfer T binds when `meeting_anchor < T - 1 year <= meeting_latest` (meeting_latest as computed in section 4):
    no review has been held in the 12 months before T, and this cycle's meeting is not due before those 12 months
    begin (if it is, this cycle's review is an ordinary one and the next cycle is the transfer review).
    A per-pupil transfer date in the register overrides the derived ones; its k is the pupil's year the day before it.
    """
    if facts.transfer_date is not None:
        k = pupil_year(facts.dob, facts.recorded_year, today, facts.transfer_date - timedelta(days=1))
        candidates = [(k, facts.transfer_date)]
    else:
        candidates = derived_transfer_dates(facts, today, settings)
    for k, transfer_date in sorted(candidates, key=lambda kt: kt[1]):
        if meeting_anchor < twelve_months_before(transfer_date) <= meeting_latest:
            return phase_transfer_for(k, transfer_date, settings)
    return None
