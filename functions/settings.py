"""The school's settings, typed: what keeper.toml's tables mean and how each is checked. Pure: reading the file and
the `KEEPER_*` environment is functions/bootstrap.py's job, which builds these records and checks every one on load.
Defaults are the spec's. A bad setting is one clear sentence naming the setting and the fix."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from review_rules.model import Anchor, Period, RuleSettings
from sheet_schema.model import Field

from .capacity_settings import CapacitySettings, capacity_from_mapping

# Re-exported: callers find every setting's type here.
from .setting_tables import (  # noqa: F401
    M365_KEYS,
    MAIL_KEYS,
    MAIL_KINDS,
    SMTP_SECURITY,
    WEEKDAYS,
    ChaserSettings,
    DigestSettings,
    MailSettings,
    SettingsError,
    _err,
    _table,
    chasers_from,
    check_text,
    digest_from,
)

CONFIG_NAME = "keeper.toml"
# The SENDCo's name when keeper.toml gives none: a role, not a name, so pages that would say "It tells SENDCo ..."
# say "the SENDCo" instead (functions/confirm.py).
DEFAULT_SENDCO_NAME = "SENDCo"
# Years for which default closures are filled in around configured term dates.
_DEFAULT_CLOSURE_YEARS = range(2000, 2071)


@dataclass(frozen=True)
class Settings:
    school_name: str = "Your school"
    sendco_name: str = DEFAULT_SENDCO_NAME
    sendco_email: str | None = None
    register_sheet: str | None = None  # None: the first worksheet whose header matches
    headers: Mapping[str, str] = field(default_factory=dict)  # the school's header text -> field name
    rules: RuleSettings = field(default_factory=RuleSettings)
    source: str = "defaults"  # where the settings came from, for reports and messages
    chasers: ChaserSettings = field(default_factory=ChaserSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    mail: MailSettings = field(default_factory=MailSettings)  # the defaults until the bootstrap merges [mail] and env
    capacity: CapacitySettings = field(default_factory=CapacitySettings)  # [capacity]: what the year's plan must fit
    # The file's tables as written (mail, chasers, digest, schools), for jobs not yet reading the typed fields above.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """One line stating the conventions in force, for reports and summaries."""
        r = self.rules
        closures = "default closures (21 Jul-31 Aug, 21 Dec-3 Jan)" if r.closures is None else "the school's term dates"
        years = ", ".join(str(y) for y in r.transfer_after_years)
        return (
            f"anchor={r.anchor.value}, period={r.period.value}, transfer after years {years}, "
            f"phase deadline {'inclusive' if r.phase_deadline_inclusive else 'before the date'}, {closures}"
        )


def _as_date(value: Any, where: str, key: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _err(where, f'{key} is "{value}", which is not a date; write it as YYYY-MM-DD, e.g. 2025-12-19.')


def _closures_from(raw: Any, where: str, key: str) -> list[tuple[date, date]]:
    if not isinstance(raw, list):
        raise _err(where, f"{key} must be a list of periods, e.g. [{{ from = 2025-12-20, to = 2026-01-04 }}].")
    out: list[tuple[date, date]] = []
    for i, item in enumerate(raw, start=1):
        if isinstance(item, Mapping):
            start = item.get("from", item.get("start"))
            end = item.get("to", item.get("end"))
        elif isinstance(item, list) and len(item) == 2:
            start, end = item
        else:
            raise _err(
                where, f"{key} entry {i} must have a from and a to date, e.g. {{ from = 2025-12-20, to = 2026-01-04 }}."
            )
        if start is None or end is None:
            raise _err(where, f"{key} entry {i} must have both from and to dates.")
        first, last = _as_date(start, where, f"{key} entry {i} from"), _as_date(end, where, f"{key} entry {i} to")
        if last < first:
            raise _err(
                where, f"{key} entry {i} ends ({last.isoformat()}) before it starts ({first.isoformat()}); swap them."
            )
        out.append((first, last))
    return out


def _ay(d: date) -> int:
    return d.year if d.month >= 9 else d.year - 1


def closures_with_defaults(configured: list[tuple[date, date]]) -> tuple[tuple[date, date], ...]:
    """Configured closures cover the academic years they fall in; every other year keeps the spec's default closures,
    so a deadline next year is not computed as if the school never closed."""
    covered = {_ay(start) for start, _ in configured}
    out = list(configured)
    for ay in _DEFAULT_CLOSURE_YEARS:
        if ay not in covered:
            out.append((date(ay, 12, 21), date(ay + 1, 1, 3)))
            out.append((date(ay + 1, 7, 21), date(ay + 1, 8, 31)))
    return tuple(sorted(out))


def closures_from_terms(terms: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """Term dates (first and last day of each term) -> the closures between consecutive terms."""
    terms = sorted(terms)
    gaps: list[tuple[date, date]] = []
    for (_, end), (next_start, _) in itertools.pairwise(terms):
        if (next_start - end).days > 1:
            gaps.append((date.fromordinal(end.toordinal() + 1), date.fromordinal(next_start.toordinal() - 1)))
    return gaps


_FIELD_NAMES = {f.value for f in Field}
_KNOWN_TOP = {
    "school_name",
    "sendco_name",
    "sendco_email",
    "register_sheet",
    "headers",
    "rules",
    "closures",
    "terms",
    "mail",
    "links",
    "schools",
    "chasers",
    "digest",
    "las",  # per-LA profiles, checked by functions/la_profiles.py on load (issue 14)
    "status_emails",  # parents' and young people's status emails, off by default (issue 14)
    "capacity",
    "m365",
}


def _choice(raw: Mapping[str, Any], key: str, kind: type[Anchor] | type[Period], where: str) -> Any:
    """One of a setting's named values; the first member is the default."""
    try:
        return kind(str(raw[key]).strip().lower())
    except ValueError:
        default, *others = [member.value for member in kind]
        options = " or ".join(f'"{o}"' for o in others)
        raise _err(where, f'rules.{key} is "{raw[key]}"; use "{default}" (the default) or {options}.') from None


