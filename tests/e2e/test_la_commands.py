"""`main.py las` and `main.py submit` on a workbook written by openpyxl (issue 14 items 1 and 3)."""

from __future__ import annotations

import os
from datetime import date
from email import policy
from email.parser import BytesParser
from pathlib import Path

import openpyxl
import pytest

import main
from functions.la_record import RecordSigner, kept_copy
from tests.e2e.test_la_clock import CONFIG, KENT, SENDCO, _write_register

SECRET = "test-secret-0123456789abcdef"


@pytest.fixture
def school(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("KEEPER_") and name != "KEEPER_TODAY_ANCHOR":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KEEPER_LINK_SECRET", SECRET)
    monkeypatch.setenv("KEEPER_BASE_URL", "https://keeper.example.org")
    (tmp_path / "keeper.toml").write_text(CONFIG + '[las."Hampshire"]\nemail = "sen@hants.example"\n', "utf-8")
    register = tmp_path / "register.xlsx"
    _write_register(register)
    return register


def test_las_lists_counts_profiles_and_warnings(school: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["las", str(school), "--today", "2025-10-06"]) == 0
    out = capsys.readouterr().out
    # One line per LA, its aliases together (as the LA figures count them): Kent is Amy, Fay, Gus, Hal and Ben (KCC).
    assert out.startswith("3 LAs in the register:\n")
    assert '  Kent: 5 pupils (written "Kent" 4, "KCC" 1); email sen@kent.example, chasers on, submit by email\n' in out
    assert '  Surrey: 2 pupils (written "Surrey CC" 1, "Surrey" 1); email sen@surrey.example, chasers on' in out
    assert "  Medway: 1 pupil; email sen@medway.example, chasers off\n" in out
    assert "KCC: " not in out
    assert 'las."Hampshire" matches no pupil in the register' in out
    assert "Amy" not in out  # counts, never names


def test_unknown_la_name_warns_listing_the_known_ones(school: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wb = openpyxl.load_workbook(school)
    wb["Register"].cell(2, 11, "Swale")
    wb.save(school)
    assert main.main(["las", str(school), "--today", "2025-10-06"]) == 0
    out = capsys.readouterr().out
    assert (
        'The LA "Swale" in the register has no profile in keeper.toml (known: Kent, Medway, Surrey, Hampshire)' in out
    )


def test_bad_profile_stops_with_exit_2(school: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = school.parent / "keeper.toml"
    config.write_text(config.read_text("utf-8") + '[las."Kent CC"]\naliases = ["KCC"]\n', "utf-8")
    assert main.main(["las", str(school)]) == 2
    err = capsys.readouterr().err
    assert 'las."Kent CC" claims "KCC", which las."Kent" already claims' in err


def test_submit_emails_a_signed_link_and_never_writes_the_sendcos_column(
    school: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Dry run first: says what would go, sends nothing.
    assert main.main(["submit", str(school), "--pupil", "2", "--today", "2025-09-22"]) == 0
    assert "add --send" in capsys.readouterr().out
    outbox = school.parent / "outbox"
    assert not list(outbox.glob("*.eml")) if outbox.exists() else True

    assert main.main(["submit", str(school), "--pupil", "2", "--today", "2025-09-22", "--send"]) == 0
    out = capsys.readouterr().out
    # Amy's "Report sent" already shows 20/09/2025 (typed by the SENDCo): never a suggestion to overwrite it.
    assert 'Your "Report sent" column already shows 20/09/2025 for row 2; leave it' in out
    assert "Type 22/09/2025" not in out
    (eml,) = list(outbox.glob("*.eml"))
    message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert str(message["To"]) == KENT
    assert str(message["Cc"]) == SENDCO
    assert not [p for p in message.iter_attachments()]  # a link, never an attachment
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = next(line for line in body.splitlines() if line.startswith("https://keeper.example.org/record?t="))
    claim = RecordSigner(SECRET, "https://keeper.example.org").verify(link.split("?t=", 1)[1], today=date(2025, 9, 22))
    assert claim.part == "record"
    # The link works until the final amended plan's latest date: meeting 15 Sep + 84 days (reg 22(3)).
    assert claim.expires == date(2025, 12, 8)
    assert (
        f"{link}\n\nThe link is a secure download for your team; it works until Mon 8 Dec 2025. Under regulation "
        "20(10) of the SEND Regulations 2014 the local authority's decision is due by Mon 13 Oct 2025." in body
    )
    kept = kept_copy(school.parent, claim.record, "record")
    assert kept.read_bytes()[:2] == b"PK"  # the Word record, kept for the link
    assert "Amy" not in str(kept)
    assert "LA-001" not in str(kept)
    # No papers pack was circulated for this meeting: one link only.
    assert "/record?t=" in body
    assert body.count("https://keeper.example.org/") == 1
    assert "A. A." in str(message["Subject"])
    assert "LA-001" in body

    wb = openpyxl.load_workbook(school)
    assert wb["Register"].cell(2, 6).value.date() == date(2025, 9, 20)  # the SENDCo's Report sent: as typed
    tab = [r for r in wb["LA chasers"].iter_rows(min_row=2, values_only=True) if any(r)]
    assert [(r[1], r[3], r[6]) for r in tab] == [("Kent", "Review record sent (submit)", KENT)]

    # Again: nothing twice.
    assert main.main(["submit", str(school), "--pupil", "2", "--today", "2025-09-23", "--send"]) == 0
    assert "already went to Kent on 22/09/2025" in capsys.readouterr().out
    assert len(list(outbox.glob("*.eml"))) == 1


def test_submit_where_the_la_takes_a_portal(school: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["submit", str(school), "--pupil", "6", "--today", "2025-10-20", "--send"]) == 0
    assert (
        "Surrey takes the review record through its portal (https://portal.surrey.example)" in capsys.readouterr().out
    )


def test_las_without_any_profile_says_how_to_add_one(school: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (school.parent / "keeper.toml").write_text('school_name = "Oak School"\n', "utf-8")
    assert main.main(["las", str(school), "--today", "2025-10-06"]) == 0
    out = capsys.readouterr().out
    assert "  Kent: 4 pupils; no profile in keeper.toml\n" in out  # without a profile "KCC" is its own LA
    assert "  KCC: 1 pupil; no profile in keeper.toml\n" in out
    assert 'No LA has a profile in keeper.toml yet: add one for each, e.g. [las."Kent"] with its email' in out
