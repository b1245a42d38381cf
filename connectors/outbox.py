"""The outbox transport: each message as an .eml file in a folder. The default: needs nothing, sends nothing."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from connectors.mail_base import MailError, Outgoing


class OutboxTransport:
    """Writes `<time>-<id>.eml` into `folder`: the SENDCo (or a test) opens them with any mail program."""

    # Each email is a file the system writes out when it chooses (not synced, like any saved file): send_all need not
    # sync the sent-ledger before every one of them (functions/sent_ledger.py).
    delivers_to_local_files = True

    def __init__(self, folder: Path, sender: str = "review-keeper@localhost") -> None:
        self.folder = Path(folder)
        self.sender = sender

    def send(self, message: Outgoing) -> None:
        # The sweep's emails arrive as bytes already (connectors/mail_wire.py): written as they are, never re-flattened.
        data = message.as_bytes()
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:12]}"
        try:
            try:
                self._write(name, data)
            except FileNotFoundError:  # no folder yet (the first email), or removed since: made, not checked per email
                self.folder.mkdir(parents=True, exist_ok=True)
                self._write(name, data)
        except OSError as exc:
            raise MailError(f"Could not write to the outbox folder {self.folder}: {exc.strerror}.") from None

    def _write(self, name: str, data: bytes) -> None:
        # Written whole under a name no mail program lists, then renamed: a reader never sees half a message. The
        # name is new (time and a random id), so O_EXCL never meets an old file; a torn .part is left, never shown.
        part = self.folder / f"{name}.part"
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        os.replace(part, self.folder / f"{name}.eml")
