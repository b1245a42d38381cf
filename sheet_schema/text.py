"""Cell text shared by every parser (docs/register.md s3): blanks, placeholders, how a value is shown in a message.

Split from cells.py so the UPN and date parsers can share it without importing each other."""

from __future__ import annotations

import math
from datetime import date, datetime, time


class CellError(ValueError):
    """A cell that cannot be read. `str(error)` is a fragment such as `is "next week", which is not a date`."""


class Placeholder(CellError):
    """A cell holding a placeholder ("TBC", "n/a", "pending"): no value yet. A warning where the column may be blank,
    an error where it may not (the date of birth)."""


# Text that means "nothing here yet" rather than a wrong value (docs/register.md s3): in a date column other than the
# date of birth, or in the decision column, it reads as a blank cell with a warning. Matched in any case, with
# surrounding spaces and one trailing full stop ignored ("TBC." = "tbc").
PLACEHOLDERS = frozenset(
    {"tbc", "tba", "tbd", "to be confirmed", "to be arranged", "to be decided", "?", "??", "-", "--", "\u2013",
     "\u2014", "n/a", "na", "n.a", "pending", "awaiting", "not yet", "none", "nil"}
)  # fmt: skip


def is_blank(value: object) -> bool:
    """None, or text with nothing visible in it (spaces, line breaks, stray control characters from a paste)."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    stripped = value.strip()
    if not stripped:
        return True
    if stripped.isprintable():  # the usual cell, decided without a loop over its characters (issue 16)
        return False
    return not any(ch.isprintable() and not ch.isspace() for ch in stripped)


def cell_text(value: object) -> str:
    """A cell as a SENDCo would read it: whole numbers without ".0", dates as dd/mm/yyyy, text folded to one line."""
    if value is None:
        return ""
    if type(value) is str:  # most cells: straight to the folding at the end, past the other types' checks
        return " ".join(value.split())
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


def clean_text(value: str) -> str:
    return " ".join(value.split())


def is_placeholder(value: object) -> bool:
    """Text such as "TBC", "to be confirmed", "n/a", "?" or "Pending." that means no value yet."""
    if not isinstance(value, str):
        return False
    text = clean_text(value).casefold()
    if text.endswith(".") and len(text) > 1:
        text = text[:-1].rstrip()
    return text in PLACEHOLDERS
