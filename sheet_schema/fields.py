"""Which register column means which field (register.md sections 1-2).

The SENDCo's register stays as they wrote it, so the product recognises the headers SENDCos actually use. Matching
ignores case, punctuation, spaces and line breaks; a school setting can map any other header to a field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from .ar_columns import AR_PREFIX
from .model import Field

# A setting value that tells the product to leave a column alone even if its header looks like a known field.
IGNORE_WORDS = frozenset({"", "ignore", "ignored", "none", "skip", "-"})

ALIASES: dict[Field, tuple[str, ...]] = {
    Field.NAME: (
        "Name",
        "Pupil",
        "Pupil name",
        "Pupil's name",
        "Name of pupil",
        "Pupil full name",
        "Student",
        "Student name",
        "Student's name",
        "Child",
        "Child's name",
        "Child name",
        "Name of child",
        "Full name",
        "Young person",
        "Young person's name",
        "Child/young person",
        "Child / young person's name",
        "CYP",
        "CYP name",
        "Learner",
        "Learner name",
        "Pupil/student",
        "Surname, forename",
        "Surname, first name",
        "Name (surname, forename)",
        "Legal name",
    ),
    Field.FORENAME: (
        "Forename",
        "Forenames",
        "First name",
        "First names",
        "Given name",
        "Given names",
        "Legal forename",
        "Pupil forename",
        "Pupil first name",
        "Christian name",
    ),
    Field.SURNAME: (
        "Surname",
        "Last name",
        "Family name",
        "Legal surname",
        "Pupil surname",
        "Pupil last name",
    ),
    Field.DOB: (
        "DOB",
        "D.O.B.",
        "Date of birth",
        "Birth date",
        "Birthdate",
        "Birthday",
        "Pupil DOB",
        "Pupil date of birth",
    ),
    Field.PLAN_ISSUED: (
        "EHCP issued",
        "EHCP date",
        "Date of EHCP",
        "Plan issued",
        "Final EHCP date",
        "EHCP start",
        "EHCP start date",
        "EHCP issue date",
        "EHCP issued date",
        "Date EHCP issued",
        "Date EHCP finalised",
        "EHCP finalised",
        "Date of final EHCP",
        "Date final EHCP issued",
        "Date plan issued",
        "Plan issue date",
        "Plan date",
        "Date of plan",
        "EHC plan issued",
        "EHC plan date",
        "Date of EHC plan",
        "Date EHC plan issued",
        "Date of current EHCP",
        "Current EHCP date",
        "Original EHCP date",
        "Date of original EHCP",
        "EHCP dated",
    ),
    Field.LAST_REVIEW: (
        "Last review",
        "Last AR",
        "Last annual review",
        "Date of last review",
        "Previous review meeting",
        "Date of last annual review",
        "Last AR date",
        "Date of last AR",
        "Last annual review date",
        "Last review date",
        "Last review meeting",
        "Date of last review meeting",
        "Last annual review meeting",
        "Previous review",
        "Previous AR",
        "Previous annual review",
        "Previous review date",
        "Annual review date (last)",
        "Annual review date (previous)",
        "Most recent review",
        "Most recent annual review",
        "Date of most recent annual review",
        "Latest annual review",
        "Latest review",
        "Annual review held",
        "Date annual review held",
        "Date AR held",
        "Review held",
        "Last AR meeting",
        "AR held",
        "AR held on",
        "Last AR held",
    ),
    Field.UPN: (
        "UPN",
        "Unique pupil number",
        "UPN number",
        "UPN no",
        "Pupil UPN",
        "DfE UPN",
    ),
    Field.YEAR: (
        "Year",
        "Yr",
        "Year group",
        "Yr group",
        "Year grp",
        "Yr grp",
        "NC year",
        "NC yr",
        "NCY",
        "NC year group",
        "National curriculum year",
        "Curriculum year",
        "Current year",
        "Current year group",
        "Year (NC)",
    ),
    Field.PLANNED_MEETING: (
        "Next review meeting",
        "Planned review",
        "Review booked",
        "Next AR date",
        "Next AR",
        "AR booked",
        "AR booked for",
        "AR meeting booked",
        "AR planned",
        "Annual review date (next)",
        "Next annual review",
        "Next annual review date",
        "Next review",
        "Next review date",
        "Date of next review",
        "Date of next annual review",
        "Date of next AR",
        "Next review meeting date",
        "Date of next review meeting",
        "Next AR meeting",
        "Planned review date",
        "Planned review meeting",
        "Planned annual review",
        "Planned AR",
        "Planned meeting",
        "Annual review booked",
        "Review meeting booked",
        "Booked review date",
        "Date booked",
        "Scheduled review",
        "Review scheduled",
        "Upcoming review",
        "Upcoming annual review",
    ),
    Field.REPORT_SENT: (
        "Report sent",
        "Paperwork sent to LA",
        "AR report sent",
        "Report sent to LA",
        "Date report sent",
        "Date report sent to LA",
        "Review report sent",
        "Annual review report sent",
        "Paperwork sent",
        "Date paperwork sent",
        "Date sent to LA",
        "Sent to LA",
        "Report submitted",
        "AR paperwork sent",
    ),
    Field.LA_DECISION: (
        "LA decision date",
        "Decision date",
        "Date of LA decision",
        "Date of decision",
        "Date LA decision received",
        "LA decision received",
        "Decision letter date",
        "Date of decision letter",
        "Date decision received",
        "LA response date",
    ),
    Field.DECISION: (
        "Decision",
        "Outcome",
        "LA outcome",
        "LA decision",
        "Review outcome",
        "Annual review outcome",
        "Outcome of review",
        "Outcome of annual review",
        "LA decision (maintain/amend/cease)",
        "Decision (maintain/amend/cease)",
    ),
    Field.AMENDMENT_NOTICE: (
        "Proposed amendments",
        "Draft amended plan",
        "Amendment notice",
        "Proposed amendments sent",
        "Proposed amendments issued",
        "Date of proposed amendments",
        "Date proposed amendments issued",
        "Amendment notice date",
        "Amendment notice issued",
        "Draft amended plan issued",
        "Draft plan issued",
        "Draft EHCP issued",
        "Proposed amended plan",
    ),
    Field.FINAL_PLAN: (
        "Final amended plan",
        "Amended plan issued",
        "Final amended plan issued",
        "Final amended plan date",
        "Date final amended plan issued",
        "Date amended plan issued",
        "Amended EHCP issued",
        "Final amended EHCP",
        "Amended final plan",
    ),
    Field.TRANSFER_DATE: (
        "Transfer date",
        "Next phase date",
        "Phase transfer date",
        "Phase transfer",
        "Date of transfer",
        "Transition date",
        "Next phase transfer",
        "Date of phase transfer",
    ),
    Field.LA: (
        "LA",
        "Local authority",
        "Home LA",
        "Home local authority",
        "Council",
        "Responsible LA",
        "Responsible local authority",
        "Maintaining LA",
        "Maintaining local authority",
        "LA name",
        "Local authority name",
    ),
    Field.ON_ROLL: (
        "Status",
        "On roll",
        "Roll status",
        "Pupil status",
        "Still on roll",
        "Enrolment status",
    ),
    Field.LOOKED_AFTER: (
        "LAC",
        "CLA",
        "Looked after",
        "Looked after child",
        "Child looked after",
        "LAC/CLA",
        "CLA/LAC",
        "Looked-after status",
        "LAC status",
        "Child in care",
        "CiC",
    ),
    Field.PARENT_EMAIL: (
        "Parent email",
        "Parent/carer email",
        "Parent/carer email address",
        "Parent email address",
        "Parents' email",
        "Parent/guardian email",
        "Carer email",
        "Guardian email",
        "Email (parent)",
        "Email (parent/carer)",
        "Email address (parent/carer)",
        "Parent e-mail",
        "Family email",
        "Home email",
        "Contact email",
    ),
}

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
}

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")


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


def fold_header(text: object) -> str:
    """The header as written, stripped, with line breaks and runs of spaces folded to one space (for messages)."""
    if text is None:
        return ""
    return " ".join(str(text).split())


def is_product_header(text: object) -> bool:
    """True for a header that starts with "AR ": the product's own columns (register.md section 5)."""
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
    except the register's own alias "AR report sent" (register.md section 2) or a header the settings map."""
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
]
