"""The SENDCo's capacity (`[capacity]` in keeper.toml): what the year's plan must fit (docs/rules.md s11).

Parsed once and checked in full on load: a setting the planner cannot use is one sentence naming the key and the fix
(`CapacitySettingsError`; the command exits 2 and writes nothing). Pure: no I/O.

    [capacity]
    meetings_per_day = 2
    meetings_per_week = 5
    weekly_hours = 6                    # hours a week the SENDCo has for reviews (preparation, meetings, reports)
    days = ["monday", "tuesday", "thursday"]   # weekdays the SENDCo can hold meetings (default Monday-Friday)
    away = [{ from = 2026-02-09, to = 2026-02-13 }]   # same shape as closures
    earliest = 2026-01-05               # no meeting before this date (optional)
    time_limit_seconds = 8              # the solver's limit
    [capacity.hours]                    # estimated hours per stage of one review
    requests = 0.5
    invitations = 0.5
    papers = 2
    meeting = 1.5
    report = 2.5
    year9_transfer_factor = 1.5         # Year 9+ (PfA) and phase transfer reviews take longer: more contributors
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from functions.setting_tables import SettingsError

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Meetings are held on school days (docs/rules.md s2), which are Monday-Friday.
SCHOOL_WEEKDAYS = frozenset(range(5))
MAX_TIME_LIMIT_SECONDS = 600.0


class CapacitySettingsError(SettingsError):
    """A `[capacity]` setting the planner cannot use. `str(err)` is one sentence naming the key and the fix (a
    SettingsError: every command that loads the settings stops on it with exit status 2)."""


@dataclass(frozen=True)
class StageHours:
    """Estimated hours per stage of one review (defaults from the issue's brief; a school sets its own)."""

    requests: float = 0.5
    invitations: float = 0.5
    papers: float = 2.0
    meeting: float = 1.5
    report: float = 2.5
    # Year 9+ reviews (preparing for adulthood, reg 20(6)) and phase transfers (reg 18) involve more contributors.
    year9_transfer_factor: float = 1.5

    def minutes(self, heavy: bool) -> dict[str, int]:
        """Each stage's estimate in whole minutes (the solver works in integers), scaled for heavy reviews."""
        factor = self.year9_transfer_factor if heavy else 1.0
        return {stage: round(getattr(self, stage) * factor * 60) for stage in STAGES}


STAGES: tuple[str, ...] = ("requests", "invitations", "papers", "meeting", "report")


@dataclass(frozen=True)
class CapacitySettings:
    meetings_per_day: int = 2
    meetings_per_week: int = 5
    weekly_hours: float = 6.0
    days: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))  # date.weekday() numbers
    away: tuple[tuple[date, date], ...] = ()
    earliest: date | None = None
    hours: StageHours = field(default_factory=StageHours)
    time_limit_seconds: float = 8.0

    def is_away(self, d: date) -> bool:
        return any(first <= d <= last for first, last in self.away)

    def available(self, d: date) -> bool:
        """The SENDCo can hold a meeting on `d` (a school day is checked separately)."""
        return d.weekday() in self.days and not self.is_away(d)

    def describe(self) -> str:
        names = ", ".join(WEEKDAYS[d].capitalize()[:3] for d in sorted(self.days))
        return (
            f"{self.meetings_per_day} meeting(s) a day, {self.meetings_per_week} a week, {self.weekly_hours:g} hours a "
            f"week, on {names}"
        )


_KNOWN = {
    "meetings_per_day",
    "meetings_per_week",
    "weekly_hours",
    "days",
    "away",
    "earliest",
    "hours",
    "time_limit_seconds",
}


def _err(where: str, what: str) -> CapacitySettingsError:
    return CapacitySettingsError(f"{where}: {what}")


def _positive_int(raw: Mapping[str, Any], key: str, where: str) -> int:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _err(where, f'capacity.{key} is "{value}"; write a whole number of meetings, e.g. {key} = 2.')
    if value < 1:
        raise _err(where, f"capacity.{key} is {value}, so no meeting could ever be held; give at least 1.")
    return value


