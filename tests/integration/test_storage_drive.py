"""The Drive evidence store against a local fake of the Drive API v3 on a real socket (tests/fakes/drive_api.py)."""

from __future__ import annotations

import time

import pytest
import requests

from connectors.storage_base import StorageError
from connectors.storage_drive import DriveEvidenceStore, DrivePolicy, DriveRefused, DriveUnavailable
from tests.fakes.drive_api import FOLDER_MIME, FakeDriveServer, Fault

PDF = b"%PDF-1.4\r\n\r\nbinary\x00\xff\r\n%%EOF"


@pytest.fixture
def drive():
    with FakeDriveServer() as server:
        yield server


def store(server: FakeDriveServer, **policy: float) -> DriveEvidenceStore:
    return DriveEvidenceStore(
        requests.Session(),
        share_with="senco@oakfield.example.org",
        base_url=server.base_url,
        policy=DrivePolicy(timeout_s=(2.0, policy.get("read", 2.0)), attempts=3, backoff_s=0.01, backoff_cap_s=0.02),
    )


def test_first_use_makes_the_folder_shares_it_and_uploads(drive: FakeDriveServer) -> None:
    evidence = store(drive)
    kept = evidence.save_file("B801200005001", "2026-11-29-ep-abc.pdf", PDF, "application/pdf")
    (root,) = drive.named("Review Keeper evidence")
    assert root.mime_type == FOLDER_MIME
    assert root.permissions == [{"type": "user", "role": "writer", "emailAddress": "senco@oakfield.example.org"}]
    (pupil,) = drive.named("B801200005001")
    assert pupil.parents == [root.id]
    uploaded = drive.files[kept.location]
    assert uploaded.content == PDF  # bytes exactly, \r\n and all
    assert uploaded.parents == [pupil.id]
    assert uploaded.mime_type == "application/pdf"
    # A second store (the next request, another instance) finds the same folders: none made twice, shared once.
    again = store(drive)
    again.save_text("B801200005001", "sub1", '{"id": "sub1"}')
    assert len(drive.named("Review Keeper evidence")) == 1
    assert len(drive.named("B801200005001")) == 1
    assert again.read_texts("B801200005001") == ['{"id": "sub1"}']
    assert again.read_file("B801200005001", "2026-11-29-ep-abc.pdf") == PDF


def test_outages_are_retried_boundedly(drive: FakeDriveServer) -> None:
    evidence = store(drive)
    drive.faults += [Fault(kind="list", status=503), Fault(kind="upload", status=429)]
    evidence.save_file("k", "a.pdf", PDF, "application/pdf")
    assert len(drive.named("a.pdf")) == 1
    drive.faults += [Fault(kind=None, status=503) for _ in range(10)]
    started = time.monotonic()
    with pytest.raises(DriveUnavailable, match="did not answer after 3 tries"):
        evidence.save_file("k", "b.pdf", PDF, "application/pdf")
    assert time.monotonic() - started < 5
    assert drive.named("b.pdf") == []


def test_an_upload_whose_answer_is_lost_is_not_sent_twice(drive: FakeDriveServer) -> None:
    evidence = store(drive)
    evidence.root()
    drive.faults.append(Fault(kind="upload", status=503, commit_then_fail=True))
    evidence.save_file("k", "c.pdf", PDF, "application/pdf")
    assert len(drive.named("c.pdf")) == 1


def test_a_slow_answer_times_out_and_is_retried(drive: FakeDriveServer) -> None:
    evidence = store(drive, read=0.3)
    evidence.root()
    drive.faults.append(Fault(kind="upload", status=None, delay_s=0.6, commit_then_fail=False))
    evidence.save_file("k", "d.pdf", PDF, "application/pdf")
    time.sleep(0.8)  # the slow first try finishes after the retry: refused as a duplicate id
    assert len(drive.named("d.pdf")) == 1


def test_refusals_are_not_retried_and_names_are_checked(drive: FakeDriveServer) -> None:
    evidence = store(drive)
    drive.faults.append(Fault(kind="list", status=403))
    with pytest.raises(DriveRefused, match=r"drive\.file"):
        evidence.save_file("k", "e.pdf", PDF, "application/pdf")
    with pytest.raises(StorageError):
        evidence.save_file("k", "../e.pdf", PDF, "application/pdf")
    with pytest.raises(StorageError):
        evidence.save_file("x' or name != '", "e.pdf", PDF, "application/pdf")
