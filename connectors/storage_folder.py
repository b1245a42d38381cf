"""Evidence beside an Excel register: `<register folder>/evidence/<pupil key>/` (docs/register.md s8).

Every name comes from the product (connectors.storage_base.check_safe): the pupil key is a slug of the Contributions
row, a file's name its date, role and SHA-256. Files are written to a temporary name and renamed into place, so a
half-written report is never seen; an existing name is never overwritten (the same name is the same content).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from connectors.storage_base import KeptFile, StorageError, check_safe

EVIDENCE_FOLDER = "evidence"


class FolderEvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def beside(cls, register: Path) -> FolderEvidenceStore:
        return cls(register.parent / EVIDENCE_FOLDER)

    def _folder(self, pupil_key: str) -> Path:
        folder = self.root / check_safe(pupil_key, "pupil's folder name")
        # Belt and braces: the resolved folder must sit directly in the evidence root.
        if folder.resolve().parent != self.root.resolve():
            raise StorageError("The pupil's evidence folder is outside the evidence folder; nothing was kept.")
        return folder

    def _write(self, target: Path, data: bytes) -> KeptFile:
        if target.exists():
            return KeptFile(target.name, target.stat().st_size, str(target))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=".keeper-", dir=target.parent)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except OSError as err:
            raise StorageError(
                f"The evidence folder could not be written ({type(err).__name__}); check the register folder's "
                "free space and permissions."
            ) from err
        return KeptFile(target.name, len(data), str(target))

    def save_file(self, pupil_key: str, name: str, data: bytes, content_type: str) -> KeptFile:
        return self._write(self._folder(pupil_key) / check_safe(name, "file name"), data)

    def save_text(self, pupil_key: str, submission_id: str, text: str) -> KeptFile:
        name = check_safe(f"advice-{submission_id}.json", "submission's name")
        return self._write(self._folder(pupil_key) / name, text.encode("utf-8"))

    def read_texts(self, pupil_key: str) -> list[str]:
        folder = self._folder(pupil_key)
        if not folder.is_dir():
            return []
        return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("advice-*.json"))]

    def read_file(self, pupil_key: str, name: str) -> bytes:
        path = self._folder(pupil_key) / check_safe(name, "file name")
        try:
            return path.read_bytes()
        except OSError as err:
            raise StorageError(f"A kept file could not be read ({type(err).__name__}).") from err

    def path_of(self, pupil_key: str, name: str) -> Path:
        return self._folder(pupil_key) / check_safe(name, "file name")
