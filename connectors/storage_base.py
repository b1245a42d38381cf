"""The evidence storage port: where contributors' files and the full text of their answers are kept, in the school's
own storage (a folder beside an Excel register, or Google Drive beside a Google Sheet). The register stays the system
of record; storage holds what does not fit in a cell (docs/register.md s8)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

# A pupil key or a kept file name: letters, digits, dot, dash and underscore, never starting with a dot. Both come
# from the product (a slug of the pupil reference; the file's date, role and digest), never from an upload, and are
# checked again here so that no path can leave the pupil's folder.
_SAFE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,120}$")


class StorageError(Exception):
    """Evidence could not be kept or read. `str(err)` is a sentence for the SENDCo (never a file or pupil name)."""


def check_safe(name: str, what: str) -> str:
    if not _SAFE.fullmatch(name) or ".." in name:
        raise StorageError(f"The {what} is not a name the product makes; nothing was kept.")
    return name


@dataclass(frozen=True)
class KeptFile:
    name: str
    size: int
    location: str  # a path, or a Drive file id: for the SENDCo, never shown to a contributor


class EvidenceStore(Protocol):
    """Files and full texts by pupil key. Saving the same name twice keeps the first (names carry the digest)."""

    def save_file(self, pupil_key: str, name: str, data: bytes, content_type: str) -> KeptFile: ...

    def save_text(self, pupil_key: str, submission_id: str, text: str) -> KeptFile: ...

    def read_texts(self, pupil_key: str) -> list[str]:
        """Every full-text record kept for the pupil (JSON text, one per submission)."""
        ...

    def read_file(self, pupil_key: str, name: str) -> bytes: ...
