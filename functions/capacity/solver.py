"""The year's plan as a CP-SAT model (OR-Tools), solved lexicographically: each objective, in the order the issue
ranks them, is minimised and then held at the value found while the next one is minimised.

A review chooses a *slot*: a set of its lawful days in one week whose preparation lands in the same weeks (a bank
holiday can move one day's invitations date into an earlier week, so a week can hold two slots). Choosing slots rather
than days keeps the model six times smaller, which is what lets 450 reviews solve in seconds on two cores; the days
are then given out by a matching (matching.py), and Hall's condition on every set of days of a week, stated below as
constraints, guarantees that matching exists. So the hard constraints hold exactly: lawful days only (the caller's
candidates), meetings per day, meetings per week.

Soft, in order:
  1. unscheduled     reviews left without a date
  2. over_minutes    minutes planned beyond the hours available, summed over the weeks
  3. overdue_late    reviews past their deadline: days after their earliest lawful day (as soon as possible)
  4. heavy_late      Year 9+ and phase transfer reviews: days from their aim, at most six school weeks before the
                     deadline and never with a short lead the plan could avoid (planner.py _aim)
  5. groups_apart    pairs of siblings / shared-professional reviews not in the same week (the matching then puts
                     them on the same or adjacent days where the week allows)
  6. drift           other reviews: days before their deadline, steeper past two weeks (as late as allowed, so
                     cycles do not drift earlier; the earliness capacity forces is spread thin)
  7. moved           reviews whose suggestion from the last plan changes, though it would do as well: a plan run
                     every month should not move meetings the SENDCo may already have pencilled in
Lexicographic rather than weighted: weights that provably respect this order multiply past 10^20 for a large special
school, beyond what the solver handles well; five short solves warm-started from each other stay fast.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import StageResult

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

OBJECTIVES: tuple[str, ...] = (
    "unscheduled",
    "over_minutes",
    "overdue_late",
    "heavy_late",
    "groups_apart",
    "drift",
    "moved",
)
# Share of the time limit each objective may use; time an objective does not need passes on to the next.
_SHARES = (1.0, 4.0, 1.0, 2.0, 1.0, 2.0, 0.5)
# A group larger than this is linked member to next member (by deadline) rather than every member with every other.
_PAIRWISE_GROUP = 4
_PRESOLVE_MAX_SLOTS = 4000


@dataclass(frozen=True)
class Slot:
    """Days of one week on which a meeting for one review costs the same preparation weeks."""

    days: tuple[int, ...]  # date ordinals, ascending
    week: int  # the meeting's week index
    minutes: tuple[tuple[int, int], ...]  # (week index, minutes) the review adds to each week
    earliness: int  # overdue: days after its first lawful day; Year 9+ / transfer: days from its aim (planner.py)
    lateness: int  # other reviews: the drift cost of this slot's last day before the deadline (planner.py)
    moves: bool = False  # the review had a suggestion from the last plan, and this slot does not hold it


@dataclass(frozen=True)
class Problem:
    slots: Sequence[Sequence[Slot]]  # per review, in date order
    heavy: Sequence[bool]
    meetings_left_day: dict[int, int]  # ordinal -> meetings still free that day (after booked ones)
    meetings_left_week: dict[int, int]  # week -> meetings still free that week
    base_minutes: dict[int, int]  # week -> minutes already committed by booked reviews
    capacity_minutes: dict[int, int]  # week -> minutes available
    groups: Sequence[Sequence[int]]  # review indexes that should meet on the same or adjacent days
    overdue: Sequence[bool] = ()  # per review: past its deadline, to be held as soon as possible

    def is_overdue(self, i: int) -> bool:
        return bool(self.overdue) and self.overdue[i]


@dataclass(frozen=True)
class Solution:
    choice: tuple[int | None, ...]  # per review: the index of the chosen slot, or None
    stages: tuple[StageResult, ...]
    seconds: float


def pairs_of(problem: Problem) -> list[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for group in problem.groups:
        members = sorted((i for i in set(group) if problem.slots[i]), key=lambda i: (problem.slots[i][-1].days[-1], i))
        if len(members) <= _PAIRWISE_GROUP:
            pairs.update(itertools.combinations(members, 2))
        else:
            pairs.update(itertools.pairwise(members))
    return sorted(pairs)


def load_of(problem: Problem, choice: Sequence[int | None]) -> dict[int, int]:
    load = dict(problem.base_minutes)
    for i, k in enumerate(choice):
        if k is not None:
            for week, minutes in problem.slots[i][k].minutes:
                load[week] = load.get(week, 0) + minutes
    return load


def evaluate(problem: Problem, choice: Sequence[int | None]) -> tuple[int, ...]:
    """The objectives of a plan computed directly: the warm start's values, and the bound kept for an objective
    the solver could not improve in its time."""
    load = load_of(problem, choice)
    variable = {week for slots in problem.slots for s in slots for week, _ in s.minutes}
    over = sum(max(0, m - problem.capacity_minutes.get(w, 0)) for w, m in load.items() if w in variable)
    chosen = [(i, problem.slots[i][k]) for i, k in enumerate(choice) if k is not None]
    overdue_late = sum(s.earliness for i, s in chosen if problem.is_overdue(i))
    heavy_late = sum(s.earliness for i, s in chosen if problem.heavy[i] and not problem.is_overdue(i))
    drift = sum(s.lateness for _, s in chosen)
    apart = 0
    for a, b in pairs_of(problem):
        ka, kb = choice[a], choice[b]
        if ka is None or kb is None or problem.slots[a][ka].week != problem.slots[b][kb].week:
            apart += 1
    moved = sum(1 for i, k in enumerate(choice) if (problem.slots[i][k].moves if k is not None else _had(problem, i)))
    return (sum(1 for k in choice if k is None), over, overdue_late, heavy_late, apart, drift, moved)


def _had(problem: Problem, i: int) -> bool:
    """The review had a previous suggestion (some slot is marked as moving it, or holds it)."""
    return any(s.moves for s in problem.slots[i])


def forced_over(problem: Problem) -> int:
    """A lower bound on over_minutes when every review is scheduled: each week carries at least the least any slot
    of each review puts there (advice already late is requested this week whatever the meeting date)."""
    least: dict[int, int] = dict(problem.base_minutes)
    for slots in problem.slots:
        if not slots:
            continue
        weeks = set.intersection(*({w for w, _ in s.minutes} for s in slots))
        for week in weeks:
            least[week] = least.get(week, 0) + min(dict(s.minutes)[week] for s in slots)
    variable = {week for slots in problem.slots for s in slots for week, _ in s.minutes}
    return sum(max(0, m - problem.capacity_minutes.get(w, 0)) for w, m in least.items() if w in variable)


def least_cost(problem: Problem, name: str) -> int:
    """A lower bound on overdue_late / heavy_late / drift when every review is scheduled: each review at its
    cheapest slot, as if no other review were there."""
    total = 0
    for i, slots in enumerate(problem.slots):
        if not slots:
            continue
        if (name == "overdue_late" and problem.is_overdue(i)) or (
            name == "heavy_late" and problem.heavy[i] and not problem.is_overdue(i)
        ):
            total += min(s.earliness for s in slots)
        elif name == "drift":
            total += min(s.lateness for s in slots)
    return total


def _own_bound(problem: Problem, name: str, stages: Sequence[StageResult]) -> int:
    """Bounds proved here, beside the solver's own (valid when the first objective left nothing unscheduled)."""
    if not stages or stages[0].value != 0:
        return 0
    if name == "over_minutes":
        return forced_over(problem)
    if name in ("overdue_late", "heavy_late", "drift"):
        return least_cost(problem, name)
    return 0


