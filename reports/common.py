"""What every report shares: how dates and year groups read, the "computed for ... with settings ..." statement, the
rule behind each date, safe file names and the privacy-preserving pupil key.

Personal data (ARCHITECTURE.md): reports name a pupil by first name and surname initial where they leave the school (file
names, calendar events); a date of birth or UPN never appears in any report.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from review_rules.dates import format_date
from review_rules.model import Anchor, Period, ReviewClock, RuleSettings
from review_rules.periods import (
    CONTRIBUTIONS_BEFORE_INVITES_DAYS,
    DECISION_DAYS,
    DECISION_WEEKS_DAYS,
    FINAL_AFTER_MEETING_DAYS,
    FINAL_AFTER_NOTICE_DAYS,
    INVITES_DAYS,
    PAPERS_DAYS,
    REPORT_DAYS,
    REQUESTS_DAYS,
    REQUESTS_EXTENDED_DAYS,
)

# The status as the SENDCo reads it in the "AR status" column (docs/register.md s5): one table for the register
# and the reports.
from sheet_schema.ar_columns import STATUS_LABELS as STATUS_LABELS
from sheet_schema.contributions import CHASERS, REQUESTED, Contribution, in_cycle, match_pupil
from sheet_schema.model import ReviewedPupil


@dataclass(frozen=True)
class ContributionLine:
    """One piece of advice requested for a review (docs/register.md s6, the Contributions tab)."""

    role: str  # Parent/carer, Class teacher, EP, SALT, ...
    name: str
    requested: date | None
    received: date | None
    chasers: int = 0
    # "yes" or a tick in Received: it came, date unknown (docs/register.md s6).
    received_marked: bool = False

    @property
    def outstanding(self) -> bool:
        return self.received is None and not self.received_marked


def contribution_lines(
    contributions: Iterable[Contribution],
    pupils: Sequence[ReviewedPupil],
    sent: Mapping[tuple[str, str, str], Mapping[str, Any]] | None = None,
) -> dict[int, list[ContributionLine]]:
    """pupil row -> the ContributionLines a review record lists: this review's rows only (a row asked for before the
    last review is history, as for AR outstanding: sheet_schema.contributions.in_cycle). `sent`: per row key, the
    Requested / Chasers today's emails write, so the record matches the sheet as it will be after the sweep."""
    done = sent or {}
    out: dict[int, list[ContributionLine]] = {}
    for c in contributions:
        pupil = match_pupil(c, pupils)
        if pupil is None:
            continue
        cells = done.get(c.key, {})
        requested = cells.get(REQUESTED, c.requested)
        if pupil.clock is not None and not in_cycle(c, pupil.clock, requested):
            continue
        out.setdefault(pupil.record.row, []).append(
            ContributionLine(
                role=c.role,
                name=c.name,
                requested=requested,
                received=c.received,
                chasers=int(cells.get(CHASERS, c.chasers)),
                received_marked=c.received_marked,
            )
        )
    return out


def uk_date(d: date | None) -> str:
    """A date as the SENDCo reads it: "Fri 7 Nov 2025" (blank when unknown)."""
    if d is None:
        return ""
    return format_date(d)


def uk_month(d: date) -> str:
    """A month as a heading: "Nov 2025"."""
    # From format_date, not strftime: English month names whatever the machine's locale.
    return format_date(d).split(" ", 2)[2]


def year_label(nc_year: int) -> str:
    """An NC year in school words: Nursery (-1), Reception (0), Year 1 ... Year 14."""
    if nc_year <= -1:
        return "Nursery"
    if nc_year == 0:
        return "Reception"
    return f"Year {nc_year}"


def transfer_label(from_year: int, to_post16: bool) -> str:
    """The phase transfer in school words, e.g. "Year 6 to Year 7", "Year 11 to post-16"."""
    to = "post-16" if to_post16 else year_label(from_year + 1)
    return f"{year_label(from_year)} to {to}"


def settings_lines(settings: RuleSettings) -> list[str]:
    """The conventions the dates were computed with, one line each, in words a SENDCo (or an LA officer) can check."""
    if settings.anchor is Anchor.DECISION:
        anchor = (
            "meeting and LA decision: the meeting is held early enough for the LA's decision (4 weeks after it, "
            "reg 20(10)) to fall inside the 12 months too (CoP 9.169)"
        )
    else:
        anchor = "meeting: the meeting is held inside the 12 months (CFA 2014 s44(1))"
    if settings.period is Period.TWELVE_MONTHS:
        period = 'the 12 months end the day before the anniversary ("the period of 12 months starting with", s44(1))'
    else:
        period = "the 12 months end on the anniversary (the LA's convention)"
    if settings.closures is None:
        closures = "default closures every year: 21 Jul to 31 Aug and 21 Dec to 3 Jan"
    elif not settings.closures:
        closures = "none (weekends and bank holidays only)"
    else:
        closures = "; ".join(f"{uk_date(a)} to {uk_date(b)}" for a, b in settings.closures)
    transfers = ", ".join(year_label(y) for y in settings.transfer_after_years) or "none"
    deadline = "on 15 Feb / 31 Mar" if settings.phase_deadline_inclusive else "before 15 Feb / 31 Mar (reg 18)"
    return [
        f"Anchor: {anchor}",
        f"Period: {period}",
        f"School closures: {closures}, plus weekends and England bank holidays",
        f"Phase transfers after: {transfers}; amended plan final {deadline}",
    ]


