"""Unique pupil numbers (DfE UPN; docs/register.md s4): the format, the check letter, and reading one from a cell."""

from __future__ import annotations

import re
from functools import lru_cache

from .text import PLACEHOLDERS, CellError, clean_text, is_blank, is_placeholder

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
    ABCDEFGHJKLMNPQRTUVWXYZ), the sum mod 23 indexing that alphabet (docs/register.md s4)."""
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


# A UPN is 13 characters; with spaces or dashes typed between groups, a few more. Longer text is not one.
_MAX_UPN_TEXT = 40


def _parse_upn(value: object) -> tuple[str | None, str | None]:
    """(UPN in capitals with spaces removed, warning fragment or None). A UPN with a bad format or check letter is
    still returned (it identifies the row) with a warning; text that cannot be a UPN gives (None, warning); blank or
    "n/a" gives (None, None). A UPN is only ever a warning (docs/register.md s4), so this never raises."""
    if is_blank(value):
        return None, None
    if not isinstance(value, str):
        return None, "is not a UPN (a UPN is 13 characters: a check letter then 12 digits)"
    if len(value) > _MAX_UPN_TEXT:
        return None, "is not a UPN (a UPN is 13 characters: a check letter then 12 digits)"
    text = clean_text(value)
    if is_placeholder(text) or text.casefold() in _UPN_NO_VALUE:
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


__all__ = ["UPN_LETTERS", "parse_upn", "upn_check_letter"]
