"""The same in the cloud: a submission through the Sheets connector (Advice row and Received in ONE batchUpdate) and
Google Drive (files and full text), against the local fakes of both APIs on real sockets; a Drive outage keeps the
answers and says so."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
import requests

from connectors.sheets import RetryPolicy, open_sheet_register
from connectors.storage_drive import DriveEvidenceStore, DrivePolicy
from connectors.submission_queue import SubmissionQueue
from functions.submit import FormAnswers, check_files, keep_submission, latest_submission, new_submission
from scripts.make_demo import upn, write_demo_register
from sheet_schema.advice import ADVICE_HEADERS
from sheet_schema.contributions import parse_contributions
from tests.fakes.drive_api import FakeDriveServer
from tests.fakes.drive_api import Fault as DriveFault
from tests.fakes.sheets_api import FakeSheetsServer

KEY = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
TODAY = date(2026, 11, 29)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
FAST = RetryPolicy(timeout_s=(2.0, 5.0), deadline_s=10.0, max_attempts=3, base_delay_s=0.05, max_delay_s=0.2)


@pytest.fixture
def cloud(tmp_path: Path):
    with FakeSheetsServer() as sheets, FakeDriveServer() as drive:
        sheets.load_workbook(KEY, write_demo_register(tmp_path / "register.xlsx", today=TODAY))
        yield sheets, drive


def _ep(register) -> object:
    data = register.read()
    rows = next(s.rows for s in data.sheets if s.title == "Contributions")
    return next(c for c in parse_contributions(rows)[0] if c.role == "EP")


def _drive(drive: FakeDriveServer) -> DriveEvidenceStore:
    policy = DrivePolicy(timeout_s=(2.0, 2.0), attempts=2, backoff_s=0.01, backoff_cap_s=0.02)
    return DriveEvidenceStore(
        requests.Session(), share_with="senco@example.org", base_url=drive.base_url, policy=policy
    )


def test_one_batch_update_and_files_in_drive(cloud, tmp_path: Path) -> None:
    sheets, drive = cloud
    register = open_sheet_register(KEY, emulator_host=sheets.host, policy=FAST)
    ep = _ep(register)
    checked, _, _ = check_files([PDF], "EP", TODAY)
    submission = new_submission(
        ep, FormAnswers({"summary": "=1+1", "recommendations": "z" * 3000}, False), checked, datetime(2026, 11, 29, 9)
    )
    sheets.reset_log()
    store = _drive(drive)
    kept = keep_submission(
        submission, checked, register=register, store=store, queue=SubmissionQueue(tmp_path / "q"), received_on=TODAY
    )
    assert kept.outcome == "recorded"
    posts = [r for r in sheets.log if r.method == "POST"]
    assert len(posts) == 1  # the Advice tab, its row and Received: one batchUpdate, all or nothing
    advice = sheets.dump(KEY, "Advice")
    assert tuple(advice[0][: len(ADVICE_HEADERS)]) == ADVICE_HEADERS
    row = dict(zip(ADVICE_HEADERS, advice[1], strict=False))
    assert row["Summary"] == "=1+1"  # a stringValue: the fake refuses any formulaValue from the product
    assert row["Pupil"] == upn(5)
    contributions = sheets.dump(KEY, "Contributions")
    ep_row = next(r for r in contributions if r[1] == "EP")
    assert ep_row[5] not in (None, "")
    (uploaded,) = drive.named(checked[0].name)
    assert uploaded.content == PDF
    (text,) = drive.named(f"advice-{submission.id}.json")
    assert json.loads(text.content)["answers"]["recommendations"] == "z" * 3000
    # The form's prefill reads the full text back from Drive.
    latest = latest_submission(register.read(), ep.key, store)
    assert latest is not None
    assert latest.answers["recommendations"] == "z" * 3000


def test_a_drive_outage_keeps_the_answers_and_says_so(cloud, tmp_path: Path) -> None:
    sheets, drive = cloud
    register = open_sheet_register(KEY, emulator_host=sheets.host, policy=FAST)
    ep = _ep(register)
    checked, _, _ = check_files([PDF], "EP", TODAY)
    submission = new_submission(ep, FormAnswers({"summary": "Kept"}, False), checked, datetime(2026, 11, 29, 9))
    drive.faults += [DriveFault(kind=None, status=503) for _ in range(20)]
    kept = keep_submission(
        submission,
        checked,
        register=register,
        store=_drive(drive),
        queue=SubmissionQueue(tmp_path / "q"),
        received_on=TODAY,
    )
    assert kept.storage_failed
    assert kept.outcome == "recorded"
    row = dict(zip(ADVICE_HEADERS, sheets.dump(KEY, "Advice")[1], strict=False))
    assert row["Summary"] == "Kept"
    # Never a file that was not kept, but the SENDCo is told one was attached and not stored (docs/register.md s8).
    assert (
        row["Files"]
        == "(1 file attached but not stored: the storage did not answer; the contributor was asked to send again)"
    )
    assert drive.named(checked[0].name) == []


def test_two_contributors_at_once_neither_is_lost(cloud, tmp_path: Path) -> None:
    """Two cloud instances append to the same empty row of the Advice tab: the later write wins the cell, so the first
    submission reads its row back, finds it gone, and writes it again (once)."""
    sheets, drive = cloud
    register = open_sheet_register(KEY, emulator_host=sheets.host, policy=FAST)
    ep = _ep(register)
    first = new_submission(ep, FormAnswers({"summary": "First"}, False), [], datetime(2026, 11, 29, 9))
    other = new_submission(ep, FormAnswers({"summary": "Second"}, False), [], datetime(2026, 11, 29, 9, 1))
    from sheet_schema.advice import advice_row

    def someone_else_overwrites_the_row() -> None:
        values = advice_row(other)
        row = [values.get(h) for h in ADVICE_HEADERS]
        row[ADVICE_HEADERS.index("Submitted at")] = "29/11/2026 09:01"
        sheets.delete_row(KEY, "Advice", 2)
        sheets.insert_row(KEY, "Advice", 2, row)

    sheets.reset_log()
    # Requests: 1 read (is it there?), 2 re-read before the batch, 3 the batchUpdate; then the colleague's write lands.
    sheets.after_request(3, someone_else_overwrites_the_row)
    keep_submission(
        first, [], register=register, store=_drive(drive), queue=SubmissionQueue(tmp_path / "q"), received_on=TODAY
    )
    summaries = [r[ADVICE_HEADERS.index("Summary")] for r in sheets.dump(KEY, "Advice")[1:]]
    assert sorted(summaries) == ["First", "Second"]
    assert len([r for r in sheets.log if r.method == "POST"]) == 2  # written, lost to the other, written again
