"""What the email planner decides, as plain data: its settings, the emails due (`DueEmail`), the Contributions cells
to write once each has gone (`CellUpdate`), and the reason keys the sent-ledger records.

Shared by functions/planning.py (contributors), functions/digest_planning.py (the SENDCo's digest),
functions/rendering.py (how the emails read) and functions/contribution_writes.py (the write plans).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from review_rules.periods import DUE_SOON_DAYS, INVITES_DAYS
from review_rules.school_days import SchoolCalendar, calendar_for
from sheet_schema.contributions import Contribution
from sheet_schema.model import ReviewedPupil

from .links import LinkSigner

# "la_chaser", "status", "submit": the LA and family emails of issue 14 (functions/la_sweep.py)
Kind = Literal["request", "chaser", "invitation", "digest", "la_chaser", "status", "submit"]
ContributionKey = tuple[str, str, str]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# "Year 9+ and phase-transfer reviews starting soon" in the digest: contribution requests due within the same four
# weeks as DUE SOON (docs/rules.md s9), so the SENDCo sees the bigger reviews coming before they turn urgent.
STARTING_SOON_DAYS = DUE_SOON_DAYS


@dataclass(frozen=True)
class MailPlanSettings:
    school_name: str = "Your school"
    sendco_name: str = "SENDCo"
    sendco_email: str | None = None
    chaser_every_days: int = 7
    max_chasers: int = 3
    digest_weekday: int | None = 0  # Monday; None: no weekly digest (the event digests still go)
    # reg 20(3): invitations at least two weeks before the meeting (docs/rules.md s6).
    notice_days: int = INVITES_DAYS
    starting_soon_days: int = STARTING_SOON_DAYS
    closures: tuple[tuple[date, date], ...] | None = None
    signer: LinkSigner | None = None  # None: emails ask for a reply instead of carrying a link

    @property
    def calendar(self) -> SchoolCalendar:
        return calendar_for(self.closures)


@dataclass(frozen=True)
class CellUpdate:
    """Cells to write on one Contributions row, once the email `reason_key` has gone (None: write regardless, e.g. a
    date recovered from the sent-ledger after a crash)."""

    key: ContributionKey
    row: int  # as read; 0 for a seeded row not yet on the sheet
    values: Mapping[str, date | int]
    reason_key: str | None


@dataclass(frozen=True)
class InvitationEvent:
    """The calendar event an invitation carries (functions/rendering.py writes it as `.ics`)."""

    uid: str
    meeting: date
    sequence: int
    summary: str
    school_name: str
    organiser_email: str | None
    organiser_name: str
    attendee_email: str
    stamp: date


@dataclass(frozen=True)
class DueEmail:
    """One email that is due, before it is written: `context` is the plain data its template reads."""

    kind: Kind
    to: str
    pupil_row: int | None
    reason_key: str
    context: Mapping[str, Any]
    reply_to: str | None
    contribution_row: int | None = None
    contribution_key: ContributionKey | None = None
    invitation: InvitationEvent | None = None
    cc: tuple[str, ...] = ()  # an LA chaser copies the SENDCo in (issue 14)


@dataclass(frozen=True)
class EmailDecisions:
    today: date
    due: tuple[DueEmail, ...]
    updates: tuple[CellUpdate, ...]
    new_rows: tuple[Contribution, ...]  # Parent/carer rows seeded from the register, to append
    notes: tuple[str, ...]  # sentences for the SENDCo (also in the digest)
    outstanding: Mapping[int, str]  # pupil row -> the AR outstanding cell, e.g. "EP, Class teacher (2 chasers)"


@dataclass
class PlannedRow:
    """A contribution as the plan sees it, after reconciling with the sent-ledger."""

    contribution: Contribution
    pupil: ReviewedPupil
    requested: date | None
    chasers: int
    last_chased: date | None
    invited_for: date | None
    updates: dict[str, date | int] = field(default_factory=dict)


def mail_plan_settings(settings: Any, signer: LinkSigner | None = None) -> MailPlanSettings:
    """From functions.settings.Settings: [chasers] every_days / max, [digest] day, plus the school and SENDCo."""
    extra = getattr(settings, "extra", {}) or {}
    chasers = extra.get("chasers", {}) or {}
    digest = extra.get("digest", {}) or {}
    day_text = str(digest.get("day", "monday")).strip().casefold()
    if day_text in ("", "none", "off", "never"):
        weekday: int | None = None
    elif day_text[:3] in {d[:3] for d in _WEEKDAYS}:
        weekday = [d[:3] for d in _WEEKDAYS].index(day_text[:3])
    else:
        raise ValueError(f'digest.day is "{digest.get("day")}"; use a day of the week such as "monday", or "never".')
    every = chasers.get("every_days", 7)
    most = chasers.get("max", 3)
    if not isinstance(every, int) or every < 1:
        raise ValueError("chasers.every_days must be a whole number of days, at least 1 (the default is 7).")
    if not isinstance(most, int) or most < 0:
        raise ValueError("chasers.max must be a whole number, 0 or more (the default is 3).")
    return MailPlanSettings(
        school_name=settings.school_name,
        sendco_name=settings.sendco_name,
        sendco_email=settings.sendco_email,
        chaser_every_days=every,
        max_chasers=most,
        digest_weekday=weekday,
        closures=settings.rules.closures,
        signer=signer,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Reason keys: what the sent-ledger records (functions/mailer.py)


def key_hash(key: ContributionKey) -> str:
    # The ledger file never holds names or addresses: only this digest of the row key.
    return hashlib.sha256("\x1f".join(key).encode("utf-8")).hexdigest()[:16]


def request_key(cycle: date, key: ContributionKey) -> str:
    return f"request|{cycle.isoformat()}|{key_hash(key)}"


def chaser_key(cycle: date, key: ContributionKey, number: int) -> str:
    return f"chaser|{cycle.isoformat()}|{key_hash(key)}|{number}"


def invitation_key(cycle: date, key: ContributionKey, meeting: date) -> str:
    return f"invitation|{cycle.isoformat()}|{key_hash(key)}|{meeting.isoformat()}"


def invitations_sent(sent: Mapping[str, date], cycle: date, key: ContributionKey) -> int:
    prefix = f"invitation|{cycle.isoformat()}|{key_hash(key)}|"
    return sum(1 for k in sent if k.startswith(prefix))


def digest_key(today: date) -> str:
    return f"digest|{today.isoformat()}"
