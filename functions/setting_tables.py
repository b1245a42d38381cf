"""The typed tables of keeper.toml beyond the rules: [chasers], [digest] and [mail], and the checks every text
setting passes. Pure: functions/bootstrap.py reads the file and the environment and builds these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.mail_base import DEFAULT_TIMEOUT

from .mailer import DEFAULT_DEADLINE


class SettingsError(Exception):
    """A setting the product cannot use. `str(err)` names the file, the setting and the fix."""


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# "none": this school sends no emails (AR columns still written); "graph": Microsoft 365's /me/sendMail (DEPLOY.md s6)
MAIL_KINDS = ("outbox", "smtp", "sendgrid", "graph", "none")
# [m365] in keeper.toml: the Microsoft 365 app and where its encrypted sign-in is kept (never the key: KEEPER_TOKEN_KEY)
M365_KEYS = ("client_id", "tenant", "cache_file")
SMTP_SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class ChaserSettings:
    """[chasers]: how often an awaited contribution is chased, and how many times at most."""

    every_days: int = 7
    max: int = 3


@dataclass(frozen=True)
class DigestSettings:
    """[digest]: the SENDCo's weekly digest. `weekday` 0 is Monday; None sends no digest."""

    weekday: int | None = 0
    attach_records: bool = True


@dataclass(frozen=True)
class MailSettings:
    """How emails go: [mail] in keeper.toml overridden by KEEPER_* variables, merged and checked by the bootstrap.
    Secrets come from the environment only and are kept out of repr, so they never reach a log line."""

    kind: str = "outbox"  # one of MAIL_KINDS
    sender: str = "review-keeper@localhost"
    timeout: float = DEFAULT_TIMEOUT  # seconds for one call to the mail server
    deadline: float = DEFAULT_DEADLINE  # seconds for the whole email step (a Cloud Function stops at 540 s)
    outbox: str | None = None  # the outbox folder; relative paths are taken from the register's folder
    ledger: str | None = None  # the sent-ledger file; likewise
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_security: str = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_oauth_token: str | None = field(default=None, repr=False)
    smtp_cafile: str | None = None
    sendgrid_api_key: str = field(default="", repr=False)
    sendgrid_api_host: str | None = None
    sendgrid_sandbox: bool = False


def _err(where: str, what: str) -> SettingsError:
    return SettingsError(f"{where}: {what}")


def check_text(value: Any, name: str, where: str) -> str:
    """A one-line text setting: a name or address goes into email headers and pages, where a newline or another
    control character could forge a header or break the page (issue 10 item 12)."""

    def fail(what: str) -> SettingsError:
        return _err(where, what) if where else SettingsError(what)

    if not isinstance(value, str) or not value.strip():
        raise fail(f"{name} must be some text in quotes.")
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        raise fail(f"{name} has a line break or another control character; write it on one line.")
    return value.strip()


def _table(raw: Mapping[str, Any], name: str, known: tuple[str, ...], where: str) -> Mapping[str, Any]:
    table = raw.get(name, {})
    if not isinstance(table, Mapping):
        raise _err(where, f"[{name}] must be a table of settings.")
    for key in table:
        if key not in known and not known:
            raise _err(where, f"{name}.{key} is not a setting; [{name}] takes none (see the settings in README.md).")
        if key not in known:
            raise _err(where, f"{name}.{key} is not a setting; the [{name}] settings are {', '.join(known)}.")
    return table


