"""One plan's cells as Google Sheets batchUpdate requests: where they go (connectors.placement, shared with the
workbook adapter), then the requests that write exactly those cells and nothing beside them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from connectors.base import CellWrite, RegisterError, WritePlan, WriteResult
from connectors.placement import MERGED_NOTE, last_used_row, place, used_width
from connectors.sheets_codec import OWNED_CELL_FIELDS, Tab, cell_data

# A new tab's grid (Google's own default size): room for the appended rows without an appendDimension.
_NEW_TAB_ROWS, _NEW_TAB_COLUMNS = 1000, 26


def build_batch(
    plans: tuple[WritePlan, ...], tabs: dict[str, Tab], key: str, new_sheet_id: Callable[[], int]
) -> tuple[list[dict[str, Any]], list[WriteResult]]:
    """The one batch for every plan, and each plan's result. A tab a plan may create is added to `tabs`."""
    requests_body: list[dict[str, Any]] = []
    results: list[WriteResult] = []
    for plan in plans:
        created = False
        tab = tabs.get(plan.sheet)
        if tab is None:
            if not plan.create_if_missing:
                raise RegisterError(f'The Google Sheet has no tab called "{plan.sheet}" now; nothing was written.')
            tab, requests_new = _create_tab(plan, new_sheet_id())
            tabs[plan.sheet] = tab
            requests_body.extend(requests_new)
            created = True
        header_row = plan.find_header_row(tab.rows)
        if header_row is None:
            raise RegisterError(
                f"The header row of the tab {plan.sheet!r} could not be found just before writing "
                "(was it edited?); nothing was written."
            )
        batch = _build_requests(plan, tab, header_row)
        requests_body.extend(batch.requests)
        result = WriteResult(
            written_rows=batch.written_rows,
            missing_keys=batch.missing_keys,
            destination=f"https://docs.google.com/spreadsheets/d/{key}",
            notes=batch.notes,
            appended_rows=batch.appended_rows,
            created_sheet=created,
        )
        if created:
            result.notes.append(f'Added a "{plan.sheet}" tab to the Google Sheet, with its column headings.')
        results.append(result)
    return requests_body, results


def _create_tab(plan: WritePlan, sheet_id: int) -> tuple[Tab, list[dict[str, Any]]]:
    """addSheet (with an id chosen by the caller, so the same batch can write its cells) and its header row."""
    rows = max(_NEW_TAB_ROWS, len(plan.append_rows) + 2)
    columns = max(_NEW_TAB_COLUMNS, len(plan.headers))
    add = {
        "addSheet": {
            "properties": {
                "sheetId": sheet_id,
                "title": plan.sheet,
                "gridProperties": {"rowCount": rows, "columnCount": columns, "frozenRowCount": 1},
            }
        }
    }
    headers = {c: CellWrite(h, fill=plan.header_fill, bold=True) for c, h in enumerate(plan.headers)}
    tab = Tab(sheet_id=sheet_id, column_count=columns, rows=[list(plan.headers)], merges=[], row_count=rows)
    wanted = {plan.header_key(h): w for h, w in plan.column_widths.items()}
    widths = {c: wanted[plan.header_key(h)] for c, h in enumerate(plan.headers) if plan.header_key(h) in wanted}
    return tab, [add, *width_requests(sheet_id, widths), *cell_updates(sheet_id, {0: headers})]


def pixels(width: float) -> int:
    """Excel's column width (characters of the default font) in screen pixels, as Excel converts it (7 px a
    character plus 5 px of padding at Calibri 11): the same column reads alike in Excel and Google Sheets."""
    return round(width * 7 + 5)


def width_requests(sheet_id: int, widths: Mapping[int, float]) -> list[dict[str, Any]]:
    """One updateDimensionProperties per product column that gets a width: only its own column, never a neighbour
    (the SENDCo's widths stay theirs). Part of the one batchUpdate, so a sweep still costs the same HTTP requests."""
    return [
        {
            "updateDimensionProperties": {
                "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": c, "endIndex": c + 1},
                "properties": {"pixelSize": pixels(w)},
                "fields": "pixelSize",
            }
        }
        for c, w in sorted(widths.items())
    ]


def _merged_away(merges: list[Mapping[str, Any]], row: int, column: int) -> bool:
    """True for a cell inside a merged range but not its top-left cell (a value there would be hidden)."""
    for merge in merges:
        top, left = merge.get("startRowIndex", 0), merge.get("startColumnIndex", 0)
        if top <= row < merge.get("endRowIndex", 0) and left <= column < merge.get("endColumnIndex", 0):
            return (row, column) != (top, left)
    return False


@dataclass
class _Batch:
    requests: list[dict[str, Any]]
    written_rows: int
    missing_keys: list[Any]
    notes: list[str]
    appended_rows: int = 0


