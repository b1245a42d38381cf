"""The composition root: the only code in the product that reads the environment (`KEEPER_*` and the Google variables)
and keeper.toml. It merges them into typed settings (functions/settings.py, functions/setting_tables.py), checks every
one on load (a bad value is one sentence naming the setting, before any register is read), and builds the adapters the
jobs take as arguments (functions/adapters.py): the register (workbook or Google Sheet), the mail transport, the
sent-ledger, the link signer and the Pub/Sub publisher.

Entry points (main.py) call `local` (one register named on the command line) or `deployment` (the cloud and `serve`),
then one job. Tests pass `env=` an explicit mapping; only the defaults here fall back to the process environment.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.base import Register
from connectors.storage_base import EvidenceStore
from connectors.submission_queue import SubmissionQueue

from . import adapters
from .adapters import (
    is_graph,
    is_remote,
    is_sheet,
    link_signer,
    m365_for,
    mail_setup,
    open_register,
    publisher,
    task_queue,
    transport_for,
)
from .advice_page import AdviceDesk
from .evaluate import london_today
from .evidence_setup import advice_desk, evidence_store, papers_folder, papers_signer, submission_queue
from .la_profiles import check_profiles
from .m365 import M365Settings
from .mail_config import mail_settings
from .setting_tables import Runtime, lease_settings
from .settings import (
    _SCHOOL_ID,
    CONFIG_NAME,
    DEFAULT_SCHOOL_ID,
    School,
    Settings,
    SettingsError,
    _register_ref,
    _rules_from,
    check_text,
    schools_from_mapping,
    settings_from_mapping,
)
from .sweep import MailSetup

if TYPE_CHECKING:  # the papers modules load python-docx: only `papers` needs them (a plain sweep stays light)
    from .papers_job import Sending

Env = Mapping[str, str]

CONFIG_ENV = "KEEPER_CONFIG"
REGISTER_ENV = "KEEPER_REGISTER"
SCHOOL_ID_ENV = "KEEPER_SCHOOL_ID"
LEASE_ENV = ("KEEPER_LEASE_BUCKET", "STORAGE_EMULATOR_HOST", "KEEPER_LEASE_WAIT")  # the sweep lease
# The trust's Cloud Tasks queue, as scripts/deploy.sh --trust sets it (connectors/queue_tasks.py, QueueConfig).
TASKS_ENV = (
    "KEEPER_TASKS_QUEUE",
    "KEEPER_TASKS_LOCATION",
    "KEEPER_TASKS_RATE",
    "KEEPER_TASKS_SERVICE_ACCOUNT",
    "KEEPER_SWEEP_URL",
    "KEEPER_PROJECT",
    "GOOGLE_CLOUD_PROJECT",
    "CLOUD_TASKS_EMULATOR_HOST",
)
_ENV_TEXT = {
    "KEEPER_SCHOOL_NAME": "school_name",
    "KEEPER_SENDCO_NAME": "sendco_name",
    "KEEPER_SENDCO_EMAIL": "sendco_email",
    "KEEPER_REGISTER_SHEET": "register_sheet",
}


def _environ(env: Env | None) -> Env:
    return os.environ if env is None else env


# ---------------------------------------------------------------------------------------------------------------------
# Settings: keeper.toml, then the environment over it


def read_toml(path: Path, where_to_look: str) -> dict[str, Any]:
    """A settings file's tables, or one sentence saying what is wrong with the file."""
    if not path.is_file():
        raise SettingsError(f"{path}: no such settings file; {where_to_look}.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path.name}: this is not valid TOML ({exc}); fix that line and run again.") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path.name}: this is not a text file; save it as UTF-8 text.") from None


def _mail_table(settings: Settings) -> Mapping[str, Any]:
    table = settings.extra.get("mail") or {}
    return table if isinstance(table, Mapping) else {}


