"""[mail] in keeper.toml merged with the KEEPER_* mail variables into typed, checked MailSettings. Called by the
composition root (functions/bootstrap.py), which passes the environment in as a mapping: nothing here reads it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .settings import CONFIG_NAME, MAIL_KINDS, SMTP_SECURITY, MailSettings, SettingsError, check_text

Env = Mapping[str, str]
MAIL_ENV = "KEEPER_MAIL"  # the mail transport's kind: read here (from the mapping bootstrap passes) and nowhere else


def _pick(env: Env, var: str | None, table: Mapping[str, Any], where: str, *keys: str) -> tuple[Any, str] | None:
    """The variable when set (not blank), else the first [mail] key present: the value and the name to blame."""
    if var is not None and str(env.get(var) or "").strip():
        return str(env[var]).strip(), var
    for key in keys:
        if table.get(key) not in (None, ""):
            return table[key], f"{where} [mail] {key}"
    return None


def _seconds(found: tuple[Any, str] | None, default: float, what: str, example: int) -> float:
    if found is None:
        return default
    value, name = found
    try:
        seconds = float(str(value)) if not isinstance(value, bool) else 0.0
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or math.isinf(seconds):
        raise SettingsError(f'{name} is "{value}"; give the seconds {what} may take, e.g. {example}.')
    return seconds


def _flag(found: tuple[Any, str] | None) -> bool:
    if found is None or isinstance(found[0], bool):
        return bool(found and found[0])
    value, name = found
    text = str(value).strip().lower()
    if text not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise SettingsError(f'{name} is "{value}"; use true or false.')
    return text in ("1", "true", "yes", "on")


def mail_settings(table: Mapping[str, Any], env: Env, where: str = CONFIG_NAME) -> MailSettings:
    """[mail] in keeper.toml with the KEEPER_* variables over it (each variable is its key in upper case with the
    KEEPER_ prefix; SendGrid's are SENDGRID_*). Every value is checked, whichever transport is in use."""

    def pick(var: str | None, *keys: str) -> tuple[Any, str] | None:
        return _pick(env, var, table, where, *keys)

    def text(var: str | None, *keys: str) -> str | None:
        found = pick(var, *keys)
        return None if found is None else check_text(str(found[0]), found[1], "").strip()

    kind_found = pick(MAIL_ENV, "transport")
    kind = "outbox" if kind_found is None else str(kind_found[0]).strip().lower()
    if kind not in MAIL_KINDS:
        raise SettingsError(
            f'{kind_found[1] if kind_found else MAIL_ENV} is "{kind}"; use outbox (the default), smtp, '
            "sendgrid, graph (Microsoft 365) or none."
        )
    port_found = pick("KEEPER_SMTP_PORT", "smtp_port")
    port: int | None = None
    if port_found is not None:
        try:
            port = int(str(port_found[0]))
        except ValueError:
            port = 0
        if not 0 < port < 65536:
            raise SettingsError(f'{port_found[1]} is "{port_found[0]}"; use a number such as 587.')
    security = (text("KEEPER_SMTP_SECURITY", "smtp_security") or "starttls").lower()
    if security not in SMTP_SECURITY:
        raise SettingsError(f'KEEPER_SMTP_SECURITY is "{security}"; use starttls, tls or none.')
    defaults = MailSettings()
    return MailSettings(
        kind=kind,
        sender=text("KEEPER_MAIL_FROM", "mail_from", "from") or defaults.sender,
        timeout=_seconds(
            pick("KEEPER_MAIL_TIMEOUT", "mail_timeout", "timeout"), defaults.timeout, "one call to the mail server", 20
        ),
        deadline=_seconds(pick("KEEPER_MAIL_DEADLINE", "deadline"), defaults.deadline, "the email step", 240),
        outbox=text("KEEPER_OUTBOX", "outbox"),
        ledger=text("KEEPER_LEDGER", "ledger"),
        smtp_host=text("KEEPER_SMTP_HOST", "smtp_host"),
        smtp_port=port,
        smtp_security=security,
        smtp_user=text("KEEPER_SMTP_USER", "smtp_user"),
        smtp_password=text("KEEPER_SMTP_PASSWORD", "smtp_password"),
        smtp_oauth_token=text("KEEPER_SMTP_OAUTH_TOKEN", "smtp_oauth_token"),
        smtp_cafile=text("KEEPER_SMTP_CAFILE", "smtp_cafile"),
        sendgrid_api_key=str(env.get("SENDGRID_API_KEY") or ""),
        sendgrid_api_host=text("SENDGRID_API_HOST", "sendgrid_api_host"),
        sendgrid_sandbox=_flag(pick("SENDGRID_SANDBOX", "sendgrid_sandbox")),
    )
