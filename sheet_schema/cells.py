"""Reading one cell (docs/register.md s3): UK dates, spreadsheet serial numbers, year groups, UPNs, decisions, flags.

Cells arrive exactly as an adapter hands them over: str, int, float, bool, datetime, date, time or None (openpyxl with
cached formula values), or Google Sheets unformatted values where dates are serial numbers. Each parser returns a typed
value or raises `CellError` whose message is a fragment that follows the column header, e.g.
`is "next week", which is not a date`; validate.py adds the row, the header and what to do.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta

from review_rules.model import Decision

from .numbers import whole_number
from .text import PLACEHOLDERS, CellError, Placeholder, cell_text, clean_text, is_blank, is_placeholder, show_value
from .upn import UPN_LETTERS, parse_upn, upn_check_letter

# Excel and Google Sheets count days from 30 December 1899 (Excel's 1900 leap-year bug makes the epoch a day early
# for serials from 61 on, i.e. every date after 28 February 1900).
SERIAL_EPOCH = date(1899, 12, 30)
SERIAL_MAX = 2958465  # 31 December 9999, the last day a spreadsheet can show

# What a formula shows when it fails; openpyxl hands these over as text.
SPREADSHEET_ERRORS = frozenset(
    {
        "#n/a",
        "#value!",
        "#ref!",
        "#div/0!",
        "#num!",
        "#name?",
        "#null!",
        "#error!",
        "#spill!",
        "#calc!",
        "#getting_data",
    }
)

MONTHS: dict[str, int] = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "sept": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
MONTHS.update({name[:3]: number for name, number in list(MONTHS.items())})

WEEKDAYS: dict[str, int] = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "weds": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}

_TIME = r"(?:(?:T|\s+)\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?(?:\s*[ap]m)?(?:Z|[+-]\d{2}:?\d{2})?)?"
# ISO first: "2024-03-01" is 1 March, never day-first (docs/register.md s3).
_ISO = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME, re.ASCII | re.IGNORECASE)
_DAY_FIRST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})" + _TIME, re.ASCII | re.IGNORECASE)
_WORDY = re.compile(
    r"(?:([a-z]+)\.?,?\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?[\s\-/.]+([a-z]+)\.?,?[\s\-/.]+(\d{4}|\d{2})" + _TIME,
    re.ASCII | re.IGNORECASE,
)
_MAX_TEXT = 60  # no date is longer; longer text is rejected before any pattern runs


def _not_a(value: object, what: str) -> CellError:
    return CellError(f"is {show_value(value)}, which is not {what}")


def _make_date(value: object, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        if 12 < month <= 31 and 1 <= day <= 12:
            # "04/13/2025" is month-first: a US habit, or a date pasted from another system.
            raise CellError(
                f"is {show_value(value)}, which is not a real date (dates are read day first, as dd/mm/yyyy)"
            ) from None
        raise CellError(f"is {show_value(value)}, which is not a real date") from None


def _two_digit_year(text: str) -> int:
    # Two-digit years are 20yy (docs/register.md s3): every date on a current register is this century.
    year = int(text)
    return 2000 + year if len(text) == 2 else year


def _date_from_text(value: str) -> date | None:
    text = clean_text(value)
    if not text:
        return None
    if is_placeholder(text):
        # docs/register.md s3: "TBC" is no date yet, not a mistake; the caller decides (a warning, or an error for the
        # date of birth, which the clock cannot do without).
        raise Placeholder(f"is {show_value(value)}, which is not a date")
    if text.casefold() in SPREADSHEET_ERRORS:
        raise CellError(f"shows the spreadsheet error {text.upper()}, not a date")
    if text.startswith("="):
        raise CellError(f"holds a formula ({show_value(text, 25)}) whose result the product cannot read")
    if len(text) > _MAX_TEXT:
        raise _not_a(value, "a date")
    match = _ISO.fullmatch(text)
    if match:
        return _make_date(value, int(match[1]), int(match[3]), int(match[4]))
    match = _DAY_FIRST.fullmatch(text)
    if match:
        return _make_date(value, _two_digit_year(match[4]), int(match[3]), int(match[1]))
    match = _WORDY.fullmatch(text)
    if match:
        weekday, day, month_name, year_text = match[1], match[2], match[3], match[4]
        month = MONTHS.get(month_name.casefold())
        if month is None:
            raise _not_a(value, "a date")
        if weekday is not None and weekday.casefold() not in WEEKDAYS:
            raise _not_a(value, "a date")
        result = _make_date(value, _two_digit_year(year_text), month, int(day))
        if weekday is not None and WEEKDAYS[weekday.casefold()] != result.weekday():
            # A weekday that disagrees with the date means one of them was mistyped.
            raise CellError(
                f"is {show_value(value)}, but {result.day} {result:%B} {result.year} is a {result:%A}, "
                "so the day or the date is mistyped"
            )
        return result
    raise _not_a(value, "a date")


def parse_date(value: object) -> date | None:
    """A date cell, a spreadsheet serial number or UK day-first text as a date; None when blank.

    Text formats: d/m/yyyy, d/m/yy, d-m-yyyy, d.m.yyyy (and the other separators), ISO yyyy-mm-dd (with or without a
    time), "3 April 2025", "3rd Apr 2025", "3 Apr 25", "3-Apr-2025", "Thu 3 Apr 2025". A general day-first parser is
    never used: dateutil's day-first mode reads "2024-03-01" as 3 January (docs/register.md s3)."""
    if value is None:
        return None
    if isinstance(value, bool):
        # A tick box is not a date, though Python counts True as 1.
        raise _not_a(value, "a date")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, time):
        raise CellError(f"is {show_value(value)}, a time of day rather than a date")
    if isinstance(value, int | float):
        if not (isinstance(value, int) or math.isfinite(value)) or not 1 <= value < SERIAL_MAX + 1:
            raise _not_a(value, "a date")
        # A serial's fraction is the time of day, which a review deadline does not need.
        return SERIAL_EPOCH + timedelta(days=math.floor(value))
    if isinstance(value, str):
        return None if is_blank(value) else _date_from_text(value)
    raise _not_a(value, "a date")


