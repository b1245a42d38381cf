"""The papers pack through real LibreOffice and pypdf (reports/papers.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from reports.papers import Part, build_papers

pytestmark = [pytest.mark.libreoffice, pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")]


def word(path: Path, text: str) -> Path:
    document = docx.Document()
    document.add_heading(text, level=1)
    document.save(path)
    return path


def blank_pdf(path: Path, pages: int) -> Path:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    with path.open("wb") as out:
        writer.write(out)
    return path


def test_record_and_reports_in_one_pdf(tmp_path: Path) -> None:
    record = word(tmp_path / "record.docx", "Annual review record for Leo F.")
    ep = blank_pdf(tmp_path / "ep.pdf", 2)
    salt = word(tmp_path / "salt.docx", "Speech and language advice")
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"not really a pdf")
    out = tmp_path / "papers" / "papers.pdf"
    result = build_papers(
        [
            Part("Review record", record),
            Part("EP report (received 03/11/2026)", ep),
            Part("SALT report (received 04/11/2026)", salt),
            Part("OT report (received 05/11/2026)", fake),
        ],
        out,
        profile=tmp_path / "lo-profile",
    )
    assert result.parts == ["Review record", "EP report (received 03/11/2026)", "SALT report (received 04/11/2026)"]
    assert len(result.left_out) == 1
    assert result.left_out[0].startswith("OT report (received 05/11/2026) could not be added")
    reader = PdfReader(out)
    assert len(reader.pages) == result.pages == 4  # record 1 + EP 2 + SALT 1
    assert [item.title for item in reader.outline] == result.parts
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert text.index("Annual review record for Leo F.") < text.index("Speech and language advice")