def apply_environment(settings: Settings, env: Env) -> Settings:
    """`KEEPER_*` variables win over the file; the [mail] table is merged with the mail variables and checked."""
    changes: dict[str, Any] = {
        attr: check_text(env[var], var, "") for var, attr in _ENV_TEXT.items() if env.get(var, "").strip()
    }
    rules_raw: dict[str, Any] = {}
    if env.get("KEEPER_ANCHOR"):
        rules_raw["anchor"] = env["KEEPER_ANCHOR"]
    if env.get("KEEPER_PERIOD"):
        rules_raw["period"] = env["KEEPER_PERIOD"]
    if env.get("KEEPER_TRANSFER_AFTER_YEARS"):
        try:
            rules_raw["transfer_after_years"] = [int(y) for y in env["KEEPER_TRANSFER_AFTER_YEARS"].split(",")]
        except ValueError:
            raise SettingsError(
                "KEEPER_TRANSFER_AFTER_YEARS must be year groups separated by commas, e.g. 6,11."
            ) from None
    if rules_raw:
        changes["rules"] = replace(settings.rules, **_rules_from(rules_raw, "environment"))
    return replace(settings, **changes, mail=mail_settings(_mail_table(settings), env, settings.source))


def load_settings(config: Path | None = None, register: Path | None = None, env: Env | None = None) -> Settings:
    """--config FILE, else keeper.toml beside the register, else the defaults; then the environment."""
    path = config
    if path is None and register is not None:
        beside = register.parent / CONFIG_NAME
        path = beside if beside.is_file() else None
    if path is None:
        settings = Settings()
    else:
        settings = settings_from_mapping(read_toml(path, "check the path given to --config"), where=path.name)
    check_profiles(settings)  # [las."Name"] and status_emails: refused here, before any register is read
    return apply_environment(settings, _environ(env))


def load_schools(
    config: Path | None = None, env: Env | None = None, *, register: str | None = None
) -> dict[str, School]:
    """Every school this deployment looks after, by id.

    The settings file is `config`, else (when no `register` is given) $KEEPER_CONFIG, else keeper.toml in the working
    directory (the function's source folder when deployed), else keeper.toml beside the register, as load_settings.
    With a [[schools]] array: one School per entry (KEEPER_SCHOOL_NAME and the like are not applied: they could only
    be right for one of them; the mail variables are, to every school). Without one: a single school made by
    `load_settings`, with id $KEEPER_SCHOOL_ID (default "school") and the register `register`, else $KEEPER_REGISTER;
    no register at all is a SettingsError.
    """
    env = _environ(env)
    path = config
    # A register named on the command line brings its own keeper.toml (beside it), as `main.py sweep` does.
    if path is None and register is None and env.get(CONFIG_ENV, "").strip():
        path = Path(env[CONFIG_ENV].strip())
    if path is None and register is None and Path(CONFIG_NAME).is_file():
        path = Path(CONFIG_NAME)
    raw: Mapping[str, Any] = {}
    if path is not None:
        raw = read_toml(path, f"check {CONFIG_ENV} or --config")
    base = path.resolve().parent if path is not None else Path.cwd()
    if "schools" in raw:
        schools = schools_from_mapping(raw, where=path.name if path else CONFIG_NAME, base=base)
        for school in schools.values():
            check_profiles(school.settings)
        return {
            i: replace(
                s, settings=replace(s.settings, mail=mail_settings(_mail_table(s.settings), env, s.settings.source))
            )
            for i, s in schools.items()
        }
    ref = register or env.get(REGISTER_ENV, "").strip()
    if not ref:
        raise SettingsError(
            f"No register: give one on the command line, set {REGISTER_ENV}, or list schools with [[schools]] in "
            f"{CONFIG_NAME}."
        )
    school_id = _school_id(env) or DEFAULT_SCHOOL_ID
    register_ref = _register_ref(ref, "the register", base if register is None else Path.cwd())
    register_path = None if not register_ref.lower().endswith((".xlsx", ".xlsm")) else Path(register_ref)
    settings = load_settings(path, register_path, env)
    return {school_id: School(school_id, register_ref, settings)}


