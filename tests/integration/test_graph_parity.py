"""Parity, third column: the same register swept from the Excel workbook file, from the Sheets fake and from the Graph
fake (each over a real socket) gives the same sweep JSON and the same AR cells; the Graph sweep also costs the same
number of requests whatever the number of pupils, and emails through /me/sendMail go to the same people."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from connectors.graph_http import GraphClient, GraphPolicy
from connectors.graph_register import GraphRegister
from connectors.mail import OutboxTransport
from connectors.mail_graph import GraphMailTransport
from connectors.sheets import open_sheet_register
from connectors.workbook import WorkbookRegister
from functions.settings import Settings
from functions.sweep import run_sweep
from tests.fakes.graph_api import FakeGraphServer
from tests.fakes.sheets_api import FakeSheetsServer
from tests.integration.test_sheets_parity import CHECKED_AT, KEY, TODAY, trimmed, write_register

LINK = "https://oakfield.sharepoint.com/:x:/s/SEND/EParityParity?e=Xy12"
POLICY = GraphPolicy(timeout_s=(2.0, 20.0), deadline_s=60.0, max_attempts=4, base_delay_s=0.05, max_delay_s=0.2)


@pytest.fixture
def graph() -> Iterator[FakeGraphServer]:
    with FakeGraphServer() as fake:
        yield fake


@pytest.fixture
def sheets() -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer() as fake:
        yield fake


def graph_register(server: FakeGraphServer) -> GraphRegister:
    return GraphRegister(LINK, GraphClient(lambda **_: "test-token", base_url=f"http://{server.host}", policy=POLICY))


def plain(value: Any) -> Any:
    return None if value == "" else value


def grid(ws: Any) -> list[list[Any]]:
    return trimmed([[plain(v) for v in row] for row in ws.iter_rows(values_only=True)])


def as_datetime(value: Any) -> Any:
    """openpyxl reads a whole-day date cell back as a datetime; the Excel path may keep a date."""
    return datetime(value.year, value.month, value.day) if type(value) is date else value


@pytest.mark.parametrize("pupils", [25, 300])
def test_excel_sheets_and_graph_sweeps_write_the_same_ar_cells(
    tmp_path: Path, graph: FakeGraphServer, sheets: FakeSheetsServer, pupils: int
) -> None:
    source = write_register(tmp_path / "register.xlsx", pupils)
    workbook = tmp_path / "work" / "register.xlsx"
    workbook.parent.mkdir()
    shutil.copyfile(source, workbook)
    item = graph.add_file(source, sharing_url=LINK)
    sheets.load_workbook(KEY, source)

    def sweep(register: Any) -> dict[str, Any]:
        return run_sweep(register, today=TODAY, settings=Settings(), now=lambda: CHECKED_AT).to_json()

    graph_json = sweep(graph_register(graph))
    sheet_json = sweep(open_sheet_register(KEY, emulator_host=sheets.host))
    excel_json = sweep(WorkbookRegister(workbook, backup_dir=workbook.parent / "backups"))
    assert graph_json == excel_json == sheet_json
    assert {p["status"] for p in graph_json["pupils"]} - {"INVALID"}
    assert len(graph.graph_log) == 9  # whatever the number of pupils

    title = openpyxl.load_workbook(source).worksheets[0].title
    excel_after = [
        [as_datetime(v) for v in row] for row in grid(openpyxl.load_workbook(workbook, data_only=True)[title])
    ]
    graph_after = [[as_datetime(v) for v in row] for row in grid(graph.saved(item)[title])]
    assert graph_after == excel_after
    # Sheets reports serial numbers for dates: the AR text columns agree with Graph's too.
    header = next(i for i, row in enumerate(graph_after) if "AR status" in row)
    width = len(graph_after[header])
    text_columns = [c for c, h in enumerate(graph_after[header]) if h in ("AR status", "AR next action", "AR issues")]
    sheet_after = trimmed(sheets.dump(KEY, title))
    for r in range(header, len(graph_after)):
        ours = graph_after[r] + [None] * (width - len(graph_after[r]))
        theirs = sheet_after[r] + [None] * (width - len(sheet_after[r]))
        assert [ours[c] for c in text_columns] == [theirs[c] for c in text_columns]
    # Nothing outside the AR columns changed; no formula was written; status colours are rules, added once.
    before = grid(openpyxl.load_workbook(source, data_only=True)[title])
    sendco_width = max(len(r) for r in before)
    assert trimmed([row[:sendco_width] for row in graph_after]) == [[as_datetime(v) for v in row] for row in before]
    saved = graph.saved(item)[title]
    for row in saved.iter_rows(min_col=sendco_width + 1):
        assert not any(c.data_type == "f" for c in row)
    rules = item.conditional[title]
    assert len({r["cellValue"]["rule"]["formula1"] for r in rules}) == len(rules)


def test_dry_run_reads_only(tmp_path: Path, graph: FakeGraphServer) -> None:
    source = write_register(tmp_path / "register.xlsx", 20)
    item = graph.add_file(source, sharing_url=LINK)
    before = grid(graph.saved(item)["EHCP register"])
    run_sweep(graph_register(graph), today=TODAY, settings=Settings(), dry_run=True, now=lambda: CHECKED_AT)
    assert len(graph.graph_log) == 5
    assert grid(graph.saved(item)["EHCP register"]) == before
    assert graph.sessions == {}


def test_emails_through_graph_match_the_outbox_and_record_the_same_contributions(
    tmp_path: Path, graph: FakeGraphServer
) -> None:
    from functions.settings import load_settings
    from tests.e2e.test_emails_cli import SENDCO, make_register

    source = make_register(tmp_path / "school")
    item = graph.add_file(source, sharing_url=LINK)
    settings = load_settings(None, source)
    copy = tmp_path / "copy" / "register.xlsx"
    copy.parent.mkdir()
    shutil.copyfile(source, copy)
    client = GraphClient(lambda **_: "test-token", base_url=f"http://{graph.host}", policy=POLICY)
    mail = GraphMailTransport(client, sender="review-keeper@school.example")
    day = date(2025, 9, 30)
    result = run_sweep(graph_register(graph), today=day, settings=settings, now=lambda: CHECKED_AT, transport=mail)
    expected = run_sweep(WorkbookRegister(copy, backup_dir=tmp_path / "b"), today=day, settings=settings,
                         now=lambda: CHECKED_AT, transport=OutboxTransport(tmp_path / "outbox"))  # fmt: skip
    sent = sorted(r["emailAddress"]["address"] for m in graph.sent_mail for r in m["message"]["toRecipients"])
    assert len(sent) == 3
    assert sent == sorted(e["to"] for e in expected.mail.sent)  # type: ignore[union-attr]
    assert [e["to"] for e in result.mail.sent] == [e["to"] for e in expected.mail.sent]  # type: ignore[union-attr]
    for message in graph.sent_mail:
        assert message["message"]["replyTo"] == [{"emailAddress": {"address": SENDCO, "name": "Sam Taylor"}}] or (
            message["message"]["replyTo"][0]["emailAddress"]["address"] == SENDCO
        )
        assert "from" not in message["message"]  # sent as the signed-in account
    # The Contributions tab records the same requests either way.
    graph_tab = grid(graph.saved(item)["Contributions"])
    excel_tab = grid(openpyxl.load_workbook(copy, data_only=True)["Contributions"])
    assert [[as_datetime(v) for v in row] for row in graph_tab] == [[as_datetime(v) for v in row] for row in excel_tab]


def test_a_contributor_confirmation_is_recorded_through_graph_once(tmp_path: Path, graph: FakeGraphServer) -> None:
    """The link page's write (functions/confirm.py received_plan) through the Graph adapter: Received on the first
    matching row, the note appended to the SENDCo's Notes, and a second click writes nothing."""
    from functions.confirm import received_plan
    from sheet_schema.contributions import contribution_key
    from tests.e2e.test_emails_cli import EP, UPN, make_register

    item = graph.add_file(make_register(tmp_path / "school"), sharing_url=LINK)
    register = graph_register(graph)
    register.read()
    key = contribution_key("Ann Example", "EP", EP)
    first = register.write(received_plan(key, date(2025, 10, 3), "posted today"))
    assert first.written_rows == 1
    tab = grid(graph.saved(item)["Contributions"])
    header = tab[0]
    ep_row = tab[2]
    assert ep_row[header.index("Received")] == datetime(2025, 10, 3)
    assert ep_row[header.index("Notes")] == "Contributor's note (03/10/2025): posted today"
    assert tab[1][header.index("Notes")] == "Teaches Ann for maths too"  # the teacher's row is untouched
    assert tab[1][0] == UPN
    second = register.write(received_plan(key, date(2025, 10, 4), "again"))
    assert second.written_rows == 0
    assert grid(graph.saved(item)["Contributions"]) == tab
