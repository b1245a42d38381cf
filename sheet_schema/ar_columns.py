"""The product's own columns (docs/register.md s5): their headers, and what goes in them for one pupil.

Pure: values come out as `ARValue`s (text, a date, or a timestamp, with a fill for the status); the adapters turn them
into cells. Every header starts with "AR " so nobody mistakes them for the SENDCo's own."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from review_rules.dates import format_date
from review_rules.dates import format_date as uk_date  # "Fri 7 Nov 2025"; the name main.py and older code import
from review_rules.model import ReviewClock, ReviewFacts, Status

from .model import ReviewedPupil

# The one place the prefix and the headers are stated (docs/register.md s5): the adapters, the header reader and the
# Contributions tab's own column take them from here.
AR_PREFIX = "AR "

AR_STATUS = f"{AR_PREFIX}status"
AR_HOLD_BY = f"{AR_PREFIX}hold meeting by"
AR_WINDOW_ENDS = f"{AR_PREFIX}window ends"
AR_NEXT_ACTION = f"{AR_PREFIX}next action"
AR_YEAR9 = f"{AR_PREFIX}year 9+"
AR_PHASE = f"{AR_PREFIX}phase transfer"
AR_AFTER = f"{AR_PREFIX}after meeting"
AR_OUTSTANDING = f"{AR_PREFIX}outstanding"
AR_ISSUES = f"{AR_PREFIX}issues"
AR_CHECKED = f"{AR_PREFIX}checked"
# The product's column on the Contributions tab: the meeting date each contributor was last invited to.
AR_INVITED_FOR = f"{AR_PREFIX}invited for"
# Written by `plan`, not by the sweep (so not in AR_HEADERS): the meeting date the year's plan proposes, a real date.
AR_SUGGESTED = f"{AR_PREFIX}suggested meeting"

AR_HEADERS: tuple[str, ...] = (
    AR_STATUS,
    AR_HOLD_BY,
    AR_WINDOW_ENDS,
    AR_NEXT_ACTION,
    AR_YEAR9,
    AR_PHASE,
    AR_AFTER,
    AR_OUTSTANDING,
    AR_ISSUES,
    AR_CHECKED,
)

# Exactly the headers the product writes: a column is the product's only when its header is one of these, as written,
# after trimming the spaces around it. "A.R. checked", "AR-Status" or "ar status " are the SENDCo's own columns, which
# the product never writes (docs/register.md s5: cells the SENDCo typed are never changed).
OWN_HEADERS: frozenset[str] = frozenset((*AR_HEADERS, AR_INVITED_FOR, AR_SUGGESTED))


def own_header_key(text: object) -> str:
    """How a header cell is matched to one of the product's own headers: its exact text, trimmed."""
    return "" if text is None else str(text).strip()


def is_own_header(text: object) -> bool:
    return own_header_key(text) in OWN_HEADERS


def _loose(text: str) -> str:
    # Lower-case letters and digits only: how a reader (or an older version's matching) would confuse two headers.
    return "".join(ch for ch in unicodedata.normalize("NFKC", text[:200]).casefold() if ch.isalnum())


_LOOSE_OWN = {_loose(h): h for h in OWN_HEADERS}


def near_miss(text: object) -> str | None:
    """The product's header that the header `text` could be mistaken for, when it is not exactly that header."""
    key = own_header_key(text)
    if not key or key in OWN_HEADERS:
        return None
    return _LOOSE_OWN.get(_loose(key))


def near_miss_notes(header_cells: Iterable[object], *, sheet: str, header_row: int) -> list[str]:
    """One sentence per SENDCo column whose header looks like one of the product's: it stays theirs."""
    notes = []
    for text in header_cells:
        meant = near_miss(text)
        if meant is not None:
            notes.append(
                f'Sheet "{sheet}", row {header_row}: the column "{own_header_key(text)}" looks like Review Keeper\'s '
                f'"{meant}" but is not exactly it, so it is treated as yours and never written; Review Keeper uses '
                f'its own "{meant}" column. Rename yours if the two could be confused.'
            )
    return notes


STATUS_LABELS: dict[Status, str] = {
    Status.OVERDUE: "OVERDUE",
    Status.DUE_SOON: "DUE SOON",
    Status.PREPARE: "PREPARE",
    Status.ON_TRACK: "ON TRACK",
    Status.INVALID: "INVALID",
    Status.INACTIVE: "INACTIVE",
}

# Red, amber, yellow, green, grey, grey (docs/register.md s5): pale enough that black text stays readable.
STATUS_FILLS: dict[Status, str] = {
    Status.OVERDUE: "F4B6B6",
    Status.DUE_SOON: "F8CBAD",
    Status.PREPARE: "FFF2A8",
    Status.ON_TRACK: "C6E0B4",
    Status.INVALID: "D9D9D9",
    Status.INACTIVE: "D9D9D9",
}

