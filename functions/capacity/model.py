"""What the year's planner takes and gives (docs/rules.md s11): plain frozen records, dates as `datetime.date`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class ReviewToPlace:
    """A review with no planned meeting yet: the planner proposes its date."""

    row: int
    name: str
    meeting_target: date  # the latest lawful meeting day (docs/rules.md s6)
    pfa: bool = False  # Year 9+ at the review: preparing for adulthood (reg 20(6), 21(6))
    transfer: bool = False  # a phase transfer binds this review (reg 18)
    # Keys of the groups whose reviews should fall on the same or adjacent days: siblings ("family:Khan"), pupils
    # seen by the same professional ("ep:Dr Okafor", "salt:J Bell"). Only what the register says.
    groups: tuple[str, ...] = ()
    previous: date | None = None  # the last plan's suggestion (the AR suggested meeting column): kept when as good

    @property
    def heavy(self) -> bool:
        """More contributors: the longer lead for requests (docs/rules.md s6) and more hours per stage."""
        return self.pfa or self.transfer


@dataclass(frozen=True)
class BookedReview:
    """A review whose meeting the SENDCo has already planned: it is not moved, but it uses capacity."""

    row: int
    meeting: date
    heavy: bool = False


@dataclass(frozen=True)
class StageDates:
    """The preparation dates that follow from a meeting date (docs/rules.md s6), each a school day."""

    meeting: date
    requests_from: date
    invites_by: date
    papers_by: date
    report_due: date


@dataclass(frozen=True)
class Suggestion:
    row: int
    name: str
    suggested_meeting: date
    meeting_target: date
    requests_from: date
    invites_by: date
    papers_by: date
    hours: float
    heavy: bool
    short_lead: bool  # requests_from has passed: advice is requested at once, with less than the usual lead time
    # Past its deadline (or too near it to give two weeks' notice): also in the plan's unschedulable list; this is the
    # soonest lawful date the plan could fit, to book first (docs/rules.md s11).
    overdue: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "name": self.name,
            "suggested_meeting": self.suggested_meeting.isoformat(),
            "meeting_target": self.meeting_target.isoformat(),
            "requests_from": self.requests_from.isoformat(),
            "invites_by": self.invites_by.isoformat(),
            "papers_by": self.papers_by.isoformat(),
            "hours": self.hours,
            "year9_or_transfer": self.heavy,
            "short_lead": self.short_lead,
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class WeekLoad:
    """One school week (Monday first): meetings held, preparation due, estimated hours against capacity."""

    week_start: date
    hours: float
    capacity_hours: float
    meetings: int
    requests: int = 0
    invitations: int = 0
    papers: int = 0
    reports: int = 0
    baseline_hours: float = 0.0  # the same week with every unbooked review at its deadline (before the plan)

    @property
    def over_hours(self) -> float:
        return round(max(0.0, self.hours - self.capacity_hours), 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "week_start": self.week_start.isoformat(),
            "hours": self.hours,
            "capacity_hours": self.capacity_hours,
            "meetings": self.meetings,
            "requests": self.requests,
            "invitations": self.invitations,
            "papers": self.papers,
            "reports": self.reports,
            "over_hours": self.over_hours,
            "baseline_hours": self.baseline_hours,
        }


@dataclass(frozen=True)
class Unschedulable:
    row: int
    name: str
    reason: str
    earliest_lawful: date | None
    meeting_target: date

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "name": self.name,
            "reason": self.reason,
            "earliest_lawful": self.earliest_lawful.isoformat() if self.earliest_lawful else None,
            "meeting_target": self.meeting_target.isoformat(),
        }


@dataclass(frozen=True)
class StageResult:
    """One objective of the lexicographic solve: its value, the solver's proven bound, and how it ended."""

    objective: str
    value: int
    bound: int
    status: str
    seconds: float

    @property
    def gap(self) -> float:
        return 0.0 if self.value == self.bound else round(abs(self.value - self.bound) / max(1, abs(self.value)), 4)


@dataclass(frozen=True)
class SolverReport:
    status: (
        str  # "OPTIMAL" (every objective proven), "FEASIBLE" (a plan, not proven best), "NOT_RUN" (nothing to place)
    )
    seconds: float
    gap: float  # the relative gap of the first objective not proven optimal (0 when every one is proven optimal)
    stages: tuple[StageResult, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "gap": self.gap,
            "stages": [
                {"objective": s.objective, "value": s.value, "bound": s.bound, "status": s.status, "gap": s.gap}
                for s in self.stages
            ],
        }


@dataclass(frozen=True)
class Plan:
    today: date
    suggestions: tuple[Suggestion, ...]
    weeks: tuple[WeekLoad, ...]
    unschedulable: tuple[Unschedulable, ...]
    solver: SolverReport
    earliest_lawful: date | None  # the first day any unbooked review can now be held lawfully
    horizon_end: date
    asap: date | None = None  # the first school day from today: late advice requests go then
    later: tuple[int, ...] = ()  # rows whose deadline is beyond the horizon: not planned this time
    explanation: tuple[str, ...] = field(default_factory=tuple)  # why the year does not fit, when it does not

    @property
    def weeks_over(self) -> tuple[WeekLoad, ...]:
        return tuple(w for w in self.weeks if w.over_hours > 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "suggestions": [s.to_json() for s in self.suggestions],
            "weeks": [w.to_json() for w in self.weeks],
            "unschedulable": [u.to_json() for u in self.unschedulable],
            "solver": self.solver.to_json(),
            "earliest_lawful": self.earliest_lawful.isoformat() if self.earliest_lawful else None,
            "horizon_end": self.horizon_end.isoformat(),
            "later": list(self.later),
            "explanation": list(self.explanation),
        }
