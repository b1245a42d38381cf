"""The Contributions tab (docs/register.md s6): one row per piece of advice requested for a review.

The SENDCo owns every cell; the product fills Requested, Chasers and Last chased as it emails, and Received when a
contributor confirms, and only ever a blank cell (or a count going up). One product column, "AR invited for", records
the meeting date each contributor was last invited to, so a changed date is noticed and a "rescheduled" invitation
goes out. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from review_rules.model import ReviewClock, Status

from .ar_columns import AR_INVITED_FOR
from .cells import CellError, cell_text, is_blank, parse_date, show_value
from .fields import plan_header_key
from .model import ReviewedPupil
from .numbers import parse_count
from .pupil_index import PupilIndex, looks_like_upn
from .roles import PARENT, ROLES, canonical_role

CONTRIBUTIONS_SHEET = "Contributions"

PUPIL = "Pupil"
ROLE = "Role"
NAME = "Name"
EMAIL = "Email"
REQUESTED = "Requested"
RECEIVED = "Received"
CHASERS = "Chasers"
LAST_CHASED = "Last chased"
NOTES = "Notes"
# The product's own column, appended after the SENDCo's: the meeting date the contributor was last invited to.
# Kept out of Notes on purpose: Notes is the SENDCo's free text and the product never edits what they typed.
INVITED_FOR = AR_INVITED_FOR

CONTRIBUTION_HEADERS: tuple[str, ...] = (PUPIL, ROLE, NAME, EMAIL, REQUESTED, RECEIVED, CHASERS, LAST_CHASED, NOTES)
DATE_HEADERS: tuple[str, ...] = (REQUESTED, RECEIVED, LAST_CHASED, INVITED_FOR)

# Text a SENDCo types in Received to say "it came" without a date.
_RECEIVED_WORDS = frozenset({"y", "yes", "received", "done", "x", "\u2713", "\u2714", "\u2611", "true", "in"})
# An address is at most 254 characters (RFC 5321 4.5.3.1.3); longer text is not one, and is refused before any check.
_EMAIL_MAX = 254
_NOT_IN_ADDRESS = re.compile(r"[@\s<>,;\"]")


def _is_address(text: str) -> bool:
    """local@domain with a dot inside the domain, no space or separator: checked by hand, not by a backtracking
    pattern (this one was quadratic on a long domain with many dots)."""
    local, at, domain = text.partition("@")
    if not at or len(text) > _EMAIL_MAX or not local or not domain:
        return False
    if _NOT_IN_ADDRESS.search(local) or _NOT_IN_ADDRESS.search(domain):
        return False
    return "." in domain[1:-1]


_HEADER_SEARCH_ROWS = 15


@dataclass(frozen=True)
class Contribution:
    """One row of the Contributions tab. `row` is the sheet's 1-based row number; 0 for a row not yet on the sheet."""

    row: int
    pupil_ref: str  # UPN or name, as written
    role: str  # one of ROLES where recognised, else as written
    name: str
    email: str | None  # None when blank or not an email address
    requested: date | None
    received: date | None
    chasers: int
    last_chased: date | None
    notes: str
    # The SENDCo wrote "yes" or a tick in Received rather than a date: received, date unknown.
    received_marked: bool = False
    invited_for: date | None = None  # AR invited for

    @property
    def is_received(self) -> bool:
        return self.received is not None or self.received_marked

    @cached_property
    def key(self) -> tuple[str, str, str]:
        """What identifies this row wherever the SENDCo moves it: pupil, role and email (not the row number). Worked
        out once per row: a sweep asks for it several times per row (issue 16)."""
        return contribution_key(self.pupil_ref, self.role, self.email or "")


def _fold(text: object) -> str:
    return " ".join(cell_text(text).split()).casefold()


def contribution_key(pupil_ref: object, role: object, email: object) -> tuple[str, str, str]:
    """Case- and space-insensitive (pupil, role, email): the row key used to write back and to sign links."""
    role_text = cell_text(role)
    canonical = canonical_role(role_text) or role_text
    return (_fold(pupil_ref), _fold(canonical), _fold(email))


def contributions_header_key(text: object) -> str:
    """How a Contributions header cell matches: the SENDCo's columns as the parser reads them ("E-mail" is Email), the
    product's own "AR invited for" only exactly (trimmed), so a look-alike of theirs is never written."""
    return plan_header_key(text)


