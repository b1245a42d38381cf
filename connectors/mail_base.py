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
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Protocol

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


class MailTransport(Protocol):
    """`send` one message or raise MailError. A transport may also offer `batch(deadline)`, a context manager in which
    several sends share one connection and stop retrying at `deadline` (a time.monotonic() value)."""

    sender: str

    def send(self, message: EmailMessage) -> None: ...


def recipients_of(message: EmailMessage) -> list[str]:
    fields = [str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
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
