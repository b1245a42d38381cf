"""A slow or throttled Google Drive through the cloud's `confirm` target (keeper-confirm, stopped at 60 s): the
submission ends inside the evidence store's 20 s deadline with the product's own page, the answers kept, the Advice
row's Files cell saying a file was attached but not stored; nothing personal in the logs. Black-box: the register on
the local Sheets look-alike, the evidence on the local Drive look-alike (tests/fakes, real sockets), the same set-up as
tests/e2e/test_evidence_sheet_drive.py; only the Drive look-alike's faults differ."""

from __future__ import annotations

import logging
import time

import pytest

from sheet_schema.advice import ADVICE_HEADERS
from tests.e2e.cloud_fixtures import app_client
from tests.e2e.test_evidence_sheet_drive import KEY, PDF, SALT, post_form
from tests.e2e.test_evidence_sheet_drive import cloud as cloud  # the fixture: the Sheet and Drive look-alikes, the env
from tests.fakes.drive_api import FakeDriveServer, Fault

pytestmark = pytest.mark.slow  # each waits out the real 20 s deadline, or most of it

DEADLINE_S = 20.0  # connectors/storage_drive.py DrivePolicy.deadline_s
NOT_STORED = "(1 file attached but not stored: the storage did not answer; the contributor was asked to send again)"
PRIVATE = ("Speech is clearer", "college link course", "SALT report.pdf", "Fitzgerald", "salt.referrals")


def submit(deployment) -> tuple[str, float]:
    _sheets, _drive, today = deployment
    started = time.monotonic()
    body = post_form(
        app_client("confirm"),
        SALT,
        today,
        {"summary": "Speech is clearer", "recommendations": "Leo should join the college link course."},
        [(PDF, "SALT report.pdf")],
    )
    return body, time.monotonic() - started


def advice_row(deployment) -> dict[str, object]:
    sheets = deployment[0]
    (row,) = sheets.dump(KEY, "Advice")[1:]
    return dict(zip(ADVICE_HEADERS, row, strict=False))


@pytest.fixture
def deployment(request: pytest.FixtureRequest) -> tuple[object, FakeDriveServer, object]:
    return request.getfixturevalue("cloud")


def assert_nothing_personal(logged: str) -> None:
    assert "evidence storage" in logged  # the IT lead's reason is there ...
    for private in PRIVATE:
        assert private not in logged  # ... and nothing the contributor wrote or sent, nor who it is about


def test_a_drive_answering_slowly_ends_in_the_page_inside_the_deadline(
    deployment, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    drive: FakeDriveServer = deployment[1]
    # Every Drive request answers after 30 s: within the 60 s read timeout, so before the deadline each of the four
    # tries of each request waited its full length (minutes: the gateway's error page, not the product's).
    drive.outage(status=None, delay_s=30.0)
    body, took = submit(deployment)
    assert took < DEADLINE_S + 5  # the deadline, and the Sheet read and write
    assert "your files could not be stored just now" in body
    row = advice_row(deployment)
    assert row["Summary"] == "Speech is clearer"
    assert row["Files"] == NOT_STORED
    assert len(drive.requests) == 1  # the first try was cut at the deadline; nothing sent after it
    assert_nothing_personal("".join(capfd.readouterr()) + caplog.text)


def test_a_drive_throttling_with_retry_after_keeps_the_file_once_it_lets_go(deployment) -> None:
    drive: FakeDriveServer = deployment[1]
    drive.faults += [Fault(kind=None, status=429, retry_after=2.0), Fault(kind=None, status=503, retry_after=2.0)]
    body, took = submit(deployment)
    assert 4.0 <= took < DEADLINE_S  # both waits honoured, then kept
    assert "with 1 file" in body
    row = advice_row(deployment)
    (stored,) = drive.named(str(row["Files"]))
    assert stored.content == PDF
    gaps = [b[0] - a[0] for a, b in zip(drive.arrivals, drive.arrivals[1:], strict=False)]
    assert all(gap >= 2.0 for gap in sorted(gaps)[-2:])  # never sooner than Retry-After


def test_a_drive_outage_with_retry_after_ends_inside_the_deadline(
    deployment, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    drive: FakeDriveServer = deployment[1]
    drive.outage(status=503, retry_after=8.0)  # "come back in 8 s", again and again
    body, took = submit(deployment)
    assert took < DEADLINE_S + 5
    assert "your files could not be stored just now" in body
    assert advice_row(deployment)["Files"] == NOT_STORED
    assert not [f for f in drive.files.values() if f.content == PDF]
    times = [t for t, _, _ in drive.arrivals]
    assert times[-1] - times[0] <= DEADLINE_S  # no try after the deadline
    assert_nothing_personal("".join(capfd.readouterr()) + caplog.text)
