"""Per-LA profiles: keeper.toml's `[las."Name"]` tables, typed and checked (issue 14). Pure: functions/bootstrap.py
reads the file and calls `check_profiles` on load, so a bad profile stops the run before any register is read, in
one sentence naming the key.

    [las."Kent"]
    email = "sen.reviews@kent.gov.uk"   # the SEN team's inbox: chasers and (submit = "email") the review record
    aliases = ["Kent CC", "KCC"]        # other ways the register's LA column names this LA
    chase = true                        # off when absent: the digest says what would have been sent
    submit = "email"                    # "email", "portal" or "post": how the school sends the review record
    portal_url = "https://..."          # where the LA's portal is, for submit = "portal"
    requests_weeks = 12                 # lead times that differ from the defaults, shown by `main.py las`
    form = "Kent annual review form"    # the LA's own review form

The register's LA column selects the profile by name or alias, ignoring case, spaces and punctuation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sheet_schema.cells import is_email_address
from sheet_schema.fields import normalise_header

from .setting_tables import SettingsError, check_text

SUBMIT_WAYS = ("email", "portal", "post")
# Lead times an LA may set apart from the defaults (docs/rules.md s6): weeks before the meeting.
LEAD_TIME_KEYS = ("requests_weeks", "contributions_weeks", "papers_weeks")
PROFILE_KEYS = ("email", "aliases", "chase", "submit", "portal_url", "form", *LEAD_TIME_KEYS)
# The one setting for parents' and young people's status emails (issue 14 item 4): off by default.
STATUS_EMAILS_KEY = "status_emails"


@dataclass(frozen=True)
class LAProfile:
    name: str
    email: str | None = None
    aliases: tuple[str, ...] = ()
    chase: bool = False
    submit: str | None = None
    portal_url: str | None = None
    form: str | None = None
    lead_weeks: tuple[tuple[str, int], ...] = ()  # (key, weeks) where this LA differs from the defaults

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def describe(self) -> str:
        """What is configured, in one line, for `main.py las`."""
        parts = [f"email {self.email}" if self.email else "no email"]
        parts.append("chasers on" if self.chase else "chasers off")
        if self.submit:
            parts.append(f"submit by {self.submit}" + (f" ({self.portal_url})" if self.portal_url else ""))
        if self.form:
            parts.append(f'form "{self.form}"')
        parts.extend(f"{key.removesuffix('_weeks')} {weeks} weeks before the meeting" for key, weeks in self.lead_weeks)
        return ", ".join(parts)


def _fail(where: str, what: str) -> SettingsError:
    return SettingsError(f"{where}: {what}")


def _profile(name: str, raw: Any, where: str) -> LAProfile:
    at = f'las."{name}"'
    if not isinstance(raw, Mapping):
        raise _fail(where, f'{at} must be a table, e.g. [las."{name}"] with email = "sen@council.gov.uk".')
    for key in raw:
        if key not in PROFILE_KEYS:
            raise _fail(where, f"{at}.{key} is not a setting; an LA's settings are {', '.join(PROFILE_KEYS)}.")
    email = None
    if "email" in raw:
        email = check_text(raw["email"], f"{at}.email", where)
        if not is_email_address(email):
            raise _fail(where, f'{at}.email is "{email}", which is not an email address; give the SEN team\'s inbox.')
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise _fail(where, f'{at}.aliases must be a list of names, e.g. ["{name} CC"].')
    chase = raw.get("chase", False)
    if not isinstance(chase, bool):
        raise _fail(where, f"{at}.chase must be true or false (the default is false).")
    if chase and email is None:
        raise _fail(where, f"{at}.chase is true but the LA has no email; add {at}.email.")
    submit = raw.get("submit")
    if submit is not None and submit not in SUBMIT_WAYS:
        raise _fail(where, f'{at}.submit is "{submit}"; use "email", "portal" or "post".')
    if submit == "email" and email is None:
        raise _fail(where, f'{at}.submit is "email" but the LA has no email; add {at}.email.')
    portal_url = raw.get("portal_url")
    if portal_url is not None and not (isinstance(portal_url, str) and portal_url.startswith(("https://", "http://"))):
        raise _fail(where, f"{at}.portal_url must be the portal's web address, starting https://.")
    form = check_text(raw["form"], f"{at}.form", where) if "form" in raw else None
    weeks: list[tuple[str, int]] = []
    for key in LEAD_TIME_KEYS:
        if key in raw:
            value = raw[key]
            if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 52):
                raise _fail(where, f"{at}.{key} must be a whole number of weeks from 1 to 52.")
            weeks.append((key, value))
    return LAProfile(
        name=name,
        email=email,
        aliases=tuple(a.strip() for a in aliases),
        chase=chase,
        submit=submit,
        portal_url=portal_url,
        form=form,
        lead_weeks=tuple(weeks),
    )


def profiles_from(raw: Mapping[str, Any], where: str = "keeper.toml") -> tuple[LAProfile, ...]:
    """Every `[las."Name"]` table as an LAProfile. Raises SettingsError naming the key: an address that is not an
    email, an unknown key, two profiles claiming one name or alias."""
    table = raw.get("las", {})
    if not isinstance(table, Mapping):
        raise _fail(where, '[las] must hold one table per LA, e.g. [las."Kent"].')
    out = [_profile(str(name), value, where) for name, value in table.items()]
    claimed: dict[str, str] = {}
    for profile in out:
        for name in profile.names():
            key = normalise_header(name)
            if key in claimed and claimed[key] != profile.name:
                raise _fail(
                    where,
                    f'las."{profile.name}" claims "{name}", which las."{claimed[key]}" already claims; '
                    "give each name to one LA only.",
                )
            claimed[key] = profile.name
    return tuple(out)


def status_emails_on(raw: Mapping[str, Any], where: str = "keeper.toml") -> bool:
    value = raw.get(STATUS_EMAILS_KEY, False)
    if not isinstance(value, bool):
        raise _fail(where, f"{STATUS_EMAILS_KEY} must be true or false (the default is false).")
    return value


def check_profiles(settings: Any) -> tuple[LAProfile, ...]:
    """Called by the bootstrap on load: the settings' profiles, checked (SettingsError when one is wrong)."""
    extra = getattr(settings, "extra", {}) or {}
    status_emails_on(extra, settings.source)
    return profiles_from(extra, settings.source)


