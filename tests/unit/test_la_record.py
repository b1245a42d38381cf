"""The LA's record link (functions/la_record.py): its last day, what verifies, what is served. Dates worked by hand:
the final amended plan's latest date is the meeting + 84 days (reg 22(3); Devon [2022] EWHC 493 (Admin)); a late
email still gives the LA 28 days (reg 20(10))."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from functions.la_record import (
    RecordLinkError,
    RecordSigner,
    keep,
    kept_copy,
    purge_expired,
    record_download,
    record_expiry,
)

SECRET = "unit-secret-0123456789abcdef"


@pytest.mark.parametrize(
    ("meeting", "sent", "last_day", "why"),
    [
        (date(2025, 9, 15), date(2025, 9, 22), date(2025, 12, 8), "H + 84: Mon 15 Sep + 12 weeks"),
        (date(2025, 9, 15), date(2025, 11, 10), date(2025, 12, 8), "sent on H + 56: 28 days later is 8 Dec, same"),
        (date(2025, 9, 15), date(2025, 11, 20), date(2025, 12, 18), "sent late: 20 Nov + 28 days"),
        (date(2024, 2, 1), date(2024, 2, 1), date(2024, 4, 25), "leap year: 1 Feb 2024 + 84 days"),
        (date(2025, 12, 19), date(2025, 12, 22), date(2026, 3, 13), "across the year end: 19 Dec + 84 days"),
    ],
)
def test_last_day_of_the_link(meeting: date, sent: date, last_day: date, why: str) -> None:
    assert record_expiry(meeting, sent) == last_day, why


def test_a_link_verifies_until_its_last_day_and_not_after() -> None:
    signer = RecordSigner(SECRET, "https://k.example")
    record = signer.record_id("abc", date(2025, 9, 15))
    token = signer.link(record, "record", "sen@kent.example", date(2025, 12, 8)).split("t=", 1)[1]
    claim = signer.verify(token, today=date(2025, 12, 8))
    assert (claim.record, claim.part, claim.expires) == (record, "record", date(2025, 12, 8))
    with pytest.raises(RecordLinkError) as err:
        signer.verify(token, today=date(2025, 12, 9))
    assert (err.value.kind, err.value.expired_on) == ("expired", date(2025, 12, 8))
    with pytest.raises(RecordLinkError) as err:
        RecordSigner("another-secret-0123456789").verify(token, today=date(2025, 10, 1))
    assert err.value.kind == "broken"


def test_download_serves_only_the_kept_copy(tmp_path: Path) -> None:
    signer = RecordSigner(SECRET, "https://k.example")
    record = signer.record_id("abc", date(2025, 9, 15))
    source = tmp_path / "source.docx"
    source.write_bytes(b"PK record bytes")
    keep(source, tmp_path, record, "record")
    assert kept_copy(tmp_path, record, "record") == tmp_path / "papers" / "records" / f"{record}.docx"
    token = signer.link(record, "record", "sen@kent.example", date(2025, 12, 8)).split("t=", 1)[1]
    body, status, headers = record_download(token, signer=signer, folder_for={"": tmp_path}, today=date(2025, 10, 1))
    assert (body, status) == (b"PK record bytes", 200)
    assert headers["Content-Disposition"] == 'attachment; filename="review-record.docx"'
    # The papers part of the same record was never kept: a page, not a file.
    papers = signer.link(record, "papers", "sen@kent.example", date(2025, 12, 8)).split("t=", 1)[1]
    body, status, _ = record_download(papers, signer=signer, folder_for={"": tmp_path}, today=date(2025, 10, 1))
    assert status == 404
    assert b"This record is no longer here" in body
    # Another school's link: no folder of its own here.
    other = RecordSigner(SECRET, "https://k.example", school="elm").link(
        record, "record", "a@b.example", date(2026, 1, 1)
    )
    body, status, _ = record_download(
        other.split("t=", 1)[1], signer=signer, folder_for={"oak": tmp_path, "ash": tmp_path}, today=date(2025, 10, 1)
    )
    assert status == 400
    assert b"This link does not work" in body


def test_copies_whose_link_has_expired_are_removed_and_no_others(tmp_path: Path) -> None:
    signer = RecordSigner(SECRET)
    source = tmp_path / "source.docx"
    source.write_bytes(b"PK")
    kept = {
        last_day: keep(source, tmp_path, signer.record_id(str(last_day), date(2025, 9, 15)), "record", last_day)
        for last_day in (date(2025, 12, 7), date(2025, 12, 8), date(2025, 12, 9))
    }
    other = kept_copy(tmp_path, "0" * 32, "record").with_name("notes.txt")
    other.write_text("the school's own file")
    # On Mon 8 Dec 2025 a link whose last day is Sun 7 Dec no longer works; 8 Dec's still does, all that day.
    assert purge_expired(tmp_path, date(2025, 12, 8)) == 1
    assert [d for d, path in kept.items() if path.exists()] == [date(2025, 12, 8), date(2025, 12, 9)]
    assert other.exists()
    assert purge_expired(tmp_path, date(2025, 12, 8)) == 0
    assert purge_expired(tmp_path / "nowhere", date(2025, 12, 8)) == 0
