"""How the Graph register adapter names things and moves cells (pure, no I/O): register references (a sharing link
or `graph:<drive-id>/<item-id>`) to Graph paths, range answers to rows, and product cells to what a range PATCH takes
under Excel's input rules (docs/register.md s5: text stays text, dates are real dates)."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlparse

from connectors.base import CellValue, CellWrite, RegisterError

DEFAULT_DATE_FORMAT = "dd/mm/yyyy"
_GRAPH_REF = re.compile(r"graph:([^/\s]+)/([^/\s]+)")
_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 (Excel serials are wall-clock times)


def is_graph_reference(text: str) -> bool:
    """True for `graph:<drive-id>/<item-id>` or an https link to OneDrive or SharePoint."""
    text = text.strip()
    if _GRAPH_REF.fullmatch(text):
        return True
    host = (urlparse(text).hostname or "").lower() if text.startswith("https://") else ""
    return host.endswith(".sharepoint.com") or host in ("1drv.ms", "onedrive.live.com")


def item_path(ref: str) -> str:
    """The Graph path that resolves `ref` to its drive item."""
    text = ref.strip()
    match = _GRAPH_REF.fullmatch(text)
    if match:
        return f"/drives/{quote(match.group(1), safe='!')}/items/{quote(match.group(2), safe='')}"
    host = (urlparse(text).hostname or "").lower() if text.startswith("https://") else ""
    if host in ("1drv.ms", "onedrive.live.com"):
        raise RegisterError(
            "That is a personal OneDrive link, and Microsoft's Excel API works only on work or school files: move the "
            "register to the school's OneDrive or SharePoint and share that link."
        )
    if not host.endswith(".sharepoint.com"):
        raise RegisterError(f"{ref!r} is not a OneDrive or SharePoint link; copy the register's link with Share > "
                            "Copy link in OneDrive or SharePoint.")  # fmt: skip
    token = base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")
    return f"/shares/u!{token}/driveItem"  # Graph's encoding of a sharing URL (the shares API)


def sheet_path(title: str) -> str:
    """/worksheets/{name}, as Graph documents it (the name percent-encoded: spaces, quotes and slashes included)."""
    return "/worksheets/" + quote(title, safe="")


# Text Excel would not keep as typed (its input rules): a formula or sign ("=", "+", "-", "@"), a leading apostrophe
# of its own, an error literal, or something it reads as a number, date, time, fraction, currency or boolean.
_CONVERTED = re.compile(
    r"""[=+\-@'#]|\s*[\d.,$£€(]|\s*(true|false)\s*$
    |\s*(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[\s\-/,]*\d""",
    re.IGNORECASE | re.VERBOSE,
)


def as_typed(text: str) -> str:
    """Text as it must be PATCHed to stay that text: with a leading apostrophe (which Excel keeps out of the value)
    where Excel's input rules would otherwise make it a formula, a number, a date or a boolean (docs/register.md s5)."""
    return "'" + text if _CONVERTED.match(text) else text


def column_letters(index: int) -> str:
    letters, index = "", index + 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _address_corner(address: str) -> tuple[int, int]:
    """0-based (row, column) of a returned address's top-left cell: "'My tab'!B3:F9" -> (2, 1)."""
    cells = address.rsplit("!", 1)[-1].split(":", 1)[0].replace("$", "")
    match = re.fullmatch(r"([A-Za-z]+)(\d+)", cells)
    if not match:
        return 0, 0
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)) - 1, column - 1


def _value(value: Any) -> CellValue:
    if isinstance(value, bool | str):
        return value if value != "" else None
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else value
    return None


def rows_of(body: Any) -> list[list[CellValue]]:
    """A range answer's values placed from A1 (dates stay serial numbers, as the Sheets adapter hands them over)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("values"), list):
        return []
    row0, col0 = _address_corner(str(body.get("address", "")))
    rows: list[list[CellValue]] = [[] for _ in range(row0)]
    for values in body["values"]:
        row = [None] * col0 + [_value(v) for v in (values if isinstance(values, list) else [])]
        while row and row[-1] is None:
            row.pop()
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _serial(value: date | datetime) -> int | float:
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - _EPOCH
        return delta.days + delta.seconds / 86400
    return (value - _EPOCH.date()).days


def excel_input(cell: CellWrite, owned: bool) -> tuple[Any, str | None]:
    """(value, number format) to PATCH. The product's own cells always get a format, so an old date format never
    lingers on text; the SENDCo's cells get one only with a date."""
    value = cell.value
    if isinstance(value, date):
        timestamp = isinstance(value, datetime)
        return _serial(value), cell.number_format or (
            f"{DEFAULT_DATE_FORMAT} hh:mm" if timestamp else DEFAULT_DATE_FORMAT
        )
    general = "General" if owned else None
    if value is None or value == "":
        return "", general
    if isinstance(value, bool | int | float):
        return value, cell.number_format or general
    return as_typed(str(value)), general