# --- year groups ---------------------------------------------------------------------------------------------------

# NC years (docs/rules.md s3): Reception = 0, Nursery = -1. Schools with a two-year nursery call the year
# before Reception "N2" (-1) and the one before that "N1" (-2); FS1/FS2 are the Foundation Stage names for Nursery and
# Reception. Year 14 is the last year a school sixth form may teach.
YEAR_WORDS: dict[str, int] = {
    "r": 0,
    "rec": 0,
    "reception": 0,
    "yr": 0,
    "yearr": 0,
    "yearreception": 0,
    "fs2": 0,
    "f2": 0,
    "n": -1,
    "nur": -1,
    "nurs": -1,
    "nursery": -1,
    "n2": -1,
    "fs1": -1,
    "f1": -1,
    "n1": -2,
}
YEAR_MIN, YEAR_MAX = -2, 14
_YEAR_NUMBER = re.compile(
    r"(?:y|yr|yrs|year|years|yeargroup|yrgroup|ncy|ncyear|nc|ncyr|yeargrp|yrgrp)?(\d{1,2})", re.ASCII
)
_SIGNED_NUMBER = re.compile(r"[+-]?\d{1,3}(?:\.0+)?", re.ASCII)
_LETTER = re.compile(r"[A-Za-z]")
_MINUS_DIGIT = re.compile(r"[-\u2212]\s*\d")
# A year group is a few characters ("Year 10", "Reception", "NC Year 9"); longer text is not one and is refused before
# any pattern runs: a 32,767-character Year cell made the old pattern quadratic and 30 such rows hung the sweep.
MAX_YEAR_TEXT = 20


