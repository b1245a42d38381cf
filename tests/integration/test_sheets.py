"""The Google Sheets connector against the fake Sheets API over a real socket: gspread's own HTTP code does the talking."""

from __future__ import annotations

import json
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
from tests.fakes.sheets_api import FakeSheetsServer, Fault, Formula

KEY = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
AR_HEADERS = ["AR status", "AR window ends", "AR next action"]
HYPERLINK = '=HYPERLINK("http://x","y")'


def header_row(rows: list[list[CellValue]]) -> int | None:
    return next((i + 1 for i, row in enumerate(rows) if row and row[0] == "Name"), None)


def first_cell(row: list[CellValue]) -> Hashable | None:
    return row[0] if row and row[0] not in (None, "") else None


def plan_for(results: Mapping[Any, Mapping[str, CellWrite]]) -> WritePlan:
    return WritePlan(sheet="Register", headers=AR_HEADERS, find_header_row=header_row, key_of=first_cell, rows=results)


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
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer() as fake:
        monkeypatch.setenv("SHEETS_EMULATOR_HOST", fake.host)
        yield fake


FAST = RetryPolicy(timeout_s=(1.0, 0.5), deadline_s=5.0, max_attempts=5, base_delay_s=0.05, max_delay_s=0.2)


def open_fast(policy: RetryPolicy = FAST) -> SheetsRegister:
    return open_sheet_register(f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0", policy=policy)


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
    register = open_sheet_register(KEY, credentials=credentials, policy=FAST)
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
        open_sheet_register(KEY, credentials=credentials, policy=FAST).read()
    assert [r.path for r in server.log] == ["/token"]  # no Sheets request went out unauthenticated


def test_service_account_key_file_gets_the_spreadsheets_scope_only(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(service_account_info("https://oauth2.googleapis.com/token")))
    monkeypatch.delenv("SHEETS_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    register = open_sheet_register(KEY)
    assert isinstance(register.http.auth, service_account.Credentials)
    assert tuple(register.http.auth.scopes) == SHEETS_SCOPES
    assert register.http.base_url is None


def test_emulator_host_gets_every_request_with_no_authorization(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(1)})
    register = open_fast()
    register.read()
    assert register.http.base_url == f"http://{server.host}"
    assert server.request_count == 1  # the request reached the emulator, not sheets.googleapis.com
    assert server.log[0].path == f"/v4/spreadsheets/{KEY}"
    assert server.log[0].authorization is None  # anonymous credentials: no token is fetched or sent


# ---- reading ----


def test_read_is_one_request_for_every_tab_with_computed_values(server: FakeSheetsServer) -> None:
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
    data = open_fast().read()
    assert server.request_count == 1
    request = server.log[0]
    assert request.args["includeGridData"] == ["true"]
    assert "effectiveValue" in request.args["fields"][0]
    assert data.source == "SEN register"
    assert [s.title for s in data.sheets] == ["Register", "Contributions"]
    rows = data.sheets[0].rows
    assert rows[0] == ["Annual reviews"]
    assert rows[1] == []
    assert rows[3] == ["Ann Example", 40123, True, 14]  # the formula's computed value, never its text
    assert rows[4] == [None, None, None, "stray"]
    assert data.sheets[1].rows == [["Pupil", "Role"], ["Ann Example", "EP"]]


# ---- writing ----


def test_write_appends_ar_columns_with_typed_values_and_touches_nothing_else(server: FakeSheetsServer) -> None:
    rows = register_rows(3)
    server.load(KEY, {"Register": rows}, min_columns=4)  # exactly as wide as the SENDCo's columns
    before = server.dump_cells(KEY, "Register")
    register = open_fast()
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
    assert server.request_count == 3

    batch = server.log[2].body["requests"]
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


def test_second_sweep_finds_moved_ar_columns_and_adds_none(server: FakeSheetsServer) -> None:
    rows = register_rows(2)
    # The SENDCo moved the AR columns in front of their notes, in another order.
    rows[2] = ["Name", "AR next action", "DOB", "AR status", "Notes", "AR window ends"]
    rows[3] = ["Pupil 00000", "old", 40000, "PREPARE", "n", None]
    rows[4] = ["Pupil 00001", None, 40001, None, "n", None]
    server.load(KEY, {"Register": rows}, min_columns=6)
    sweep(open_fast(), ["Pupil 00000", "Pupil 00001"])
    batch = server.log[2].body["requests"]
    assert not any("appendDimension" in r for r in batch)
    dumped = server.dump(KEY, "Register")
    assert dumped[2] == rows[2]  # no new header
    assert dumped[3] == ["Pupil 00000", "Chase Pupil 00000", 40000, "OVERDUE", "n", 46024]
    assert dumped[4] == ["Pupil 00001", "Chase Pupil 00001", 40001, "OVERDUE", "n", 46024]


@pytest.mark.parametrize("count", [10, 1000])
def test_a_sweep_costs_three_requests_whatever_the_row_count(server: FakeSheetsServer, count: int) -> None:
    server.load(KEY, {"Register": register_rows(count), "Contributions": [["Pupil"]]})
    result = sweep(open_fast(), [f"Pupil {n:05d}" for n in range(count)])
    assert result.written_rows == count  # type: ignore[attr-defined]
    assert [(r.method, r.path.endswith(":batchUpdate")) for r in server.log] == [
        ("GET", False),
        ("GET", False),
        ("POST", True),
    ]
    assert server.dump(KEY, "Register")[-1][4] == "OVERDUE"


def test_a_row_inserted_mid_sweep_shifts_no_result_onto_another_pupil(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(5)})
    register = open_fast()
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


