"""One bounded retry loop for the REST calls the product makes (Pub/Sub, Cloud Tasks, Cloud Storage, Google Drive):
every call has a timeout, a transient failure (no answer, 408, 429, 5xx) is tried again after a pause, and after the
last try the caller gets the reason to put in its own one-sentence error (ARCHITECTURE.md: every external call has a
timeout and bounded retries).

And the time a contributor can wait (`Deadline`): the evidence stores (Google Drive, OneDrive) keep a submission's
files while the contributor waits on the page, and the cloud's confirm function is stopped at 60 s (scripts/deploy.sh)
before the register is written. So one submission's requests share one deadline: none starts once it has passed, each
one's timeouts are cut to the time left, and a retry whose pause (never sooner than Retry-After) would end past it is
not made; the answers are then kept without the files, and the page says so (docs/register.md s8)."""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Protocol

import requests

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

Wait = Callable[[int, float | None], bool]  # (failures so far, Retry-After): sleep and True, or False to give up


def with_retries(
    call: Callable[[], requests.Response],
    *,
    attempts: int,
    sleep: Callable[[float], None],
    service: str,
    cap_s: float = 8.0,
    wait: Wait | None = None,
) -> tuple[requests.Response | None, str]:
    """(the first answer that is not a transient failure, "") or, after `attempts` tries, (None, why the last one
    failed), e.g. "no answer from Pub/Sub (Timeout)" or "Pub/Sub answered 503". Pauses 1 s, 2 s, 4 s ... up to cap_s;
    or, given `wait`, whatever it decides (it sleeps, or says False to stop trying: see Deadline.waiter)."""
    problem = ""
    tries = max(1, attempts)
    for attempt in range(tries):
        if attempt and wait is None:
            sleep(min(cap_s, 0.5 * 2**attempt))
        hint: float | None = None
        try:
            response = call()
        except (requests.ConnectionError, requests.Timeout) as exc:
            problem = f"no answer from {service} ({type(exc).__name__})"
        else:
            if response.status_code not in RETRY_STATUSES:
                return response, ""
            problem, hint = f"{service} answered {response.status_code}", retry_after(response)
        if wait is not None and attempt + 1 < tries and not wait(attempt + 1, hint):
            break
    return None, problem


def retry_after(response: requests.Response | None) -> float | None:
    """Seconds the server asked to wait (Retry-After as seconds or as an HTTP date), None when it did not say."""
    return retry_after_seconds(response.headers.get("Retry-After") if response is not None else None)


def retry_after_seconds(value: object) -> float | None:
    """A Retry-After value (seconds, or an HTTP date) as seconds from now; None when there is none or it cannot be
    read. The one reading of it for Graph, Sheets, Drive and the Google Cloud calls."""
    if value in (None, ""):
        return None
    try:
        return max(0.0, float(str(value)))
    except (TypeError, ValueError):
        pass
    try:
        return max(0.0, parsedate_to_datetime(str(value)).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class DeadlinePassed(requests.Timeout):
    """No time was left for this request: it was not sent (a Timeout, so every retry loop treats it as no answer)."""


class SubmissionPolicy(Protocol):
    """What a contributor-facing store's policy says about time (Drive's and OneDrive's share it)."""

    @property
    def deadline_s(self) -> float: ...
    @property
    def quiet_s(self) -> float: ...
    @property
    def backoff_s(self) -> float: ...
    @property
    def backoff_cap_s(self) -> float: ...
    @property
    def longest_wait_s(self) -> float: ...


def submission_deadline(
    policy: SubmissionPolicy,
    *,
    service: str,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Deadline, Wait]:
    """One submission's Deadline and the `wait` its retries use, from a store's policy (storage_drive, storage_onedrive)."""
    deadline = Deadline(policy.deadline_s, quiet_s=policy.quiet_s, clock=clock, sleep=sleep)
    wait = deadline.waiter(
        backoff_s=policy.backoff_s, cap_s=policy.backoff_cap_s, longest_wait_s=policy.longest_wait_s, service=service
    )
    return deadline, wait


class Deadline:
    """The seconds one submission's requests may take, counted from its first. Calls that follow each other within
    `quiet_s` (one submission: the form's full text read back, then its files, then its text) share it; a call after a
    quiet spell, or one begun with `fresh=True`, starts a new one. Kept per thread: the server answers several
    contributors at once, each with their own deadline."""

    def __init__(
        self,
        seconds: float,
        *,
        quiet_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.seconds, self.quiet_s, self.clock, self.sleep = seconds, quiet_s, clock, sleep
        self._mine = threading.local()

    @property
    def ends(self) -> float:
        ends: float | None = getattr(self._mine, "ends", None)
        return self.clock() + self.seconds if ends is None else ends

    @contextlib.contextmanager
    def operation(self, *, fresh: bool = False) -> Iterator[None]:
        now = self.clock()
        if fresh or now >= getattr(self._mine, "quiet_until", float("-inf")):
            self._mine.ends = now + self.seconds
        try:
            yield
        finally:
            self._mine.quiet_until = self.clock() + self.quiet_s

    def left(self) -> float:
        return self.ends - self.clock()

    def timeout(self, limits: tuple[float, float]) -> tuple[float, float]:
        """(connect, read) cut to the time left; DeadlinePassed when none is."""
        left = self.left()
        if left <= 0:
            raise DeadlinePassed("the submission's deadline has passed")
        return (min(limits[0], left), min(limits[1], left))

    def waiter(self, *, backoff_s: float, cap_s: float, longest_wait_s: float, service: str) -> Wait:
        """A `wait` for the retry loops: a growing pause with jitter (so instances do not retry in step), never
        shorter than Retry-After; False (give up) when Retry-After is longer than a contributor can wait or the pause
        would end past the deadline."""

        def wait(failures: int, hint: float | None) -> bool:
            step = min(cap_s, backoff_s * 2 ** (failures - 1))
            pause = max(step / 2 + random.uniform(0, step / 2), hint or 0.0)
            if (hint or 0.0) > longest_wait_s or self.clock() + pause > self.ends:
                return False
            log.info("%s: retrying in %.1f s (attempt %d)", service, pause, failures)
            self.sleep(pause)
            return True

        return wait


__all__ = ["RETRY_STATUSES", "Deadline", "DeadlinePassed", "Wait", "retry_after", "with_retries"]
