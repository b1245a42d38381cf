"""The HTTP side of the Google Sheets adapter: gspread's HTTP client with a timeout on every request, bounded retries
and an optional base URL (an emulator), and the service account's credentials.

Every request has a timeout; 408, 429 and 5xx (and timeouts, dropped connections) are retried with capped exponential
back-off, jitter and `Retry-After`, within an overall deadline per operation (one read(), one write()). gspread's own
back-off client is not used: in 6.2.1 it retries without a deadline and reads the status from the JSON body, which a
bare 429 does not have. Nothing here reads the environment: the composition root passes the emulator host and the key
file.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from google.auth import exceptions as auth_exceptions
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEETS_API_V4_BASE_URL

from connectors.base import RegisterError
from connectors.http_retry import retry_after

log = logging.getLogger("connectors.sheets")

# Only the spreadsheets scope: the product never needs Drive (it opens the sheet by key, never lists files).
SHEETS_SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
_GOOGLE_API_ORIGIN = SPREADSHEETS_API_V4_BASE_URL.split("/v4/", 1)[0]  # https://sheets.googleapis.com
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries. `timeout_s` is per request (connect, read); `deadline_s` bounds one read() or write()."""

    timeout_s: tuple[float, float] = (10.0, 60.0)
    deadline_s: float = 120.0
    max_attempts: int = 6
    base_delay_s: float = 1.0
    max_delay_s: float = 32.0  # Google's own guidance for Sheets: exponential back-off capped at 32-64 s


class _Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._ends = clock() + seconds

    def remaining(self) -> float:
        return self._ends - self._clock()


