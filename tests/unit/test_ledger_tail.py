"""The sent-ledger read once per sweep and then only what was appended (issue 16): every email still checks the file
for another run's sends, at the cost of the new lines only, and a line still being written is not taken for garbage."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from functions.mailer import FileLedger

DAY = date(2026, 3, 4)


def test_a_send_by_another_run_is_seen_before_the_next_email(tmp_path: Path) -> None:
    path = tmp_path / "review-keeper-sent.jsonl"
    ours, theirs = FileLedger(path), FileLedger(path)
    assert ours.sent_log() == {}
    theirs.begin("request:a", DAY)
    assert ours.is_sent("request:a")  # appended by the other run after we first read the file
    theirs.failed("request:a", DAY, "550 no such user")
    assert not ours.is_sent("request:a")  # the last state wins, as in the whole-file reading
    ours.begin("chaser:b", DAY)
    ours.done("chaser:b", DAY)
    assert theirs.sent_log() == {"chaser:b": DAY}
    assert FileLedger(path).states() == {"request:a": ("failed", DAY), "chaser:b": ("sent", DAY)}


def test_each_email_reads_only_the_new_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = FileLedger(path)
    read = 0
    original = Path.open

    class Counted:
        def __init__(self, handle):  # type: ignore[no-untyped-def]
            self.handle = handle

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            self.handle.close()

        def __iter__(self):  # type: ignore[no-untyped-def]
            for line in self.handle:
                self.count(line)
                yield line

        def read(self, *args):  # type: ignore[no-untyped-def]
            return self.count(self.handle.read(*args))

        def count(self, data):  # type: ignore[no-untyped-def]
            nonlocal read
            read += len(data)
            return data

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(self.handle, name)

    def counting_open(self: Path, mode: str = "r", *args, **kwargs):  # type: ignore[no-untyped-def]
        handle = original(self, mode, *args, **kwargs)
        return Counted(handle) if "r" in mode and self == path else handle

    monkeypatch.setattr(Path, "open", counting_open)
    for n in range(300):
        assert not ledger.is_sent(f"request:{n}")
        ledger.begin(f"request:{n}", DAY)
        ledger.done(f"request:{n}", DAY)
    size = path.stat().st_size
    assert read <= size  # every byte read once: re-reading before each email would be 300 times the file


def test_a_line_cut_short_is_read_once_it_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = FileLedger(path)
    path.write_text('{"day": "2026-03-04", "key": "request:a", "state": "begin"}\n{"day": "2026-03-04", "ke')
    assert ledger.sent_log() == {"request:a": DAY}
    with path.open("a") as fh:
        fh.write('y": "request:b", "state": "sent"}\n')
    assert ledger.sent_log() == {"request:a": DAY, "request:b": DAY}


def test_a_ledger_replaced_by_a_shorter_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = FileLedger(path)
    ledger.begin("request:a", DAY)
    ledger.begin("request:b", DAY)
    assert len(ledger.sent_log()) == 2
    path.write_text('{"day": "2026-03-04", "key": "request:c", "state": "sent"}\n')  # restored from a backup
    assert ledger.sent_log() == {"request:c": DAY}


def test_a_session_opens_the_file_once_and_syncs_each_begin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """send_all's session: one open for the whole step, one sync per email (its "begin", before the send), none for
    "sent", and the lines it wrote itself never read back; every line is on disk as each call returns."""
    from functions import sent_ledger

    path = tmp_path / "ledger.jsonl"
    path.write_text('{"day": "2026-03-04", "key": "digest:x", "state": "sent"}\n')
    ledger = FileLedger(path)
    opened: list[str] = []
    synced: list[int] = []
    original_open = Path.open

    def counting_open(self: Path, mode: str = "r", *args, **kwargs):  # type: ignore[no-untyped-def]
        if self == path:
            opened.append(mode)
        return original_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    monkeypatch.setattr(sent_ledger, "_sync", lambda fd: synced.append(fd))
    with ledger.session():
        for n in range(50):
            assert not ledger.is_sent(f"request:{n}")
            ledger.begin(f"request:{n}", DAY)
            assert len(synced) == n + 1  # synced before the caller sends
            with open(path, "rb") as raw:
                assert raw.read().endswith(b'"state": "begin"}\n')  # flushed: a crash now still finds it
            ledger.done(f"request:{n}", DAY)
        assert ledger.is_sent("digest:x")
    assert opened == ["rb", "ab"]  # the existing lines read once; the file opened once to append
    assert len(synced) == 50
    assert FileLedger(path).sent_log() == ledger.sent_log()
    assert len(ledger.sent_log()) == 51


def test_a_ledger_replaced_during_a_session_gets_the_next_lines(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = FileLedger(path)
    with ledger.session():
        ledger.begin("request:a", DAY)
        path.rename(tmp_path / "old.jsonl")
        path.write_text('{"day": "2026-03-04", "key": "request:c", "state": "sent"}\n')  # put back from a backup
        assert ledger.is_sent("request:c")
        ledger.begin("request:b", DAY)
    assert FileLedger(path).sent_log() == {"request:b": DAY, "request:c": DAY}
    assert ledger.sent_log() == {"request:b": DAY, "request:c": DAY}


def test_another_run_appending_between_our_lines_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ours, theirs = FileLedger(path), FileLedger(path)
    with ours.session():
        assert not ours.is_sent("request:a")
        theirs.begin("request:b", DAY)  # lands between our look and our line
        ours.begin("request:a", DAY)
        assert ours.is_sent("request:b")
        assert ours.states() == {"request:b": ("begin", DAY), "request:a": ("begin", DAY)}


def test_the_outbox_syncs_the_ledger_once_a_mail_service_once_per_email(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A "begin" is synced before an email reaches a mail service (a power cut then cannot lose the line of an email
    that went). An outbox email is itself an unsynced file, so the outbox's session flushes every line (a killed
    process still finds them all) and syncs once, at the end."""
    from connectors.outbox import OutboxTransport
    from functions import sent_ledger
    from functions.mailer import send_all
    from functions.rendering import plan_emails
    from tests.mail_fixtures import settings
    from tests.unit.test_planning_run import Recorder, Sheet, pupil_on

    today = date(2025, 10, 20)
    synced: list[int] = []
    monkeypatch.setattr(sent_ledger, "_sync", lambda fd: synced.append(fd))
    plan = plan_emails([pupil_on(today)], Sheet().rows, today=today, settings=settings())
    assert len(plan.emails) >= 3
    path = tmp_path / "ledger.jsonl"
    outcomes = send_all(plan, OutboxTransport(tmp_path / "outbox"), FileLedger(path))
    assert [o.status for o in outcomes] == ["sent"] * len(plan.emails)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(plan.emails)
    assert len(synced) == 1  # once, when the session ended
    states = FileLedger(path).states()
    assert {k: s for k, (s, _) in states.items()} == {e.reason_key: "sent" for e in plan.emails}

    synced.clear()
    network = tmp_path / "network.jsonl"
    send_all(plan, Recorder(), FileLedger(network))
    assert len(synced) == len(plan.emails)  # a mail service: each "begin" synced before its email


