"""Which register column means which field (docs/register.md s1-2).

The SENDCo's register stays as they wrote it, so the product recognises the headers SENDCos actually use. Matching
ignores case, punctuation, spaces and line breaks; a school setting can map any other header to a field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from .aliases import ALIASES
from .ar_columns import AR_PREFIX, is_own_header, near_miss, own_header_key
from .model import Field

# A setting value that tells the product to leave a column alone even if its header looks like a known field.
IGNORE_WORDS = frozenset({"", "ignore", "ignored", "none", "skip", "-"})

# A column's English name for messages when the register has no such column at all.
FIELD_LABELS: dict[Field, str] = {
    Field.NAME: "Name",
    Field.FORENAME: "Forename",
    Field.SURNAME: "Surname",
    Field.DOB: "Date of birth",
    Field.PLAN_ISSUED: "EHCP issued",
    Field.LAST_REVIEW: "Last review",
    Field.UPN: "UPN",
    Field.YEAR: "Year",
    Field.PLANNED_MEETING: "Next review meeting",
    Field.REPORT_SENT: "Report sent",
    Field.LA_DECISION: "LA decision date",
    Field.DECISION: "Decision",
    Field.AMENDMENT_NOTICE: "Proposed amendments",
    Field.FINAL_PLAN: "Final amended plan",
    Field.TRANSFER_DATE: "Transfer date",
    Field.LA: "LA",
    Field.ON_ROLL: "Status",
    Field.LOOKED_AFTER: "Looked after",
    Field.PARENT_EMAIL: "Parent email",
    Field.LA_REF: "LA ref",
    Field.YOUNG_PERSON_EMAIL: "Young person email",
}

# Innermost brackets only ([^()] not [^)]): scans from two "(" never overlap, so a header of 30,000 "(" is linear.
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def normalise_header(text: object) -> str:
    """The header reduced to lower-case letters and digits: "D.O.B." -> "dob", "Date of\\nbirth" -> "dateofbirth".

    Everything that is not a letter or digit goes, so punctuation, spaces and line breaks never stop a match."""
    if text is None:
        return ""
    return _normalise_text(str(text))


@lru_cache(maxsize=4096)
def _normalise_text(text: str) -> str:
    # Remembered: a write matches the same few headers once per cell, 20,000 times for 2,000 pupils.
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def plan_header_key(text: object) -> str:
    """How a write plan that mixes the SENDCo's columns and the product's finds them: the SENDCo's as the parser reads
    them ("E-mail" is Email), the product's own `AR ...` headers only exactly, trimmed, so a look-alike of theirs
    ("A.R. invited for") is never written (docs/register.md s5)."""
    if is_own_header(text) or near_miss(text) is not None:
        return "\x00" + own_header_key(text)  # never equal to a normalised header (letters and digits only)
    return normalise_header(text)


def fold_header(text: object) -> str:
    """The header as written, stripped, with line breaks and runs of spaces folded to one space (for messages)."""
    if text is None:
        return ""
    return " ".join(str(text).split())


def is_product_header(text: object) -> bool:
    """True for a header that starts with "AR ": the product's own columns (docs/register.md s5)."""
    return fold_header(text).casefold().startswith(AR_PREFIX.casefold())


_ALIAS_INDEX: dict[str, Field] = {}
for _field, _aliases in ALIASES.items():
    for _alias in (*_aliases, FIELD_LABELS[_field]):
        _key = normalise_header(_alias)
        if _ALIAS_INDEX.setdefault(_key, _field) is not _field:  # pragma: no cover - guards the table above
            raise ValueError(f"alias {_alias!r} means two fields")
del _field, _aliases, _alias, _key


def _field_from_setting(value: object) -> Field | str | None:
    """A setting's field name as a Field, "ignore" when the setting says to leave the column alone, else None."""
    text = fold_header(value).casefold()
    if text in IGNORE_WORDS:
        return "ignore"
    token = re.sub(r"[\s\-]+", "_", text)
    for candidate in Field:
        if candidate.value == token or candidate.name.casefold() == token:
            return candidate
    # A setting may also name the field in words ("Date of birth"), which the alias table already knows.
    return _alias_field(value)


def _alias_field(text: object) -> Field | None:
    key = normalise_header(text)
    if not key:
        return None
    found = _ALIAS_INDEX.get(key)
    if found is None:
        # "DOB (dd/mm/yyyy)", "Year group [2025/26]": a bracketed note does not change what the column means.
        stripped = normalise_header(_BRACKETED.sub(" ", str(text)))
        if stripped and stripped != key:
            found = _ALIAS_INDEX.get(stripped)
    return found


def field_for_header(text: object, mapping: Mapping[str, str] | None = None) -> Field | None:
    """The field a header means, or None. The school's settings (header text -> field name) win over the aliases; a
    setting of "ignore" leaves a column alone. Headers starting with "AR " are the product's own and mean no field,
    except the register's own alias "AR report sent" (docs/register.md s2) or a header the settings map."""
    key = normalise_header(text)
    if not key:
        return None
    if mapping:
        for header, field_name in mapping.items():
            if normalise_header(header) == key:
                chosen = _field_from_setting(field_name)
                if chosen == "ignore":
                    return None
                if isinstance(chosen, Field):
                    return chosen
    found = _alias_field(text)
    if found is None:
        return None
    # A header that starts with "AR " is still the SENDCo's when it is one of the aliases ("AR booked", "AR held",
    # "AR report sent"): SENDCos abbreviate annual review to AR. Only the product's own headers never mean a field.
    if is_product_header(text) and not _is_explicit_alias(text, found):
        return None
    return found


def _is_explicit_alias(text: object, found: Field) -> bool:
    key = normalise_header(text)
    return any(normalise_header(alias) == key for alias in ALIASES[found])


__all__ = [
    "ALIASES",
    "AR_PREFIX",
    "FIELD_LABELS",
    "field_for_header",
    "fold_header",
    "is_product_header",
    "normalise_header",
    "plan_header_key",
]