def find_contributions_header(rows: Sequence[Sequence[object]]) -> tuple[int, dict[str, int]] | None:
    """The 1-based header row and header -> 0-based column, searching the first 15 rows (titles may sit above)."""
    wanted = {contributions_header_key(h): h for h in (*CONTRIBUTION_HEADERS, INVITED_FOR)}
    for index, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for col, value in enumerate(row):
            header = wanted.get(contributions_header_key(value))
            if header is not None and header not in columns:
                columns[header] = col
        # Pupil and Email are what the product cannot work without; Role makes it unmistakably this table.
        if {PUPIL, ROLE, EMAIL} <= columns.keys():
            return index + 1, columns
    return None


def key_of_row(values: Sequence[object], columns: dict[str, int]) -> tuple[str, str, str] | None:
    """The row key of one data row under a header found by `find_contributions_header`; None for a blank row."""

    def at(header: str) -> object:
        col = columns.get(header)
        return values[col] if col is not None and col < len(values) else None

    if is_blank(at(PUPIL)):
        return None
    return contribution_key(at(PUPIL), at(ROLE), at(EMAIL))


def _chasers(value: object) -> int:
    """The Chasers cell through the one numeric reader (sheet_schema.numbers): blank is 0."""
    return parse_count(value, "a number of chasers") or 0


def parse_contributions(
    rows: Sequence[Sequence[object]], formulas: Collection[tuple[int, int]] = frozenset()
) -> tuple[list[Contribution], list[str]]:
    """Every contribution on the tab, and messages for the SENDCo. A bad row is reported and left out (so it gets no
    emails until fixed); it never stops the others. A tab with no header row yields one message. `formulas`: the
    tab's formula cells, 0-based (row, column) (connectors.base.SheetData)."""
    from .contribution_formulas import formula_problem  # it reads this module's headers: imported when used

    messages: list[str] = []
    found = find_contributions_header(rows)
    if found is None:
        if any(not is_blank(v) for row in rows for v in row):
            messages.append(
                f'The "{CONTRIBUTIONS_SHEET}" sheet has no header row with Pupil, Role and Email in its first '
                f"{_HEADER_SEARCH_ROWS} rows; put these headers in one row: {', '.join(CONTRIBUTION_HEADERS)}."
            )
        return [], messages
    header_row, columns = found
    out: list[Contribution] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index in range(header_row, len(rows)):
        values = rows[index]
        row = index + 1

        def at(header: str, values: Sequence[object] = values) -> object:
            col = columns.get(header)
            return values[col] if col is not None and col < len(values) else None

        if all(is_blank(at(h)) for h in (*CONTRIBUTION_HEADERS, INVITED_FOR)):
            continue
        where = f'{CONTRIBUTIONS_SHEET} row {row}: "{{}}"'
        pupil_ref = cell_text(at(PUPIL)).strip()
        if not pupil_ref:
            messages.append(
                f'{CONTRIBUTIONS_SHEET} row {row}: "{PUPIL}" is blank; write the pupil\'s UPN or name, '
                "or clear the row."
            )
            continue
        problems: list[str] = []
        dates: dict[str, date | None] = {}
        received_marked = False
        for header in DATE_HEADERS:
            value = at(header)
            if header == RECEIVED and isinstance(value, str) and _fold(value).rstrip(".") in _RECEIVED_WORDS:
                received_marked = True
                dates[header] = None
                continue
            if header == RECEIVED and isinstance(value, bool):
                received_marked = value
                dates[header] = None
                continue
            try:
                dates[header] = parse_date(value)
            except CellError as exc:
                problems.append(f"{where.format(header)} {exc}; write a date such as 14/11/2025, or clear it.")
        try:
            chasers = _chasers(at(CHASERS))
        except CellError as exc:
            problems.append(f"{where.format(CHASERS)} {exc}; write a whole number such as 2, or clear it.")
            chasers = 0
        if problems:
            messages.extend(problems)
            continue
        role_text = cell_text(at(ROLE)).strip()
        role = canonical_role(role_text)
        if role is None:
            if role_text:
                messages.append(
                    f"{where.format(ROLE)} is {show_value(role_text)}, which is not a role the product knows; it is "
                    f"treated as Other. Use one of: {', '.join(ROLES)}."
                )
            role = role_text or "Other"
        email_text = cell_text(at(EMAIL)).strip()
        email: str | None = None
        blocked = formula_problem(index, values, columns, formulas) if formulas else None
        if blocked is not None:
            messages.append(blocked)
        elif email_text:
            if _is_address(email_text):
                email = email_text
            else:
                messages.append(
                    f"{where.format(EMAIL)} is {show_value(email_text)}, which is not an email address; "
                    "write one address such as name@school.org.uk. No emails go to this row until then."
                )
        contribution = Contribution(
            row=row,
            pupil_ref=pupil_ref,
            role=role,
            name=cell_text(at(NAME)).strip(),
            email=email,
            requested=dates[REQUESTED],
            received=dates[RECEIVED],
            chasers=chasers,
            last_chased=dates[LAST_CHASED],
            notes=cell_text(at(NOTES)).strip(),
            received_marked=received_marked,
            invited_for=dates[INVITED_FOR],
        )
        if email is not None:
            if contribution.key in seen:
                messages.append(
                    f"{CONTRIBUTIONS_SHEET} row {row} is the same pupil, role and email as row "
                    f"{seen[contribution.key]}; delete one of them. Only row {seen[contribution.key]} is emailed."
                )
                continue
            seen[contribution.key] = row
        out.append(contribution)
    return out, messages