def _whole(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def chasers_from(raw: Mapping[str, Any], where: str) -> ChaserSettings:
    table = _table(raw, "chasers", ("every_days", "max"), where)
    every, most = table.get("every_days", 7), table.get("max", 3)
    if not _whole(every, 1):
        raise _err(where, "chasers.every_days must be a whole number of days, at least 1 (the default is 7).")
    if not _whole(most, 0):
        raise _err(where, "chasers.max must be a whole number, 0 or more (the default is 3).")
    return ChaserSettings(every, most)


def digest_from(raw: Mapping[str, Any], where: str) -> DigestSettings:
    table = _table(raw, "digest", ("day", "attach_records"), where)
    day_text = str(table.get("day", "monday")).strip().casefold()
    weekday: int | None
    if day_text in ("", "none", "off", "never"):
        weekday = None
    elif day_text[:3] in {d[:3] for d in WEEKDAYS}:
        weekday = [d[:3] for d in WEEKDAYS].index(day_text[:3])
    else:
        raise _err(where, f'digest.day is "{table.get("day")}"; use a day of the week such as "monday", or "never".')
    attach = table.get("attach_records", True)
    if not isinstance(attach, bool):
        raise _err(where, "digest.attach_records must be true or false (the default is true).")
    return DigestSettings(weekday, attach)


# The [mail] table's keys: the KEEPER_* variable names without the prefix, in lower case (plus "from", "timeout").
MAIL_KEYS = (
    "transport",
    "from",
    "mail_from",
    "timeout",
    "mail_timeout",
    "deadline",
    "outbox",
    "ledger",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_user",
    "smtp_password",
    "smtp_oauth_token",
    "smtp_cafile",
    "sendgrid_api_host",
    "sendgrid_sandbox",
)


@dataclass(frozen=True)
class Runtime:
    """What the deployment's environment says beyond the school's settings. Secrets are kept out of repr."""

    link_secret: str = field(default="", repr=False)
    base_url: str = ""
    papers_url: str = ""  # KEEPER_PAPERS_URL: where the papers' download links point (the keeper-papers function)
    school_id: str = ""  # KEEPER_SCHOOL_ID: the id a one-school install's links carry ("" for none)
    state_dir: Path = Path(".")  # lasting storage for each school's sent-ledger in the cloud
    project: str = ""
    sweep_topic: str = "keeper-sweep"
    sheets_emulator_host: str = ""
    credentials_file: str = ""
    pubsub_emulator_host: str = ""
    drive_emulator_host: str = ""  # DRIVE_EMULATOR_HOST: evidence to a local Drive look-alike (tests, demos)
    lease_bucket: str = ""  # KEEPER_LEASE_BUCKET: the Cloud Storage bucket holding each school's sweep lease
    storage_emulator_host: str = ""  # STORAGE_EMULATOR_HOST: a local Cloud Storage look-alike (tests)
    lease_wait: float = 20.0  # KEEPER_LEASE_WAIT: seconds a second sweep waits for the first before giving up
    # Microsoft 365 (functions/m365.py): over [m365] in keeper.toml; the key that unlocks the stored sign-in
    graph_emulator_host: str = ""
    m365_client_id: str = ""
    m365_tenant: str = ""
    m365_token_cache: str = ""
    token_key: str = field(default="", repr=False)
    # A trust's Cloud Tasks queue (KEEPER_TASKS_*, KEEPER_SWEEP_URL; set by scripts/deploy.sh --trust): when named,
    # dispatch paces the schools through it instead of Pub/Sub (issue 16). Checked by adapters.task_queue.
    tasks: dict[str, str] = field(default_factory=dict)


def lease_settings(bucket: str, emulator_host: str, wait: str) -> dict[str, Any]:
    """Runtime's lease fields from KEEPER_LEASE_BUCKET, STORAGE_EMULATOR_HOST and KEEPER_LEASE_WAIT (as given)."""
    bucket = bucket.strip().removeprefix("gs://").strip("/")
    return {"lease_bucket": bucket, "storage_emulator_host": emulator_host.strip(), "lease_wait": lease_wait_from(wait)}


def lease_wait_from(text: str) -> float:
    """KEEPER_LEASE_WAIT: seconds a sweep waits for another sweep of the same register (default 20, 0 to 600)."""
    if not text.strip():
        return 20.0
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 600:
        raise SettingsError(
            f'KEEPER_LEASE_WAIT is "{text.strip()}"; give the seconds a sweep waits for another one on the same '
            "register, from 0 to 600, e.g. 20."
        )
    return seconds