def _school_id(env: Env) -> str:
    school_id = env.get(SCHOOL_ID_ENV, "").strip()
    if school_id and not _SCHOOL_ID.match(school_id):
        raise SettingsError(f'{SCHOOL_ID_ENV} is "{school_id}"; use lower-case letters, digits and hyphens.')
    return school_id


def mail_deadline(settings: Settings, env: Env) -> float:
    """Seconds the email step may take: KEEPER_MAIL_DEADLINE, else [mail] deadline, else 240 (see MailSettings)."""
    return mail_settings(_mail_table(settings), env, settings.source).deadline


# ---------------------------------------------------------------------------------------------------------------------
# The rest of the environment (links, state, Google endpoints): the Runtime record, in functions/setting_tables.py


def runtime(env: Env | None = None) -> Runtime:
    env = _environ(env)
    base_url = env.get("KEEPER_BASE_URL", "").strip()
    if base_url and not base_url.startswith(("http://", "https://")):
        raise SettingsError(
            f'KEEPER_BASE_URL is "{base_url}"; give the confirmation page\'s address, e.g. https://keeper.example.org.'
        )
    papers_url = env.get("KEEPER_PAPERS_URL", "").strip()
    if papers_url and not papers_url.startswith(("http://", "https://")):
        raise SettingsError(
            f'KEEPER_PAPERS_URL is "{papers_url}"; give the papers function\'s address, e.g. '
            "https://keeper-papers-....run.app (scripts/deploy.sh prints it)."
        )
    return Runtime(
        **lease_settings(*(env.get(k, "") for k in LEASE_ENV)),
        link_secret=env.get("KEEPER_LINK_SECRET", ""),
        base_url=base_url,
        papers_url=papers_url,
        school_id=_school_id(env),
        state_dir=Path(env.get("KEEPER_STATE_DIR") or "."),
        project=env.get("KEEPER_PROJECT") or env.get("GOOGLE_CLOUD_PROJECT", ""),
        sweep_topic=env.get("KEEPER_SWEEP_TOPIC", "keeper-sweep"),
        sheets_emulator_host=env.get("SHEETS_EMULATOR_HOST", "").strip(),
        credentials_file=env.get("GOOGLE_APPLICATION_CREDENTIALS", "").strip(),
        pubsub_emulator_host=env.get("PUBSUB_EMULATOR_HOST", "").strip(),
        drive_emulator_host=env.get("DRIVE_EMULATOR_HOST", "").strip(),
        graph_emulator_host=env.get("GRAPH_EMULATOR_HOST", "").strip(),
        m365_client_id=env.get("KEEPER_M365_CLIENT_ID", "").strip(),
        m365_tenant=env.get("KEEPER_M365_TENANT", "").strip(),
        m365_token_cache=env.get("KEEPER_M365_TOKEN_CACHE", "").strip(),
        token_key=env.get("KEEPER_TOKEN_KEY", "").strip(),
        tasks={name: env[name] for name in TASKS_ENV if env.get(name, "").strip()},
    )


# The date --today is checked against: today in London, or KEEPER_TODAY_ANCHOR (YYYY-MM-DD) where a test suite with
# fixed dates, or a replay of old runs, needs it. It never changes the date a run computes as of.
ANCHOR_ENV = "KEEPER_TODAY_ANCHOR"
TODAY_RANGE_DAYS = 366