def pupil_matches(contribution: Contribution, pupils: Sequence[ReviewedPupil]) -> list[ReviewedPupil]:
    """Every pupil the row could mean, in register order: by UPN when the Pupil cell is a UPN, else by name. Pass a
    PupilIndex when matching many rows; any other sequence is indexed for this one call."""
    return pupils_for_ref(contribution.pupil_ref, pupils)


def pupils_for_ref(pupil_ref: str, pupils: Sequence[ReviewedPupil]) -> list[ReviewedPupil]:
    index = pupils if isinstance(pupils, PupilIndex) else PupilIndex(pupils)
    known = index.ref_cache()
    found = known.get(pupil_ref)
    if found is None:
        ref = pupil_ref.strip()
        if looks_like_upn(ref):
            found = known[pupil_ref] = tuple(index.by_upn(ref.replace(" ", "").upper()))
        else:
            found = known[pupil_ref] = tuple(index.by_name(_fold(ref)))
    return list(found)


def match_pupil(contribution: Contribution, pupils: Sequence[ReviewedPupil]) -> ReviewedPupil | None:
    """The one pupil the row is for (UPN, else name; case- and space-insensitive), or None when none or several."""
    found = pupil_matches(contribution, pupils)
    return found[0] if len(found) == 1 else None


def seed_parent_rows(pupils: Sequence[ReviewedPupil], contributions: Sequence[Contribution]) -> list[Contribution]:
    """New Parent/carer rows (row 0: not on the sheet yet) for pupils whose register row has a parent email and who
    have no Parent/carer row. Inactive pupils get none (nobody reviews a plan for a pupil who has left), and nor do
    INVALID rows: their UPN or name may be the very thing to fix, and a row seeded from it could never be matched
    again. They are seeded on the first sweep after the SENDCo fixes the row."""
    has_parent_row: set[int] = set()
    for contribution in contributions:
        if contribution.role != PARENT:
            continue
        for pupil in pupil_matches(contribution, pupils):
            has_parent_row.add(pupil.record.row)
    out: list[Contribution] = []
    for pupil in pupils:
        record = pupil.record
        if not record.parent_email or pupil.status in (Status.INACTIVE, Status.INVALID) or record.row in has_parent_row:
            continue
        if not (record.upn or record.name.strip()):
            continue
        email = record.parent_email.strip()
        if not _is_address(email):
            continue
        out.append(
            Contribution(
                row=0,
                pupil_ref=record.upn or record.name,
                role=PARENT,
                name="",
                email=email,
                requested=None,
                received=None,
                chasers=0,
                last_chased=None,
                notes="Added from the register's parent email",
            )
        )
    return out


def row_values(contribution: Contribution) -> list[object]:
    """A whole new row, in CONTRIBUTION_HEADERS order (for appending a seeded row)."""
    return [
        contribution.pupil_ref,
        contribution.role,
        contribution.name,
        contribution.email or "",
        contribution.requested,
        contribution.received,
        contribution.chasers or None,
        contribution.last_chased,
        contribution.notes,
    ]


