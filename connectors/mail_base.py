"""The mail port every transport implements (`send(message)` or MailError), and what transports share: bounded
timeouts within a batch's deadline, capped back-off, and the recipients of a message.

A send is retried (a bounded number of times) only while the message cannot have been accepted. Once the message has
been handed over and no answer came, nobody knows whether it went: MailError(in_doubt=True), never retried, so that an
email is at worst lost (the next chaser covers it), never received twice. Nothing here logs addresses, subjects or
bodies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from functools import cached_property
from typing import Protocol, TypeAlias

log = logging.getLogger("review_keeper.mail")

DEFAULT_TIMEOUT = 20.0
DEFAULT_RETRIES = 3  # attempts after the first
_MIN_TIMEOUT = 0.05  # never zero: a zero timeout would make the socket non-blocking


class MailError(Exception):
    """An email that could not be sent. `str(err)` says why in one sentence, without the message's contents.

    `transient`: the server or network was unavailable (worth trying again later; several in a row mean it is down).
    `in_doubt`: the message was handed over and no answer came, so it may have gone: it must not be sent again."""

    def __init__(self, message: str, *, transient: bool = False, in_doubt: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.in_doubt = in_doubt


# Headers fold at 998 characters (RFC 5322's hard limit) rather than 78: the default policy folds a subject such as
# "Annual review for Evie L.: your contribution, please, by Fri 27 Nov 2026" straight after "Subject:", which some
# clients then show with a leading space.
MESSAGE_POLICY = email_policy.default.clone(max_line_length=998)


@dataclass(frozen=True, eq=False)
class WireMessage:
    """One email as it goes on the wire (RFC 5322 and MIME, "\n" line ends), made once by connectors/mail_wire.py: the
    outbox writes these bytes and SMTP sends them with CRLF, neither flattening the message again (issue 16).

    `source` builds the same message as an EmailMessage (same headers, Date and Message-ID included), for what needs
    the email package's own object: SendGrid's and Graph's JSON, and SMTP with a non-ASCII address (SMTPUTF8, where
    the email package writes the headers in UTF-8 rather than encoded words)."""

    data: bytes
    source: Callable[[], EmailMessage] | None = field(default=None, repr=False)

    def as_bytes(self) -> bytes:
        return self.data

    @cached_property
    def message(self) -> EmailMessage:
        if self.source is not None:
            return self.source()
        message = BytesParser(policy=MESSAGE_POLICY).parsebytes(self.data)
        assert isinstance(message, EmailMessage)
        return message

    @cached_property
    def headers(self) -> EmailMessage:
        """Its headers alone, read back (the body is not parsed): the addresses SMTP needs for the envelope."""
        message = BytesParser(policy=MESSAGE_POLICY).parsebytes(self.data, headersonly=True)
        assert isinstance(message, EmailMessage)
        return message


# What a transport is handed: the sweep's emails come as WireMessage; a message built by hand may still be an
# EmailMessage (functions/papers.py).
Outgoing: TypeAlias = EmailMessage | WireMessage


def as_email(message: Outgoing) -> EmailMessage:
    return message.message if isinstance(message, WireMessage) else message


class MailTransport(Protocol):
    """`send` one message or raise MailError. A transport may also offer `batch(deadline)`, a context manager in which
    several sends share one connection and stop retrying at `deadline` (a time.monotonic() value)."""

    sender: str

    def send(self, message: Outgoing) -> None: ...


def recipients_of(message: Outgoing) -> list[str]:
    source = message.headers if isinstance(message, WireMessage) else message
    fields = [str(v) for h in ("To", "Cc", "Bcc") for v in source.get_all(h, [])]
    return [addr for _, addr in getaddresses(fields) if addr]


def backoff(attempt: int, retry_after: float | None = None) -> float:
    if retry_after is not None:
        return min(max(retry_after, 0.0), 30.0)
    return min(2.0**attempt, 30.0)


def out_of_time() -> MailError:
    return MailError("The time allowed for sending emails ran out before this one went.", transient=True)


def bounded_timeout(timeout: float, deadline: float | None) -> float:
    """The configured timeout, cut to what is left before `deadline`; MailError once nothing is left."""
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise out_of_time()
    return max(min(timeout, left), _MIN_TIMEOUT)
