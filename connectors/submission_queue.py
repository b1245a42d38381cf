"""Submissions waiting for the register: when the workbook is open in Excel the product may not save it (it would
lose the SENDCo's work), so a contributor's submission is kept here, beside the register, and applied by the next
sweep (docs/register.md s8). One JSON file a submission, written atomically; removed only after the register holds it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from connectors.storage_base import StorageError, check_safe

QUEUE_FOLDER = ".keeper-queue"


class SubmissionQueue:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def beside(cls, register: Path) -> SubmissionQueue:
        return cls(register.parent / QUEUE_FOLDER)

    def put(self, submission_id: str, payload: dict[str, object]) -> Path:
        target = self.folder / check_safe(f"{submission_id}.json", "submission's name")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=".keeper-", dir=self.folder)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(payload, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except OSError as err:
            raise StorageError(f"The submission could not be kept beside the register ({type(err).__name__}).") from err
        return target

    def pending(self) -> list[tuple[Path, dict[str, object]]]:
        """Oldest first (by the submission time inside each file), so the newest still wins when applied."""
        if not self.folder.is_dir():
            return []
        out: list[tuple[Path, dict[str, object]]] = []
        for path in self.folder.glob("*.json"):
            try:
                out.append((path, json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError):
                continue  # a file being written right now; the next sweep takes it
        return sorted(out, key=lambda item: str(item[1].get("submitted_at", "")))

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(list(self.folder.glob("*.json"))) if self.folder.is_dir() else 0
