"""The Google Sheets connector against the fake Sheets API over a real socket: gspread's own HTTP code does the talking."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Hashable, Iterator, Mapping
from datetime import date
from typing import Any

import pytest
import requests
from google.oauth2 import service_account

from connectors.base import CellValue, CellWrite, RegisterError, WritePlan
from connectors.sheets import (
    SHEETS_SCOPES,
    RetryPolicy,
    SheetsRegister,
    is_sheet_reference,
    open_sheet_register,
    spreadsheet_key,
)
from tests.fakes.sheets_api import SERVER_MODES, FakeSheetsServer, Fault, Formula

KEY = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
AR_HEADERS = ["AR status", "AR window ends", "AR next action"]
HYPERLINK = '=HYPERLINK("http://x","y")'


def header_row(rows: list[list[CellValue]]) -> int | None:
    return next((i + 1 for i, row in enumerate(rows) if row and row[0] == "Name"), None)


def first_cell(row: list[CellValue]) -> Hashable | None:
    return row[0] if row and row[0] not in (None, "") else None


def plan_for(results: Mapping[Any, Mapping[str, CellWrite]]) -> WritePlan:
    return WritePlan(
        sheet="Register",
        headers=AR_HEADERS,
        find_header_row=header_row,
        key_of=first_cell,
        rows=results,
        owned_headers=frozenset(AR_HEADERS),
    )


def result_for(name: str, due: date) -> dict[str, CellWrite]:
    return {
        "AR status": CellWrite("OVERDUE", fill="F8CBAD"),
        "AR window ends": CellWrite(due, number_format="dd/mm/yyyy"),
        "AR next action": CellWrite(f"Chase {name}"),
    }


def register_rows(count: int) -> list[list[object]]:
    rows: list[list[object]] = [["Annual reviews 2025-26"], [], ["Name", "DOB", "Year", "Notes"]]
    for n in range(count):
        rows.append([f"Pupil {n:05d}", 40000 + n, 5 + n % 7, f"note {n}"])
    return rows


@pytest.fixture
def server() -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer() as fake:
        yield fake


@pytest.fixture(params=list(SERVER_MODES))
def any_server(request: pytest.FixtureRequest) -> Iterator[FakeSheetsServer]:
    """The fake answering as each Sheets-compatible variation does (see SERVER_MODES), Google's way included."""
    with FakeSheetsServer(**SERVER_MODES[request.param]) as fake:
        yield fake


def the_batch(server: FakeSheetsServer) -> list[dict[str, Any]]:
    """The one batchUpdate's requests."""
    (post,) = [r for r in server.log if r.method == "POST"]
    return post.body["requests"]


# The read timeout is 2 s, not less: on a loaded 2-core machine a healthy answer can take over a second, and a retry
# would then add a request the test did not cause. Tests of timeouts inject delays well beyond it.
FAST = RetryPolicy(timeout_s=(1.0, 2.0), deadline_s=8.0, max_attempts=5, base_delay_s=0.05, max_delay_s=0.2)
# For tests that count requests and inject no slowness: a loaded machine can take longer than FAST's 2 s to build a
# 1,000-row answer, and the retry would then add a request the test did not cause. No wall-clock race.
PATIENT = RetryPolicy(timeout_s=(10.0, 60.0), deadline_s=120.0, max_attempts=5, base_delay_s=0.05, max_delay_s=0.2)


def open_fast(server: FakeSheetsServer, policy: RetryPolicy = FAST) -> SheetsRegister:
    """The register as the composition root opens it with SHEETS_EMULATOR_HOST set to the fake."""
    return open_sheet_register(
        f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0", emulator_host=server.host, policy=policy
    )


def sweep(register: SheetsRegister, names: list[str]) -> object:
    register.read()
    return register.write(plan_for({name: result_for(name, date(2026, 1, 2)) for name in names}))


# ---- references and credentials ----


