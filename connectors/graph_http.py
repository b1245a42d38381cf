"""Microsoft Graph over HTTP: the school account's sign-in (msal) and one bounded request loop, shared by the Graph
register adapter and the Graph mail transport.

Sign-in. Microsoft documents the Excel workbook endpoints as not supported with application permissions, so the
product runs as a dedicated school account (e.g. review-keeper@school) with the delegated permissions Files.ReadWrite
and Mail.Send. The IT lead signs it in once with msal's device-code flow (`python main.py m365-login`); msal's token
cache (a refresh token, valid while the account keeps using it) is kept encrypted with Fernet at a path the
composition root chooses, and every run refreshes the access token silently from it. A revoked or expired grant is a
`GraphAuthError`: one sentence telling the IT lead to sign in again, never a crash.

Requests. Every request has a (connect, read) timeout. 429, 503, 502, 504 and 500, timeouts and dropped connections
are retried with capped exponential back-off and jitter, never sooner than the server's Retry-After (Graph's
throttling guidance), at most `max_attempts` times and never past the operation's deadline. A request that may
change something (`repeatable=False`) is never resent as it was: the failure goes back to the caller, which looks
again before trying (the register adapter re-reads its rows).

`GRAPH_EMULATOR_HOST=host:port` (read by the composition root, passed in here as `emulator`) sends Graph and the
sign-in endpoints to `http://host:port`, as the Google emulators do for the Sheets adapter.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from connectors.http_retry import retry_after, retry_after_seconds

log = logging.getLogger(__name__)

GRAPH_ROOT = "https://graph.microsoft.com/v1.0"
LOGIN_ROOT = "https://login.microsoftonline.com"
# Delegated permissions only (docs/register.md s5 says what is written): the register and mail, nothing else.
GRAPH_SCOPES = ("https://graph.microsoft.com/Files.ReadWrite", "https://graph.microsoft.com/Mail.Send")
_RETRYABLE = frozenset({429, 500, 502, 503, 504})
BATCH_LIMIT = 20  # Graph's JSON batching takes at most 20 requests in one $batch
RELOGIN = "the IT lead signs the account in again with `python main.py m365-login`"


class GraphError(Exception):
    """A Graph request that failed. `str(err)` is one sentence naming the fix. `transient`: worth trying again later;
    `ambiguous`: the server may have applied it (a 5xx, or no answer after sending)."""

    def __init__(self, message: str, *, status: int = 0, code: str = "", transient: bool = False,
                 ambiguous: bool = False, retry_after: float | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.status, self.code = status, code
        self.transient, self.ambiguous, self.retry_after = transient, ambiguous, retry_after


class GraphAuthError(GraphError):
    """The stored Microsoft 365 sign-in cannot be used (none stored, expired, revoked, consent withdrawn)."""


@dataclass(frozen=True)
class GraphPolicy:
    """Bounded retries. `timeout_s` is per request (connect, read); `deadline_s` bounds one operation."""

    timeout_s: tuple[float, float] = (10.0, 60.0)
    deadline_s: float = 120.0
    max_attempts: int = 6
    base_delay_s: float = 1.0
    max_delay_s: float = 32.0


def emulator_base(emulator: str | None) -> str | None:
    if not emulator:
        return None
    return (emulator if emulator.startswith(("http://", "https://")) else f"http://{emulator}").rstrip("/")


class _Rewriting(requests.Session):
    """Sends Graph and sign-in URLs to the emulator (msal insists on https authorities, the emulator speaks http)."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self._base = base

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        text = url.decode() if isinstance(url, bytes) else url
        verb = method.decode() if isinstance(method, bytes) else method
        for origin in (LOGIN_ROOT, GRAPH_ROOT.rsplit("/", 1)[0]):
            if text.startswith(origin):
                text = self._base + text[len(origin) :]
        return super().request(verb, text, *args, **kwargs)


class TokenCacheFile:
    """msal's serialised token cache, encrypted with Fernet (key: a urlsafe base64 32-byte key from the environment),
    written atomically with owner-only permissions. It holds a refresh token: whoever has file and key can act as the
    account, so neither is ever logged."""

    def __init__(self, path: Path, key: str | bytes) -> None:
        from cryptography.fernet import Fernet

        self.path = Path(path)
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError):
            raise GraphAuthError(
                "KEEPER_TOKEN_KEY is not a valid key; make one with `python main.py m365-login --new-key` and keep it "
                "with the other secrets."
            ) from None

    def load(self) -> Any:
        import msal
        from cryptography.fernet import InvalidToken

        cache = msal.SerializableTokenCache()
        if self.path.exists():
            try:
                cache.deserialize(self._fernet.decrypt(self.path.read_bytes()).decode("utf-8"))
            except (InvalidToken, ValueError):
                raise GraphAuthError(
                    f"The Microsoft 365 sign-in stored at {self.path} cannot be opened with KEEPER_TOKEN_KEY (a "
                    f"different key, or a damaged file); {RELOGIN}."
                ) from None
        return cache

    def save(self, cache: Any) -> None:
        if not cache.has_state_changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = self._fernet.encrypt(cache.serialize().encode("utf-8"))
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-", suffix=".tmp")
        try:
            os.fchmod(handle, 0o600)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        cache.has_state_changed = False


