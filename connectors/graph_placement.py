"""Where a `WritePlan`'s cells go on a sheet as it is now: pure, no I/O (the rules the Sheets adapter follows).

The header row and every pupil row are located at write time by the plan's own functions, so rows the SENDCo sorted
or inserted since the read still get their own results (docs/register.md s5). The product's columns are found by
header wherever they are, and appended after the last used column from the header row down the first time."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.base import CellValue, CellWrite, RowKey, WritePlan


def is_product_header(header: str) -> bool:
    """The product's own columns start with "AR " (docs/register.md s5); every other column is the SENDCo's."""
    return header.strip().casefold().startswith("ar ")


@dataclass
class Placement:
    """0-based (row, column) -> cell, for every cell to write (new header cells included)."""

    cells: dict[int, dict[int, CellWrite]] = field(default_factory=dict)
    new_headers: dict[int, CellWrite] = field(default_factory=dict)  # column -> header cell appended now
    header_row: int = 1  # 1-based
    owned: set[int] = field(default_factory=set)  # the product's columns
    written_rows: int = 0
    missing_keys: list[RowKey] = field(default_factory=list)
    appended_rows: int = 0


def place(plan: WritePlan, rows: list[list[CellValue]], header_row: int) -> Placement:
    key = plan.header_key
    out = Placement(header_row=header_row)
    existing: dict[str, int] = {}
    header_values = rows[header_row - 1] if header_row - 1 < len(rows) else []
    for index, value in enumerate(header_values):
        if not isinstance(value, str):
            continue
        if is_product_header(value):
            out.owned.add(index)
        if key(value) and key(value) not in existing:
            existing[key(value)] = index
    next_free = max((len(r) for r in rows[header_row - 1 :]), default=0)
    columns: dict[str, int] = {}
    for header in plan.headers:
        name = key(header)
        if name not in existing:
            existing[name] = next_free
            out.new_headers[next_free] = CellWrite(header, fill=plan.header_fill, bold=True)
            next_free += 1
        columns[name] = existing[name]
        if is_product_header(header):
            out.owned.add(existing[name])
    out.owned |= set(out.new_headers)
    if out.new_headers:
        out.cells[header_row - 1] = dict(out.new_headers)

    found: set[RowKey] = set()
    blank_only = {key(h) for h in plan.blank_only}
    for index in range(header_row, len(rows)):
        pupil = plan.key_of(rows[index])
        if pupil is None or pupil not in plan.rows or (plan.first_match_only and pupil in found):
            continue
        found.add(pupil)
        cells: dict[int, CellWrite] = {}
        for header, cell in plan.rows[pupil].items():
            column = columns.get(key(header))
            if column is None:
                continue
            if key(header) in blank_only and column < len(rows[index]) and rows[index][column] not in (None, ""):
                continue  # the SENDCo typed something here since the read: theirs wins (docs/register.md s6)
            cells[column] = cell
        out.cells[index] = cells
        out.written_rows += 1
    out.missing_keys = [k for k in plan.rows if k not in found]
    if plan.append_rows:
        last = max((i for i in range(header_row - 1, len(rows)) if any(v not in (None, "") for v in rows[i])),
                   default=header_row - 1)  # fmt: skip
        for values in plan.append_rows:
            last += 1
            cells = {existing[key(h)]: c for h, c in values.items() if key(h) in existing and c.value not in (None, "")}
            if cells:
                out.cells[last] = cells
            out.appended_rows += 1
    return out
