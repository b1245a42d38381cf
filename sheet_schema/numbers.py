"""The one reader of numeric cells (issue 10 item 1): counts such as Chasers, and the whole numbers inside other fields.

A spreadsheet cell that "is a number" can arrive as an int, a float (2.0, NaN, infinity), a boolean (a tick box: Python
counts True as 1), or text ("2", " 2 ", "3 chasers", "²"). `str.isdigit` accepts superscript and other Unicode digits
that `int` refuses, which crashed every command on a Chasers cell holding "²". Here each form is read or refused with a
CellError naming what it is; the caller turns that into one sentence naming the row and column (docs/register.md s4).
"""

from __future__ import annotations

import math
import re

from .text import CellError, clean_text, is_blank, show_value

# Longer text is not a count; it is refused before any pattern runs (docs/register.md s3).
MAX_COUNT_TEXT = 24
# A count is small: a few chasers, a year group. Anything beyond this is a typing slip, not a count.
MAX_COUNT = 1_000_000
# ASCII digits only (re.ASCII): "²" or "١" are not counts. An optional ".0" (a number typed as 2.0) and one trailing
# word ("3 chasers", "2x") are allowed; the pattern has no nested repetition, so it runs in linear time.
_COUNT_TEXT = re.compile(r"\+?(\d{1,7})(?:\.0+)?(?:\s*[a-z]+)?", re.ASCII | re.IGNORECASE)


def whole_number(value: object, what: str) -> int:
    """An int, or a float that is a finite whole number, as an int. Booleans, NaN, infinity and fractions raise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CellError(f"is {show_value(value)}, which is not {what}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise CellError(f"is {show_value(value)}, which is not {what}")
    if abs(value) > MAX_COUNT:
        raise CellError(f"is {show_value(value)}, which is too large to be {what}")
    return int(value)


def parse_count(value: object, what: str = "a number") -> int | None:
    """A whole number of things, 0 or more: 2, 2.0, "2", "3 chasers"; None when blank. Anything else raises
    CellError ("²", NaN, infinity, TRUE, -1, 2.5, "two", a 30,000-character text)."""
    if is_blank(value):
        return None
    if isinstance(value, str):
        text = clean_text(value)
        if len(text) > MAX_COUNT_TEXT:
            raise CellError(f"is {show_value(value)}, which is too long to be {what}")
        match = _COUNT_TEXT.fullmatch(text)
        if match is None:
            raise CellError(f"is {show_value(value)}, which is not {what}")
        number = int(match[1])
        if number > MAX_COUNT:
            raise CellError(f"is {show_value(value)}, which is too large to be {what}")
        return number
    number = whole_number(value, what)
    if number < 0:
        raise CellError(f"is {show_value(value)}, which is not {what} (it is below zero)")
    return number


__all__ = ["MAX_COUNT", "MAX_COUNT_TEXT", "parse_count", "whole_number"]
