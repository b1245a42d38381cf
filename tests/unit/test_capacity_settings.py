"""`[capacity]` in keeper.toml: defaults, every key read, and each impossible setting one sentence naming the key."""

from __future__ import annotations

import tomllib
from datetime import date

import pytest

from functions.capacity_settings import (
    CapacitySettings,
    CapacitySettingsError,
    StageHours,
    capacity_from_mapping,
    check_against_year,
)
from review_rules import calendar_for


def test_defaults() -> None:
    s = capacity_from_mapping(None)
    assert s == CapacitySettings()
    assert s.weekly_hours == 6
    assert s.days == frozenset(range(5))
    assert s.hours == StageHours(0.5, 0.5, 2.0, 1.5, 2.5, 1.5)
    assert s.hours.minutes(False) == {"requests": 30, "invitations": 30, "papers": 120, "meeting": 90, "report": 150}
    assert s.hours.minutes(True)["report"] == 225


def test_every_key_from_toml() -> None:
    raw = tomllib.loads(
        """
        [capacity]
        meetings_per_day = 1
        meetings_per_week = 3
        weekly_hours = 7.5
        days = ["Monday", "wednesday"]
        away = [{ from = 2026-02-09, to = 2026-02-13 }]
        earliest = 2026-01-05
        time_limit_seconds = 4
        [capacity.hours]
        papers = 3
        year9_transfer_factor = 2
        """
    )
    s = capacity_from_mapping(raw["capacity"])
    assert (s.meetings_per_day, s.meetings_per_week, s.weekly_hours) == (1, 3, 7.5)
    assert s.days == frozenset({0, 2})
    assert s.away == ((date(2026, 2, 9), date(2026, 2, 13)),)
    assert s.earliest == date(2026, 1, 5)
    assert s.time_limit_seconds == 4
    assert s.hours.papers == 3
    assert s.hours.meeting == 1.5
    assert s.hours.year9_transfer_factor == 2
    assert s.available(date(2026, 2, 2))
    assert not s.available(date(2026, 2, 9))
    assert not s.available(date(2026, 2, 3))


BAD = [
    ({"meetings_per_day": 0}, "capacity.meetings_per_day is 0"),
    ({"meetings_per_week": 0}, "capacity.meetings_per_week is 0"),
    ({"meetings_per_week": "two"}, "capacity.meetings_per_week"),
    ({"weekly_hours": 0}, "capacity.weekly_hours is 0"),
    ({"weekly_hours": -2}, "capacity.weekly_hours is -2"),
    ({"days": []}, "capacity.days lists no day"),
    ({"days": ["saturday"]}, "never a school day"),
    ({"days": ["mondey"]}, 'capacity.days has "mondey"'),
    ({"away": [{"from": date(2026, 2, 13), "to": date(2026, 2, 9)}]}, "capacity.away entry 1 ends"),
    ({"away": [{"from": date(2026, 2, 13)}]}, "capacity.away entry 1 must have"),
    ({"earliest": "next week"}, "capacity.earliest"),
    ({"hours": {"papers": -1}}, "capacity.hours.papers is -1"),
    ({"hours": {"lunch": 1}}, "capacity.hours.lunch is not a setting"),
    ({"hours": {s: 0 for s in ("requests", "invitations", "papers", "meeting", "report")}}, "are all 0"),
    ({"hours": {"year9_transfer_factor": 0.5}}, "year9_transfer_factor is 0.5"),
    ({"time_limit_seconds": 0}, "capacity.time_limit_seconds"),
    ({"weekly_hour": 6}, "capacity.weekly_hour is not a setting"),
]


@pytest.mark.parametrize(("raw", "names"), BAD)
def test_impossible_settings_name_the_key(raw: dict, names: str) -> None:
    with pytest.raises(CapacitySettingsError) as err:
        capacity_from_mapping(raw)
    message = str(err.value)
    assert names in message
    assert message.count(". ") <= 1
    assert "\n" not in message


def test_away_all_year_names_the_key() -> None:
    cal = calendar_for(None)
    s = capacity_from_mapping({"away": [{"from": date(2026, 9, 1), "to": date(2027, 9, 30)}]})
    with pytest.raises(CapacitySettingsError, match=r"capacity\.away"):
        check_against_year(s, cal.is_school_day, date(2026, 9, 7))
    check_against_year(capacity_from_mapping({}), cal.is_school_day, date(2026, 9, 7))


def test_earliest_beyond_the_year_names_the_key() -> None:
    cal = calendar_for(None)
    with pytest.raises(CapacitySettingsError, match=r"capacity\.earliest"):
        check_against_year(capacity_from_mapping({"earliest": date(2028, 1, 1)}), cal.is_school_day, date(2026, 9, 7))
