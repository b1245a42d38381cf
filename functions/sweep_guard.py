"""The sweep's two guards, kept apart from its orchestration (functions/sweep.py): the register's lease around a whole
sweep (issue 10 item 6), and a write refused after emails went saying how many went (issue 10 item 14)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager

from connectors.base import Register, RegisterError, WritePlan, WriteResult
from connectors.lease import Lease, held

from .results import SweepResult, emails_gone_note


def sweep_lease(lease: Lease | None, wait: float, dry_run: bool) -> AbstractContextManager[None]:
    """Held from the read to the write, so a second sweep waits up to `wait` seconds, then raises SweepAlreadyRunning
    having sent and written nothing; send_all re-reads the sent-ledger before each email under it. A dry run, which
    changes nothing, takes none."""
    return held(lease, wait=wait) if lease is not None and not dry_run else contextlib.nullcontext()


def write_noting_emails(register: Register, result: SweepResult, plans: Sequence[WritePlan]) -> WriteResult:
    """One write of every plan. Refused (opened in Excel since the emails went) or stopped by Ctrl-C/SIGTERM: the
    message says how many emails went and that the ledger keeps the next run from repeating them."""
    try:
        return register.write(plans[0], *plans[1:])
    except RegisterError as exc:
        if note := emails_gone_note(result):
            raise RegisterError(f"{exc} {note}") from exc
        raise
    except KeyboardInterrupt as exc:  # the command line prints the note (functions/serving.py)
        if note := emails_gone_note(result):
            exc.add_note(note)
        raise


__all__ = ["sweep_lease", "write_noting_emails"]
