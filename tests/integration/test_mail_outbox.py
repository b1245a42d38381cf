"""The outbox transport (the default), parsed back with the email package; the ledger across a crash; no date of
birth or UPN in any message."""

from __future__ import annotations

import contextlib
import email
import sys
from datetime import date
from email import policy
from pathlib import Path

import icalendar

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from connectors.mail import OutboxTransport  # noqa: E402
from functions.links import LinkSigner  # noqa: E402
from functions.mailer import FileLedger, send_all, went_keys  # noqa: E402
from functions.planning import plan_emails, updates_to_write  # noqa: E402
from review_rules.model import Status  # noqa: E402
from sheet_schema.contributions import REQUESTED  # noqa: E402
from tests.mail_fixtures import BASE_URL, DOB, SECRET, UPN, clock, contribution, pupil, settings  # noqa: E402

ROWS = [
    contribution(2, "Class teacher", "teacher@school.example", name="Ms Jones"),
    contribution(3, "EP", "ep@la.example", name="Dr Patel <script>alert(1)</script>"),
]


def read_outbox(folder: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]


def test_outbox_messages_links_and_privacy(tmp_path: Path) -> None:
    signer = LinkSigner(SECRET, BASE_URL, school="hillside")
    # Monday: requests to three contributors (one seeded from the parent email) and the digest.
    plan = plan_emails(
        [pupil(clock(status=Status.DUE_SOON))], ROWS, today=date(2025, 10, 6), settings=settings(signer=signer)
    )
    transport = OutboxTransport(tmp_path / "outbox", "keeper@hillside.example")
    outcomes = send_all(plan, transport, FileLedger(tmp_path / "ledger.jsonl"))
    assert [o.status for o in outcomes] == ["sent"] * 4
    messages = read_outbox(tmp_path / "outbox")
    assert sorted(m["X-Review-Keeper-Kind"] for m in messages) == ["digest", "request", "request", "request"]
    forbidden = (UPN, UPN.lower(), DOB.isoformat(), f"{DOB:%d/%m/%Y}", "Khan")
    for m in messages:
        raw = m.as_string()
        for needle in forbidden:
            assert needle not in raw
        text = m.get_body(preferencelist=("plain",)).get_content()
        html = m.get_body(preferencelist=("html",)).get_content()
        assert "Mrs Rachel Okafor" in text
        assert "Mrs Rachel Okafor" in html
        assert "<script>" not in html  # names from the sheet are escaped
        if m["X-Review-Keeper-Kind"] == "request":
            assert m["Reply-To"] == "sendco@hillside.example"
            link = next(line for line in text.splitlines() if line.startswith(BASE_URL))
            claim = signer.verify(link, now=date(2025, 10, 7))
            row = signer.find_row(claim, [*ROWS, *plan.new_rows])
            assert row is not None
            assert row.email == m["To"]


def test_invitation_ics_in_the_outbox(tmp_path: Path) -> None:
    c = clock(planned=True, meeting_date=date(2025, 11, 7))
    rows = [contribution(2, "Class teacher", "teacher@school.example", requested=date(2025, 10, 14))]
    plan = plan_emails([pupil(c, parent_email=None)], rows, today=date(2025, 10, 15), settings=settings())
    send_all(plan, OutboxTransport(tmp_path), FileLedger(tmp_path / "ledger.jsonl"))
    (message,) = read_outbox(tmp_path)
    (part,) = list(message.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    cal = icalendar.Calendar.from_ical(
        part.get_content() if isinstance(part.get_content(), str) else part.get_payload(decode=True)
    )
    event = cal.walk("VEVENT")[0]
    assert str(cal.get("method")) == "REQUEST"
    assert event.decoded("dtstart") == date(2025, 11, 7)
    assert "mailto:teacher@school.example" in str(event.get("attendee"))
    assert "Amira K." in str(event.get("summary"))


class CrashAfter:
    """Sends n messages into the outbox, then the process 'dies' (an exception no transport would raise)."""

    sender = "keeper@hillside.example"

    def __init__(self, folder: Path, n: int) -> None:
        self.outbox = OutboxTransport(folder)
        self.n = n

    def send(self, message) -> None:
        if self.n == 0:
            raise SystemExit("power cut")
        self.n -= 1
        self.outbox.send(message)


def test_crash_between_sending_and_writing(tmp_path: Path) -> None:
    today = date(2025, 10, 7)
    ledger = FileLedger(tmp_path / "ledger.jsonl")
    plan = plan_emails([pupil(parent_email=None)], ROWS, today=today, settings=settings(sendco_email=None))
    assert len(plan.emails) == 2
    # The first email goes, then the process dies while sending the second: nothing is written to the sheet.
    with contextlib.suppress(SystemExit):
        send_all(plan, CrashAfter(tmp_path / "outbox", 1), ledger)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    assert len(ledger.in_doubt()) == 1

    # The rerun reads the same (unwritten) sheet: it sends nothing, and writes Requested for both rows, the in-doubt
    # one included (at most once: worst case that contributor never got it and the chaser in 7 days is their first).
    rerun = plan_emails(
        [pupil(parent_email=None)], ROWS, today=today, settings=settings(sendco_email=None), sent_log=ledger.sent_log()
    )
    assert rerun.emails == ()
    outcomes = send_all(rerun, OutboxTransport(tmp_path / "outbox"), ledger)
    assert outcomes == []
    assert updates_to_write(rerun, went_keys(outcomes)) == {r.key: {REQUESTED: today} for r in ROWS}
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    # A torn last line (crash mid-write of the ledger) is ignored, not fatal.
    with ledger.path.open("a") as fh:
        fh.write('{"key": "request|2024')
    assert len(ledger.sent_log()) == 2


def test_a_long_subject_is_not_folded_after_the_colon(tmp_path: Path) -> None:
    from functions.mailer import to_message
    from functions.planning import OutgoingEmail

    message = to_message(
        OutgoingEmail(
            kind="request",
            to="ep@la.example",
            pupil_row=7,
            subject="Annual review for Maximilian-Alexander W.: your contribution, please, by Fri 24 Oct 2025",
            text="Hello",
            html="<p>Hello</p>",
            reply_to=None,
        ),
        "review-keeper@school.example",
    )
    raw = message.as_bytes()
    assert b"Subject: Annual review for Maximilian-Alexander W.: your contribution, please, by Fri 24 Oct 2025\n" in raw


def test_the_outbox_writes_the_bytes_it_is_given_and_makes_its_folder(tmp_path: Path) -> None:
    """Issue 16: the wire bytes go to disk as they are (no second flattening); the folder is made on the first email
    and again if it is removed mid-run; only whole .eml files are ever listed, readable by their owner only."""
    from connectors.mail_base import WireMessage

    folder = tmp_path / "a" / "outbox"
    transport = OutboxTransport(folder)
    transport.send(WireMessage(b"To: a@b.example\nSubject: one\n\nbody\n"))
    (first,) = folder.glob("*.eml")
    assert first.read_bytes() == b"To: a@b.example\nSubject: one\n\nbody\n"
    assert first.stat().st_mode & 0o777 == 0o600
    first.unlink()
    folder.rmdir()
    transport.send(WireMessage(b"Subject: two\n\n"))
    assert [p.read_bytes() for p in folder.iterdir()] == [b"Subject: two\n\n"]
