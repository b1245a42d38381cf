"""`papers` end to end on an Excel register: the record and a contributor's PDF report in one pack (LibreOffice +
pypdf), a signed link per invitee (never the file), "Papers sent" in the Contributions tab, never sent twice."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader, PdfWriter

from connectors.outbox import OutboxTransport
from connectors.storage_folder import FolderEvidenceStore
from connectors.submission_queue import SubmissionQueue
from connectors.workbook import WorkbookRegister
from functions.mailer import MemoryLedger
from functions.papers import PapersLinkError, PapersSigner, served_copy
from functions.papers_job import Sending, papers_job
from functions.settings import load_settings
from functions.submit import FormAnswers, check_files, keep_submission, new_submission
from scripts.make_demo import upn, write_demo_register
from sheet_schema.contributions import parse_contributions

pytestmark = [pytest.mark.libreoffice, pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")]
TODAY = date(2026, 11, 29)


def two_page_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_blank_page(595, 842)
    from io import BytesIO

    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_papers_pack_and_links(tmp_path: Path) -> None:
    register = write_demo_register(tmp_path / "register.xlsx", today=TODAY)
    wb = openpyxl.load_workbook(register)
    rows = [list(r) for r in wb["Contributions"].iter_rows(values_only=True)]
    wb.close()
    ep = next(c for c in parse_contributions(rows)[0] if c.role == "EP")
    checked, _, _ = check_files([two_page_pdf()], "EP", TODAY)
    submission = new_submission(
        ep, FormAnswers({"summary": "Good progress"}, False), checked, datetime(2026, 11, 20, 9)
    )
    store = FolderEvidenceStore.beside(register)
    keep_submission(
        submission,
        checked,
        register=WorkbookRegister(register),
        store=store,
        queue=SubmissionQueue.beside(register),
        received_on=TODAY,
    )
    signer = PapersSigner("papers-secret-0123456789abcdef", "https://keeper.example.org")
    outbox = tmp_path / "outbox"
    ledger = MemoryLedger()
    sending = Sending(signer, OutboxTransport(outbox, "SEN <sen@oakfield.example.org>"), ledger, register.parent)
    outcome = papers_job(
        WorkbookRegister(register),
        today=TODAY,
        settings=load_settings(register=register),
        pupil=upn(5),
        out_dir=tmp_path / "papers",
        store=store,
        profile=tmp_path / "lo",
        sending=sending,
    )
    reader = PdfReader(outcome.pack)
    assert [o.title for o in reader.outline] == ["Review record", "EP report (received 20/11/2026)"]
    assert outcome.left_out == []
    assert len(reader.pages) == outcome.pages
    assert outcome.sent_to == 2  # Freya's class teacher and EP
    messages = [message_from_bytes(p.read_bytes(), policy=default) for p in sorted(outbox.glob("*.eml"))]
    assert len(messages) == 2
    for message in messages:
        assert not list(message.iter_attachments())  # a link, never the file
        body = message.get_body(("plain",)).get_content()
        token = body.split("/papers?t=")[1].split()[0]
        claim = signer.verify(token, today=TODAY)
        assert served_copy(register.parent, claim.pack).read_bytes() == outcome.pack.read_bytes()
        with pytest.raises(PapersLinkError):
            signer.verify(token, today=date(2027, 6, 1))
    wb = openpyxl.load_workbook(register)
    sheet = wb["Contributions"]
    headers = [c.value for c in sheet[1]]
    column = headers.index("Papers sent")
    sent = {(row[0], row[1]): row[column] for row in sheet.iter_rows(min_row=2, values_only=True)}
    wb.close()
    assert sent[upn(5), "EP"].date() == TODAY
    assert sent[upn(5), "Class teacher"].date() == TODAY
    assert sent["Leo Fitzgerald", "SALT"] is None  # another pupil's contributor: not an invitee of this review
    # Again the same day: the ledger stops a second email.
    papers_job(
        WorkbookRegister(register),
        today=TODAY,
        settings=load_settings(register=register),
        pupil=upn(5),
        out_dir=tmp_path / "papers",
        store=store,
        profile=tmp_path / "lo",
        sending=sending,
    )
    assert len(list(outbox.glob("*.eml"))) == 2


def test_download_serves_only_a_genuine_unexpired_link(tmp_path: Path) -> None:
    from functions.papers import download, publish

    signer = PapersSigner("papers-secret-0123456789abcdef", "https://keeper.example.org")
    pack = signer.pack_id("B801200005001", date(2026, 12, 10))
    source = tmp_path / "pack.pdf"
    source.write_bytes(two_page_pdf())
    publish(source, tmp_path, pack)
    token = signer.link(pack, "ep@example.org", date(2026, 12, 10)).split("t=")[1]
    body, status, headers = download(token, signer=signer, folder_for={"": tmp_path}, today=TODAY)
    assert status == 200
    assert body == source.read_bytes()
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Cache-Control"] == "no-store"
    _, status, _ = download(token, signer=signer, folder_for={"": tmp_path}, today=date(2026, 12, 11))
    assert status == 410
    forged = (
        PapersSigner("another-secret-000000000000000").link(pack, "ep@example.org", date(2026, 12, 10)).split("t=")[1]
    )
    assert download(forged, signer=signer, folder_for={"": tmp_path}, today=TODAY)[1] == 400
    assert download(None, signer=signer, folder_for={"": tmp_path}, today=TODAY)[1] == 400
