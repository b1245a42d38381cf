"""Giving out days within a week once the solver has chosen each review's slot (solver.py): a bipartite matching of
reviews to meeting places (a day's free meetings), by augmenting paths. The solver's Hall constraints guarantee every
review gets a day; preferences only decide which: siblings and shared professionals together, other reviews late."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    review: int
    days: tuple[int, ...]  # date ordinals the review may take, ascending
    early: bool  # Year 9+ / transfer: earliest day first; others latest first
    groups: tuple[str, ...] = ()
    keep: int | None = None  # the day the last plan suggested, tried first
    aim: int | None = None  # a Year 9+ / transfer review's preferred day (docs/rules.md s11): nearest first


def assign_days(claims: Sequence[Claim], room: Mapping[int, int]) -> dict[int, int]:
    """review -> date ordinal for one week's claims, within `room` (ordinal -> meetings free that day).
    Raises ValueError if some claim cannot be placed (the solver's constraints make that impossible)."""
    holders: dict[int, list[int]] = defaultdict(list)  # day -> reviews on it
    day_of: dict[int, int] = {}
    by_review = {c.review: c for c in claims}
    placed_in_group: dict[str, list[int]] = defaultdict(list)

    def preference(c: Claim) -> list[int]:
        default = list(c.days) if c.early else list(reversed(c.days))
        if c.aim is not None:
            # Nearest the aim, the later of two equally near: a later day keeps the longer lead for advice.
            aim = c.aim
            default = sorted(c.days, key=lambda d: (abs(d - aim), -d))
        near: list[int] = [c.keep] if c.keep is not None else []
        for g in c.groups:
            for d in placed_in_group[g]:
                near.extend(x for x in (d, d - 1, d + 1) if x in c.days and x not in near)
        return near + [d for d in default if d not in near]

    def place(review: int, seen: set[int]) -> bool:
        claim = by_review[review]
        for d in preference(claim):
            if d in seen:
                continue
            seen.add(d)
            if len(holders[d]) < room.get(d, 0):
                holders[d].append(review)
                day_of[review] = d
                return True
            for other in list(holders[d]):
                holders[d].remove(other)
                if place(other, seen):
                    holders[d].append(review)
                    day_of[review] = d
                    return True
                holders[d].append(other)
        return False

    ordered = sorted(claims, key=lambda c: (not c.groups, c.groups, len(c.days), c.review))
    for claim in ordered:
        if not place(claim.review, set()):
            raise ValueError(f"no day left for review {claim.review}")
        for g in claim.groups:
            placed_in_group[g].append(day_of[claim.review])
    return day_of
