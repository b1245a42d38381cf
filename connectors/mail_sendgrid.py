"""The SendGrid transport: the SendGrid v3 API through the `sendgrid` package, with a timeout on every request and
bounded retries only while SendGrid cannot have accepted the message (see SendGridTransport)."""

from __future__ import annotations

import base64
import contextlib
import http.client
import logging
import time
import urllib.error
from collections.abc import Callable, Iterator
from email.utils import parseaddr
from typing import Any

from connectors.mail_base import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    MailError,
    Outgoing,
    as_email,
    backoff,
    bounded_timeout,
    log,
    recipients_of,
)

# python_http_client logs the Authorization header (the API key) and the whole message body at DEBUG: keep it above,
# whatever level the application's root logger is set to.
logging.getLogger("python_http_client").setLevel(logging.INFO)


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

    def payload(self, message: Outgoing) -> dict[str, Any]:
        """The v3 /mail/send JSON for one message (built by hand: every part of EmailMessage maps directly)."""
        message = as_email(message)  # the sweep's wire bytes, read back: the same parts as the message they came from
        _, to_addr = parseaddr(str(message["To"]))
        from_name, from_addr = parseaddr(str(message.get("From", self.sender)))
        body: dict[str, Any] = {
            "personalizations": [{"to": [{"email": addr} for addr in recipients_of(message)] or [{"email": to_addr}]}],
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

    def send(self, message: Outgoing) -> None:
        from python_http_client.exceptions import HTTPError

        body = self.payload(message)
        for attempt in range(self.retries + 1):
            # Read by each request the client builds, so it can shrink as the deadline nears.
            self._client.client.timeout = bounded_timeout(self.timeout, self._deadline)
            try:
                response = self._client.send(body)
            except HTTPError as exc:
                status = getattr(exc, "status_code", 0)
                if status == 429:
                    wait = backoff(attempt, _retry_after(getattr(exc, "headers", None)))
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
                if attempt < self.retries and not self._past_deadline(backoff(attempt)):
                    log.warning("SendGrid unreachable (%s), retrying (attempt %d)", type(reason).__name__, attempt + 1)
                    self._sleep(backoff(attempt))
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
