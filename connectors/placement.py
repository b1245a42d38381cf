"""Where a `WritePlan`'s cells go on a sheet as it is *now*: the one placement algorithm every register adapter shares.

Pure: it sees the sheet as a grid of values (`SheetData.rows`, row 1 first) and returns 0-based row and column indices.
The adapter adds what only it can see (merged cells, formatted blanks) and moves the cells (openpyxl, one Sheets
batchUpdate). The rules (docs/register.md s5 and s6):

- a plan header is found by its `header_key` wherever the SENDCo moved it; a missing one is appended after the last
  column the SENDCo uses from the header row down (values, merges, and blank cells they coloured, which the adapter
  reports), so appended columns never land on their data or their fills;
- each pupil is found by the plan's key at write time, so rows sorted or inserted since the read keep their own results;
  with `first_match_only`, later rows with the same key are left alone;
- a `blank_only` cell is written only while it is still blank: what the SENDCo typed since the read wins; "blank"
  means no value and no formula (a formula showing nothing, such as `=IFERROR(VLOOKUP(...),"")`, is theirs);
- a formula cell outside the product's own columns is never written, blank_only or not, and new rows go below the
  last row holding a value or a formula (the adapter reports formula cells: openpyxl keeps them, Sheets sends
  `userEnteredValue.formulaValue`);
- a column is the product's own (its whole look is reset on every write) only when its header is one of the plan's
  `owned_headers`; in every other column only the value (and a date's number format) changes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from connectors.base import CellValue, CellWrite, WritePlan

# What both adapters tell the SENDCo when a cell to write lies inside a merge (its value would be hidden).
MERGED_NOTE = "Some AR cells are merged with other cells, so they were left blank; unmerge them."


def is_blank(value: CellValue) -> bool:
    return value in (None, "")


@dataclass(frozen=True)
class Columns:
    """The plan's columns on the sheet (0-based). `plan` maps a plan header's key to its column; `every` maps every
    header on the sheet (appended ones included) to its column, for `append_rows`."""

    plan: Mapping[str, int]
    every: Mapping[str, int]
    new_headers: Mapping[int, str]  # columns to create now -> the header text to write there
    owned: frozenset[int]  # the product's own columns (the plan's `owned_headers`), whose look is reset
    width: int  # one past the last column in use once the new headers are written
    # Widths (Excel characters) for the product's columns only: the new ones and the owned ones, from the plan's
    # `column_widths`. The adapter sets a new column's always, an owned one's only while it has no width of its own.
    widths: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Placement:
    """Every cell one plan writes, by 0-based row and column."""

    columns: Columns
    cells: Mapping[int, Mapping[int, CellWrite]]  # pupil rows found by key -> column -> cell (may be empty)
    appended: Mapping[int, Mapping[int, CellWrite]]  # rows added below the last used row (only non-blank cells)
    appended_rows: int
    missing_keys: list[Hashable] = field(default_factory=list)

    @property
    def written_rows(self) -> int:
        return len(self.cells)


def used_width(rows: Sequence[Sequence[CellValue]], header_row: int, *, also: Iterable[int] = ()) -> int:
    """One past the last column holding a value from the header row (1-based) down; a title banner above the header
    does not count. `also`: further widths the adapter knows of (merges, blank cells the SENDCo coloured)."""
    width = 0
    for values in rows[header_row - 1 :]:
        for c in range(len(values), width, -1):
            if not is_blank(values[c - 1]):
                width = c
                break
    return max([width, *also])


def last_used_row(rows: Sequence[Sequence[CellValue]], header_row: int, *, also: Iterable[int] = ()) -> int:
    """The 0-based index of the last row holding a value below the header (the header's own index when none does).
    `also`: further 0-based rows the adapter knows are in use (the last row of a merge below the header)."""
    last = header_row - 1
    for index in range(len(rows) - 1, header_row - 1, -1):
        if any(not is_blank(v) for v in rows[index]):
            last = index
            break
    return max([last, *also])


def place_columns(plan: WritePlan, header_values: Sequence[CellValue], first_free: Callable[[], int] | int) -> Columns:
    """Find each plan header in `header_values` (the header row); put the missing ones from `first_free` on, in the
    plan's order. `first_free` may be a function: it is called only when a header is missing (never once the product's
    columns exist), because an adapter may have to look at every cell's format to answer it."""
    key = plan.header_key
    every: dict[str, int] = {}
    for index, value in enumerate(header_values):
        if isinstance(value, str) and key(value) and key(value) not in every:
            every[key(value)] = index  # the first of duplicate headers is the one the parser reads
    columns: dict[str, int] = {}
    new_headers: dict[int, str] = {}
    next_free: int | None = None
    for header in plan.headers:
        name = key(header)
        if name not in every:
            if next_free is None:
                next_free = first_free() if callable(first_free) else first_free
            every[name] = next_free
            new_headers[next_free] = header
            next_free += 1
        columns[name] = every[name]
    owned_keys = {key(h) for h in plan.owned_headers}
    owned = frozenset(c for name, c in every.items() if name in owned_keys)
    width = max([len(header_values), *(c + 1 for c in every.values())])
    wanted = {key(h): w for h, w in plan.column_widths.items()}
    widths = {c: wanted[name] for name, c in every.items() if name in wanted and (c in owned or c in new_headers)}
    return Columns(columns, every, new_headers, owned, width, widths)


