"""Mail transports behind one small port: `send(message)`. One transport a file; this module re-exports them so
`from connectors.mail import SmtpTransport, ...` keeps working.

- mail_base: MailError, the MailTransport port, the helpers transports share.
- outbox.OutboxTransport: writes each message as an .eml file into a folder. The default: needs nothing, sends nothing.
- mail_smtp.SmtpTransport: STARTTLS, implicit TLS or none; password or XOAUTH2.
- mail_sendgrid.SendGridTransport: the SendGrid v3 API through the `sendgrid` package.

`batch(deadline)` (optional on a transport; send_all uses it when present) sends several messages within one time
limit, over one SMTP connection. Nothing here logs addresses, subjects or bodies.
"""

from __future__ import annotations

from connectors.mail_base import DEFAULT_RETRIES, DEFAULT_TIMEOUT, MailError, MailTransport
from connectors.mail_sendgrid import SendGridTransport
from connectors.mail_smtp import SmtpTransport
from connectors.outbox import OutboxTransport

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "MailError",
    "MailTransport",
    "OutboxTransport",
    "SendGridTransport",
    "SmtpTransport",
]
