"""The LA's termly list (CoP 9.172: the LA sends each school the reviews due next term) checked against the register.

Pure: the list arrives as rows of cell values (connectors/la_list_file.py reads CSV and xlsx as LAs send them); this
module finds its header row, reads each pupil, and says, as warnings, who is on one and not the other and whose dates
disagree. An unknown layout is one sentence (`LAListError`); a bad row is a warning and the rest goes on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from review_rules.dates import format_date
from sheet_schema.cells import CellError, cell_text, parse_date, parse_upn
from sheet_schema.fields import normalise_header

# LAs' own column names, normalised (letters and digits only, lower case).
_ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "childname",
        "childsname",
        "pupilname",
        "pupil",
        "child",
        "fullname",
        "learnername",
        "learner",
        "youngperson",
        "youngpersonsname",
        "cypname",
        "cyp",
        "childyoungperson",
        "childyoungpersonname",
        "studentname",
        "nameofchild",
        "nameofpupil",
        "surnameforename",
        "legalname",
    ),
    "forename": ("forename", "forenames", "firstname", "firstnames", "givenname", "legalforename", "childforename"),
    "surname": ("surname", "lastname", "familyname", "legalsurname", "childsurname"),
    "upn": ("upn", "uniquepupilnumber", "pupilupn", "childupn"),
    "dob": ("dob", "dateofbirth", "birthdate", "childdob"),
    "due": (
        "reviewdue",
        "reviewduedate",
        "annualreviewdue",
        "annualreviewduedate",
        "annualreviewdate",
        "duedate",
        "nextreview",
        "nextreviewdate",
        "nextreviewdue",
        "reviewdate",
        "datedue",
        "ardue",
        "arduedate",
        "reviewby",
        "reviewduby",
        "annualreviewby",
        "ehcpreviewdue",
        "ehcpreviewdate",
        "nextannualreview",
        "nextannualreviewdate",
    ),
}
_HEADER_ROWS = 15


class LAListError(ValueError):
    """The LA's list as a whole cannot be read. `str(err)` is one sentence naming the file and the fix."""


@dataclass(frozen=True)
class LAEntry:
    line: int  # the row number in the LA's file (1-based)
    name: str
    upn: str | None
    dob: date | None
    due: date | None


@dataclass(frozen=True)
class RegisterPupil:
    """What the comparison needs of one active register row (the caller takes it from the computed clock)."""

    row: int
    name: str  # first name and surname initial: warnings are shown and may be logged
    full_name: str  # for matching only
    upn: str | None
    dob: date | None
    meeting_target: date
    window_end: date
    planned_meeting: date | None = None


