"""The Google Sheets register adapter (gspread + google-auth).

Quota is the design constraint: Google allows 60 read and 60 write requests per minute per user, and one service
account may serve a whole trust. So a sweep costs three requests whatever the number of pupils:

1. `read()`: one `spreadsheets.get` with `includeGridData` and a `fields` mask that keeps only each cell's
   `effectiveValue` (the computed value of a formula; dates come back as serial numbers, epoch 1899-12-30), for every
   tab at once (the register and the Contributions tab together).
2. `write()` re-reads the register tab (one `spreadsheets.get`) just before writing, because the SENDCo and colleagues
   edit the sheet while a sweep runs: the header and every pupil's row are located *now*, by the plan's key. While
   the product still has columns to add (the first sweep), it also asks for each cell's own background colour, so the
   new columns go after blank cells the SENDCo coloured, not over them.
3. `write()` then sends ONE `spreadsheets.batchUpdate` (atomic on Google's side: all of it or none of it) holding
   `appendDimension` when the grid is too narrow for the AR columns, the AR header cells and every AR cell, with typed
   values: dates as `numberValue` serials with a DATE number format, text always as `stringValue` (never a formula and
   never the user-entered input option, so a value such as `=HYPERLINK(...)` stays inert text).

Every request has a timeout; 408, 429 and 5xx (and timeouts, dropped connections) are retried with capped exponential
back-off, jitter and `Retry-After`, within an overall deadline per operation (one read(), one write()). A failed
write batch is never resent as it was: each retry re-reads the register tab and rebuilds the batch, because rows may
have moved during the wait (2 requests per write retry; none when nothing fails). gspread's own back-off client is
not used: in 6.2.1 it retries without a deadline and reads the status from the JSON body, which a bare 429 does not have.

`SHEETS_EMULATOR_HOST=host:port` sends every Sheets API request to `http://host:port` with anonymous credentials,
as Google's own emulators do. Other Sheets-compatible servers need not answer as Google does, so the answers are read
tolerantly: fields beyond the mask are ignored, absent proto3 zeros and gridProperties are defaulted, tabs are picked by
title (a server may ignore `ranges`), a cell without `effectiveValue` falls back to what was typed (never a formula's
text), and a server that sends no grid data at all is read with one `values:batchGet` (unformatted, serial dates) after
the `spreadsheets.get`. That costs one more request per sweep (4), and only on such a server: the re-read is then that
`values:batchGet` alone. Google always sends grid data, so it still gets 3.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from google.auth import exceptions as auth_exceptions
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL, SPREADSHEETS_API_V4_BASE_URL

from connectors.base import CellValue, CellWrite, RegisterData, RegisterError, SheetData, WritePlan, WriteResult

log = logging.getLogger(__name__)

# Only the spreadsheets scope: the product never needs Drive (it opens the sheet by key, never lists files).
SHEETS_SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
EMULATOR_ENV = "SHEETS_EMULATOR_HOST"
_GOOGLE_API_ORIGIN = SPREADSHEETS_API_V4_BASE_URL.split("/v4/", 1)[0]  # https://sheets.googleapis.com

# Sheets and Excel share the 1899-12-30 epoch (it absorbs Lotus 1-2-3's phantom 29 Feb 1900).
_SERIAL_EPOCH = date(1899, 12, 30)

_URL_KEY = re.compile(r"docs\.google\.com/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]{20,})")
# Spreadsheet keys are 44 characters today; allow some slack but never a dot or slash, so a file name never matches.
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]{30,100}")

DEFAULT_DATE_FORMAT = "dd/mm/yyyy"  # Excel-style "dd/mm/yyyy" is also a valid Sheets date pattern
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_ERROR_TEXT = {
    "NULL_VALUE": "#NULL!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "ERROR": "#ERROR!",
    "LOADING": "#LOADING",
}

# One read of everything: per tab its title, id, type and grid size, its merges, and each cell's computed value only.
# (sheetType and merges are a few bytes: they let the values-only fallback below skip chart tabs and re-read rows alone.)
_READ_FIELDS = (
    "properties.title,"
    "sheets(properties(sheetId,title,sheetType,gridProperties(rowCount,columnCount)),merges,"
    "data(startRow,startColumn,rowData(values(effectiveValue))))"
)
# The fallback for a Sheets-compatible server that sends no grid data: values as spreadsheets.get's effectiveValue
# gives them (unformatted, dates as serial numbers, one list per row).
_VALUES_PARAMS = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
}


def is_sheet_reference(text: str) -> bool:
    """True for a Google Sheets URL (docs.google.com/spreadsheets/d/KEY/...) or a bare spreadsheet key."""
    text = text.strip()
    return bool(_URL_KEY.search(text)) or bool(_BARE_KEY.fullmatch(text))


def spreadsheet_key(ref: str) -> str:
    """The spreadsheet key inside a URL, or the bare key itself."""
    ref = ref.strip()
    match = _URL_KEY.search(ref)
    if match:
        return match.group(1)
    if _BARE_KEY.fullmatch(ref):
        return ref
    raise RegisterError(f"{ref!r} is neither a Google Sheets link nor a spreadsheet key.")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries. `timeout_s` is per request (connect, read); `deadline_s` bounds one read() or write()."""

    timeout_s: tuple[float, float] = (10.0, 60.0)
    deadline_s: float = 120.0
    max_attempts: int = 6
    base_delay_s: float = 1.0
    max_delay_s: float = 32.0  # Google's own guidance for Sheets: exponential back-off capped at 32-64 s