def _year_in_range(value: object, year: int) -> int:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise _not_a(value, "a year group")
    return year


def parse_year(value: object) -> int | None:
    """A year group as an NC year: 9, 9.0, "9", "Y9", "Yr 9", "Year 9" -> 9; "R", "Rec", "Reception" -> 0;
    "N", "Nursery", "N2" -> -1; "N1" -> -2; None when blank. Years run from N1 (-2) to Year 14."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise _not_a(value, "a year group")
    if isinstance(value, int | float):
        return _year_in_range(value, whole_number(value, "a year group"))
    if not isinstance(value, str):
        raise _not_a(value, "a year group")
    text = clean_text(value)
    if len(text) > MAX_YEAR_TEXT:
        raise CellError(f"is {show_value(value)}, which is too long to be a year group")
    if is_placeholder(text):
        return None
    if _SIGNED_NUMBER.fullmatch(text):
        return _year_in_range(value, int(float(text)))
    letter = _LETTER.search(text)
    if letter is not None and _MINUS_DIGIT.search(text, letter.end()):
        # "Y-1" or "Year -2": the minus would be lost with the punctuation below and read as Year 1 or 2.
        raise _not_a(value, "a year group")
    compact = re.sub(r"[\s._\-:]", "", text.casefold())
    if compact in YEAR_WORDS:
        return YEAR_WORDS[compact]
    match = _YEAR_NUMBER.fullmatch(compact)
    if match:
        return _year_in_range(value, int(match[1]))
    raise _not_a(value, "a year group")


# --- decisions, roll status, flags ---------------------------------------------------------------------------------

# Words that may sit around the decision without changing it ("To amend", "Maintain plan", "Cease to maintain").
_DECISION_FILLER = frozenset(
    {"plan", "the", "to", "ehcp", "ehc", "la", "decision", "it", "its", "in", "current", "form", "be", "will", "with",
     "and", "of", "outcome", "is", "was", "as", "continue", "continued"}
)  # fmt: skip
_DECISION_WAITING = frozenset(
    {"awaiting decision", "awaiting la decision", "awaiting the la", "awaiting la", "not yet decided", "undecided"}
)
_NO_CHANGE = frozenset({"no change", "no changes", "unchanged", "no amendments"})


def parse_decision(value: object) -> Decision | None:
    """The LA's decision after a review (reg 20(10)): maintain, amend or cease; None when blank or not yet known.

    "Cease to maintain" is cease and "Maintain and amend" is amend: those are the statute's own phrases (CFA s44-45)."""
    if is_blank(value):
        return None
    if not isinstance(value, str):
        raise _not_a(value, "an LA decision")
    text = clean_text(value)
    if len(text) > _MAX_TEXT:
        raise _not_a(value, "an LA decision")
    lowered = text.casefold()
    if is_placeholder(text) or lowered.rstrip(".") in _DECISION_WAITING:
        # docs/register.md s3: "Pending" or "TBC" is no decision yet (a warning), not an unknown decision (an error).
        raise Placeholder(f"is {show_value(value)}, which is not an LA decision")
    words = re.findall(r"[a-z]+", lowered, re.ASCII)
    if " ".join(words) in _NO_CHANGE:
        return Decision.MAINTAIN
    found: set[Decision] = set()
    for word in words:
        if word.startswith("maintain"):
            found.add(Decision.MAINTAIN)
        elif word.startswith("amend"):
            found.add(Decision.AMEND)
        elif word in {"cease", "ceased", "ceasing", "cessation"}:
            found.add(Decision.CEASE)
        elif word not in _DECISION_FILLER:
            raise _not_a(value, "an LA decision")
    if Decision.CEASE in found:
        return Decision.CEASE
    if Decision.AMEND in found:
        return Decision.AMEND
    if Decision.MAINTAIN in found:
        return Decision.MAINTAIN
    if words and set(words) <= {"continue", "continued"}:
        return Decision.MAINTAIN
    raise _not_a(value, "an LA decision")