def test_sheet_references_are_told_from_workbook_paths() -> None:
    assert is_sheet_reference(f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0")
    assert is_sheet_reference(KEY)
    assert not is_sheet_reference("register.xlsx")
    assert not is_sheet_reference("/home/sendco/Annual reviews 2025.xlsx")
    assert spreadsheet_key(f"https://docs.google.com/spreadsheets/u/1/d/{KEY}/edit") == KEY
    with pytest.raises(RegisterError):
        spreadsheet_key("register.xlsx")


def service_account_info(token_uri: str) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": "demo",
        "private_key_id": "abc",
        "private_key": pem,
        "client_email": "keeper@demo.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }


def test_service_account_token_is_fetched_and_sent(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(1)})
    credentials = service_account.Credentials.from_service_account_info(
        service_account_info(f"http://{server.host}/token"), scopes=list(SHEETS_SCOPES)
    )
    register = open_sheet_register(KEY, emulator_host=server.host, credentials=credentials, policy=FAST)
    register.read()
    assert [r.path for r in server.log] == ["/token", f"/v4/spreadsheets/{KEY}"]
    assert server.log[1].authorization == "Bearer fake-token"


def test_refused_credentials_are_one_clear_sentence(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(1)})
    server.issue_tokens = False
    credentials = service_account.Credentials.from_service_account_info(
        service_account_info(f"http://{server.host}/token"), scopes=list(SHEETS_SCOPES)
    )
    with pytest.raises(RegisterError, match="refused the service account's credentials"):
        open_sheet_register(KEY, emulator_host=server.host, credentials=credentials, policy=FAST).read()
    assert [r.path for r in server.log] == ["/token"]  # no Sheets request went out unauthenticated


def test_service_account_key_file_gets_the_spreadsheets_scope_only(tmp_path) -> None:
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(service_account_info("https://oauth2.googleapis.com/token")))
    register = open_sheet_register(KEY, credentials_file=str(key_file))
    assert isinstance(register.http.auth, service_account.Credentials)
    assert tuple(register.http.auth.scopes) == SHEETS_SCOPES
    assert register.http.base_url is None


def test_emulator_host_gets_every_request_with_no_authorization(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(1)})
    register = open_fast(server)
    register.read()
    assert register.http.base_url == f"http://{server.host}"
    assert server.request_count == 1  # the request reached the emulator, not sheets.googleapis.com
    assert server.log[0].path == f"/v4/spreadsheets/{KEY}"
    assert server.log[0].authorization is None  # anonymous credentials: no token is fetched or sent


# ---- reading ----


def test_read_is_one_request_for_every_tab_with_computed_values(any_server: FakeSheetsServer) -> None:
    server = any_server
    server.load(
        KEY,
        {
            "Register": [
                ["Annual reviews"],
                [],
                ["Name", "DOB", "LAC", "Age"],
                ["Ann Example", 40123, True, Formula('=DATEDIF(B4,TODAY(),"y")', 14)],
                [None, None, None, "stray"],
            ],
            "Contributions": [["Pupil", "Role"], ["Ann Example", "EP"]],
        },
        title="SEN register",
    )
    data = open_fast(any_server).read()
    assert server.request_count == server.read_requests  # 1; 2 from a server that sends no grid data
    request = server.log[0]
    assert request.args["includeGridData"] == ["true"]
    assert "effectiveValue" in request.args["fields"][0]
    if server.no_grid_data:
        fallback = server.log[1]
        assert fallback.path.endswith("/values:batchGet")
        assert fallback.args["ranges"] == ["'Register'", "'Contributions'"]
        assert fallback.args["valueRenderOption"] == ["UNFORMATTED_VALUE"]
        assert fallback.args["dateTimeRenderOption"] == ["SERIAL_NUMBER"]
    assert data.source == "SEN register"
    assert [s.title for s in data.sheets] == ["Register", "Contributions"]
    rows = data.sheets[0].rows
    assert rows[0] == ["Annual reviews"]
    assert rows[1] == []
    # The formula's computed value, never its text; a server that sends only the typed formula gives a blank.
    assert rows[3] == (["Ann Example", 40123, True] if server.minimal else ["Ann Example", 40123, True, 14])
    assert rows[4] == [None, None, None, "stray"]
    assert data.sheets[1].rows == [["Pupil", "Role"], ["Ann Example", "EP"]]


