"""Types of the statutory clock: what goes in (facts from the register), settings, and what comes out.

Pure data: no I/O, no spreadsheet types. Implementations live beside this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Status(StrEnum):
    """Status of the current review cycle, in the order it is evaluated (docs/rules.md s9)."""

    INVALID = "INVALID"
    INACTIVE = "INACTIVE"
    OVERDUE = "OVERDUE"
    DUE_SOON = "DUE_SOON"
    PREPARE = "PREPARE"
    ON_TRACK = "ON_TRACK"


class Decision(StrEnum):
    """The LA's decision after a review (reg 20(10)): maintain, amend or cease the plan."""

    MAINTAIN = "maintain"
    AMEND = "amend"
    CEASE = "cease"


class Anchor(StrEnum):
    """Which anchor bounds the meeting: both the meeting and the LA decision (default, CoP 9.169), or the meeting alone."""

    DECISION = "decision"
    MEETING = "meeting"


class Period(StrEnum):
    """How "within 12 months" is counted (CFA s44(1))."""

    # The last day of "the period of 12 months starting with" the anchor: anniversary - 1 day.
    TWELVE_MONTHS = "twelve_months"
    # Some LAs count "by the anniversary": anchor + 12 months, 29 February clamped to 28 February.
    ANNIVERSARY = "anniversary"


# Default closures when no term dates are configured (docs/rules.md s2): every year, both inclusive.
DEFAULT_CLOSURES_MONTH_DAY: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = (
    ((7, 21), (8, 31)),
    ((12, 21), (1, 3)),  # spans the new year
)


@dataclass(frozen=True)
class RuleSettings:
    """The school's conventions. Defaults are the spec's."""

    anchor: Anchor = Anchor.DECISION
    period: Period = Period.TWELVE_MONTHS
    transfer_after_years: tuple[int, ...] = (6, 11)
    phase_deadline_inclusive: bool = False
    # Closure periods (first day, last day), both inclusive. None means the default closures every year.
    closures: tuple[tuple[date, date], ...] | None = None


@dataclass(frozen=True)
class ReviewFacts:
    """What the register says about one pupil, already parsed and validated."""

    dob: date
    plan_issued: date | None = None
    last_review: date | None = None
    la_decision: date | None = None
    decision: Decision | None = None
    amendment_notice: date | None = None
    final_plan: date | None = None
    report_sent: date | None = None
    planned_meeting: date | None = None
    # The pupil's NC year in the academic year containing `today`, as recorded in the register (None: derive from dob).
    recorded_year: int | None = None
    # A per-pupil transfer date overrides the derived one (reg 18).
    transfer_date: date | None = None
    inactive: bool = False
    # After-meeting steps ("report_due", "decision_due", "final_plan_due") the register has no column to record: they
    # are never called late, since the SENDCo could not record them done (docs/register.md s5).
    no_column_for: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PhaseTransfer:
    """A phase transfer that binds the current cycle (reg 18)."""

    from_year: int  # k: the year the pupil is in during the academic year before the transfer
    transfer_date: date  # T
    final_by: date  # the amended plan must be final by this date
    meeting_latest: date  # phase_meeting_latest = final_by - 84 days
    to_post16: bool


@dataclass(frozen=True)
class AfterMeeting:
    """The LA clock after the last meeting H (reg 20(7)-(10), reg 22(3))."""

    meeting_held: date
    report_due: date
    decision_due: date
    final_plan_due: date | None
    # Names of the steps whose date has passed with nothing recorded for this cycle, in the order report_due,
    # decision_due, final_plan_due (docs/rules.md s8); only steps the register has a column for.
    late: tuple[str, ...] = ()
    # Steps whose date has passed that the register has no column to record (ReviewFacts.no_column_for): shown as
    # "was due ...: add a column", never as late.
    due_without_column: tuple[str, ...] = ()


class Explanation(Mapping[str, str]):
    """A clock's `explain` sentences, worded on first read: a record or a report reads a few pupils' of them, a sweep
    none, and 10,000 pupils' held at once cost 40 MB (issue 16). Reads and compares as the dict it words."""

    __slots__ = ("_word", "_words")

    def __init__(self, word: Callable[[], dict[str, str]]) -> None:
        self._word = word
        self._words: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._words is None:
            self._words = self._word()
        return self._words

    def __getitem__(self, key: str) -> str:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


@dataclass(frozen=True)
class ReviewClock:
    """Everything computed for one pupil's current cycle. `explain` maps a field name to the rule that produced it."""

    status: Status
    meeting_anchor: date
    anchor_source: str  # "last_review" or "plan_issued"
    decision_anchor: date
    window_end: date
    meeting_latest: date
    meeting_target: date
    meeting_date: date  # M: the planned meeting if recorded, else meeting_target
    meeting_is_planned: bool
    planned_after_deadline: bool
    requests_from: date
    contributions_due: date
    invites_by: date
    papers_by: date
    nc_year_at_review: int
    pfa_required: bool
    phase_transfer: PhaseTransfer | None
    after_meeting: AfterMeeting | None
    interim_review_by: date | None  # under-fives advisory (CoP 9.178); never a red status
    end_of_compulsory_school: date  # last Friday in June of the school year in which the pupil turns 16
    explain: Mapping[str, str] = field(default_factory=dict)  # an Explanation from compute_review