DATE_FORMAT = "dd/mm/yyyy"
TIMESTAMP_FORMAT = "dd/mm/yyyy hh:mm"

_TRANSFER_NAMES = {-1: "Nursery to Reception", 0: "Reception to Y1"}

# Column widths, in Excel's unit (characters of the default font; Sheets gets pixels from the same figure): what each
# product column holds must show on first sight in Excel, LibreOffice and Google Sheets (docs/register.md s5). A date
# column at the default width (8.43) shows "###" in LibreOffice and Excel, and headers are cut. Per header: the
# longest usual content in characters (a date "dd/mm/yyyy" is 10, a timestamp 16); the width also fits the header in
# bold. Next action, after meeting and issues are long sentences: wide enough for the usual one, not wrapped, so the
# SENDCo's row heights never change (longer text is clipped at the cell edge, never "###", and reads in full in the
# formula bar).
_CONTENT_CHARS: dict[str, int] = {
    AR_STATUS: 8,  # "DUE SOON"
    AR_HOLD_BY: 10,
    AR_WINDOW_ENDS: 10,
    AR_NEXT_ACTION: 80,  # "Move the planned meeting to on or before Fri 7 Nov 2025: it is after the deadline"
    AR_YEAR9: 12,  # "PfA required"
    AR_PHASE: 44,  # "Y11 to post-16: plan final by 31 Mar 2026"
    AR_AFTER: 84,  # "Amended plan was due Thu 9 Apr 2026: add a column 'Final amended plan' to record it"
    AR_OUTSTANDING: 30,
    AR_ISSUES: 70,
    AR_CHECKED: 16,
    AR_INVITED_FOR: 10,
    AR_SUGGESTED: 10,
}
# The Contributions tab's columns, when the product creates the tab or one of its missing columns (docs/register.md
# s6): keyed by header in lower case, as the tab's own header names are matched.
_CONTRIBUTION_CHARS: dict[str, int] = {
    "pupil": 14,  # a UPN is 13 characters
    "role": 14,
    "name": 18,
    "email": 30,
    "requested": 10,
    "received": 10,
    "chasers": 7,
    "last chased": 10,
    "notes": 30,
}
# Bold header text is about a tenth wider than plain; 2 characters of margin keep it clear of the cell edge.
_HEADER_BOLD = 1.1
_MARGIN = 2.0


def column_width(header: str, content_chars: int | None = None) -> float:
    """The width (Excel characters) of a column the product owns or creates, headed `header`: its content's usual
    length (`content_chars`, else the AR table above, else the header's own) or the bold header, whichever is wider."""
    if content_chars is None:
        content_chars = _CONTENT_CHARS.get(header, _CONTRIBUTION_CHARS.get(header.strip().casefold(), 0))
    content = content_chars
    # Never narrower than the sheet's default (8.43): a short header ("Load") over a number must still fit it.
    return round(max(content, len(header) * _HEADER_BOLD, 8) + _MARGIN, 1)


AR_WIDTHS: dict[str, float] = {h: column_width(h) for h in (*AR_HEADERS, AR_INVITED_FOR, AR_SUGGESTED)}


@dataclass(frozen=True)
class ARValue:
    value: str | date | datetime | None
    number_format: str | None = None
    fill: str | None = None


def transfer_label(from_year: int, to_post16: bool) -> str:
    if from_year in _TRANSFER_NAMES:
        return _TRANSFER_NAMES[from_year]
    if to_post16 or from_year >= 11:
        return f"Y{from_year} to post-16"
    return f"Y{from_year} to Y{from_year + 1}"


# The school's report is the next action only while it is fresh; an older missing report stays visible in the
# "AR after meeting" column instead of hiding the next review's own steps.
REPORT_ACTION_DAYS = 42


def next_action(clock: ReviewClock, facts: ReviewFacts, today: date) -> str:
    """The next thing the school must do for this review, and by when, in plain words."""
    if clock.status is Status.INACTIVE:
        return "None: the pupil is no longer on roll"
    after = clock.after_meeting
    urgent = clock.status in (Status.OVERDUE, Status.DUE_SOON)
    # The school's own duty after the last meeting: its report to the LA within 2 weeks (reg 20(7)-(8)).
    if (
        after is not None
        and facts.report_sent is None
        and not urgent
        and (today - after.meeting_held).days <= REPORT_ACTION_DAYS
    ):
        if today <= after.report_due:
            return f"Send the review report to the LA by {uk_date(after.report_due)}"
        return f"Send the review report to the LA now (was due {uk_date(after.report_due)})"
    if clock.planned_after_deadline and today <= clock.meeting_latest:
        return f"Move the planned meeting to on or before {uk_date(clock.meeting_target)}: it is after the deadline"
    if clock.status is Status.OVERDUE:
        return f"Hold the review meeting as soon as possible (was due by {uk_date(clock.meeting_target)})"
    if not clock.meeting_is_planned and today >= clock.requests_from:
        return f"Book the meeting (hold by {uk_date(clock.meeting_target)}) and request advice now"
    if today < clock.requests_from:
        return f"Request advice from {uk_date(clock.requests_from)}"
    if today <= clock.contributions_due:
        return f"Collect advice by {uk_date(clock.contributions_due)}"
    if today <= clock.invites_by:
        return f"Send invitations and papers by {uk_date(clock.invites_by)}"
    if today <= clock.meeting_date:
        return f"Hold the review meeting on {uk_date(clock.meeting_date)}"
    return f"Record the meeting held on {uk_date(clock.meeting_date)} in the last review column"