def profiles_for(settings: Any) -> tuple[LAProfile, ...]:
    """The profiles, as checked on load (the bootstrap has already refused bad ones)."""
    return check_profiles(settings)


def match(la: str | None, profiles: Sequence[LAProfile]) -> LAProfile | None:
    """The profile the register's LA cell selects, by name or alias (case, spaces and punctuation ignored)."""
    if not la:
        return None
    key = normalise_header(la)
    for profile in profiles:
        if any(normalise_header(n) == key for n in profile.names()):
            return profile
    return None


def la_aliases(profiles: Sequence[LAProfile]) -> dict[str, str]:
    """Every name and alias -> the profile's name: the data reports/la_figures.py groups the LA figures by (reports/
    may not import this module). The report matches the keys ignoring case, spaces and punctuation, as `match` does."""
    return {name: profile.name for profile in profiles for name in profile.names()}


def profile_warnings(register_las: Iterable[str], profiles: Sequence[LAProfile]) -> list[str]:
    """Unknown LA names (listing the known ones) and profiles no pupil has: warnings, never a stop."""
    found = sorted({la for la in register_las if la})
    out: list[str] = []
    if profiles:
        known = ", ".join(p.name for p in profiles)
        for la in found:
            if match(la, profiles) is None:
                out.append(
                    f'The LA "{la}" in the register has no profile in keeper.toml (known: {known}); add '
                    f'[las."{la}"] or add "{la}" to an LA\'s aliases.'
                )
    for profile in profiles:
        if not any(match(la, [profile]) for la in found):
            out.append(f'las."{profile.name}" matches no pupil in the register; check its name and aliases.')
    return out


__all__ = [
    "LEAD_TIME_KEYS",
    "PROFILE_KEYS",
    "STATUS_EMAILS_KEY",
    "SUBMIT_WAYS",
    "LAProfile",
    "check_profiles",
    "la_aliases",
    "match",
    "profile_warnings",
    "profiles_for",
    "profiles_from",
    "status_emails_on",
]
