"""Mail transports behind one small port: `send(message)`. Chosen by KEEPER_MAIL (outbox | smtp | sendgrid).

- OutboxTransport: writes each message as an .eml file into a folder. The default: needs nothing, sends nothing.
- SmtpTransport: STARTTLS (port 587: Microsoft 365 smtp.office365.com, Google Workspace smtp.gmail.com), implicit
  TLS (port 465) or none (a local relay); LOGIN/PLAIN with a password, or XOAUTH2 with an OAuth access token.
- SendGridTransport: the SendGrid v3 API through the `sendgrid` package.

Every network call has a timeout; 429 / 5xx / 4xx SMTP replies are retried a bounded number of times; anything else
raises MailError at once. Nothing here logs addresses, subjects or bodies.
"""

from __future__ import annotations

import base64
import logging
import os
import smtplib
import ssl
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("review_keeper.mail")

# python_http_client logs the Authorization header (the API key) and the whole message body at DEBUG: keep it above,
# whatever level the application's root logger is set to.
logging.getLogger("python_http_client").setLevel(logging.INFO)

DEFAULT_TIMEOUT = 20.0
DEFAULT_RETRIES = 3  # attempts after the first
_RETRY_HTTP = {429, 500, 502, 503, 504}


class MailError(Exception):
    """An email that could not be sent. `str(err)` says why in one sentence, without the message's contents."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class MailTransport(Protocol):
    sender: str

    def send(self, message: EmailMessage) -> None: ...


def _recipients(message: EmailMessage) -> list[str]:
    fields = [str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
    return [addr for _, addr in getaddresses(fields) if addr]


def _backoff(attempt: int, retry_after: float | None = None) -> float:
    if retry_after is not None:
        return min(max(retry_after, 0.0), 30.0)
    return min(2.0**attempt, 30.0)


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

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if self.oauth_token and self.user:
                token = f"user={self.user}\x01auth=Bearer {self.oauth_token}\x01\x01"
                smtp.auth("XOAUTH2", lambda challenge=None: token, initial_response_ok=True)
            elif self.user and self.password:
                smtp.login(self.user, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        recipients = _recipients(message)
        if not recipients:
            raise MailError("The email has no recipient.")
        _, envelope_from = parseaddr(str(message.get("From", self.sender)))
        for attempt in range(self.retries + 1):
            try:
                smtp = self._connect()
                try:
                    refused = smtp.send_message(message, from_addr=envelope_from or self.sender, to_addrs=recipients)
                finally:
                    try:
                        smtp.quit()
                    except (smtplib.SMTPException, OSError):
                        smtp.close()
                if refused:
                    raise MailError(f"The mail server refused {len(refused)} recipient(s).")
                return
            except smtplib.SMTPAuthenticationError as exc:
                raise MailError(
                    f"The mail server at {self.host} refused the login ({exc.smtp_code}); check KEEPER_SMTP_USER and "
                    "KEEPER_SMTP_PASSWORD (Microsoft 365 and Google need SMTP AUTH or an app password enabled)."
                ) from None
            except smtplib.SMTPRecipientsRefused as exc:
                raise MailError(f"The mail server refused the recipient ({_first_code(exc.recipients)}).") from None
            except smtplib.SMTPResponseException as exc:
                # 4xx replies are "try again later" (RFC 5321 4.2.1); 5xx are final.
                if 400 <= exc.smtp_code < 500 and attempt < self.retries:
                    log.warning("SMTP %s, retrying (attempt %d)", exc.smtp_code, attempt + 1)
                    self._sleep(_backoff(attempt))
                    continue
                raise MailError(
                    f"The mail server at {self.host} answered {exc.smtp_code}.", transient=exc.smtp_code < 500
                ) from None
            except ssl.SSLError as exc:
                raise MailError(f"Could not start a secure connection to {self.host}: {exc.reason}.") from None
            except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, TimeoutError, OSError) as exc:
                if attempt < self.retries:
                    log.warning("SMTP connection problem (%s), retrying", type(exc).__name__)
                    self._sleep(_backoff(attempt))
                    continue
                raise MailError(
                    f"Could not reach the mail server at {self.host}:{self.port} ({type(exc).__name__}).",
                    transient=True,
                ) from None
            except smtplib.SMTPException as exc:
                raise MailError(f"The mail server at {self.host} failed: {type(exc).__name__}.") from None


def _first_code(recipients: Mapping[str, tuple[int, bytes]]) -> str:
    for code, _ in recipients.values():
        return str(code)
    return "no code"


# ---------------------------------------------------------------------------------------------------------------------


class SendGridTransport:
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
        self.sender = sender
        self.sandbox = sandbox
        self.retries = retries
        self._sleep = sleep

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
            try:
                response = self._client.send(body)
                if 200 <= response.status_code < 300:
                    return
                raise MailError(f"SendGrid answered {response.status_code}.")
            except HTTPError as exc:
                status = getattr(exc, "status_code", 0)
                if status in _RETRY_HTTP and attempt < self.retries:
                    retry_after = _retry_after(getattr(exc, "headers", None))
                    log.warning("SendGrid %s, retrying (attempt %d)", status, attempt + 1)
                    self._sleep(_backoff(attempt, retry_after))
                    continue
                hint = " (check SENDGRID_API_KEY)" if status in (401, 403) else ""
                raise MailError(f"SendGrid answered {status}{hint}.", transient=status in _RETRY_HTTP) from None
            except (TimeoutError, OSError) as exc:
                if attempt < self.retries:
                    self._sleep(_backoff(attempt))
                    continue
                raise MailError(f"Could not reach SendGrid ({type(exc).__name__}).", transient=True) from None


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
    smtp_password, smtp_security, smtp_oauth_token, from, sendgrid_sandbox, timeout."""

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
