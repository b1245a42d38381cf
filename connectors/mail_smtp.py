"""The SMTP transport: STARTTLS (port 587: Microsoft 365 smtp.office365.com, Google Workspace smtp.gmail.com), implicit
TLS (port 465) or none (a local relay); LOGIN/PLAIN with a password, or XOAUTH2 with an OAuth access token.

Every network call has a timeout. A send is retried (a bounded number of times) only while the message cannot have been
accepted: 4xx replies, a refused connection. A timeout or a dropped connection after the message was handed over is
in doubt (MailError(in_doubt=True)) and never retried. `batch(deadline)` sends several messages over one connection
within one time limit.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from email import policy as email_policy
from email.generator import BytesGenerator
from email.policy import EmailPolicy
from email.utils import parseaddr

from connectors.mail_base import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    MailError,
    Outgoing,
    WireMessage,
    as_email,
    backoff,
    bounded_timeout,
    log,
    recipients_of,
)

_DOT_LINE = re.compile(rb"(?m)^\.")


def _timed_out(exc: BaseException) -> bool:
    """smtplib turns a read timeout into SMTPServerDisconnected; the timeout is still its context."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _in_doubt(host: str, exc: BaseException) -> MailError:
    what = "stopped answering" if _timed_out(exc) else "closed the connection"
    return MailError(
        f"The mail server at {host} {what} after the email was handed over, so it may have gone; it is not sent again "
        "(the next chaser or digest covers it).",
        transient=True,
        in_doubt=True,
    )


def _smtp_content(
    smtp: smtplib.SMTP, message: Outgoing, envelope_from: str, recipients: list[str]
) -> tuple[bytes, list[str]]:
    """The message as SMTP carries it (CRLF lines, no Bcc header) and the MAIL options it needs."""
    ascii_only = all(a.isascii() for a in (envelope_from, *recipients))
    if isinstance(message, WireMessage) and ascii_only and message.headers.get("Bcc") is None:
        # Already written once, with "\n" line ends and no 8-bit header: only the line ends change (issue 16).
        return message.data.replace(b"\n", b"\r\n"), []
    message = as_email(message)
    shown = copy.copy(message)
    del shown["Bcc"]  # rebinds the copy's header list: the caller's message keeps its own
    policy = message.policy if isinstance(message.policy, EmailPolicy) else email_policy.default
    options: list[str] = []
    if not ascii_only:
        if not smtp.has_extn("smtputf8"):
            raise MailError("An address has non-ASCII characters and the mail server does not accept them (SMTPUTF8).")
        policy, options = policy.clone(utf8=True), ["SMTPUTF8", "BODY=8BITMIME"]
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=policy).flatten(shown, linesep="\r\n")
    return buffer.getvalue(), options


# ---------------------------------------------------------------------------------------------------------------------


