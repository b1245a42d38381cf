"""Upload checks by content (functions/uploads.py): real files made by the libraries that make them."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date

import docx
import openpyxl

from functions.uploads import MAX_FILE_BYTES, CheckedFile, RejectedFile, check_file, kept_name, sniff

TODAY = date(2026, 11, 29)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def a_pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def a_docx() -> bytes:
    out = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Speech and language advice")
    document.save(out)
    return out.getvalue()


def an_xlsx() -> bytes:
    out = io.BytesIO()
    openpyxl.Workbook().save(out)
    return out.getvalue()


def a_zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_pdf_docx_and_old_word_pass_by_content() -> None:
    assert sniff(a_pdf()) == "pdf"
    assert sniff(a_docx()) == "docx"
    assert sniff(OLE + b"\0" * 100 + "WordDocument".encode("utf-16-le")) == "doc"


def test_a_checked_file_is_renamed_and_hashed() -> None:
    data = a_pdf()
    checked = check_file(1, data, "SALT", TODAY)
    assert isinstance(checked, CheckedFile)
    digest = hashlib.sha256(data).hexdigest()
    assert checked.sha256 == digest
    assert checked.name == f"2026-11-29-salt-{digest[:12]}.pdf"
    assert checked.name == kept_name("pdf", "SALT", TODAY, digest)


def rejected(data: bytes) -> str:
    verdict = check_file(2, data, "EP", TODAY)
    assert isinstance(verdict, RejectedFile)
    assert verdict.number == 2
    return verdict.reason


def test_wrong_kinds_are_refused_whatever_their_name() -> None:
    assert "not a PDF or a Word document" in rejected(b"Just some text pretending to be a PDF")
    assert "not a PDF or a Word document" in rejected(an_xlsx())
    assert "not a PDF or a Word document" in rejected(b"<html><script>x</script></html>")
    assert "not a PDF or a Word document" in rejected(OLE + b"\0" * 512)  # an old Excel or other OLE file
    assert "empty" in rejected(b"")


def test_oversized_files_are_refused() -> None:
    assert "larger than 10 MB" in rejected(b"%PDF-1.4\n" + b"0" * MAX_FILE_BYTES)
    assert isinstance(check_file(1, b"%PDF-1.4\n" + b"0" * (MAX_FILE_BYTES - 20), "EP", TODAY), CheckedFile)


def test_zip_bombs_are_refused_without_unpacking() -> None:
    word = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}
    assert "unpacks to far more" in rejected(a_zip({**word, "word/media/big.bin": b"\0" * (2 * 1024 * 1024)}))
    many = {**word, **{f"word/part{i}.xml": b"x" for i in range(1000)}}
    assert "too many parts" in rejected(a_zip(many))
    assert "macros" in rejected(a_zip({**word, "word/vbaProject.bin": b"x"}))


def test_password_protected_word_is_refused_with_the_fix() -> None:
    assert "password" in rejected(OLE + b"\0" * 100 + "EncryptionInfo".encode("utf-16-le"))