def test_an_insert_between_read_and_reread_via_server_hook(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(4)})
    server.after_request(1, lambda: server.insert_row(KEY, "Register", 4, ["Zoe Newcomer", 41000, 7, "x"]))
    sweep(open_fast(), [f"Pupil {n:05d}" for n in range(4)])
    dumped = server.dump(KEY, "Register")
    assert dumped[3][0] == "Zoe Newcomer"
    assert len(dumped[3]) == 4
    assert all(row[6] == f"Chase {row[0]}" for row in dumped[4:])


def test_rows_resorted_mid_sweep_keep_their_own_results(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(6)})
    # Re-sorted Z to A by name after the read.
    server.after_request(1, lambda: server.sort_rows(KEY, "Register", 4, lambda r: str(r[0]), reverse=True))
    register = open_fast()
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


def test_a_vanished_pupil_is_reported_and_skipped(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(3)})
    server.after_request(1, lambda: server.delete_row(KEY, "Register", 5))  # Pupil 00001 left
    result = sweep(open_fast(), ["Pupil 00000", "Pupil 00001", "Pupil 00002"])
    assert result.missing_keys == ["Pupil 00001"]  # type: ignore[attr-defined]
    assert result.written_rows == 2  # type: ignore[attr-defined]
    dumped = server.dump(KEY, "Register")
    assert [row[0] for row in dumped[3:]] == ["Pupil 00000", "Pupil 00002"]
    assert all(row[6] == f"Chase {row[0]}" for row in dumped[3:])


def test_a_header_row_gone_at_write_time_writes_nothing(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(2)})
    register = open_fast()
    register.read()
    server.load(KEY, {"Register": [["Nothing here"]]})
    with pytest.raises(RegisterError, match="header row"):
        register.write(plan_for({"Pupil 00000": result_for("x", date(2026, 1, 2))}))
    assert server.dump(KEY, "Register") == [["Nothing here"]]
    assert server.request_count == 2


# ---- faults ----


@pytest.mark.parametrize("json_body", [True, False], ids=["429-json", "429-bare"])
def test_429_is_retried_after_retry_after(server: FakeSheetsServer, json_body: bool) -> None:
    server.load(KEY, {"Register": register_rows(2)})
    server.faults.append(Fault(status=429, json_body=json_body, retry_after=0.4, kind="batchUpdate"))
    started = time.monotonic()
    sweep(open_fast(), ["Pupil 00000"])
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
    result = sweep(open_fast(), ["Pupil 00000", "Pupil 00001", "Pupil 00002"])
    assert result.written_rows == 3  # type: ignore[attr-defined]
    dumped = server.dump(KEY, "Register")
    assert dumped[3] == ["Zoe Newcomer", 41000, 7, "x"]
    assert all(row[6] == f"Chase {row[0]}" for row in dumped[4:])


def test_500_on_the_read_is_retried(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(2)})
    server.faults.append(Fault(status=500, kind="get"))
    data = open_fast().read()
    assert data.sheets[0].rows[3][0] == "Pupil 00000"
    assert [r.status for r in server.log] == [500, 200]


def test_slow_answer_times_out_and_is_retried(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(2)})
    server.faults.append(Fault(delay=1.5, kind="get"))  # the client's read timeout is 0.5 s
    started = time.monotonic()
    data = open_fast().read()
    assert time.monotonic() - started < 1.4  # it did not wait for the slow answer
    assert data.sheets[0].rows[3][0] == "Pupil 00000"
    assert server.request_count == 2


def test_slow_write_is_retried_without_duplicating_anything(server: FakeSheetsServer) -> None:
    rows = register_rows(2)
    rows[2] += AR_HEADERS  # AR columns exist already: the write is a plain, repeatable updateCells batch
    server.load(KEY, {"Register": rows})
    server.faults.append(Fault(delay=1.0, kind="batchUpdate"))
    sweep(open_fast(), ["Pupil 00000", "Pupil 00001"])
    dumped = server.dump(KEY, "Register")
    assert dumped[2] == ["Name", "DOB", "Year", "Notes", *AR_HEADERS]
    assert [row[4] for row in dumped[3:]] == ["OVERDUE", "OVERDUE"]


def test_500_on_a_column_adding_write_looks_again_before_retrying(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(2)}, min_columns=4)
    server.faults.append(Fault(status=500, kind="batchUpdate"))
    sweep(open_fast(), ["Pupil 00000"])
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
        sweep(open_fast(), ["Pupil 00000", "Pupil 00001"])
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
    started = time.monotonic()
    with pytest.raises(RegisterError, match="kept failing"):
        open_fast(policy).read()
    assert time.monotonic() - started < 2.5


def test_a_long_retry_after_beyond_the_deadline_stops_at_once(server: FakeSheetsServer) -> None:
    server.load(KEY, {"Register": register_rows(1)})
    server.faults.append(Fault(status=429, retry_after=30, kind="get"))
    started = time.monotonic()
    with pytest.raises(RegisterError, match="HTTP 429"):
        open_fast().read()
    assert time.monotonic() - started < 2
    assert server.request_count == 1


def test_unknown_sheet_is_one_clear_sentence(server: FakeSheetsServer) -> None:
    with pytest.raises(RegisterError, match="No Google Sheet has the key"):
        open_fast().read()


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
