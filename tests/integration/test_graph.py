"""The Microsoft Graph register adapter against the Graph fake over a real socket: requests' own HTTP does the talking,
and the fake keeps the workbook in openpyxl, so what was written is checked cell by cell."""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook

from connectors.base import CellValue, CellWrite, RegisterError, WritePlan
from connectors.graph_codec import is_graph_reference, item_path
from connectors.graph_http import GraphClient, GraphPolicy
from connectors.graph_register import GraphRegister
from tests.fakes.graph_api import FakeGraphServer, FakeItem, Fault, share_token

LINK = "https://oakfield.sharepoint.com/:x:/s/SEND/EbC9xYZ123?e=AbCd"
AR_HEADERS = ["AR status", "AR window ends", "AR next action"]
HYPERLINK = '=HYPERLINK("http://x","y")'
FAST = GraphPolicy(timeout_s=(1.0, 2.0), deadline_s=6.0, max_attempts=5, base_delay_s=0.05, max_delay_s=0.2)


def header_row(rows: list[list[CellValue]]) -> int | None:
    return next((i + 1 for i, row in enumerate(rows) if row and row[0] == "Name"), None)


def first_cell(row: list[CellValue]) -> Hashable | None:
    return row[0] if row and row[0] not in (None, "") else None


def plan_for(results: Mapping[Any, Mapping[str, CellWrite]], sheet: str = "Register") -> WritePlan:
    return WritePlan(sheet=sheet, headers=AR_HEADERS, find_header_row=header_row, key_of=first_cell, rows=results,
                     owned_headers=frozenset(AR_HEADERS))  # fmt: skip


def result_for(name: str, due: date, status: str = "OVERDUE", fill: str = "F4B6B6") -> dict[str, CellWrite]:
    return {
        "AR status": CellWrite(status, fill=fill),
        "AR window ends": CellWrite(due, number_format="dd/mm/yyyy"),
        "AR next action": CellWrite(f"Chase {name}"),
    }


def register_book(count: int) -> Workbook:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Register"
    ws.append(["Annual reviews 2025-26"])
    ws.append([])
    ws.append(["Name", "DOB", "Year", "Notes"])
    for n in range(count):
        ws.append([f"Pupil {n:05d}", date(2015, 1, 1 + n % 28), 5 + n % 7, HYPERLINK if n == 0 else f"note {n}"])
        ws.cell(row=ws.max_row, column=4).data_type = "s"
        ws.cell(row=ws.max_row, column=2).number_format = "dd/mm/yyyy"
    book.create_sheet("Key")["A1"] = "Red: chase"
    return book


@pytest.fixture
def server() -> Iterator[FakeGraphServer]:
    with FakeGraphServer() as fake:
        yield fake


def open_register(server: FakeGraphServer, ref: str = LINK, policy: GraphPolicy = FAST) -> GraphRegister:
    client = GraphClient(lambda **_: "test-token", base_url=f"http://{server.host}", policy=policy)
    return GraphRegister(ref, client)


def load(server: FakeGraphServer, count: int) -> FakeItem:
    return server.add_workbook(register_book(count), sharing_url=LINK)


def sweep(register: GraphRegister, names: list[str]) -> Any:
    register.read()
    return register.write(plan_for({name: result_for(name, date(2026, 1, 2)) for name in names}))


def values(server: FakeGraphServer, item: FakeItem, sheet: str = "Register") -> list[list[Any]]:
    ws = server.saved(item)[sheet]
    return [list(row) for row in ws.iter_rows(values_only=True)]


# ---- references ----


def test_references_are_told_apart_and_encoded_as_graph_does() -> None:
    assert is_graph_reference(LINK)
    assert is_graph_reference("graph:b!drive1/01ABC")
    assert not is_graph_reference("register.xlsx")
    assert not is_graph_reference("https://docs.google.com/spreadsheets/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms")
    assert item_path(LINK) == f"/shares/{share_token(LINK)}/driveItem"
    assert item_path("graph:b!drive1/01ABC") == "/drives/b!drive1/items/01ABC"
    with pytest.raises(RegisterError, match="not a OneDrive or SharePoint link"):
        item_path("https://example.com/register.xlsx")
    with pytest.raises(RegisterError, match="personal OneDrive"):
        item_path("https://1drv.ms/x/s!AbC")


# ---- reading and writing ----