# ---- writing ----


def test_write_appends_ar_columns_with_typed_values_and_touches_nothing_else(any_server: FakeSheetsServer) -> None:
    server = any_server
    rows = register_rows(3)
    server.load(KEY, {"Register": rows}, min_columns=4)  # exactly as wide as the SENDCo's columns
    before = server.dump_cells(KEY, "Register")
    register = open_fast(any_server)
    register.read()
    plan = plan_for(
        {
            "Pupil 00000": result_for("x", date(2026, 1, 2)),
            "Pupil 00002": {
                "AR status": CellWrite("ON TRACK", fill="C6EFCE"),
                "AR window ends": CellWrite(date(2026, 3, 31), number_format="dd/mm/yyyy"),
                "AR next action": CellWrite(HYPERLINK),
            },
        }
    )
    result = register.write(plan)
    assert result.written_rows == 2
    assert result.missing_keys == []
    assert server.request_count == server.sweep_requests  # 3; 4 from a server that sends no grid data

    batch = the_batch(server)
    if server.minimal:  # no grid size given: Google's default 26 columns assumed, and this server grows to fit
        assert not any("appendDimension" in r for r in batch)
    else:
        assert batch[0] == {"appendDimension": {"sheetId": 1000, "dimension": "COLUMNS", "length": 3}}
    assert not any("formulaValue" in json.dumps(r) for r in batch)

    cells = server.dump_cells(KEY, "Register")
    for at, cell in before.items():
        assert cells[at] == cell  # every cell the SENDCo typed, format included, is as it was
    assert [cells[(2, c)]["userEnteredValue"] for c in (4, 5, 6)] == [{"stringValue": h} for h in AR_HEADERS]
    assert cells[(2, 4)]["userEnteredFormat"]["textFormat"] == {"bold": True}
    # row 6 (index 5) is Pupil 00002
    assert cells[(5, 4)]["userEnteredValue"] == {"stringValue": "ON TRACK"}
    green = cells[(5, 4)]["userEnteredFormat"]["backgroundColor"]
    assert (round(green["red"] * 255), round(green["green"] * 255), round(green["blue"] * 255)) == (198, 239, 206)
    assert cells[(5, 5)]["userEnteredValue"] == {"numberValue": 46112}  # 31/03/2026 as a Sheets serial
    assert cells[(5, 5)]["userEnteredFormat"]["numberFormat"] == {"type": "DATE", "pattern": "dd/mm/yyyy"}
    assert cells[(5, 6)]["userEnteredValue"] == {"stringValue": HYPERLINK}
    assert (4, 4) not in cells  # Pupil 00001 had no result: nothing written on its row
    assert server.dump(KEY, "Register")[3][4:] == ["OVERDUE", 46024, "Chase x"]


def test_second_sweep_finds_moved_ar_columns_and_adds_none(any_server: FakeSheetsServer) -> None:
    server = any_server
    rows = register_rows(2)
    # The SENDCo moved the AR columns in front of their notes, in another order.
    rows[2] = ["Name", "AR next action", "DOB", "AR status", "Notes", "AR window ends"]
    rows[3] = ["Pupil 00000", "old", 40000, "PREPARE", "n", None]
    rows[4] = ["Pupil 00001", None, 40001, None, "n", None]
    server.load(KEY, {"Register": rows}, min_columns=6)
    sweep(open_fast(any_server), ["Pupil 00000", "Pupil 00001"])
    batch = the_batch(server)
    assert not any("appendDimension" in r for r in batch)
    dumped = server.dump(KEY, "Register")
    assert dumped[2] == rows[2]  # no new header
    assert dumped[3] == ["Pupil 00000", "Chase Pupil 00000", 40000, "OVERDUE", "n", 46024]
    assert dumped[4] == ["Pupil 00001", "Chase Pupil 00001", 40001, "OVERDUE", "n", 46024]


