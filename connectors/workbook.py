"""The Excel workbook adapter: reads a SENDCo's .xlsx/.xlsm register with openpyxl and writes the product's cells
back without disturbing anything the SENDCo typed.

It knows nothing of the register's meaning: the header row, each row's pupil key and the product's own headers come in
through the `WritePlan`, and where each cell goes is decided by connectors.placement (shared with the Sheets adapter).
Saving is defensive because the workbook is the school's system of record (connectors.files): refuse while it is open,
keep a timestamped backup, save to a temporary file, verify it, then swap it in atomically, provided the file is still
as it was loaded (otherwise the write starts again from the SENDCo's newer save). When the workbook holds content
openpyxl cannot round-trip (connectors.workbook_parts), the SENDCo's file is left untouched and the results go to a
copy beside it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.worksheet.worksheet import Worksheet

from connectors.base import CellValue, CellWrite, RegisterData, RegisterError, SheetData, WritePlan, WriteResult
from connectors.files import (
    BACKUPS_KEPT,
    MACRO_SUFFIXES,
    OLE_MAGIC,
    SavedMeanwhile,
    Signature,
    atomic_save,
    backup,
    check_is_workbook,
    refuse_if_open,
    remove_leftovers,
    signature,
)
from connectors.placement import MERGED_NOTE, last_used_row, place, used_width
from connectors.workbook_cached import cached_values
from connectors.workbook_cells import EXCEL_CELL_LIMIT, StyleIds, cell_text, plain_value, solid, write_cell
from connectors.workbook_parts import describe_warnings, inspect_parts, join_words, openpyxl_warnings


def _width_of(plan: WritePlan, header: str) -> float | None:
    wanted = {plan.header_key(h): w for h, w in plan.column_widths.items()}
    return wanted.get(plan.header_key(header))


def _set_widths(ws: Worksheet, widths: Mapping[int, float], new: set[int] | None) -> None:
    """Set the product's column widths (0-based column -> Excel characters). A new column (`new`; None: every one) gets
    its width always; an existing one only while no <col> entry covers it, i.e. it is still at the sheet's default
    width: a width the SENDCo set is theirs. A column inside a multi-column <col> range (a style over "A:Z") is left
    alone, since a second entry overlapping the range makes Excel report the file as damaged."""
    dims = ws.column_dimensions
    for column, width in sorted(widths.items()):
        index = column + 1
        letter = get_column_letter(index)
        covering = [d for d in dims.values() if d.min is not None and d.max is not None and d.min <= index <= d.max]
        if any(d.min != d.max for d in covering):
            continue
        if (covering or letter in dims) and (new is not None and column not in new):
            continue
        dims[letter].width = width


_said_open: set[tuple[Path, Signature]] = set()


def _say_once(path: Path, saved: Signature) -> None:
    """Tell the SENDCo, once per saved version (a `serve` reads on every request), that a read while the workbook is
    open sees only what was last saved (a warning: it goes to stderr, as every message of a run does)."""
    if (path, saved) not in _said_open:
        _said_open.add((path, saved))
        log.warning(
            "%s is open in Excel (or LibreOffice): this run read the last saved version, so edits not yet saved are "
            "not seen; save it to include them.",
            path.name,
        )


# Times a write starts again from the SENDCo's newest save when they saved while it was being written.
SAVE_ATTEMPTS = 3
BACKUP_FOLDER = ".keeper-backups"
log = logging.getLogger(__name__)


@dataclass
class _Loaded:
    """The workbook as read, kept for write()."""

    workbook: Workbook
    grids: dict[str, list[list[CellValue]]]
    dropped: list[str]  # what openpyxl would lose on save, in the SENDCo's words
    signature: Signature  # connectors/files.py signature() when read: a change means the SENDCo saved since
    # Per sheet, its formula cells, 0-based (row, column): the SENDCo's, never written (connectors.placement).
    formulas: dict[str, frozenset[tuple[int, int]]] = field(default_factory=dict)


def _local_now() -> datetime:
    return datetime.now(UTC).astimezone()


def _nothing_to_write(write: CellWrite) -> bool:
    """A blank with no look of its own (a third of the AR cells on a first sweep: no issues, no Year 9 flag...)."""
    return write.value in (None, "") and write.fill is None and not write.bold and write.number_format is None


class WorkbookRegister:
    """A register kept in an Excel workbook (.xlsx, .xlsm) on disk."""

    def __init__(
        self,
        path: str | Path,
        *,
        backup_dir: Path | None = None,
        now: Callable[[], datetime] = _local_now,
        read_while_open: bool = False,
    ) -> None:
        # read_while_open: for the commands that only read (a dry run, records, report, calendar, the confirmation
        # page's GET). They read the last saved file while Excel has it open and say once that unsaved edits are not
        # seen; a write still refuses while it is open. A sweep that writes refuses at the read, before any email.
        self.read_while_open = read_while_open
        self.path = Path(path)
        # Reading while Excel has the file open is harmless (the contributor's page only shows it); writing still
        # refuses, and the submission waits beside the register (connectors/submission_queue.py).
        self.read_while_open = read_while_open
        self.backup_dir = backup_dir if backup_dir is not None else self.path.parent / BACKUP_FOLDER
        self.now = now
        self._loaded: _Loaded | None = None

    @property
    def copy_path(self) -> Path:
        """Where results go when writing the SENDCo's own file would lose their content."""
        return self.path.with_name(f"{self.path.stem} (Review Keeper){self.path.suffix}")

    # ------------------------------------------------------------------ reading

    def read(self) -> RegisterData:
        self._loaded = self._load()
        formulas = self._loaded.formulas
        sheets = [
            SheetData(title, rows, formulas.get(title, frozenset())) for title, rows in self._loaded.grids.items()
        ]
        return RegisterData(source=self.path.name, sheets=sheets)

    def _load(self) -> _Loaded:
        check_is_workbook(self.path)
        try:
            refuse_if_open(self.path)
        except RegisterError:
            if not self.read_while_open:
                raise
            _say_once(self.path, signature(self.path))
        # A save killed outright (kill -9, a power cut) left its temporary file beside the register: cleared here.
        remove_leftovers(self.path)
        remove_leftovers(self.copy_path)
        loaded_as = signature(self.path)
        keep_vba = self.path.suffix.lower() in MACRO_SUFFIXES
        lost_parts, rich_text = inspect_parts(self.path)
        with openpyxl_warnings() as caught:
            try:
                # rich_text keeps a cell's mixed bold/colour runs when it is saved back; it slows loading, so only
                # when the shared strings actually hold runs (Excel and LibreOffice store all text there).
                workbook = load_workbook(
                    self.path, keep_vba=keep_vba, keep_links=True, data_only=False, rich_text=rich_text
                )
            except Exception as err:  # openpyxl raises many types (KeyError, TypeError, ...) for broken parts
                raise RegisterError(
                    f"{self.path.name} could not be opened as an Excel workbook ({type(err).__name__}); "
                    "open it in Excel, save it again as .xlsx, then run again."
                ) from err
        if not workbook.worksheets:
            raise RegisterError(f"{self.path.name} has no worksheets; add the register as a worksheet, then run again.")
        dropped = describe_warnings(caught)
        dropped += [d for d in lost_parts if d not in dropped]
        formulas: dict[str, frozenset[tuple[int, int]]] = {}
        grids = {ws.title: self._grid(ws, formulas) for ws in workbook.worksheets}
        return _Loaded(workbook, grids, dropped, loaded_as, formulas)

    def _grid(self, ws: Worksheet, formula_cells: dict[str, frozenset[tuple[int, int]]]) -> list[list[CellValue]]:
        width, height = ws.max_column, ws.max_row
        if ws.max_row == 1 and ws.max_column == 1 and not ws._cells:
            return []
        rows: list[list[CellValue]] = [[None] * width for _ in range(height)]
        formulas: list[tuple[int, int]] = []
        # ws._cells holds only the stored cells; ws.iter_rows() would create an empty cell object for every blank,
        # which costs time and writes thousands of empty <c> elements on save.
        for (r, c), cell in ws._cells.items():
            value = cell._value
            if cell.data_type == "f" or isinstance(value, ArrayFormula | DataTableFormula):
                formulas.append((r, c))
                continue
            rows[r - 1][c - 1] = plain_value(value)
        if formulas:
            self._fill_cached_values(ws, rows, formulas)
            formula_cells[ws.title] = frozenset((r - 1, c - 1) for r, c in formulas)
        return rows

    def _fill_cached_values(self, ws: Worksheet, rows: list[list[CellValue]], formulas: list[tuple[int, int]]) -> None:
        """Formula cells carry the value Excel last computed; the product never evaluates a formula itself
        (docs/register.md s3). One pass over the sheet's XML fetches them (connectors/workbook_cached.py); what that
        leaves to openpyxl, a second, read-only load of just this sheet fetches."""
        book = ws.parent
        found = cached_values(
            self.path,
            ws.title,
            formulas,
            epoch=book.epoch,
            date_styles=book._date_formats,
            duration_styles=book._timedelta_formats,
        )
        if found is not None:
            for (r, c), value in found.items():
                rows[r - 1][c - 1] = plain_value(value)
            return
        title = ws.title
        wanted = set(formulas)
        first, last = min(r for r, _ in formulas), max(r for r, _ in formulas)
        width = max(c for _, c in formulas)
        # Read-only and never saved: this copy only lends its cached values; the workbook that is saved keeps formulas.
        cached = load_workbook(self.path, read_only=True, data_only=True, keep_links=False)
        try:
            sheet = cached[title]
            for r, values in enumerate(
                sheet.iter_rows(min_row=first, max_row=last, min_col=1, max_col=width, values_only=True), start=first
            ):
                for c, value in enumerate(values, start=1):
                    if (r, c) in wanted:
                        rows[r - 1][c - 1] = plain_value(value)
        finally:
            cached.close()

    # ------------------------------------------------------------------ writing

    def check_writable(self) -> None:
        """Refuse now, before any email goes, if the file the write would replace is open in Excel or LibreOffice."""
        loaded = self._loaded
        refuse_if_open(self.copy_path if loaded is not None and loaded.dropped else self.path)

    def write(self, plan: WritePlan, *more: WritePlan) -> WriteResult:
        """Apply every plan to the workbook, then save once: all of them or none (one backup, one atomic swap).

        A save by the SENDCo while this runs (OneDrive or SharePoint AutoSave leaves no lock file) is never replaced:
        the file is checked again just before the swap, and when it changed the write starts again from their newest
        version, up to SAVE_ATTEMPTS times."""
        for _attempt in range(SAVE_ATTEMPTS):
            loaded = self._loaded
            if loaded is None or self._signature() != loaded.signature:
                # The SENDCo saved the workbook since it was read: start again from their latest version so none of
                # their edits are overwritten, and find every row afresh.
                loaded = self._loaded = self._load()
            try:
                return self._write_once(loaded, plan, *more)
            except SavedMeanwhile:
                self._loaded = None  # the loaded copy now holds this attempt's cells on top of an old version
        raise RegisterError(
            f"{self.path.name} kept changing while the results were being saved ({SAVE_ATTEMPTS} tries), so nothing "
            "was written to it; the next run will try again (or close it on other computers first)."
        )

    def _write_once(self, loaded: _Loaded, plan: WritePlan, *more: WritePlan) -> WriteResult:
        workbook = loaded.workbook
        applied = [self._apply(loaded, p) for p in (plan, *more)]
        result = applied[0][0]
        result.more = [r for r, _ in applied[1:]]
        for extra, _ in applied[1:]:
            result.notes.extend(n for n in extra.notes if n not in result.notes)

        if loaded.dropped:
            destination = self.copy_path
            what = join_words(loaded.dropped)
            result.notes.append(
                f"Your workbook has {what} that openpyxl cannot keep, so your file was left untouched and the "
                f"results were written to {destination.name}."
            )
        else:
            destination = self.path
        self._refuse_if_open(destination)
        if destination == self.path:
            result.backup = str(self._backup())
        self._safe_save(
            workbook,
            destination,
            [(p, header_row) for p, (_, header_row) in zip((plan, *more), applied, strict=True)],
            # The register as it was loaded: it must still be so at the swap (only the SENDCo's own file is swapped).
            expected=loaded.signature if destination == self.path else None,
        )
        result.destination = str(destination)
        for extra in result.more:
            extra.destination, extra.backup = result.destination, result.backup
        if destination == self.path:
            loaded.signature = self._signature()
        return result

    def _apply(self, loaded: _Loaded, plan: WritePlan) -> tuple[WriteResult, int]:
        """One plan's cells into the loaded workbook (nothing saved yet). Returns its result and header row."""
        workbook = loaded.workbook
        result = WriteResult()
        if plan.sheet not in workbook.sheetnames or plan.sheet not in loaded.grids:
            if not plan.create_if_missing or plan.sheet in workbook.sheetnames:
                raise RegisterError(f'{self.path.name} has no worksheet called "{plan.sheet}"; check the sheet name.')
            self._create_sheet(loaded, plan)
            result.created_sheet = True
            result.notes.append(f'Added a "{plan.sheet}" sheet to {self.path.name}, with its column headings.')
        ws = workbook[plan.sheet]
        rows = loaded.grids[plan.sheet]
        header_row = plan.find_header_row(rows)
        if header_row is None:
            raise RegisterError(
                f'The header row could not be found in sheet "{plan.sheet}" of {self.path.name}; '
                "check the column headings, then run again."
            )
        placement = place(
            plan,
            rows,
            header_row,
            first_free=lambda: self._first_free(ws, rows, header_row),
            last_row=lambda: last_used_row(
                rows, header_row, also=[m.max_row - 1 for m in ws.merged_cells.ranges if m.min_row > header_row]
            ),
            formulas=loaded.formulas.get(plan.sheet, frozenset()),
        )
        columns = placement.columns
        for index, header in columns.new_headers.items():
            cell = ws.cell(row=header_row, column=index + 1)
            cell.value = cell_text(header)
            cell.data_type = "s"
            cell.font = Font(bold=True)
            if plan.header_fill:
                cell.fill = solid(plan.header_fill)
        _set_widths(ws, columns.widths, set(columns.new_headers))
        styles = StyleIds(workbook)
        merged_skipped = False
        stored = ws._cells
        for index, cells in placement.cells.items():
            for column, write in cells.items():
                if _nothing_to_write(write) and (index + 1, column + 1) not in stored:
                    continue  # a blank the sheet does not hold yet: a new empty cell would only cost time and bytes
                cell = ws.cell(row=index + 1, column=column + 1)
                if isinstance(cell, MergedCell):
                    merged_skipped = True
                    continue
                write_cell(cell, write, styles, owned=column in columns.owned)
        result.written_rows = placement.written_rows
        result.missing_keys = placement.missing_keys
        if merged_skipped:
            result.notes.append(MERGED_NOTE)
        # A new row's cells set their value (and a date's format) only, except in the product's own columns (the Plan
        # tab's hours coloured against capacity), whose whole look is the product's as on the Google Sheets side.
        for index, cells in placement.appended.items():
            for column, write in cells.items():
                write_cell(ws.cell(row=index + 1, column=column + 1), write, styles, owned=column in columns.owned)
        result.appended_rows = placement.appended_rows
        return result, header_row

    def _create_sheet(self, loaded: _Loaded, plan: WritePlan) -> None:
        """A new worksheet at the end, its headers in row 1 (bold, the plan's header fill)."""
        ws = loaded.workbook.create_sheet(plan.sheet)
        for c, header in enumerate(plan.headers, start=1):
            cell = ws.cell(row=1, column=c)
            cell.value = cell_text(header)
            cell.data_type = "s"
            cell.font = Font(bold=True)
            if plan.header_fill:
                cell.fill = solid(plan.header_fill)
        ws.freeze_panes = "A2"
        _set_widths(ws, {c: w for c, h in enumerate(plan.headers) if (w := _width_of(plan, h)) is not None}, None)
        loaded.grids[plan.sheet] = [list(plan.headers)]

    @staticmethod
    def _first_free(ws: Worksheet, rows: list[list[CellValue]], header_row: int) -> int:
        """One past the last column the SENDCo uses from the header row down: a value, a merge, or a blank cell they
        formatted (a yellow "pupil to watch" fill running past their last column). The product's cells reset their
        look on every run, so columns appended over such a fill would wipe it."""
        last = used_width(rows, header_row, also=[m.max_col for m in ws.merged_cells.ranges if m.max_row >= header_row])
        if ws.max_column > last:  # the sheet's dimension counts formatted cells too: only then look at styles
            # The stored cells only (as _grid reads them): a cell with a style id other than the default's.
            for (r, c), cell in ws._cells.items():
                if c > last and r >= header_row and cell.has_style:
                    last = c
        return last

    # ------------------------------------------------------------------ saving

    def _signature(self) -> Signature:
        return signature(self.path)

    def _refuse_if_open(self, path: Path) -> None:
        refuse_if_open(path)

    def _backup(self) -> Path:
        return backup(self.path, self.backup_dir, self.now(), BACKUPS_KEPT)

    def _safe_save(
        self,
        workbook: Workbook,
        destination: Path,
        plans: list[tuple[WritePlan, int]],
        *,
        expected: Signature | None = None,
    ) -> None:
        """Save to a temporary file beside `destination`, verify it, then swap it in atomically. `expected`: the
        signature `destination` must still have at the swap (raises SavedMeanwhile, the temporary file removed)."""
        atomic_save(
            workbook.save,
            destination,
            verify=lambda temp: self._verify(temp, plans),
            mode_from=self.path,
            unchanged=None if expected is None else lambda: self._signature() == expected,
        )

    def _verify(self, temp: Path, plans: list[tuple[WritePlan, int]]) -> None:
        """A cheap re-open of what was saved: each sheet is there and its header row carries the plan's headers."""
        problem = f"The saved copy of {self.path.name} did not read back correctly, so your workbook was not changed."
        try:
            check = load_workbook(temp, read_only=True, keep_links=False)
        except Exception as err:
            raise RegisterError(problem) from err
        try:
            for plan, header_row in plans:
                if plan.sheet not in check.sheetnames:
                    raise RegisterError(problem)
                headers: set[str] = set()
                for values in check[plan.sheet].iter_rows(min_row=header_row, max_row=header_row, values_only=True):
                    headers = {plan.header_key(str(v)) for v in values if v is not None}
                if any(plan.header_key(h) not in headers for h in plan.headers):
                    raise RegisterError(problem)
        finally:
            check.close()


__all__ = [
    "BACKUPS_KEPT",
    "BACKUP_FOLDER",
    "EXCEL_CELL_LIMIT",
    "OLE_MAGIC",
    "SAVE_ATTEMPTS",
    "WorkbookRegister",
]
