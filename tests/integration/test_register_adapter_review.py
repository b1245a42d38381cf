"""Both register adapters against a SENDCo's real habits: headers spelt as they like ("Received?", "E-mail",
"Requested:"), a contributor's row kept twice (last year's history under this year's), colours in blank cells to the
right of their data, and a save of their own (OneDrive AutoSave, no lock file) while the product is saving."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import PatternFill

from connectors.base import CellValue, CellWrite, RegisterError, WritePlan
from connectors.mail import OutboxTransport
from connectors.sheets import RetryPolicy, open_sheet_register
from connectors.workbook import BACKUP_FOLDER, SAVE_ATTEMPTS, WorkbookRegister
from functions.confirm import Confirmations
from functions.links import LinkSigner
from functions.mailer import MemoryLedger
from functions.settings import School, Settings
from functions.sweep import run_sweep
from scripts.make_demo import contribution_rows, write_demo_register
from sheet_schema.fields import normalise_header
from tests.fakes.sheets_api import FakeSheetsServer

KEY = "1ReviewReviewReviewReviewReviewReviewRevie"
TODAY = date(2025, 11, 10)
NOW = datetime(2025, 11, 10, 7, 0)
FAST = RetryPolicy(timeout_s=(1.0, 2.0), deadline_s=10.0, max_attempts=3, base_delay_s=0.05, max_delay_s=0.2)
# How SENDCos actually head their Contributions columns: each is the product's header once punctuation goes.
THEIR_HEADERS = ["Pupil", "Role", "Name", "E-mail", "Requested:", "Received?", "Chasers", "Last chased", "Notes"]
YELLOW = "FFFF00"


@pytest.fixture
def server() -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer() as fake:
        yield fake


def demo(path: Path, *, headers: list[str] | None = None) -> Path:
    write_demo_register(path, today=TODAY)
    if headers is not None:
        wb = openpyxl.load_workbook(path)
        for column, text in enumerate(headers, start=1):
            wb["Contributions"].cell(row=1, column=column).value = text
        wb.save(path)
    return path


def header_row_of(rows: list[list[object]]) -> list[object]:
    return [v for v in rows[0] if v not in (None, "")]


def column(rows: list[list[object]], header: str) -> list[object]:
    index = rows[0].index(header)
    return [row[index] if index < len(row) else None for row in rows[1:]]


def workbook_rows(path: Path, title: str) -> list[list[object]]:
    return [list(r) for r in openpyxl.load_workbook(path)[title].iter_rows(values_only=True)]


def sweep(register: object, tmp_path: Path) -> object:
    return run_sweep(
        register,  # type: ignore[arg-type]
        today=TODAY,
        settings=Settings(sendco_email="sendco@oakfield.example.org"),
        transport=OutboxTransport(tmp_path / "outbox"),
        ledger=MemoryLedger(),
        now=lambda: NOW,
    )


# ---- 1. headers match as the parser matches them ----


def test_the_default_header_key_ignores_only_spaces_and_case() -> None:
    plan = WritePlan(sheet="S", headers=["AR status"], find_header_row=lambda rows: 1, key_of=lambda row: None, rows={})
    assert plan.header_key("  AR Status ") == "ar status"
    assert plan.header_key("AR status?") != plan.header_key("AR status")
    assert not plan.first_match_only


def test_workbook_sweep_writes_into_the_sendcos_own_spelling_of_each_column(tmp_path: Path) -> None:
    path = demo(tmp_path / "register.xlsx", headers=THEIR_HEADERS)
    result = sweep(WorkbookRegister(path), tmp_path)
    rows = workbook_rows(path, "Contributions")
    # No twin column: only the product's own AR invited for is added.
    assert header_row_of(rows) == [*THEIR_HEADERS, "AR invited for"]
    requests = {e["to"] for e in result.mail.sent if e["kind"] == "request"}  # type: ignore[attr-defined]
    assert "j.patel@oakfield.example.org" in requests
    # The class teacher asked today: the date is in the SENDCo's "Requested:" column.
    teacher = rows[1]
    assert teacher[4] in (TODAY, datetime.combine(TODAY, datetime.min.time()))
    # Seeded Parent/carer rows carry their address in the SENDCo's "E-mail" column.
    parents = [r for r in rows[1:] if r[1] == "Parent/carer"]
    assert parents, "the demo register has parent emails, so parent rows are seeded"
    assert all(isinstance(r[3], str) and "@" in r[3] for r in parents)


def test_sheets_sweep_writes_into_the_sendcos_own_spelling_of_each_column(
    server: FakeSheetsServer, tmp_path: Path
) -> None:
    path = demo(tmp_path / "register.xlsx", headers=THEIR_HEADERS)
    server.load_workbook(KEY, path)
    sweep(open_sheet_register(KEY, emulator_host=server.host, policy=FAST), tmp_path)
    assert server.request_count == 3  # read, re-read, one batchUpdate
    rows = server.dump(KEY, "Contributions")
    assert header_row_of(rows) == [*THEIR_HEADERS, "AR invited for"]
    assert rows[1][4] == (TODAY - date(1899, 12, 30)).days  # Requested: as a date serial
    parents = [r for r in rows[1:] if r[1] == "Parent/carer"]
    assert parents
    assert all(isinstance(r[3], str) and "@" in r[3] for r in parents)


def test_confirming_writes_the_sendcos_received_column_once(tmp_path: Path) -> None:
    path = demo(tmp_path / "register.xlsx", headers=THEIR_HEADERS)
    school = School("", str(path), Settings())
    signer = LinkSigner("s3cret-s3cret-s3cret", "http://x", "")
    first = contribution_rows(TODAY)[0]
    token = signer.token(
        pupil_ref=str(first[0]), role=str(first[1]), email=str(first[3]), meeting=TODAY + timedelta(days=30)
    )
    confirmations = Confirmations({"": school}, signer, lambda s: WorkbookRegister(s.register), lambda: TODAY)
    assert confirmations.record(token, "sent").kind == "thanks"
    assert confirmations.record(token, "sent").kind == "already"  # the second POST finds it received
    rows = workbook_rows(path, "Contributions")
    assert header_row_of(rows) == THEIR_HEADERS
    assert rows[1][5] in (TODAY, datetime.combine(TODAY, datetime.min.time()))
    assert str(rows[1][8]).count("Contributor's note") == 1


def odd_header_plan(**more: object) -> WritePlan:
    return WritePlan(
        sheet="Contributions",
        headers=["Pupil", "Email", "Requested", "Received"],
        find_header_row=lambda rows: 1,
        key_of=lambda row: row[0] if row and row[0] else None,
        rows={"Ann": {"Requested": CellWrite(TODAY, "dd/mm/yyyy"), "Received": CellWrite(TODAY, "dd/mm/yyyy")}},
        append_rows=[{"Pupil": CellWrite("Ben"), "Email": CellWrite("ben.parent@example.org")}],
        blank_only=frozenset({"Requested"}),
        header_fill=None,
        **more,  # type: ignore[arg-type]
    )


ODD_ROWS: list[list[object]] = [["Pupil", "E-mail", "Requested:", "Received?"], ["Ann", "ann@x.org", "sent", None]]


def test_workbook_header_key_decides_matching_and_blank_only(tmp_path: Path) -> None:
    path = tmp_path / "odd.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contributions"
    for row in ODD_ROWS:
        ws.append(row)
    wb.save(path)
    register = WorkbookRegister(path)
    register.read()
    register.write(odd_header_plan(header_key=normalise_header))
    rows = workbook_rows(path, "Contributions")
    assert rows[0] == ODD_ROWS[0]  # nothing appended
    assert rows[1][2] == "sent"  # "Requested:" is blank_only Requested: the SENDCo's text stays
    assert rows[1][3] == datetime.combine(TODAY, datetime.min.time())
    assert rows[2][:2] == ["Ben", "ben.parent@example.org"]


def test_sheets_header_key_decides_matching_and_blank_only(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Contributions": ODD_ROWS})
    register = open_sheet_register(KEY, emulator_host=server.host, policy=FAST)
    register.read()
    register.write(odd_header_plan(header_key=normalise_header))
    rows = server.dump(KEY, "Contributions")
    assert rows[0] == ODD_ROWS[0]
    assert rows[1][2] == "sent"
    assert rows[1][3] == (TODAY - date(1899, 12, 30)).days
    assert rows[2][:2] == ["Ben", "ben.parent@example.org"]


# ---- 2. only the first of duplicate rows ----


def first(row: list[CellValue]) -> Hashable | None:
    return row[0] if row and row[0] not in (None, "") else None


def duplicate_plan(first_match_only: bool) -> WritePlan:
    return WritePlan(
        sheet="Tab",
        headers=["Key", "Chasers"],
        find_header_row=lambda rows: 1,
        key_of=first,
        rows={"A": {"Chasers": CellWrite(2)}},
        first_match_only=first_match_only,
    )


DUPLICATE_ROWS: list[list[object]] = [["Key", "Chasers"], ["A", 1], ["B", 5], ["A", 3]]


@pytest.mark.parametrize(("first_match_only", "expected"), [(True, [2, 5, 3]), (False, [2, 5, 2])])
def test_workbook_first_match_only(tmp_path: Path, first_match_only: bool, expected: list[int]) -> None:
    path = tmp_path / "dup.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tab"
    for row in DUPLICATE_ROWS:
        ws.append(row)
    wb.save(path)
    register = WorkbookRegister(path)
    register.read()
    result = register.write(duplicate_plan(first_match_only))
    assert column(workbook_rows(path, "Tab"), "Chasers") == expected
    assert result.written_rows == (1 if first_match_only else 2)


@pytest.mark.parametrize(("first_match_only", "expected"), [(True, [2, 5, 3]), (False, [2, 5, 2])])
def test_sheets_first_match_only(server: FakeSheetsServer, first_match_only: bool, expected: list[int]) -> None:
    server.load(KEY, {"Tab": DUPLICATE_ROWS})
    register = open_sheet_register(KEY, emulator_host=server.host, policy=FAST)
    register.read()
    result = register.write(duplicate_plan(first_match_only))
    assert column(server.dump(KEY, "Tab"), "Chasers") == expected
    assert result.written_rows == (1 if first_match_only else 2)


def test_sweep_leaves_last_years_duplicate_contribution_row_alone(tmp_path: Path) -> None:
    path = demo(tmp_path / "register.xlsx")
    wb = openpyxl.load_workbook(path)
    tab = wb["Contributions"]
    salt = contribution_rows(TODAY)[2]
    history = [*salt[:4], date(2024, 10, 1), date(2024, 10, 30), 3, date(2024, 10, 22), "last year"]
    tab.append(history)
    history_row = tab.max_row
    wb.save(path)
    before = workbook_rows(path, "Contributions")[history_row - 1][:9]
    result = sweep(WorkbookRegister(path), tmp_path)
    rows = workbook_rows(path, "Contributions")
    assert rows[history_row - 1][:9] == before  # not chased: its Chasers and Last chased are last year's
    salt_row = rows[3]  # this year's row is the one the sweep chased
    assert salt_row[6] == 2
    chased = [e for e in result.mail.sent if e["kind"] == "chaser"]  # type: ignore[attr-defined]
    assert any(e["to"] == "salt.referrals@nhs.example.org" for e in chased)


# ---- 3. the SENDCo's colours to the right of their data ----


def test_workbook_ar_columns_go_after_the_sendcos_coloured_blanks(tmp_path: Path) -> None:
    path = demo(tmp_path / "register.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["EHCP register"]
    last = ws.max_column
    for c in range(1, 30):  # a pupil to watch: the SENDCo selects A6:AC6 and fills it yellow
        ws.cell(row=6, column=c).fill = PatternFill("solid", fgColor=YELLOW)
    ws.cell(row=2, column=40).fill = PatternFill("solid", fgColor=YELLOW)  # above the header row: does not count
    wb.save(path)
    run_sweep(WorkbookRegister(path), today=TODAY, settings=Settings(), now=lambda: NOW)
    ws = openpyxl.load_workbook(path)["EHCP register"]
    assert all(ws.cell(row=6, column=c).fill.fgColor.rgb.endswith(YELLOW) for c in range(1, 30))
    assert all(ws.cell(row=4, column=c).value is None for c in range(last + 1, 30))
    assert ws.cell(row=4, column=30).value == "AR status"


def test_sheets_ar_columns_go_after_the_sendcos_coloured_blanks(server: FakeSheetsServer, tmp_path: Path) -> None:
    path = demo(tmp_path / "register.xlsx")
    server.load_workbook(KEY, path)
    sheet = server.sheet(KEY, "EHCP register")
    last = max(c for (r, c) in sheet.cells if r == 3) + 1  # the header row (row 4), 1-based width
    yellow = {"red": 1.0, "green": 1.0, "blue": 0.0}
    for c in range(29):  # A6:AC6
        sheet.cells.setdefault((5, c), {})["userEnteredFormat"] = {"backgroundColor": yellow}
    run_sweep(
        open_sheet_register(KEY, emulator_host=server.host, policy=FAST),
        today=TODAY,
        settings=Settings(),
        now=lambda: NOW,
    )
    assert server.request_count == 3
    reread = server.log[1]
    assert "backgroundColor" in reread.args["fields"][0]  # new columns to add: colours were asked for
    cells = server.dump_cells(KEY, "EHCP register")
    assert all(cells[(5, c)]["userEnteredFormat"]["backgroundColor"] == yellow for c in range(29))
    header = server.dump(KEY, "EHCP register")[3]
    assert all(v is None for v in header[last:29])
    assert header[29] == "AR status"

    # The next sweep finds its columns: the re-read asks for values only (no colours), still 3 requests.
    before = server.request_count
    run_sweep(
        open_sheet_register(KEY, emulator_host=server.host, policy=FAST),
        today=TODAY,
        settings=Settings(),
        now=lambda: NOW,
    )
    assert server.request_count - before == 3
    assert "backgroundColor" not in server.log[before + 1].args["fields"][0]
    assert server.dump(KEY, "EHCP register")[3].count("AR status") == 1


# ---- 4. the SENDCo saves while the product is saving ----


class SavesDuringVerify(WorkbookRegister):
    """The SENDCo's AutoSave lands while the product's temporary copy is being verified, `times` times."""

    def __init__(self, path: Path, times: int) -> None:
        super().__init__(path)
        self.times = times
        self.saves = 0

    def _verify(self, temp: Path, plans: list[tuple[WritePlan, int]]) -> None:
        super()._verify(temp, plans)
        if self.saves < self.times:
            self.saves += 1
            wb = openpyxl.load_workbook(self.path)
            wb["EHCP register"]["N5"] = f"Mum rang: meeting moved ({self.saves})"
            wb.save(self.path)


def test_a_save_during_the_write_is_kept_and_the_write_redone(tmp_path: Path) -> None:
    path = demo(tmp_path / "register.xlsx")
    register = SavesDuringVerify(path, times=1)
    result = run_sweep(register, today=TODAY, settings=Settings(), now=lambda: NOW)
    ws = openpyxl.load_workbook(path)["EHCP register"]
    assert ws["N5"].value == "Mum rang: meeting moved (1)"  # their save survives ...
    assert ws.cell(row=4, column=15).value == "AR status"  # ... and the results went in on top of it
    assert ws.cell(row=5, column=15).value not in (None, "")
    assert result.write is not None
    assert result.write.destination == str(path)
    assert not [
        p for p in tmp_path.iterdir() if p.name.startswith(".register.keeper-")
    ]  # the discarded temporary file is gone


def test_a_workbook_that_keeps_changing_is_left_as_the_sendco_saved_it(tmp_path: Path) -> None:
    path = demo(tmp_path / "register.xlsx")
    register = SavesDuringVerify(path, times=SAVE_ATTEMPTS)
    register.read()
    with pytest.raises(RegisterError, match="kept changing"):
        register.write(
            WritePlan(
                sheet="EHCP register",
                headers=["AR status"],
                find_header_row=lambda rows: 4,
                key_of=lambda row: row[1] if len(row) > 1 and row[1] else None,
                rows={},
            )
        )
    ws = openpyxl.load_workbook(path)["EHCP register"]
    assert ws["N5"].value == f"Mum rang: meeting moved ({SAVE_ATTEMPTS})"  # their last save, not replaced
    assert "AR status" not in [c.value for c in ws[4]]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".register.keeper-")]
    assert (tmp_path / BACKUP_FOLDER).is_dir()