@pytest.mark.parametrize("count", [10, 1000])
def test_a_sweep_costs_three_requests_whatever_the_row_count(any_server: FakeSheetsServer, count: int) -> None:
    server = any_server
    server.load(KEY, {"Register": register_rows(count), "Contributions": [["Pupil"]]})
    result = sweep(open_fast(any_server, PATIENT), [f"Pupil {n:05d}" for n in range(count)])
    assert result.written_rows == count  # type: ignore[attr-defined]
    calls = [(r.method, r.path.rsplit("/", 1)[-1]) for r in server.log]
    if server.no_grid_data:  # one values:batchGet more, for the read only: the re-read is values:batchGet alone
        assert calls == [
            ("GET", KEY),
            ("GET", "values:batchGet"),
            ("GET", "values:batchGet"),
            ("POST", f"{KEY}:batchUpdate"),
        ]
    else:
        assert calls == [("GET", KEY), ("GET", KEY), ("POST", f"{KEY}:batchUpdate")]
    assert server.dump(KEY, "Register")[-1][4] == "OVERDUE"


def test_a_row_inserted_mid_sweep_shifts_no_result_onto_another_pupil(any_server: FakeSheetsServer) -> None:
    server = any_server
    server.load(KEY, {"Register": register_rows(5)})
    register = open_fast(any_server)
    register.read()
    # A colleague inserts a new pupil above Pupil 00001 after the read: every row below moves down one.
    server.insert_row(KEY, "Register", 5, ["New Pupil", 41000, 7, "just arrived"])
    results = {f"Pupil {n:05d}": result_for(f"Pupil {n:05d}", date(2026, 1, 2)) for n in range(5)}
    result = register.write(plan_for(results))
    assert result.written_rows == 5
    for row in server.dump(KEY, "Register")[3:]:
        if row[0] == "New Pupil":
            assert len(row) == 4  # no result landed on the newcomer
        else:
            assert row[6] == f"Chase {row[0]}"


def test_an_insert_between_read_and_reread_via_server_hook(any_server: FakeSheetsServer) -> None:
    server = any_server
    server.load(KEY, {"Register": register_rows(4)})
    server.after_request(
        server.read_requests, lambda: server.insert_row(KEY, "Register", 4, ["Zoe Newcomer", 41000, 7, "x"])
    )
    sweep(open_fast(any_server), [f"Pupil {n:05d}" for n in range(4)])
    dumped = server.dump(KEY, "Register")
    assert dumped[3][0] == "Zoe Newcomer"
    assert len(dumped[3]) == 4
    assert all(row[6] == f"Chase {row[0]}" for row in dumped[4:])


def test_rows_resorted_mid_sweep_keep_their_own_results(any_server: FakeSheetsServer) -> None:
    server = any_server
    server.load(KEY, {"Register": register_rows(6)})
    # Re-sorted Z to A by name after the read.
    server.after_request(
        server.read_requests, lambda: server.sort_rows(KEY, "Register", 4, lambda r: str(r[0]), reverse=True)
    )
    register = open_fast(any_server)
    register.read()
    results = {
        f"Pupil {n:05d}": {
            "AR status": CellWrite("ON TRACK"),
            "AR window ends": CellWrite(date(2026, 1, 1 + n), number_format="dd/mm/yyyy"),
            "AR next action": CellWrite(f"Chase Pupil {n:05d}"),
        }
        for n in range(6)
    }
    register.write(plan_for(results))
    dumped = server.dump(KEY, "Register")
    assert dumped[3][0] == "Pupil 00005"  # the sort really happened
    for row in dumped[3:]:
        n = int(str(row[0]).split()[1])
        assert row[1] == 40000 + n  # the SENDCo's own cells moved with their pupil
        assert row[5] == 46023 + n  # and so did this pupil's result
        assert row[6] == f"Chase {row[0]}"


