"""A small fake of the Microsoft Graph endpoints Review Keeper uses, served over a real socket, for the Graph adapter's
tests and its benchmark. Each workbook is kept as an openpyxl Workbook in memory, so a test can compare what the Graph
path wrote with what the Excel path wrote, cell for cell.

Graph (under /v1.0):
- GET  /shares/{u!...}/driveItem, GET /drives/{d}/items/{i}                 (item resolution, metadata)
- POST .../workbook/createSession {persistChanges}, POST .../workbook/closeSession (workbook-session-id header)
- GET  .../workbook/worksheets, POST .../workbook/worksheets/add {name}
- GET  .../worksheets/{name}/usedRange(valuesOnly=true), GET .../worksheets/{name}/protection
- GET/PATCH .../worksheets/{name}/range(address='A1:B2') {values, numberFormat}; PATCH .../format/fill, .../format/font
- GET/POST .../range(address=...)/conditionalFormats[/add]
- POST /$batch (at most 20 requests, dependsOn honoured: a failed dependency answers 424)
- POST /me/sendMail
- the drive beside the workbooks (folders, files, upload sessions, downloads): tests/fakes/graph_drive.py
Sign-in (the Microsoft identity platform, enough for msal): /{tenant}/v2.0/.well-known/openid-configuration,
/{tenant}/oauth2/v2.0/devicecode and /{tenant}/oauth2/v2.0/token (device code and refresh token grants).

Values PATCHed follow Excel's input rules (en-GB): a leading apostrophe makes text; otherwise "=..." becomes a formula,
"12", "+44", "1/2/2025" or "TRUE" become numbers, dates and booleans, unless the cell's number format is Text ("@").
A null in `values` or `numberFormat` leaves that cell's value or format as it is, as Graph does.

Faults (`Fault`) are queued and consumed by the next matching request; hooks run after the n-th request (a colleague
inserting or sorting rows between the sweep's read and its write); `expire_sessions()` ends every open session.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, to_excel
from openpyxl.worksheet.worksheet import Worksheet
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.graph_drive import DOWNLOAD_PREFIX, UPLOAD_PREFIX, DriveFault, GraphDriveFake, RawReply

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_NUMBER = re.compile(r"[+-]?(\d+(,\d{3})*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})")


@dataclass
class Fault:
    """Answer the next matching request badly. `match` is a substring of the path (e.g. "createSession", "$batch",
    "usedRange", "range(") or None for any; `in_batch` applies it to a request inside a $batch instead."""

    status: int
    retry_after: float | None = None
    match: str | None = None
    in_batch: bool = False
    code: str = "serviceUnavailable"
    delay: float = 0.0
    skip: int = 0  # matching requests to let through first (e.g. 1: the write's $batch, not the re-read's)
    applied: bool = False  # serve the request first, then answer with the fault (a 5xx after the work was done)


@dataclass
class RequestRecord:
    method: str
    path: str
    body: Any
    session: str | None
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # Content-Range, and whether a bearer token was sent
    batch: list[dict[str, Any]] = field(default_factory=list)  # the requests inside a $batch


@dataclass
class FakeItem:
    drive_id: str
    item_id: str
    name: str
    book: Workbook | None  # None: not a workbook (a .docx, a .csv)
    mime: str = XLSX_MIME
    protected: set[str] = field(default_factory=set)  # worksheet names protected against edits
    checked_out: bool = False
    conditional: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sheet -> rules added through Graph
    parent_id: str = "root"  # the folder holding the workbook in its drive (the evidence folder goes beside it)


class GraphFault(Exception):
    def __init__(self, status: int, code: str, message: str, inner: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def share_token(url: str) -> str:
    """Graph's encoding of a sharing URL (docs: shares-get): "u!" + unpadded base64url of the URL."""
    return "u!" + _b64url(url.encode("utf-8"))


def _serial(value: date | datetime) -> float | int:
    result = to_excel(value)
    return int(result) if float(result).is_integer() else float(result)


