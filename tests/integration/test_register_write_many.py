"""Both register adapters writing several plans at once (the AR columns and the Contributions tab): one save / one
batchUpdate, a tab created with its headers when missing, rows appended after the last used row by header, and a date
the SENDCo typed never overwritten."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from connectors.base import CellValue, CellWrite, RegisterError, WritePlan
from connectors.mail import OutboxTransport
from connectors.sheets import RetryPolicy, open_sheet_register
from connectors.workbook import BACKUP_FOLDER, WorkbookRegister
from functions.mailer import MemoryLedger
from functions.settings import Settings
from functions.sweep import run_sweep
from tests.fakes.sheets_api import FakeSheetsServer

KEY = "1ContribContribContribContribContribContri"
SERIAL_EPOCH = date(1899, 12, 30)
CONTRIB = ["Pupil", "Role", "Name", "Email", "Requested", "Received", "Chasers", "Last chased", "Notes"]
TYPED = date(2025, 9, 1)
TODAY = date(2025, 9, 30)
FAST = RetryPolicy(timeout_s=(1.0, 2.0), deadline_s=10.0, max_attempts=3, base_delay_s=0.05, max_delay_s=0.2)


def register_rows() -> list[list[object]]:
    return [["Name", "DOB", "Notes"], ["Ava Smith", date(2015, 3, 4), "x"], ["Ben Jones", date(2012, 9, 1), None]]


def contribution_rows() -> list[list[object]]:
    return [
        CONTRIB,
        ["Ava Smith", "EP", "Dr Okafor", "ep@la.example.org", TYPED, None, None, None, "typed by the SENDCo"],
        ["Ava Smith", "Class teacher", "Jo Patel", "jo@school.example.org", None, None, None, None, None],
        [None, None, None, None, None, None, None, None, None],
        ["Ben Jones", "SALT", "Priya Shah", "salt@nhs.example.org", None, None, None, None, None],
    ]


def header_at(name: str) -> object:
    def find(rows: list[list[CellValue]]) -> int | None:
        return next((i + 1 for i, row in enumerate(rows) if row and row[0] == name), None)

    return find


def first_two(row: list[CellValue]) -> Hashable | None:
    return (row[0], row[1]) if len(row) > 1 and row[0] not in (None, "") else None


def first(row: list[CellValue]) -> Hashable | None:
    return row[0] if row and row[0] not in (None, "") else None


def ar_plan() -> WritePlan:
    return WritePlan(
        sheet="Register",
        headers=["AR status"],
        find_header_row=header_at("Name"),  # type: ignore[arg-type]
        key_of=first,
        rows={
            "Ava Smith": {"AR status": CellWrite("DUE SOON", fill="F8CBAD")},
            "Ben Jones": {"AR status": CellWrite("ON TRACK")},
        },
        owned_headers=frozenset({"AR status"}),
    )


def contrib_plan(*, create: bool = False) -> WritePlan:
    return WritePlan(
        sheet="Contributions",
        headers=[*CONTRIB, "AR invited for"],
        find_header_row=header_at("Pupil"),  # type: ignore[arg-type]
        key_of=first_two,
        rows={
            # The EP's Requested was typed by the SENDCo: the plan's date must not replace it.
            ("Ava Smith", "EP"): {
                "Requested": CellWrite(TODAY, "dd/mm/yyyy"),
                "Chasers": CellWrite(1),
                "Last chased": CellWrite(TODAY, "dd/mm/yyyy"),
            },
            ("Ava Smith", "Class teacher"): {"Requested": CellWrite(TODAY, "dd/mm/yyyy")},
        },
        append_rows=[
            {
                "Pupil": CellWrite("Ben Jones"),
                "Role": CellWrite("Parent/carer"),
                "Email": CellWrite("ben.parent@example.org"),
                "Requested": CellWrite(TODAY, "dd/mm/yyyy"),
                "AR invited for": CellWrite(date(2025, 11, 5), "dd/mm/yyyy"),
            }
        ],
        create_if_missing=create,
        blank_only=frozenset({"Requested", "Received"}),
        owned_headers=frozenset({"AR invited for"}),
    )


def as_date(value: object) -> object:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return date.fromordinal(SERIAL_EPOCH.toordinal() + int(value))
    return value


def by_header(rows: list[list[object]]) -> list[dict[str, object]]:
    headers = rows[0]
    return [dict(zip(headers, row, strict=False)) for row in rows[1:]]


# ---- workbook ----


def workbook(path: Path, *, with_tab: bool) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    for row in register_rows():
        ws.append(row)
    if with_tab:
        tab = wb.create_sheet("Contributions")
        for row in contribution_rows():
            tab.append(row)
    wb.create_sheet("Key")["A1"] = "the SENDCo's key"
    wb.save(path)
    return path


def sheet_rows(path: Path, title: str) -> list[list[object]]:
    return [list(r) for r in openpyxl.load_workbook(path)[title].iter_rows(values_only=True)]


def test_workbook_writes_every_plan_in_one_save(tmp_path: Path) -> None:
    path = workbook(tmp_path / "register.xlsx", with_tab=True)
    adapter = WorkbookRegister(path)
    adapter.read()
    result = adapter.write(ar_plan(), contrib_plan())
    assert result.written_rows == 2
    assert len(result.more) == 1
    assert result.more[0].written_rows == 2
    assert result.more[0].appended_rows == 1
    assert len(list((tmp_path / BACKUP_FOLDER).iterdir())) == 1  # one save: one backup

    assert sheet_rows(path, "Register")[1][3] == "DUE SOON"
    rows = by_header(sheet_rows(path, "Contributions"))
    ep, teacher, blank, salt, parent = rows
    assert as_date(ep["Requested"]) == TYPED  # the SENDCo's date stays
    assert ep["Chasers"] == 1
    assert as_date(ep["Last chased"]) == TODAY
    assert ep["Notes"] == "typed by the SENDCo"
    assert as_date(teacher["Requested"]) == TODAY
    assert all(v is None for v in blank.values())  # the blank row is not taken for the new one
    assert salt["Requested"] is None
    assert parent["Pupil"] == "Ben Jones"
    assert parent["Role"] == "Parent/carer"
    assert as_date(parent["AR invited for"]) == date(2025, 11, 5)


def test_workbook_creates_a_missing_tab_with_its_headers(tmp_path: Path) -> None:
    path = workbook(tmp_path / "register.xlsx", with_tab=False)
    adapter = WorkbookRegister(path)
    adapter.read()
    result = adapter.write(ar_plan(), contrib_plan(create=True))
    assert result.more[0].created_sheet
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Register", "Key", "Contributions"]  # at the end
    rows = sheet_rows(path, "Contributions")
    assert rows[0] == [*CONTRIB, "AR invited for"]
    assert wb["Contributions"]["A1"].font.b
    assert by_header(rows)[0]["Email"] == "ben.parent@example.org"


def test_workbook_without_create_refuses_a_missing_tab_and_writes_nothing(tmp_path: Path) -> None:
    path = workbook(tmp_path / "register.xlsx", with_tab=False)
    before = path.read_bytes()
    adapter = WorkbookRegister(path)
    adapter.read()
    with pytest.raises(RegisterError, match="Contributions"):
        adapter.write(ar_plan(), contrib_plan(create=False))
    assert path.read_bytes() == before  # all or nothing: not even the AR plan was saved


def test_workbook_date_typed_after_the_read_wins(tmp_path: Path) -> None:
    path = workbook(tmp_path / "register.xlsx", with_tab=True)
    adapter = WorkbookRegister(path)
    adapter.read()
    wb = openpyxl.load_workbook(path)  # the SENDCo types a date while the sweep is running
    wb["Contributions"]["E3"] = date(2025, 9, 29)
    wb.save(path)
    adapter.write(ar_plan(), contrib_plan())
    teacher = by_header(sheet_rows(path, "Contributions"))[1]
    assert as_date(teacher["Requested"]) == date(2025, 9, 29)


# ---- Google Sheets (the fake API over a real socket) ----


@pytest.fixture
def server() -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer() as fake:
        yield fake


def test_sheets_writes_every_plan_in_one_batch_after_one_reread(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(), "Contributions": contribution_rows(), "Key": [["key"]]})
    register = open_sheet_register(KEY, emulator_host=server.host, policy=FAST)
    register.read()
    result = register.write(ar_plan(), contrib_plan())
    assert server.request_count == 3  # read, one re-read of both tabs, one batchUpdate
    reread = server.log[1]
    assert sorted(reread.args["ranges"]) == ["'Contributions'", "'Register'"]
    assert result.more[0].appended_rows == 1
    rows = by_header(server.dump(KEY, "Contributions"))
    ep, teacher, _blank, _salt, parent = rows
    assert as_date(ep["Requested"]) == TYPED
    assert ep["Chasers"] == 1
    assert as_date(teacher["Requested"]) == TODAY
    assert parent["Email"] == "ben.parent@example.org"
    assert as_date(parent["AR invited for"]) == date(2025, 11, 5)
    assert server.dump(KEY, "Register")[1][3] == "DUE SOON"


def test_sheets_creates_a_missing_tab_in_the_same_batch(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows()})
    register = open_sheet_register(KEY, emulator_host=server.host, policy=FAST)
    register.read()
    result = register.write(ar_plan(), contrib_plan(create=True))
    assert server.request_count == 3
    batch = server.log[2].body["requests"]
    assert sum(1 for r in batch if "addSheet" in r) == 1
    assert result.more[0].created_sheet
    rows = server.dump(KEY, "Contributions")
    assert rows[0] == [*CONTRIB, "AR invited for"]
    assert by_header(rows)[0]["Pupil"] == "Ben Jones"
    # A second write finds the tab it made (no second addSheet) and appends below the first appended row.
    register.read()
    register.write(ar_plan(), contrib_plan(create=True))
    assert [r[0] for r in server.dump(KEY, "Contributions")[1:]] == ["Ben Jones", "Ben Jones"]


def test_sheets_date_typed_after_the_read_wins(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(), "Contributions": contribution_rows()})
    register = open_sheet_register(KEY, emulator_host=server.host, policy=FAST)
    register.read()
    # The SENDCo types the class teacher's Requested date while the sweep runs.
    server.sheet(KEY, "Contributions").cells[(2, 4)] = {
        "userEnteredValue": {"numberValue": (date(2025, 9, 29) - SERIAL_EPOCH).days},
        "effectiveValue": {"numberValue": (date(2025, 9, 29) - SERIAL_EPOCH).days},
    }
    register.write(ar_plan(), contrib_plan())
    teacher = by_header(server.dump(KEY, "Contributions"))[1]
    assert as_date(teacher["Requested"]) == date(2025, 9, 29)


def test_a_whole_sweep_with_emails_costs_three_requests(server: FakeSheetsServer, tmp_path: Path) -> None:
    register = [
        ["Name", "UPN", "DOB", "EHCP issued", "Last review", "LA decision date", "Parent email"],
        ["Ann Example", "B801200005001", date(2014, 3, 4), date(2020, 1, 1), date(2024, 11, 20), date(2024, 12, 10),
         "ann.parent@example.org"],
    ]  # fmt: skip
    tab = [
        CONTRIB,
        ["B801200005001", "EP", "Dr Okafor", "ep@la.example.org", None, None, None, None, None],
        ["Ann Example", "Class teacher", "Jo Patel", "jo@school.example.org", TYPED, None, None, None, None],
    ]
    server.load(KEY, {"Register": register, "Contributions": tab})
    outbox = tmp_path / "outbox"
    result = run_sweep(
        open_sheet_register(KEY, emulator_host=server.host, policy=FAST),
        today=TODAY,
        settings=Settings(sendco_email="sendco@school.example.org"),
        transport=OutboxTransport(outbox),
        ledger=MemoryLedger(),
    )
    assert server.request_count == 3
    sent = {(e["kind"], e["to"]) for e in result.to_json()["emails"]}
    # The EP and the seeded parent are asked; the teacher was asked by the SENDCo on 01/09, more than 7 days ago.
    assert sent == {
        ("request", "ep@la.example.org"),
        ("request", "ann.parent@example.org"),
        ("chaser", "jo@school.example.org"),
    }
    assert len(list(outbox.glob("*.eml"))) == 3
    rows = by_header(server.dump(KEY, "Contributions"))
    ep, teacher, parent = rows
    assert as_date(ep["Requested"]) == TODAY
    assert as_date(teacher["Requested"]) == TYPED
    assert teacher["Chasers"] == 1
    assert parent["Role"] == "Parent/carer"
    assert as_date(parent["Requested"]) == TODAY
    ar = by_header(server.dump(KEY, "Register"))[0]
    assert "EP" in ar["AR outstanding"]
    assert "Class teacher (1 chaser)" in ar["AR outstanding"]


# ---- the SENDCo's look in their own columns ----

THEIR_FILL = "FFFF00"


def test_workbook_keeps_the_sendcos_colours_in_their_columns(tmp_path: Path) -> None:
    path = workbook(tmp_path / "r.xlsx", with_tab=True)
    wb = openpyxl.load_workbook(path)
    tab = wb["Contributions"]
    for column in ("E", "G", "H"):  # Requested, Chasers, Last chased of the class teacher and the EP
        for row in (2, 3):
            tab[f"{column}{row}"].fill = openpyxl.styles.PatternFill("solid", fgColor=THEIR_FILL)
    tab["G2"].number_format = "0"
    wb.save(path)
    register = WorkbookRegister(path)
    register.read()
    register.write(ar_plan(), contrib_plan())
    tab = openpyxl.load_workbook(path)["Contributions"]
    assert tab["G2"].value == 1  # the product's chaser count went in ...
    for column in ("E", "G", "H"):  # ... and the SENDCo's colours stayed
        for row in (2, 3):
            assert tab[f"{column}{row}"].fill.fgColor.rgb.endswith(THEIR_FILL), f"{column}{row}"
    assert tab["G2"].number_format == "0"
    assert tab["E3"].number_format == "dd/mm/yyyy"  # a date the product wrote still reads as a date


def test_sheets_keeps_the_sendcos_colours_in_their_columns(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(), "Contributions": contribution_rows()})
    yellow = {"red": 1.0, "green": 1.0, "blue": 0.0}
    cells = server.sheet(KEY, "Contributions").cells
    for column in (4, 6, 7):  # Requested, Chasers, Last chased (0-based)
        for row in (1, 2):
            cell = cells.setdefault((row, column), {})
            cell["userEnteredFormat"] = {"backgroundColor": yellow}
    register = open_sheet_register(KEY, emulator_host=server.host, policy=FAST)
    register.read()
    register.write(ar_plan(), contrib_plan())
    after = server.dump_cells(KEY, "Contributions")
    assert after[(1, 6)]["userEnteredValue"] == {"numberValue": 1}
    for column in (4, 6, 7):
        for row in (1, 2):
            assert after[(row, column)]["userEnteredFormat"]["backgroundColor"] == yellow, (row, column)
    assert after[(2, 4)]["userEnteredFormat"]["numberFormat"]["type"] == "DATE"