def settings_short(settings: RuleSettings) -> str:
    """The settings in a few words, for document properties (limited to 255 characters)."""
    closures = "default" if settings.closures is None else f"{len(settings.closures)} periods"
    transfers = ",".join(str(y) for y in settings.transfer_after_years) or "none"
    return (
        f"anchor={settings.anchor.value}; period={settings.period.value}; closures={closures}; "
        f"transfers after years {transfers}; deadline {'inclusive' if settings.phase_deadline_inclusive else 'before'}"
    )


def computed_for_statement(today: date, settings: RuleSettings) -> str:
    """The one sentence every report carries (issue 6, deliverable 4)."""
    return f"Computed for {uk_date(today)} with settings: " + "; ".join(settings_lines(settings)) + "."


def _weeks(days: int) -> int:
    """A statutory period from review_rules.periods, in the weeks the regulations state it in."""
    return days // 7


# The rule behind each date, for when the clock carries no `explain` text of its own. Keys are ReviewClock /
# AfterMeeting field names.
RULES: dict[str, str] = {
    "window_end": "Last day of the 12 months starting with the anchor date (CFA 2014 s44(1); CoP 9.166)",
    "meeting_latest": (
        f"Latest meeting date that leaves the LA's {_weeks(DECISION_WEEKS_DAYS)}-week decision inside the 12 months "
        "(CoP 9.169; reg 20(10))"
    ),
    "meeting_target": "The latest school day on or before the hold-by date (CoP 9.169; reg 20(10))",
    "requests_from": (
        f"Start requesting advice: {_weeks(REQUESTS_DAYS)} weeks before the meeting ({_weeks(REQUESTS_EXTENDED_DAYS)} "
        "weeks for Year 9+ or a phase transfer)"
    ),
    "contributions_due": (
        f"Advice back {_weeks(INVITES_DAYS + CONTRIBUTIONS_BEFORE_INVITES_DAYS)} weeks before the meeting, leaving "
        f"{_weeks(CONTRIBUTIONS_BEFORE_INVITES_DAYS)} week to compile it (reg 20(4))"
    ),
    "invites_by": f"At least {_weeks(INVITES_DAYS)} weeks' notice of the meeting (reg 20(3))",
    "papers_by": f"Advice and information circulated at least {_weeks(PAPERS_DAYS)} weeks before the meeting (reg 20(4))",
    "report_due": (
        f"School's report to the LA and everyone invited within {_weeks(REPORT_DAYS)} weeks of the meeting "
        "(reg 20(7)-(8))"
    ),
    "decision_due": (
        f"LA decides to maintain, amend or cease within {_weeks(DECISION_DAYS)} weeks of the meeting (reg 20(10))"
    ),
    "final_plan_due": (
        f"If amended: final plan within {_weeks(FINAL_AFTER_NOTICE_DAYS)} weeks of the proposed amendments, at most "
        f"{_weeks(FINAL_AFTER_MEETING_DAYS)} weeks after the meeting (reg 22(3); R (L, M and P) v Devon CC [2022])"
    ),
    "final_by": "Phase transfer: the plan reviewed and amended before 15 Feb (31 Mar for post-16) (reg 18)",
    "end_of_compulsory_school": (
        "End of compulsory school age: last Friday in June of the school year in which they turn 16 (Education Act "
        "1996 s8)"
    ),
}


def rule_for(clock: ReviewClock, name: str) -> str:
    """The clock's own explanation of a date when it has one, else the regulation it comes from."""
    return clock.explain.get(name) or RULES[name]


def hold_by_rule(clock: ReviewClock) -> str:
    """Why the meeting must be held by `meeting_target`: the latest date's rule, then the move to a school day."""
    rule = rule_for(clock, "meeting_latest").rstrip(".")
    if clock.meeting_target == clock.meeting_latest:
        return rule + "."
    moved = clock.explain.get("meeting_target") or (
        f"The last school day on or before {uk_date(clock.meeting_latest)} is {uk_date(clock.meeting_target)}."
    )
    return f"{rule}. {moved}"


_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


# A file name part from register text is cut to this many bytes: a 300-letter "first name" made a name longer than
# the 255 bytes every common file system allows ("File name too long"), and the temporary file beside it is longer.
FILE_PART_BYTES = 40


def safe_part(text: str, max_bytes: int = FILE_PART_BYTES) -> str:
    """ASCII letters and digits only, so a file name travels through email, SharePoint and Windows unchanged; at most
    `max_bytes` bytes (ASCII: one byte a character)."""
    ascii_text = unicodedata.normalize("NFKD", text[: max_bytes * 8]).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE.sub("", ascii_text).encode("ascii")[:max_bytes].decode("ascii")


# Fixed so that UIDs are stable from run to run; the key is hashed, never written in clear.
_UID_SALT = "review-keeper/calendar/v1"


def pupil_key_hash(pupil: ReviewedPupil, *, extra: str = "") -> str:
    """A stable, opaque key for one pupil: a salted SHA-256 of the UPN (or name + date of birth when there is none).

    The register matches rows the same way (docs/register.md s5), so the key survives sorting and inserted rows.
    """
    record = pupil.record
    if record.upn:
        key = f"upn:{record.upn.strip().upper()}"
    else:
        dob = record.facts.dob.isoformat() if record.facts is not None else ""
        key = f"name:{' '.join(record.name.lower().split())}|{dob}"
    return hashlib.sha256(f"{_UID_SALT}|{key}|{extra}".encode()).hexdigest()


@contextmanager
def replaced_atomically(out: Path) -> Iterator[Path]:
    """A temporary file beside `out` to write; it replaces `out` in one step only when the writing finished, so a
    failed or interrupted run never leaves half a document where the last good one was."""
    out.parent.mkdir(parents=True, exist_ok=True)
    # The temporary keeps the real suffix: writers (pandas, python-docx) choose the format from it.
    handle, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".tmp{out.suffix}", dir=out.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