def test_read_is_five_requests_in_one_session_with_serial_dates(server: FakeGraphServer) -> None:
    load(server, 3)
    data = open_register(server).read()
    assert data.source == "EHCP register.xlsx"
    assert [s.title for s in data.sheets] == ["Register", "Key"]
    rows = data.sheets[0].rows
    assert rows[2] == ["Name", "DOB", "Year", "Notes"]
    assert rows[3] == ["Pupil 00000", (date(2015, 1, 1) - date(1899, 12, 30)).days, 5, HYPERLINK]
    log = server.graph_log
    assert len(log) == 5
    assert [r.path.rsplit("/", 1)[-1] for r in log] == [
        "driveItem",
        "createSession",
        "worksheets",
        "$batch",
        "closeSession",
    ]
    session = log[1].status == 201 and server.closed_sessions[0]
    assert log[2].session == log[4].session == session  # the $batch carries it on each request inside
    assert all(sub["headers"]["workbook-session-id"] == session for sub in log[3].batch)
    assert server.sessions == {}  # closed


def test_write_appends_ar_columns_as_text_dates_and_rules_and_nothing_else(server: FakeGraphServer) -> None:
    item = load(server, 3)
    before = values(server, item)
    result = sweep(open_register(server), ["Pupil 00000", "Pupil 00002"])
    assert result.written_rows == 2
    assert result.missing_keys == []
    after = values(server, item)
    assert after[2][4:7] == ("AR status", "AR window ends", "AR next action") or after[2][4:7] == AR_HEADERS
    assert after[3][4:7] == ["OVERDUE", datetime(2026, 1, 2), "Chase Pupil 00000"]
    assert after[4][4:] == [None, None, None]  # Pupil 00001 was not in the plan
    assert [row[:4] for row in after] == [row[:4] for row in before]  # the SENDCo's cells as they were
    ws = server.saved(item)["Register"]
    assert ws["F4"].number_format == "dd/mm/yyyy"
    assert ws["E3"].font.bold
    assert all(
        not (isinstance(c.value, str) and c.value.startswith("=")) or c.column == 4 for r in ws.iter_rows() for c in r
    )
    assert ws["D4"].value == HYPERLINK  # the SENDCo's formula-like text is still text
    assert ws["D4"].data_type == "s"
    # The status colour is a conditional-format rule on the AR status column, not a per-row fill.
    assert [r["cellValue"]["rule"]["formula1"] for r in item.conditional["Register"]] == ['="OVERDUE"']
    assert item.conditional["Register"][0]["range"] == "E4:E1048576"
    assert ws["E4"].fill.fgColor.rgb in ("00000000", None)
    write = server.graph_log[5:]
    assert [r.path.rsplit("/", 1)[-1] for r in write] == ["createSession", "$batch", "$batch", "closeSession"]
    assert len(server.graph_log) == 9


def test_formula_looking_text_is_written_inert(server: FakeGraphServer) -> None:
    item = load(server, 1)
    register = open_register(server)
    register.read()
    tricky = ["=1+1", "+44 7700 900123", "1/2/2025", "TRUE", "Mar 2025", "'quoted", "-5", "3 Apr 2025", "#N/A", "12"]
    plan = WritePlan(sheet="Register", headers=["AR issues"], find_header_row=header_row, key_of=first_cell,
                     owned_headers=frozenset({"AR issues"}),
                     rows={"Pupil 00000": {"AR issues": CellWrite(" | ".join(tricky))}})  # fmt: skip
    register.write(plan)
    for text in tricky:
        register.write(replace_rows(plan, {"Pupil 00000": {"AR issues": CellWrite(text)}}))
        cell = server.saved(item)["Register"]["E4"]
        assert (cell.value, cell.data_type) == (text, "s")
    sent = [
        s["body"]["values"]
        for r in server.graph_log
        for s in r.batch
        if s["method"] == "PATCH" and "values" in s.get("body", {})
    ]
    assert all(str(v[0][0]).startswith("'") for v in sent[-len(tricky) :])
    register.write(replace_rows(plan, {"Pupil 00000": {"AR issues": CellWrite("Chase the EP by Fri 7 Nov 2025")}}))
    last = [s for s in server.graph_log[-2].batch if s["method"] == "PATCH"][-1]
    assert last["body"]["values"] == [["Chase the EP by Fri 7 Nov 2025"]]  # plain words go as they are
    assert server.saved(item)["Register"]["E4"].value == "Chase the EP by Fri 7 Nov 2025"


