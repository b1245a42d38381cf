"""The outbox transport: each message as an .eml file in a folder. The default: needs nothing, sends nothing."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

from connectors.mail_base import MailError, Outgoing


class OutboxTransport:
    """Writes `<time>-<id>.eml` into `folder`: the SENDCo (or a test) opens them with any mail program."""

    def __init__(self, folder: Path, sender: str = "review-keeper@localhost") -> None:
        self.folder = Path(folder)
        self.sender = sender

    def send(self, message: Outgoing) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:12]}.eml"
            # Written whole then renamed, so a reader never sees half a message.
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.as_bytes())
            os.replace(tmp, self.folder / name)
        except OSError as exc:
            raise MailError(f"Could not write to the outbox folder {self.folder}: {exc.strerror}.") from None


# ---------------------------------------------------------------------------------------------------------------------
