"""The ports every register adapter implements. Adapters know nothing of the register's meaning: they hand over cell
grids and write the cells a `WritePlan` asks for, matching rows by the plan's own key function."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

CellValue = str | int | float | bool | date | datetime | None


class RegisterError(Exception):
    """A problem with the register as a whole. `str(err)` is one sentence a SENDCo can act on."""


@dataclass(frozen=True)
class SheetData:
    """One worksheet's values. `rows[i]` is sheet row i + 1, starting at row 1 and column A whatever is blank.
    Formula cells hold their last computed (cached) value, never the formula text; `formulas` says which cells they
    are, as 0-based (row, column): a formula showing blank is the SENDCo's, never a blank to fill."""

    title: str
    rows: list[list[CellValue]]
    formulas: frozenset[tuple[int, int]] = frozenset()


@dataclass(frozen=True)
class RegisterData:
    source: str  # what to call the register in messages: file name or sheet title
    sheets: list[SheetData]


@dataclass(frozen=True)
class CellWrite:
    """A cell the product owns. Text is always written as text (never a formula); dates as real date cells."""

    value: str | date | datetime | int | None
    number_format: str | None = None  # e.g. "dd/mm/yyyy" for dates
    fill: str | None = None  # RGB hex such as "F8CBAD"; None clears nothing, it just sets no fill
    bold: bool = False


RowKey = Hashable


def exact_header(text: str) -> str:
    """The default way a plan header matches a sheet's header cell: ignoring surrounding spaces and case only."""
    return text.strip().casefold()


@dataclass(frozen=True)
class WritePlan:
    """What to write. The adapter locates the header and every row *at write time*, so rows the SENDCo moved or inserted
    since reading still get their own results."""

    sheet: str
    headers: Sequence[str]  # the product's column headers, in the order they are appended the first time
    # Called first at write time with the sheet's current rows (as SheetData.rows): the 1-based header row, or None.
    # key_of may depend on what this call found (columns can move), so call it before key_of, once per write.
    find_header_row: Callable[[list[list[CellValue]]], int | None]
    # Given one data row's values, return its pupil key (None: not a pupil row).
    key_of: Callable[[list[CellValue]], RowKey | None]
    # pupil key -> header -> cell
    rows: Mapping[RowKey, Mapping[str, CellWrite]]
    header_fill: str | None = "D9D9D9"
    # New rows to add below the sheet's last row, by header (e.g. a seeded Parent/carer contribution).
    append_rows: Sequence[Mapping[str, CellWrite]] = ()
    # When the sheet does not exist: create it with `headers` as its header row (row 1) instead of refusing.
    create_if_missing: bool = False
    # Headers whose cells are written only when blank at write time: a date the SENDCo typed since the read wins.
    blank_only: frozenset[str] = frozenset()
    # How a plan header matches a header cell on the sheet (and `blank_only`, `rows` and `append_rows` headers): both
    # sides go through it and are equal. The product passes sheet_schema's own normalisation, so the adapter finds
    # exactly the column the parser read ("Received?" is Received, "E-mail" is Email) and never appends a twin.
    header_key: Callable[[str], str] = exact_header
    # Only the first row, top to bottom, whose key is in `rows` gets its cells; later rows with that key are untouched
    # (the Contributions parser emails only the first of duplicate rows, so only that row may record it).
    first_match_only: bool = False
    # The headers of the product's own columns (sheet_schema's AR columns, given by the caller: an adapter knows no
    # header). Their cells' whole look (fill, number format, bold) is reset on every write; in any other column only
    # the value changes, with a date format where a date needs one. Empty: every column is the SENDCo's.
    owned_headers: frozenset[str] = frozenset()
    # Column widths (Excel characters) by header, decided by the caller (sheet_schema.ar_columns): set on a column the
    # plan creates, and (workbook only: a Sheets read carries no widths) on an owned column still at the default
    # width. A width the SENDCo set is never changed, and no column of theirs is ever resized. Empty: none is set.
    column_widths: Mapping[str, float] = field(default_factory=dict)


@dataclass
class WriteResult:
    written_rows: int = 0
    missing_keys: list[RowKey] = field(default_factory=list)  # pupils that vanished from the sheet before writing
    destination: str = ""  # where the result was written (the register itself, or a copy beside it)
    notes: list[str] = field(default_factory=list)  # sentences for the SENDCo (e.g. why a copy was written)
    backup: str | None = None
    appended_rows: int = 0  # rows added by the plan's append_rows
    created_sheet: bool = False  # the sheet did not exist and was created (create_if_missing)
    # The results of the further plans given to write(plan, *more), in order (this result is the first plan's).
    more: list[WriteResult] = field(default_factory=list)


class Register(Protocol):
    """A register adapter: an Excel workbook, a Google Sheet.

    An adapter may also offer `check_writable() -> None`, raising RegisterError when a write would be refused now (a
    workbook open in Excel): the sweep calls it just before sending, so emails never go for a write that cannot happen.
    Optional, so adapters that are always writable (Google Sheets) and test fakes need not define it."""

    def read(self) -> RegisterData: ...

    def write(self, plan: WritePlan, *more: WritePlan) -> WriteResult:
        """Apply every plan in one save (workbook) or one batchUpdate (Google Sheets): all or nothing."""
        ...
