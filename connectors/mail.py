"""Mail transports behind one small port: `send(message)`. Chosen by KEEPER_MAIL (outbox | smtp | sendgrid).

- OutboxTransport: writes each message as an .eml file into a folder. The default: needs nothing, sends nothing.
- SmtpTransport: STARTTLS (port 587: Microsoft 365 smtp.office365.com, Google Workspace smtp.gmail.com), implicit
  TLS (port 465) or none (a local relay); LOGIN/PLAIN with a password, or XOAUTH2 with an OAuth access token.
- SendGridTransport: the SendGrid v3 API through the `sendgrid` package.

Every network call has a timeout. A send is retried (a bounded number of times) only while the message cannot have been
accepted: SMTP 4xx replies, a refused connection, HTTP 429. Once the message has been handed over and no answer came
(a timeout or a dropped connection; for SendGrid also a 5xx), nobody knows whether it went: MailError(in_doubt=True),
never retried, so that an email is at worst lost (the next chaser covers it), never received twice.

`batch(deadline)` (optional on a transport; send_all uses it when present) sends several messages within one time
limit, over one SMTP connection. Nothing here logs addresses, subjects or bodies.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import http.client
import io
import logging
import os
import re
import smtplib
import ssl
import tempfile
import time
import urllib.error
import uuid
from collections.abc import Callable, Iterator, Mapping
from email import policy as email_policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("review_keeper.mail")

# python_http_client logs the Authorization header (the API key) and the whole message body at DEBUG: keep it above,
# whatever level the application's root logger is set to.
logging.getLogger("python_http_client").setLevel(logging.INFO)

DEFAULT_TIMEOUT = 20.0
DEFAULT_RETRIES = 3  # attempts after the first
_MIN_TIMEOUT = 0.05  # never zero: a zero timeout would make the socket non-blocking
_DOT_LINE = re.compile(rb"(?m)^\.")


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


def _recipients(message: EmailMessage) -> list[str]:
    fields = [str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
    return [addr for _, addr in getaddresses(fields) if addr]


def _backoff(attempt: int, retry_after: float | None = None) -> float:
    if retry_after is not None:
        return min(max(retry_after, 0.0), 30.0)
    return min(2.0**attempt, 30.0)


def _out_of_time() -> MailError:
    return MailError("The time allowed for sending emails ran out before this one went.", transient=True)


def _bounded_timeout(timeout: float, deadline: float | None) -> float:
    """The configured timeout, cut to what is left before `deadline`; MailError once nothing is left."""
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise _out_of_time()
    return max(min(timeout, left), _MIN_TIMEOUT)


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
    smtp: smtplib.SMTP, message: EmailMessage, envelope_from: str, recipients: list[str]
) -> tuple[bytes, list[str]]:
    """The message as SMTP carries it (CRLF lines, no Bcc header) and the MAIL options it needs."""
    shown = copy.copy(message)
    del shown["Bcc"]  # rebinds the copy's header list: the caller's message keeps its own
    policy = message.policy if isinstance(message.policy, EmailPolicy) else email_policy.default
    options: list[str] = []
    if not all(a.isascii() for a in (envelope_from, *recipients)):
        if not smtp.has_extn("smtputf8"):
            raise MailError("An address has non-ASCII characters and the mail server does not accept them (SMTPUTF8).")
        policy, options = policy.clone(utf8=True), ["SMTPUTF8", "BODY=8BITMIME"]
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=policy).flatten(shown, linesep="\r\n")
    return buffer.getvalue(), options


# ---------------------------------------------------------------------------------------------------------------------


class OutboxTransport:
    """Writes `<time>-<id>.eml` into `folder`: the SENDCo (or a test) opens them with any mail program."""

    def __init__(self, folder: Path, sender: str = "review-keeper@localhost") -> None:
        self.folder = Path(folder)
        self.sender = sender

    def send(self, message: EmailMessage) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:12]}.eml"
            # Written whole then renamed, so a reader never sees half a message.
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.as_bytes())
            os.replace(tmp, self.folder / name)
        except OSError as exc:
            raise MailError(f"Could not write to the outbox folder {self.folder}: {exc.strerror}.") from None


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
        return _bounded_timeout(self.timeout, self._deadline)

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

    def send(self, message: EmailMessage) -> None:
        recipients = _recipients(message)
        if not recipients:
            raise MailError("The email has no recipient.")
        _, envelope_from = parseaddr(str(message.get("From", self.sender)))
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
        wait = _backoff(attempt)
        if self._give_up_waiting(wait):
            return False
        log.warning("SMTP %s, retrying (attempt %d)", why, attempt + 1)
        self._sleep(wait)
        return True

    def _transaction(
        self,
        smtp: smtplib.SMTP,
        message: EmailMessage,
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


# ---------------------------------------------------------------------------------------------------------------------


class SendGridTransport:
    """POST /v3/mail/send. What is retried and what is not (SendGrid's API is not idempotent: there is no key that
    would let it drop a repeated request):

    - 429 (rate limited: SendGrid refused the request) and a connection that failed before the request was fully
      written (refused, DNS, TLS, reset while sending: urllib raises URLError) are retried, honouring Retry-After.
    - A 5xx, or a timeout / dropped connection after the request was written and before the answer, is *in doubt*:
      SendGrid may have queued the email. Not retried, and not sent again by the next sweep; the next chaser (or the
      digest) covers a lost one. Doubling an email to a contributor is the worse outcome.
    - Any other 4xx (a bad key, a bad request) is a plain failure: nothing was accepted."""

    def __init__(
        self,
        api_key: str,
        *,
        sender: str,
        host: str | None = None,
        sandbox: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise MailError("KEEPER_MAIL is sendgrid but SENDGRID_API_KEY is not set.")
        import sendgrid

        self._client = sendgrid.SendGridAPIClient(api_key=api_key, host=host or "https://api.sendgrid.com")
        # The client has no default timeout: a stalled API would hang the sweep.
        self._client.client.timeout = timeout
        self.timeout = timeout
        self.sender = sender
        self.sandbox = sandbox
        self.retries = retries
        self._sleep = sleep
        self._deadline: float | None = None

    @contextlib.contextmanager
    def batch(self, deadline: float | None = None) -> Iterator[SendGridTransport]:
        """Several sends, none of them waiting or retrying past `deadline` (a time.monotonic() value)."""
        self._deadline = deadline
        try:
            yield self
        finally:
            self._deadline = None

    def payload(self, message: EmailMessage) -> dict[str, Any]:
        """The v3 /mail/send JSON for one message (built by hand: every part of EmailMessage maps directly)."""
        _, to_addr = parseaddr(str(message["To"]))
        from_name, from_addr = parseaddr(str(message.get("From", self.sender)))
        body: dict[str, Any] = {
            "personalizations": [{"to": [{"email": addr} for addr in _recipients(message)] or [{"email": to_addr}]}],
            "from": {"email": from_addr, **({"name": from_name} if from_name else {})},
            "subject": str(message["Subject"]),
            "content": [],
        }
        if message.get("Reply-To"):
            _, reply = parseaddr(str(message["Reply-To"]))
            body["reply_to"] = {"email": reply}
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        if text is not None:
            body["content"].append({"type": "text/plain", "value": text.get_content()})  # type: ignore[attr-defined]
        if html is not None:
            body["content"].append({"type": "text/html", "value": html.get_content()})  # type: ignore[attr-defined]
        attachments = []
        for part in message.iter_attachments():
            raw = part.get_payload(decode=True)
            data = raw if isinstance(raw, bytes) else b""
            attachments.append(
                {
                    "content": base64.b64encode(data).decode("ascii"),
                    "type": part.get_content_type(),
                    "filename": part.get_filename() or "attachment",
                    "disposition": "attachment",
                }
            )
        if attachments:
            body["attachments"] = attachments
        if self.sandbox:
            body["mail_settings"] = {"sandbox_mode": {"enable": True}}
        return body

    def send(self, message: EmailMessage) -> None:
        from python_http_client.exceptions import HTTPError

        body = self.payload(message)
        for attempt in range(self.retries + 1):
            # Read by each request the client builds, so it can shrink as the deadline nears.
            self._client.client.timeout = _bounded_timeout(self.timeout, self._deadline)
            try:
                response = self._client.send(body)
            except HTTPError as exc:
                status = getattr(exc, "status_code", 0)
                if status == 429:
                    wait = _backoff(attempt, _retry_after(getattr(exc, "headers", None)))
                    if attempt < self.retries and not self._past_deadline(wait):
                        log.warning("SendGrid 429, retrying (attempt %d)", attempt + 1)
                        self._sleep(wait)
                        continue
                    raise MailError("SendGrid answered 429 (too many requests).", transient=True) from None
                if status >= 500:
                    raise MailError(
                        f"SendGrid answered {status}, so the email may have been accepted; it is not sent again (the "
                        "next chaser or digest covers it).",
                        transient=True,
                        in_doubt=True,
                    ) from None
                hint = " (check SENDGRID_API_KEY)" if status in (401, 403) else ""
                raise MailError(f"SendGrid answered {status}{hint}.") from None
            except urllib.error.URLError as exc:
                # urllib raises URLError only while connecting or writing the request: SendGrid cannot have it all.
                reason = exc.reason if isinstance(exc.reason, BaseException) else exc
                if attempt < self.retries and not self._past_deadline(_backoff(attempt)):
                    log.warning("SendGrid unreachable (%s), retrying (attempt %d)", type(reason).__name__, attempt + 1)
                    self._sleep(_backoff(attempt))
                    continue
                raise MailError(f"Could not reach SendGrid ({type(reason).__name__}).", transient=True) from None
            except (OSError, http.client.HTTPException) as exc:
                # The request went; the answer did not come (a timeout, a reset, a garbled status line).
                raise MailError(
                    f"SendGrid did not answer ({type(exc).__name__}) after the email was handed over, so it may have "
                    "gone; it is not sent again (the next chaser or digest covers it).",
                    transient=True,
                    in_doubt=True,
                ) from None
            if 200 <= response.status_code < 300:
                return
            raise MailError(f"SendGrid answered {response.status_code}.")

    def _past_deadline(self, wait: float) -> bool:
        return self._deadline is not None and time.monotonic() + wait >= self._deadline


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    try:
        value = headers.get("Retry-After")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------------------------------


def _flag(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def transport_from_env(env: Mapping[str, str], settings_mail: Mapping[str, Any], register_dir: Path) -> MailTransport:
    """The transport the school configured. Environment (KEEPER_*) wins over keeper.toml's [mail] table, whose keys are
    the variable names without the prefix in lower case: transport, outbox, smtp_host, smtp_port, smtp_user,
    smtp_password, smtp_security, smtp_oauth_token, from, sendgrid_sandbox, timeout. (The table's ledger and deadline
    are read by the sweep, not here.)"""

    def get(name: str, default: Any = None) -> Any:
        value = env.get(f"KEEPER_{name.upper()}")
        if value not in (None, ""):
            return value
        return settings_mail.get(name, default)

    kind = str(env.get("KEEPER_MAIL") or settings_mail.get("transport") or "outbox").strip().lower()
    sender = str(get("mail_from") or settings_mail.get("from") or "review-keeper@localhost")
    timeout = float(get("mail_timeout") or settings_mail.get("timeout") or DEFAULT_TIMEOUT)
    if kind == "outbox":
        folder = Path(get("outbox") or register_dir / "outbox")
        if not folder.is_absolute():
            folder = register_dir / folder
        return OutboxTransport(folder, sender)
    if kind == "smtp":
        host = get("smtp_host")
        if not host:
            raise MailError("KEEPER_MAIL is smtp but KEEPER_SMTP_HOST is not set.")
        port_text = get("smtp_port")
        try:
            port = int(port_text) if port_text not in (None, "") else None
        except ValueError:
            raise MailError(f'KEEPER_SMTP_PORT is "{port_text}"; use a number such as 587.') from None
        context = ssl.create_default_context()
        cafile = get("smtp_cafile")
        if cafile:
            context.load_verify_locations(cafile=str(cafile))
        return SmtpTransport(
            str(host),
            port,
            security=str(get("smtp_security") or "starttls"),
            user=get("smtp_user"),
            password=get("smtp_password"),
            oauth_token=get("smtp_oauth_token"),
            sender=sender,
            timeout=timeout,
            ssl_context=context,
        )
    if kind == "sendgrid":
        sandbox = env.get("SENDGRID_SANDBOX", settings_mail.get("sendgrid_sandbox", False))
        return SendGridTransport(
            env.get("SENDGRID_API_KEY", ""),
            sender=sender,
            host=env.get("SENDGRID_API_HOST") or settings_mail.get("sendgrid_api_host"),
            sandbox=_flag(sandbox),
            timeout=timeout,
        )
    raise MailError(f'KEEPER_MAIL is "{kind}"; use outbox (the default), smtp or sendgrid.')


__all__ = [
    "MailError",
    "MailTransport",
    "OutboxTransport",
    "SendGridTransport",
    "SmtpTransport",
    "transport_from_env",
]