def is_contributions_tab(title: object) -> bool:
    """Is this tab the Contributions tab? Case and spaces ignored: Excel and Sheets treat "contributions" and
    "Contributions" as one name, so the SENDCo may have typed either (docs/register.md s6)."""
    return _fold(title) == _fold(CONTRIBUTIONS_SHEET)


def find_contributions_tab(sheets: Iterable[Any]) -> Any | None:
    """The Contributions tab among `sheets` (anything with a `title`), or None: the one finder the sweep, the confirm
    page and the reports share."""
    return next((sheet for sheet in sheets if is_contributions_tab(sheet.title)), None)


def in_cycle(contribution: Contribution, clock: ReviewClock, requested: date | None = None) -> bool:
    """A row asked for before this cycle's anchor (the last review held) belongs to an earlier review: history, not
    something to chase, count as awaited or list in this review's record. The SENDCo clears Requested or adds a row to
    ask again."""
    requested = contribution.requested if requested is None else requested
    return requested is None or requested >= clock.meeting_anchor


def is_awaited(contribution: Contribution, pupil: ReviewedPupil | None, requested: date | None = None) -> bool:
    """Asked for this review and not yet received: what "AR outstanding" lists. `requested` overrides the row's own
    date (an email sent today, or one the sent-ledger recovered). A row asked for before this cycle's anchor belongs
    to an earlier review (history, not awaited); INVALID and INACTIVE pupils await nothing (docs/register.md s4)."""
    requested = contribution.requested if requested is None else requested
    if requested is None or contribution.is_received:
        return False
    if pupil is None or pupil.clock is None or pupil.status in (Status.INVALID, Status.INACTIVE):
        return False
    return in_cycle(contribution, pupil.clock, requested)


def outstanding_label(role: str, chasers: int) -> str:
    """One awaited contribution as the AR outstanding cell shows it: "EP" or "Class teacher (2 chasers)"."""
    return role + (f" ({chasers} chaser{'s' if chasers != 1 else ''})" if chasers else "")


def outstanding_by_pupil(
    contributions: Iterable[Contribution],
    pupils: Sequence[ReviewedPupil],
    sent: Mapping[tuple[str, str, str], Mapping[str, Any]] | None = None,
) -> dict[int, str]:
    """pupil row -> the AR outstanding cell, e.g. "EP, Class teacher (2 chasers)": the one builder, used by the sweep
    with mail on (`sent`: per row key, the Requested / Chasers the emails that went today will write) and with mail
    off (`sent` None: the tab as the SENDCo keeps it)."""
    done = sent or {}
    parts: dict[int, list[str]] = {}
    for contribution in contributions:
        cells = done.get(contribution.key, {})
        requested = cells.get(REQUESTED, contribution.requested)
        pupil = match_pupil(contribution, pupils)
        if pupil is None or not is_awaited(contribution, pupil, requested):
            continue
        chasers = int(cells.get(CHASERS, contribution.chasers))
        parts.setdefault(pupil.record.row, []).append(outstanding_label(contribution.role, chasers))
    return {row: ", ".join(labels) for row, labels in parts.items()}


def outstanding_text(
    pupil: ReviewedPupil, contributions: Sequence[Contribution], pupils: Sequence[ReviewedPupil]
) -> str:
    """The AR outstanding cell for one pupil (see outstanding_by_pupil)."""
    return outstanding_by_pupil(contributions, pupils).get(pupil.record.row, "")


__all__ = [
    "CONTRIBUTIONS_SHEET",
    "CONTRIBUTION_HEADERS",
    "INVITED_FOR",
    "PARENT",
    "ROLES",
    "Contribution",
    "PupilIndex",
    "canonical_role",
    "contribution_key",
    "contributions_header_key",
    "find_contributions_header",
    "find_contributions_tab",
    "in_cycle",
    "is_awaited",
    "is_contributions_tab",
    "key_of_row",
    "match_pupil",
    "outstanding_by_pupil",
    "outstanding_label",
    "outstanding_text",
    "parse_contributions",
    "pupil_matches",
    "row_values",
    "seed_parent_rows",
]
