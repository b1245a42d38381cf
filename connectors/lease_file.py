"""The lease as a lock file: beside a workbook (".<name>.keeper-lease") for the command line, or in KEEPER_STATE_DIR
for a deployment without a Cloud Storage bucket. Created with O_CREAT | O_EXCL (one winner, on any local or network
file system that honours it), holding who made it (host, pid) and when, as JSON.

A lease whose holder is gone is broken: its process no longer runs on this computer, or it is older than `stale_after`
seconds (a holder on another computer cannot be checked; no sweep takes 30 minutes), or it is unreadable and older than
a few seconds (a crash between creating and writing it). Breaking is itself guarded by a second O_EXCL file
(".break"), so two waiters never both break it and one of them delete the other's new lease."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors.lease import LeaseError

STALE_AFTER = 1800.0  # seconds: a lease older than this is a crashed holder's
_UNWRITTEN_GRACE = 10.0  # seconds an empty lease file may exist before its creator is taken to have died


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class FileLease:
    def __init__(
        self,
        path: Path,
        *,
        stale_after: float = STALE_AFTER,
        now: Callable[[], float] = time.time,
        host: str | None = None,
        pid: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.stale_after = stale_after
        self._now = now
        self._host = host if host is not None else socket.gethostname()
        self._pid = pid if pid is not None else os.getpid()
        self._token: str | None = None

    def describe(self) -> str:
        return str(self.path)

    def try_acquire(self) -> bool:
        try:
            return self._try_acquire()
        except OSError as exc:
            raise LeaseError(
                f"The sweep lease {self.path} could not be created ({exc.strerror or type(exc).__name__}); check that "
                "the folder exists and can be written to, then run again."
            ) from None

    def _try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            token = uuid.uuid4().hex
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._break_if_stale():
                    continue
                return False
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"host": self._host, "pid": self._pid, "at": self._now(), "token": token}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            self._token = token
            return True
        return False

    def release(self) -> None:
        if self._token is None:
            return
        holder = self._read()
        if holder is not None and holder.get("token") == self._token:
            self.path.unlink(missing_ok=True)
        self._token = None

    def holder(self) -> dict[str, Any] | None:
        """Who holds it (host, pid, at), or None."""
        return self._read()

    def _read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _stale(self, holder: dict[str, Any] | None) -> bool:
        if holder is None:
            try:
                return self._now() - self.path.stat().st_mtime > _UNWRITTEN_GRACE
            except FileNotFoundError:
                return True
        at, pid = holder.get("at"), holder.get("pid")
        if not isinstance(at, int | float) or self._now() - at > self.stale_after:
            return True
        return holder.get("host") == self._host and isinstance(pid, int) and pid != self._pid and not _alive(pid)

    def _break_if_stale(self) -> bool:
        """Remove a stale lease, under the break file. True when there is (now) no lease to wait for."""
        if not self.path.exists():
            return True  # released since our try: nothing to break (removing now could remove a newer holder's)
        holder = self._read()
        if not self._stale(holder):
            return False
        guard = self.path.with_name(self.path.name + ".break")
        try:
            fd = os.open(guard, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            with contextlib.suppress(OSError):
                if self._now() - guard.stat().st_mtime > _UNWRITTEN_GRACE:
                    guard.unlink()  # a breaker that died mid-break
            return False
        os.close(fd)
        try:
            # Read again under the guard: the lease may have been broken and taken afresh since the first read, or
            # released and not yet taken (then there is nothing to remove: try again).
            if not self.path.exists():
                return True
            again = self._read()
            if again != holder or not self._stale(again):
                return False
            self.path.unlink(missing_ok=True)
            return True
        finally:
            guard.unlink(missing_ok=True)


__all__ = ["STALE_AFTER", "FileLease"]
