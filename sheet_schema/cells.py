"""Reading one cell (register.md section 3): UK dates, spreadsheet serial numbers, year groups, UPNs, decisions, flags.

Cells arrive exactly as an adapter hands them over: str, int, float, bool, datetime, date, time or None (openpyxl with
cached formula values), or Google Sheets unformatted values where dates are serial numbers. Each parser returns a typed
value or raises `CellError` whose message is a fragment that follows the column header, e.g.
`is "next week", which is not a date`; validate.py adds the row, the header and what to do.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from review_rules.model import Decision


class CellError(ValueError):
    """A cell that cannot be read. `str(error)` is a fragment such as `is "next week", which is not a date`."""


# Excel and Google Sheets count days from 30 December 1899 (Excel's 1900 leap-year bug makes the epoch a day early
# for serials from 61 on, i.e. every date after 28 February 1900).
SERIAL_EPOCH = date(1899, 12, 30)
SERIAL_MAX = 2958465  # 31 December 9999, the last day a spreadsheet can show

# Text that means "nothing here yet" rather than a wrong value: an absent date is not an unreadable one.
PLACEHOLDERS = frozenset(
    {"-", "--", "\u2013", "\u2014", "n/a", "na", "n.a.", "tbc", "tba", "tbd", "none", "nil", "pending", "not yet", "?"}
)

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
# ISO first: "2024-03-01" is 1 March, never day-first (register.md section 3).
_ISO = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME, re.ASCII | re.IGNORECASE)
_DAY_FIRST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})" + _TIME, re.ASCII | re.IGNORECASE)
_WORDY = re.compile(
    r"(?:([a-z]+)\.?,?\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?[\s\-/.]+([a-z]+)\.?,?[\s\-/.]+(\d{4}|\d{2})" + _TIME,
    re.ASCII | re.IGNORECASE,
)
_MAX_TEXT = 60  # no date is longer; longer text is rejected before any pattern runs


def is_blank(value: object) -> bool:
    """None, or text with nothing visible in it (spaces, line breaks, stray control characters from a paste)."""
    if value is None:
        return True
    return isinstance(value, str) and not any(ch.isprintable() and not ch.isspace() for ch in value)


def cell_text(value: object) -> str:
    """A cell as a SENDCo would read it: whole numbers without ".0", dates as dd/mm/yyyy, text folded to one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return f"{value:%d/%m/%Y}" if value.year >= 1000 else value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}" if value.year >= 1000 else value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="minutes")
    try:
        text = str(value)
    except Exception:  # an adapter should never hand over such a value; say what it is rather than fail
        text = type(value).__name__
    return " ".join(text.split())


def show_value(value: object, limit: int = 40) -> str:
    """A cell for a message: text in quotes, shortened, with control characters made visible as "?"."""
    text = "".join(ch if ch.isprintable() else "?" for ch in cell_text(value))
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    if isinstance(value, str):
        return f'"{text}"'
    return text


def _clean_text(value: str) -> str:
    return " ".join(value.split())


def _is_placeholder(text: str) -> bool:
    return text.casefold() in PLACEHOLDERS


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
    # Two-digit years are 20yy (register.md section 3): every date on a current register is this century.
    year = int(text)
    return 2000 + year if len(text) == 2 else year


def _date_from_text(value: str) -> date | None:
    text = _clean_text(value)
    if not text:
        return None
    if _is_placeholder(text):
        # register.md s3: a value that is not a date where a date belongs is an error, "TBC" included.
        raise CellError(f"is {show_value(value)}, which is not a date (leave the cell blank until the date is known)")
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
    never used: dateutil's day-first mode reads "2024-03-01" as 3 January (register.md section 3)."""
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

