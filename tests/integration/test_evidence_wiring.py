"""Which evidence store the composition root builds for each kind of register (docs/register.md s8): a folder beside an
Excel register, Google Drive beside a Google Sheet, OneDrive/SharePoint beside a Microsoft 365 workbook; and evidence an
earlier version kept under KEEPER_STATE_DIR for a Microsoft 365 school is still read after the upgrade."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook

from connectors.storage_drive import DriveEvidenceStore
from connectors.storage_folder import FolderEvidenceStore
from connectors.storage_onedrive import OneDriveEvidenceStore
from functions import bootstrap
from functions.evidence_setup import evidence_store
from functions.settings import School, load_settings
from tests.fakes.graph_api import FakeGraphServer

LINK = "https://oakfield.sharepoint.com/:x:/s/SEND/EWiringWiring?e=W1re"
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def graph() -> Iterator[FakeGraphServer]:
    with FakeGraphServer() as fake:
        yield fake


def test_each_register_gets_its_own_schools_storage(tmp_path: Path, graph: FakeGraphServer) -> None:
    rt = bootstrap.runtime(
        {"GRAPH_EMULATOR_HOST": graph.host, "KEEPER_STATE_DIR": str(tmp_path / "state"), "DRIVE_EMULATOR_HOST": "x:1"}
    )
    workbook = tmp_path / "register.xlsx"
    Workbook().save(workbook)
    settings = load_settings(register=workbook)
    excel = evidence_store(School("oak", str(workbook), settings), rt)
    assert isinstance(excel, FolderEvidenceStore)
    assert excel.root == tmp_path / "evidence"  # unchanged: beside the workbook
    sheet = evidence_store(School("elm", "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms", settings), rt)
    assert isinstance(sheet, DriveEvidenceStore)  # unchanged: Google Drive beside a Google Sheet
    m365 = evidence_store(School("ash", LINK, settings), rt)
    assert isinstance(m365, OneDriveEvidenceStore)


def test_a_microsoft_365_school_still_reads_what_an_earlier_version_kept(
    tmp_path: Path, graph: FakeGraphServer
) -> None:
    item = graph.add_workbook(Workbook(), sharing_url=LINK)
    state = tmp_path / "state"
    earlier = FolderEvidenceStore(state / "ash" / "evidence")
    earlier.save_file("K1", "2026-10-01-ep-old.pdf", PDF, "application/pdf")
    earlier.save_text("K1", "old", json.dumps({"id": "old"}))
    rt = bootstrap.runtime({"GRAPH_EMULATOR_HOST": graph.host, "KEEPER_STATE_DIR": str(state)})
    store = evidence_store(School("ash", LINK, load_settings()), rt)
    store.save_text("K1", "new", json.dumps({"id": "new"}))
    assert graph.evidence_beside(item) == {"K1": {"advice-new.json": b'{"id": "new"}'}}  # new evidence: OneDrive only
    assert sorted(json.loads(t)["id"] for t in store.read_texts("K1")) == ["new", "old"]
    assert store.read_file("K1", "2026-10-01-ep-old.pdf") == PDF
    assert not (state / "ash" / "evidence" / "K1" / "advice-new.json").exists()
