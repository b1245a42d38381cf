"""keeper.toml and KEEPER_* settings: defaults are the spec's, a bad setting is one sentence naming it and the fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from functions.bootstrap import apply_environment, deployment, load_settings, runtime
from functions.settings import (
    Settings,
    SettingsError,
    closures_from_terms,
    closures_with_defaults,
    settings_from_mapping,
)
from review_rules.model import Anchor, Period


def test_defaults_are_the_specs() -> None:
    s = Settings()
    assert s.rules.anchor is Anchor.DECISION
    assert s.rules.period is Period.TWELVE_MONTHS
    assert s.rules.transfer_after_years == (6, 11)
    assert s.rules.phase_deadline_inclusive is False
    assert s.rules.closures is None  # the default closures every year (docs/rules.md s2)


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


# Every [mail], [chasers], [digest] and [links] value and every KEEPER_* variable is checked when the settings load:
# (keeper.toml text, environment, what the one sentence must say).
BAD_ON_LOAD = [
    ('[mail]\ndeadline = "soon"\n', {}, 'keeper.toml [mail] deadline is "soon"; give the seconds the email step'),
    ("", {"KEEPER_MAIL_DEADLINE": "inf"}, 'KEEPER_MAIL_DEADLINE is "inf"'),
    ("[mail]\ntimeout = 0\n", {}, 'keeper.toml [mail] timeout is "0"'),
    ('[mail]\ntransport = "pigeon"\n', {}, 'keeper.toml [mail] transport is "pigeon"; use outbox (the default)'),
    ("", {"KEEPER_MAIL": "pigeon"}, 'KEEPER_MAIL is "pigeon"'),
    ('[mail]\nsmtp_port = "x"\n', {}, 'keeper.toml [mail] smtp_port is "x"; use a number such as 587'),
    ("", {"KEEPER_SMTP_PORT": "70000"}, 'KEEPER_SMTP_PORT is "70000"'),
    ("", {"KEEPER_SMTP_SECURITY": "ssl"}, 'KEEPER_SMTP_SECURITY is "ssl"; use starttls, tls or none'),
    ('[mail]\nsendgrid_sandbox = "maybe"\n', {}, 'keeper.toml [mail] sendgrid_sandbox is "maybe"; use true or false'),
    ('[mail]\nsmtp_hots = "x"\n', {}, "mail.smtp_hots is not a setting"),
    ("[chasers]\nevery_days = 0\n", {}, "chasers.every_days must be a whole number of days"),
    ("[chasers]\nmax = true\n", {}, "chasers.max must be a whole number"),
    ('[digest]\nday = "someday"\n', {}, 'digest.day is "someday"'),
    ('[digest]\nattach_records = "yes"\n', {}, "digest.attach_records must be true or false"),
    ('[links]\nbase_url = "https://x.example"\n', {}, "links.base_url is not a setting"),
    ('school_name = "Oak\\nBcc: all@example.org"\n', {}, "school_name has a line break"),
    ("", {"KEEPER_SENDCO_NAME": "Ms\rPatel"}, "KEEPER_SENDCO_NAME has a line break"),
    ("", {"KEEPER_MAIL_FROM": "a@b.example\nBcc: c@d.example"}, "KEEPER_MAIL_FROM has a line break"),
]


@pytest.mark.parametrize(("text", "env", "fragment"), BAD_ON_LOAD)
def test_every_setting_is_checked_on_load(tmp_path: Path, text: str, env: dict[str, str], fragment: str) -> None:
    path = tmp_path / "keeper.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path, None, env=env)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_mail_settings_are_typed_with_the_environment_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keeper.toml"
    path.write_text(
        '[mail]\ntransport = "smtp"\nsmtp_host = "smtp.file.example"\nsmtp_port = 587\nfrom = "a@file.example"\n'
        'deadline = 120\n[chasers]\nevery_days = 5\nmax = 2\n[digest]\nday = "Friday"\nattach_records = false\n',
        encoding="utf-8",
    )
    s = load_settings(path, None, env={"KEEPER_SMTP_HOST": "smtp.env.example", "KEEPER_SMTP_PASSWORD": "hunter2"})
    assert (s.mail.kind, s.mail.smtp_host, s.mail.smtp_port) == ("smtp", "smtp.env.example", 587)
    assert (s.mail.sender, s.mail.deadline, s.mail.smtp_password) == ("a@file.example", 120.0, "hunter2")
    assert "hunter2" not in repr(s)  # secrets never reach a log line through a repr
    assert (s.chasers.every_days, s.chasers.max) == (5, 2)
    assert (s.digest.weekday, s.digest.attach_records) == (4, False)
    defaults = load_settings(None, None, env={})
    assert (defaults.mail.kind, defaults.mail.deadline, defaults.digest.weekday) == ("outbox", 240.0, 0)
    assert load_settings(None, None, env={"KEEPER_MAIL": " None "}).mail.kind == "none"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"KEEPER_BASE_URL": "keeper.example.org"}, 'KEEPER_BASE_URL is "keeper.example.org"'),
        ({"KEEPER_SCHOOL_ID": "Oak Academy"}, 'KEEPER_SCHOOL_ID is "Oak Academy"'),
    ],
)
def test_the_deployment_variables_are_checked_on_load(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        runtime(env)


def test_serve_names_its_register_without_touching_the_process_environment(tmp_path: Path) -> None:
    import os

    register = tmp_path / "register.xlsx"
    (tmp_path / "keeper.toml").write_text('school_name = "Oakfield"\n', encoding="utf-8")
    before = dict(os.environ)
    dep = deployment({"KEEPER_LINK_SECRET": "s", "KEEPER_STATE_DIR": "/state"}, register=str(register))
    assert dict(os.environ) == before
    (school,) = dep.schools.values()
    assert school.register == str(register.resolve())
    assert school.settings.school_name == "Oakfield"  # keeper.toml beside the register
    assert dep.runtime.state_dir == Path("/state")
