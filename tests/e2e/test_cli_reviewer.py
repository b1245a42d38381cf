"""What a SENDCo trying the product found, run as they ran it (`python main.py ...` in a child process): the demo's
links work with `main.py serve`, reports never overwrite the register or someone else's file, a mistyped register
name says so, and the sweep summary is readable."""

from __future__ import annotations

import email
import re
from datetime import date
from email import policy
from pathlib import Path

import openpyxl
import pytest

from functions.confirm import ConfirmPage
from functions.evaluate import london_today
from functions.reporting import OutputError, calendar_target, lock_files, overview_target, records_folder
from scripts.make_demo import write_demo_register
from tests.e2e.cloud_fixtures import app_client, contributions
from tests.e2e.conftest import run_main

TODAY = "2025-10-01"
SERVE_LINE = re.compile(
    r"KEEPER_LINK_SECRET=(\S+) \S*python\S* main\.py serve (\S+)\s+and open the link in (\S+\.eml)[,:]"
)


def link_in(eml: Path) -> str:
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = re.search(r"http://\S+/confirm\?t=\S+", body.get_content())
    assert match, eml.name
    return match.group(0)


def test_demo_link_confirms_through_serve_and_fills_received(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The demo as a SENDCo runs it, for today (the confirm page checks the link's expiry against today in London).
    proc = run_main("demo", "--out", "demo/register.xlsx", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    found = SERVE_LINE.search(proc.stdout)
    assert found, proc.stdout[-800:]
    secret, register_text, eml_text = found.groups()
    register, eml = tmp_path / register_text, tmp_path / eml_text
    assert register.is_file()
    assert eml.is_file()
    # The demo's settings are on disk beside it, so `serve` (and every later command) uses the demo school.
    config = (tmp_path / "demo" / "keeper.toml").read_text(encoding="utf-8")
    assert 'sendco_name = "Sam Taylor"' in config

    link = link_in(eml)
    token = link.split("t=", 1)[1]
    before = contributions(register)
    # `main.py serve demo/register.xlsx` hands the bootstrap this register and the keeper.toml beside it; the cloud's
    # confirm target gets the same from these variables (tests/e2e/test_confirm_browser.py runs serve itself).
    for name in ("KEEPER_SCHOOL_ID", "KEEPER_BASE_URL", "KEEPER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEEPER_LINK_SECRET", secret)
    monkeypatch.setenv("KEEPER_REGISTER", str(register.resolve()))
    monkeypatch.setenv("KEEPER_CONFIG", str((tmp_path / "demo" / "keeper.toml").resolve()))
    client = app_client("confirm")
    shown = client.get(f"/confirm?t={token}")
    assert shown.status_code == 200, shown.get_data(as_text=True)
    page = shown.get_data(as_text=True)
    assert "Send to the school" in page  # the role's form
    assert "I've sent it another way" in page
    assert "Sam Taylor" in page
    done = client.post("/confirm", data={"t": token})
    assert done.status_code == 200
    assert "Thank you" in done.get_data(as_text=True)

    after = contributions(register)
    header = list(after[0])
    received = header.index("Received")
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1  # exactly the link's own row
    cell = after[changed[0]][received]
    assert cell is not None
    assert cell.date() == london_today()


def test_demo_keeps_an_existing_keeper_toml(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    own = 'school_name = "My Real School"\n'
    (folder / "keeper.toml").write_text(own, encoding="utf-8")
    proc = run_main("demo", "--out", "demo/register.xlsx", "--today", TODAY, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (folder / "keeper.toml").read_text(encoding="utf-8") == own
    assert "Review Keeper: My Real School:" in proc.stdout


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_register(tmp_path_factory.mktemp("reg") / "register.xlsx", today=date.fromisoformat(TODAY))


def one_sentence(proc) -> str:  # type: ignore[no-untyped-def]
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_report_and_calendar_never_overwrite_the_register(register: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(register.read_bytes())
    before = copy.read_bytes()
    for command in ("report", "calendar"):
        proc = run_main(command, str(copy), "--today", TODAY, "--out", str(copy))
        message = one_sentence(proc)
        assert copy.read_bytes() == before
        assert "copy.xlsx is the register itself" in message
    # The same file by another spelling of its path.
    (tmp_path / "sub").mkdir(exist_ok=True)
    proc = run_main("report", "copy.xlsx", "--today", TODAY, "--out", "./sub/../copy.xlsx", cwd=tmp_path)
    assert "is the register itself" in one_sentence(proc)
    assert copy.read_bytes() == before


def test_report_replaces_an_earlier_overview_but_not_another_workbook(register: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    assert run_main("report", str(register), "--today", TODAY, "--out", str(out)).returncode == 0
    first = out.read_bytes()
    again = run_main("report", str(register), "--today", "2025-10-02", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert out.read_bytes() != first  # an earlier overview is ours to replace
    assert openpyxl.load_workbook(out)["Summary"]["A2"].value == "Computed for Thu 2 Oct 2025"

    theirs = tmp_path / "budget.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Budget"  # type: ignore[index]
    wb.save(theirs)
    before = theirs.read_bytes()
    message = one_sentence(run_main("report", str(register), "--today", TODAY, "--out", str(theirs)))
    assert "not a caseload overview" in message
    assert theirs.read_bytes() == before

    ics = tmp_path / "family.ics"
    ics.write_text("BEGIN:VCALENDAR\r\nPRODID:-//Someone//Else//EN\r\nEND:VCALENDAR\r\n")
    message = one_sentence(run_main("calendar", str(register), "--today", TODAY, "--out", str(ics)))
    assert "not a calendar made by Review Keeper" in message
    assert "Someone" in ics.read_text()


def test_out_may_be_a_folder(register: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    proc = run_main("report", str(register), "--today", TODAY, "--out", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert (folder / "report.xlsx").is_file()
    proc = run_main("calendar", str(register), "--today", TODAY, "--out", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert (folder / "reviews.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    # No temporary files are left behind by the atomic writes.
    assert sorted(p.name for p in folder.iterdir()) == ["report.xlsx", "reviews.ics"]


def test_records_out_that_is_a_file_is_one_sentence(register: Path, tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    message = one_sentence(run_main("records", str(register), "--today", TODAY, "--out", str(file)))
    assert "is a file, not a folder" in message
    assert file.read_text() == "mine"


def test_output_open_in_excel_or_libreoffice_is_refused(register: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    assert run_main("report", str(register), "--today", TODAY, "--out", str(out)).returncode == 0
    before = out.read_bytes()
    for lock in (tmp_path / "~$report.xlsx", tmp_path / ".~lock.report.xlsx#"):
        lock.write_text("someone")
        assert lock_files(out) == [lock]
        message = one_sentence(run_main("report", str(register), "--today", "2025-10-02", "--out", str(out)))
        assert "is open in Excel" in message
        assert out.read_bytes() == before
        lock.unlink()


def test_output_targets_directly(tmp_path: Path) -> None:
    assert overview_target(tmp_path) == tmp_path / "report.xlsx"
    assert calendar_target(tmp_path) == tmp_path / "reviews.ics"
    assert calendar_target(tmp_path / "new" / "x.ics") == tmp_path / "new" / "x.ics"
    with pytest.raises(OutputError, match=r"ending \.xlsx"):
        overview_target(tmp_path / "report.csv")
    with pytest.raises(OutputError, match=r"ending \.ics"):
        calendar_target(tmp_path / "reviews.xlsx")
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        records_folder(tmp_path / "f")
    assert records_folder(tmp_path / "records") == tmp_path / "records"


def test_mistyped_register_name_is_not_called_a_google_sheet(tmp_path: Path) -> None:
    name = "EHCP_register_autumn_term_2025_final_copy"  # no .xlsx: looks like a spreadsheet key
    for command in (("sweep", name, "--dry-run"), ("report", name)):
        message = one_sentence(run_main(*command, cwd=tmp_path))
        assert f"{name} was not found, and it is not a Google Sheet link" in message
        assert "credentials" not in message


def test_summary_names_the_row_once_and_shows_late_after_meeting_steps(register: Path) -> None:
    proc = run_main("sweep", str(register), "--today", TODAY, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    invalid = [line for line in proc.stdout.splitlines() if re.match(r"\s+row 27\b", line)]
    assert invalid
    assert all(line.count("row 27") == 1 for line in invalid)
    # Alfie (row 21): met 40 days ago, no report and no LA decision recorded.
    (alfie,) = [line for line in proc.stdout.splitlines() if re.match(r"\s+row 21\b", line)]
    assert "REPORT LATE" in alfie
    assert "LA DECISION LATE" in alfie


def test_links_without_a_base_url_are_mentioned(register: Path, tmp_path: Path) -> None:
    copy = tmp_path / "register.xlsx"
    copy.write_bytes(register.read_bytes())
    proc = run_main(
        "sweep", str(copy), "--today", TODAY, "--dry-run", env={"KEEPER_LINK_SECRET": "a-long-random-test-secret"}
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = [line for line in proc.stdout.splitlines() if "KEEPER_BASE_URL" in line]
    assert "emails carry no confirmation link" in line
    with_url = run_main(
        "sweep",
        str(copy),
        "--today",
        TODAY,
        "--dry-run",
        env={"KEEPER_LINK_SECRET": "a-long-random-test-secret", "KEEPER_BASE_URL": "https://keeper.example.org"},
    )
    assert "KEEPER_BASE_URL" not in with_url.stdout


def test_records_summary_is_singular_for_one(register: Path, tmp_path: Path) -> None:
    proc = run_main("records", str(register), "--today", TODAY, "--out", str(tmp_path), "--pupil", "9")
    assert proc.returncode == 0, proc.stderr
    assert "Wrote 1 review record to" in proc.stdout


def _ask(**context: object) -> str:
    base = {
        "school_name": "Oakfield",
        "sendco_name": None,
        "sendco_email": None,
        "pupil": "Freya C.",
        "role": "EP",
        "due": None,
        "meeting": "Fri 14 Nov 2025",
        "meeting_planned": False,
        "received": None,
        "token": "t",
        "note_limit": 1000,
    }
    return ConfirmPage("ask", 200, {**base, **context}).html()


def test_confirm_page_shows_a_meeting_only_when_booked_and_says_the_sendco() -> None:
    unbooked = _ask()
    assert "Review meeting" not in unbooked
    assert "14 Nov" not in unbooked
    assert "It tells the SENDCo it is on its way" in unbooked
    booked = _ask(meeting_planned=True, sendco_name="Sam Taylor")
    assert "Review meeting" in booked
    assert "Fri 14 Nov 2025" in booked
    assert "It tells Sam Taylor it is on its way" in booked


def test_default_sendco_name_reads_as_the_sendco(tmp_path: Path) -> None:
    from functions.confirm import Confirmations
    from functions.links import LinkSigner
    from functions.settings import School, Settings

    school = School("school", str(tmp_path / "r.xlsx"), Settings())
    service = Confirmations({"school": school}, LinkSigner("s"), lambda s: None, london_today)  # type: ignore[arg-type,return-value]
    assert service._school_context(school)["sendco_name"] is None
    named = School("school", str(tmp_path / "r.xlsx"), Settings(sendco_name="Ms Patel"))
    assert service._school_context(named)["sendco_name"] == "Ms Patel"


def test_serve_answers_as_the_cloud_page_does_without_touching_the_environment(tmp_path: Path) -> None:
    """`serve` builds its deployment from the register it is given (never by editing os.environ) and answers GET,
    HEAD and other methods as the cloud's confirm target does."""
    import os

    from werkzeug.test import Client

    import main
    from functions import bootstrap
    from functions.confirm import SECURITY_HEADERS

    register = write_demo_register(tmp_path / "register.xlsx", today=date.fromisoformat(TODAY))
    before = dict(os.environ)
    dep = bootstrap.deployment({"KEEPER_LINK_SECRET": "a-long-random-test-secret"}, register=str(register))
    client = Client(main.serve_app(main._confirmations(dep)))
    assert dict(os.environ) == before
    shown = client.get("/confirm?t=not-a-token")
    assert shown.status_code == 400
    assert "This link does not work" in shown.get_data(as_text=True)
    assert shown.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    head = client.head("/confirm?t=not-a-token")
    assert head.status_code == 400
    assert head.get_data() == b""
    refused = client.put("/confirm")
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "GET, HEAD, POST"