def after_meeting_text(clock: ReviewClock, facts: ReviewFacts, today: date) -> str:
    """The LA clock after the last meeting: the most pressing late step, else the next pending one, else blank.

    A step the register has no column for is never LATE (the SENDCo could not record it done): it says when it was
    due and which column to add (docs/register.md s5)."""
    after = clock.after_meeting
    if after is None:
        return ""
    # (words, the column that records the step) per step, in the order shown.
    steps = {
        "final_plan_due": ("FINAL PLAN", "Amended plan", after.final_plan_due, "Final amended plan"),
        "decision_due": ("LA DECISION", "LA decision", after.decision_due, "LA decision date"),
        "report_due": ("REPORT", "Report to LA", after.report_due, "Report sent"),
    }
    shown = [f"{late} LATE (due {uk_date(due)})" for step, (late, _, due, _) in steps.items()
             if step in after.late and due is not None]  # fmt: skip
    shown += [f"{words} was due {uk_date(due)}: add a column '{column}' to record it"
              for step, (_, words, due, column) in steps.items() if step in after.due_without_column and due]  # fmt: skip
    if shown:
        return "; ".join(shown)

    def recorded(d: date | None) -> bool:  # a date earlier than the meeting is the previous cycle's (rules s8)
        return d is not None and d >= after.meeting_held

    if not recorded(facts.report_sent) and today <= after.report_due:
        return f"Report to LA due {uk_date(after.report_due)}"
    if not recorded(facts.la_decision) and today <= after.decision_due:
        return f"LA decision due {uk_date(after.decision_due)}"
    if after.final_plan_due is not None and not recorded(facts.final_plan) and today <= after.final_plan_due:
        return f"Amended plan due {uk_date(after.final_plan_due)}"
    return ""


_ROW_PREFIX = re.compile(r"^row \d+: ")


def issues_text(pupil: ReviewedPupil) -> str:
    """Errors first, then warnings, without the "row N:" prefix (the cell is on that row)."""
    return " | ".join(_ROW_PREFIX.sub("", m) for m in (*pupil.errors, *pupil.warnings))


def ar_row(pupil: ReviewedPupil, *, today: date, checked_at: datetime, outstanding: str = "") -> dict[str, ARValue]:
    """Every AR cell for one pupil."""
    clock = pupil.clock
    facts = pupil.record.facts
    row: dict[str, ARValue] = {
        AR_STATUS: ARValue(STATUS_LABELS[pupil.status], fill=STATUS_FILLS[pupil.status]),
        AR_ISSUES: ARValue(issues_text(pupil)),
        AR_CHECKED: ARValue(checked_at.replace(tzinfo=None, microsecond=0), TIMESTAMP_FORMAT),
        AR_OUTSTANDING: ARValue(outstanding),
    }
    if clock is None or facts is None:
        row.update(
            {
                AR_HOLD_BY: ARValue(None),
                AR_WINDOW_ENDS: ARValue(None),
                AR_NEXT_ACTION: ARValue("Fix the row: see AR issues"),
                AR_YEAR9: ARValue(""),
                AR_PHASE: ARValue(""),
                AR_AFTER: ARValue(""),
            }
        )
        return row
    phase = clock.phase_transfer
    row.update(
        {
            AR_HOLD_BY: ARValue(clock.meeting_target, DATE_FORMAT),
            AR_WINDOW_ENDS: ARValue(clock.window_end, DATE_FORMAT),
            AR_NEXT_ACTION: ARValue(next_action(clock, facts, today)),
            AR_YEAR9: ARValue("PfA required" if clock.pfa_required else ""),
            AR_PHASE: ARValue(
                f"{transfer_label(phase.from_year, phase.to_post16)}: plan final by {_short(phase.final_by)}"
                if phase
                else ""
            ),
            AR_AFTER: ARValue(after_meeting_text(clock, facts, today)),
        }
    )
    return row


def _short(d: date) -> str:
    """ "7 Nov 2025": format_date without the weekday."""
    return format_date(d).split(" ", 1)[1]
