"""The lease as a Cloud Storage object, for the cloud (KEEPER_LEASE_BUCKET): a function's own disk is gone after each
run and two instances share nothing else. Cloud Storage's JSON API over google-auth's AuthorizedSession (no client
library), as connectors/pubsub.py does for Pub/Sub:

- take: upload the object with `ifGenerationMatch=0`, which succeeds only when no such object exists (412 otherwise);
- give up: delete it with `ifGenerationMatch=<the generation we created>`, so a lease someone else took after ours
  expired is never deleted;
- a crashed holder: the object says when it expires (`expires`, epoch seconds, `ttl` after it was taken; the default
  outlives a Cloud Function's 540 s limit); an expired object is deleted with its own generation, then taken afresh.

With STORAGE_EMULATOR_HOST (read by functions/bootstrap.py) it talks plain HTTP to that host without credentials, as
Google's client libraries do; tests point it at tests/fakes/gcs_api.py. Every call has a timeout; 429, 5xx and dropped
connections are retried a bounded number of times."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests

from connectors.http_retry import with_retries
from connectors.lease import LeaseError

API_ROOT = "https://storage.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
TTL = 900.0  # seconds: longer than any sweep can run (a Cloud Function stops at 540 s)


class GcsLease:
    def __init__(
        self,
        bucket: str,
        name: str,
        *,
        session: requests.Session | None = None,
        api_root: str = API_ROOT,
        ttl: float = TTL,
        timeout: tuple[float, float] = (5.0, 20.0),
        attempts: int = 3,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bucket = bucket
        self.name = name
        self.api_root = api_root.rstrip("/")
        self.ttl = ttl
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self._now = now
        self._sleep = sleep
        self._session = session
        self._generation: str | None = None
        self._token: str | None = None

    @classmethod
    def connect(cls, bucket: str, name: str, *, emulator_host: str = "", **kwargs: Any) -> GcsLease:
        host = emulator_host.strip()
        if host:
            root = host if "://" in host else f"http://{host}"
            return cls(bucket, name, session=requests.Session(), api_root=root, **kwargs)
        return cls(bucket, name, **kwargs)

    def describe(self) -> str:
        return f"gs://{self.bucket}/{self.name}"

    def _http(self) -> requests.Session:
        if self._session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            credentials, _ = google.auth.default(scopes=[SCOPE])
            self._session = AuthorizedSession(credentials)
        return self._session

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        response, problem = with_retries(
            lambda: self._http().request(method, url, timeout=self.timeout, **kwargs),
            attempts=self.attempts,
            sleep=self._sleep,
            service="Cloud Storage",
            cap_s=4.0,
        )
        if response is None:
            raise LeaseError(f"Cloud Storage could not be reached for the sweep lease {self.describe()}: {problem}.")
        if response.status_code in (401, 403):
            raise LeaseError(
                f"Not allowed to use the sweep lease {self.describe()}; give the function's service account "
                "roles/storage.objectUser on that bucket."
            )
        return response

    @property
    def _object_url(self) -> str:
        return f"{self.api_root}/storage/v1/b/{quote(self.bucket, safe='')}/o/{quote(self.name, safe='')}"

    def try_acquire(self) -> bool:
        for _ in range(2):
            token = uuid.uuid4().hex
            body = {"host": socket.gethostname(), "pid": os.getpid(), "expires": self._now() + self.ttl, "token": token}
            response = self._call(
                "POST",
                f"{self.api_root}/upload/storage/v1/b/{quote(self.bucket, safe='')}/o",
                params={"uploadType": "media", "name": self.name, "ifGenerationMatch": "0"},
                data=json.dumps(body).encode("utf-8"),
                headers={"Content-Type": "application/json"},
            )
            if response.status_code == 200:
                self._generation, self._token = str(response.json()["generation"]), token
                return True
            if response.status_code == 404:
                raise LeaseError(f"The bucket {self.bucket} for the sweep lease does not exist; create it first.")
            if response.status_code != 412:
                raise LeaseError(f"Cloud Storage refused the sweep lease {self.describe()} ({response.status_code}).")
            # Taken: by us (a retried upload whose first answer was lost), by a live sweep, or by a dead one.
            holder, generation = self._holder()
            if generation is None:
                continue  # released meanwhile: try again at once
            if holder.get("token") == token:
                self._generation, self._token = generation, token
                return True
            expires = holder.get("expires")
            if isinstance(expires, int | float) and expires > self._now():
                return False
            # Expired, or unreadable: its holder died. Deleted only as that generation, so a fresh lease is safe.
            self._call("DELETE", self._object_url, params={"ifGenerationMatch": generation})
        return False

    def _holder(self) -> tuple[dict[str, Any], str | None]:
        response = self._call("GET", self._object_url, params={"alt": "media"})
        if response.status_code == 404:
            return {}, None
        generation = response.headers.get("x-goog-generation")
        try:
            data = json.loads(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = {}
        return (data if isinstance(data, dict) else {}), generation

    def release(self) -> None:
        if self._generation is None:
            return
        generation, self._generation, self._token = self._generation, None, None
        # 204 done; 404 or 412: it expired and was broken or taken by someone else, which is theirs now. Unreachable:
        # it expires by itself after the TTL, and the sweep's own outcome matters more than this.
        with contextlib.suppress(LeaseError):
            self._call("DELETE", self._object_url, params={"ifGenerationMatch": generation})


__all__ = ["API_ROOT", "TTL", "GcsLease"]
