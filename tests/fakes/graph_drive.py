"""The drive side of the Graph fake (tests/fakes/graph_api.py): folders and files beside the workbooks, for the OneDrive
evidence store (connectors/storage_onedrive.py). Checked strictly, as Graph documents it (driveItem, v1.0):
- GET  /drives/{d}/items/{id}:/{path}                   an item by path below a folder (404 when missing)
- POST /drives/{d}/items/{id}/children                  a folder; @microsoft.graph.conflictBehavior fail (default),
                                                        rename or replace; 409 nameAlreadyExists on fail
- PUT  /drives/{d}/items/{id}:/{name}:/content          a new file up to 4 MB (the server's 4 MB request limit);
                                                        conflictBehavior from the query, `replace` by default as Graph's
- POST /drives/{d}/items/{id}:/{name}:/createUploadSession   {item: {conflictBehavior, name}} -> uploadUrl
- PUT/GET/DELETE {uploadUrl} (/upload-session/{token}, no bearer token: one is refused with 401, as Graph may):
  fragments in order, Content-Range "bytes a-b/total", each a multiple of 320 KiB but the last, at most 60 MiB;
  202 with nextExpectedRanges, 201 with the item on the last byte, 416 for a fragment already received
- GET  /drives/{d}/items/{id}/children ($top, @odata.nextLink), GET .../{id}/content and .../{id}:/{path}:/content
  (302 to /download/{d}/{id}, served without a token)
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

FRAGMENT_UNIT = 320 * 1024
FRAGMENT_MAX = 60 * 1024 * 1024
UPLOAD_PREFIX = "/upload-session/"
DOWNLOAD_PREFIX = "/download/"


@dataclass
class DriveNode:
    drive: str
    id: str
    name: str
    parent: str
    folder: bool
    content: bytes = b""
    content_type: str = ""


@dataclass
class UploadSession:
    drive: str
    parent: str
    name: str
    conflict: str
    total: int | None = None
    received: bytearray = field(default_factory=bytearray)


@dataclass(frozen=True)
class RawReply:
    """A drive answer that is not JSON (a file's bytes, a redirect)."""

    body: bytes
    content_type: str = "application/octet-stream"
    headers: tuple[tuple[str, str], ...] = ()


class DriveFault(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


_ITEM = re.compile(r"/v1\.0/drives/([^/]+)/items/([^/:]+)(?::/(.*?)(?::(/.*)?)?)?(/children|/content)?")


class GraphDriveFake:
    """Mixed into FakeGraph: `nodes` holds the folders and files the product made; workbooks sit in the folder
    `parent_id` of their FakeItem ("root" by default)."""

    nodes: dict[tuple[str, str], DriveNode]
    uploads: dict[str, UploadSession]
    public_base: str = ""  # http://127.0.0.1:port, set by the server: where uploadUrl and downloads point

    def _drive_init(self) -> None:
        self.nodes = {}
        self.uploads = {}

    # -- test helpers --

    def children_of(self, drive: str, parent: str) -> list[DriveNode]:
        return [n for n in self.nodes.values() if n.drive == drive and n.parent == parent]

    def child(self, drive: str, parent: str, name: str) -> DriveNode | None:
        return next((n for n in self.children_of(drive, parent) if n.name.casefold() == name.casefold()), None)

    def evidence_beside(self, item: Any) -> dict[str, dict[str, bytes]]:
        """{pupil key: {file name: bytes}} in the `evidence` folder beside a workbook (FakeItem)."""
        root = self.child(item.drive_id, item.parent_id, "evidence")
        if root is None:
            return {}
        return {
            pupil.name: {f.name: f.content for f in self.children_of(item.drive_id, pupil.id) if not f.folder}
            for pupil in self.children_of(item.drive_id, root.id)
            if pupil.folder
        }

    def add_drive_file(self, drive: str, parent: str, name: str, content: bytes) -> DriveNode:
        node = DriveNode(drive, "F" + uuid.uuid4().hex[:20].upper(), name, parent, folder=False, content=content)
        self.nodes[(drive, node.id)] = node
        return node

    # -- the API --

    def _metadata(self, node: DriveNode) -> dict[str, Any]:
        facet: dict[str, Any] = {"folder": {"childCount": len(self.children_of(node.drive, node.id))}} if node.folder \
            else {"file": {"mimeType": node.content_type or "application/octet-stream"}}  # fmt: skip
        return {"id": node.id, "name": node.name, "size": len(node.content), **facet,
                "parentReference": {"driveId": node.drive, "id": node.parent}}  # fmt: skip

    def _is_folder(self, drive: str, item: str) -> bool:
        if item == "root" or ((drive, item) in self.nodes and self.nodes[(drive, item)].folder):
            return True
        return any(i.drive_id == drive and i.parent_id == item for i in getattr(self, "items", {}).values())

    def _by_path(self, drive: str, parent: str, path: str) -> DriveNode | None:
        node: DriveNode | None = None
        for part in [p for p in path.split("/") if p]:
            node = self.child(drive, parent, part)
            if node is None:
                return None
            parent = node.id
        return node

    def _new(self, drive: str, parent: str, name: str, conflict: str, *, folder: bool, content: bytes = b"",
             content_type: str = "") -> DriveNode:  # fmt: skip
        if not self._is_folder(drive, parent):
            raise DriveFault(404, "itemNotFound", "The parent folder does not exist.")
        if not name or any(ch in name for ch in '"*:<>?/\\|'):
            raise DriveFault(400, "invalidRequest", "The name is not valid.")
        existing = self.child(drive, parent, name)
        if existing is not None:
            if conflict == "fail":
                raise DriveFault(409, "nameAlreadyExists", "The specified item name already exists.")
            if conflict == "rename":
                stem, dot, ext = name.rpartition(".") if not folder and "." in name else (name, "", "")
                number = 1
                while self.child(drive, parent, f"{stem} {number}{dot}{ext}"):
                    number += 1
                name = f"{stem} {number}{dot}{ext}"
            elif folder:
                return existing  # "replace" on a folder keeps it and its files, as Graph does
            else:
                existing.content, existing.content_type = content, content_type
                return existing
        node = DriveNode(drive, ("D" if folder else "F") + uuid.uuid4().hex[:20].upper(), name, parent, folder,
                         content, content_type)  # fmt: skip
        self.nodes[(drive, node.id)] = node
        return node

    def drive_route(self, method: str, path: str, body: Any, raw: bytes, query: str,
                    headers: Any) -> tuple[int, Any] | None:  # fmt: skip
        """The answer to a drive request, or None when `path` is not one (the workbook routes take it)."""
        match = _ITEM.fullmatch(path)
        if not match or "/workbook" in path:
            return None
        drive, item, rel, after, tail = match.groups()
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        if rel is not None and after == "/content" and method == "PUT":
            conflict = params.get("@microsoft.graph.conflictBehavior", "replace")
            node = self._new(drive, item, rel, conflict, folder=False, content=raw,
                             content_type=str(headers.get("Content-Type", "")))  # fmt: skip
            return 201, self._metadata(node)
        if rel is not None and after == "/createUploadSession" and method == "POST":
            wanted = (body or {}).get("item") or {}
            conflict = str(wanted.get("@microsoft.graph.conflictBehavior", "fail"))
            if wanted.get("name") not in (None, rel):
                raise DriveFault(400, "invalidRequest", "The item's name must be the path's name.")
            if conflict == "fail" and self.child(drive, item, rel) is not None:
                raise DriveFault(409, "nameAlreadyExists", "The specified item name already exists.")
            token = uuid.uuid4().hex
            self.uploads[token] = UploadSession(drive, item, rel, conflict)
            return 200, {"uploadUrl": f"{self.public_base}{UPLOAD_PREFIX}{token}",
                         "expirationDateTime": _soon(), "nextExpectedRanges": ["0-"]}  # fmt: skip
        if rel is not None:
            found = self._by_path(drive, item, rel)
            if found is None or (after or tail) not in (None, "/content") or method != "GET":
                raise DriveFault(404, "itemNotFound", "The resource could not be found.")
            return self._content(found) if (after or tail) == "/content" else (200, self._metadata(found))
        target = self.nodes.get((drive, item))
        if tail == "/children" and method == "POST":
            conflict = str((body or {}).get("@microsoft.graph.conflictBehavior", "fail"))
            if "folder" not in (body or {}):
                raise DriveFault(400, "invalidRequest", "Only folders are made here.")
            return 201, self._metadata(self._new(drive, item, str(body.get("name", "")), conflict, folder=True))
        if tail == "/children" and method == "GET":
            if not self._is_folder(drive, item):
                raise DriveFault(404, "itemNotFound", "The resource could not be found.")
            every = sorted(self.children_of(drive, item), key=lambda n: n.id)
            top, skip = int(params.get("$top", "200")), int(params.get("$skiptoken", "0"))
            page: dict[str, Any] = {"value": [self._metadata(n) for n in every[skip : skip + top]]}
            if skip + top < len(every):
                page["@odata.nextLink"] = (f"{self.public_base}/v1.0/drives/{drive}/items/{item}/children"
                                           f"?$top={top}&$skiptoken={skip + top}")  # fmt: skip
            return 200, page
        if target is not None and tail == "/content" and method == "GET":
            return self._content(target)
        return None

    def _content(self, node: DriveNode) -> tuple[int, Any]:
        if node.folder:
            raise DriveFault(400, "notAllowed", "A folder has no content.")
        location = f"{self.public_base}{DOWNLOAD_PREFIX}{node.drive}/{node.id}"
        return 302, RawReply(b"", headers=(("Location", location),))

    def transfer(self, method: str, path: str, raw: bytes, headers: Any) -> tuple[int, Any]:
        """The pre-authenticated URLs: an upload session's fragments, and downloads."""
        if path.startswith(DOWNLOAD_PREFIX):
            drive, _, item = path[len(DOWNLOAD_PREFIX) :].partition("/")
            node = self.nodes.get((drive, item))
            if node is None or node.folder or method != "GET":
                raise DriveFault(404, "itemNotFound", "The resource could not be found.")
            return 200, RawReply(node.content, node.content_type or "application/octet-stream")
        token = path[len(UPLOAD_PREFIX) :]
        session = self.uploads.get(token)
        if session is None:
            raise DriveFault(404, "itemNotFound", "The upload session was not found (expired or cancelled).")
        if method == "DELETE":
            del self.uploads[token]
            return 204, None
        if method == "GET":
            return 200, self._progress(session)
        if method != "PUT":
            raise DriveFault(405, "methodNotAllowed", f"{method} is not allowed on an upload URL.")
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", str(headers.get("Content-Range", "")))
        if not found:
            raise DriveFault(400, "invalidRange", "Content-Range must be bytes first-last/total.")
        first, last, total = (int(g) for g in found.groups())
        if session.total not in (None, total) or last < first or last >= total or last - first + 1 != len(raw):
            raise DriveFault(400, "invalidRange", "The fragment does not match its Content-Range.")
        if len(raw) > FRAGMENT_MAX or (last + 1 < total and len(raw) % FRAGMENT_UNIT):
            raise DriveFault(400, "invalidRange", "Fragments must be multiples of 320 KiB (all but the last).")
        if first < len(session.received):
            raise DriveFault(416, "invalidRange", "The fragment was already received.")
        if first > len(session.received):
            raise DriveFault(400, "invalidRange", "Fragments must be uploaded in order.")
        session.total = total
        session.received += raw
        if len(session.received) < total:
            return 202, self._progress(session)
        del self.uploads[token]
        node = self._new(session.drive, session.parent, session.name, session.conflict, folder=False,
                         content=bytes(session.received))  # fmt: skip
        return 201, self._metadata(node)

    @staticmethod
    def _progress(session: UploadSession) -> dict[str, Any]:
        return {"expirationDateTime": _soon(), "nextExpectedRanges": [f"{len(session.received)}-"]}


def _soon() -> str:
    return (datetime.now(UTC) + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