def _build_requests(plan: WritePlan, tab: Tab, header_row: int) -> _Batch:
    rows = tab.rows

    def first_free() -> int:
        # One past the last used column from the header row down (a wide title banner above does not count): values,
        # merges, and blank cells the SENDCo coloured (when re-read with colours).
        merged = [m.get("endColumnIndex", 0) for m in tab.merges if m.get("endRowIndex", 0) >= header_row]
        return used_width(rows, header_row, also=[*tab.filled_widths[header_row - 1 :], *merged])

    def last_row() -> int:
        merged = [m.get("endRowIndex", 0) - 1 for m in tab.merges if m.get("startRowIndex", 0) >= header_row]
        return last_used_row(rows, header_row, also=merged)

    placement = place(plan, rows, header_row, first_free=first_free, last_row=last_row, formulas=tab.formulas)
    columns = placement.columns
    requests_body: list[dict[str, Any]] = []
    if columns.width > tab.column_count:
        requests_body.append(
            {
                "appendDimension": {
                    "sheetId": tab.sheet_id,
                    "dimension": "COLUMNS",
                    "length": columns.width - tab.column_count,
                }
            }
        )
    requests_body.extend(
        width_requests(tab.sheet_id, {c: w for c, w in columns.widths.items() if c in columns.new_headers})
    )
    if columns.new_headers:
        header_cells = {c: CellWrite(h, fill=plan.header_fill, bold=True) for c, h in columns.new_headers.items()}
        requests_body.extend(cell_updates(tab.sheet_id, {header_row - 1: header_cells}))
    merged_skipped = False
    cells_by_row: dict[int, dict[int, CellWrite]] = {}
    for index, cells in placement.cells.items():
        kept = {c: cell for c, cell in cells.items() if not _merged_away(tab.merges, index, c)}
        merged_skipped = merged_skipped or len(kept) < len(cells)
        cells_by_row[index] = kept
    if placement.appended:
        cells_by_row.update({r: dict(cells) for r, cells in placement.appended.items()})
    if plan.append_rows:
        last = last_row() + placement.appended_rows
        if last + 1 > tab.row_count:
            requests_body.append(
                {"appendDimension": {"sheetId": tab.sheet_id, "dimension": "ROWS", "length": last + 1 - tab.row_count}}
            )
    # New header cells are the product's to style, whoever owns the column's values.
    owned = set(columns.owned) | set(columns.new_headers)
    requests_body.extend(cell_updates(tab.sheet_id, cells_by_row, owned=owned))
    notes = [MERGED_NOTE] if merged_skipped else []
    return _Batch(requests_body, placement.written_rows, placement.missing_keys, notes, placement.appended_rows)


# In the SENDCo's own columns (Requested, Chasers ... of the Contributions tab) only the value changes, plus a date
# format where a date needs one: their colours, fonts and number formats stay theirs.
_THEIR_CELL_FIELDS = ("userEnteredValue",)
_THEIR_DATE_FIELDS = ("userEnteredValue", "userEnteredFormat.numberFormat")


def _their_cell_update(sheet_id: int, row: int, column: int, cell: CellWrite) -> dict[str, Any]:
    is_date = isinstance(cell.value, date)
    data = cell_data(CellWrite(cell.value, cell.number_format if is_date else None))
    if not is_date:
        data.pop("userEnteredFormat", None)
    fields = _THEIR_DATE_FIELDS if is_date else _THEIR_CELL_FIELDS
    return {
        "updateCells": {
            "range": {
                "sheetId": sheet_id,
                "startRowIndex": row,
                "endRowIndex": row + 1,
                "startColumnIndex": column,
                "endColumnIndex": column + 1,
            },
            "rows": [{"values": [data]}],
            "fields": ",".join(fields),
        }
    }


def cell_updates(
    sheet_id: int, cells_by_row: Mapping[int, Mapping[int, CellWrite]], *, owned: set[int] | None = None
) -> list[dict[str, Any]]:
    if owned is not None:
        theirs = [
            _their_cell_update(sheet_id, r, c, cell)
            for r, cells in sorted(cells_by_row.items())
            for c, cell in sorted(cells.items())
            if c not in owned
        ]
        ours = {r: {c: cell for c, cell in cells.items() if c in owned} for r, cells in cells_by_row.items()}
        return _owned_cell_updates(sheet_id, {r: c for r, c in ours.items() if c}) + theirs
    return _owned_cell_updates(sheet_id, cells_by_row)


def _owned_cell_updates(sheet_id: int, cells_by_row: Mapping[int, Mapping[int, CellWrite]]) -> list[dict[str, Any]]:
    """updateCells requests covering exactly the given cells: one per block of consecutive rows that share the same
    columns, split at gaps between columns, so no cell outside the product's columns is ever inside a request's range
    (the SENDCo's cells are never touched, their colours included). A register whose pupils sit in one block costs one
    request per run of AR columns, which keeps the single batch small."""
    out: list[dict[str, Any]] = []
    group: list[int] = []
    group_columns: tuple[int, ...] = ()

    def flush() -> None:
        if not group or not group_columns:
            return
        runs: list[list[int]] = []
        for column in group_columns:
            if runs and column == runs[-1][-1] + 1:
                runs[-1].append(column)
            else:
                runs.append([column])
        for run in runs:
            out.append(
                {
                    "updateCells": {
                        "range": {
                            "sheetId": sheet_id,
                            "startRowIndex": group[0],
                            "endRowIndex": group[-1] + 1,
                            "startColumnIndex": run[0],
                            "endColumnIndex": run[-1] + 1,
                        },
                        "rows": [{"values": [cell_data(cells_by_row[r][c]) for c in run]} for r in group],
                        "fields": ",".join(OWNED_CELL_FIELDS),
                    }
                }
            )

    for row in sorted(cells_by_row):
        columns = tuple(sorted(cells_by_row[row]))
        if group and (row != group[-1] + 1 or columns != group_columns):
            flush()
            group = []
        if not group:
            group_columns = columns
        group.append(row)
    flush()
    return out