def test_a_vanished_pupil_is_reported_and_skipped(any_server: FakeSheetsServer) -> None:
    server = any_server
    server.load(KEY, {"Register": register_rows(3)})
    server.after_request(server.read_requests, lambda: server.delete_row(KEY, "Register", 5))  # Pupil 00001 left
    result = sweep(open_fast(any_server), ["Pupil 00000", "Pupil 00001", "Pupil 00002"])
    assert result.missing_keys == ["Pupil 00001"]  # type: ignore[attr-defined]
    assert result.written_rows == 2  # type: ignore[attr-defined]
    dumped = server.dump(KEY, "Register")
    assert [row[0] for row in dumped[3:]] == ["Pupil 00000", "Pupil 00002"]
    assert all(row[6] == f"Chase {row[0]}" for row in dumped[3:])


def test_a_header_row_gone_at_write_time_writes_nothing(any_server: FakeSheetsServer) -> None:
    server = any_server
    server.load(KEY, {"Register": register_rows(2)})
    register = open_fast(any_server)
    register.read()
    server.load(KEY, {"Register": [["Nothing here"]]})
    with pytest.raises(RegisterError, match="header row"):
        register.write(plan_for({"Pupil 00000": result_for("x", date(2026, 1, 2))}))
    assert server.dump(KEY, "Register") == [["Nothing here"]]
    assert server.request_count == server.read_requests + 1


# ---- answers other Sheets-compatible servers may give ----


def test_odd_but_valid_grid_answers_read_as_google_answers_do() -> None:
    from connectors.sheets_codec import grid_rows

    sheet = {
        "properties": {"title": "Register"},  # no sheetId (0), no gridProperties
        "data": [
            {
                # startRow/startColumn absent (zero), int64 as a string, rows without `values`, null cells
                "rowData": [
                    {"values": [{"formattedValue": "Name", "userEnteredValue": {"stringValue": "Name"}}]},
                    {},
                    {"values": None},
                    {
                        "values": [
                            {"effectiveValue": {"stringValue": "Ann"}, "formattedValue": "Ann", "note": "x"},
                            None,
                            {"userEnteredValue": {"numberValue": 40123}, "formattedValue": "07/11/2009"},
                            {"userEnteredValue": {"formulaValue": "=TODAY()"}},  # no computed value: blank
                            {"userEnteredValue": {"formulaValue": "=1+1"}, "effectiveValue": {"numberValue": 2}},
                            {"effectiveValue": {"stringValue": '=HYPERLINK("http://x","y")'}},
                            {"effectiveValue": {}, "userEnteredValue": {"boolValue": True}},
                            {"effectiveValue": {"numberValue": 5.0}},  # a Java server's whole number
                            {"effectiveValue": {"numberValue": 0.5}},
                            {},
                        ]
                    },
                ],
            },
            {"startRow": "5", "startColumn": 2, "rowData": [{"values": [{"effectiveValue": {"numberValue": 7}}]}]},
        ],
    }
    assert grid_rows(sheet) == [
        ["Name"],
        [],
        [],
        ["Ann", None, 40123, None, 2, '=HYPERLINK("http://x","y")', True, 5, 0.5],
        [],
        [None, None, 7],
    ]
    assert type(grid_rows(sheet)[3][7]) is int
    assert grid_rows({"properties": {"title": "Chart"}}) == []
    assert grid_rows({"data": None}) == []


def test_values_answers_are_placed_by_their_range() -> None:
    from connectors.sheets_codec import split_range, values_rows

    assert split_range("'Pupils'' list'!A1:Z1000") == ("Pupils' list", 0, 0)
    assert split_range("Register!C3:F9") == ("Register", 2, 2)
    assert split_range("'Register'") == ("Register", 0, 0)
    assert split_range("Register") == ("Register", 0, 0)
    assert values_rows({"range": "'R'!A1:Z1000", "values": [["Name", "", 40123.0], [], ["Ann", True, 0.25]]}) == [
        ["Name", None, 40123],
        [],
        ["Ann", True, 0.25],
    ]
    # A server that trims the range to its data, or ignores majorDimension=ROWS, still lands cells where they are.
    assert values_rows({"range": "R!B2:C3", "values": [["x", "y"]]}) == [[], [None, "x", "y"]]
    assert values_rows({"range": "R!A1:B2", "majorDimension": "COLUMNS", "values": [["a", "b"], ["c"]]}) == [
        ["a", "c"],
        ["b"],
    ]
    assert values_rows({"range": "R!A1:Z1000"}) == []  # an empty tab has no `values`


