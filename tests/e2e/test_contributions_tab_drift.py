"""Two bugs that came from copies drifting apart (issue 11), reproduced black-box: `python main.py sweep`, the confirm
page through functions-framework's app, and `python main.py records`.

(a) A Contributions tab named "contributions" (lower case): Excel and Sheets treat it as the same name, so the sweep
    found it and emailed links, but the confirm page and the reports looked for "Contributions" exactly: the links
    404'd and the records showed no contributions.
(b) "AR outstanding" was built in four places: with KEEPER_MAIL=none it listed a row asked for an earlier review
    (history, not awaited) that the mail-on sweep leaves out. Same register, same day: the same text both ways.
"""

from __future__ import annotations

import email
import re
import shutil
from datetime import date, timedelta
from email import policy
from pathlib import Path

import docx
import openpyxl
import pytest

from functions.sweep import london_today
from tests.e2e.cloud_fixtures import app_client
from tests.e2e.conftest import run_main

SECRET = "drift-test-secret-0b5e8c1d2a3f4e5d"
UPN = "B801200005001"
TEACHER = "teacher@school.example.org"
EP = "ep@la.example.org"
REGISTER_HEADERS = ["Name", "UPN", "DOB", "EHCP issued", "Last review", "LA decision date", "Next review meeting"]
CONTRIB_HEADERS = ["Pupil", "Role", "Name", "Email", "Requested", "Received", "Chasers", "Last chased", "Notes"]


def make_register(folder: Path, *, tab: str, last_review: date, contributions: list[list[object]]) -> Path:
    """One Year 5 pupil (no phase transfer, no Year 9+ rules) and a Contributions tab called `tab`."""
    folder.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.append(REGISTER_HEADERS)
    dob = date(last_review.year - 9, 3, 4)
    ws.append(["Ann Example", UPN, dob, date(2020, 1, 1), last_review, last_review + timedelta(days=20), None])
    sheet = wb.create_sheet(tab)
    sheet.append(CONTRIB_HEADERS)
    for row in contributions:
        sheet.append(row)
    path = folder / "register.xlsx"
    wb.save(path)
    (folder / "keeper.toml").write_text(
        'school_name = "Oakfield Primary"\nsendco_name = "Sam Taylor"\n[digest]\nday = "never"\n', encoding="utf-8"
    )
    return path


def ar_outstanding(path: Path) -> str | None:
    ws = openpyxl.load_workbook(path)["Register"]
    headers = [c.value for c in ws[1]]
    return ws.cell(row=2, column=headers.index("AR outstanding") + 1).value


def sweep(path: Path, today: date, **env: str) -> None:
    proc = run_main("sweep", str(path), "--today", today.isoformat(), "--json", env=env)
    assert proc.returncode == 0, proc.stderr


def record_text(path: Path, out: Path) -> str:
    proc = run_main("records", str(path), "--out", str(out), "--pupil", "2")
    assert proc.returncode == 0, proc.stderr
    (made,) = sorted(out.glob("*.docx"))
    document = docx.Document(str(made))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([*(p.text for p in document.paragraphs), *cells])


def test_a_lower_case_contributions_tab_works_in_the_sweep_the_link_page_and_the_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The confirm page checks links against the real clock, so the register is dated from today: the review's
    # 12 months end about five weeks from now, so advice is asked for now.
    today = london_today()
    path = make_register(
        tmp_path / "school",
        tab="contributions",
        last_review=today - timedelta(days=330),
        contributions=[
            [UPN, "Class teacher", "Jo Patel", TEACHER, None, None, None, None, None],
            ["Ann Example", "EP", "Dr Sam Okafor", EP, None, None, None, None, None],
        ],
    )
    sweep(path, today, KEEPER_LINK_SECRET=SECRET, KEEPER_BASE_URL="http://localhost")

    # The sweep found the tab, wrote into it, and made no second one.
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Register", "contributions"]
    requested = [r[4] for r in wb["contributions"].iter_rows(min_row=2, values_only=True)]
    assert [d.date() for d in requested] == [today, today]
    assert ar_outstanding(path) == "Class teacher, EP"

    # The teacher's emailed link opens the page and records Received on that tab.
    (message,) = [
        m
        for m in (
            email.message_from_binary_file(p.open("rb"), policy=policy.default)
            for p in sorted((path.parent / "outbox").glob("*.eml"))
        )
        if str(m["To"]) == TEACHER
    ]
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    token = re.search(r"/confirm\?t=([A-Za-z0-9_.\-]+)", body).group(1)  # type: ignore[union-attr]
    monkeypatch.delenv("KEEPER_CONFIG", raising=False)
    monkeypatch.delenv("KEEPER_SCHOOL_ID", raising=False)
    monkeypatch.setenv("KEEPER_REGISTER", str(path))
    monkeypatch.setenv("KEEPER_LINK_SECRET", SECRET)
    monkeypatch.setenv("KEEPER_MAIL", "none")
    monkeypatch.chdir(path.parent)
    client = app_client("confirm")
    shown = client.get(f"/confirm?t={token}")
    assert shown.status_code == 200, shown.get_data(as_text=True)
    assert "Class teacher" in shown.get_data(as_text=True)
    assert client.post("/confirm", data={"t": token}).status_code == 200
    received = [r[5] for r in openpyxl.load_workbook(path)["contributions"].iter_rows(min_row=2, values_only=True)]
    assert received[0].date() == today
    assert received[1] is None

    # The review record lists both contributions from the same tab: one received, one awaited.
    text = record_text(path, tmp_path / "records")
    assert "Received: 1. Outstanding: 1." in text
    assert "Dr Sam Okafor" in text


def test_ar_outstanding_is_the_same_with_mail_on_and_mail_off(tmp_path: Path) -> None:
    # Sat 4 Oct 2025: no chasers at a weekend and every row already asked for, so the mail-on sweep sends nothing
    # that could change the answer. The class teacher's row was asked for before the last review (24/11/2024): it
    # belongs to the earlier review and is not awaited now.
    today = date(2025, 10, 4)
    rows: list[list[object]] = [
        [UPN, "Class teacher", "Jo Patel", TEACHER, date(2024, 10, 1), None, None, None, None],
        ["Ann Example", "EP", "Dr Sam Okafor", EP, date(2025, 9, 8), None, 3, date(2025, 9, 29), None],
        [UPN, "SALT", "Priya Shah", "salt@nhs.example.org", date(2025, 9, 8), date(2025, 9, 20), None, None, None],
    ]
    mail_off = make_register(tmp_path / "off", tab="Contributions", last_review=date(2024, 11, 24), contributions=rows)
    mail_on = tmp_path / "on" / "register.xlsx"
    shutil.copytree(mail_off.parent, mail_on.parent)

    sweep(mail_off, today, KEEPER_MAIL="none")
    sweep(mail_on, today, KEEPER_MAIL="outbox")

    assert ar_outstanding(mail_off) == ar_outstanding(mail_on) == "EP (3 chasers)"
    # ...and the record's count of awaited advice agrees with the cell.
    assert "Outstanding: 1." in record_text(mail_off, tmp_path / "records")
