"""Publishing to a Pub/Sub topic over its REST API (projects.topics.publish), so a trust's dispatcher can fan out one
message per school without the gRPC client library and its native dependencies.

Authenticated with the function's service account through google-auth's AuthorizedSession. With PUBSUB_EMULATOR_HOST
set (host:port), it talks plain HTTP to that host without credentials, exactly as Google's client libraries do for the
Pub/Sub emulator; tests point it at a local fake server the same way.

Every request has a timeout; 429, 5xx and dropped connections are retried a bounded number of times. A retried
publish can deliver a message twice, which is harmless: a sweep is safe to run twice.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests

from .http_retry import with_retries

EMULATOR_ENV = "PUBSUB_EMULATOR_HOST"
API_ROOT = "https://pubsub.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/pubsub"
_MAX_BATCH = 1000  # the API's limit on messages per publish call


class PublishError(Exception):
    """The topic could not be published to. `str(err)` says what to check."""


class PubSubPublisher:
    def __init__(
        self,
        project: str,
        topic: str,
        *,
        session: requests.Session | None = None,
        api_root: str = API_ROOT,
        timeout: tuple[float, float] = (5.0, 30.0),
        attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not project or not topic:
            raise PublishError("No Pub/Sub project or topic: set GOOGLE_CLOUD_PROJECT and KEEPER_SWEEP_TOPIC.")
        self.project = project
        self.topic = topic
        self.api_root = api_root.rstrip("/")
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self._sleep = sleep
        self._session = session

    @classmethod
    def connect(cls, project: str, topic: str, *, emulator_host: str = "", **kwargs: Any) -> PubSubPublisher:
        """The emulator (or a fake) when `emulator_host` (PUBSUB_EMULATOR_HOST, read by functions/bootstrap.py) is
        given, else the real API with default credentials."""
        host = emulator_host.strip()
        if host:
            root = host if "://" in host else f"http://{host}"
            return cls(project, topic, session=requests.Session(), api_root=root, **kwargs)
        return cls(project, topic, **kwargs)

    @classmethod
    def from_env(cls, project: str, topic: str, env: Mapping[str, str], **kwargs: Any) -> PubSubPublisher:
        """As connect, with the emulator host from a mapping's PUBSUB_EMULATOR_HOST (never the process environment)."""
        return cls.connect(project, topic, emulator_host=env.get(EMULATOR_ENV, ""), **kwargs)

    @property
    def topic_path(self) -> str:
        return f"projects/{self.project}/topics/{self.topic}"

    def _http(self) -> requests.Session:
        if self._session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            credentials, _ = google.auth.default(scopes=[SCOPE])
            self._session = AuthorizedSession(credentials)
        return self._session

    def publish(self, payloads: Sequence[bytes], attributes: Mapping[str, str] | None = None) -> list[str]:
        """Publish each payload as one message; returns the message ids in order."""
        ids: list[str] = []
        for start in range(0, len(payloads), _MAX_BATCH):
            batch = payloads[start : start + _MAX_BATCH]
            body = {
                "messages": [
                    {"data": base64.b64encode(p).decode("ascii"), "attributes": dict(attributes or {})} for p in batch
                ]
            }
            ids.extend(self._post(body, len(batch)))
        return ids

    def _post(self, body: Mapping[str, Any], expected: int) -> list[str]:
        url = f"{self.api_root}/v1/{self.topic_path}:publish"
        response, problem = with_retries(
            lambda: self._http().post(url, json=body, timeout=self.timeout),
            attempts=self.attempts,
            sleep=self._sleep,
            service="Pub/Sub",
        )
        if response is None:
            raise PublishError(f"Could not publish to {self.topic_path} after {self.attempts} tries: {problem}.")
        if response.status_code == 404:
            raise PublishError(f"The topic {self.topic_path} does not exist; run scripts/deploy.sh to create it.")
        if response.status_code == 403:
            raise PublishError(
                f"Not allowed to publish to {self.topic_path}; give the service account roles/pubsub.publisher."
            )
        if not response.ok:
            raise PublishError(f"Pub/Sub refused the messages ({response.status_code}).")
        try:
            ids = [str(i) for i in response.json().get("messageIds", [])]
        except (ValueError, AttributeError):
            raise PublishError("Pub/Sub's answer was not JSON; check PUBSUB_EMULATOR_HOST.") from None
        if len(ids) != expected:
            raise PublishError(f"Pub/Sub accepted {len(ids)} of {expected} messages.")
        return ids


__all__ = ["EMULATOR_ENV", "PubSubPublisher", "PublishError"]