def _number(value: Any, key: str, where: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _err(where, f'{key} is "{value}"; write a number of hours, e.g. {key.rsplit(".", 1)[-1]} = 1.5.')
    if value < 0 or (positive and value == 0) or value != value:
        need = "more than 0" if positive else "0 or more"
        raise _err(where, f"{key} is {value}; it must be {need} hours.")
    return float(value)


def _as_date(value: Any, key: str, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _err(where, f'{key} is "{value}", which is not a date; write it as YYYY-MM-DD, e.g. 2026-02-09.')


def _days(value: Any, where: str) -> frozenset[int]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(where, 'capacity.days must be a list of weekday names, e.g. days = ["monday", "wednesday"].')
    out: set[int] = set()
    for name in value:
        key = name.strip().lower()
        if key not in WEEKDAYS:
            raise _err(where, f'capacity.days has "{name}", which is not a weekday; use names such as "monday".')
        number = WEEKDAYS.index(key)
        if number not in SCHOOL_WEEKDAYS:
            raise _err(where, f'capacity.days has "{name}", which is never a school day; use Monday to Friday.')
        out.add(number)
    if not out:
        raise _err(where, "capacity.days lists no day, so no meeting could ever be held; list at least one weekday.")
    return frozenset(out)


def _away(value: Any, where: str) -> tuple[tuple[date, date], ...]:
    if not isinstance(value, list):
        raise _err(where, "capacity.away must be a list of periods, e.g. [{ from = 2026-02-09, to = 2026-02-13 }].")
    out: list[tuple[date, date]] = []
    for i, item in enumerate(value, start=1):
        if not isinstance(item, Mapping) or "from" not in item or "to" not in item:
            raise _err(
                where,
                f"capacity.away entry {i} must have a from and a to date, e.g. {{ from = 2026-02-09, "
                "to = 2026-02-13 }.",
            )
        first = _as_date(item["from"], f"capacity.away entry {i} from", where)
        last = _as_date(item["to"], f"capacity.away entry {i} to", where)
        if last < first:
            raise _err(where, f"capacity.away entry {i} ends ({last}) before it starts ({first}); swap them.")
        out.append((first, last))
    return tuple(sorted(out))


def _hours(value: Any, where: str) -> StageHours:
    if not isinstance(value, Mapping):
        raise _err(where, "[capacity.hours] must be a table of hours per stage, e.g. papers = 2.")
    known = (*STAGES, "year9_transfer_factor")
    kwargs: dict[str, float] = {}
    for key, raw in value.items():
        if key not in known:
            raise _err(where, f"capacity.hours.{key} is not a setting; the stages are {', '.join(known)}.")
        if key == "year9_transfer_factor":
            factor = _number(raw, "capacity.hours.year9_transfer_factor", where, positive=True)
            if factor < 1:
                raise _err(where, f"capacity.hours.year9_transfer_factor is {raw}; it must be 1 or more.")
            kwargs[key] = factor
        else:
            kwargs[key] = _number(raw, f"capacity.hours.{key}", where, positive=False)
    hours = StageHours(**kwargs)
    if sum(getattr(hours, stage) for stage in STAGES) == 0:
        raise _err(where, "[capacity.hours] are all 0; give each stage its estimated hours, e.g. meeting = 1.5.")
    return hours


def capacity_from_mapping(raw: Any, where: str = "keeper.toml") -> CapacitySettings:
    """`[capacity]` as a CapacitySettings, checked in full. A missing table means the defaults."""
    if raw is None:
        return CapacitySettings()
    if not isinstance(raw, Mapping):
        raise _err(where, "[capacity] must be a table of settings, e.g. weekly_hours = 6.")
    for key in raw:
        if key not in _KNOWN:
            raise _err(
                where, f"capacity.{key} is not a setting; the capacity settings are {', '.join(sorted(_KNOWN))}."
            )
    kwargs: dict[str, Any] = {}
    for key in ("meetings_per_day", "meetings_per_week"):
        if key in raw:
            kwargs[key] = _positive_int(raw, key, where)
    if "weekly_hours" in raw:
        weekly = _number(raw["weekly_hours"], "capacity.weekly_hours", where, positive=False)
        if weekly == 0:
            raise _err(
                where,
                "capacity.weekly_hours is 0, so no review could be prepared; give the hours a week "
                "you have for reviews, e.g. weekly_hours = 6.",
            )
        kwargs["weekly_hours"] = weekly
    if "days" in raw:
        kwargs["days"] = _days(raw["days"], where)
    if "away" in raw:
        kwargs["away"] = _away(raw["away"], where)
    if "earliest" in raw:
        kwargs["earliest"] = _as_date(raw["earliest"], "capacity.earliest", where)
    if "hours" in raw:
        kwargs["hours"] = _hours(raw["hours"], where)
    if "time_limit_seconds" in raw:
        limit = _number(raw["time_limit_seconds"], "capacity.time_limit_seconds", where, positive=True)
        if limit > MAX_TIME_LIMIT_SECONDS:
            raise _err(where, f"capacity.time_limit_seconds is {limit:g}; use at most {MAX_TIME_LIMIT_SECONDS:g}.")
        kwargs["time_limit_seconds"] = limit
    return CapacitySettings(**kwargs)


def check_against_year(
    settings: CapacitySettings, is_school_day: Any, today: date, weeks: int = 52, where: str = "keeper.toml"
) -> None:
    """Settings that only fail against the calendar: away (or `earliest` after) every day the SENDCo could meet in the
    coming `weeks` weeks. `is_school_day` is `SchoolCalendar.is_school_day`."""
    start = max(today, settings.earliest or today)
    end = today + timedelta(weeks=weeks)
    if settings.earliest is not None and settings.earliest > end:
        raise _err(
            where,
            f"capacity.earliest is {settings.earliest}, more than {weeks} weeks away; nothing can be "
            "planned before it. Use a date within the year or remove it.",
        )
    day = start
    while day <= end:
        if is_school_day(day) and settings.available(day):
            return
        day += timedelta(days=1)
    raise _err(
        where,
        f"capacity.away (with capacity.days) leaves no school day for a meeting between {start} and "
        f"{end}; shorten the away periods or add days.",
    )
