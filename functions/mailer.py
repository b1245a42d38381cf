"""Sending a plan: build each message, record it in the sent-ledger, hand it to the transport.

The ledger is write-ahead: a "begin" line is flushed to disk *before* each send and a "sent" or "failed" line after.
- "sent": done; never sent again (the plan reads the ledger and also re-issues the sheet cells from it).
- "failed": the transport said no; the next sweep tries again.
- "begin" with nothing after it: the process died mid-send, so nobody knows whether it went. It is counted as sent
  (at most once): the worst case is one lost request or chaser, which the next chaser (7 days on) or the SENDCo's
  digest covers, rather than a contributor receiving the same email twice.
- "begin" again, with a note: the transport handed the email over and got no answer (MailError.in_doubt: the mail
  server or SendGrid stopped answering after it had the message). Begun, never confirmed: counted as sent, as above.

send_all keeps within a time limit (KEEPER_MAIL_DEADLINE, 240 s by default: a Cloud Function is stopped at 540 s and
the sweep must still write the sheet after sending) and stops after 3 failures in a row that say the mail service is
down. Emails it did not try are "not sent" and not in the ledger, so the next sweep plans them again.
The ledger holds reason keys (kind, cycle, a digest of the row key, date) and outcomes, never names or addresses.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import cache, lru_cache
from typing import Literal

from connectors.mail_base import MailError, MailTransport, WireMessage
from connectors.mail_wire import email_message, wire_message
from sheet_schema.output_text import header_text

from .rendering import EmailPlan, OutgoingEmail
from .sent_ledger import LEDGER_NAME, FileLedger, Ledger, MemoryLedger

log = logging.getLogger("review_keeper.mailer")

DEFAULT_DEADLINE = 240.0  # seconds for the whole email step (KEEPER_MAIL_DEADLINE)
STOP_AFTER_FAILURES = 3  # transient failures in a row: the mail service is down, stop asking it


@dataclass(frozen=True)
class SendOutcome:
    """`status`: "sent"; "already sent" (by an earlier sweep); "in doubt" (handed over, no answer: counted as sent,
    never sent again); "failed" (refused: the next sweep tries again); "not sent" (the step stopped before it: the
    next sweep tries it)."""

    email: OutgoingEmail
    status: Literal["sent", "failed", "already sent", "in doubt", "not sent"]
    error: str | None = None

    @property
    def went(self) -> bool:
        """The email is (or was earlier, or may have been) out: its cells may be written. An in-doubt email counts: the
        ledger holds it as sent, so the next sweep would write the same cells from the ledger anyway."""
        return self.status in ("sent", "already sent", "in doubt")


@cache
def _host_name() -> str:
    # make_msgid(domain=None) asks the resolver afresh for every message; a sender without a domain asks once.
    return socket.getfqdn()


@lru_cache(maxsize=64)  # a trust's long-lived function sends for many schools: bounded
def _from(sender: str, sender_name: str | None) -> tuple[str, str]:
    """The From header and the Message-ID domain: the same for every email of a sweep, so worked out once."""
    name, address = parseaddr(sender)
    display = header_text(sender_name or name)
    return (formataddr((display, address)) if display else address), (address.rpartition("@")[2] or _host_name())


def _headers(email: OutgoingEmail, sender: str, sender_name: str | None) -> list[tuple[str, str]]:
    """The email's headers, in order, as both builders set them."""
    from_header, domain = _from(sender, sender_name)
    headers = [("From", from_header), ("To", email.to)]
    if email.cc:
        headers.append(("Cc", ", ".join(email.cc)))
    # A pupil's name from the register is in the subject: no control character may break or forge a header line.
    headers.append(("Subject", header_text(email.subject)))
    headers.append(("Date", formatdate(localtime=False)))
    headers.append(("Message-ID", make_msgid(domain=domain)))
    if email.reply_to:
        headers.append(("Reply-To", email.reply_to))
    # Lets a mail client (and our own tests) see what the email is for without reading the body.
    headers.append(("X-Review-Keeper-Kind", email.kind))
    return headers


def to_message(email: OutgoingEmail, sender: str, sender_name: str | None = None) -> EmailMessage:
    """The email as an EmailMessage, built by the email package itself: the reference the wire bytes are checked
    against (tests/unit/test_mail_wire.py), and for code that wants to inspect a message."""
    return email_message(_headers(email, sender, sender_name), email.text, email.html, _attachments(email))


def _attachments(email: OutgoingEmail) -> list[tuple[str, str, bytes]]:
    return [(a.filename, a.content_type, a.data) for a in email.attachments]


def to_wire(email: OutgoingEmail, sender: str, sender_name: str | None = None) -> WireMessage:
    """The same email's bytes, written once (connectors/mail_wire.py): what send_all hands every transport."""
    return wire_message(_headers(email, sender, sender_name), email.text, email.html, _attachments(email))


