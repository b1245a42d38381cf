"""The year's reviews planned to fit the SENDCo's capacity (docs/rules.md s11): a pure decider over dates.

`plan_year` takes the reviews still to book, those already booked, the school calendar, today and the `[capacity]`
settings, and returns a `Plan`: suggestions, per-week load, reviews that cannot be held in time, the solver's report.
"""

from .model import BookedReview, Plan, ReviewToPlace, SolverReport, StageDates, Suggestion, Unschedulable, WeekLoad
from .planner import explain, loads_for, plan_year

__all__ = [
    "BookedReview",
    "Plan",
    "ReviewToPlace",
    "SolverReport",
    "StageDates",
    "Suggestion",
    "Unschedulable",
    "WeekLoad",
    "explain",
    "loads_for",
    "plan_year",
]