def _rules_from(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    known = {"anchor", "period", "transfer_after_years", "phase_deadline_inclusive"}
    for key in raw:
        if key in ("closures", "terms"):  # typed under [rules]: TOML files every later line under the last [table]
            raise _err(
                where,
                f"rules.{key} is not a setting: move `{key} = [...]` to the top of the file, above [rules] "
                "(a line after a [table] header belongs to that table).",
            )
        if key not in known:
            raise _err(where, f"rules.{key} is not a setting; the rules settings are {', '.join(sorted(known))}.")
    if "anchor" in raw:
        out["anchor"] = _choice(raw, "anchor", Anchor, where)
    if "period" in raw:
        out["period"] = _choice(raw, "period", Period, where)
    if "transfer_after_years" in raw:
        years = raw["transfer_after_years"]
        if not isinstance(years, list) or not all(isinstance(y, int) and not isinstance(y, bool) for y in years):
            raise _err(
                where, "rules.transfer_after_years must be a list of year groups, e.g. [6, 11] or [-1, 2, 6, 11]."
            )
        bad = [y for y in years if not -1 <= y <= 13]
        if bad:
            raise _err(where, f"rules.transfer_after_years has {bad[0]}; year groups run from -1 (Nursery) to 13.")
        out["transfer_after_years"] = tuple(sorted(set(years)))
    if "phase_deadline_inclusive" in raw:
        value = raw["phase_deadline_inclusive"]
        if not isinstance(value, bool):
            raise _err(where, "rules.phase_deadline_inclusive must be true or false.")
        out["phase_deadline_inclusive"] = value
    return out


def settings_from_mapping(raw: Mapping[str, Any], where: str = CONFIG_NAME) -> Settings:
    for key in raw:
        if key not in _KNOWN_TOP:
            raise _err(where, f'"{key}" is not a setting; see the settings reference in README.md.')
    kwargs: dict[str, Any] = {}
    for key in ("school_name", "sendco_name", "sendco_email", "register_sheet"):
        if key in raw:
            kwargs[key] = check_text(raw[key], key, where)
    headers = raw.get("headers", {})
    if not isinstance(headers, Mapping):
        raise _err(where, '[headers] must map your column headers to fields, e.g. "Child\'s name" = "name".')
    for header, name in headers.items():
        if name not in _FIELD_NAMES:
            raise _err(
                where,
                f'headers."{header}" is "{name}", which is not a field; use one of {", ".join(sorted(_FIELD_NAMES))}.',
            )
    kwargs["headers"] = dict(headers)
    rules_raw = raw.get("rules", {})
    if not isinstance(rules_raw, Mapping):
        raise _err(where, "[rules] must be a table of settings.")
    rules = RuleSettings(**_rules_from(rules_raw, where))
    closures: list[tuple[date, date]] = []
    if "terms" in raw:
        closures += closures_from_terms(_closures_from(raw["terms"], where, "terms"))
    if "closures" in raw:
        closures += _closures_from(raw["closures"], where, "closures")
    if closures:
        rules = replace(rules, closures=closures_with_defaults(closures))
    kwargs["rules"] = rules
    kwargs["chasers"] = chasers_from(raw, where)
    kwargs["digest"] = digest_from(raw, where)
    kwargs["capacity"] = capacity_from_mapping(raw.get("capacity"), where)
    _table(raw, "mail", MAIL_KEYS, where)  # its values are checked with the environment's, by the bootstrap
    # Nothing is read from [links]: the link secret and address are KEEPER_LINK_SECRET and KEEPER_BASE_URL.
    _table(raw, "links", (), where)
    for key, value in _table(raw, "m365", M365_KEYS, where).items():
        check_text(value, f"m365.{key}", where)
    kwargs["extra"] = {
        k: v
        for k, v in raw.items()
        if k in {"mail", "links", "schools", "chasers", "digest", "las", "status_emails", "m365"}
    }
    kwargs["source"] = where
    return Settings(**kwargs)


# ---------------------------------------------------------------------------------------------------------------------
# Several schools in one deployment (a multi-academy trust): a [[schools]] array in keeper.toml.
#
#     [mail]                        # top-level settings are every school's defaults
#     transport = "sendgrid"
#     [[schools]]
#     id = "oakfield"               # lower-case letters, digits and hyphens: it goes into links and Pub/Sub messages
#     name = "Oakfield Primary"
#     register = "https://docs.google.com/spreadsheets/d/..."   # or a workbook path, relative to keeper.toml
#     sendco_name = "Ms Patel"
#     sendco_email = "senco@oakfield.sch.uk"
#     terms = [{ from = 2025-09-03, to = 2025-10-24 }, ...]
#     [schools.rules]
#     transfer_after_years = [6]
#
# Secrets (SMTP passwords, API keys, the link secret) never go in the file: the deployment sets them as environment
# variables from Secret Manager (`--set-secrets`), so a keeper.toml can be shared or committed without leaking them.

DEFAULT_SCHOOL_ID = "school"
_SCHOOL_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SCHOOL_ONLY = {"id", "register", "name"}
_SECRET_WORDS = ("password", "secret", "api_key", "apikey", "token")
_REPLACED_TOGETHER = ("terms", "closures")


@dataclass(frozen=True)
class School:
    """One school in the deployment: its id (in links and messages), its register and its settings."""

    id: str
    register: str  # a workbook path (absolute) or a Google Sheet URL or key
    settings: Settings

    @property
    def register_is_sheet(self) -> bool:
        return not self.register.lower().endswith((".xlsx", ".xlsm"))


def _refuse_secrets(raw: Any, where: str, path: str = "") -> None:
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            name = f"{path}.{key}" if path else str(key)
            if any(word in str(key).lower() for word in _SECRET_WORDS) and not str(key).lower().endswith("_env"):
                raise _err(
                    where,
                    f"{name} looks like a secret; secrets never go in keeper.toml. Remove it and set the matching "
                    "environment variable instead (deployed from Secret Manager with --set-secrets, see DEPLOY.md).",
                )
            _refuse_secrets(value, where, name)
    elif isinstance(raw, list):
        for i, item in enumerate(raw, start=1):
            _refuse_secrets(item, where, f"{path}[{i}]")


def _merged(defaults: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """The school's own settings over the trust's: tables merge key by key, everything else is replaced."""
    out = dict(defaults)
    if any(k in own for k in _REPLACED_TOGETHER):
        # A school's own term dates replace the trust's entirely; mixing two calendars would invent closures.
        for key in _REPLACED_TOGETHER:
            out.pop(key, None)
    for key, value in own.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _register_ref(value: Any, where: str, base: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _err(where, 'register must be the register\'s Google Sheet URL or workbook path, e.g. "register.xlsx".')
    ref = value.strip()
    if ref.lower().endswith((".xlsx", ".xlsm")) and "://" not in ref:
        path = Path(ref).expanduser()
        return str(path if path.is_absolute() else (base / path).resolve())
    return ref


def schools_from_mapping(
    raw: Mapping[str, Any], where: str = CONFIG_NAME, base: Path | None = None
) -> dict[str, School]:
    """Every `[[schools]]` entry as a School, in file order. Raises SettingsError naming the entry and the fix."""
    base = base if base is not None else Path.cwd()
    entries = raw.get("schools")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, Mapping) for e in entries):
        raise _err(where, "schools must be one or more [[schools]] tables, each with an id, a name and a register.")
    _refuse_secrets(raw, where)
    defaults = {k: v for k, v in raw.items() if k != "schools"}
    out: dict[str, School] = {}
    for number, entry in enumerate(entries, start=1):
        school_id = entry.get("id")
        if not isinstance(school_id, str) or not _SCHOOL_ID.match(school_id):
            raise _err(
                where,
                f'school {number}: id is "{school_id}"; give each school a short id of lower-case letters, digits '
                'and hyphens, e.g. id = "oakfield-primary".',
            )
        if school_id in out:
            raise _err(where, f'school {number}: id "{school_id}" is used twice; each school needs its own id.')
        here = f'{where}, school "{school_id}"'
        own = {k: v for k, v in entry.items() if k not in _SCHOOL_ONLY}
        if "name" in entry:
            own["school_name"] = entry["name"]
        if "schools" in own:
            raise _err(here, "a school cannot contain other schools.")
        settings = settings_from_mapping(_merged(defaults, own), where=here)
        out[school_id] = School(school_id, _register_ref(entry.get("register"), here, base), settings)
    return out


_MOVED_TO_BOOTSTRAP = frozenset(
    {"CONFIG_ENV", "REGISTER_ENV", "SCHOOL_ID_ENV", "apply_environment", "load_schools", "load_settings", "read_toml"}
)


def __getattr__(name: str) -> Any:
    # Reading keeper.toml and the environment moved to functions/bootstrap.py (which imports this module, hence the
    # lazy import); the old names stay importable from here until every caller imports them from there.
    if name in _MOVED_TO_BOOTSTRAP:
        from . import bootstrap

        return getattr(bootstrap, name)
    raise AttributeError(name)
