"""What a new SENDCo meets first (issue 9 items 6, 7 and 9), run as they run it: `main.py` in a child process on real
openpyxl files, a real lock file beside the register, the confirmation page through `serve`'s own WSGI app."""

from __future__ import annotations

import email
import re
import sys
from datetime import date
from email import policy
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook

from functions.evaluate import london_today
from scripts.make_demo import write_demo_register
from sheet_schema.ar_columns import AR_OUTSTANDING
from tests.e2e.conftest import ANCHOR_ENV, ROOT, run_main

TODAY = "2025-10-01"
UNSAVED = "edits not yet saved are not seen"
LOCKS = ("~$register.xlsx", ".~lock.register.xlsx#")  # Excel's owner file, LibreOffice's lock
SECRET = "a-long-random-test-secret-for-first-look"


@pytest.fixture
def register(tmp_path: Path) -> Path:
    return write_demo_register(tmp_path / "school" / "register.xlsx", today=date.fromisoformat(TODAY))


@pytest.fixture
def live(tmp_path: Path) -> Path:
    """The demo for today, swept for today: the confirmation page checks a link's expiry against today in London."""
    path = write_demo_register(tmp_path / "live" / "register.xlsx", today=london_today())
    swept = run_main("sweep", str(path), env={"KEEPER_LINK_SECRET": SECRET, "KEEPER_BASE_URL": "http://localhost:8080"})
    assert swept.returncode == 0, swept.stderr
    return path


# ---- item 6: reading while the workbook is open in Excel or LibreOffice ----


@pytest.mark.parametrize("lock", LOCKS)
def test_commands_that_only_read_work_while_the_workbook_is_open(register: Path, tmp_path: Path, lock: str) -> None:
    (register.parent / lock).write_text("Sam Taylor,PC-SENCO", encoding="utf-8")
    before = register.read_bytes()
    out = tmp_path / "out"
    runs = {
        "sweep --dry-run": run_main("sweep", str(register), "--today", TODAY, "--dry-run"),
        "records": run_main("records", str(register), "--today", TODAY, "--out", str(out / "records")),
        "report": run_main("report", str(register), "--today", TODAY, "--out", str(out / "report.xlsx")),
        "calendar": run_main("calendar", str(register), "--today", TODAY, "--out", str(out / "reviews.ics")),
    }
    for name, proc in runs.items():
        assert proc.returncode == 0, (name, proc.stderr)
        assert proc.stderr.count(UNSAVED) == 1, (name, proc.stderr)  # said once, on standard error
    assert "OVERDUE" in runs["sweep --dry-run"].stdout
    assert list((out / "records").glob("*.docx"))
    assert (out / "report.xlsx").is_file()
    assert (out / "reviews.ics").is_file()

    # Only the write refuses, before anything is sent: no outbox, no backup, the workbook unchanged.
    written = run_main("sweep", str(register), "--today", TODAY)
    assert written.returncode == 2
    assert "is open in Excel (or LibreOffice)" in written.stderr
    assert "close it" in written.stderr
    assert register.read_bytes() == before
    assert not (register.parent / "outbox").exists()
    assert not (register.parent / ".keeper-backups").exists()


def test_the_confirmation_page_shows_while_open_and_its_write_refuses(live: Path) -> None:
    from dataclasses import replace

    from werkzeug.test import Client

    import main
    from functions import bootstrap

    register = live
    token = _token(register.parent / "outbox")
    (register.parent / LOCKS[0]).write_text("someone", encoding="utf-8")
    before = register.read_bytes()
    dep = bootstrap.deployment({"KEEPER_LINK_SECRET": SECRET}, register=str(register))
    client = Client(main.serve_app(main._confirmations(replace(dep, read_while_open=True))))
    shown = client.get(f"/confirm?t={token}")
    assert shown.status_code == 200
    assert "I've sent it another way" in shown.get_data(as_text=True)  # the role's form (issue 12)
    done = client.post("/confirm", data={"t": token})
    assert done.status_code == 503  # "try again later": nothing is written while the SENDCo has it open
    assert register.read_bytes() == before