def today_from(text: str | None, env: Env | None = None) -> date:
    """The date a run computes as of: --today as given, else today in London. A --today outside 2000-2099 or more than
    a year from today is a typo (2052 for 2025), not a register problem: one sentence, exit 2."""
    real = london_today()
    if text is None:
        return real
    try:
        chosen = date.fromisoformat(text.strip())
    except ValueError:
        raise SettingsError(f'--today "{text}" is not a date; write it as YYYY-MM-DD, e.g. 2025-10-01.') from None
    anchored = _environ(env).get(ANCHOR_ENV, "").strip()
    if anchored.lower() == "any":  # a replay of past dates on purpose (a test suite, an oracle): only 2000-2099 holds
        if not 2000 <= chosen.year <= 2099:
            raise SettingsError(f"--today {chosen.isoformat()} is outside 2000-2099; check it for a typo (YYYY-MM-DD).")
        return chosen
    try:
        anchor = date.fromisoformat(anchored) if anchored else real
    except ValueError:
        raise SettingsError(f'{ANCHOR_ENV} is "{anchored}"; write it as YYYY-MM-DD, or leave it unset.') from None
    if not 2000 <= chosen.year <= 2099 or abs((chosen - anchor).days) > TODAY_RANGE_DAYS:
        raise SettingsError(
            f"--today {chosen.isoformat()} is more than a year from today ({anchor:%d/%m/%Y}) or outside 2000-2099; "
            "check it for a typo (YYYY-MM-DD), or leave it out to use today."
        )
    return chosen


# ---------------------------------------------------------------------------------------------------------------------
# What each entry point starts from


@dataclass(frozen=True)
class Local:
    """One register named on the command line, its settings and the environment's."""

    ref: str
    settings: Settings
    runtime: Runtime

    def register(self, *, read_only: bool = False) -> Register:
        """`read_only`: the command only reads, so a workbook open in Excel is read as last saved (docs/register.md)."""
        return open_register(self.ref, self.runtime, self.settings, read_while_open=read_only)

    @property
    def folder(self) -> Path:
        """Where a run's files go by default: beside a workbook; for a Google Sheet or an online workbook (no folder of
        its own), the working directory. The outbox, the sent-ledger, the records, the overview and the calendar."""
        return Path.cwd() if is_remote(self.ref) else Path(self.ref).resolve().parent

    def output(self, given: str | None, default: str) -> Path:
        """An output path: --out as given (relative to the working directory, as a SENDCo typed it), else `default`
        in `folder`."""
        return Path(given) if given else self.folder / default

    def evidence_store(self) -> EvidenceStore:
        """The contributors' files and full texts for this register (docs/register.md s8)."""
        return evidence_store(School("", self.ref, self.settings), self.runtime)

    def submission_queue(self) -> SubmissionQueue:
        """Submissions waiting for the register (it was open in Excel when they came): the sweep applies them."""
        return submission_queue(School("", self.ref, self.settings), self.runtime)

    def papers_sending(self) -> Sending:
        """What `papers --send` needs: the download links' signer, the mail, and where the served copy lives."""
        from .papers_job import Sending

        mail = self.mail()
        if mail.transport is None:
            raise SettingsError(
                "Emails are off (KEEPER_MAIL=none), so the papers cannot be sent; send the PDF yourself."
            )
        # The pack is published in the folder the deployment serves this school's links from (KEEPER_SCHOOL_ID's, as
        # the link carries it), so a trust's keeper-papers function finds it under KEEPER_STATE_DIR/<id>.
        folder = papers_folder(self.ref, self.runtime, self.runtime.school_id)
        return Sending(papers_signer(self.runtime), mail.transport, mail.ledger, folder)

    def mail(self) -> MailSetup:
        return mail_setup(self.settings, self.runtime, self.folder)


def local(ref: str, config: str | None = None, env: Env | None = None) -> Local:
    env = _environ(env)
    register_path = None if is_remote(ref) else Path(ref)
    if config is None and register_path is None and Path(CONFIG_NAME).is_file():
        config = CONFIG_NAME  # a register with no folder here (a Sheet, a SharePoint link): keeper.toml in this one
    settings = load_settings(Path(config) if config else None, register_path, env)
    return Local(ref, settings, runtime(env))


CONTRIBUTOR_REGISTER_DEADLINE_S = 15.0  # a read and a write (30 s) + the evidence store's 20 s < keeper-confirm's 60 s