def test_a_tab_name_with_spaces_quotes_and_brackets(server: FakeGraphServer) -> None:
    book = register_book(2)
    book["Register"].title = "Pupils' register (Y7)"
    item = server.add_workbook(book, sharing_url=LINK)
    register = open_register(server)
    assert register.read().sheets[0].rows[2] == ["Name", "DOB", "Year", "Notes"]
    register.write(
        plan_for({"Pupil 00000": result_for("Pupil 00000", date(2026, 1, 2))}, sheet="Pupils' register (Y7)")
    )
    assert values(server, item, "Pupils' register (Y7)")[3][4] == "OVERDUE"


def replace_rows(plan: WritePlan, rows: Mapping[Any, Mapping[str, CellWrite]]) -> WritePlan:
    from dataclasses import replace

    return replace(plan, rows=rows)


def test_second_sweep_finds_moved_columns_and_adds_no_rule_twice(server: FakeGraphServer) -> None:
    item = load(server, 3)
    sweep(open_register(server), ["Pupil 00000"])
    ws = item.book["Register"]  # type: ignore[index]
    ws.move_range("E3:G6", cols=2)  # the SENDCo moves the AR columns right
    sweep(open_register(server), ["Pupil 00001"])
    after = values(server, item)
    assert after[2][6:9] == AR_HEADERS
    assert after[4][6] == "OVERDUE"
    assert len(item.conditional["Register"]) == 1
    register = open_register(server)
    register.read()
    register.write(plan_for({"Pupil 00002": result_for("Pupil 00002", date(2026, 2, 2), "ON TRACK", "C6E0B4")}))
    assert [r["cellValue"]["rule"]["formula1"] for r in item.conditional["Register"]] == ['="OVERDUE"', '="ON TRACK"']


@pytest.mark.parametrize("count", [10, 1000])
def test_requests_per_sweep_do_not_grow_with_rows(server: FakeGraphServer, count: int) -> None:
    load(server, count)
    sweep(open_register(server), [f"Pupil {n:05d}" for n in range(count)])
    assert len(server.graph_log) == 9


def test_contributions_tab_is_created_with_headers_and_rows(server: FakeGraphServer) -> None:
    item = load(server, 2)
    register = open_register(server)
    register.read()
    contributions = WritePlan(
        sheet="Contributions", headers=["Pupil", "Role", "Requested"], find_header_row=lambda rows: 1,
        key_of=first_cell, rows={}, create_if_missing=True,
        append_rows=[{"Pupil": CellWrite("Pupil 00000"), "Role": CellWrite("Parent/carer"),
                      "Requested": CellWrite(date(2025, 10, 1), number_format="dd/mm/yyyy")}],
    )  # fmt: skip
    result = register.write(plan_for({"Pupil 00000": result_for("Pupil 00000", date(2026, 1, 2))}), contributions)
    assert result.more[0].created_sheet
    assert result.more[0].appended_rows == 1
    rows = values(server, item, "Contributions")
    assert rows[:2] == [("Pupil", "Role", "Requested"), ("Pupil 00000", "Parent/carer", datetime(2025, 10, 1))] or rows[
        :2
    ] == [["Pupil", "Role", "Requested"], ["Pupil 00000", "Parent/carer", datetime(2025, 10, 1)]]
    assert len(server.graph_log) == 9  # the new tab goes in the same write $batch


# ---- colleagues' edits between read and write ----


def test_a_row_inserted_between_read_and_write_keeps_its_own_cells(server: FakeGraphServer) -> None:
    item = load(server, 3)
    register = open_register(server)
    register.read()
    server.insert_row(item, "Register", 4, ["Zoe Newcomer", date(2016, 2, 2), 4, "new"])
    result = register.write(
        plan_for({f"Pupil {n:05d}": result_for(f"Pupil {n:05d}", date(2026, 1, 2)) for n in range(3)})
    )
    assert result.written_rows == 3
    rows = values(server, item)
    assert rows[3][:5] == ["Zoe Newcomer", datetime(2016, 2, 2), 4, "new", None]
    assert all(row[6] == f"Chase {row[0]}" for row in rows[4:7])


def test_rows_sorted_between_read_and_write_keep_their_own_results(server: FakeGraphServer) -> None:
    item = load(server, 5)
    register = open_register(server)
    register.read()
    server.sort_rows(item, "Register", 4, key=lambda r: str(r[0]), reverse=True)
    register.write(plan_for({f"Pupil {n:05d}": result_for(f"Pupil {n:05d}", date(2026, 1, 1 + n)) for n in range(5)}))
    for row in values(server, item)[3:8]:
        n = int(str(row[0]).split()[1])
        assert row[4:7] == ["OVERDUE", datetime(2026, 1, 1 + n), f"Chase {row[0]}"]


