"""load_schools: a trust's [[schools]] with shared defaults, one school from the environment, and secrets refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from functions.bootstrap import load_schools, load_settings
from functions.settings import SettingsError

TRUST = """
school_name = "ignored for schools"
terms = [{ from = 2025-09-03, to = 2025-10-24 }, { from = 2025-11-03, to = 2025-12-19 }]
[mail]
transport = "sendgrid"
from = "keeper@trust.example.org"
[rules]
transfer_after_years = [6, 11]

[[schools]]
id = "oak"
name = "Oakfield Academy"
register = "registers/oak.xlsx"
sendco_name = "Ms Patel"
sendco_email = "senco@oak.example.org"

[[schools]]
id = "elm-primary"
name = "Elm Primary"
register = "https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg/edit"
closures = [{ from = 2025-10-27, to = 2025-10-31 }]
[schools.rules]
transfer_after_years = [6]
[schools.mail]
from = "senco@elm.example.org"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keeper.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_trust_lists_its_schools_with_shared_defaults(tmp_path: Path) -> None:
    schools = load_schools(write(tmp_path, TRUST), env={})
    assert list(schools) == ["oak", "elm-primary"]
    oak, elm = schools["oak"], schools["elm-primary"]
    assert oak.settings.school_name == "Oakfield Academy"
    assert oak.settings.sendco_email == "senco@oak.example.org"
    assert oak.register == str(tmp_path / "registers" / "oak.xlsx")
    assert not oak.register_is_sheet
    assert elm.register.startswith("https://docs.google.com/")
    assert elm.register_is_sheet
    assert oak.settings.rules.transfer_after_years == (6, 11)
    assert elm.settings.rules.transfer_after_years == (6,)
    assert oak.settings.extra["mail"] == {"transport": "sendgrid", "from": "keeper@trust.example.org"}
    assert elm.settings.extra["mail"] == {"transport": "sendgrid", "from": "senco@elm.example.org"}
    # Oak keeps the trust's term dates (half term 25-31 Oct 2025 is a closure); Elm's own closures replace them.
    oak_closures = oak.settings.rules.closures or ()
    elm_closures = elm.settings.rules.closures or ()
    assert (date(2025, 10, 25), date(2025, 11, 2)) in oak_closures
    assert (date(2025, 10, 27), date(2025, 10, 31)) in elm_closures
    assert (date(2025, 10, 25), date(2025, 11, 2)) not in elm_closures


def test_the_config_file_comes_from_keeper_config(tmp_path: Path) -> None:
    path = write(tmp_path, TRUST)
    assert list(load_schools(env={"KEEPER_CONFIG": str(path)})) == ["oak", "elm-primary"]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ('[[schools]]\nid = "Oak Academy"\nregister = "a.xlsx"\n', "lower-case letters"),
        ('[[schools]]\nid = "oak"\nregister = "a.xlsx"\n[[schools]]\nid = "oak"\nregister = "b.xlsx"\n', "used twice"),
        ('[[schools]]\nid = "oak"\n', "register must be"),
        ('[[schools]]\nid = "oak"\nregister = "a.xlsx"\ncolour = "red"\n', '"colour" is not a setting'),
        ('[[schools]]\nid = "oak"\nregister = "a.xlsx"\n[schools.mail]\nsmtp_password = "hunter2"\n', "secret"),
        ('[mail]\nsendgrid_api_key = "SG.x"\n[[schools]]\nid = "oak"\nregister = "a.xlsx"\n', "secret"),
        ("schools = 3\n", "[[schools]]"),
    ],
    ids=["bad-id", "duplicate-id", "no-register", "unknown-key", "school-secret", "trust-secret", "not-a-list"],
)
def test_bad_school_settings_say_what_to_fix(tmp_path: Path, text: str, phrase: str) -> None:
    with pytest.raises(SettingsError, match=None) as err:
        load_schools(write(tmp_path, text), env={})
    assert phrase in str(err.value)
    assert "hunter2" not in str(err.value)
    assert "SG.x" not in str(err.value)


def test_one_school_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register = tmp_path / "register.xlsx"
    (tmp_path / "keeper.toml").write_text('school_name = "Oakfield"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path / "..")
    schools = load_schools(env={"KEEPER_REGISTER": str(register), "KEEPER_SENDCO_NAME": "Ms Patel"})
    (school,) = schools.values()
    assert school.id == "school"
    assert school.register == str(register)
    assert school.settings.school_name == "Oakfield"  # keeper.toml beside the register
    assert school.settings.sendco_name == "Ms Patel"  # the environment wins, as in load_settings
    env = {"KEEPER_REGISTER": str(register), "KEEPER_SCHOOL_ID": "oak"}
    assert list(load_schools(env=env)) == ["oak"]


def test_no_register_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="No register"):
        load_schools(env={})


def test_load_settings_is_unchanged_by_a_schools_table(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, TRUST), env={})
    assert settings.school_name == "ignored for schools"
    assert isinstance(settings.extra["schools"], list)
