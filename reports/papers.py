"""The papers pack (docs/rules.md s6): one PDF that goes to every invitee at least two weeks before the meeting
(reg 20(4)): the review record first, then each contribution's report in the order they arrived.

LibreOffice converts the Word parts (the record, and any .docx/.doc report) in one headless run with its own profile
(a shared profile lets two runs block each other); pypdf joins them, with a bookmark per part. A report that cannot be
read as a PDF is left out and named in the result, never silently dropped, and the rest of the pack is still built.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

CONVERT_TIMEOUT_S = 180  # LibreOffice's first start on a cold machine takes most of a minute
WORD_SUFFIXES = {".docx", ".doc"}


class PapersError(Exception):
    """The pack could not be built at all. `str(err)` is one sentence for the SENDCo."""


@dataclass(frozen=True)
class Part:
    title: str  # the bookmark, e.g. "EP report (received 03/11/2026)"
    path: Path


@dataclass
class PapersResult:
    path: Path
    pages: int
    parts: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # sentences: which part, and why


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_pdf(files: Sequence[Path], out_dir: Path, profile: Path, soffice: str | None = None) -> dict[Path, Path]:
    """Each Word file's PDF (by source path). Files LibreOffice could not convert are simply absent."""
    if not files:
        return {}
    program = soffice or soffice_path()
    if program is None:
        raise PapersError("LibreOffice is not installed, so the Word parts cannot be made into a PDF; install it.")
    # Copied to plain names first: LibreOffice names its output after the input, and two inputs may share a name.
    staged: dict[Path, Path] = {}
    source_dir = out_dir / "in"
    source_dir.mkdir(parents=True, exist_ok=True)
    for number, path in enumerate(files, start=1):
        staged[path] = Path(shutil.copyfile(path, source_dir / f"part{number}{path.suffix.lower()}"))
    command = [
        program,
        f"-env:UserInstallation={profile.resolve().as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out_dir),
        *map(str, staged.values()),
    ]
    try:
        subprocess.run(command, capture_output=True, timeout=CONVERT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as err:
        raise PapersError(
            f"LibreOffice took longer than {CONVERT_TIMEOUT_S} seconds to convert the papers; try again."
        ) from err
    out = {}
    for source, copy in staged.items():
        pdf = out_dir / f"{copy.stem}.pdf"
        if pdf.is_file() and pdf.stat().st_size > 0:
            out[source] = pdf
    return out


def build_papers(parts: Sequence[Part], out: Path, *, profile: Path, soffice: str | None = None) -> PapersResult:
    """One PDF of `parts`, in order. The first part (the record) must make it in; any other may be left out."""
    with tempfile.TemporaryDirectory(prefix="keeper-papers-") as work:
        converted = convert_to_pdf(
            [p.path for p in parts if p.path.suffix.lower() in WORD_SUFFIXES], Path(work), profile, soffice
        )
        writer = PdfWriter()
        result = PapersResult(out, 0)
        for index, part in enumerate(parts):
            source = converted.get(part.path) if part.path.suffix.lower() in WORD_SUFFIXES else part.path
            try:
                if source is None:
                    raise PdfReadError("not converted")
                reader = PdfReader(source)
                if reader.is_encrypted:
                    raise PdfReadError("encrypted")
                start = len(writer.pages)
                for page in reader.pages:
                    writer.add_page(page)
            except (PdfReadError, OSError, ValueError) as err:
                if index == 0:
                    raise PapersError(
                        "The review record could not be made into a PDF; open it in Word and check it, then try again."
                    ) from err
                result.left_out.append(
                    f"{part.title} could not be added ({'protected with a password' if 'encrypt' in str(err) else 'not a readable PDF'}); "
                    "send it separately or save it again as PDF."
                )
                continue
            writer.add_outline_item(title=part.title, page_number=start)
            result.parts.append(part.title)
        writer.add_metadata({"/Title": parts[0].title if parts else "Review papers", "/Producer": "Review Keeper"})
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".keeper-", suffix=".pdf", dir=out.parent)
        with os.fdopen(handle, "wb") as stream:
            writer.write(stream)
        os.replace(temp, out)
        result.pages = len(writer.pages)
    return result


__all__ = ["CONVERT_TIMEOUT_S", "PapersError", "PapersResult", "Part", "build_papers", "convert_to_pdf", "soffice_path"]