def test_a_torn_line_a_blank_line_and_stray_json_are_left_out_and_the_rest_read(tmp_path: Path) -> None:
    """The lines are parsed as one array when all are whole JSON; a crash mid-line (then later runs appending after
    it), a blank line or a stray value sends the reading line by line, and only whole events count."""
    good = [
        '{"day": "2026-03-04", "key": "request:a", "state": "begin"}',
        '{"day": "2026-03-04", "key": "request:a", "state": "sent"}',
        '{"day": "2026-03-04", "key": "chaser:b", "state": "begin"}',
    ]
    whole = tmp_path / "whole.jsonl"
    whole.write_text("\n".join(good) + "\n")
    assert FileLedger(whole).states() == {"request:a": ("sent", DAY), "chaser:b": ("begin", DAY)}
    torn = tmp_path / "torn.jsonl"
    torn.write_text(
        good[0] + "\n" + '{"day": "2026-03-04", "key": "request:c", "st' + "\n"  # a crash mid-line
        "\n"  # a blank line
        "[1, 2]\n"  # not an event
        + good[1]
        + "\r\n"  # a line ending a Windows editor left
        + good[2]
        + "\n"
    )
    assert FileLedger(torn).states() == {"request:a": ("sent", DAY), "chaser:b": ("begin", DAY)}
    assert FileLedger(torn).sent_log() == {"request:a": DAY, "chaser:b": DAY}