class MsalTokens:
    """Access tokens for the signed-in school account, refreshed silently from the encrypted cache."""

    def __init__(self, client_id: str, tenant: str, cache_file: TokenCacheFile, *, emulator: str | None = None,
                 timeout_s: float = 20.0) -> None:  # fmt: skip
        if not client_id or not tenant:
            raise GraphAuthError(
                "The Microsoft 365 app is not configured: set KEEPER_M365_CLIENT_ID and KEEPER_M365_TENANT to the app "
                "registration's Application (client) ID and the school's Directory (tenant) ID."
            )
        self.client_id, self.tenant, self.cache_file = client_id, tenant, cache_file
        self._base = emulator_base(emulator)
        self._timeout = timeout_s
        self._app: Any = None
        self._cache: Any = None

    def _application(self) -> Any:
        if self._app is None:
            import msal

            self._cache = self.cache_file.load()
            session = _Rewriting(self._base) if self._base else requests.Session()
            self._app = msal.PublicClientApplication(
                self.client_id,
                authority=f"{LOGIN_ROOT}/{self.tenant}",
                token_cache=self._cache,
                http_client=session,
                timeout=self._timeout,
                instance_discovery=False if self._base else None,
            )
        return self._app

    def __call__(self, *, force_refresh: bool = False) -> str:
        try:
            app = self._application()
            accounts = app.get_accounts()
            if not accounts:
                raise GraphAuthError(f"No Microsoft 365 sign-in is stored yet; {RELOGIN}.")
            result = app.acquire_token_silent_with_error(
                list(GRAPH_SCOPES), account=accounts[0], force_refresh=force_refresh
            )
        except (requests.ConnectionError, requests.Timeout):
            raise GraphError("The Microsoft sign-in service did not answer; the next run tries again.",
                             transient=True) from None  # fmt: skip
        except ValueError as err:  # msal: the tenant's OpenID configuration could not be read
            raise GraphAuthError(f"The Microsoft 365 tenant could not be found ({str(err)[:80]}); check "
                                 "KEEPER_M365_TENANT.") from None  # fmt: skip
        self.cache_file.save(self._cache)
        if result and "access_token" in result:
            return str(result["access_token"])
        reason = str((result or {}).get("error") or "no token")
        if reason in ("invalid_grant", "interaction_required", "no token"):
            raise GraphAuthError(f"The Microsoft 365 sign-in has expired or was revoked; {RELOGIN}.")
        raise GraphAuthError(f"Microsoft refused the sign-in ({reason}); {RELOGIN}.")

    def device_login(self, show: Callable[[str], None]) -> str:
        """msal's device-code flow: `show` the message with the code, wait for the IT lead, store the cache.
        Returns the signed-in account's username."""
        app = self._application()
        flow = app.initiate_device_flow(scopes=list(GRAPH_SCOPES))
        if "user_code" not in flow:
            raise GraphAuthError(
                f"Microsoft would not start a sign-in ({flow.get('error', 'unknown error')}): check that the app "
                "registration allows public client flows."
            )
        show(str(flow["message"]))
        result = app.acquire_token_by_device_flow(flow)
        if "access_token" not in result:
            raise GraphAuthError(
                f"The sign-in did not complete ({result.get('error', 'unknown error')}); run m365-login again and "
                "finish it within 15 minutes, granting Files.ReadWrite and Mail.Send."
            )
        self.cache_file.save(self._cache)
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or "the account")