# ---- faults ----


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_is_retried_after_retry_after(server: FakeGraphServer, status: int) -> None:
    item = load(server, 2)
    server.faults.append(Fault(status, retry_after=0.3, match="$batch"))
    started = time.monotonic()
    sweep(open_register(server), ["Pupil 00000"])
    assert time.monotonic() - started >= 0.3
    assert values(server, item)[3][4] == "OVERDUE"


def test_a_throttled_request_inside_a_batch_is_sent_again(server: FakeGraphServer) -> None:
    item = load(server, 2)
    server.faults.append(Fault(429, retry_after=0.1, match="usedRange", in_batch=True))
    sweep(open_register(server), ["Pupil 00000"])
    assert values(server, item)[3][4] == "OVERDUE"
    assert len(server.graph_log) == 10  # the read's $batch went twice, the second time with the one request


def test_a_refused_write_batch_reads_again_and_writes_the_moved_rows(server: FakeGraphServer) -> None:
    item = load(server, 3)
    register = open_register(server)
    register.read()
    server.faults.append(Fault(429, retry_after=0.1, match="$batch", skip=1))
    # write: createSession (6), re-read $batch (7), write $batch (8, refused); a colleague inserts a row meanwhile.
    server.after_request(8, lambda: server.insert_row(item, "Register", 4, ["Zoe Newcomer", date(2016, 2, 2), 4, "x"]))
    register.write(plan_for({f"Pupil {n:05d}": result_for(f"Pupil {n:05d}", date(2026, 1, 2)) for n in range(3)}))
    rows = values(server, item)
    assert rows[3][0] == "Zoe Newcomer"
    assert len(rows[3]) < 5 or rows[3][4] is None
    assert all(row[6] == f"Chase {row[0]}" for row in rows[4:7])
    statuses = [r.status for r in server.graph_log]
    assert statuses[7] == 429
    assert len(statuses) == 13  # the refused write costs one whole write again: a new session, re-read, write


def test_a_persistent_429_leaves_the_register_untouched(server: FakeGraphServer) -> None:
    item = load(server, 3)
    register = open_register(server)
    register.read()
    before = values(server, item)
    server.faults.extend(Fault(429, retry_after=0.05, match="$batch") for _ in range(50))
    with pytest.raises(RegisterError, match="kept"):
        register.write(plan_for({"Pupil 00000": result_for("Pupil 00000", date(2026, 1, 2))}))
    assert values(server, item) == before
    assert item.conditional == {}
    assert server.sessions == {}  # every session closed


def test_a_session_expired_mid_sweep_is_recreated(server: FakeGraphServer) -> None:
    item = load(server, 2)
    register = open_register(server)
    register.read()
    server.after_request(7, server.expire_sessions)  # after the write's re-read
    register.write(plan_for({"Pupil 00000": result_for("Pupil 00000", date(2026, 1, 2))}))
    assert values(server, item)[3][4] == "OVERDUE"
    assert len([r for r in server.graph_log if r.path.endswith("createSession")]) == 3


def test_a_session_that_keeps_expiring_writes_nothing(server: FakeGraphServer) -> None:
    item = load(server, 2)
    register = open_register(server)
    register.read()
    before = values(server, item)
    for n in range(6, 30):
        server.after_request(n, server.expire_sessions)
    with pytest.raises(RegisterError, match="kept ending the session"):
        register.write(plan_for({"Pupil 00000": result_for("Pupil 00000", date(2026, 1, 2))}))
    assert values(server, item) == before


def test_a_protected_sheet_writes_nothing_and_names_the_fix(server: FakeGraphServer) -> None:
    item = load(server, 2)
    item.protected.add("Register")
    register = open_register(server)
    register.read()
    with pytest.raises(RegisterError, match=r"protected.*Unprotect Sheet"):
        register.write(plan_for({"Pupil 00000": result_for("Pupil 00000", date(2026, 1, 2))}))
    assert not any(r.method == "PATCH" or any(s["method"] == "PATCH" for s in r.batch) for r in server.graph_log)


def test_a_checked_out_file_is_one_sentence(server: FakeGraphServer) -> None:
    item = load(server, 2)
    item.checked_out = True
    with pytest.raises(RegisterError, match="checked out"):
        open_register(server).read()