def greedy(problem: Problem) -> list[int | None]:
    """A quick plan keeping every hard constraint, to start the solver from: reviews in deadline order, each in the
    latest slot (overdue reviews first, in their earliest slot; Year 9+ and transfers nearest their aim) with a free day
    that keeps its weeks inside the hours, else the free slot that overloads least."""
    day_left = dict(problem.meetings_left_day)
    week_left = dict(problem.meetings_left_week)
    load = dict(problem.base_minutes)
    choice: list[int | None] = [None] * len(problem.slots)
    order = sorted(
        range(len(problem.slots)),
        key=lambda i: (not problem.is_overdue(i), problem.slots[i][-1].days[-1] if problem.slots[i] else 0),
    )
    for i in order:
        slots = problem.slots[i]
        if problem.is_overdue(i) or problem.heavy[i]:
            # Earliest first: these reviews filling the quiet weeks early leaves the room near the deadlines to the
            # others, which is what keeps the weeks inside the hours (the solver then moves them towards their aim).
            indexes: Sequence[int] = range(len(slots))
        else:
            indexes = range(len(slots) - 1, -1, -1)
        best: tuple[int, int, int] | None = None  # (extra minutes over, position, slot index)
        for position, k in enumerate(indexes):
            s = slots[k]
            if week_left.get(s.week, 0) <= 0 or not any(day_left.get(d, 0) > 0 for d in s.days):
                continue
            extra = sum(
                max(0, load.get(w, 0) + m - problem.capacity_minutes.get(w, 0))
                - max(0, load.get(w, 0) - problem.capacity_minutes.get(w, 0))
                for w, m in s.minutes
            )
            if best is None or extra < best[0]:
                best = (extra, position, k)
            if extra == 0:
                break
        if best is None:
            continue
        s = slots[best[2]]
        day = next(d for d in (s.days if problem.heavy[i] else reversed(s.days)) if day_left.get(d, 0) > 0)
        day_left[day] -= 1
        week_left[s.week] -= 1
        for w, m in s.minutes:
            load[w] = load.get(w, 0) + m
        choice[i] = best[2]
    return choice


