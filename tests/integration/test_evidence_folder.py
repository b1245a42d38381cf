"""Evidence beside an Excel register: the folder store, the queue, and a submission written into a real workbook
(Advice row + Received in one save), queued while the workbook is open in Excel and applied afterwards."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from connectors.storage_base import StorageError
from connectors.storage_folder import FolderEvidenceStore
from connectors.submission_queue import SubmissionQueue
from connectors.workbook import WorkbookRegister
from functions.submit import FormAnswers, apply_queued, check_files, keep_submission, latest_submission, new_submission
from scripts.make_demo import upn, write_demo_register
from sheet_schema.advice import ADVICE_HEADERS, CELL_LIMIT, CUT_NOTE, FORMS, pupil_key
from sheet_schema.contributions import parse_contributions

TODAY = date(2026, 11, 29)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_folder_store_keeps_files_by_product_names_only(tmp_path: Path) -> None:
    store = FolderEvidenceStore.beside(tmp_path / "register.xlsx")
    kept = store.save_file("B801200005001", "2026-11-29-ep-abc.pdf", PDF, "application/pdf")
    assert Path(kept.location) == tmp_path / "evidence" / "B801200005001" / "2026-11-29-ep-abc.pdf"
    assert Path(kept.location).read_bytes() == PDF
    # The same name again is the same content (the name carries the digest): the first copy stays.
    store.save_file("B801200005001", "2026-11-29-ep-abc.pdf", b"other", "application/pdf")
    assert Path(kept.location).read_bytes() == PDF
    for bad in ("../x.pdf", ".hidden", "a/b.pdf", "..", "x\\y.pdf"):
        with pytest.raises(StorageError):
            store.save_file("B801200005001", bad, PDF, "application/pdf")
    with pytest.raises(StorageError):
        store.save_file("../../etc", "x.pdf", PDF, "application/pdf")
    store.save_text("B801200005001", "id1", '{"id": "id1"}')
    assert store.read_texts("B801200005001") == ['{"id": "id1"}']
    assert store.read_texts("nobody") == []


def test_queue_keeps_submissions_until_done(tmp_path: Path) -> None:
    queue = SubmissionQueue.beside(tmp_path / "register.xlsx")
    queue.put("b", {"submitted_at": "2026-11-29T10:00:00"})
    queue.put("a", {"submitted_at": "2026-11-29T09:00:00"})
    pending = queue.pending()
    assert [p[1]["submitted_at"] for p in pending] == ["2026-11-29T09:00:00", "2026-11-29T10:00:00"]
    queue.done(pending[0][0])
    assert len(queue) == 1


@pytest.fixture
def register(tmp_path: Path) -> Path:
    return write_demo_register(tmp_path / "register.xlsx", today=TODAY)


def _contribution(path: Path, role: str):
    wb = openpyxl.load_workbook(path)
    rows = [list(r) for r in wb["Contributions"].iter_rows(values_only=True)]
    wb.close()
    found, _ = parse_contributions(rows)
    return next(c for c in found if c.role == role)


def _advice(path: Path) -> list[tuple]:
    wb = openpyxl.load_workbook(path)
    try:
        return [tuple(r) for r in wb["Advice"].iter_rows(values_only=True)]
    finally:
        wb.close()


def test_a_professional_submission_lands_in_one_save(register: Path) -> None:
    ep = _contribution(register, "EP")
    answers = FormAnswers({"summary": "=cmd|' /C calc'!A0", "recommendations": "y" * 5000}, nothing_new=False)
    checked, _rejected, problems = check_files([PDF, b"not a pdf"], ep.role, TODAY)
    assert len(checked) == 1
    assert problems == [
        "File 2: it is not a PDF or a Word document (whatever its name says); save it as PDF and attach it again."
    ]
    submission = new_submission(ep, answers, checked, datetime(2026, 11, 29, 10, 15))
    store = FolderEvidenceStore.beside(register)
    queue = SubmissionQueue.beside(register)
    backups = register.parent / ".keeper-backups"
    kept = keep_submission(
        submission, checked, register=WorkbookRegister(register), store=store, queue=queue, received_on=TODAY
    )
    assert kept.outcome == "recorded"
    assert len(list(backups.iterdir())) == 1  # one save for the Advice row and Received together
    rows = _advice(register)
    assert rows[0] == ADVICE_HEADERS
    row = dict(zip(ADVICE_HEADERS, rows[1], strict=True))
    assert row["Pupil"] == upn(5)
    assert row["Role"] == "EP"
    assert row["Submitted at"] == datetime(2026, 11, 29, 10, 15)
    assert row["Summary"] == "=cmd|' /C calc'!A0"
    assert len(row["Recommendations"]) == CELL_LIMIT
    assert row["Recommendations"].endswith(CUT_NOTE)
    assert row["Files"] == checked[0].name
    wb = openpyxl.load_workbook(register)
    summary_cell = wb["Advice"].cell(row=2, column=ADVICE_HEADERS.index("Summary") + 1)
    assert summary_cell.data_type == "s"  # text, never a formula
    wb.close()
    assert _contribution(register, "EP").received == TODAY
    folder = register.parent / "evidence" / pupil_key(upn(5))
    assert (folder / checked[0].name).read_bytes() == PDF
    full = json.loads((folder / f"advice-{submission.id}.json").read_text(encoding="utf-8"))
    assert full["answers"]["recommendations"] == "y" * 5000
    # The prefill reads the full text back, not the cut cell.
    data = WorkbookRegister(register).read()
    latest = latest_submission(data, ep.key, store)
    assert latest is not None
    assert latest.answers["recommendations"] == "y" * 5000


def test_open_in_excel_queues_and_the_next_apply_writes_once(register: Path) -> None:
    parent = _contribution(register, "Class teacher")
    form = FORMS["teacher"]
    assert form.kind == "teacher"
    submission = new_submission(
        parent, FormAnswers({"progress": "Good"}, nothing_new=False), [], datetime(2026, 11, 29, 11, 0)
    )
    store = FolderEvidenceStore.beside(register)
    queue = SubmissionQueue.beside(register)
    lock = register.parent / f"~${register.name}"
    lock.write_text("owner")
    saved = register.read_bytes()
    kept = keep_submission(
        submission, [], register=WorkbookRegister(register), store=store, queue=queue, received_on=TODAY
    )
    assert kept.outcome == "queued"
    assert register.read_bytes() == saved
    assert len(queue) == 1
    assert apply_queued(WorkbookRegister(register), queue) == (0, 1)  # still open: still waiting, nothing lost
    lock.unlink()
    assert apply_queued(WorkbookRegister(register), queue) == (1, 0)
    assert len(queue) == 0
    assert len(_advice(register)) == 2
    assert _contribution(register, "Class teacher").received == TODAY
    # The same entry again (a removal that failed) adds no second row.
    queue.put(submission.id, {"submission": submission.to_json(), "received_on": TODAY.isoformat()})
    assert apply_queued(WorkbookRegister(register), queue) == (1, 0)
    assert len(_advice(register)) == 2
