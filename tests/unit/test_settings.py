"""keeper.toml and KEEPER_* settings: defaults are the spec's, a bad setting is one sentence naming it and the fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from functions.settings import (
    Settings,
    SettingsError,
    apply_environment,
    closures_from_terms,
    closures_with_defaults,
    load_settings,
    settings_from_mapping,
)
from review_rules.model import Anchor, Period


def test_defaults_are_the_specs() -> None:
    s = Settings()
    assert s.rules.anchor is Anchor.DECISION
    assert s.rules.period is Period.TWELVE_MONTHS
    assert s.rules.transfer_after_years == (6, 11)
    assert s.rules.phase_deadline_inclusive is False
    assert s.rules.closures is None  # the default closures every year (review-rules.md s2)


def test_a_full_file(tmp_path: Path) -> None:
    (tmp_path / "keeper.toml").write_text(
        """
school_name = "Oakfield Academy"
sendco_name = "Ms A Patel"
register_sheet = "EHCP register"
[rules]
anchor = "meeting"
period = "anniversary"
transfer_after_years = [11, -1, 2, 6]
phase_deadline_inclusive = true
[headers]
"Child's full name" = "name"
""",
        encoding="utf-8",
    )
    s = load_settings(None, tmp_path / "register.xlsx", env={})
    assert s.school_name == "Oakfield Academy"
    assert s.register_sheet == "EHCP register"
    assert s.rules.anchor is Anchor.MEETING
    assert s.rules.period is Period.ANNIVERSARY
    assert s.rules.transfer_after_years == (-1, 2, 6, 11)
    assert s.rules.phase_deadline_inclusive is True
    assert s.headers == {"Child's full name": "name"}


# Term dates 2025/26 of a made-up school: the gaps between terms become closures.
TERMS = [
    (date(2025, 9, 3), date(2025, 10, 24)),
    (date(2025, 11, 3), date(2025, 12, 19)),
    (date(2026, 1, 5), date(2026, 2, 13)),
]


def test_terms_become_closures_between_them() -> None:
    assert closures_from_terms(TERMS) == [
        (date(2025, 10, 25), date(2025, 11, 2)),
        (date(2025, 12, 20), date(2026, 1, 4)),
    ]


def test_configured_years_replace_defaults_and_other_years_keep_them() -> None:
    closures = closures_with_defaults([(date(2025, 12, 20), date(2026, 1, 4))])
    # 2025/26 is configured: its default Christmas closure (21 Dec-3 Jan) is not added.
    assert (date(2025, 12, 21), date(2026, 1, 3)) not in closures
    assert (date(2025, 12, 20), date(2026, 1, 4)) in closures
    # 2026/27 is not: it keeps the spec's defaults.
    assert (date(2026, 12, 21), date(2027, 1, 3)) in closures
    assert (date(2027, 7, 21), date(2027, 8, 31)) in closures


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[rules]\nanchor = "meting"\n', 'rules.anchor is "meting"; use "decision" (the default) or "meeting".'),
        ('[rules]\nperiod = "year"\n', 'rules.period is "year"'),
        ("[rules]\ntransfer_after_years = 6\n", "rules.transfer_after_years must be a list"),
        ("[rules]\ntransfer_after_years = [6, 20]\n", "rules.transfer_after_years has 20"),
        ('[rules]\nphase_deadline_inclusive = "yes"\n', "must be true or false"),
        ("[rules]\nanchr = 1\n", "rules.anchr is not a setting"),
        ('colour = "red"\n', '"colour" is not a setting'),
        ('[headers]\n"Kid" = "nam"\n', 'headers."Kid" is "nam", which is not a field'),
        (
            "closures = [{ from = 2025-12-20, to = 2025-12-01 }]\n",
            "closures entry 1 ends (2025-12-01) before it starts",
        ),
        ('closures = [{ from = "20/12/2025", to = 2026-01-04 }]\n', "which is not a date; write it as YYYY-MM-DD"),
        ("school_name = \n", "not valid TOML"),
    ],
)
def test_a_bad_setting_is_one_clear_sentence(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "keeper.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path, None, env={})
    message = str(caught.value)
    assert fragment in message
    assert message.startswith("keeper.toml: ")
    assert "\n" not in message


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no such settings file"):
        load_settings(tmp_path / "nope.toml", None, env={})


def test_environment_wins_over_the_file() -> None:
    s = settings_from_mapping({"school_name": "File School", "rules": {"anchor": "decision"}})
    s = apply_environment(
        s, {"KEEPER_SCHOOL_NAME": "Env School", "KEEPER_ANCHOR": "meeting", "KEEPER_TRANSFER_AFTER_YEARS": "2,6"}
    )
    assert s.school_name == "Env School"
    assert s.rules.anchor is Anchor.MEETING
    assert s.rules.transfer_after_years == (2, 6)
    with pytest.raises(SettingsError, match="KEEPER_TRANSFER_AFTER_YEARS"):
        apply_environment(Settings(), {"KEEPER_TRANSFER_AFTER_YEARS": "six"})
    with pytest.raises(SettingsError, match=r'rules\.anchor is "x"'):
        apply_environment(Settings(), {"KEEPER_ANCHOR": "x"})
