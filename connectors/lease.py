"""The lease port: one sweep per register at a time (issue 10 item 6). Two sweeps at once (a scheduled run and the
SENDCo's own, or Pub/Sub delivering one message twice) would both read the register before either wrote it, and both
send the same emails and append the same Parent/carer rows. Whoever holds the lease reads, sends and writes; the other
waits a little (bounded), then stops without sending or writing anything.

Adapters: connectors/lease_file.py (a lock file beside a workbook, or in the state folder) and connectors/lease_gcs.py
(a Cloud Storage object, for the cloud). Both recover a lease whose holder died without releasing it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from connectors.base import RegisterError

DEFAULT_WAIT = 20.0  # seconds a second sweep waits for the first before giving up (KEEPER_LEASE_WAIT)
POLL = 0.25  # seconds between tries while waiting


class SweepAlreadyRunning(RegisterError):
    """Another sweep holds this register's lease. `str(err)` says so, and that nothing was sent or written."""


class LeaseError(RegisterError):
    """The lease could not be taken or checked at all (storage refused or did not answer)."""


class Lease(Protocol):
    """One holder at a time. `try_acquire` never blocks for long (each call is bounded by its adapter's timeouts)."""

    def try_acquire(self) -> bool:
        """True: this process now holds the lease. False: someone else does (and it is not stale)."""
        ...

    def release(self) -> None:
        """Give the lease up, only if this process still holds it (never someone else's)."""
        ...

    def describe(self) -> str:
        """Where the lease lives, for messages: a file path or a gs:// object."""
        ...


@contextmanager
def held(
    lease: Lease,
    *,
    wait: float = DEFAULT_WAIT,
    poll: float = POLL,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """Hold `lease` for the block: try, then retry every `poll` seconds for up to `wait` seconds, then raise
    SweepAlreadyRunning. Released on every way out of the block (an error, Ctrl-C, SIGTERM made KeyboardInterrupt)."""
    ends = clock() + max(0.0, wait)
    while not lease.try_acquire():
        left = ends - clock()
        if left <= 0:
            raise SweepAlreadyRunning(
                f"A sweep of this register is already running (its lease is {lease.describe()}), so this one stopped "
                f"after waiting {wait:g} seconds, without sending or writing anything; run it again once that one has "
                "finished."
            )
        sleep(min(poll, left))
    try:
        yield
    finally:
        lease.release()


__all__ = ["DEFAULT_WAIT", "POLL", "Lease", "LeaseError", "SweepAlreadyRunning", "held"]