class SmtpTransport:
    """One SMTP conversation per batch (see `batch`): connect, STARTTLS and log in once, then MAIL / RCPT / DATA per
    message, reconnecting once if the server dropped the idle connection. Outside a batch each send has its own
    connection, as before.

    Retries (RFC 5321 4.2.1: 4xx is "try again later") only while the message cannot have been accepted: a refused or
    dropped connection, STARTTLS or login failing for a transient reason, a 4xx to MAIL, RCPT or DATA, or a 4xx as the
    final answer to the message (the server said it did not take it). Once the whole message has been handed over, a
    timeout or a dropped connection before the server's answer leaves the outcome in doubt (the server may have queued
    it): that is never retried, and MailError(in_doubt=True) tells the caller to count it as sent rather than risk a
    contributor getting the same email twice."""

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        security: str = "starttls",
        user: str | None = None,
        password: str | None = None,
        oauth_token: str | None = None,
        sender: str,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        ssl_context: ssl.SSLContext | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        security = security.strip().lower()
        if security not in ("starttls", "tls", "none"):
            raise MailError(f'KEEPER_SMTP_SECURITY is "{security}"; use starttls, tls or none.')
        self.host = host
        self.port = port or {"starttls": 587, "tls": 465, "none": 25}[security]
        self.security = security
        self.user = user
        self.password = password
        self.oauth_token = oauth_token
        self.sender = sender
        self.timeout = timeout
        self.retries = retries
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._sleep = sleep
        self._deadline: float | None = None
        self._in_batch = False
        self._smtp: smtplib.SMTP | None = None
        self.connections = 0  # connections opened so far (the summary and tests read it)

    @contextlib.contextmanager
    def batch(self, deadline: float | None = None) -> Iterator[SmtpTransport]:
        """Send several messages over one connection, none of it past `deadline` (a time.monotonic() value)."""
        self._deadline, self._in_batch = deadline, True
        try:
            yield self
        finally:
            self._deadline, self._in_batch = None, False
            self._disconnect()

    def _op_timeout(self) -> float:
        """The socket timeout for the next step: the configured one, but never past the batch's deadline (MailError
        once it has passed: only ever called before the message is handed over, so stopping is safe)."""
        return bounded_timeout(self.timeout, self._deadline)

    def _step(self, smtp: smtplib.SMTP) -> None:
        """Before each command: a stalled server may take one step's timeout, never the whole batch's time."""
        timeout = self._op_timeout()
        if smtp.sock is not None:
            smtp.sock.settimeout(timeout)

    def _connect(self) -> smtplib.SMTP:
        timeout = self._op_timeout()
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=timeout)
        self.connections += 1
        try:
            self._step(smtp)
            smtp.ehlo()
            if self.security == "starttls":
                self._step(smtp)
                smtp.starttls(context=self.ssl_context)
                self._step(smtp)
                smtp.ehlo()
            if self.oauth_token and self.user:
                token = f"user={self.user}\x01auth=Bearer {self.oauth_token}\x01\x01"
                self._step(smtp)
                smtp.auth("XOAUTH2", lambda challenge=None: token, initial_response_ok=True)
            elif self.user and self.password:
                self._step(smtp)
                smtp.login(self.user, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _disconnect(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _drop(self) -> None:
        """Close without QUIT: after a timeout or a broken conversation the connection's state is unknown."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _reset(self) -> None:
        """RSET after a refused transaction, so the kept connection can carry the next message."""
        if self._smtp is None:
            return
        try:
            code, _ = self._smtp.rset()
            if code != 250:
                self._drop()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _give_up_waiting(self, wait: float) -> bool:
        return self._deadline is not None and time.monotonic() + wait >= self._deadline

    def send(self, message: Outgoing) -> None:
        recipients = recipients_of(message)
        if not recipients:
            raise MailError("The email has no recipient.")
        heads = message.headers if isinstance(message, WireMessage) else message
        _, envelope_from = parseaddr(str(heads.get("From", self.sender)))
        envelope_from = envelope_from or self.sender
        reconnected = False
        attempt = 0
        try:
            while True:
                reused = self._smtp is not None
                handed_over = [False]
                try:
                    if self._smtp is None:
                        self._smtp = self._connect()
                    self._transaction(self._smtp, message, envelope_from, recipients, handed_over)
                    return
                except MailError:
                    self._drop()  # out of time mid-conversation (before the message went), or refused recipients
                    raise
                except smtplib.SMTPAuthenticationError as exc:
                    self._drop()
                    if 400 <= exc.smtp_code < 500 and self._retry(attempt, f"login {exc.smtp_code}"):
                        attempt += 1
                        continue
                    raise MailError(
                        f"The mail server at {self.host} refused the login ({exc.smtp_code}); check KEEPER_SMTP_USER "
                        "and KEEPER_SMTP_PASSWORD (Microsoft 365 and Google need SMTP AUTH or an app password "
                        "enabled).",
                        transient=exc.smtp_code < 500,
                    ) from None
                except smtplib.SMTPRecipientsRefused as exc:
                    self._reset()
                    codes = [code for code, _ in exc.recipients.values()]
                    if codes and all(400 <= c < 500 for c in codes) and self._retry(attempt, f"RCPT {codes[0]}"):
                        attempt += 1
                        continue
                    raise MailError(
                        f"The mail server refused the recipient ({_first_code(exc.recipients)}).",
                        transient=bool(codes) and all(c < 500 for c in codes),
                    ) from None
                except smtplib.SMTPResponseException as exc:
                    # A reply the server chose to give: it did not take the message (a 4xx after the message is the
                    # server saying "not accepted, try later", RFC 5321 4.2.5), so retrying cannot double it.
                    if exc.smtp_code == 421:
                        self._drop()  # 421: the server is closing the connection
                        if reused and not reconnected and not handed_over[0]:
                            # Many servers cap the messages per connection or close idle ones with a 421: a fresh
                            # connection straight away, as for a dropped one.
                            reconnected = True
                            continue
                    else:
                        self._reset()
                    if 400 <= exc.smtp_code < 500 and self._retry(attempt, f"SMTP {exc.smtp_code}"):
                        attempt += 1
                        continue
                    raise MailError(
                        f"The mail server at {self.host} answered {exc.smtp_code}.", transient=exc.smtp_code < 500
                    ) from None
                except ssl.SSLError as exc:
                    self._drop()
                    if handed_over[0]:
                        raise _in_doubt(self.host, exc) from None
                    raise MailError(f"Could not start a secure connection to {self.host}: {exc.reason}.") from None
                except OSError as exc:  # SMTPServerDisconnected, timeouts, resets; SMTPException is an OSError too
                    self._drop()
                    if handed_over[0]:
                        raise _in_doubt(self.host, exc) from None
                    if isinstance(exc, smtplib.SMTPException) and not isinstance(exc, smtplib.SMTPServerDisconnected):
                        # e.g. SMTPNotSupportedError (no STARTTLS, no AUTH): the server's setup, not the network.
                        raise MailError(f"The mail server at {self.host} failed: {type(exc).__name__}.") from None
                    if reused and not reconnected and not _timed_out(exc):
                        # The kept connection was closed by the server while idle (servers drop quiet connections):
                        # reconnect once straight away; this is not a failed attempt.
                        reconnected = True
                        log.info("SMTP connection dropped between messages (%s), reconnecting", type(exc).__name__)
                        continue
                    if self._retry(attempt, type(exc).__name__):
                        attempt += 1
                        continue
                    problem = (
                        "did not answer in time" if _timed_out(exc) else f"could not be reached ({type(exc).__name__})"
                    )
                    raise MailError(f"The mail server at {self.host}:{self.port} {problem}.", transient=True) from None
        finally:
            if not self._in_batch:
                self._disconnect()

    def _retry(self, attempt: int, why: str) -> bool:
        """Wait before another attempt, if one is left and the wait fits before the deadline."""
        if attempt >= self.retries:
            return False
        wait = backoff(attempt)
        if self._give_up_waiting(wait):
            return False
        log.warning("SMTP %s, retrying (attempt %d)", why, attempt + 1)
        self._sleep(wait)
        return True

    def _transaction(
        self,
        smtp: smtplib.SMTP,
        message: Outgoing,
        envelope_from: str,
        recipients: list[str],
        handed_over: list[bool],
    ) -> None:
        """MAIL, RCPT, DATA, the message, then the server's answer. `handed_over[0]` turns True once the whole message
        (with its closing ".") has been written to the socket: from then on a missing answer is "in doubt"."""
        self._step(smtp)
        smtp.ehlo_or_helo_if_needed()
        content, options = _smtp_content(smtp, message, envelope_from, recipients)
        self._step(smtp)
        code, reply = smtp.mail(envelope_from, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
        refused: dict[str, tuple[int, bytes]] = {}
        for rcpt in recipients:
            self._step(smtp)
            code, reply = smtp.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, reply)
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)  # type: ignore[arg-type]
        self._step(smtp)
        code, reply = smtp.docmd("DATA")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        # Dot-stuffing (RFC 5321 4.5.2) and the closing ".": if this write fails part-way the closing "." was not sent,
        # so the server cannot have accepted the message and a retry is safe.
        self._step(smtp)
        smtp.send(_DOT_LINE.sub(b"..", content) + b"\r\n.\r\n")
        handed_over[0] = True
        # The answer gets the full timeout even past the deadline: giving up now would leave the email in doubt, and
        # the deadline keeps far more than one timeout in hand before the function's own limit.
        if smtp.sock is not None:
            smtp.sock.settimeout(self.timeout)
        code, reply = smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        if refused:
            raise MailError(
                f"The mail server refused {len(refused)} of the {len(recipients)} recipients; the email went to the "
                "others and is not sent again.",
                in_doubt=True,
            )


def _first_code(recipients: Mapping[str, tuple[int, bytes]]) -> str:
    for code, _ in recipients.values():
        return str(code)
    return "no code"
