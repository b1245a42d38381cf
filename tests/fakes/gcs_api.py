"""A local stand-in for the three Cloud Storage JSON API calls the sweep lease makes (connectors/lease_gcs.py), over a
real socket: a media upload with `ifGenerationMatch`, a download (`alt=media`, with the `x-goog-generation` header)
and a delete with `ifGenerationMatch`. Preconditions behave as the real service documents them: 412 when they fail.
`fail_next` makes the next N calls answer `fail_status`, to exercise bounded retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from tests.fakes.serving import on_a_socket


@dataclass
class FakeGcs:
    buckets: set[str] = field(default_factory=set)
    objects: dict[tuple[str, str], tuple[int, bytes]] = field(default_factory=dict)
    fail_next: int = 0
    fail_status: int = 503
    calls: list[tuple[str, str]] = field(default_factory=list)
    host: str = ""
    _generation: int = 1000
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            response = self._answer(request)
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        self.calls.append((request.method, request.full_path))
        if self.fail_next > 0:
            self.fail_next -= 1
            return _error(self.fail_status, "backendError")
        # The raw path: an object name's "/" arrives as %2F, and request.path would decode it into a path separator.
        raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI") or request.path
        parts = raw.split("?", 1)[0].split("/")
        precondition = request.args.get("ifGenerationMatch")
        if request.method == "POST" and parts[:5] == ["", "upload", "storage", "v1", "b"] and parts[6:] == ["o"]:
            bucket, name = unquote(parts[5]), request.args.get("name", "")
            if request.args.get("uploadType") != "media" or not name:
                return _error(400, "invalid")
            if bucket not in self.buckets:
                return _error(404, "notFound")
            current = self.objects.get((bucket, name))
            if precondition is not None and int(precondition) != (current[0] if current else 0):
                return _error(412, "conditionNotMet")
            self._generation += 1
            self.objects[(bucket, name)] = (self._generation, request.get_data())
            return _json(200, {"bucket": bucket, "name": name, "generation": str(self._generation)})
        if parts[:4] == ["", "storage", "v1", "b"] and len(parts) == 7 and parts[5] == "o":
            bucket, name = unquote(parts[4]), unquote(parts[6])
            current = self.objects.get((bucket, name))
            if current is None:
                return _error(404, "notFound")
            if precondition is not None and int(precondition) != current[0]:
                return _error(412, "conditionNotMet")
            if request.method == "GET" and request.args.get("alt") == "media":
                return Response(current[1], 200, headers={"x-goog-generation": str(current[0])})
            if request.method == "DELETE":
                del self.objects[(bucket, name)]
                return Response(b"", 204)
        return _error(404, "notFound")


def _json(status: int, body: dict) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _error(status: int, reason: str) -> Response:
    return _json(status, {"error": {"code": status, "message": reason, "errors": [{"reason": reason}]}})


@contextmanager
def fake_gcs(*buckets: str) -> Iterator[FakeGcs]:
    with on_a_socket(FakeGcs(buckets=set(buckets))) as fake:
        yield fake