def test_a_server_without_grid_data_writes_without_a_read_first() -> None:
    with FakeSheetsServer(no_grid_data=True) as server:
        server.load(KEY, {"Register": register_rows(2), "Key": [["key"]]})
        result = open_fast(server).write(plan_for({"Pupil 00001": result_for("Pupil 00001", date(2026, 1, 2))}))
        assert result.written_rows == 1
        # every tab described, then every tab's values in one values:batchGet, then the one batch
        assert [r.path.rsplit("/", 1)[-1] for r in server.log] == [KEY, "values:batchGet", f"{KEY}:batchUpdate"]
        assert server.log[1].args["ranges"] == ["'Register'", "'Key'"]
        assert server.dump(KEY, "Register")[4][4:] == ["OVERDUE", 46024, "Chase Pupil 00001"]


def test_a_server_without_grid_data_rereads_values_only_after_a_refused_write() -> None:
    with FakeSheetsServer(no_grid_data=True) as server:
        server.load(KEY, {"Register": register_rows(3)}, min_columns=4)
        server.faults.append(Fault(status=429, retry_after=0.1, kind="batchUpdate"))
        # A colleague inserts a row while the product waits out the 429.
        server.after_request(4, lambda: server.insert_row(KEY, "Register", 4, ["Zoe Newcomer", 41000, 7, "x"]))
        result = sweep(open_fast(server), ["Pupil 00000", "Pupil 00001", "Pupil 00002"])
        assert result.written_rows == 3  # type: ignore[attr-defined]
        assert [(r.path.rsplit("/", 1)[-1], r.status) for r in server.log] == [
            (KEY, 200),
            ("values:batchGet", 200),
            ("values:batchGet", 200),
            (f"{KEY}:batchUpdate", 429),
            ("values:batchGet", 200),
            (f"{KEY}:batchUpdate", 200),
        ]
        dumped = server.dump(KEY, "Register")
        assert dumped[3] == ["Zoe Newcomer", 41000, 7, "x"]
        assert all(row[6] == f"Chase {row[0]}" for row in dumped[4:])
        assert server.sheet(KEY, "Register").column_count == 7  # the columns were added once


def test_the_batch_is_strict_v4_json(any_server: FakeSheetsServer) -> None:
    """No null, no empty rows, only reference keys: what a strict server accepts (the fake refuses the rest)."""
    any_server.load(KEY, {"Register": register_rows(4)}, min_columns=4)
    register = open_fast(any_server)
    register.read()
    register.write(
        plan_for(
            {
                "Pupil 00000": {"AR status": CellWrite(None), "AR next action": CellWrite(HYPERLINK, fill="#FFC7CE")},
                "Pupil 00002": result_for("x", date(2026, 1, 2)),
            }
        )
    )
    for request in the_batch(any_server):
        ((kind, body),) = request.items()
        assert kind in {"updateCells", "appendDimension", "addSheet"}
        if kind == "updateCells":
            assert set(body) == {"range", "rows", "fields"}
            assert set(body["range"]) == {
                "sheetId",
                "startRowIndex",
                "endRowIndex",
                "startColumnIndex",
                "endColumnIndex",
            }
            assert body["rows"]
            assert all(row["values"] for row in body["rows"])
            assert not body["fields"].startswith(("rows", "values"))  # relative to CellData
    cells = any_server.dump_cells(KEY, "Register")
    assert cells[(3, 6)]["userEnteredValue"] == {"stringValue": HYPERLINK}
    assert (3, 4) not in cells  # a blank result clears the cell; nothing null was sent