def place(
    plan: WritePlan,
    rows: list[list[CellValue]],
    header_row: int,
    *,
    first_free: Callable[[], int] | int,
    last_row: Callable[[], int] | None = None,
    formulas: Collection[tuple[int, int]] = frozenset(),
) -> Placement:
    """Every cell of `plan` on the sheet `rows` whose header is row `header_row` (1-based, as find_header_row says).

    `first_free`: the first column new headers may go in (see `place_columns`); `last_row`: the 0-based last used row
    for `append_rows` (default `last_used_row` on the values alone); `formulas`: the sheet's formula cells now, 0-based
    (row, column), which are never written outside the product's own columns."""
    header_values = rows[header_row - 1] if header_row - 1 < len(rows) else []
    columns = place_columns(plan, header_values, first_free)
    keys: dict[str, str] = {}  # the plan names the same few headers on every row: each normalised once (issue 16)

    def key(header: str) -> str:
        known = keys.get(header)
        if known is None:
            known = keys[header] = plan.header_key(header)
        return known

    blank_only = {key(h) for h in plan.blank_only}
    found: set[Hashable] = set()
    cells: dict[int, dict[int, CellWrite]] = {}
    for index in range(header_row, len(rows)):
        values = rows[index]
        row_key = plan.key_of(values)
        if row_key is None or row_key not in plan.rows:
            continue
        if plan.first_match_only and row_key in found:
            continue  # a later duplicate: only the first row with this key is the one the product acts on
        found.add(row_key)
        row_cells: dict[int, CellWrite] = {}
        for header, cell in plan.rows[row_key].items():
            column = columns.plan.get(key(header))
            if column is None:
                continue
            if key(header) in blank_only and column < len(values) and not is_blank(values[column]):
                continue  # the SENDCo typed something here since the read: theirs wins (docs/register.md s6)
            if (index, column) in formulas and column not in columns.owned:
                continue  # a formula, even one showing blank, is the SENDCo's (docs/register.md s6)
            row_cells[column] = cell
        cells[index] = row_cells
    appended: dict[int, dict[int, CellWrite]] = {}
    if plan.append_rows:
        last = last_row() if last_row is not None else last_used_row(rows, header_row)
        # A row holding only formulas that show blank (a template filled down by the SENDCo) is in use too.
        last = max([last, *(r for r, _ in formulas if r >= header_row)])
        for values_by_header in plan.append_rows:
            last += 1
            new = {
                columns.every[key(h)]: c
                for h, c in values_by_header.items()
                if key(h) in columns.every and not is_blank(c.value)
            }
            if new:
                appended[last] = new
    return Placement(
        columns=columns,
        cells=cells,
        appended=appended,
        appended_rows=len(plan.append_rows),
        missing_keys=[k for k in plan.rows if k not in found],
    )


__all__ = ["MERGED_NOTE", "Columns", "Placement", "is_blank", "last_used_row", "place", "place_columns", "used_width"]
