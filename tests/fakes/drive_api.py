"""A small fake of the Google Drive API v3, served over a real socket, for the evidence store's tests.

It speaks only what the product uses, and checks it strictly:
- GET  /drive/v3/files?q=...           files.list (q: name = '..', mimeType = / != '..', '<id>' in parents, trashed = false)
- POST /drive/v3/files                 files.create with JSON metadata (folders)
- POST /upload/drive/v3/files?uploadType=multipart   files.create with a multipart/related body (metadata + media)
- POST /drive/v3/files/{id}/permissions              permissions.create
- GET  /drive/v3/files/{id}?alt=media                the content
- GET  /drive/v3/files/generateIds?count=1           ids for creates (a create with a used id answers 409)
Faults are queued like the Sheets fake's: each is consumed by the next request of its kind ("list", "create",
"upload", "permission", "media", "ids" or None for any). `commit_then_fail` applies an upload and then drops the answer
(the case where a retry would duplicate the file); `delay_s` answers slowly (past the client's read timeout);
`retry_after` adds Drive's Retry-After header (seconds) to the error answer, as its 429s and 503s may carry.
`outage(...)` queues the same fault for every request for a while. `arrivals` records when each request came
(time.monotonic(), method, kind), to check the pauses between tries.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

FOLDER_MIME = "application/vnd.google-apps.folder"
_CLAUSE = re.compile(r"^(?:name = '([^']*)'|mimeType (=|!=) '([^']*)'|'([^']*)' in parents|trashed = false)$")


@dataclass
class Fault:
    kind: str | None = None
    status: int | None = 503
    delay_s: float = 0.0  # answer slowly (the client's read timeout)
    commit_then_fail: bool = False
    retry_after: float | None = None  # seconds, sent as Retry-After with the error answer


@dataclass
class DriveFile:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    content: bytes = b""
    permissions: list[dict[str, Any]] = field(default_factory=list)


class FakeDriveServer:
    def __init__(self) -> None:
        self.files: dict[str, DriveFile] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []  # (method, kind)
        self.arrivals: list[tuple[float, str, str]] = []  # (time.monotonic(), method, kind)
        self._lock = threading.Lock()
        self._counter = 0
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> FakeDriveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def outage(self, count: int = 200, **fault: Any) -> None:
        """The same fault for each of the next `count` requests (of any kind unless `kind` is given)."""
        with self._lock:
            self.faults.extend(Fault(**fault) for _ in range(count))

    def named(self, name: str) -> list[DriveFile]:
        return [f for f in self.files.values() if f.name == name]

    def children(self, parent: str) -> list[DriveFile]:
        return [f for f in self.files.values() if parent in f.parents]

    # ------------------------------------------------------------------ serving

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self._handle(Request(environ))(environ, start_response)

    def _take_fault(self, kind: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.kind in (None, kind):
                    return self.faults.pop(i)
        return None

    def _handle(self, request: Request) -> Response:
        path, method = request.path, request.method
        kind = self._kind(method, path, request)
        self.requests.append((method, kind))
        self.arrivals.append((time.monotonic(), method, kind))
        fault = self._take_fault(kind)
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        if fault is not None and not fault.commit_then_fail and fault.status:
            return _error(fault.status, "backendError", fault.retry_after)
        try:
            with self._lock:
                response = self._serve(kind, path, request)
        except ValueError as err:
            return _error(400, str(err))
        if fault is not None and fault.commit_then_fail:
            return _error(fault.status or 503, "backendError", fault.retry_after)
        return response

    @staticmethod
    def _kind(method: str, path: str, request: Request) -> str:
        if path == "/upload/drive/v3/files" and method == "POST":
            return "upload"
        if path == "/drive/v3/files":
            return "create" if method == "POST" else "list"
        if path.endswith("/permissions") and method == "POST":
            return "permission"
        if path == "/drive/v3/files/generateIds":
            return "ids"
        if request.args.get("alt") == "media":
            return "media"
        return "other"

    def _new_id(self) -> str:
        self._counter += 1
        return f"file{self._counter:04d}"

    def _use_id(self, wanted: str | None) -> str | None:
        """The id a create asked for (None when already used: Drive's 409), or a new one."""
        if wanted is None:
            return self._new_id()
        return None if wanted in self.files else wanted

    def _serve(self, kind: str, path: str, request: Request) -> Response:
        if kind == "list":
            return _json({"files": [{"id": f.id, "name": f.name} for f in self._query(request.args.get("q", ""))]})
        if kind == "ids":
            return _json({"kind": "drive#generatedIds", "space": "drive", "ids": [self._new_id()]})
        if kind == "create":
            meta = json.loads(request.get_data())
            if set(meta) - {"id", "name", "mimeType", "parents"}:
                raise ValueError("unknown metadata field")
            made_id = self._use_id(meta.get("id"))
            if made_id is None:
                return _error(409, "duplicate")
            made = DriveFile(made_id, meta["name"], meta.get("mimeType", ""), list(meta.get("parents") or []))
            self.files[made.id] = made
            return _json({"id": made.id})
        if kind == "upload":
            if request.args.get("uploadType") != "multipart":
                raise ValueError("uploadType must be multipart")
            meta, content = _multipart(request)
            if not meta.get("parents") or meta["parents"][0] not in self.files:
                raise ValueError("upload without a known parent folder")
            made_id = self._use_id(meta.get("id"))
            if made_id is None:
                return _error(409, "duplicate")
            made = DriveFile(made_id, meta["name"], meta.get("mimeType", ""), list(meta["parents"]), content)
            self.files[made.id] = made
            return _json({"id": made.id, "name": made.name, "size": str(len(content))})
        if kind == "permission":
            file_id = path.split("/")[4]
            body = json.loads(request.get_data())
            if body.get("type") != "user" or body.get("role") not in {"reader", "writer"} or "emailAddress" not in body:
                raise ValueError("bad permission")
            self.files[file_id].permissions.append(body)
            return _json({"id": f"perm{len(self.files[file_id].permissions)}"})
        if kind == "media":
            file_id = path.rsplit("/", 1)[1]
            if file_id not in self.files:
                return _error(404, "notFound")
            return Response(self.files[file_id].content, 200, content_type="application/octet-stream")
        return _error(404, "notFound")

    def _query(self, q: str) -> list[DriveFile]:
        tests: list[Callable[[DriveFile], bool]] = []
        for clause in (c.strip() for c in q.split(" and ")):
            match = _CLAUSE.match(clause)
            if not match:
                raise ValueError(f"unsupported query clause: {clause}")
            name, op, mime, parent = match.groups()
            if name is not None:
                tests.append(lambda f, n=name: f.name == n)
            elif mime is not None:
                tests.append(lambda f, m=mime, eq=(op == "="): (f.mime_type == m) == eq)
            elif parent is not None:
                tests.append(lambda f, p=parent: p in f.parents)
        return [f for f in self.files.values() if all(t(f) for t in tests)]


def _multipart(request: Request) -> tuple[dict[str, Any], bytes]:
    content_type = request.headers.get("Content-Type", "")
    match = re.match(r"multipart/related; boundary=(\S+)$", content_type)
    if not match:
        raise ValueError("not multipart/related")
    boundary = match.group(1).encode()
    body = request.get_data()
    parts = body.split(b"--" + boundary)
    if len(parts) != 4 or parts[3].strip() != b"--":
        raise ValueError("a multipart upload has exactly two parts")
    head1, _, meta = parts[1].partition(b"\r\n\r\n")
    _head2, _, media = parts[2].partition(b"\r\n\r\n")
    if b"application/json" not in head1:
        raise ValueError("the first part must be the JSON metadata")
    return json.loads(meta.rstrip(b"\r\n")), media[:-2] if media.endswith(b"\r\n") else media


def _json(payload: Any) -> Response:
    return Response(json.dumps(payload), 200, content_type="application/json")


def _error(code: int, reason: str, retry_after: float | None = None) -> Response:
    body = {"error": {"code": code, "message": reason, "errors": [{"reason": reason}]}}
    response = Response(json.dumps(body), code, content_type="application/json")
    if retry_after is not None:
        response.headers["Retry-After"] = f"{retry_after:g}"
    return response


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass
