"""The Microsoft Graph mail transport: POST /me/sendMail as the signed-in school account (the same account and token
cache as the Graph register adapter), for schools where Exchange Online no longer takes basic-auth SMTP.

The message goes as the account (From is the account; Send As someone else would need more permissions), with the
SENDCo as Reply-To, so replies reach them. What is retried follows the other transports (connectors/mail.py): a 429
(Graph refused the request) and a connection that could not be made are retried, honouring Retry-After, within the
batch's deadline; a 5xx, or a timeout or dropped connection after the request went, is in doubt (Graph may have
accepted it): MailError(in_doubt=True), never sent again, so an email is at worst lost (the next chaser covers it),
never received twice. A missing Mail.Send permission, or a sign-in that has expired, is one sentence for the IT lead.
"""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from connectors.graph_http import GraphAuthError, GraphClient, GraphError
from connectors.mail_base import MailError, Outgoing, as_email

# Graph's sendMail takes file attachments inline up to about 3 MB in all; the product attaches small review records.
ATTACHMENT_LIMIT = 3 * 1024 * 1024


def _addresses(message: EmailMessage, header: str) -> list[dict[str, Any]]:
    values = [str(v) for v in message.get_all(header, [])]
    return [{"emailAddress": {"address": addr, **({"name": name} if name else {})}}
            for name, addr in getaddresses(values) if addr]  # fmt: skip


def graph_message(message: Outgoing) -> dict[str, Any]:
    """The sendMail JSON for one message: the HTML part when there is one (Graph takes one body), else the text."""
    message = as_email(message)  # the sweep's wire bytes, read back: the same parts as the message they came from
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    part = html if html is not None else text
    content = part.get_content() if part is not None else ""  # type: ignore[attr-defined]
    body: dict[str, Any] = {
        "subject": str(message.get("Subject", "")),
        "body": {"contentType": "HTML" if html is not None else "Text", "content": content},
        "toRecipients": _addresses(message, "To"),
    }
    for header, key in (("Cc", "ccRecipients"), ("Bcc", "bccRecipients"), ("Reply-To", "replyTo")):
        found = _addresses(message, header)
        if found:
            body[key] = found
    attachments, size = [], 0
    for attachment in message.iter_attachments():
        raw = attachment.get_payload(decode=True)
        data = raw if isinstance(raw, bytes) else b""
        size += len(data)
        attachments.append({
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": attachment.get_filename() or "attachment",
            "contentType": attachment.get_content_type(),
            "contentBytes": base64.b64encode(data).decode("ascii"),
        })  # fmt: skip
    if size > ATTACHMENT_LIMIT:
        raise MailError("The attachments are larger than Microsoft Graph sends in one message (3 MB); the email was "
                        "not sent.")  # fmt: skip
    if attachments:
        body["attachments"] = attachments
    return {"message": body, "saveToSentItems": True}


class GraphMailTransport:
    """`send(message)` through /me/sendMail; `batch(deadline)` bounds the retries of several sends."""

    def __init__(self, client: GraphClient, *, sender: str, retries: int = 3) -> None:
        self.client = client
        self.sender = sender  # the signed-in account: what the product says it sends as
        self.retries = retries
        self._deadline: float | None = None

    @contextlib.contextmanager
    def batch(self, deadline: float | None = None) -> Iterator[GraphMailTransport]:
        self._deadline = deadline
        try:
            yield self
        finally:
            self._deadline = None

    def send(self, message: Outgoing) -> None:
        message = as_email(message)
        if not _addresses(message, "To"):
            raise MailError("The email has no recipient address; it was not sent.")
        body = graph_message(message)
        for attempt in range(1, self.retries + 2):
            if self._deadline is not None and time.monotonic() >= self._deadline:
                raise MailError("The time allowed for sending emails ran out before this one went.", transient=True)
            self.client.until(self._deadline)
            try:
                self.client.call("POST", "/me/sendMail", body, repeatable=False)
                return
            except GraphAuthError as err:
                raise MailError(str(err)) from None
            except GraphError as err:
                if err.status == 401:
                    raise MailError("Microsoft refused the stored sign-in; the IT lead runs `python main.py "
                                    "m365-login` again. No email was sent.") from None  # fmt: skip
                if err.status == 403:
                    raise MailError("The Review Keeper account may not send mail: grant the app the Mail.Send "
                                    "permission, give the account a mailbox, and sign in again with `python main.py "
                                    "m365-login`. No email was sent.") from None  # fmt: skip
                if err.transient and err.ambiguous:
                    raise MailError(
                        f"Microsoft Graph did not confirm the email ({err}) after it was handed over, so it may have "
                        "gone; it is not sent again (the next chaser or digest covers it).",
                        transient=True,
                        in_doubt=True,
                    ) from None
                if not err.transient:
                    raise MailError(f"Microsoft Graph refused the email (HTTP {err.status}: {err}).") from None
                wait = self.client.backoff(attempt, err.retry_after)
                late = self._deadline is not None and time.monotonic() + wait >= self._deadline
                if attempt > self.retries or late:
                    raise MailError(f"Microsoft Graph kept refusing emails ({err}); the next run tries again.",
                                    transient=True) from None  # fmt: skip
                self.client.sleep(wait)