class _TransientFailure(Exception):
    """A failure worth retrying; `wait_hint` is the server's Retry-After in seconds, if any. `ambiguous`: the server may
    have applied the request (a 5xx, or no answer after sending), as opposed to refusing it (408, 429, no connection)."""

    def __init__(self, reason: str, wait_hint: float | None = None, *, ambiguous: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_hint = wait_hint
        self.ambiguous = ambiguous


class RetryWrite(Exception):
    """A write failed in a way worth retrying, but not as it was: rows may have moved while waiting, so the caller
    re-reads the sheet and rebuilds the batch first."""

    def __init__(self, failure: _TransientFailure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class BoundedHTTPClient(HTTPClient):
    """gspread's HTTPClient with a timeout on every request, bounded retries and an optional base URL (the emulator).

    The status code is taken from the HTTP response, not from the JSON body: a 429 from a proxy or the front end often
    has no JSON, and gspread's APIError then reports code -1.
    """

    def __init__(
        self,
        auth: Any,
        session: requests.Session | None = None,
        *,
        base_url: str | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(auth, session)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.policy = policy or RetryPolicy()
        self.set_timeout(self.policy.timeout_s)
        self._sleep = sleep
        self._clock = clock
        self._deadline: _Deadline | None = None
        self.requests_sent = 0  # HTTP requests actually sent, retries included
        # False while sending the write batch: it is never resent as it was (see SheetsRegister.write).
        self.repeatable = True

    def start_deadline(self) -> None:
        self._deadline = _Deadline(self.policy.deadline_s, self._clock)

    def backoff(self, attempt: int, failure: _TransientFailure) -> float:
        """Seconds to wait before the next attempt: capped exponential with "equal jitter" (at least half the step,
        so retries never bunch at zero and sweeps sharing one service account's quota spread out), and never less
        than the server's Retry-After."""
        step = min(self.policy.max_delay_s, self.policy.base_delay_s * 2 ** (attempt - 1))
        return max(step / 2 + random.uniform(0, step / 2), failure.wait_hint or 0.0)

    def remaining(self) -> float:
        return self._deadline.remaining() if self._deadline else self.policy.deadline_s

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def _rewrite(self, endpoint: str) -> str:
        if self.base_url and endpoint.startswith(_GOOGLE_API_ORIGIN):
            return self.base_url + endpoint[len(_GOOGLE_API_ORIGIN) :]
        return endpoint

    def _timeout(self, remaining: float) -> tuple[float, float]:
        connect, read = self.policy.timeout_s
        # Never wait on one request past the operation's deadline.
        return (max(0.1, min(connect, remaining)), max(0.1, min(read, remaining)))

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        endpoint = self._rewrite(endpoint)
        deadline = self._deadline or _Deadline(self.policy.deadline_s, self._clock)
        last_reason = "no attempt was made"
        for attempt in range(1, self.policy.max_attempts + 1):
            remaining = deadline.remaining()
            if remaining <= 0:
                break
            self.timeout = self._timeout(remaining)
            try:
                return self._attempt(method, endpoint, *args, **kwargs)
            except _TransientFailure as failure:
                last_reason = failure.reason
                if not self.repeatable:
                    raise RetryWrite(failure) from failure
                if attempt == self.policy.max_attempts:
                    break
                wait = self.backoff(attempt, failure)
                if wait >= deadline.remaining():
                    break
                log.info("Google Sheets: %s; retrying in %.1f s (attempt %d)", failure.reason, wait, attempt)
                self._sleep(wait)
        raise RegisterError(
            f"Google Sheets kept failing ({last_reason}, {attempt} attempts), so the sweep stopped before writing "
            "anything; the next sweep will try again."
        )

    def _attempt(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        self.requests_sent += 1
        try:
            return super().request(method, endpoint, *args, **kwargs)
        except APIError as err:
            status = err.response.status_code
            if status in _RETRYABLE_STATUS:
                wait_hint = retry_after(err.response)
                raise _TransientFailure(f"HTTP {status}", wait_hint, ambiguous=status >= 500) from err
            raise
        except requests.ConnectTimeout as err:
            raise _TransientFailure("no connection within the timeout") from err
        except requests.Timeout as err:
            raise _TransientFailure("no answer within the timeout", ambiguous=True) from err
        except requests.ConnectionError as err:
            raise _TransientFailure("the connection failed", ambiguous=True) from err
        except auth_exceptions.TransportError as err:
            # The access token could not be fetched (Google's token endpoint unreachable): nothing was sent yet.
            raise _TransientFailure("the sign-in service did not answer") from err
        except auth_exceptions.RefreshError as err:
            raise RegisterError(
                "Google refused the service account's credentials; check the key file or the function's service account."
            ) from err


def explain_error(err: APIError, key: str) -> RegisterError:
    status = err.response.status_code
    if status == 404:
        return RegisterError(f"No Google Sheet has the key {key}: check the link.")
    if status in (401, 403):
        return RegisterError(
            "The Google Sheet could not be opened: share it (as Editor) with the service account the product runs as."
        )
    message = str(err.error.get("message", "")).split("\n")[0][:200]
    return RegisterError(f"Google Sheets refused the request (HTTP {status}): {message}")


def emulator_url(emulator_host: str | None) -> str | None:
    """The base URL for an emulator given as "host:port" (or a full http(s) URL); None for Google itself."""
    host = (emulator_host or "").strip()
    if not host:
        return None
    return host if host.startswith(("http://", "https://")) else f"http://{host}"


def sheets_credentials(*, emulator: bool, credentials_file: str | None) -> Any:
    """Anonymous for an emulator (as Google's own emulators take), else the service account's key file when one is
    named, else the runtime's default credentials (Cloud Functions), with the spreadsheets scope only."""
    import google.auth
    from google.auth.credentials import AnonymousCredentials
    from google.oauth2 import service_account

    if emulator:
        return AnonymousCredentials()
    if credentials_file:
        return service_account.Credentials.from_service_account_file(credentials_file, scopes=list(SHEETS_SCOPES))
    credentials, _project = google.auth.default(scopes=list(SHEETS_SCOPES))
    return credentials
