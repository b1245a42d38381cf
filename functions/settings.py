"""The school's settings: `keeper.toml` (beside the register, or --config), overridden by `KEEPER_*` environment
variables. Defaults are the spec's. A bad setting is one clear sentence naming the setting and the fix."""

from __future__ import annotations

import itertools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from review_rules.model import Anchor, Period, RuleSettings
from sheet_schema.model import Field

CONFIG_NAME = "keeper.toml"
# Years for which default closures are filled in around configured term dates.
_DEFAULT_CLOSURE_YEARS = range(2000, 2071)


class SettingsError(Exception):
    """A setting the product cannot use. `str(err)` names the file, the setting and the fix."""


@dataclass(frozen=True)
class Settings:
    school_name: str = "Your school"
    sendco_name: str = "SENDCo"
    sendco_email: str | None = None
    register_sheet: str | None = None  # None: the first worksheet whose header matches
    headers: Mapping[str, str] = field(default_factory=dict)  # the school's header text -> field name
    rules: RuleSettings = field(default_factory=RuleSettings)
    source: str = "defaults"  # where the settings came from, for reports and messages
    # Everything else in the file (mail, links ...) is kept for the jobs that read it.
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


def _err(where: str, what: str) -> SettingsError:
    return SettingsError(f"{where}: {what}")


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
}


def _rules_from(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    known = {"anchor", "period", "transfer_after_years", "phase_deadline_inclusive"}
    for key in raw:
        if key not in known:
            raise _err(where, f"rules.{key} is not a setting; the rules settings are {', '.join(sorted(known))}.")
    if "anchor" in raw:
        try:
            out["anchor"] = Anchor(str(raw["anchor"]).strip().lower())
        except ValueError:
            raise _err(
                where, f'rules.anchor is "{raw["anchor"]}"; use "decision" (the default) or "meeting".'
            ) from None
    if "period" in raw:
        try:
            out["period"] = Period(str(raw["period"]).strip().lower())
        except ValueError:
            raise _err(
                where, f'rules.period is "{raw["period"]}"; use "twelve_months" (the default) or "anniversary".'
            ) from None
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
            if not isinstance(raw[key], str) or not raw[key].strip():
                raise _err(where, f"{key} must be some text in quotes.")
            kwargs[key] = raw[key].strip()
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
    kwargs["extra"] = {k: v for k, v in raw.items() if k in {"mail", "links", "schools", "chasers", "digest"}}
    kwargs["source"] = where
    return Settings(**kwargs)


_ENV_STR = {
    "KEEPER_SCHOOL_NAME": "school_name",
    "KEEPER_SENDCO_NAME": "sendco_name",
    "KEEPER_SENDCO_EMAIL": "sendco_email",
    "KEEPER_REGISTER_SHEET": "register_sheet",
}


def apply_environment(settings: Settings, env: Mapping[str, str]) -> Settings:
    """`KEEPER_*` variables win over the file."""
    changes: dict[str, Any] = {attr: env[var].strip() for var, attr in _ENV_STR.items() if env.get(var, "").strip()}
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
    return replace(settings, **changes) if changes else settings


def load_settings(
    config: Path | None = None, register: Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """--config FILE, else keeper.toml beside the register, else the defaults; then the environment."""
    env = os.environ if env is None else env
    path = config
    if path is None and register is not None:
        beside = register.parent / CONFIG_NAME
        path = beside if beside.is_file() else None
    if path is None:
        settings = Settings()
    else:
        if not path.is_file():
            raise SettingsError(f"{path}: no such settings file; check the path given to --config.")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path.name}: this is not valid TOML ({exc}); fix that line and run again.") from None
        except UnicodeDecodeError:
            raise SettingsError(f"{path.name}: this is not a text file; save it as UTF-8 text.") from None
        settings = settings_from_mapping(raw, where=path.name)
    return apply_environment(settings, env)
