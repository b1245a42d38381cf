"""A local stand-in for the Pub/Sub REST API's projects.topics.publish, over a real socket (as the emulator speaks it).
`fail_next` makes the next N calls answer with `fail_status`, to exercise bounded retries."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

from tests.fakes.serving import on_a_socket


@dataclass
class FakePubSub:
    topics: set[str] = field(default_factory=set)
    published: list[dict] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 503
    calls: int = 0
    host: str = ""

    def payloads(self) -> list[dict]:
        return [json.loads(base64.b64decode(m["data"])) for m in self.published]

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.calls += 1
        path = request.path
        if request.method != "POST" or not path.startswith("/v1/projects/") or not path.endswith(":publish"):
            return Response("not found", 404)(environ, start_response)
        topic = path[len("/v1/") : -len(":publish")]
        if self.fail_next > 0:
            self.fail_next -= 1
            return Response("{}", self.fail_status, content_type="application/json")(environ, start_response)
        if topic not in self.topics:
            body = {"error": {"code": 404, "message": "Resource not found", "status": "NOT_FOUND"}}
            return Response(json.dumps(body), 404, content_type="application/json")(environ, start_response)
        messages = request.get_json()["messages"]
        ids = []
        for message in messages:
            base64.b64decode(message["data"], validate=True)
            self.published.append(message)
            ids.append(str(len(self.published)))
        return Response(json.dumps({"messageIds": ids}), content_type="application/json")(environ, start_response)


@contextmanager
def fake_pubsub(*topics: str) -> Iterator[FakePubSub]:
    with on_a_socket(FakePubSub(topics=set(topics))) as fake:
        yield fake
