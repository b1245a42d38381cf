"""Writing one cell with openpyxl: its value typed as the product means it (text never a formula, dates as dates)
and its look (the product's own columns reset theirs on every run; the SENDCo's keep theirs)."""

from __future__ import annotations

from copy import copy
from datetime import date, time, timedelta

from openpyxl.cell.cell import Cell
from openpyxl.cell.rich_text import CellRichText
from openpyxl.styles import PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE, BUILTIN_FORMATS_REVERSE
from openpyxl.workbook.workbook import Workbook

from connectors.base import CellValue, CellWrite
from sheet_schema.output_text import xlsx_text

# Excel stores at most 32,767 characters in a cell; longer text is silently cut by Excel itself on open, or refused.
EXCEL_CELL_LIMIT = 32_767
DEFAULT_DATE_FORMAT = "dd/mm/yyyy"


class StyleIds:
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
            fill = solid(rgb) if rgb else PatternFill(fill_type=None)
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


def write_cell(cell: Cell, write: CellWrite, styles: StyleIds, *, owned: bool = True) -> None:
    """Write one cell. In the product's own columns every run sets the whole look (a fill from an earlier run must go).
    In the SENDCo's columns (Requested, Chasers ... of the Contributions tab) only the value changes, with a date
    format where a date needs one: their fill, font and number formats stay theirs."""
    value = write.value
    if isinstance(value, str):
        # Stored as a string whatever it looks like: "=HYPERLINK(...)" must never become a formula (docs/register.md s5).
        cell._value = cell_text(value)
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


def cell_text(value: str) -> str:
    return xlsx_text(value)


def solid(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


def plain_value(value: object) -> CellValue:
    if isinstance(value, CellRichText):
        return str(value)
    if isinstance(value, time | timedelta):
        return str(value)
    return value  # type: ignore[return-value]