def _bounds(ref: str) -> tuple[int, int, int, int]:
    """(first column, first row, last column, last row), 1-based, of an A1 range such as "B3:F9"."""
    found = range_boundaries(ref)
    if any(v is None for v in found):
        raise GraphFault(400, "invalidArgument", f"The address {ref} is not a range of cells.")
    return found  # type: ignore[return-value]


def _is_date_format(fmt: str | None) -> bool:
    text = re.sub(r'"[^"]*"|\[[^\]]*\]', "", fmt or "").lower()
    return any(ch in text for ch in "dy") or ("m" in text and "h" not in text and "s" not in text and "0" not in text)


class FakeGraph(GraphDriveFake):
    """The state and the API logic (also usable directly, without HTTP)."""

    def __init__(self, *, tenant: str = "school.example") -> None:
        self._drive_init()
        self.items: dict[tuple[str, str], FakeItem] = {}
        self.shares: dict[str, tuple[str, str]] = {}  # share token -> (drive, item)
        self.sessions: dict[str, tuple[tuple[str, str], bool, Workbook | None]] = {}
        self.closed_sessions: list[str] = []
        self.sent_mail: list[dict[str, Any]] = []
        self.mail_send_allowed = True
        self.tenant = tenant
        self.refresh_allowed = True  # False: the grant was revoked (invalid_grant on refresh)
        self.token_lifetime = 3600
        self.tokens_issued = 0
        self.lock = threading.RLock()

    # -- test helpers --

    def add_workbook(self, book: Workbook, *, name: str = "EHCP register.xlsx", drive: str = "b!drive1",
                     item: str | None = None, sharing_url: str | None = None) -> FakeItem:  # fmt: skip
        item_id = item or "01" + uuid.uuid4().hex[:30].upper()
        entry = FakeItem(drive, item_id, name, book)
        self.items[(drive, item_id)] = entry
        if sharing_url:
            self.shares[share_token(sharing_url)] = (drive, item_id)
        return entry

    def add_file(self, path: Any, **kwargs: Any) -> FakeItem:
        """An .xlsx on disk as it is in OneDrive: formulas as their cached values (what Graph's values report)."""
        kwargs.setdefault("name", getattr(path, "name", "register.xlsx"))
        return self.add_workbook(load_workbook(path, data_only=True), **kwargs)

    def add_other(self, name: str, mime: str, **kwargs: Any) -> FakeItem:
        entry = self.add_workbook(Workbook(), name=name, **kwargs)
        entry.book, entry.mime = None, mime
        return entry

    def saved(self, item: FakeItem) -> Workbook:
        """The workbook as Excel would save it (dates with a date format become dates again on load)."""
        buffer = io.BytesIO()
        assert item.book is not None
        item.book.save(buffer)
        buffer.seek(0)
        return load_workbook(buffer)

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def insert_row(self, item: FakeItem, sheet: str, before_row: int, values: Sequence[Any]) -> None:
        with self.lock:
            assert item.book is not None
            ws = item.book[sheet]
            ws.insert_rows(before_row)
            for c, value in enumerate(values, start=1):
                ws.cell(row=before_row, column=c, value=value)

    def sort_rows(self, item: FakeItem, sheet: str, first_row: int, key: Callable[[list[Any]], Any],
                  *, reverse: bool = False) -> None:  # fmt: skip
        """Re-sort whole rows from `first_row` down (values and number formats move with them)."""
        with self.lock:
            assert item.book is not None
            ws = item.book[sheet]
            width = ws.max_column
            rows = [[(c.value, c.number_format) for c in r] for r in ws.iter_rows(min_row=first_row, max_col=width)]
            rows.sort(key=lambda r: key([v for v, _ in r]), reverse=reverse)
            for offset, cells in enumerate(rows):
                for c, (value, fmt) in enumerate(cells, start=1):
                    cell = ws.cell(row=first_row + offset, column=c)
                    if not isinstance(cell, MergedCell):
                        cell.value, cell.number_format = value, fmt

    # -- the API --

    def _item(self, drive: str, item: str) -> FakeItem:
        found = self.items.get((drive, item))
        if found is None:
            raise GraphFault(404, "itemNotFound", "The resource could not be found.")
        return found

    @staticmethod
    def metadata(item: FakeItem) -> dict[str, Any]:
        return {"id": item.item_id, "name": item.name, "eTag": f'"{{{item.item_id}}},1"',
                "file": {"mimeType": item.mime},
                "parentReference": {"driveId": item.drive_id, "id": item.parent_id}}  # fmt: skip

    def _book(self, item: FakeItem, session: str | None, *, write: bool) -> Workbook:
        if item.book is None:
            raise GraphFault(400, "invalidRequest", "The file is not a workbook.", "unsupportedWorkbook")
        if session is not None:
            known = self.sessions.get(session)
            if known is None or known[0] != (item.drive_id, item.item_id):
                raise GraphFault(404, "invalidSession", "The target session is invalid.", "invalidSessionReCreatable")
            if not known[1] and write:
                assert known[2] is not None
                return known[2]  # a non-persistent session writes to its own copy
        return item.book

    def create_session(self, item: FakeItem, body: Any) -> dict[str, Any]:
        if item.book is None:
            raise GraphFault(400, "invalidRequest", "The file is not a workbook.", "unsupportedWorkbook")
        if item.checked_out:
            raise GraphFault(423, "resourceLocked", "The resource you are attempting to access is locked.")
        persist = bool((body or {}).get("persistChanges"))
        session = uuid.uuid4().hex
        self.sessions[session] = ((item.drive_id, item.item_id), persist, None if persist else copy.deepcopy(item.book))
        return {"id": session, "persistChanges": persist}

    def close_session(self, session: str | None) -> None:
        if session is None or self.sessions.pop(session, None) is None:
            raise GraphFault(404, "invalidSession", "The target session is invalid.", "invalidSessionNotFound")
        self.closed_sessions.append(session)

    @staticmethod
    def worksheets(book: Workbook) -> dict[str, Any]:
        return {"value": [{"id": f"{{{i:08d}-0001-0000-0000-000000000000}}", "name": ws.title, "position": i,
                           "visibility": ws.sheet_state.capitalize()} for i, ws in enumerate(book.worksheets)]}  # fmt: skip

    @staticmethod
    def _sheet(book: Workbook, name: str) -> Worksheet:
        if name not in book.sheetnames:
            raise GraphFault(404, "itemNotFound", f"The requested resource ({name}) doesn't exist.")
        return book[name]

    @staticmethod
    def _read_value(value: Any) -> Any:
        if isinstance(value, datetime | date):
            return _serial(value)
        return "" if value is None else value

    def range_body(self, ws: Worksheet, ref: str) -> dict[str, Any]:
        min_col, min_row, max_col, max_row = _bounds(ref)
        values = [[self._read_value(ws.cell(row=r, column=c).value) for c in range(min_col, max_col + 1)]
                  for r in range(min_row, max_row + 1)]  # fmt: skip
        formats = [[ws.cell(row=r, column=c).number_format for c in range(min_col, max_col + 1)]
                   for r in range(min_row, max_row + 1)]  # fmt: skip
        title = ws.title if re.fullmatch(r"\w+", ws.title) else "'" + ws.title.replace("'", "''") + "'"
        return {"address": f"{title}!{ref}", "rowIndex": min_row - 1, "columnIndex": min_col - 1,
                "rowCount": max_row - min_row + 1, "columnCount": max_col - min_col + 1,
                "values": values, "numberFormat": formats}  # fmt: skip

    def used_range(self, ws: Worksheet) -> dict[str, Any]:
        """valuesOnly: the smallest rectangle holding every cell with a value (A1 when the sheet is blank)."""
        used = [(c.row, c.column) for row in ws.iter_rows() for c in row if c.value not in (None, "")]
        if not used:
            return self.range_body(ws, "A1:A1")
        rows, cols = [r for r, _ in used], [c for _, c in used]
        ref = f"{get_column_letter(min(cols))}{min(rows)}:{get_column_letter(max(cols))}{max(rows)}"
        return self.range_body(ws, ref)

    def patch_range(self, item: FakeItem, ws: Worksheet, ref: str, body: Any) -> dict[str, Any]:
        if ws.title in item.protected:
            raise GraphFault(409, "accessDenied", "The sheet is protected: the range cannot be changed.")
        min_col, min_row, max_col, max_row = _bounds(ref)
        height, width = max_row - min_row + 1, max_col - min_col + 1
        values, formats = body.get("values"), body.get("numberFormat")
        for grid in (values, formats):
            if grid is not None and (len(grid) != height or any(len(r) != width for r in grid)):
                raise GraphFault(400, "invalidArgument", "The number of rows or columns does not match the range.")
        for r in range(height):
            for c in range(width):
                cell = ws.cell(row=min_row + r, column=min_col + c)
                fmt = formats[r][c] if formats is not None else None
                value = values[r][c] if values is not None else None
                if isinstance(cell, MergedCell) and (fmt is not None or value is not None):
                    raise GraphFault(400, "invalidArgument", "Cannot change part of a merged cell.")
                if fmt is not None:
                    cell.number_format = str(fmt)
                if value is not None:
                    self._input(cell, value)
        return self.range_body(ws, ref)

    @staticmethod
    def _input(cell: Any, value: Any) -> None:
        """Excel's input rules for a value typed (or PATCHed) into a cell, en-GB."""
        if isinstance(value, bool | int | float):
            if _is_date_format(cell.number_format) and not isinstance(value, bool):
                cell.value = from_excel(value)
                if float(value).is_integer():
                    cell.value = cell.value.date() if hasattr(cell.value, "date") else cell.value
            else:
                cell.value = value
            return
        text = str(value)
        if text == "":
            cell.value = None
        elif text.startswith("'"):
            cell.value, cell.data_type = text[1:], "s"
            cell.quotePrefix = True
        elif cell.number_format == "@":
            cell.value, cell.data_type = text, "s"
        elif text.startswith("="):
            cell.value = text  # openpyxl stores it as a formula: a test fails on finding one the product wrote
        elif text.upper() in ("TRUE", "FALSE"):
            cell.value = text.upper() == "TRUE"
        elif _NUMBER.fullmatch(text.strip()):
            number = float(text.strip().replace(",", "").rstrip("%")) / (100 if text.strip().endswith("%") else 1)
            cell.value = int(number) if number.is_integer() else number
        elif _UK_DATE.fullmatch(text.strip()):
            d, m, y = (int(x) for x in _UK_DATE.fullmatch(text.strip()).groups())  # type: ignore[union-attr]
            cell.value = date(y + 2000 if y < 100 else y, m, d)
            cell.number_format = "dd/mm/yyyy"
        else:
            cell.value = text

    def add_conditional(self, item: FakeItem, ws: Worksheet, ref: str, body: Any) -> dict[str, Any]:
        if ws.title in item.protected:
            raise GraphFault(409, "accessDenied", "The sheet is protected.")
        rule = (body or {}).get("cellValue", {}).get("rule", {})
        colour = (body or {}).get("cellValue", {}).get("format", {}).get("fill", {}).get("color", "")
        if body.get("type") != "cellValue" or rule.get("operator") != "EqualTo" or not colour:
            raise GraphFault(400, "invalidArgument", "Only cellValue EqualTo rules with a fill are supported here.")
        fill = PatternFill("solid", start_color=colour.lstrip("#"), end_color=colour.lstrip("#"))
        ws.conditional_formatting.add(ref, CellIsRule(operator="equal", formula=[rule["formula1"].lstrip("=")],
                                                      fill=fill))  # fmt: skip
        entry = {"id": uuid.uuid4().hex, "type": "cellValue", "range": ref, **{"cellValue": body["cellValue"]}}
        item.conditional.setdefault(ws.title, []).append(entry)
        return entry

    def format_range(self, ws: Worksheet, ref: str, part: str, body: Any) -> dict[str, Any]:
        min_col, min_row, max_col, max_row = _bounds(ref)
        for row in ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col):
            for cell in row:
                if part == "fill" and body.get("color"):
                    colour = str(body["color"]).lstrip("#")
                    cell.fill = PatternFill("solid", start_color=colour, end_color=colour)
                elif part == "font" and "bold" in body:
                    cell.font = Font(bold=bool(body["bold"]))
        return dict(body)

    def add_worksheet(self, item: FakeItem, book: Workbook, body: Any) -> dict[str, Any]:
        name = str((body or {}).get("name") or f"Sheet{len(book.worksheets) + 1}")
        if name in book.sheetnames:
            raise GraphFault(409, "itemAlreadyExists", f"A worksheet named {name} already exists.")
        book.create_sheet(name)
        return self.worksheets(book)["value"][-1]

    def send_mail(self, body: Any) -> None:
        if not self.mail_send_allowed:
            raise GraphFault(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        message = (body or {}).get("message") or {}
        if not message.get("toRecipients") or not message.get("subject"):
            raise GraphFault(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        self.sent_mail.append(copy.deepcopy(body))

    # -- routing --

    _WORKBOOK = re.compile(r"/v1\.0/drives/([^/]+)/items/([^/]+)(/workbook(?:/.*)?)?")

    def route(self, method: str, path: str, body: Any, session: str | None, raw: bytes = b"", query: str = "",
              headers: Any = None) -> tuple[int, Any]:  # fmt: skip
        with self.lock:
            try:
                drive = self.drive_route(method, path, body, raw, query, headers or {})
            except DriveFault as fault:
                raise GraphFault(fault.status, fault.code, fault.message) from None
            if drive is not None:
                return drive
            if path.startswith("/v1.0/shares/") and path.endswith("/driveItem") and method == "GET":
                token = path[len("/v1.0/shares/") : -len("/driveItem")]
                target = self.shares.get(unquote(token))
                if target is None:
                    raise GraphFault(404, "itemNotFound", "The sharing link no longer exists, or you do not have "
                                     "permission to access it.")  # fmt: skip
                return 200, self.metadata(self._item(*target))
            if path == "/v1.0/me/sendMail" and method == "POST":
                self.send_mail(body)
                return 202, None
            match = self._WORKBOOK.fullmatch(path)
            if not match:
                raise GraphFault(400, "BadRequest", f"{method} {path} is not supported by this fake.")
            item = self._item(unquote(match.group(1)), unquote(match.group(2)))
            rest = match.group(3)
            if rest is None and method == "GET":
                return 200, self.metadata(item)
            if rest == "/workbook/createSession" and method == "POST":
                return 201, self.create_session(item, body)
            if rest == "/workbook/closeSession" and method == "POST":
                self.close_session(session)
                return 204, None
            book = self._book(item, session, write=method != "GET")
            if rest == "/workbook/worksheets" and method == "GET":
                return 200, self.worksheets(book)
            if rest == "/workbook/worksheets/add" and method == "POST":
                return 201, self.add_worksheet(item, book, body)
            return self._sheet_route(item, book, method, rest or "", body)

    _SHEET = re.compile(r"/workbook/worksheets(?:\('((?:[^']|'')*)'\)|/([^/(]+))(/.*)?")
    _RANGE = re.compile(r"/range\(address='([^']*)'\)(/format/(fill|font)|/conditionalFormats(/add)?)?")

    def _sheet_route(self, item: FakeItem, book: Workbook, method: str, rest: str, body: Any) -> tuple[int, Any]:
        match = self._SHEET.fullmatch(rest)
        if not match:
            raise GraphFault(400, "BadRequest", f"{method} {rest} is not supported by this fake.")
        quoted = unquote(match.group(1) or "").replace("''", "'")
        name = quoted if match.group(1) is not None else unquote(match.group(2))
        ws = self._sheet(book, name)
        tail = unquote(match.group(3) or "")
        if tail == "/usedRange(valuesOnly=true)" and method == "GET":
            return 200, self.used_range(ws)
        if tail == "/protection" and method == "GET":
            return 200, {"protected": name in item.protected, "options": {}}
        found = self._RANGE.fullmatch(tail)
        if not found:
            raise GraphFault(400, "BadRequest", f"{method} {tail} is not supported by this fake.")
        ref, extra = found.group(1).split("!")[-1].replace("$", ""), found.group(2)
        if extra is None:
            if method == "GET":
                return 200, self.range_body(ws, ref)
            if method == "PATCH":
                return 200, self.patch_range(item, ws, ref, body or {})
        elif extra.startswith("/format/") and method == "PATCH":
            return 200, self.format_range(ws, ref, found.group(3), body or {})
        elif found.group(4) and method == "POST":
            return 201, self.add_conditional(item, ws, ref, body or {})
        elif extra == "/conditionalFormats" and method == "GET":
            return 200, {"value": copy.deepcopy(item.conditional.get(ws.title, []))}
        raise GraphFault(405, "methodNotAllowed", f"{method} is not allowed on {tail}.")


def _error(status: int, code: str, message: str, inner: str | None = None,
           headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    payload: dict[str, Any] = {"error": {"code": code, "message": message}}
    if inner:
        payload["error"]["innerError"] = {"code": inner}
    return Response(json.dumps(payload), status, headers or {}, content_type="application/json")


def _reply(status: int, payload: Any) -> Response:
    if isinstance(payload, RawReply):
        return Response(payload.body, status, dict(payload.headers), content_type=payload.content_type)
    return Response(json.dumps(payload) if payload is not None else b"", status, content_type="application/json")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class FakeGraphServer(FakeGraph):
    """The fake on 127.0.0.1 and a free port, served from a thread."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.faults: list[Fault] = []
        self.log: list[RequestRecord] = []
        self.hooks: dict[int, list[Callable[[], None]]] = {}
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.port: int = self._server.server_port
        self.public_base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def host(self) -> str:
        """What GRAPH_EMULATOR_HOST should hold."""
        return f"127.0.0.1:{self.port}"

    @property
    def graph_log(self) -> list[RequestRecord]:
        """The Graph requests (sign-in requests left out): what a sweep costs."""
        return [r for r in self.log if r.path.startswith("/v1.0/")]

    def after_request(self, number: int, hook: Callable[[], None]) -> None:
        """Run `hook` right after the `number`-th Graph request (1-based) has been answered."""
        self.hooks.setdefault(number, []).append(hook)

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()
            self.hooks.clear()

    def __enter__(self) -> FakeGraphServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _take_fault(self, path: str, in_batch: bool) -> Fault | None:
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault.in_batch == in_batch and (fault.match is None or fault.match in path):
                    if fault.skip:
                        fault.skip -= 1
                        return None
                    return self.faults.pop(index)
        return None

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self._handle(Request(environ))(environ, start_response)

    def _handle(self, request: Request) -> Response:
        # Routed on the path as sent (a worksheet name may hold an encoded "/" or "("); logged decoded.
        raw_path = str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path)
        raw_path = raw_path.split("?", 1)[0]
        path = unquote(raw_path)
        raw = request.get_data()
        if path.startswith((UPLOAD_PREFIX, DOWNLOAD_PREFIX)):
            return self._transfer(request, path, raw)
        if not path.startswith("/v1.0/"):
            from tests.fakes.graph_login import login_response

            return login_response(self, request.method, path, raw.decode("utf-8", "replace"))
        media = request.method == "PUT" and path.endswith("/content")  # a file's bytes, not JSON
        try:
            body = json.loads(raw) if raw and not media else None
        except ValueError:
            return _error(400, "BadRequest", "Invalid JSON.")
        record = RequestRecord(request.method, path, {"bytes": len(raw)} if media else body,
                               request.headers.get("workbook-session-id"))  # fmt: skip
        with self.lock:
            self.log.append(record)
            number = len(self.graph_log)
        if len(raw) > 4 * 1024 * 1024:  # Graph's request size limit
            response = _error(413, "payloadTooLarge", "The request size exceeds the maximum limit.")
        elif not str(request.headers.get("Authorization", "")).startswith("Bearer "):
            response = _error(401, "InvalidAuthenticationToken", "Access token is empty.")
        else:
            extra = {"raw": raw, "query": request.query_string.decode("latin-1"), "headers": request.headers}
            response = self._serve(request.method, raw_path, body, record, **extra)
        record.status = response.status_code
        for hook in self.hooks.pop(number, []):
            hook()
        return response

    def _serve(self, method: str, path: str, body: Any, record: RequestRecord, **extra: Any) -> Response:
        fault = self._take_fault(unquote(path), in_batch=False)
        if fault is not None and fault.applied:
            self._serve(method, path, body, record, **extra)
        if fault is not None:
            time.sleep(fault.delay)
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            return _error(fault.status, fault.code, "Injected fault.", headers=headers)
        if unquote(path) == "/v1.0/$batch" and method == "POST":
            return self._batch(body, record)
        status, payload = self._call(method, path, body, record.session, **extra)
        return _reply(status, payload)

    def _transfer(self, request: Request, path: str, raw: bytes) -> Response:
        """An upload session's URL or a download URL: pre-authenticated, so a bearer token there is refused."""
        record = RequestRecord(request.method, path, {"bytes": len(raw)}, None)
        record.headers = {"Content-Range": str(request.headers.get("Content-Range", "")),
                          "Authorization": "sent" if request.headers.get("Authorization") else ""}  # fmt: skip
        with self.lock:
            self.log.append(record)
        fault = self._take_fault(path, in_batch=False)
        if fault is not None and fault.applied:
            self._transfer_call(request.method, path, raw, request.headers)
        if fault is not None:
            time.sleep(fault.delay)
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            response = _error(fault.status, fault.code, "Injected fault.", headers=headers)
        elif path.startswith(UPLOAD_PREFIX) and request.headers.get("Authorization"):
            response = _error(401, "unauthenticated", "An upload URL takes no Authorization header.")
        else:
            response = _reply(*self._transfer_call(request.method, path, raw, request.headers))
        record.status = response.status_code
        return response

    def _transfer_call(self, method: str, path: str, raw: bytes, headers: Any) -> tuple[int, Any]:
        with self.lock:
            try:
                return self.transfer(method, path, raw, headers)
            except DriveFault as fault:
                return fault.status, {"error": {"code": fault.code, "message": fault.message}}

    def _call(self, method: str, path: str, body: Any, session: str | None, **extra: Any) -> tuple[int, Any]:
        try:
            return self.route(method, path, body, session, **extra)
        except GraphFault as fault:
            payload: dict[str, Any] = {"error": {"code": fault.code, "message": fault.message}}
            if fault.inner:
                payload["error"]["innerError"] = {"code": fault.inner}
            return fault.status, payload

    def _batch(self, body: Any, record: RequestRecord) -> Response:
        requests = (body or {}).get("requests")
        if not isinstance(requests, list) or not 1 <= len(requests) <= 20:
            return _error(400, "BadRequest", "A $batch holds between 1 and 20 requests.")
        record.batch = requests
        answers: dict[str, dict[str, Any]] = {}
        for sub in requests:
            ident, headers = str(sub.get("id")), {k.lower(): v for k, v in (sub.get("headers") or {}).items()}
            failed = [
                d for d in sub.get("dependsOn") or [] if not 200 <= answers.get(str(d), {}).get("status", 0) < 300
            ]
            relative = str(sub.get("url", "")).split("?", 1)[0]
            url = relative if relative.startswith("/v1.0/") else "/v1.0" + relative
            fault = self._take_fault(unquote(url), in_batch=True)
            if failed:
                status, payload = 424, {"error": {"code": "failedDependency", "message": "A dependency failed."}}
            elif fault is not None:
                status = fault.status
                payload = {"error": {"code": fault.code, "message": "Injected fault."}}
                if fault.retry_after is not None:
                    headers_out = {"Retry-After": f"{fault.retry_after:g}"}
                    answers[ident] = {"id": ident, "status": status, "headers": headers_out, "body": payload}
                    continue
            else:
                status, payload = self._call(str(sub.get("method", "GET")).upper(), url, sub.get("body"),
                                             headers.get("workbook-session-id"))  # fmt: skip
            answers[ident] = {"id": ident, "status": status, "body": payload}
        # Graph may answer in any order: reversed here, so a client that relies on the order fails.
        return Response(json.dumps({"responses": list(reversed(answers.values()))}), 200,
                        content_type="application/json")  # fmt: skip