def test_a_file_that_is_not_a_workbook_is_one_sentence(server: FakeGraphServer) -> None:
    server.add_other("Register.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     sharing_url=LINK)  # fmt: skip
    with pytest.raises(RegisterError, match=r"Register.docx is not an Excel workbook"):
        open_register(server).read()
    assert len(server.graph_log) == 1


@pytest.mark.parametrize(("status", "code", "words"), [(403, "accessDenied", "share the register with it"),
                                                       (404, "itemNotFound", "cannot be found")])  # fmt: skip
def test_no_access_or_a_dead_link_names_the_fix(server: FakeGraphServer, status: int, code: str, words: str) -> None:
    load(server, 1)
    server.faults.append(Fault(status, code=code, match="driveItem"))
    with pytest.raises(RegisterError, match=words):
        open_register(server).read()


def test_a_slow_server_gives_up_within_the_deadline(server: FakeGraphServer) -> None:
    load(server, 1)
    server.faults.extend(Fault(503, delay=0.3, match="worksheets") for _ in range(20))
    policy = GraphPolicy(timeout_s=(0.5, 0.2), deadline_s=1.5, max_attempts=10, base_delay_s=0.05, max_delay_s=0.1)
    started = time.monotonic()
    with pytest.raises(RegisterError, match="kept failing"):
        open_register(server, policy=policy).read()
    assert time.monotonic() - started < 3.0
    assert server.sessions == {}


def test_a_write_too_big_for_one_batch_is_split_and_still_complete(
    server: FakeGraphServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import connectors.graph_register as graph_register

    monkeypatch.setattr(graph_register, "ROWS_PER_PATCH", 40)
    monkeypatch.setattr(graph_register, "BATCH_BYTES", 12_000)
    item = load(server, 300)
    sweep(open_register(server), [f"Pupil {n:05d}" for n in range(300)])
    writes = [r for r in server.graph_log if any(s["method"] == "PATCH" for s in r.batch)]
    assert len(writes) > 1
    assert all(len(r.batch) <= 20 for r in writes)
    assert all("dependsOn" not in r.batch[0] for r in writes)  # a chain never points into another $batch
    rows = values(server, item)
    assert all(row[4:7] == ["OVERDUE", datetime(2026, 1, 2), f"Chase {row[0]}"] for row in rows[3:303])


def test_colour_rules_refused_by_graph_cost_the_colours_only(server: FakeGraphServer) -> None:
    item = load(server, 2)
    server.faults.append(Fault(400, code="invalidRequest", match="conditionalFormats/add", in_batch=True))
    result = sweep(open_register(server), ["Pupil 00000"])
    assert values(server, item)[3][4:7] == ["OVERDUE", datetime(2026, 1, 2), "Chase Pupil 00000"]
    assert any("status colours could not be added" in note for note in result.notes)
    assert item.conditional == {}


def test_a_5xx_on_the_write_looks_again_and_writes_once(server: FakeGraphServer) -> None:
    item = load(server, 2)
    register = open_register(server)
    register.read()
    # The write's $batch (not its re-read) is applied, then answered 502: the adapter cannot know it went.
    server.faults.append(Fault(502, match="$batch", skip=1, applied=True))
    register.write(plan_for({"Pupil 00000": result_for("Pupil 00000", date(2026, 1, 2))}))
    assert values(server, item)[3][4:7] == ["OVERDUE", datetime(2026, 1, 2), "Chase Pupil 00000"]
    assert len(item.conditional["Register"]) == 1  # the rule was not added twice
    assert [r.status for r in server.graph_log].count(502) == 1


def test_ar_columns_split_by_the_sendcos_own_column_get_a_rectangle_each(server: FakeGraphServer) -> None:
    item = load(server, 3)
    sweep(open_register(server), ["Pupil 00000"])
    ws = item.book["Register"]  # type: ignore[index]
    ws.insert_cols(6)  # the SENDCo adds their own column between "AR status" and "AR window ends"
    ws["F3"] = "Keyworker"
    ws["F4"] = "Mrs Adams"
    server.reset_log()
    sweep(open_register(server), ["Pupil 00000", "Pupil 00001"])
    patches = [s for r in server.graph_log for s in r.batch if s["method"] == "PATCH" and "values" in s["body"]]
    assert [p["url"].rsplit("'", 2)[-2] for p in patches] == ["E4:E5", "G4:H5"]
    rows = values(server, item)
    assert rows[3][4:8] == ["OVERDUE", "Mrs Adams", datetime(2026, 1, 2), "Chase Pupil 00000"]
    assert rows[4][5] is None


def test_a_server_that_refuses_formats_still_gets_every_value(server: FakeGraphServer) -> None:
    item = load(server, 2)
    server.faults.append(Fault(501, code="notImplemented", match="/format/", in_batch=True))
    sweep(open_register(server), ["Pupil 00000"])
    assert values(server, item)[3][4:7] == ["OVERDUE", datetime(2026, 1, 2), "Chase Pupil 00000"]
