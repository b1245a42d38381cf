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

`open_sheet_register(ref, emulator_host="host:port")` sends every Sheets API request to `http://host:port` with
anonymous credentials, as Google's own emulators take. Answers are read tolerantly (see sheets_codec): tabs are picked
by title (a server may ignore `ranges`), and a server that sends no grid data at all is read with one
`values:batchGet` (unformatted, serial dates) after the `spreadsheets.get`. That costs one more request per sweep (4),
and only on such a server: the re-read is then that `values:batchGet` alone. Google always sends grid data, so it still
gets 3.

The files: sheets_http (timeouts, retries, credentials), sheets_codec (cells and requests on the wire), placement
(which cells a plan writes, shared with the workbook adapter), and this one (the register: read, re-read, one batch).
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from gspread.exceptions import APIError
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL

from connectors.base import CellValue, RegisterData, RegisterError, SheetData, WritePlan, WriteResult
from connectors.sheets_batch import build_batch
from connectors.sheets_codec import (
    Tab,
    a1_sheet,
    filled_widths,
    grid_formulas,
    grid_rows,
    is_grid,
    sheet_entries,
    split_range,
    tab_from,
    title_of,
    values_rows,
)
from connectors.sheets_http import (
    SHEETS_SCOPES,
    BoundedHTTPClient,
    RetryPolicy,
    RetryWrite,
    emulator_url,
    explain_error,
    sheets_credentials,
)

log = logging.getLogger(__name__)

_URL_KEY = re.compile(r"docs\.google\.com/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]{20,})")
# Spreadsheet keys are 44 characters today; allow some slack but never a dot or slash, so a file name never matches.
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]{30,100}")