def _columns(row: Sequence[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        key = normalise_header(cell)
        for field, names in _ALIASES.items():
            if key in names and field not in found:
                found[field] = index
    return found


def find_header(rows: Sequence[Sequence[object]], source: str) -> tuple[int, dict[str, int]]:
    """(0-based header row, field -> column). A name (or forename and surname) and one of UPN, date of birth or
    review date are needed to tell pupils apart."""
    for number, row in enumerate(rows[:_HEADER_ROWS]):
        cols = _columns(row)
        has_name = "name" in cols or ("forename" in cols and "surname" in cols)
        if has_name and ({"upn", "dob", "due"} & cols.keys()):
            return number, cols
    raise LAListError(
        f"{source}: no header row found in the first {_HEADER_ROWS} rows with a name column and a UPN, date of birth "
        'or review due column; check it is the LA\'s list, or rename its headers (e.g. "Name", "UPN", "Review due").'
    )


def _cell(row: Sequence[object], cols: dict[str, int], field: str) -> object:
    index = cols.get(field)
    return row[index] if index is not None and index < len(row) else None


def parse_la_rows(rows: Sequence[Sequence[object]], source: str) -> tuple[list[LAEntry], list[str]]:
    """Every pupil on the list, and a warning for each row that cannot be read (the row is skipped)."""
    header, cols = find_header(rows, source)
    entries: list[LAEntry] = []
    warnings: list[str] = []
    for offset, row in enumerate(rows[header + 1 :], start=header + 2):
        if "name" in cols:
            name = cell_text(_cell(row, cols, "name"))
        else:
            name = f"{cell_text(_cell(row, cols, 'forename'))} {cell_text(_cell(row, cols, 'surname'))}".strip()
        if not name and not any(cell_text(c) for c in row):
            continue
        if not name:
            warnings.append(f"{source} row {offset}: no name; the row is skipped.")
            continue
        upn, _ = parse_upn(_cell(row, cols, "upn"))
        dates: dict[str, date | None] = {}
        for field in ("dob", "due"):
            try:
                dates[field] = parse_date(_cell(row, cols, field))
            except CellError as exc:
                warnings.append(f"{source} row {offset}: the {field_label(field)} {exc}; it is not compared.")
                dates[field] = None
        entries.append(LAEntry(offset, name, upn, dates["dob"], dates["due"]))
    return entries, warnings


def field_label(field: str) -> str:
    return {"dob": "date of birth", "due": "review due date"}.get(field, field)


def name_key(name: str) -> tuple[str, ...]:
    """Names compared as sets of words: "KHAN, Aisha" and "Aisha Khan" match; accents and hyphens do not matter."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    return tuple(sorted(w for w in re.split(r"[^a-z]+", folded) if w))


def _short(name: str) -> str:
    """First name and surname initial, from "Forename Surname", "Surname, Forename" or "SURNAME Forename"."""
    words = [w for w in re.split(r"[\s,]+", name.strip()) if w]
    if ("," in name and len(words) >= 2) or (
        len(words) >= 2 and words[0].isupper() and len(words[0]) > 1 and not words[-1].isupper()
    ):
        words = [*words[1:], words[0]]
    return f"{words[0]} {words[-1][0]}." if len(words) >= 2 else (words[0] if words else "?")


def _match(entry: LAEntry, pupils: Sequence[RegisterPupil]) -> RegisterPupil | None:
    if entry.upn:
        by_upn = [p for p in pupils if p.upn == entry.upn]
        if by_upn:
            return by_upn[0]
    key = name_key(entry.name)
    same_name = [p for p in pupils if name_key(p.full_name) == key]
    if entry.dob is not None:
        exact = [p for p in same_name if p.dob == entry.dob]
        if exact:
            return exact[0]
        same_name = [p for p in same_name if p.dob is None]
    return same_name[0] if len(same_name) == 1 else None


def compare(entries: Sequence[LAEntry], pupils: Sequence[RegisterPupil], source: str) -> list[str]:
    """Warnings: pupils on the LA's list and not on the register, register pupils due in the list's term and not on
    it, and review dates that disagree (the LA's date outside hold-by .. the end of the 12 months, and not the planned
    meeting)."""
    warnings: list[str] = []
    matched: set[int] = set()
    for e in entries:
        p = _match(e, pupils)
        if p is None:
            warnings.append(
                f"{source} row {e.line}: {_short(e.name)} is on the LA's list but not an active pupil on the register; "
                "check the name, UPN and date of birth, or tell the LA."
            )
            continue
        matched.add(p.row)
        # The LA may count to the anniversary (docs/rules.md s1), so the day after the 12 months agrees too.
        if (
            e.due is not None
            and e.due != p.planned_meeting
            and not p.meeting_target <= e.due <= p.window_end + timedelta(days=1)
        ):
            warnings.append(
                f"row {p.row}: {p.name}: the LA's list gives the review as due {format_date(e.due)}, but the "
                f"register gives hold by {format_date(p.meeting_target)} (12 months end "
                f"{format_date(p.window_end)}); check the last review date with the LA."
            )
    dues = [e.due for e in entries if e.due is not None]
    if dues:
        first, last = min(dues), max(dues)
        for p in pupils:
            if p.row not in matched and first <= p.meeting_target <= last:
                warnings.append(
                    f"row {p.row}: {p.name} is due for review by {format_date(p.meeting_target)}, inside the LA list's "
                    f"term ({format_date(first)} to {format_date(last)}), but is not on the LA's list; tell the LA."
                )
    return warnings