def error_code(body: Any) -> tuple[str, str, str]:
    """(code, innermost code, message) of a Graph error body."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        return "", "", ""
    code, inner, node = str(error.get("code", "")), "", error.get("innerError")
    while isinstance(node, Mapping) and node.get("code"):
        inner, node = str(node["code"]), node.get("innerError")
    return code, inner or code, str(error.get("message", ""))[:200]


class GraphClient:
    """One bounded request loop for Graph (see the module docstring). `requests_sent` counts HTTP requests actually
    sent, retries included (a $batch is one)."""

    def __init__(self, tokens: Callable[..., str], *, base_url: str | None = None, policy: GraphPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.tokens = tokens
        self.root = (base_url.rstrip("/") + "/v1.0") if base_url else GRAPH_ROOT
        self.policy = policy or GraphPolicy()
        self.session = requests.Session()
        self.sleep, self.clock = sleep, clock
        self.requests_sent = 0
        self._ends: float | None = None

    def start_deadline(self) -> None:
        self._ends = self.clock() + self.policy.deadline_s

    def until(self, ends: float | None) -> None:
        """Stop retrying at `ends` (a clock() value), e.g. the mail deadline a sweep gives its transport."""
        self._ends = ends

    @contextlib.contextmanager
    def grace(self, seconds: float = 5.0) -> Iterator[None]:
        """A few seconds past the deadline, for tidying up (closing a workbook session) after a failure."""
        ends = self._ends
        self._ends = self.clock() + seconds
        try:
            yield
        finally:
            self._ends = ends

    def remaining(self) -> float:
        return (self._ends - self.clock()) if self._ends is not None else self.policy.deadline_s

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        step = min(self.policy.max_delay_s, self.policy.base_delay_s * 2 ** (attempt - 1))
        return max(step / 2 + random.uniform(0, step / 2), retry_after or 0.0)

    def _send(self, method: str, path: str, body: Any, headers: Mapping[str, str] | None) -> requests.Response:
        remaining = self.remaining()
        if remaining <= 0:
            raise GraphError("Microsoft Graph took longer than allowed, so the run stopped; the next run tries again.",
                             transient=True)  # fmt: skip
        connect, read = self.policy.timeout_s
        timeout = (max(0.1, min(connect, remaining)), max(0.1, min(read, remaining)))
        token = self.tokens()
        self.requests_sent += 1
        return self.session.request(method, self.root + path, json=body, timeout=timeout,
                                    headers={"Authorization": f"Bearer {token}", **(headers or {})})  # fmt: skip

    def call(self, method: str, path: str, body: Any = None, *, headers: Mapping[str, str] | None = None,
             repeatable: bool = True) -> tuple[int, Any]:  # fmt: skip
        """(status, parsed JSON or None) of a 2xx answer; GraphError otherwise, after bounded retries."""
        attempt, refreshed = 0, False
        while True:
            attempt += 1
            try:
                response = self._send(method, path, body, headers)
            except requests.ConnectTimeout:
                failure = GraphError("no connection within the timeout", transient=True)
            except (requests.Timeout, requests.ConnectionError) as err:
                what = "no answer within the timeout" if isinstance(err, requests.Timeout) else "a dropped connection"
                failure = GraphError(what, transient=True, ambiguous=True)
            else:
                if response.status_code == 401 and not refreshed:
                    refreshed = True  # an access token revoked early: one fresh token, then a clear sentence
                    self.tokens(force_refresh=True)
                    continue
                if response.ok:
                    return response.status_code, response.json() if response.content else None
                _code, inner, message = error_code(_json(response))
                if response.status_code not in _RETRYABLE:
                    raise GraphError(message or f"HTTP {response.status_code}", status=response.status_code,
                                     code=inner)  # fmt: skip
                failure = GraphError(f"HTTP {response.status_code}", status=response.status_code, code=inner,
                                     transient=True, ambiguous=response.status_code != 429,
                                     retry_after=retry_after(response))  # fmt: skip
            if not repeatable:
                raise failure
            wait = self.backoff(attempt, failure.retry_after)
            if attempt >= self.policy.max_attempts or wait >= self.remaining():
                raise GraphError(
                    f"Microsoft Graph kept failing ({failure}, {attempt} attempts), so the run stopped; the next run "
                    "tries again.", status=failure.status, code=failure.code, transient=True,
                    ambiguous=failure.ambiguous)  # fmt: skip
            log.info("Microsoft Graph: %s; retrying in %.1f s (attempt %d)", failure, wait, attempt)
            self.sleep(wait)

    def batch(self, requests_: Sequence[Mapping[str, Any]], *, repeatable: bool = True) -> dict[str, tuple[int, Any]]:
        """One $batch (at most 20 requests, ids "1".."n"): each id's (status, body). While `repeatable`, requests that
        Graph throttled or found unavailable inside the batch are sent again, alone, in a further $batch."""
        if not 1 <= len(requests_) <= BATCH_LIMIT:
            raise ValueError(f"a $batch holds 1 to {BATCH_LIMIT} requests, not {len(requests_)}")
        pending = {str(r["id"]): dict(r) for r in requests_}
        answers: dict[str, tuple[int, Any]] = {}
        attempt = 0
        while pending:
            attempt += 1
            _status, body = self.call("POST", "/$batch", {"requests": list(pending.values())}, repeatable=repeatable)
            waits: list[float] = []
            for answer in body.get("responses", []) if isinstance(body, Mapping) else []:
                ident, status = str(answer.get("id")), int(answer.get("status", 0))
                answers[ident] = (status, answer.get("body"))
                if ident in pending and (status not in _RETRYABLE or not repeatable):
                    del pending[ident]
                elif ident in pending:
                    waits.append(retry_after_seconds((answer.get("headers") or {}).get("Retry-After")) or 0.0)
            missing = [i for i in pending if i not in answers]
            for ident in missing:  # an answer without every id: Graph never does this, so it is not retried
                answers[ident] = (502, None)
                del pending[ident]
            if not pending:
                break
            wait = self.backoff(attempt, max(waits, default=0.0))
            if attempt >= self.policy.max_attempts or wait >= self.remaining():
                break  # the throttled answers stand; the caller reports them
            self.sleep(wait)
        return answers


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