class _Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._ends = clock() + seconds

    def remaining(self) -> float:
        return self._ends - self._clock()


class _TransientFailure(Exception):
    """A failure worth retrying; `wait_hint` is the server's Retry-After in seconds, if any. `ambiguous`: the server may
    have applied the request (a 5xx, or no answer after sending), as opposed to refusing it (408, 429, no connection)."""

    def __init__(self, reason: str, wait_hint: float | None = None, *, ambiguous: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_hint = wait_hint
        self.ambiguous = ambiguous


class RetryWrite(Exception):
    """A write failed in a way worth retrying, but not as it was: rows may have moved while waiting, so the caller
    re-reads the sheet and rebuilds the batch first."""

    def __init__(self, failure: _TransientFailure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


def _retry_after_seconds(response: requests.Response | None) -> float | None:
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # the HTTP-date form
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class BoundedHTTPClient(HTTPClient):
    """gspread's HTTPClient with a timeout on every request, bounded retries and an optional base URL (the emulator).

    The status code is taken from the HTTP response, not from the JSON body: a 429 from a proxy or the front end often
    has no JSON, and gspread's APIError then reports code -1.
    """

    def __init__(
        self,
        auth: Any,
        session: requests.Session | None = None,
        *,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(auth, session)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.policy = policy or RetryPolicy()
        self.set_timeout(self.policy.timeout_s)
        self._sleep = sleep
        self._clock = clock
        self._deadline: _Deadline | None = None
        self.requests_sent = 0  # HTTP requests actually sent, retries included
        # False while sending the write batch: it is never resent as it was (see SheetsRegister.write).
        self.repeatable = True

    def start_deadline(self) -> None:
        self._deadline = _Deadline(self.policy.deadline_s, self._clock)

    def backoff(self, attempt: int, failure: _TransientFailure) -> float:
        """Seconds to wait before the next attempt: capped exponential with "equal jitter" (at least half the step,
        so retries never bunch at zero and sweeps sharing one service account's quota spread out), and never less
        than the server's Retry-After."""
        step = min(self.policy.max_delay_s, self.policy.base_delay_s * 2 ** (attempt - 1))
        return max(step / 2 + random.uniform(0, step / 2), failure.wait_hint or 0.0)

    def remaining(self) -> float:
        return self._deadline.remaining() if self._deadline else self.policy.deadline_s

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def _rewrite(self, endpoint: str) -> str:
        if self.base_url and endpoint.startswith(_GOOGLE_API_ORIGIN):
            return self.base_url + endpoint[len(_GOOGLE_API_ORIGIN) :]
        return endpoint

    def _timeout(self, remaining: float) -> tuple[float, float]:
        connect, read = self.policy.timeout_s
        # Never wait on one request past the operation's deadline.
        return (max(0.1, min(connect, remaining)), max(0.1, min(read, remaining)))

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        endpoint = self._rewrite(endpoint)
        deadline = self._deadline or _Deadline(self.policy.deadline_s, self._clock)
        last_reason = "no attempt was made"
        for attempt in range(1, self.policy.max_attempts + 1):
            remaining = deadline.remaining()
            if remaining <= 0:
                break
            self.timeout = self._timeout(remaining)
            try:
                return self._attempt(method, endpoint, *args, **kwargs)
            except _TransientFailure as failure:
                last_reason = failure.reason
                if not self.repeatable:
                    raise RetryWrite(failure) from failure
                if attempt == self.policy.max_attempts:
                    break
                wait = self.backoff(attempt, failure)
                if wait >= deadline.remaining():
                    break
                log.info("Google Sheets: %s; retrying in %.1f s (attempt %d)", failure.reason, wait, attempt)
                self._sleep(wait)
        raise RegisterError(
            f"Google Sheets kept failing ({last_reason}, {attempt} attempts), so the sweep stopped before writing "
            "anything; the next sweep will try again."
        )

    def _attempt(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        self.requests_sent += 1
        try:
            return super().request(method, endpoint, *args, **kwargs)
        except APIError as err:
            status = err.response.status_code
            if status in _RETRYABLE_STATUS:
                wait_hint = _retry_after_seconds(err.response)
                raise _TransientFailure(f"HTTP {status}", wait_hint, ambiguous=status >= 500) from err
            raise
        except requests.ConnectTimeout as err:
            raise _TransientFailure("no connection within the timeout") from err
        except requests.Timeout as err:
            raise _TransientFailure("no answer within the timeout", ambiguous=True) from err
        except requests.ConnectionError as err:
            raise _TransientFailure("the connection failed", ambiguous=True) from err
        except auth_exceptions.TransportError as err:
            # The access token could not be fetched (Google's token endpoint unreachable): nothing was sent yet.
            raise _TransientFailure("the sign-in service did not answer") from err
        except auth_exceptions.RefreshError as err:
            raise RegisterError(
                "Google refused the service account's credentials; check the key file or the function's service account."
            ) from err


def _explain(err: APIError, key: str) -> RegisterError:
    status = err.response.status_code
    if status == 404:
        return RegisterError(f"No Google Sheet has the key {key}: check the link.")
    if status in (401, 403):
        return RegisterError(
            "The Google Sheet could not be opened: share it (as Editor) with the service account the product runs as."
        )
    message = str(err.error.get("message", "")).split("\n")[0][:200]
    return RegisterError(f"Google Sheets refused the request (HTTP {status}): {message}")


def _credentials() -> Any:
    import google.auth
    from google.auth.credentials import AnonymousCredentials
    from google.oauth2 import service_account

    if os.environ.get(EMULATOR_ENV):
        return AnonymousCredentials()
    key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if key_file:
        return service_account.Credentials.from_service_account_file(key_file, scopes=list(SHEETS_SCOPES))
    credentials, _project = google.auth.default(scopes=list(SHEETS_SCOPES))
    return credentials


def open_sheet_register(
    ref: str,
    *,
    credentials: Any = None,
    deadline_s: float = 120,
    policy: RetryPolicy | None = None,
) -> SheetsRegister:
    """Open a Google Sheet as the register. Makes no request until `read()`.

    Credentials: the given ones, else anonymous when SHEETS_EMULATOR_HOST is set, else the service-account key file
    named by GOOGLE_APPLICATION_CREDENTIALS, else the runtime's default credentials (Cloud Functions), with the
    spreadsheets scope only.
    """
    key = spreadsheet_key(ref)
    emulator = os.environ.get(EMULATOR_ENV, "").strip()
    base_url = None
    if emulator:
        base_url = emulator if emulator.startswith(("http://", "https://")) else f"http://{emulator}"
        if credentials is None:
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()
    try:
        creds = credentials if credentials is not None else _credentials()
    except Exception as err:  # google.auth.exceptions.DefaultCredentialsError, a bad key file
        raise RegisterError(
            "No Google credentials were found: set GOOGLE_APPLICATION_CREDENTIALS to the service account's key file."
        ) from err
    policy = policy or RetryPolicy(deadline_s=deadline_s)
    return SheetsRegister(key, BoundedHTTPClient(creds, base_url=base_url, policy=policy))


_NO_VALUE = object()  # an ExtendedValue holding no kind this adapter knows


def _number(value: float) -> int | float:
    """Google sends a whole number as 5, some servers (Java's JSON writers) as 5.0: both read as Google's 5."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _extended_value(value: Any) -> Any:
    """An ExtendedValue as a cell value; `_NO_VALUE` when it holds none (absent, empty, or an unknown kind)."""
    if not isinstance(value, Mapping):
        return _NO_VALUE
    if "stringValue" in value:
        text = value["stringValue"]
        return str(text) if text not in (None, "") else None
    if "numberValue" in value:
        number = value["numberValue"]
        if isinstance(number, int | float) and not isinstance(number, bool):
            return _number(number)
        try:  # proto3 JSON may spell NaN/Infinity, or a lax server a number, as a string
            return _number(float(number))
        except (TypeError, ValueError):
            return _NO_VALUE
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "errorValue" in value:
        error = value["errorValue"] if isinstance(value["errorValue"], Mapping) else {}
        return _ERROR_TEXT.get(str(error.get("type", "ERROR")), "#ERROR!")
    return _NO_VALUE


def _cell_value(cell: Any) -> CellValue:
    """A CellData's value: the computed `effectiveValue`, else (a server that sends only what was typed) the
    `userEnteredValue` of a cell that is not a formula. A formula's text is never a value: without its computed value
    the cell reads as blank, as an uncalculated formula does in Excel."""
    if not isinstance(cell, Mapping):
        return None
    value = _extended_value(cell.get("effectiveValue"))
    if value is _NO_VALUE:
        entered = cell.get("userEnteredValue")
        if isinstance(entered, Mapping) and "formulaValue" not in entered:
            value = _extended_value(entered)
    return None if value is _NO_VALUE else value


def _place(rows: list[list[CellValue]], index: int, start_col: int, values: list[CellValue]) -> None:
    while values and values[-1] is None:
        values.pop()
    if not values:
        return
    while len(rows) <= index:
        rows.append([])
    row = rows[index]
    needed = start_col + len(values)
    if len(row) < needed:
        row.extend([None] * (needed - len(row)))
    row[start_col:needed] = values


def _int(value: Any) -> int:
    """A proto3 integer: absent (zero), a JSON number, or (int64) a string."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _grid_rows(sheet: Mapping[str, Any]) -> list[list[CellValue]]:
    """The tab's values from row 1 / column A (blank rows and cells kept, trailing blanks trimmed).

    Tolerant of what Sheets-compatible servers legitimately leave out or add: proto3 JSON omits zero fields (a
    missing startRow is row 0), empty rows come as {} with no `values`, trailing blank cells and rows are omitted, and
    a server that ignores the `fields` mask adds formattedValue, formats and the like, which are simply not read."""
    rows: list[list[CellValue]] = []
    blocks = sheet.get("data")
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Mapping):
            continue
        start_row = _int(block.get("startRow"))
        start_col = _int(block.get("startColumn"))
        row_data = block.get("rowData")
        for offset, row in enumerate(row_data if isinstance(row_data, list) else []):
            cells = row.get("values") if isinstance(row, Mapping) else None
            values = [_cell_value(c) for c in cells] if isinstance(cells, list) else []
            _place(rows, start_row + offset, start_col, values)
    return rows


def _a1_column(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return max(index - 1, 0)


def _split_range(text: Any) -> tuple[str | None, int, int]:
    """A returned A1 range ("'My tab'!A1:Z1000", "Tab!B3:F9", "'Tab'") as (tab title, first row, first column)."""
    if not isinstance(text, str) or not text:
        return None, 0, 0
    quoted = re.fullmatch(r"'((?:[^']|'')*)'(?:!(.*))?", text)
    if quoted:
        title, cells = quoted.group(1).replace("''", "'"), quoted.group(2) or ""
    elif "!" in text:
        title, cells = text.rsplit("!", 1)
    else:
        title, cells = text, ""
    corner = re.match(r"([A-Za-z]*)(\d*)", cells.split(":", 1)[0])
    letters, digits = (corner.group(1), corner.group(2)) if corner else ("", "")
    return title, max(int(digits) - 1, 0) if digits else 0, _a1_column(letters) if letters else 0


def _plain_value(value: Any) -> CellValue:
    """One value of a values:batchGet answer (UNFORMATTED_VALUE): a number, a string, a boolean; "" is blank."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return value or None
    return None


def _values_rows(value_range: Mapping[str, Any]) -> list[list[CellValue]]:
    """A ValueRange's values placed from row 1 / column A, as `_grid_rows` gives them."""
    _title, row0, col0 = _split_range(value_range.get("range"))
    values = value_range.get("values")
    grid = [list(r) if isinstance(r, list) else [] for r in values] if isinstance(values, list) else []
    if str(value_range.get("majorDimension", "ROWS")).upper() == "COLUMNS":  # a server that ignored majorDimension
        height = max((len(c) for c in grid), default=0)
        grid = [[c[r] if r < len(c) else None for c in grid] for r in range(height)]
    rows: list[list[CellValue]] = []
    for offset, row in enumerate(grid):
        _place(rows, row0 + offset, col0, [_plain_value(v) for v in row])
    return rows


def _serial(value: date | datetime) -> float | int:
    days = ((value.date() if isinstance(value, datetime) else value) - _SERIAL_EPOCH).days
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return days + seconds / 86400  # wall-clock time as typed; Sheets serials carry no time zone
    return days


def _colour(hex_rgb: str) -> dict[str, float]:
    hex_rgb = hex_rgb.lstrip("#")[-6:]
    red, green, blue = (round(int(hex_rgb[i : i + 2], 16) / 255, 4) for i in (0, 2, 4))
    return {"red": red, "green": green, "blue": blue}


# Every AR cell sets the same fields, as the workbook adapter does: a field the CellWrite leaves empty is reset, so a
# fill from an earlier run (OVERDUE red, now ON TRACK) or a date format on a cell that now holds text does not linger.
_AR_CELL_FIELDS = (
    "userEnteredValue",
    "userEnteredFormat.numberFormat",
    "userEnteredFormat.backgroundColor",
    "userEnteredFormat.textFormat.bold",
)
SHEETS_CELL_LIMIT = 50_000  # characters Google Sheets holds in one cell


def _cell_data(cell: CellWrite) -> dict[str, Any]:
    """The CellData for one AR cell (written under the _AR_CELL_FIELDS mask)."""
    data: dict[str, Any] = {}
    value = cell.value
    fmt: dict[str, Any] = {}
    if value is None or value == "":
        pass  # the value is in the mask but absent from the data: the cell is cleared (Sheets keeps no empty text)
    elif isinstance(value, bool):
        data["userEnteredValue"] = {"boolValue": value}
    elif isinstance(value, date):  # datetime too
        data["userEnteredValue"] = {"numberValue": _serial(value)}
        kind = "DATE_TIME" if isinstance(value, datetime) else "DATE"
        fmt["numberFormat"] = {"type": kind, "pattern": cell.number_format or DEFAULT_DATE_FORMAT}
    elif isinstance(value, int | float):
        data["userEnteredValue"] = {"numberValue": value}
        if cell.number_format:
            fmt["numberFormat"] = {"type": "NUMBER", "pattern": cell.number_format}
    else:
        # Text is always stringValue: "=HYPERLINK(...)" or "+44..." must stay text, never become a formula.
        data["userEnteredValue"] = {"stringValue": str(value)[:SHEETS_CELL_LIMIT]}
        if cell.number_format and cell.number_format != "General":
            fmt["numberFormat"] = {"type": "TEXT", "pattern": cell.number_format}
    if cell.fill:
        fmt["backgroundColor"] = _colour(cell.fill)
    if cell.bold:
        fmt["textFormat"] = {"bold": True}
    if fmt:
        data["userEnteredFormat"] = fmt
    return data


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _a1_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class _Tab:
    sheet_id: int
    column_count: int
    rows: list[list[CellValue]]
    merges: list[Mapping[str, Any]]
    row_count: int = 1000
    # Per row (0-based), one past the last cell with a background colour the SENDCo set; only when re-read with
    # formats (the first write of new columns), else empty.
    filled_widths: tuple[int, ...] = ()


# The write-time re-read: what _READ_FIELDS holds for the tabs being written. `_FILLS_FIELDS` adds each cell's own
# background colour, only while the product still has columns to add: appended AR cells reset their look, so they go
# after the SENDCo's coloured blanks as well as their values. Cells without a colour add nothing (an empty object).
_REREAD_FIELDS = (
    "sheets(properties(sheetId,title,sheetType,gridProperties(rowCount,columnCount)),merges,"
    "data(startRow,startColumn,rowData(values(effectiveValue))))"
)
_FILLS_FIELDS = (
    "sheets(properties(sheetId,title,sheetType,gridProperties(rowCount,columnCount)),merges,"
    "data(startRow,startColumn,rowData(values(effectiveValue,userEnteredFormat.backgroundColor))))"
)


def _filled_widths(sheet: Mapping[str, Any]) -> tuple[int, ...]:
    """Per row, one past the last cell whose userEnteredFormat has a backgroundColor (proto3 leaves black as {})."""
    widths: list[int] = []
    blocks = sheet.get("data")
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Mapping):
            continue
        start_row, start_col = _int(block.get("startRow")), _int(block.get("startColumn"))
        row_data = block.get("rowData")
        for offset, row in enumerate(row_data if isinstance(row_data, list) else []):
            cells = row.get("values") if isinstance(row, Mapping) else None
            width = 0
            for index, cell in enumerate(cells if isinstance(cells, list) else []):
                fmt = cell.get("userEnteredFormat") if isinstance(cell, Mapping) else None
                if isinstance(fmt, Mapping) and "backgroundColor" in fmt:
                    width = start_col + index + 1
            if width:
                index = start_row + offset
                widths.extend([0] * (index + 1 - len(widths)))
                widths[index] = max(widths[index], width)
    return tuple(widths)


# A new tab's grid (Google's own default size): room for the appended rows without an appendDimension.
_NEW_TAB_ROWS, _NEW_TAB_COLUMNS = 1000, 26


def _tab_from(sheet: Mapping[str, Any], rows: list[list[CellValue]]) -> _Tab:
    """A tab as spreadsheets.get describes it, with `rows` as they are now.

    Google always sends gridProperties for a grid tab; a server that leaves them out is taken to have at least
    Google's default 1000 x 26 grid (and never less than the cells and merges it holds), so appendDimension is sent
    only when the product's columns really go past that."""
    props = sheet.get("properties")
    props = props if isinstance(props, Mapping) else {}
    grid = props.get("gridProperties")
    merges_raw = sheet.get("merges")
    merges = [m for m in merges_raw if isinstance(m, Mapping)] if isinstance(merges_raw, list) else []
    used_rows = max([len(rows), *(_int(m.get("endRowIndex")) for m in merges)])
    used_columns = max([0, *(len(r) for r in rows), *(_int(m.get("endColumnIndex")) for m in merges)])
    if isinstance(grid, Mapping):
        row_count, column_count = _int(grid.get("rowCount")), _int(grid.get("columnCount"))
    else:
        row_count, column_count = _NEW_TAB_ROWS, _NEW_TAB_COLUMNS
    return _Tab(
        sheet_id=_int(props.get("sheetId")),  # proto3: the first tab's id 0 is often omitted
        column_count=max(column_count, used_columns),
        rows=rows,
        merges=merges,
        row_count=max(row_count, used_rows),
    )


def _sheet_entries(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    sheets = body.get("sheets")
    return [s for s in sheets if isinstance(s, Mapping)] if isinstance(sheets, list) else []


def _title_of(sheet: Mapping[str, Any]) -> str:
    props = sheet.get("properties")
    return str(props.get("title", "")) if isinstance(props, Mapping) else ""


def _is_grid(sheet: Mapping[str, Any]) -> bool:
    """False for a chart tab (sheetType OBJECT), which has no cells and no A1 range."""
    props = sheet.get("properties")
    return not isinstance(props, Mapping) or props.get("sheetType", "GRID") in ("GRID", None, "")


class SheetsRegister:
    """A Google Sheet as the register (see the module docstring for the request budget)."""

    def __init__(self, key: str, http: BoundedHTTPClient) -> None:
        self.key = key
        self.http = http
        self._title: str | None = None
        self._sheet_ids: dict[str, int] | None = None  # every tab's id, as read (None before read())
        # Every tab as the last spreadsheets.get described it (id, grid size, merges; rows not kept).
        self._described: dict[str, _Tab] = {}
        # False once the server has sent no grid data (it ignores includeGridData); None before the first read.
        self._grid_data: bool | None = None
        self._read_rows: dict[str, list[list[CellValue]]] = {}  # every tab's rows as read() found them

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    def _get(self, params: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            body = self.http.spreadsheets_get(self.key, params=dict(params))
        except APIError as err:
            raise _explain(err, self.key) from err
        except ValueError as err:  # a non-JSON 200
            raise RegisterError(
                "Google Sheets sent an answer the product could not read; nothing was written."
            ) from err
        if not isinstance(body, Mapping):
            raise RegisterError("Google Sheets sent an answer the product could not read; nothing was written.")
        return body

    def _values(self, titles: list[str]) -> dict[str, list[list[CellValue]]]:
        """Every named tab's values in ONE values:batchGet, matched to its tab by the returned range's title (the
        answer's order is the request's, which is the fallback when a server returns a range without a title)."""
        if not titles:
            return {}
        try:
            body = self.http.values_batch_get(self.key, [_a1_sheet(t) for t in titles], params=dict(_VALUES_PARAMS))
        except APIError as err:
            raise _explain(err, self.key) from err
        except ValueError as err:
            raise RegisterError(
                "Google Sheets sent an answer the product could not read; nothing was written."
            ) from err
        ranges = body.get("valueRanges") if isinstance(body, Mapping) else None
        found: dict[str, list[list[CellValue]]] = {}
        for position, value_range in enumerate(ranges if isinstance(ranges, list) else []):
            if not isinstance(value_range, Mapping):
                continue
            title = _split_range(value_range.get("range"))[0]
            if title not in titles and position < len(titles):
                title = titles[position]
            if title in titles and title not in found:
                found[title] = _values_rows(value_range)
        return found

    def _remember(self, body: Mapping[str, Any], everything: bool) -> None:
        for sheet in _sheet_entries(body):
            self._described[_title_of(sheet)] = _tab_from(sheet, [])
        if everything:
            self._sheet_ids = {_title_of(s): _tab_from(s, []).sheet_id for s in _sheet_entries(body)}

    def _rows_of(self, body: Mapping[str, Any]) -> dict[str, list[list[CellValue]]]:
        """Each tab's rows from a spreadsheets.get answer, or, from a server that sent no grid data at all, from one
        values:batchGet. Google always sends the grid data asked for, so this costs one more request only on such
        servers (and on a spreadsheet with no values anywhere, where the sweep stops anyway)."""
        sheets = _sheet_entries(body)
        rows = {_title_of(s): _grid_rows(s) for s in sheets}
        if self._grid_data is True or (self._grid_data is None and any(rows.values())):
            # This server sends grid data: an empty tab in a later answer is an empty tab, not a missing feature.
            self._grid_data = True
            return rows
        values = self._values([_title_of(s) for s in sheets if _is_grid(s)])
        if any(values.values()):
            self._grid_data = False
        return {title: values.get(title) or found for title, found in rows.items()}

    def read(self) -> RegisterData:
        self.http.start_deadline()
        body = self._get({"includeGridData": "true", "fields": _READ_FIELDS})
        properties = body.get("properties")
        self._title = (properties.get("title") if isinstance(properties, Mapping) else None) or self.key
        self._remember(body, everything=True)
        rows = self._rows_of(body)
        sheets = [SheetData(title=_title_of(s), rows=rows.get(_title_of(s), [])) for s in _sheet_entries(body)]
        self._read_rows = {s.title: s.rows for s in sheets}
        return RegisterData(source=self._title, sheets=sheets)

    def _reread(self, titles: list[str] | None, *, fills: bool = False) -> dict[str, _Tab]:
        """The tabs to be written, as they are now: header, every row, merges. One request for all of them.

        Whole tabs are fetched, not just key columns: a plan's key function sees whole rows (UPN, or name and date of
        birth, wherever the SENDCo put them) and the header may have moved. `titles` None: every tab (used when a tab
        may have been created by a batch whose outcome is unknown, since a range naming a missing tab is refused).
        A server that ignores `ranges` and sends every tab is fine too: tabs are picked by title.
        """
        if self._grid_data is False and titles is not None and all(t in self._described for t in titles):
            # A server without grid data (see _rows_of): the rows again in one values:batchGet, with the ids, grid
            # sizes and merges of the read. Still one request; a grid grown since is only appended to again.
            values = self._values(titles)
            tabs: dict[str, _Tab] = {}
            for title in titles:
                described, rows = self._described[title], values.get(title, [])
                tabs[title] = replace(
                    described,
                    rows=rows,
                    row_count=max(described.row_count, len(rows)),
                    column_count=max([described.column_count, *(len(r) for r in rows)]),
                )
            return tabs
        params: dict[str, Any] = {"includeGridData": "true", "fields": _FILLS_FIELDS if fills else _REREAD_FIELDS}
        if titles is not None:
            params["ranges"] = [_a1_sheet(t) for t in titles]
        body = self._get(params)
        self._remember(body, everything=titles is None)
        now = self._rows_of(body)
        return {
            _title_of(sheet): replace(
                _tab_from(sheet, now[_title_of(sheet)]), filled_widths=_filled_widths(sheet) if fills else ()
            )
            for sheet in _sheet_entries(body)
            if _title_of(sheet) in now
        }

    def _may_add_columns(self, plans: tuple[WritePlan, ...]) -> bool:
        """Whether a plan may append headers: one of its headers is missing from every row of the tab as read (True
        when the tab was not read). Decided from the read, so the re-read asks for colours only on such a write."""
        for plan in plans:
            rows = self._read_rows.get(plan.sheet)
            if not rows:
                return True
            wanted = {plan.header_key(h) for h in plan.headers}
            if not any(wanted <= {plan.header_key(v) for v in row if isinstance(v, str)} for row in rows):
                return True
        return False

    def _titles_to_reread(self, plans: tuple[WritePlan, ...], everything: bool) -> list[str] | None:
        if everything or self._sheet_ids is None:
            return None
        wanted: list[str] = []
        for plan in plans:
            if plan.sheet in self._sheet_ids and plan.sheet not in wanted:
                wanted.append(plan.sheet)
            elif plan.sheet not in self._sheet_ids and not plan.create_if_missing:
                # Not there when read: re-read every tab so the error below is about the sheet, not a bad range.
                return None
        return wanted

    def _new_sheet_id(self) -> int:
        taken = set((self._sheet_ids or {}).values())
        while True:
            candidate = random.randint(1_000_000, 2**31 - 1)
            if candidate not in taken:
                return candidate

    def _build(
        self, plans: tuple[WritePlan, ...], tabs: dict[str, _Tab]
    ) -> tuple[list[dict[str, Any]], list[WriteResult]]:
        """The one batch for every plan, and each plan's result."""
        requests_body: list[dict[str, Any]] = []
        results: list[WriteResult] = []
        for plan in plans:
            created = False
            tab = tabs.get(plan.sheet)
            if tab is None:
                if not plan.create_if_missing:
                    raise RegisterError(f'The Google Sheet has no tab called "{plan.sheet}" now; nothing was written.')
                tab, requests_new = self._create_tab(plan)
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
                destination=f"https://docs.google.com/spreadsheets/d/{self.key}",
                notes=batch.notes,
                appended_rows=batch.appended_rows,
                created_sheet=created,
            )
            if created:
                result.notes.append(f'Added a "{plan.sheet}" tab to the Google Sheet, with its column headings.')
            results.append(result)
        return requests_body, results

    def _create_tab(self, plan: WritePlan) -> tuple[_Tab, list[dict[str, Any]]]:
        """addSheet (with an id chosen here, so the same batch can write its cells) and its header row."""
        sheet_id = self._new_sheet_id()
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
        tab = _Tab(sheet_id=sheet_id, column_count=columns, rows=[list(plan.headers)], merges=[], row_count=rows)
        return tab, [add, *_cell_updates(sheet_id, {0: headers})]

    def write(self, plan: WritePlan, *more: WritePlan) -> WriteResult:
        """Every plan in ONE batchUpdate after ONE re-read of the tabs they write (3 requests a sweep with the read)."""
        plans = (plan, *more)
        self.http.start_deadline()
        attempt = 0
        unconfirmed = False  # a failed attempt that Google may nevertheless have applied (5xx, no answer)
        fills = self._may_add_columns(plans)
        while True:
            # After an ambiguous failure a new tab may exist after all: re-read every tab rather than guess.
            tabs = self._reread(self._titles_to_reread(plans, everything=unconfirmed), fills=fills)
            requests_body, results = self._build(plans, tabs)
            if not requests_body:
                break
            # A failed batch is never resent as it was: during the back-off (a Retry-After can be a minute) colleagues
            # may insert or sort rows, and a batch that Google applied despite a 5xx or a lost answer must not add its
            # columns twice. So every retry starts again from a fresh re-read.
            self.http.repeatable = False
            attempt += 1
            try:
                # The reply (one empty object per request) is not needed, so it is not parsed: an emulator may send
                # an empty body.
                self.http.request("post", SPREADSHEET_BATCH_UPDATE_URL % self.key, json={"requests": requests_body})
                break
            except RetryWrite as retry:
                failure = retry.failure
                unconfirmed = unconfirmed or failure.ambiguous
                wait = self.http.backoff(attempt, failure)
                if attempt >= self.http.policy.max_attempts or wait >= self.http.remaining():
                    outcome = (
                        "its results may not have been saved (Google applies a batch all or nothing)"
                        if unconfirmed
                        else "nothing was written"
                    )
                    raise RegisterError(
                        f"Google Sheets kept failing ({failure.reason}, {attempt} attempts), so the sweep stopped and "
                        f"{outcome}; the next sweep will try again."
                    ) from retry
                log.info("Google Sheets write: %s; re-reading and retrying in %.1f s", failure.reason, wait)
                self.http.sleep(wait)
            except APIError as err:
                raise _explain(err, self.key) from err
            finally:
                self.http.repeatable = True
        if self._sheet_ids is not None:
            for p, r in zip(plans, results, strict=True):
                if r.created_sheet:
                    self._sheet_ids[p.sheet] = tabs[p.sheet].sheet_id
                    self._described[p.sheet] = replace(tabs[p.sheet], rows=[])
        result = results[0]
        result.more = results[1:]
        for extra in result.more:
            result.notes.extend(n for n in extra.notes if n not in result.notes)
        return result


def _is_product_header(header: str) -> bool:
    """The product's own columns start with "AR " (register.md section 5); every other column is the SENDCo's."""
    return header.strip().casefold().startswith("ar ")


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


def _build_requests(
    plan: WritePlan,
    tab: _Tab,
    header_row: int,
) -> _Batch:
    rows = tab.rows
    header_key = plan.header_key
    existing: dict[str, int] = {}
    owned: set[int] = set()  # the product's columns: their whole look is reset on every write
    for index, value in enumerate(rows[header_row - 1] if header_row - 1 < len(rows) else []):
        if not isinstance(value, str):
            continue
        if _is_product_header(value):
            owned.add(index)
        if header_key(value) and header_key(value) not in existing:
            existing[header_key(value)] = index
    # One past the last used column from the header row down (a wide title banner above does not count): values,
    # merges, and blank cells the SENDCo coloured (when re-read with colours).
    next_free = max((len(r) for r in rows[header_row - 1 :]), default=0)
    next_free = max([next_free, *tab.filled_widths[header_row - 1 :]])
    for merge in tab.merges:
        if merge.get("endRowIndex", 0) >= header_row:
            next_free = max(next_free, merge.get("endColumnIndex", 0))
    columns: dict[str, int] = {}
    header_cells: dict[int, CellWrite] = {}
    for header in plan.headers:
        name = header_key(header)
        if name not in existing:
            existing[name] = next_free
            header_cells[next_free] = CellWrite(header, fill=plan.header_fill, bold=True)
            next_free += 1
        columns[name] = existing[name]
        if _is_product_header(header):
            owned.add(existing[name])
    requests_body: list[dict[str, Any]] = []
    if next_free > tab.column_count:
        requests_body.append(
            {
                "appendDimension": {
                    "sheetId": tab.sheet_id,
                    "dimension": "COLUMNS",
                    "length": next_free - tab.column_count,
                }
            }
        )
    if header_cells:
        requests_body.extend(_cell_updates(tab.sheet_id, {header_row - 1: header_cells}))

    found: set[Any] = set()
    cells_by_row: dict[int, dict[int, CellWrite]] = {}
    written = 0
    merged_skipped = False
    blank_only = {header_key(h) for h in plan.blank_only}
    for index in range(header_row, len(rows)):
        key = plan.key_of(rows[index])
        if key is None or key not in plan.rows:
            continue
        if plan.first_match_only and key in found:
            continue  # a later duplicate: only the first row with this key is the one the product acts on
        found.add(key)
        cells: dict[int, CellWrite] = {}
        for header, cell in plan.rows[key].items():
            column = columns.get(header_key(header))
            if column is None:
                continue
            if header_key(header) in blank_only and column < len(rows[index]) and rows[index][column] not in (None, ""):
                continue  # the SENDCo typed something here since the read: theirs wins (register.md section 6)
            if _merged_away(tab.merges, index, column):
                merged_skipped = True
                continue
            cells[column] = cell
        cells_by_row[index] = cells
        written += 1
    appended = 0
    if plan.append_rows:
        # After the last used row (0-based index `last`), by header; the grid grows first when it is too short.
        last = max((i for i in range(header_row - 1, len(rows)) if any(v not in (None, "") for v in rows[i])),
                   default=header_row - 1)  # fmt: skip
        for merge in tab.merges:
            if merge.get("startRowIndex", 0) >= header_row:
                last = max(last, merge.get("endRowIndex", 0) - 1)
        for values in plan.append_rows:
            last += 1
            cells = {
                existing[header_key(h)]: c
                for h, c in values.items()
                if header_key(h) in existing and c.value not in (None, "")
            }
            if cells:
                cells_by_row[last] = cells
            appended += 1
        if last + 1 > tab.row_count:
            requests_body.append(
                {"appendDimension": {"sheetId": tab.sheet_id, "dimension": "ROWS", "length": last + 1 - tab.row_count}}
            )
    owned |= set(header_cells)
    requests_body.extend(_cell_updates(tab.sheet_id, cells_by_row, owned=owned))
    notes = (
        ["Some AR cells are merged with other cells, so they were left blank; unmerge them."] if merged_skipped else []
    )
    return _Batch(requests_body, written, [key for key in plan.rows if key not in found], notes, appended)


# In the SENDCo's own columns (Requested, Chasers ... of the Contributions tab) only the value changes, plus a date
# format where a date needs one: their colours, fonts and number formats stay theirs.
_THEIR_CELL_FIELDS = ("userEnteredValue",)
_THEIR_DATE_FIELDS = ("userEnteredValue", "userEnteredFormat.numberFormat")


def _their_cell_update(sheet_id: int, row: int, column: int, cell: CellWrite) -> dict[str, Any]:
    is_date = isinstance(cell.value, date)
    data = _cell_data(CellWrite(cell.value, cell.number_format if is_date else None))
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


def _cell_updates(
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
                        "rows": [{"values": [_cell_data(cells_by_row[r][c]) for c in run]} for r in group],
                        "fields": ",".join(_AR_CELL_FIELDS),
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