# ---- item 7: --today typos, and where the documents go ----


@pytest.mark.parametrize("typo", ["2052-10-01", "1999-12-31", "2026-10-03", "2024-09-29", "2100-01-01"])
def test_today_far_from_today_is_a_typo(register: Path, typo: str) -> None:
    for command in ("sweep", "report"):
        proc = run_main(command, str(register), "--today", typo, env={ANCHOR_ENV: TODAY})
        assert proc.returncode == 2, proc.stdout
        assert proc.stdout == ""
        (line,) = proc.stderr.strip().splitlines()
        assert f"--today {typo} is more than a year from today (01/10/2025)" in line
        assert "typo" in line


def test_today_within_a_year_is_accepted(register: Path) -> None:
    for within in ("2026-09-30", "2024-10-02"):
        assert run_main("sweep", str(register), "--today", within, "--dry-run", env={ANCHOR_ENV: TODAY}).returncode == 0


def test_documents_go_beside_the_register_by_default(register: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in ("records", "report", "calendar"):
        proc = run_main(command, str(register), "--today", TODAY, cwd=elsewhere)
        assert proc.returncode == 0, proc.stderr
    assert list(elsewhere.iterdir()) == []  # nothing in the folder the command was run from
    school = register.parent
    assert len(list((school / "records").glob("*.docx"))) > 10
    assert (school / "report.xlsx").is_file()
    assert (school / "reviews.ics").is_file()
    # An explicit --out is still relative to where the SENDCo typed it.
    proc = run_main("report", str(register), "--today", TODAY, "--out", "mine.xlsx", cwd=elsewhere)
    assert proc.returncode == 0
    assert (elsewhere / "mine.xlsx").is_file()


# ---- item 9: the smaller defects ----


def test_the_demo_hint_and_readme_name_the_venv_python(tmp_path: Path) -> None:
    proc = run_main("demo", "--out", "demo/register.xlsx", "--today", TODAY, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    hint = next(line for line in proc.stdout.splitlines() if "main.py serve" in line)
    assert f" {sys.executable} main.py serve " in hint  # the interpreter that has the packages
    assert " python main.py" not in hint
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = readme.split("## Commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line for line in commands.splitlines() if line.strip()]
    assert lines
    assert all(line.startswith(".venv/bin/python main.py ") for line in lines)
    assert (tmp_path / ".venv" / "bin" / "python").exists() is False  # the hint never names a python that isn't there


def test_one_row_with_warnings_is_said_in_the_singular(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Pupil name", "UPN", "D.O.B.", "Year", "EHCP issued", "Last annual review", "Parent email"])
    ws.append(["Ava Jones", None, date(2015, 3, 4), 6, date(2020, 1, 10), date(2025, 3, 4), "parent@example"])
    ws.append(["Ben Smith", None, date(2014, 5, 6), 7, date(2019, 6, 1), date(2025, 2, 1), None])
    path = tmp_path / "register.xlsx"
    wb.save(path)
    proc = run_main("sweep", str(path), "--today", TODAY, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "1 other row has warnings: see the AR issues column." in proc.stdout


def test_a_confirmation_updates_ar_outstanding_in_the_same_write(live: Path) -> None:
    from werkzeug.test import Client

    import main
    from functions import bootstrap

    register = live
    outbox = register.parent / "outbox"
    eml = next(p for p in sorted(outbox.glob("*.eml")) if "/confirm?t=" in _body(p) and "contribution" in _subject(p))
    token = _token_in(eml)
    before = _outstanding(register)
    backups = register.parent / ".keeper-backups"
    saves = len(list(backups.iterdir()))
    dep = bootstrap.deployment({"KEEPER_LINK_SECRET": SECRET}, register=str(register))
    client = Client(main.serve_app(main._confirmations(dep)))
    done = client.post("/confirm", data={"t": token})
    assert done.status_code == 200
    assert "Thank you" in done.get_data(as_text=True)
    after = _outstanding(register)
    changed = {row: (before[row], after[row]) for row in before if before[row] != after[row]}
    assert len(changed) == 1, changed  # the link's own pupil, and only theirs
    ((old, new),) = changed.values()
    assert len(new or "") < len(old or "")  # that contributor is no longer awaited
    assert len(list(backups.iterdir())) == saves + 1  # one save: Received and AR outstanding together


def test_records_for_a_broken_row_of_an_unswept_register_names_the_problem(register: Path, tmp_path: Path) -> None:
    ws = openpyxl.load_workbook(register)["EHCP register"]
    assert not any(str(c.value or "").startswith("AR ") for c in ws[4])  # never swept: no AR columns
    dry = run_main("sweep", str(register), "--today", TODAY, "--dry-run", "--json")
    invalid = next(p for p in __import__("json").loads(dry.stdout)["pupils"] if p["status"] == "INVALID")
    proc = run_main("records", str(register), "--today", TODAY, "--out", str(tmp_path), "--pupil", str(invalid["row"]))
    assert proc.returncode == 2
    assert "AR issues" not in proc.stderr  # no such column to look at yet
    assert f"row {invalid['row']} has problems to fix before a record can be made:" in proc.stderr
    assert invalid["errors"][0].split(": ", 1)[1][:30] in proc.stderr  # the problem itself


# ---- helpers ----


def _message(eml: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(eml.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def _body(eml: Path) -> str:
    body = _message(eml).get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def _subject(eml: Path) -> str:
    return str(_message(eml)["Subject"])


def _token_in(eml: Path) -> str:
    match = re.search(r"/confirm\?t=(\S+)", _body(eml))
    assert match, eml.name
    return match.group(1)


def _token(outbox: Path) -> str:
    return _token_in(next(p for p in sorted(outbox.glob("*.eml")) if "/confirm?t=" in _body(p)))


def _outstanding(register: Path) -> dict[int, str | None]:
    ws = openpyxl.load_workbook(register)["EHCP register"]
    header = [c.value for c in ws[4]]
    column = header.index(AR_OUTSTANDING) + 1
    return {r: ws.cell(row=r, column=column).value for r in range(5, ws.max_row + 1)}


def test_serve_names_the_school_and_logs_each_line_once(live: Path) -> None:
    """Also item 6 through `serve` itself: with the workbook open in Excel, a link's page still shows."""
    import os
    import subprocess
    import urllib.error
    import urllib.request

    register, tmp_path = live, live.parent
    (tmp_path / "keeper.toml").write_text('school_name = "Oakfield Academy"\n', encoding="utf-8")
    token = _token(tmp_path / "outbox")
    (tmp_path / LOCKS[1]).write_text("someone", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPER_")}
    env.update({"KEEPER_LINK_SECRET": SECRET, "PYTHONUNBUFFERED": "1"})
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "serve", str(register), "--port", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert server.stderr is not None
        startup = server.stdout.readline()  # "... on http://127.0.0.1:PORT/confirm?t=..." (port 0: the system's pick)
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", startup)
        assert found, f"serve did not say where it listens: {startup!r}"
        port = int(found.group(1))
        with pytest.raises(urllib.error.HTTPError, match="400"):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/confirm?t=not-a-token", timeout=10)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/confirm?t={token}", timeout=30) as shown:
            assert "I've sent it another way" in shown.read().decode("utf-8")  # the role's form (issue 12)
    finally:
        server.terminate()
        _, err_rest = server.communicate(timeout=10)
    assert "Oakfield Academy" in startup
    assert err_rest.count("confirm show: broken") <= 1
    assert err_rest.count("GET 400") + err_rest.count("GET 200") == 2  # two requests, each logged once
    assert token not in err_rest  # a signed link is a credential: never in the log (issue 10)
    assert err_rest.count(UNSAVED) == 1  # said once for the open workbook
    assert '{"severity"' not in err_rest  # no second, JSON copy of each line on a computer's console
