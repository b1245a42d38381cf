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
        policy=DrivePolicy(
            timeout_s=(2.0, policy.get("read", 2.0)),
            attempts=int(policy.get("attempts", 3)),
            backoff_s=0.01,
            backoff_cap_s=0.02,
            longest_wait_s=policy.get("longest", 5.0),
            deadline_s=policy.get("deadline", 20.0),
            quiet_s=policy.get("quiet", 2.0),
        ),
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
    with pytest.raises(DriveUnavailable, match="did not answer after 3 tries within the 20 s"):
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


# ---------------------------------------------------------------------- one submission's deadline (docs/register.md s8)


def test_a_slow_drive_is_cut_at_the_submissions_deadline(drive: FakeDriveServer) -> None:
    """Drive answers, but only after 3 s: the read timeout alone (5 s here, 60 s live) times 3 tries would keep the
    contributor waiting past keeper-confirm's limit. The form's read-back and the files share 1 s here."""
    evidence = store(drive, read=5.0, deadline=1.0)
    drive.outage(status=503, delay_s=3.0)
    started = time.monotonic()
    with pytest.raises(DriveUnavailable, match="within the 1 s a contributor can wait"):
        evidence.read_texts("k")  # the form's prefill, read back first
    with pytest.raises(DriveUnavailable):  # straight after, the same submission: no time left, nothing sent
        evidence.save_file("k", "a.pdf", PDF, "application/pdf")
    assert time.monotonic() - started < 1.5
    assert len(drive.requests) == 1  # one try, cut at the deadline; no retry, and no request once it had passed


def test_429_and_503_are_retried_no_sooner_than_retry_after(drive: FakeDriveServer) -> None:
    evidence = store(drive, deadline=5.0)
    evidence.root()
    drive.arrivals.clear()
    drive.faults += [Fault(kind="list", status=429, retry_after=0.4), Fault(kind="upload", status=503, retry_after=0.3)]
    kept = evidence.save_file("k", "b.pdf", PDF, "application/pdf")
    assert drive.files[kept.location].content == PDF
    times = {kind: [t for t, _, k in drive.arrivals if k == kind] for kind in ("list", "upload")}
    assert len(times["upload"]) == 2
    assert times["upload"][1] - times["upload"][0] >= 0.3  # the backoff alone would be 0.01 s
    assert times["list"][1] - times["list"][0] >= 0.4


def test_retries_stop_where_the_next_wait_would_pass_the_deadline(drive: FakeDriveServer) -> None:
    evidence = store(drive, attempts=10, deadline=1.0)
    drive.outage(status=503, retry_after=0.4)
    started = time.monotonic()
    with pytest.raises(DriveUnavailable, match="after 3 tries"):  # 0 s, 0.4 s, 0.8 s; a fourth at 1.2 s is too late
        evidence.save_file("k", "c.pdf", PDF, "application/pdf")
    assert time.monotonic() - started < 1.0
    assert len(drive.requests) == 3


def test_a_retry_after_longer_than_a_contributor_can_wait_is_not_waited_for(drive: FakeDriveServer) -> None:
    evidence = store(drive, longest=5.0)
    drive.faults.append(Fault(kind=None, status=429, retry_after=600))  # "come back in ten minutes"
    started = time.monotonic()
    with pytest.raises(DriveUnavailable, match="Google Drive answered 429"):
        evidence.save_file("k", "d.pdf", PDF, "application/pdf")
    assert time.monotonic() - started < 1.0
    assert len(drive.requests) == 1


def test_the_next_submission_has_a_deadline_of_its_own(drive: FakeDriveServer) -> None:
    evidence = store(drive, read=5.0, deadline=0.5, quiet=0.2)
    drive.faults.append(Fault(kind=None, status=503, delay_s=1.0))
    with pytest.raises(DriveUnavailable, match="after 1 try within"):
        evidence.save_file("k", "e.pdf", PDF, "application/pdf")
    time.sleep(0.3)  # the next contributor, after a quiet spell
    kept = evidence.save_file("k", "e.pdf", PDF, "application/pdf")
    assert drive.files[kept.location].content == PDF
