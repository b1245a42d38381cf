"""The Excel workbook adapter: reads a SENDCo's .xlsx/.xlsm register with openpyxl and writes the product's AR cells
back without disturbing anything the SENDCo typed.

It knows nothing of the register's meaning: the header row and each row's pupil key come in through the `WritePlan`.
Saving is defensive because the workbook is the school's system of record: refuse while it is open, keep a timestamped
backup, save to a temporary file, verify it, then swap it in atomically, provided the file is still as it was loaded
(otherwise the write starts again from the SENDCo's newer save). When the workbook holds content openpyxl cannot
round-trip (shapes, slicers, cross-sheet dropdown lists...), the SENDCo's file is left untouched and the results go to
a copy beside it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterable
from copy import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, MergedCell
from openpyxl.cell.rich_text import CellRichText
from openpyxl.drawing.image import PILImage
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE, BUILTIN_FORMATS_REVERSE
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.worksheet.worksheet import Worksheet

from connectors.base import CellValue, CellWrite, RegisterData, RegisterError, SheetData, WritePlan, WriteResult

# Excel stores at most 32,767 characters in a cell; longer text is silently cut by Excel itself on open, or refused.
EXCEL_CELL_LIMIT = 32_767
BACKUPS_KEPT = 10
# Times a write starts again from the SENDCo's newest save when they saved while it was being written.
SAVE_ATTEMPTS = 3
BACKUP_FOLDER = ".keeper-backups"
DEFAULT_DATE_FORMAT = "dd/mm/yyyy"

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
MACRO_SUFFIXES = {".xlsm", ".xltm"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted OOXML file is an OLE container holding an "EncryptionInfo" stream; its directory names are UTF-16.
ENCRYPTION_MARKER = "EncryptionInfo".encode("utf-16-le")

# openpyxl warns while loading when it meets content it will drop on save. Each warning, in the SENDCo's words.
_WARNING_MEANINGS: tuple[tuple[str, str], ...] = (
    ("Data Validation extension", "dropdown lists that point at another sheet"),
    ("Conditional Formatting extension", "conditional formatting such as data bars or icon sets"),
    ("Sparkline Group extension", "sparklines"),
    ("Slicer List extension", "slicers"),
    ("Timeline Ref extension", "timelines"),
    ("Protected Range extension", "protected ranges"),
    ("Web Extension extension", "Office add-ins"),
    ("Ignored Error extension", "ignored error markers"),
    ("extension is not supported", "newer Excel features"),
    ("DrawingML support is incomplete", "shapes or text boxes"),
    ("Unable to read chart", "charts"),
    ("image", "pictures"),
    ("conditional formatting rule", "conditional formatting"),
    ("header or footer", "print headers and footers"),
    ("has a comment", "comments on merged cells"),
    ("Defined names", "named ranges"),
    ("Print area", "print areas"),
    ("invalid specification", "sheets openpyxl cannot read"),
    ("invalid dependency definitions", "linked parts openpyxl cannot read"),
)
# Warnings about things openpyxl replaces with an equivalent default: nothing the SENDCo made is lost.
_HARMLESS_WARNINGS = ("no default style", "no stylesheet", "more than 31 characters")

_DRAWING_PART = re.compile(r"xl/drawings/[^/]+\.xml$")
_VML_PART = re.compile(r"xl/drawings/[^/]+\.vml$")
_VML_OBJECT_TYPE = re.compile(rb'ObjectType\s*=\s*"([A-Za-z]+)"')
_GRAPHIC_URI = re.compile(rb'graphicData\s+uri\s*=\s*"([^"]+)"')
_CHART_URI = b"http://schemas.openxmlformats.org/drawingml/2006/chart"
_SHAPE_TAG = re.compile(rb"<(?:\w+:)?(?:sp|grpSp|cxnSp)[\s>]")
_RICH_RUN = re.compile(rb"<(?:\w+:)?r[\s>]")
_PICTURE_TAG = re.compile(rb"<(?:\w+:)?pic[\s>]")


@dataclass
class _Loaded:
    """The workbook as read, kept for write()."""

    workbook: Workbook
    grids: dict[str, list[list[CellValue]]]
    dropped: list[str]  # what openpyxl would lose on save, in the SENDCo's words
    signature: tuple[int, int]  # (mtime_ns, size) when read: a change means the SENDCo saved since


def _local_now() -> datetime:
    return datetime.now(UTC).astimezone()


class _SavedMeanwhile(Exception):
    """The workbook changed on disk while the results were being saved: replacing it would lose that save."""


class WorkbookRegister:
    """A register kept in an Excel workbook (.xlsx, .xlsm) on disk."""

    def __init__(
        self,
        path: str | Path,
        *,
        backup_dir: Path | None = None,
        now: Callable[[], datetime] = _local_now,
    ) -> None:
        self.path = Path(path)
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
        sheets = [SheetData(title=title, rows=rows) for title, rows in self._loaded.grids.items()]
        return RegisterData(source=self.path.name, sheets=sheets)

    def _load(self) -> _Loaded:
        self._check_is_workbook()
        self._refuse_if_open(self.path)
        stat = self.path.stat()
        keep_vba = self.path.suffix.lower() in MACRO_SUFFIXES
        lost_parts, rich_text = self._inspect_parts()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
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
        dropped = _describe_warnings(str(w.message) for w in caught)
        dropped += [d for d in lost_parts if d not in dropped]
        grids = {ws.title: self._grid(ws) for ws in workbook.worksheets}
        return _Loaded(workbook, grids, dropped, (stat.st_mtime_ns, stat.st_size))

    def _check_is_workbook(self) -> None:
        name = self.path.name
        if self.path.is_dir():
            raise RegisterError(f"{self.path} is a folder, not a workbook; give the path of the register file itself.")
        if not self.path.is_file():
            raise RegisterError(f"{self.path} was not found; check the register's path and run again.")
        suffix = self.path.suffix.lower()
        with self.path.open("rb") as fh:
            head = fh.read(4096)
        if suffix == ".csv" or (not head.startswith((b"PK", OLE_MAGIC)) and _looks_like_text(head)):
            raise RegisterError(
                f"{name} is a CSV file; open it in Excel and save it as an Excel workbook (.xlsx), then run again."
            )
        if head.startswith(OLE_MAGIC):
            with self.path.open("rb") as fh:
                whole = fh.read()
            if ENCRYPTION_MARKER in whole:
                raise RegisterError(
                    f"{name} is protected with a password; in Excel choose File > Info > Protect Workbook > "
                    "Encrypt with Password, clear the password, save, then run again."
                )
            raise RegisterError(
                f"{name} is an old-style Excel 97-2003 workbook (.xls); open it in Excel and save it as an Excel "
                "workbook (.xlsx), then run again."
            )
        if suffix == ".xls":
            raise RegisterError(f"{name} is not a readable .xls workbook; save it as an Excel workbook (.xlsx).")
        if suffix == ".ods":
            raise RegisterError(
                f"{name} is an OpenDocument spreadsheet; save it as an Excel workbook (.xlsx), then run again."
            )
        if suffix == ".xlsb":
            raise RegisterError(
                f"{name} is an Excel binary workbook (.xlsb); save it as an Excel workbook (.xlsx), then run again."
            )
        if suffix not in EXCEL_SUFFIXES:
            raise RegisterError(f"{name} is not an Excel workbook; save the register as .xlsx, then run again.")
        try:
            with zipfile.ZipFile(self.path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError) as err:
            raise RegisterError(
                f"{name} is damaged or not really an Excel workbook; open it in Excel, save it again, then run again."
            ) from err
        if "[Content_Types].xml" not in names:
            raise RegisterError(
                f"{name} is damaged or not really an Excel workbook; open it in Excel, save it again, then run again."
            )

    def _inspect_parts(self) -> tuple[list[str], bool]:
        """Content openpyxl drops silently (no warning), found by looking at the zip's parts; and whether any text
        has formatted runs."""
        found: list[str] = []
        rich_text = False

        def note(what: str) -> None:
            if what not in found:
                found.append(what)

        with zipfile.ZipFile(self.path) as archive:
            names = archive.namelist()
            for part in names:
                if _DRAWING_PART.match(part):
                    xml = archive.read(part)
                    if _SHAPE_TAG.search(xml):
                        note("shapes or text boxes")
                    if any(uri != _CHART_URI for uri in _GRAPHIC_URI.findall(xml)):
                        note("SmartArt or newer chart types")
                    if PILImage is None and _PICTURE_TAG.search(xml):
                        # openpyxl reads pictures through Pillow and drops them without a word when it is missing.
                        note("pictures")
                elif _VML_PART.match(part):
                    kinds = {k.decode() for k in _VML_OBJECT_TYPE.findall(archive.read(part))}
                    if kinds - {"Note"}:
                        note("buttons or form controls")
                elif part.startswith(("xl/ctrlProps/", "xl/activeX/")):
                    note("buttons or form controls")
                elif part.startswith(("xl/slicers/", "xl/slicerCaches/")):
                    note("slicers")
                elif part.startswith(("xl/timelines/", "xl/timelineCaches/")):
                    note("timelines")
                elif part.startswith(("xl/threadedComments/", "xl/persons/")):
                    note("threaded comments")
                elif (
                    part == "xl/connections.xml"
                    or part.startswith("xl/queryTables/")
                    or (
                        part.startswith("customXml/item")
                        and part.endswith(".xml")
                        and b"DataMashup" in archive.read(part)
                    )
                ):
                    note("data connections or Power Query tables")
                elif part == "xl/metadata.xml":
                    note("spilling (dynamic array) formulas")
                elif part.startswith("xl/richData/"):
                    note("pictures in cells or linked data types")
                elif part.endswith("sharedStrings.xml"):
                    rich_text = rich_text or bool(_RICH_RUN.search(archive.read(part)))
        return found, rich_text

    def _grid(self, ws: Worksheet) -> list[list[CellValue]]:
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
            rows[r - 1][c - 1] = _plain(value)
        if formulas:
            self._fill_cached_values(ws.title, rows, formulas)
        return rows

    def _fill_cached_values(self, title: str, rows: list[list[CellValue]], formulas: list[tuple[int, int]]) -> None:
        """Formula cells carry the value Excel last computed; the product never evaluates a formula itself
        (register.md section 3). A second, read-only load of just this sheet fetches those cached values."""
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
                        rows[r - 1][c - 1] = _plain(value)
        finally:
            cached.close()

    # ------------------------------------------------------------------ writing

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
            except _SavedMeanwhile:
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
            what = _join(loaded.dropped)
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
        columns, every_column = self._place_headers(ws, rows, header_row, plan)
        header_key = plan.header_key
        blank_only = {header_key(h) for h in plan.blank_only}
        found: set[object] = set()
        merged_skipped = False
        styles = _StyleIds(workbook)
        for r in range(header_row + 1, len(rows) + 1):
            key = plan.key_of(rows[r - 1])
            if key is None or key not in plan.rows:
                continue
            if plan.first_match_only and key in found:
                continue  # a later duplicate: only the first row with this key is the one the product acts on
            found.add(key)
            for header, write in plan.rows[key].items():
                column = columns.get(header_key(header))
                if column is None:
                    continue
                if header_key(header) in blank_only and not _blank_at(rows, r, column):
                    continue  # the SENDCo typed something here: theirs wins (register.md section 6)
                cell = ws.cell(row=r, column=column)
                if isinstance(cell, MergedCell):
                    merged_skipped = True
                    continue
                _write_cell(cell, write, styles, owned=_is_product_header(header))
            result.written_rows += 1
        result.missing_keys = [key for key in plan.rows if key not in found]
        if merged_skipped:
            result.notes.append("Some AR cells are merged with other cells, so they were left blank; unmerge them.")
        if plan.append_rows:
            next_row = self._last_used_row(ws, rows, header_row) + 1
            for values in plan.append_rows:
                for header, write in values.items():
                    column = every_column.get(header_key(header))
                    if column is not None and write.value not in (None, ""):
                        _write_cell(ws.cell(row=next_row, column=column), write, styles, owned=False)
                next_row += 1
                result.appended_rows += 1
        return result, header_row

    def _create_sheet(self, loaded: _Loaded, plan: WritePlan) -> None:
        """A new worksheet at the end, its headers in row 1 (bold, the plan's header fill)."""
        ws = loaded.workbook.create_sheet(plan.sheet)
        for c, header in enumerate(plan.headers, start=1):
            cell = ws.cell(row=1, column=c)
            cell.value = _text(header)
            cell.data_type = "s"
            cell.font = Font(bold=True)
            if plan.header_fill:
                cell.fill = _solid(plan.header_fill)
        ws.freeze_panes = "A2"
        loaded.grids[plan.sheet] = [list(plan.headers)]

    @staticmethod
    def _last_used_row(ws: Worksheet, rows: list[list[CellValue]], header_row: int) -> int:
        last = header_row
        for r in range(len(rows), header_row, -1):
            if any(v not in (None, "") for v in rows[r - 1]):
                last = r
                break
        for merged in ws.merged_cells.ranges:
            if merged.min_row > header_row:
                last = max(last, merged.max_row)
        return last

    def _place_headers(
        self, ws: Worksheet, rows: list[list[CellValue]], header_row: int, plan: WritePlan
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Find each of the plan's headers wherever the SENDCo moved it; append the missing ones after the last used
        column. Returns the plan's columns, and every header in the row (for appended rows)."""
        header_key = plan.header_key
        existing: dict[str, int] = {}
        for c, value in enumerate(rows[header_row - 1], start=1):
            if isinstance(value, str) and header_key(value) and header_key(value) not in existing:
                existing[header_key(value)] = c
        columns: dict[str, int] = {}
        next_column = 0  # worked out only when a header is missing (once the AR columns exist, never)
        for header in plan.headers:
            key = header_key(header)
            if key in existing:
                columns[key] = existing[key]
                continue
            if not next_column:
                next_column = self._last_used_column(ws, rows, header_row) + 1
            cell = ws.cell(row=header_row, column=next_column)
            cell.value = _text(header)
            cell.data_type = "s"
            cell.font = Font(bold=True)
            if plan.header_fill:
                cell.fill = _solid(plan.header_fill)
            columns[key] = next_column
            existing[key] = next_column
            next_column += 1
        return columns, existing

    @staticmethod
    def _last_used_column(ws: Worksheet, rows: list[list[CellValue]], header_row: int) -> int:
        """The last column the SENDCo uses from the header row down: a value, a merge, or a blank cell they formatted
        (a yellow "pupil to watch" fill running past their last column). AR cells are the product's and reset their
        look on every run, so AR columns appended over such a fill would wipe it."""
        last = 0
        for values in rows[header_row - 1 :]:
            for c in range(len(values), last, -1):
                if values[c - 1] not in (None, ""):
                    last = c
                    break
        for merged in ws.merged_cells.ranges:
            if merged.max_row >= header_row:
                last = max(last, merged.max_col)
        if ws.max_column > last:  # the sheet's dimension counts formatted cells too: only then look at styles
            # The stored cells only (as _grid reads them): a cell with a style id other than the default's.
            for (r, c), cell in ws._cells.items():
                if c > last and r >= header_row and cell.has_style:
                    last = c
        return last

    # ------------------------------------------------------------------ saving

    def _signature(self) -> tuple[int, int]:
        stat = self.path.stat()
        return (stat.st_mtime_ns, stat.st_size)

    def _refuse_if_open(self, path: Path) -> None:
        name = path.name
        # Excel's owner file is "~$" + the name, or "~$" replacing the first two characters for longer names;
        # LibreOffice writes ".~lock.<name>#".
        candidates = {f"~${name}", f"~${name[2:]}", f".~lock.{name}#"}
        if any((path.parent / lock).exists() for lock in candidates):
            raise RegisterError(f"{name} is open in Excel (or LibreOffice) on some computer; close it and run again.")

    def _backup(self) -> Path:
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        stem, suffix = self.path.stem, self.path.suffix
        stamp = self.now().strftime("%Y%m%d-%H%M%S")
        target = self.backup_dir / f"{stem}-{stamp}{suffix}"
        counter = 2
        while target.exists():
            target = self.backup_dir / f"{stem}-{stamp}-{counter}{suffix}"
            counter += 1
        shutil.copy2(self.path, target)
        pattern = re.compile(rf"{re.escape(stem)}-(\d{{8}}-\d{{6}})(?:-(\d+))?{re.escape(suffix)}")
        backups = []
        for entry in self.backup_dir.iterdir():
            match = pattern.fullmatch(entry.name)
            if match:
                backups.append(((match.group(1), int(match.group(2) or 1)), entry))
        backups.sort()
        for _, old in backups[:-BACKUPS_KEPT]:
            old.unlink(missing_ok=True)
        return target

    def _safe_save(
        self,
        workbook: Workbook,
        destination: Path,
        plans: list[tuple[WritePlan, int]],
        *,
        expected: tuple[int, int] | None = None,
    ) -> None:
        """Save to a temporary file beside `destination`, verify it, then swap it in atomically. `expected`: the
        signature `destination` must still have at the swap (raises _SavedMeanwhile, the temporary file removed)."""
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{destination.stem}.keeper-", suffix=destination.suffix, dir=destination.parent
        )
        os.close(handle)
        temp = Path(temp_name)
        try:
            workbook.save(temp)
            self._verify(temp, plans)
            # mkstemp makes the file private (0600); keep the permissions the register has on a shared drive.
            shutil.copymode(destination if destination.exists() else self.path, temp)
            # Checked again at the last moment: saving and verifying a large workbook takes seconds, and a SENDCo's
            # save in that time must not be replaced by a version built on what they had before.
            if expected is not None and self._signature() != expected:
                raise _SavedMeanwhile
            os.replace(temp, destination)
        except (RegisterError, _SavedMeanwhile):
            temp.unlink(missing_ok=True)
            raise
        except Exception as err:
            temp.unlink(missing_ok=True)
            raise RegisterError(
                f"The results could not be saved to {destination.name} ({type(err).__name__}); "
                "your workbook was not changed."
            ) from err

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


# ---------------------------------------------------------------------- helpers


class _StyleIds:
    """Indexes into the workbook's style tables, computed once per distinct fill, number format and boldness.
    openpyxl's `cell.fill = ...` hashes the whole style object on every call, which made writing 2,000 rows cost
    several times a plain load and save; here each AR cell costs a few dictionary look-ups."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self.fills: dict[str | None, int] = {}
        self.formats: dict[str, int] = {}
        self.bold_fonts: dict[tuple[int, bool], int] = {}

    def fill(self, rgb: str | None) -> int:
        if rgb not in self.fills:
            fill = _solid(rgb) if rgb else PatternFill(fill_type=None)
            self.fills[rgb] = self.workbook._fills.add(fill)
        return self.fills[rgb]

    def number_format(self, code: str) -> int:
        if code not in self.formats:
            if code in BUILTIN_FORMATS_REVERSE:
                self.formats[code] = BUILTIN_FORMATS_REVERSE[code]
            else:
                self.formats[code] = self.workbook._number_formats.add(code) + BUILTIN_FORMATS_MAX_SIZE
        return self.formats[code]

    def font(self, font_id: int, bold: bool) -> int:
        key = (font_id, bold)
        if key not in self.bold_fonts:
            font = copy(self.workbook._fonts[font_id])
            if bool(font.b) == bold:
                self.bold_fonts[key] = font_id
            else:
                font.b = bold
                self.bold_fonts[key] = self.workbook._fonts.add(font)
        return self.bold_fonts[key]


def _is_product_header(header: str) -> bool:
    """The product's own columns start with "AR " (register.md section 5); every other column is the SENDCo's."""
    return _norm(header).startswith("ar ")


def _write_cell(cell: Cell, write: CellWrite, styles: _StyleIds, *, owned: bool = True) -> None:
    """Write one cell. In the product's own columns every run sets the whole look (a fill from an earlier run must go).
    In the SENDCo's columns (Requested, Chasers ... of the Contributions tab) only the value changes, with a date
    format where a date needs one: their fill, font and number formats stay theirs."""
    value = write.value
    if isinstance(value, str):
        # Stored as a string whatever it looks like: "=HYPERLINK(...)" must never become a formula (register.md 5).
        cell._value = _text(value)
        cell.data_type = "s"
        number_format = write.number_format or "General"
    elif isinstance(value, date):
        cell._value = value
        cell.data_type = "d"
        number_format = write.number_format or DEFAULT_DATE_FORMAT
    elif isinstance(value, bool | int | float):
        cell._value = value
        cell.data_type = "b" if isinstance(value, bool) else "n"
        number_format = write.number_format or "General"
    elif value is None:
        cell._value = None
        cell.data_type = "n"
        number_format = write.number_format or "General"
    else:
        raise TypeError(f"cannot write a {type(value).__name__} into a cell")
    if cell._style is None:
        cell._style = StyleArray()
    style = cell._style
    if not owned:
        if write.number_format is not None or isinstance(value, date):
            style.numFmtId = styles.number_format(number_format)
        if write.fill is not None:
            style.fillId = styles.fill(write.fill)
        return
    style.numFmtId = styles.number_format(number_format)
    # A cell without a fill this time must lose the colour an earlier run gave it (e.g. OVERDUE now ON TRACK).
    style.fillId = styles.fill(write.fill)
    style.fontId = styles.font(style.fontId, write.bold)


def _blank_at(rows: list[list[CellValue]], row: int, column: int) -> bool:
    values = rows[row - 1] if row - 1 < len(rows) else []
    return column - 1 >= len(values) or values[column - 1] in (None, "")


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:EXCEL_CELL_LIMIT]


def _solid(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


def _norm(header: str) -> str:
    return header.strip().casefold()


def _plain(value: object) -> CellValue:
    if isinstance(value, CellRichText):
        return str(value)
    if isinstance(value, time | timedelta):
        return str(value)
    return value  # type: ignore[return-value]


def _describe_warnings(messages: Iterable[str]) -> list[str]:
    found: list[str] = []
    for message in messages:
        if any(harmless in message for harmless in _HARMLESS_WARNINGS):
            continue
        meaning = next((m for pattern, m in _WARNING_MEANINGS if pattern in message), "content openpyxl cannot read")
        if meaning not in found:
            found.append(meaning)
    return found


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _looks_like_text(head: bytes) -> bool:
    """Delimited text (a CSV saved with an Excel name): printable characters and a separator."""
    if not head or b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * len(text) and any(sep in text for sep in (",", ";", "\t"))