# NC years (review-rules.md section 3): Reception = 0, Nursery = -1. Schools with a two-year nursery call the year
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
    if isinstance(value, int):
        return _year_in_range(value, value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise _not_a(value, "a year group")
        return _year_in_range(value, int(value))
    if not isinstance(value, str):
        raise _not_a(value, "a year group")
    text = _clean_text(value)
    if _is_placeholder(text):
        return None
    if _SIGNED_NUMBER.fullmatch(text):
        return _year_in_range(value, int(float(text)))
    if re.search(r"[A-Za-z].*[-\u2212]\s*\d", text):
        # "Y-1" or "Year -2": the minus would be lost with the punctuation below and read as Year 1 or 2.
        raise _not_a(value, "a year group")
    compact = re.sub(r"[\s._\-:]", "", text.casefold())
    if compact in YEAR_WORDS:
        return YEAR_WORDS[compact]
    match = _YEAR_NUMBER.fullmatch(compact)
    if match:
        return _year_in_range(value, int(match[1]))
    raise _not_a(value, "a year group")


# --- UPNs ----------------------------------------------------------------------------------------------------------

# DfE UPN: a check letter, a 3-digit LA number, a 4-digit establishment number, a 2-digit year, a 3-character serial
# whose last character is a letter in a temporary UPN. I, O and S are never used, so they cannot be misread as 1, 0, 5.
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_SHAPE = re.compile(r"[A-Z0-9]{13}", re.ASCII)
_UPN_FORMAT = re.compile(rf"[{UPN_LETTERS}][0-9]{{11}}[0-9{UPN_LETTERS}]", re.ASCII)
_UPN_NO_VALUE = PLACEHOLDERS | {"unknown", "not known", "awaiting", "tbc.", "no upn", "none yet"}


@lru_cache(maxsize=16384, typed=True)  # typed: 1, 1.0 and True are different cells
def _parse_upn_cached(value: object) -> tuple[str | None, str | None]:
    return _parse_upn(value)


def upn_check_letter(upn: str) -> str:
    """The check letter for a UPN: weights 2..13 on characters 2..13 (a final letter counts by its place in
    ABCDEFGHJKLMNPQRTUVWXYZ), the sum mod 23 indexing that alphabet (register.md section 4)."""
    text = upn.strip().upper()
    if not _UPN_FORMAT.fullmatch(text):
        raise CellError("is not in the DfE UPN format")
    total = 0
    for weight, ch in enumerate(text[1:], start=2):
        total += weight * (int(ch) if ch.isdigit() else UPN_LETTERS.index(ch))
    return UPN_LETTERS[total % 23]


def parse_upn(value: object) -> tuple[str | None, str | None]:
    """As _parse_upn, remembered: a sweep reads each row's UPN three times (checking, planning, writing)."""
    try:
        return _parse_upn_cached(value)
    except TypeError:  # an unhashable value cannot be remembered
        return _parse_upn(value)


def _parse_upn(value: object) -> tuple[str | None, str | None]:
    """(UPN in capitals with spaces removed, warning fragment or None). A UPN with a bad format or check letter is
    still returned (it identifies the row) with a warning; text that cannot be a UPN gives (None, warning); blank or
    "n/a" gives (None, None). A UPN is only ever a warning (register.md section 4), so this never raises."""
    if is_blank(value):
        return None, None
    if not isinstance(value, str):
        return None, "is not a UPN (a UPN is 13 characters: a check letter then 12 digits)"
    text = _clean_text(value)
    if _is_placeholder(text) or text.casefold() in _UPN_NO_VALUE:
        return None, None
    compact = re.sub(r"[\s\-]", "", text).upper()
    if not _UPN_SHAPE.fullmatch(compact):
        return None, "is not a UPN (a UPN is 13 characters: a check letter then 12 digits)"
    if not _UPN_FORMAT.fullmatch(compact):
        return compact, (
            "is not in the DfE UPN format (a check letter, 11 digits, then a digit or letter; I, O and S are never used)"
        )
    if upn_check_letter(compact) != compact[0]:
        return compact, "has a check letter that does not match the rest of the number"
    return compact, None


# --- decisions, roll status, flags ---------------------------------------------------------------------------------

# Words that may sit around the decision without changing it ("To amend", "Maintain plan", "Cease to maintain").
_DECISION_FILLER = frozenset(
    {"plan", "the", "to", "ehcp", "ehc", "la", "decision", "it", "its", "in", "current", "form", "be", "will", "with",
     "and", "of", "outcome", "is", "was", "as", "continue", "continued"}
)  # fmt: skip
_NO_CHANGE = frozenset({"no change", "no changes", "unchanged", "no amendments"})


def parse_decision(value: object) -> Decision | None:
    """The LA's decision after a review (reg 20(10)): maintain, amend or cease; None when blank or not yet known.

    "Cease to maintain" is cease and "Maintain and amend" is amend: those are the statute's own phrases (CFA s44-45)."""
    if is_blank(value):
        return None
    if not isinstance(value, str):
        raise _not_a(value, "an LA decision")
    text = _clean_text(value)
    lowered = text.casefold()
    if _is_placeholder(text) or lowered in {"awaiting", "awaiting decision", "awaiting la decision", "tbc."}:
        # register.md s4: anything but maintain / amend / cease is an error, "Pending" included.
        raise CellError(f"is {show_value(value)}, which is not an LA decision (leave it blank until the LA decides)")
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
    if len(text) > _MAX_TEXT:
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


def parse_on_roll(value: object) -> bool:
    """True while the pupil is on roll. Left / Ceased / Transferred out / Moved / Off roll / No longer on roll mean
    not (register.md section 2), as does "No" or FALSE under an "On roll" header. Anything else, blank included, is
    on roll: a wrongly inactive pupil would silently lose their review, so doubt counts as on roll."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if not isinstance(value, str):
        return True
    text = " ".join(re.findall(r"[a-z0-9]+", value.casefold(), re.ASCII))
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
    if not isinstance(value, str):
        return False
    return _clean_text(value).casefold().rstrip(".") in _YES_WORDS


__all__ = [
    "SERIAL_EPOCH",
    "UPN_LETTERS",
    "CellError",
    "cell_text",
    "is_blank",
    "parse_date",
    "parse_decision",
    "parse_flag",
    "parse_on_roll",
    "parse_upn",
    "parse_year",
    "show_value",
    "upn_check_letter",
]
