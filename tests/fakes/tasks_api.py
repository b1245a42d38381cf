"""A local stand-in for the Cloud Tasks REST API v2, over a real socket: projects.locations.queues.tasks.create, checked
as strictly as Google checks it (the task's name under its queue, an RFC 3339 scheduleTime, an HTTP target with a
base64 body and an OIDC token), 404 for a queue that does not exist and 409 ALREADY_EXISTS for a name it has seen.
`fail_next` answers the next N calls with `fail_status`, to exercise the connector's bounded retries.

`QueuePolicy` and `TokenBucket` model what the queue then does with the tasks, as Google documents it (a token
bucket refilled at maxDispatchesPerSecond, maxConcurrentDispatches, and retries after minBackoff doubling
maxDoublings times up to maxBackoff, at most maxAttempts attempts); scripts/bench_trust.py dispatches with them.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.serving import on_a_socket

_QUEUE = r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z0-9-]+/queues/[A-Za-z0-9-]{1,100}"
_TASK_NAME = re.compile(rf"({_QUEUE})/tasks/([A-Za-z0-9_-]{{1,500}})")
_CREATE = re.compile(rf"/v2/({_QUEUE})/tasks")


@dataclass(frozen=True)
class QueuePolicy:
    """A queue's rate limits and retry config, as `gcloud tasks queues create` sets them."""

    max_dispatches_per_second: float = 0.4
    max_burst_size: int = 1  # output only at Google (picked from the rate); a parameter here
    max_concurrent_dispatches: int = 10
    max_attempts: int = 6
    min_backoff: float = 60.0
    max_backoff: float = 600.0
    max_doublings: int = 3

    def backoff(self, failures: int) -> float:
        """Seconds before the attempt after `failures` failed ones: min_backoff doubled up to max_doublings times,
        then growing linearly by the last doubled step, never above max_backoff."""
        doublings = min(failures - 1, self.max_doublings)
        wait = self.min_backoff * 2**doublings
        linear = failures - 1 - self.max_doublings
        if linear > 0:
            wait += linear * self.min_backoff * 2**self.max_doublings
        return min(wait, self.max_backoff)


@dataclass
class TaskRecord:
    name: str
    schedule_time: datetime
    url: str
    payload: dict[str, Any]
    service_account: str
    audience: str
    dispatch_deadline: str | None


def _rfc3339(text: Any) -> datetime:
    if not isinstance(text, str) or not text.endswith("Z"):
        raise ValueError("scheduleTime must be RFC 3339 in UTC, ending in Z")
    return datetime.fromisoformat(text[:-1] + "+00:00")


@dataclass
class FakeCloudTasks:
    queues: set[str] = field(default_factory=set)
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    fail_next: int = 0
    fail_status: int = 503
    calls: int = 0
    host: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def payloads(self) -> list[dict[str, Any]]:
        return [t.payload for t in sorted(self.tasks.values(), key=lambda t: t.schedule_time)]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.calls += 1
            response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        match = _CREATE.fullmatch(request.path)
        if request.method != "POST" or not match:
            return _error(404, "NOT_FOUND", f"{request.method} {request.path} is not served by this fake")
        if self.fail_next > 0:
            self.fail_next -= 1
            return _error(self.fail_status, "UNAVAILABLE", "Injected fault")
        queue = match.group(1)
        if queue not in self.queues:
            return _error(404, "NOT_FOUND", f"Queue {queue} does not exist.")
        try:
            record = self._task(queue, request.get_json())
        except (ValueError, KeyError, TypeError) as exc:
            return _error(400, "INVALID_ARGUMENT", str(exc))
        if record.name in self.tasks:
            return _error(409, "ALREADY_EXISTS", "Requested entity already exists")
        self.tasks[record.name] = record
        body = {"name": record.name, "scheduleTime": request.get_json()["task"]["scheduleTime"], "view": "BASIC"}
        return Response(json.dumps(body), 200, content_type="application/json")

    @staticmethod
    def _task(queue: str, body: Any) -> TaskRecord:
        task = body["task"]
        unknown = set(body) - {"task", "responseView"}
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        name = _TASK_NAME.fullmatch(task["name"])
        if not name or name.group(1) != queue:
            raise ValueError(f"task name {task['name']!r} is not a task of {queue}")
        http = task["httpRequest"]
        if not str(http["url"]).startswith(("https://", "http://")) or http.get("httpMethod") != "POST":
            raise ValueError("httpRequest needs an http(s) url and httpMethod POST")
        payload = json.loads(base64.b64decode(http["body"], validate=True))
        oidc = http["oidcToken"]
        if "@" not in oidc["serviceAccountEmail"]:
            raise ValueError("oidcToken.serviceAccountEmail is not an account")
        return TaskRecord(
            name=task["name"],
            schedule_time=_rfc3339(task["scheduleTime"]),
            url=http["url"],
            payload=payload,
            service_account=oidc["serviceAccountEmail"],
            audience=oidc.get("audience", ""),
            dispatch_deadline=task.get("dispatchDeadline"),
        )


def _error(code: int, status: str, message: str) -> Response:
    payload = {"error": {"code": code, "message": message, "status": status}}
    return Response(json.dumps(payload), code, content_type="application/json")


@contextmanager
def fake_cloud_tasks(*queues: str) -> Iterator[FakeCloudTasks]:
    with on_a_socket(FakeCloudTasks(queues=set(queues))) as fake:
        yield fake


class TokenBucket:
    """Cloud Tasks' dispatch limiter: `burst` tokens at most, refilled at `rate` a second, one per dispatch."""

    def __init__(self, rate: float, burst: int, start: float = 0.0) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = start

    def next_free(self, now: float) -> float:
        """The earliest time (>= now) a token is there."""
        tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        return now if tokens >= 1 else now + (1 - tokens) / self.rate

    def take(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate) - 1
        self.updated = now


__all__ = ["FakeCloudTasks", "QueuePolicy", "TaskRecord", "TokenBucket", "fake_cloud_tasks"]