@dataclass(frozen=True)
class Deployment:
    """Every school this deployment looks after, and the environment's settings."""

    schools: dict[str, School]
    runtime: Runtime
    # `serve` on this computer: the page's GET reads a workbook the SENDCo has open; its POST's write still refuses.
    read_while_open: bool = False

    def open_register(self, school: School) -> Register:
        return open_register(school.register, self.runtime, school.settings, read_while_open=self.read_while_open)

    def open_register_to_show(self, school: School) -> Register:
        """For the contributor's page: a workbook open in Excel may still be read (writing waits: the queue). An
        online register gets CONTRIBUTOR_REGISTER_DEADLINE_S a read or write, so that a slow or throttled Sheets or
        Graph answer ends in the queued page inside keeper-confirm's 60 s (scripts/deploy.sh) with the files' own
        20 s, never a page cut off by the platform with the answers neither written nor queued."""
        return open_register(
            school.register,
            self.runtime,
            school.settings,
            read_while_open=True,
            deadline_s=CONTRIBUTOR_REGISTER_DEADLINE_S,
        )

    def submission_queue(self, school: School) -> SubmissionQueue:
        return submission_queue(school, self.runtime)

    def papers_folders(self) -> dict[str, Path]:
        """Each school's folder of published papers packs (the download link names a pack by its digest only)."""
        return {school.id: papers_folder(school.register, self.runtime, school.id) for school in self.schools.values()}

    def advice_desk(self) -> AdviceDesk:
        """The role's form job: each school's evidence store and submission queue (docs/register.md s8)."""
        return advice_desk(self.runtime)

    def mail(self, school: School) -> MailSetup:
        # The function's own disk is gone after each run: KEEPER_STATE_DIR should be lasting storage (DEPLOY.md 4a).
        return mail_setup(school.settings, self.runtime, self.runtime.state_dir / school.id, school_id=school.id)

    def lease(self, school: School) -> adapters.Lease:  # KEEPER_LEASE_BUCKET's object, else a KEEPER_STATE_DIR file
        return adapters.school_lease(school.id, self.runtime)


def deployment(env: Env | None = None, *, register: str | None = None, config: str | None = None) -> Deployment:
    """The cloud's schools ($KEEPER_CONFIG or $KEEPER_REGISTER). `serve` names a register and maybe a settings file:
    they stand in for KEEPER_REGISTER and KEEPER_CONFIG (keeper.toml beside the register when no --config)."""
    env = dict(_environ(env))
    if register:
        ref = register if is_remote(register) else str(Path(register).resolve())
        env[REGISTER_ENV] = ref
        beside = None if is_remote(ref) else Path(ref).parent / CONFIG_NAME
        if config is None and beside is not None and beside.is_file():
            env[CONFIG_ENV] = str(beside)
    if config:
        env[CONFIG_ENV] = str(Path(config).resolve())
    return Deployment(load_schools(env=env), runtime(env))


def m365(config: str | None = None, token_cache: str | None = None, env: Env | None = None) -> M365Settings:
    """The Microsoft 365 app and sign-in for `m365-login`: --config, else $KEEPER_CONFIG, else keeper.toml here, with
    the environment over its [m365] table; `token_cache` (--token-cache) over both."""
    env = _environ(env)
    named = config or env.get(CONFIG_ENV, "").strip() or (CONFIG_NAME if Path(CONFIG_NAME).is_file() else "")
    settings = load_settings(Path(named) if named else None, None, env)
    found = m365_for(settings, runtime(env))
    return replace(found, token_cache=Path(token_cache)) if token_cache else found


# The adapters' builders are part of the root's surface: entry points ask the bootstrap, never the modules behind it.
__all__ = [
    "CONFIG_ENV",
    "REGISTER_ENV",
    "SCHOOL_ID_ENV",
    "Deployment",
    "Local",
    "Runtime",
    "apply_environment",
    "deployment",
    "is_graph",
    "is_remote",
    "is_sheet",
    "link_signer",
    "load_schools",
    "load_settings",
    "local",
    "m365",
    "m365_for",
    "mail_deadline",
    "mail_settings",
    "mail_setup",
    "open_register",
    "papers_folder",
    "papers_signer",
    "publisher",
    "read_toml",
    "runtime",
    "task_queue",
    "today_from",
    "transport_for",
]