def _day_constraints(model: cp_model.CpModel, problem: Problem, x: list[list[cp_model.IntVar]]) -> None:
    """Meetings per week, and per day through Hall's condition: for every set S of a week's days, the reviews whose
    slot lies inside S number at most the meetings S can still take. Then a day for each is always found."""
    by_week: dict[int, list[tuple[frozenset[int], cp_model.IntVar]]] = defaultdict(list)
    for row, slots in zip(x, problem.slots, strict=True):
        for var, s in zip(row, slots, strict=True):
            by_week[s.week].append((frozenset(s.days), var))
    for week, entries in by_week.items():
        model.add(sum(v for _, v in entries) <= problem.meetings_left_week.get(week, 0))
        days = sorted(set().union(*(d for d, _ in entries)))
        for size in range(1, len(days) + 1):
            for subset in itertools.combinations(days, size):
                chosen = frozenset(subset)
                inside = [v for d, v in entries if d <= chosen]
                room = sum(problem.meetings_left_day.get(d, 0) for d in chosen)
                if len(inside) > room:
                    model.add(sum(inside) <= room)


def solve(problem: Problem, time_limit: float, workers: int = 2, seed: int = 0) -> Solution:
    # Imported here: ortools (and the pandas it loads) costs 0.3-0.7 s and 56 MB, and every sweep imports this package
    # for next week's load in the digest (functions/plan_digest.py), which never solves (issue 16).
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    model = cp_model.CpModel()
    n = len(problem.slots)
    x = [[model.new_bool_var(f"x{i}_{k}") for k in range(len(slots))] for i, slots in enumerate(problem.slots)]
    scheduled: list[cp_model.LinearExprT] = []
    load: dict[int, list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    heavy_terms: list[tuple[cp_model.IntVar, int]] = []
    overdue_terms: list[tuple[cp_model.IntVar, int]] = []
    drift_terms: list[tuple[cp_model.IntVar, int]] = []
    kept: list[cp_model.IntVar] = []
    previous = 0
    for i, (row, slots) in enumerate(zip(x, problem.slots, strict=True)):
        if _had(problem, i):
            previous += 1
            kept.extend(v for v, s in zip(row, slots, strict=True) if not s.moves)
        if row:
            model.add_at_most_one(row)
        scheduled.append(sum(row) if row else 0)
        for var, s in zip(row, slots, strict=True):
            for week, minutes in s.minutes:
                load[week].append((var, minutes))
            if problem.is_overdue(i) and s.earliness:
                overdue_terms.append((var, s.earliness))
            elif problem.heavy[i] and s.earliness:
                heavy_terms.append((var, s.earliness))
            if s.lateness:
                drift_terms.append((var, s.lateness))
    _day_constraints(model, problem, x)
    over: dict[int, cp_model.IntVar] = {}
    for week, terms in load.items():
        base, cap = problem.base_minutes.get(week, 0), problem.capacity_minutes.get(week, 0)
        most = base + sum(m for _, m in terms)
        if most > cap:
            over[week] = model.new_int_var(0, most, f"over{week}")
            model.add(sum(m * v for v, m in terms) + base - cap <= over[week])
    together: dict[tuple[int, int], cp_model.IntVar] = {}
    for a, b in pairs_of(problem):
        t = together[(a, b)] = model.new_bool_var(f"t{a}_{b}")
        week_a = sum(s.week * v for v, s in zip(x[a], problem.slots[a], strict=True))
        week_b = sum(s.week * v for v, s in zip(x[b], problem.slots[b], strict=True))
        model.add(week_a == week_b).only_enforce_if(t)
        model.add(cp_model.LinearExpr.sum([scheduled[a], scheduled[b]]) == 2).only_enforce_if(t)
    objectives = (
        n - sum(scheduled),
        sum(over.values()) if over else 0,
        sum(w * v for v, w in overdue_terms) if overdue_terms else 0,
        sum(w * v for v, w in heavy_terms) if heavy_terms else 0,
        sum(1 - t for t in together.values()) if together else 0,
        sum(w * v for v, w in drift_terms) if drift_terms else 0,
        previous - sum(kept) if kept else previous,
    )

    choice: list[int | None] = greedy(problem)
    stages: list[StageResult] = []
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    # Symmetry detection and the big-overlap presolve took seconds on 450 reviews and found nothing the search needs;
    # past a few thousand slots presolve as a whole costs more than it saves, the complete hint being a plan already.
    solver.parameters.symmetry_level = 0
    solver.parameters.find_big_linear_overlap = False
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.cp_model_presolve = sum(len(s) for s in problem.slots) <= _PRESOLVE_MAX_SLOTS
    for number, (name, objective) in enumerate(zip(OBJECTIVES, objectives, strict=True)):
        in_hand = evaluate(problem, choice)[number]
        if isinstance(objective, int) or in_hand == 0:
            # Every objective is at least 0: the plan in hand is optimal for this one without a search.
            stages.append(StageResult(name, in_hand, in_hand, "OPTIMAL", 0.0))
            if not isinstance(objective, int):
                model.add(objective <= 0)
            continue
        _hint(model, problem, x, over, together, choice)
        remaining = max(0.05, time_limit - (time.perf_counter() - started))
        shares = _SHARES[number:]
        solver.parameters.max_time_in_seconds = remaining * shares[0] / sum(shares)
        model.minimize(objective)
        t0 = time.perf_counter()
        status = solver.solve(model)
        seconds = time.perf_counter() - t0
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # No solution in the time given (the hint breaks no hard constraint, so this is time alone): keep the
            # plan in hand and hold this objective at its value, with no proven bound.
            stages.append(
                StageResult(name, in_hand, _own_bound(problem, name, stages), solver.status_name(status), seconds)
            )
            model.add(objective <= in_hand)
            continue
        value = round(solver.objective_value)
        bound = max(round(solver.best_objective_bound), _own_bound(problem, name, stages))
        stages.append(StageResult(name, value, bound, solver.status_name(status), seconds))
        choice = [next((k for k, var in enumerate(row) if solver.boolean_value(var)), None) for row in x]
        model.add(objective <= value)
    return Solution(tuple(choice), tuple(stages), time.perf_counter() - started)


def _hint(
    model: cp_model.CpModel,
    problem: Problem,
    x: list[list[cp_model.IntVar]],
    over: dict[int, cp_model.IntVar],
    together: dict[tuple[int, int], cp_model.IntVar],
    choice: Sequence[int | None],
) -> None:
    """The plan in hand as a complete hint, so every solve starts from a feasible plan."""
    model.clear_hints()
    for i, row in enumerate(x):
        for k, var in enumerate(row):
            model.add_hint(var, choice[i] == k)
    load = load_of(problem, choice)
    for week, excess in over.items():
        model.add_hint(excess, max(0, load.get(week, 0) - problem.capacity_minutes.get(week, 0)))
    for (a, b), t in together.items():
        ka, kb = choice[a], choice[b]
        model.add_hint(t, ka is not None and kb is not None and problem.slots[a][ka].week == problem.slots[b][kb].week)
