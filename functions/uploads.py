"""Checking a contributor's file before it is kept (docs/register.md s8). Pure: bytes in, a verdict out.

The file is judged by what it is, never by its name or the browser's Content-Type (both are the sender's to choose):
a PDF starts with `%PDF-`; a Word document (.docx) is a zip holding `word/document.xml`; an old Word document (.doc) is
an OLE2 compound file holding a `WordDocument` stream. A zip is opened only after its directory has been checked
against zip-bomb limits (entries, total uncompressed size, compression ratio), and nothing in it is extracted. The kept
name is the product's own (date, role, digest): a name from the upload never reaches a path, a cell or a log.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date

MAX_FILE_BYTES = 10 * 1024 * 1024  # the "at most 10 MB" per file
MAX_FILES = 5  # per submission: a report and a few appendices
MAX_ZIP_ENTRIES = 1000  # a real .docx holds a few dozen parts
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_RATIO = 100  # XML compresses about 10:1; a bomb compresses thousands to one
PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_ENCRYPTED_STREAM = "EncryptionInfo".encode("utf-16-le")
_SLUG = re.compile(r"[^a-z0-9]+")

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
}


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed: its kind by content, the name it is kept under, its size and SHA-256."""

    kind: str  # pdf, docx, doc
    name: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]


@dataclass(frozen=True)
class RejectedFile:
    """A file that did not pass. `reason` is a sentence for the contributor; it never repeats the file's name."""

    number: int  # 1-based position among the files chosen, so the page can say which one
    reason: str


def slug(text: str) -> str:
    return _SLUG.sub("-", text.casefold()).strip("-")[:40] or "file"


def sniff(data: bytes) -> str | None:
    """'pdf', 'docx' or 'doc' by content, after the zip-bomb limits; None for anything else. Raises ValueError with
    a sentence for files that are the right kind but cannot be kept (a bomb, a password, macros)."""
    # Acrobat accepts the header anywhere in the first kilobyte (some generators put a byte-order mark first).
    if PDF_MAGIC in data[:1024]:
        return "pdf"
    if data.startswith(ZIP_MAGIC):
        return _sniff_zip(data)
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTED_STREAM in data:
            raise ValueError("it is protected with a password; save it without one and attach it again.")
        return "doc" if _WORD_STREAM in data else None
    return None


def _sniff_zip(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise ValueError("it holds too many parts to be a Word document; save it again as PDF.")
            total = sum(e.file_size for e in entries)
            if total > MAX_UNZIPPED_BYTES or any(
                e.file_size > MAX_RATIO * max(e.compress_size, 1) and e.file_size > 1024 * 1024 for e in entries
            ):
                raise ValueError("it unpacks to far more than its size; save it again as PDF.")
            names = {e.filename for e in entries}
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" not in names or "word/document.xml" not in names:
        return None  # a spreadsheet, a presentation, or any other zip
    if "word/vbaProject.bin" in names:
        raise ValueError("it contains macros; save it as a plain Word document (.docx) or PDF and attach it again.")
    return "docx"


def kept_name(kind: str, role: str, on: date, sha256: str) -> str:
    """The product's name for a file: 2026-11-29-ep-1a2b3c4d.pdf. The digest makes the same file the same name, so
    a re-sent or re-tried upload is never kept twice."""
    return f"{on.isoformat()}-{slug(role)}-{sha256[:12]}.{kind}"


def check_file(number: int, data: bytes, role: str, on: date) -> CheckedFile | RejectedFile:
    """Check one uploaded file's bytes. `number` says which of the chosen files it is, for the page."""
    if not data:
        return RejectedFile(number, "it is empty; choose the file again.")
    if len(data) > MAX_FILE_BYTES:
        return RejectedFile(
            number, "it is larger than 10 MB, the limit; save a smaller copy (or split it) and try again."
        )
    try:
        kind = sniff(data)
    except ValueError as why:
        return RejectedFile(number, str(why))
    if kind is None:
        return RejectedFile(
            number, "it is not a PDF or a Word document (whatever its name says); save it as PDF and attach it again."
        )
    digest = hashlib.sha256(data).hexdigest()
    return CheckedFile(kind, kept_name(kind, role, on, digest), data, digest)


__all__ = [
    "CONTENT_TYPES",
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "CheckedFile",
    "RejectedFile",
    "check_file",
    "kept_name",
    "slug",
    "sniff",
]