# ---- faults ----


@pytest.mark.parametrize("json_body", [True, False], ids=["429-json", "429-bare"])
def test_429_is_retried_after_retry_after(server: FakeSheetsServer, json_body: bool) -> None:
    server.load(KEY, {"Register": register_rows(2)})
    server.faults.append(Fault(status=429, json_body=json_body, retry_after=0.4, kind="batchUpdate"))
    started = time.monotonic()
    sweep(open_fast(server), ["Pupil 00000"])
    assert time.monotonic() - started >= 0.4  # Retry-After was honoured, not just the small back-off
    # read, re-read, write (429), re-read, write: a refused batch is rebuilt from a fresh re-read, never resent stale
    assert [(r.method, r.status) for r in server.log] == [
        ("GET", 200),
        ("GET", 200),
        ("POST", 429),
        ("GET", 200),
        ("POST", 200),
    ]
    assert server.dump(KEY, "Register")[3][4] == "OVERDUE"


def test_a_row_inserted_while_waiting_out_a_429_still_gets_nothing(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(3)})
    server.faults.append(Fault(status=429, retry_after=0.2, kind="batchUpdate"))
    # The colleague's insert lands after the refused write, during the Retry-After wait.
    server.after_request(3, lambda: server.insert_row(KEY, "Register", 4, ["Zoe Newcomer", 41000, 7, "x"]))
    result = sweep(open_fast(server), ["Pupil 00000", "Pupil 00001", "Pupil 00002"])
    assert result.written_rows == 3  # type: ignore[attr-defined]
    dumped = server.dump(KEY, "Register")
    assert dumped[3] == ["Zoe Newcomer", 41000, 7, "x"]
    assert all(row[6] == f"Chase {row[0]}" for row in dumped[4:])


def test_500_on_the_read_is_retried(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(2)})
    server.faults.append(Fault(status=500, kind="get"))
    data = open_fast(server).read()
    assert data.sheets[0].rows[3][0] == "Pupil 00000"
    assert [r.status for r in server.log] == [500, 200]


def test_slow_answer_times_out_and_is_retried(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(2)})
    # The slow answer takes a minute, against a read timeout of 2 s: no wall-clock bound on the test, so a loaded
    # machine cannot fail it. The proof that the client did not wait is that the slow request is still unanswered
    # (status 0) when the read returns, with the data of a later request.
    server.faults.append(Fault(delay=60, kind="get"))
    data = open_fast(server).read()
    assert data.sheets[0].rows[3][0] == "Pupil 00000"
    assert server.log[0].status == 0  # it did not wait for the slow answer
    assert server.request_count >= 2


def test_slow_write_is_retried_without_duplicating_anything(server: FakeSheetsServer) -> None:
    rows = register_rows(2)
    rows[2] += AR_HEADERS  # AR columns exist already: the write is a plain, repeatable updateCells batch
    server.load(KEY, {"Register": rows})
    server.faults.append(Fault(delay=6.0, kind="batchUpdate"))  # beyond FAST's 2 s read timeout
    sweep(open_fast(server), ["Pupil 00000", "Pupil 00001"])
    dumped = server.dump(KEY, "Register")
    assert dumped[2] == ["Name", "DOB", "Year", "Notes", *AR_HEADERS]
    assert [row[4] for row in dumped[3:]] == ["OVERDUE", "OVERDUE"]


def test_500_on_a_column_adding_write_looks_again_before_retrying(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(2)}, min_columns=4)
    server.faults.append(Fault(status=500, kind="batchUpdate"))
    sweep(open_fast(server), ["Pupil 00000"])
    # read, re-read, write (500), re-read, write: never the same appendDimension sent blindly twice
    assert [(r.method, r.status) for r in server.log] == [
        ("GET", 200),
        ("GET", 200),
        ("POST", 500),
        ("GET", 200),
        ("POST", 200),
    ]
    assert server.sheet(KEY, "Register").column_count == 7
    assert server.dump(KEY, "Register")[2] == ["Name", "DOB", "Year", "Notes", *AR_HEADERS]


