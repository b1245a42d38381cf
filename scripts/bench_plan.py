"""Benchmark: the year's plan (functions/capacity) for 15, 100 and 450 reviews with realistic availability.

    python -m scripts.bench_plan [--sizes 15,100,450] [--seed 3] [--time-limit 8]

Each size runs in a fresh process (so peak memory is its own) and prints: the plan's wall time against the solver's
own limit, its status and optimality gap (the largest over the five objectives), the weekly hours spread before the
plan (every review on its deadline, as reminders alone would leave it) and after, weeks over capacity, and peak RSS.
Targets: the 450-review plan is feasible in under 10 s and peak memory stays under 500 MB.

The registers are made up but shaped like real ones: last reviews bunched in the summer term, a few reviews already
overdue, Year 9+ pupils and phase transfers as the clock computes them, siblings and pupils sharing an EP.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, timedelta

from functions.capacity import Plan, ReviewToPlace, plan_year
from functions.capacity_settings import CapacitySettings
from review_rules import ReviewFacts, RuleSettings, calendar_for, compute_review

TODAY = date(2026, 9, 7)  # the first Monday of the autumn term: the plan for the whole year ahead

# Realistic availability per size: a SENDCo who teaches (15), a primary SENDCo with an assistant (100), a large
# special school's SEN team (450). Meetings Monday-Thursday, a week away in February.
AVAILABILITY: dict[int, CapacitySettings] = {
    15: CapacitySettings(meetings_per_day=1, meetings_per_week=2, weekly_hours=6),
    100: CapacitySettings(meetings_per_day=2, meetings_per_week=6, weekly_hours=30),
    450: CapacitySettings(meetings_per_day=4, meetings_per_week=16, weekly_hours=120),
}
_AWAY = ((date(2027, 2, 8), date(2027, 2, 12)),)
_DAYS = frozenset({0, 1, 2, 3})


def settings_for(size: int, time_limit: float) -> CapacitySettings:
    nearest = min(AVAILABILITY, key=lambda s: abs(s - size))
    base = AVAILABILITY[nearest]
    scale = size / nearest
    return replace(
        base,
        weekly_hours=round(base.weekly_hours * scale, 1),
        meetings_per_week=max(1, round(base.meetings_per_week * scale)),
        days=_DAYS,
        away=_AWAY,
        time_limit_seconds=time_limit,
    )


def realistic_reviews(size: int, today: date = TODAY, seed: int = 3) -> list[ReviewToPlace]:
    """`size` unbooked reviews whose deadlines come from the statutory clock itself."""
    rng = random.Random(seed)
    rules = RuleSettings()
    cal = calendar_for(rules.closures)
    out: list[ReviewToPlace] = []
    families = max(1, size // 12)
    eps = max(1, size // 40)
    for i in range(size):
        year = rng.randint(1, 13)
        dob = date(today.year - year - 5, rng.randint(9, 12), rng.randint(1, 28))
        if rng.random() < 0.4:  # reviews bunch in the summer term
            last = date(today.year, rng.randint(5, 7), rng.randint(1, 20))
        else:
            last = today - timedelta(days=rng.randint(14, 320))
        if rng.random() < 0.03:  # already overdue: last review over a year ago
            last = today - timedelta(days=rng.randint(370, 420))
        clock = compute_review(ReviewFacts(dob=dob, last_review=last), today, rules, cal)
        groups: list[str] = []
        if rng.random() < 0.12:
            groups.append(f"family:{rng.randrange(families)}")
        if rng.random() < 0.3:
            groups.append(f"ep:{rng.randrange(eps)}")
        out.append(
            ReviewToPlace(
                row=i + 4,
                name=f"Pupil{i} S.",
                meeting_target=clock.meeting_target,
                pfa=clock.pfa_required,
                transfer=clock.phase_transfer is not None,
                groups=tuple(groups),
            )
        )
    return out


def run_plan(reviews: list[ReviewToPlace], settings: CapacitySettings, today: date = TODAY) -> Plan:
    cal = calendar_for(None)
    return plan_year(
        reviews,
        [],
        is_school_day=cal.is_school_day,
        on_or_before=cal.school_day_on_or_before,
        settings=settings,
        today=today,
    )


def _spread(hours: list[float]) -> dict[str, float]:
    busy = [h for h in hours if h > 0] or [0.0]
    return {
        "peak": max(busy),
        "mean": round(statistics.fmean(busy), 2),
        "stdev": round(statistics.pstdev(busy), 2),
    }


def measure(size: int, seed: int, time_limit: float) -> dict[str, object]:
    reviews = realistic_reviews(size, seed=seed)
    settings = settings_for(size, time_limit)
    started = time.perf_counter()
    plan = run_plan(reviews, settings)
    wall = time.perf_counter() - started
    return {
        "reviews": size,
        "wall_seconds": round(wall, 2),
        "time_limit": time_limit,
        "status": plan.solver.status,
        "gap": plan.solver.gap,
        "stage_gaps": {s.objective: s.gap for s in plan.solver.stages},
        "scheduled": len(plan.suggestions),
        "unschedulable": len(plan.unschedulable),
        "weeks_over": len(plan.weeks_over),
        "hours_over": round(sum(w.over_hours for w in plan.weeks), 2),
        "before": _spread([w.baseline_hours for w in plan.weeks]),
        "after": _spread([w.hours for w in plan.weeks]),
        "weekly_hours": settings.weekly_hours,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="15,100,450")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=CapacitySettings().time_limit_seconds)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.seed, args.time_limit)))
        return 0
    failed = False
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "scripts.bench_plan",
                "--one",
                str(size),
                "--seed",
                str(args.seed),
                "--time-limit",
                str(args.time_limit),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        r = json.loads(out.stdout)
        before, after = r["before"], r["after"]
        print(
            f"{size:>4} reviews: {r['wall_seconds']:>5.2f} s (limit {r['time_limit']:g} s) {r['status']}, gap "
            f"{r['gap']:.3f} | scheduled {r['scheduled']}, unschedulable {r['unschedulable']} | weekly hours peak "
            f"{before['peak']:g} -> {after['peak']:g} (capacity {r['weekly_hours']:g}), stdev {before['stdev']:g} -> "
            f"{after['stdev']:g}, weeks over {r['weeks_over']} ({r['hours_over']:g} h) | peak RSS {r['peak_rss_mb']} MB"
        )
        print(f"      objective gaps: {r['stage_gaps']}")
        if size >= 450 and (r["wall_seconds"] >= 10 or r["status"] not in ("OPTIMAL", "FEASIBLE")):
            failed = True
        if r["peak_rss_mb"] >= 500:
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