# One read of everything: per tab its title, id, type and grid size, its merges, and each cell's computed value only.
# (sheetType and merges are a few bytes: they let the values-only fallback below skip chart tabs and re-read rows alone.)
_READ_FIELDS = (
    "properties.title,"
    "sheets(properties(sheetId,title,sheetType,gridProperties(rowCount,columnCount)),merges,"
    "data(startRow,startColumn,rowData(values(effectiveValue,userEnteredValue.formulaValue))))"
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


def open_sheet_register(
    ref: str,
    *,
    emulator_host: str | None = None,
    credentials_file: str | None = None,
    credentials: Any = None,
    deadline_s: float = 120,
    policy: RetryPolicy | None = None,
) -> SheetsRegister:
    """Open a Google Sheet as the register. Makes no request until `read()`.

    `emulator_host` ("host:port"): send every request there, anonymously. Credentials: the given ones, else anonymous
    for an emulator, else the service account's key file `credentials_file`, else the runtime's default credentials
    (Cloud Functions), with the spreadsheets scope only. The composition root passes SHEETS_EMULATOR_HOST and
    GOOGLE_APPLICATION_CREDENTIALS from the environment: nothing here reads it.
    """
    key = spreadsheet_key(ref)
    base_url = emulator_url(emulator_host)
    try:
        creds = (
            credentials
            if credentials is not None
            else sheets_credentials(emulator=base_url is not None, credentials_file=credentials_file)
        )
    except Exception as err:  # google.auth.exceptions.DefaultCredentialsError, a bad key file
        raise RegisterError(
            "No Google credentials were found: set GOOGLE_APPLICATION_CREDENTIALS to the service account's key file."
        ) from err
    policy = policy or RetryPolicy(deadline_s=deadline_s)
    return SheetsRegister(key, BoundedHTTPClient(creds, base_url=base_url, policy=policy))


# background colour, only while the product still has columns to add: appended AR cells reset their look, so they go
# after the SENDCo's coloured blanks as well as their values. Cells without a colour add nothing (an empty object).
_REREAD_FIELDS = (
    "sheets(properties(sheetId,title,sheetType,gridProperties(rowCount,columnCount)),merges,"
    "data(startRow,startColumn,rowData(values(effectiveValue,userEnteredValue.formulaValue))))"
)
_FILLS_FIELDS = (
    "sheets(properties(sheetId,title,sheetType,gridProperties(rowCount,columnCount)),merges,"
    "data(startRow,startColumn,rowData(values(effectiveValue,userEnteredValue.formulaValue,"
    "userEnteredFormat.backgroundColor))))"
)


class SheetsRegister:
    """A Google Sheet as the register (see the module docstring for the request budget)."""

    def __init__(self, key: str, http: BoundedHTTPClient) -> None:
        self.key = key
        self.http = http
        self._title: str | None = None
        self._sheet_ids: dict[str, int] | None = None  # every tab's id, as read (None before read())
        # Every tab as the last spreadsheets.get described it (id, grid size, merges; rows not kept).
        self._described: dict[str, Tab] = {}
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
            raise explain_error(err, self.key) from err
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
            body = self.http.values_batch_get(self.key, [a1_sheet(t) for t in titles], params=dict(_VALUES_PARAMS))
        except APIError as err:
            raise explain_error(err, self.key) from err
        except ValueError as err:
            raise RegisterError(
                "Google Sheets sent an answer the product could not read; nothing was written."
            ) from err
        ranges = body.get("valueRanges") if isinstance(body, Mapping) else None
        found: dict[str, list[list[CellValue]]] = {}
        for position, value_range in enumerate(ranges if isinstance(ranges, list) else []):
            if not isinstance(value_range, Mapping):
                continue
            title = split_range(value_range.get("range"))[0]
            if title not in titles and position < len(titles):
                title = titles[position]
            if title in titles and title not in found:
                found[title] = values_rows(value_range)
        return found

    def _remember(self, body: Mapping[str, Any], everything: bool) -> None:
        for sheet in sheet_entries(body):
            self._described[title_of(sheet)] = tab_from(sheet, [])
        if everything:
            self._sheet_ids = {title_of(s): tab_from(s, []).sheet_id for s in sheet_entries(body)}

    def _rows_of(self, body: Mapping[str, Any]) -> dict[str, list[list[CellValue]]]:
        """Each tab's rows from a spreadsheets.get answer, or, from a server that sent no grid data at all, from one
        values:batchGet. Google always sends the grid data asked for, so this costs one more request only on such
        servers (and on a spreadsheet with no values anywhere, where the sweep stops anyway)."""
        sheets = sheet_entries(body)
        rows = {title_of(s): grid_rows(s) for s in sheets}
        if self._grid_data is True or (self._grid_data is None and any(rows.values())):
            # This server sends grid data: an empty tab in a later answer is an empty tab, not a missing feature.
            self._grid_data = True
            return rows
        values = self._values([title_of(s) for s in sheets if is_grid(s)])
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
        sheets = [SheetData(title_of(s), rows.get(title_of(s), []), grid_formulas(s)) for s in sheet_entries(body)]
        self._read_rows = {s.title: s.rows for s in sheets}
        return RegisterData(source=self._title, sheets=sheets)

    def _reread(self, titles: list[str] | None, *, fills: bool = False) -> dict[str, Tab]:
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
            tabs: dict[str, Tab] = {}
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
            params["ranges"] = [a1_sheet(t) for t in titles]
        body = self._get(params)
        self._remember(body, everything=titles is None)
        now = self._rows_of(body)
        return {
            title_of(sheet): replace(
                tab_from(sheet, now[title_of(sheet)]),
                filled_widths=filled_widths(sheet) if fills else (),
                formulas=grid_formulas(sheet),
            )
            for sheet in sheet_entries(body)
            if title_of(sheet) in now
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
        self, plans: tuple[WritePlan, ...], tabs: dict[str, Tab]
    ) -> tuple[list[dict[str, Any]], list[WriteResult]]:
        """The one batch for every plan, and each plan's result."""
        return build_batch(plans, tabs, self.key, self._new_sheet_id)

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
                raise explain_error(err, self.key) from err
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


__all__ = [
    "SHEETS_SCOPES",
    "BoundedHTTPClient",
    "RetryPolicy",
    "SheetsRegister",
    "is_sheet_reference",
    "open_sheet_register",
    "spreadsheet_key",
]