@pytest.mark.parametrize("status", [429, 500])
def test_persistent_failure_on_the_write_raises_and_writes_nothing(server: FakeSheetsServer, status: int) -> None:
    server.load(KEY, {"Register": register_rows(3)})
    before = server.dump_cells(KEY, "Register")
    server.faults.extend(Fault(status=status, json_body=False, kind="batchUpdate") for _ in range(50))
    with pytest.raises(RegisterError) as raised:
        sweep(open_fast(server), ["Pupil 00000", "Pupil 00001"])
    message = str(raised.value)
    assert f"HTTP {status}" in message
    assert message.count(". ") == 0  # one sentence, not a traceback
    assert "the sweep stopped" in message
    if status == 429:  # refused, so certainly not applied
        assert "nothing was written" in message
    assert "Pupil" not in message
    assert server.dump_cells(KEY, "Register") == before


def test_persistent_slowness_gives_up_within_the_deadline(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(1)})
    server.faults.extend(Fault(delay=0.8, kind="get") for _ in range(20))
    policy = RetryPolicy(timeout_s=(1.0, 0.3), deadline_s=1.5, max_attempts=10, base_delay_s=0.05, max_delay_s=0.1)
    with pytest.raises(RegisterError, match="kept failing") as raised:
        open_fast(server, policy).read()
    # The deadline, not the attempt limit, stopped it: each attempt waits at least its 0.3 s timeout, so 1.5 s holds
    # at most 5 of the 10 allowed (fewer on a loaded machine). Counted, not timed: no wall-clock race.
    counted = re.search(r"(\d+) attempts", str(raised.value))
    assert counted is not None
    assert int(counted.group(1)) < policy.max_attempts
    assert 1 <= server.request_count < policy.max_attempts


def test_a_long_retry_after_beyond_the_deadline_stops_at_once(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(1)})
    server.faults.append(Fault(status=429, retry_after=30, kind="get"))
    started = time.monotonic()
    with pytest.raises(RegisterError, match="HTTP 429"):
        open_fast(server).read()
    assert time.monotonic() - started < 2
    assert server.request_count == 1


def test_unknown_sheet_is_one_clear_sentence(server: FakeSheetsServer) -> None:
    with pytest.raises(RegisterError, match="No Google Sheet has the key"):
        open_fast(server).read()


# ---- the fake itself is strict enough to catch a wrong write ----


def test_fake_refuses_user_entered_and_formula_writes(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(1)})
    base = f"http://{server.host}/v4/spreadsheets/{KEY}"
    user_entered = requests.put(
        f"{base}/values/Register!E4",
        params={"valueInputOption": "USER_ENTERED"},
        json={"values": [[HYPERLINK]]},
        timeout=5,
    )
    assert user_entered.status_code == 400
    formula = requests.post(
        f"{base}:batchUpdate",
        json={
            "requests": [
                {
                    "updateCells": {
                        "start": {"sheetId": 1000, "rowIndex": 3, "columnIndex": 4},
                        "rows": [{"values": [{"userEnteredValue": {"formulaValue": HYPERLINK}}]}],
                        "fields": "userEnteredValue",
                    }
                }
            ]
        },
        timeout=5,
    )
    assert formula.status_code == 400
    assert "formulaValue" in formula.json()["error"]["message"]
    outside_mask = requests.post(
        f"{base}:batchUpdate",
        json={
            "requests": [
                {
                    "updateCells": {
                        "start": {"sheetId": 1000, "rowIndex": 3, "columnIndex": 4},
                        "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}}]}],
                        "fields": "userEnteredFormat.backgroundColor",
                    }
                }
            ]
        },
        timeout=5,
    )
    assert outside_mask.status_code == 400
    assert server.dump(KEY, "Register") == register_rows(1)
