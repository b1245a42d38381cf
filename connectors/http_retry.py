"""One bounded retry loop for the Google REST calls the cloud fan-out and the lease make (Pub/Sub, Cloud Tasks, Cloud
Storage): every call has a timeout, a transient failure (no answer, 408, 429, 5xx) is tried again after a growing
pause, and after the last try the caller gets the reason to put in its own one-sentence error (ARCHITECTURE.md: every
external call has a timeout and bounded retries)."""

from __future__ import annotations

from collections.abc import Callable

import requests

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def with_retries(
    call: Callable[[], requests.Response],
    *,
    attempts: int,
    sleep: Callable[[float], None],
    service: str,
    cap_s: float = 8.0,
) -> tuple[requests.Response | None, str]:
    """(the first answer that is not a transient failure, "") or, after `attempts` tries, (None, why the last one
    failed), e.g. "no answer from Pub/Sub (Timeout)" or "Pub/Sub answered 503". Pauses 1 s, 2 s, 4 s ... up to cap_s."""
    problem = ""
    for attempt in range(max(1, attempts)):
        if attempt:
            sleep(min(cap_s, 0.5 * 2**attempt))
        try:
            response = call()
        except (requests.ConnectionError, requests.Timeout) as exc:
            problem = f"no answer from {service} ({type(exc).__name__})"
            continue
        if response.status_code in RETRY_STATUSES:
            problem = f"{service} answered {response.status_code}"
            continue
        return response, ""
    return None, problem


__all__ = ["RETRY_STATUSES", "with_retries"]
