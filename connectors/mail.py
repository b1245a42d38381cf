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

import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connectors.mail_base import DEFAULT_RETRIES, DEFAULT_TIMEOUT, MailError, MailTransport
from connectors.mail_sendgrid import SendGridTransport
from connectors.mail_smtp import SmtpTransport
from connectors.outbox import OutboxTransport


# TEMPORARY: moves to functions/bootstrap.py (the composition root builds transports with the constructors above).
def _flag(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


# TEMPORARY: moves to functions/bootstrap.py
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
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "MailError",
    "MailTransport",
    "OutboxTransport",
    "SendGridTransport",
    "SmtpTransport",
    "transport_from_env",
]