_OFF_ROLL_PHRASES = (
    "left",
    "ceased",
    "cease",
    "transferred out",
    "moved",
    "off roll",
    "no longer on roll",
    "not on roll",
    "withdrawn",
    "deceased",
    "leaver",
    "no longer at",
)
_NO_WORDS = frozenset({"no", "n", "false", "0", "inactive"})
_MAX_ROLL_TEXT = 200


def parse_on_roll(value: object) -> bool:
    """True while the pupil is on roll. Left / Ceased / Transferred out / Moved / Off roll / No longer on roll mean
    not (docs/register.md s2), as does "No" or FALSE under an "On roll" header. Anything else, blank included, is
    on roll: a wrongly inactive pupil would silently lose their review, so doubt counts as on roll."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if not isinstance(value, str):
        return True
    # The phrases sit at the start of what SENDCos type ("Left 3/24 to ..."): a long note is read from its start only.
    text = " ".join(re.findall(r"[a-z0-9]+", value[:_MAX_ROLL_TEXT].casefold(), re.ASCII))
    if text in _NO_WORDS:
        return False
    padded = f" {text} "
    return not any(f" {phrase} " in padded for phrase in _OFF_ROLL_PHRASES)


_YES_WORDS = frozenset({"y", "yes", "true", "1", "x", "\u2713", "\u2714", "\u2611", "lac", "cla", "looked after"})


def parse_flag(value: object) -> bool:
    """A yes/no column such as "Looked after": Y, Yes, TRUE, 1, x or a tick mean yes; anything else means no."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        return False  # the longest yes word is a few letters: a long note is not a yes
    return clean_text(value).casefold().rstrip(".") in _YES_WORDS


# --- email addresses -----------------------------------------------------------------------------------------------

# One address: something@domain.tld, no spaces, no second "@", a dot in the domain and a top-level part of letters.
# Deliberately simple (RFC 5322 allows far more): it catches what SENDCos actually type wrongly ("jsmith@example",
# "N/A", two addresses in one cell, a name in front of the address), and every school address passes.
_EMAIL = re.compile(r"[^@\s<>,;:\"()\[\]]+@[^@\s<>,;:\"()\[\]]+\.[A-Za-z]{2,63}")


# An address is at most 254 characters (RFC 5321 4.5.3.1.3): longer text is refused before the pattern runs.
MAX_EMAIL_TEXT = 254


def is_email_address(text: object) -> bool:
    """True for one plausible email address ("parent@example.org"); False for "jsmith@example", "N/A", blank."""
    if not isinstance(text, str) or len(text) > MAX_EMAIL_TEXT + 100:
        return False
    text = text.strip()
    return len(text) <= MAX_EMAIL_TEXT and _EMAIL.fullmatch(text) is not None and ".." not in text


def parse_email(value: object) -> str | None:
    """One email address from a cell (surrounding spaces removed); None when blank. Anything else, placeholders such
    as "N/A" included, raises CellError: an address nobody can be emailed at must be named, never silently dropped
    (docs/register.md s4). The one check used for the register's parent email and the Contributions tab's emails."""
    if is_blank(value):
        return None
    text = cell_text(value).strip()
    if is_email_address(text):
        return text
    if text.count("@") > 1 or any(sep in text for sep in ",;"):
        raise CellError(f"is {show_value(value)}, which is not one email address")
    raise CellError(f"is {show_value(value)}, which is not an email address")


__all__ = [
    "PLACEHOLDERS",
    "SERIAL_EPOCH",
    "UPN_LETTERS",
    "CellError",
    "Placeholder",
    "cell_text",
    "is_blank",
    "is_email_address",
    "is_placeholder",
    "parse_date",
    "parse_decision",
    "parse_email",
    "parse_flag",
    "parse_on_roll",
    "parse_upn",
    "parse_year",
    "show_value",
    "upn_check_letter",
]