def send_all(
    plan: EmailPlan,
    transport: MailTransport,
    ledger: Ledger,
    *,
    sender_name: str | None = None,
    deadline: float | None = DEFAULT_DEADLINE,
    stop_after: int = STOP_AFTER_FAILURES,
) -> list[SendOutcome]:
    """Send every email in the plan at most once. A failed email is recorded and the others still go, until
    `deadline` seconds have passed or `stop_after` transient failures come in a row: the rest are then "not sent" (the
    next sweep plans them again), so the sweep keeps the time to write the sheet for what went. `deadline=None`: no
    time limit."""
    outcomes: list[SendOutcome] = []
    day = plan.today
    ends_at = time.monotonic() + deadline if deadline is not None else None
    stopped: str | None = None
    in_a_row = 0
    batch = getattr(transport, "batch", None)
    session = getattr(ledger, "session", None)  # FileLedger: the file held open for the whole step
    # A "begin" is synced before its email so that a power cut cannot lose the line of an email that reached a mail
    # service. The outbox's email is itself an unsynced file: a power cut takes both, so one sync at the end will do.
    durable = not getattr(transport, "delivers_to_local_files", False)
    with (
        batch(ends_at) if callable(batch) else contextlib.nullcontext(),
        session(durable=durable) if callable(session) else contextlib.nullcontext(),
    ):
        for email in plan.emails:
            # Checked afresh each time (the ledger reads only what was appended since): another sweep on the same day
            # may have sent it since this plan was made.
            if ledger.is_sent(email.reason_key):
                outcomes.append(SendOutcome(email, "already sent"))
                continue
            if stopped is None and ends_at is not None and time.monotonic() >= ends_at:
                stopped = f"The {deadline:g} seconds allowed for sending emails ran out; the next sweep sends it."
                log.warning("email step: the time limit (%gs) was reached", deadline)
            if stopped is not None:
                outcomes.append(SendOutcome(email, "not sent", stopped))
                continue
            try:
                message = to_wire(email, transport.sender, sender_name)
            except (ValueError, TypeError) as exc:
                outcomes.append(SendOutcome(email, "failed", f"could not build the email: {type(exc).__name__}"))
                continue
            ledger.begin(email.reason_key, day)
            try:
                transport.send(message)
            except MailError as exc:
                if exc.in_doubt:
                    # Handed over, no answer: it may have gone, so it is never sent again (counted as sent).
                    ledger.unconfirmed(email.reason_key, day, str(exc))
                    log.warning("a %s email may or may not have gone: %s", email.kind, exc)
                    outcomes.append(SendOutcome(email, "in doubt", str(exc)))
                else:
                    ledger.failed(email.reason_key, day, str(exc))
                    log.warning("a %s email failed: %s", email.kind, exc)
                    outcomes.append(SendOutcome(email, "failed", str(exc)))
                in_a_row = in_a_row + 1 if exc.transient else 0
                if in_a_row >= stop_after:
                    stopped = (
                        f"The mail service failed {in_a_row} times in a row, so sending stopped; the next sweep "
                        "sends it."
                    )
                    log.warning("email step: stopped after %d failures in a row", in_a_row)
                continue
            except Exception as exc:  # a transport bug must not stop the other emails either
                ledger.failed(email.reason_key, day, type(exc).__name__)
                log.exception("a %s email failed unexpectedly", email.kind)
                outcomes.append(SendOutcome(email, "failed", type(exc).__name__))
                continue
            in_a_row = 0
            ledger.done(email.reason_key, day)
            outcomes.append(SendOutcome(email, "sent"))
    log.info(
        "emails: %d sent, %d already sent, %d in doubt, %d failed, %d not sent",
        *(sum(o.status == s for o in outcomes) for s in ("sent", "already sent", "in doubt", "failed", "not sent")),
    )
    return outcomes


def went_keys(outcomes: Iterable[SendOutcome]) -> set[str]:
    """Reason keys whose cells may be written (pass to planning.updates_to_write / contributions_write_plan)."""
    return {o.email.reason_key for o in outcomes if o.went}


def outcomes_json(outcomes: Iterable[SendOutcome]) -> list[dict[str, object]]:
    """The sweep JSON's "emails" list: what was sent (failed ones carry "error")."""
    out: list[dict[str, object]] = []
    for o in outcomes:
        item: dict[str, object] = {
            "kind": o.email.kind,
            "to": o.email.to,
            "pupil_row": o.email.pupil_row,
            "subject": o.email.subject,
            "status": o.status,
        }
        if o.error:
            item["error"] = o.error
        out.append(item)
    return out


__all__ = [
    "DEFAULT_DEADLINE",
    "LEDGER_NAME",
    "STOP_AFTER_FAILURES",
    "FileLedger",
    "Ledger",
    "MemoryLedger",
    "SendOutcome",
    "outcomes_json",
    "send_all",
    "to_message",
    "to_wire",
    "went_keys",
]
