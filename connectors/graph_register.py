"""The Microsoft 365 register adapter: an Excel workbook in OneDrive or SharePoint, read and written through the Excel
workbook API of Microsoft Graph, inside a workbook session, never by downloading and re-uploading the file (colleagues
may have it open in Excel for the web, and a whole-file upload would replace their edits).

Requests per sweep, whatever the number of pupils (a $batch is one request; Graph takes 20 requests and 4 MB in one,
which holds the results of about 6,500 pupils: a larger register adds one $batch to the write per 3 MB):
- `read()`, 5: resolve the link or id to the drive item (name and type), createSession, list the worksheets, ONE
  $batch of every worksheet's usedRange(valuesOnly=true), closeSession.
- `write()`, 4: createSession, ONE $batch re-reading what the plans write (the worksheets, each written sheet's used
  range and protection, its conditional formats), ONE $batch writing (a range PATCH per sheet with values and number
  formats, a new tab, the new headers' look, the status colour rules), closeSession.
So 9 a sweep (5 for a dry run); a retry costs the same again. Rows are matched by key at write time, so rows sorted or
inserted since the read keep their own results; a protected sheet is found in the re-read and nothing is written.

Graph sets formats one rectangle at a time, so per-row status fills would cost a request per row: status colours are
conditional-format rules on the product's coloured column (one "equal to" rule per value and colour, each added once).
A null in a PATCHed `values` or `numberFormat` grid leaves that cell as it is, so one rectangle per run of
side-by-side columns carries every cell to write there and no other cell changes. Text that Excel's input rules would change goes in with a leading
apostrophe: not only "=..." (a formula) but "1/2", "Mar 2025" or "TRUE" (a date, a boolean) (docs/register.md s5).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from connectors.base import CellValue, CellWrite, RegisterData, RegisterError, SheetData, WritePlan, WriteResult
from connectors.graph_codec import (
    column_letters,
    excel_input,
    item_path,
    rows_of,
    sheet_path,
)
from connectors.graph_http import BATCH_LIMIT, GraphAuthError, GraphClient, GraphError, error_code
from connectors.placement import place, used_width

log = logging.getLogger(__name__)

ROWS_PER_PATCH = 2000  # keeps each PATCH well under Graph's request size limit (4 MB)
BATCH_BYTES = 3_000_000  # a $batch stays below Graph's 4 MB request limit
_WORKBOOK_MIMES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroEnabled.12",
}
SESSION_ATTEMPTS = 3  # a session that expires mid-sweep is recreated, and the work redone, this many times at most


class GraphRegister:
    """A workbook in OneDrive or SharePoint as the register (see the module docstring for the request budget)."""

    def __init__(self, ref: str, client: GraphClient) -> None:
        self.ref, self.client = ref, client
        self._resolve_path = item_path(ref)  # a bad link is refused before any request
        self._base: str | None = None
        self.name = ref

    @property
    def requests_sent(self) -> int:
        return self.client.requests_sent

    # -- requests, with errors as sentences for the IT lead --

    def _call(self, method: str, path: str, body: Any = None, *, session: str | None = None,
              repeatable: bool = True) -> Any:  # fmt: skip
        headers = {"workbook-session-id": session} if session else None
        try:
            return self.client.call(method, path, body, headers=headers, repeatable=repeatable)[1]
        except GraphError as err:
            raise self._explain(err) from err

    def _explain(self, err: GraphError) -> RegisterError:
        code = err.code.casefold()
        if isinstance(err, GraphAuthError) or err.status == 401:
            return SignInError(str(err) if isinstance(err, GraphAuthError) else
                                 "Microsoft refused the stored sign-in; the IT lead runs `python main.py m365-login` "
                                 "again.")  # fmt: skip
        if code.startswith("invalidsession"):
            return _SessionLost(str(err))
        if err.status == 403:
            return RegisterError(
                f"The Review Keeper account may not open {self.name}: share the register with it (Can edit), and "
                "check an admin has consented to the app's Files.ReadWrite permission; nothing was written."
            )
        if err.status == 404:
            return RegisterError(f"{self.name} cannot be found through its link (moved, deleted or unshared?): share "
                                 "it again and put the new link in keeper.toml; nothing was written.")  # fmt: skip
        if err.status == 423 or "locked" in code:
            return RegisterError(f"{self.name} is checked out or locked in SharePoint: check it in; nothing was "
                                 "written and the next sweep tries again.")  # fmt: skip
        if "unsupportedworkbook" in code:
            return RegisterError(f"{self.name} cannot be opened by Excel for the web: save it as an Excel Workbook "
                                 "(.xlsx) without password protection; nothing was written.")  # fmt: skip
        if err.transient:
            return RegisterError(str(err))
        return RegisterError(f"Microsoft Graph refused a request for {self.name} (HTTP {err.status}: {err}); "
                             "nothing more was written.")  # fmt: skip

    def _resolve(self) -> str:
        if self._base is None:
            item = self._call("GET", self._resolve_path)
            self.name = str(item.get("name") or self.ref)
            mime = str((item.get("file") or {}).get("mimeType", ""))
            if mime not in _WORKBOOK_MIMES and not self.name.lower().endswith((".xlsx", ".xlsm")):
                raise RegisterError(f"{self.name} is not an Excel workbook (.xlsx): point keeper.toml at the register "
                                    "itself, or save it as an Excel Workbook in OneDrive.")  # fmt: skip
            drive = str((item.get("parentReference") or {}).get("driveId", ""))
            self._base = f"/drives/{quote(drive, safe='!')}/items/{quote(str(item.get('id', '')), safe='')}/workbook"
        return self._base

    @contextlib.contextmanager
    def _session(self) -> Iterator[str]:
        """A persistent workbook session (changes are saved to the file), closed on every path."""
        base = self._resolve()
        created = self._call("POST", base + "/createSession", {"persistChanges": True})
        session = str(created["id"])
        try:
            yield session
        finally:
            try:
                with self.client.grace():
                    self.client.call(
                        "POST", base + "/closeSession", headers={"workbook-session-id": session}, repeatable=False
                    )
            except GraphError as err:  # it expires by itself after a few idle minutes
                log.info("Microsoft Graph: the workbook session was not closed (%s)", err.status or err)

    def _batch(self, requests: Sequence[dict[str, Any]], session: str, *, repeatable: bool) -> dict[str, Any]:
        """Every request in as few $batches as Graph takes (20 requests, BATCH_BYTES each), each request carrying the
        session; id -> body. A failed request raises."""
        answers: dict[str, Any] = {}
        for chunk in _chunks(requests, session):
            ids = {str(r["id"]) for r in chunk}
            for r in chunk:  # a dependency in an earlier $batch has already succeeded
                deps = [d for d in r.pop("dependsOn", []) if d in ids]
                if deps:
                    r["dependsOn"] = deps
            try:
                result = self.client.batch(chunk, repeatable=repeatable)
            except GraphError as err:
                raise self._explain(err) from err
            for ident in sorted(result, key=lambda i: (result[i][0] == 424, i)):
                status, body = result[ident]
                if status >= 400 and status not in (423, 429, 500, 502, 503, 504) and ident.startswith("?"):
                    answers[ident] = None  # optional: a look-up (a tab not there yet) or cosmetic (rules, header look)
                    continue
                if not 200 <= status < 300:
                    _code, inner, message = error_code(body)
                    failure = GraphError(message or f"HTTP {status}", status=status, code=inner,
                                         transient=status in (429, 500, 502, 503, 504), ambiguous=status >= 500)  # fmt: skip
                    raise self._explain(failure) from failure
                answers[ident] = body
        return answers

    # -- the port --

    def read(self) -> RegisterData:
        self.client.start_deadline()
        for attempt in range(1, SESSION_ATTEMPTS + 1):
            try:
                with self._session() as session:
                    listed = self._call("GET", f"{self._base}/worksheets?$select=name,position", session=session)
                    titles = [
                        str(w["name"]) for w in sorted(listed.get("value", []), key=lambda w: w.get("position", 0))
                    ]
                    ranges = self._batch(
                        [{"id": str(i), "method": "GET", "url": f"{self._base}{sheet_path(t)}/usedRange(valuesOnly=true)"}
                         for i, t in enumerate(titles, start=1)], session, repeatable=True)  # fmt: skip
                return RegisterData(self.name, [SheetData(t, rows_of(ranges.get(str(i)))) for i, t in
                                                enumerate(titles, start=1)])  # fmt: skip
            except _SessionLost:
                if attempt == SESSION_ATTEMPTS:
                    raise RegisterError(f"Excel for the web kept ending the session on {self.name}; nothing was "
                                        "written and the next sweep tries again.") from None  # fmt: skip
        raise AssertionError("unreachable")

    def write(self, plan: WritePlan, *more: WritePlan) -> WriteResult:
        plans = (plan, *more)
        self.client.start_deadline()
        attempt, unconfirmed = 0, False  # unconfirmed: a failed write that Graph may have applied in part
        while True:
            attempt += 1
            try:
                with self._session() as session:
                    return self._write_once(plans, session)
            except _SessionLost:
                if attempt >= SESSION_ATTEMPTS:
                    raise RegisterError(f"Excel for the web kept ending the session on {self.name} before the results "
                                        "were written; the next sweep tries again.") from None  # fmt: skip
            except RegisterError as err:
                cause = err.__cause__
                if not (isinstance(cause, GraphError) and cause.transient):
                    raise
                # Every write is absolute (values at addresses found by key, rules and tabs added only when missing),
                # so writing again after a fresh look is safe even when Graph may have applied part of a failed one.
                unconfirmed = unconfirmed or cause.ambiguous
                wait = self.client.backoff(attempt, cause.retry_after)
                if attempt >= self.client.policy.max_attempts or wait >= self.client.remaining():
                    outcome = "some AR cells may be written and others not" if unconfirmed else "nothing was written"
                    raise RegisterError(f"Microsoft Graph kept failing ({cause}), so the sweep stopped and {outcome}; "
                                        "the next sweep writes the results.") from err  # fmt: skip
                self.client.sleep(wait)  # then look again: colleagues may have sorted or inserted rows meanwhile

    def _reread(self, plans: Sequence[WritePlan], session: str) -> tuple[list[str], dict[str, Any]]:
        titles = list(dict.fromkeys(p.sheet for p in plans))
        requests: list[dict[str, Any]] = [
            {"id": "sheets", "method": "GET", "url": f"{self._base}/worksheets?$select=name"}
        ]
        for n, title in enumerate(titles):
            path = f"{self._base}{sheet_path(title)}"
            requests += [
                {"id": f"?used{n}", "method": "GET", "url": f"{path}/usedRange(valuesOnly=true)"},
                {"id": f"?lock{n}", "method": "GET", "url": f"{path}/protection"},
                {"id": f"?rules{n}", "method": "GET", "url": f"{path}/range(address='A1:XFD1048576')/conditionalFormats"},
            ]  # fmt: skip
        answers = self._batch(requests, session, repeatable=True)
        existing = [str(w.get("name")) for w in (answers.get("sheets") or {}).get("value", [])]
        return existing, {t: (answers.get(f"?used{n}"), answers.get(f"?lock{n}"), answers.get(f"?rules{n}"))
                          for n, t in enumerate(titles)}  # fmt: skip

    def _write_once(self, plans: Sequence[WritePlan], session: str) -> WriteResult:
        existing, now = self._reread(plans, session)
        requests: list[dict[str, Any]] = []
        results: list[WriteResult] = []
        for plan in plans:
            used, lock, rules = now[plan.sheet]
            created = plan.sheet not in existing
            if created and not plan.create_if_missing:
                raise RegisterError(f'{self.name} has no worksheet called "{plan.sheet}" now; nothing was written.')
            if not created and isinstance(lock, Mapping) and lock.get("protected"):
                raise RegisterError(f'The worksheet "{plan.sheet}" in {self.name} is protected, so nothing was '
                                    "written: unprotect it (Review > Unprotect Sheet) and the next sweep writes.")  # fmt: skip
            rows: list[list[CellValue]] = [list(plan.headers)] if created else rows_of(used)
            header_row = 1 if created else plan.find_header_row(rows)
            if header_row is None:
                raise RegisterError(f"The header row of the worksheet {plan.sheet!r} could not be found just before "
                                    "writing (was it edited?); nothing was written.")  # fmt: skip
            placement = _cells(plan, rows, header_row, created)
            if created:
                requests.append({"id": f"add{len(requests)}", "method": "POST", "url": f"{self._base}/worksheets/add",
                                 "body": {"name": plan.sheet}})  # fmt: skip
            requests += self._requests(plan.sheet, placement, rules)
            result = WriteResult(written_rows=placement.written_rows, missing_keys=placement.missing_keys,
                                 destination=self.name, appended_rows=placement.appended_rows, created_sheet=created)  # fmt: skip
            if created:
                result.notes.append(f'Added a "{plan.sheet}" worksheet to {self.name}, with its column headings.')
            results.append(result)
        # In order: a refused request stops the ones after it (424). The colour rules go last and are optional: Graph
        # v1.0 documents no conditional formats (Excel's own API has them), so a refusal costs the colours, not the run.
        # The headers' look goes last too: a refusal there costs the grey fill, never the results.
        rules = [r for r in requests if r["url"].endswith("/conditionalFormats/add")]
        looks = [r for r in requests if "/format/" in r["url"]]
        requests = [r for r in requests if r not in rules and r not in looks] + looks + rules
        for n, request in enumerate(requests):
            request["id"] = str(n + 1) if request not in rules and request not in looks else f"?{n + 1}"
            if n:
                request["dependsOn"] = [requests[n - 1]["id"]]
        if requests:
            answers = self._batch(requests, session, repeatable=False)
            if any(answers.get(r["id"]) is None for r in rules):
                results[0].notes.append(f"The status colours could not be added to {self.name} (Excel for the web "
                                        "refused the conditional formatting); the statuses are written as words.")  # fmt: skip
        first = results[0]
        first.more = results[1:]
        for extra in first.more:
            first.notes.extend(n for n in extra.notes if n not in first.notes)
        return first

    def _requests(self, title: str, placement: _Cells, rules: Any) -> list[dict[str, Any]]:
        path = f"{self._base}{sheet_path(title)}"
        out: list[dict[str, Any]] = []
        rows = sorted(r for r, cells in placement.cells.items() if cells)
        runs: list[list[int]] = []  # side-by-side columns: a rectangle never spans a column nothing is written to
        for column in sorted({c for r in rows for c in placement.cells[r]}):
            if runs and column == runs[-1][-1] + 1:
                runs[-1].append(column)
            else:
                runs.append([column])
        for run, start in ((run, start) for run in runs for start in range(0, len(rows), ROWS_PER_PATCH)):
            chunk = [r for r in rows[start : start + ROWS_PER_PATCH] if any(c in placement.cells[r] for c in run)]
            if not chunk:
                continue
            top, bottom, left, right = chunk[0], chunk[-1], run[0], run[-1]
            values: list[list[Any]] = [[None] * (right - left + 1) for _ in range(bottom - top + 1)]
            formats: list[list[str | None]] = [[None] * (right - left + 1) for _ in range(bottom - top + 1)]
            for r in chunk:
                for c, cell in placement.cells[r].items():
                    if left <= c <= right:
                        values[r - top][c - left], formats[r - top][c - left] = excel_input(cell, c in placement.owned)
            address = f"{column_letters(left)}{top + 1}:{column_letters(right)}{bottom + 1}"
            out.append({"method": "PATCH", "url": f"{path}/range(address='{address}')",
                        "body": {"values": values, "numberFormat": formats}})  # fmt: skip
        header = placement.header_row
        looks: list[list[int]] = []  # new header cells with the same look, side by side: one rectangle each
        for column in sorted(placement.new_headers):
            cell, last = placement.new_headers[column], looks[-1][-1] if looks else None
            if last is not None and column == last + 1 and _look(placement.new_headers[last]) == _look(cell):
                looks[-1].append(column)
            else:
                looks.append([column])
        for run in looks:
            fill, bold = _look(placement.new_headers[run[0]])
            address = f"{column_letters(run[0])}{header}:{column_letters(run[-1])}{header}"
            if fill:
                out.append({"method": "PATCH", "url": f"{path}/range(address='{address}')/format/fill",
                            "body": {"color": "#" + fill}})  # fmt: skip
            out.append(
                {"method": "PATCH", "url": f"{path}/range(address='{address}')/format/font", "body": {"bold": bold}}
            )
        have = {(str(r.get("cellValue", {}).get("rule", {}).get("formula1", "")),
                 str(r.get("cellValue", {}).get("format", {}).get("fill", {}).get("color", "")).lstrip("#").upper())
                for r in (rules or {}).get("value", []) if isinstance(r, Mapping)}  # fmt: skip
        wanted: dict[tuple[int, str], str] = {}
        for r in rows:
            for c, cell in placement.cells[r].items():
                if c in placement.owned and cell.fill and isinstance(cell.value, str) and r >= header:
                    wanted[(c, '="' + cell.value.replace('"', '""') + '"')] = cell.fill.lstrip("#")[-6:].upper()
        for (column, formula), colour in sorted(wanted.items()):
            if (formula, colour) in have:
                continue  # added by an earlier sweep: each rule is added once
            address = f"{column_letters(column)}{header + 1}:{column_letters(column)}1048576"
            out.append({"method": "POST", "url": f"{path}/range(address='{address}')/conditionalFormats/add",
                        "body": {"type": "cellValue", "cellValue": {"format": {"fill": {"color": "#" + colour}},
                                 "rule": {"formula1": formula, "operator": "EqualTo"}}}})  # fmt: skip
        return out


@dataclass
class _Cells:
    """Every cell one plan writes on one sheet, by 0-based row and column (new header cells and appended rows too)."""

    cells: dict[int, dict[int, CellWrite]]
    new_headers: dict[int, CellWrite]
    owned: set[int]  # the product's columns: their look (number format) is reset; in others only values change
    header_row: int  # 1-based
    written_rows: int
    missing_keys: list[Any]
    appended_rows: int


def _cells(plan: WritePlan, rows: list[list[CellValue]], header_row: int, created: bool) -> _Cells:
    """The shared placement (connectors/placement.py) on the sheet as re-read; a tab created now gets its headers.
    Graph's used range holds values only, so new columns go after the last value from the header row down."""
    placement = place(plan, rows, header_row, first_free=lambda: used_width(rows, header_row))
    columns = placement.columns
    headers = {c: CellWrite(h, fill=plan.header_fill, bold=True) for c, h in columns.new_headers.items()}
    if created:
        headers = {c: CellWrite(h, fill=plan.header_fill, bold=True) for c, h in enumerate(plan.headers)}
    cells = {r: dict(c) for r, c in placement.cells.items()}
    cells.update({r: dict(c) for r, c in placement.appended.items()})
    if headers:
        cells.setdefault(header_row - 1, {}).update(headers)
    return _Cells(cells, headers, set(columns.owned) | set(headers), header_row, placement.written_rows,
                  placement.missing_keys, placement.appended_rows)  # fmt: skip


def _look(cell: CellWrite) -> tuple[str, bool]:
    return (cell.fill or "").lstrip("#")[-6:].upper(), cell.bold


def _chunks(requests: Sequence[dict[str, Any]], session: str) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    size = 0
    for request in requests:
        headers = {
            "workbook-session-id": session,
            **({"Content-Type": "application/json"} if "body" in request else {}),
        }
        item = {**request, "headers": headers}
        item_size = len(json.dumps(item, default=str))
        if chunk and (len(chunk) == BATCH_LIMIT or size + item_size > BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk


class SignInError(RegisterError):
    """The school account's stored sign-in cannot be used (expired, revoked, no key): the cloud logs it by this name
    (never a cell's text), so the IT lead can find it; the sentence says to run m365-login again."""


class _SessionLost(RegisterError):
    """The workbook session expired or was ended by Excel for the web: start a new one and look again."""
