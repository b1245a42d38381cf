"""The role's form behind a contributor's link, through HTTP (werkzeug's test client on the same handler the served
page uses): what each role sees, what a submission writes (Advice row + Received in one save, files in the evidence
folder), and the bad input of issue 12 ("Bad input and safety"), each with a clear page and nothing written."""

from __future__ import annotations

import io
import logging
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from connectors.storage_folder import FolderEvidenceStore
from connectors.submission_queue import SubmissionQueue
from connectors.workbook import WorkbookRegister
from functions.advice_page import REQUEST_LIMIT_BYTES, AdviceDesk, TooLarge, answer, read_post
from functions.confirm import SECURITY_HEADERS, Confirmations
from functions.links import LinkSigner
from functions.settings import School, load_settings
from functions.submit import apply_queued
from scripts.make_demo import upn, write_demo_register
from sheet_schema.advice import ADVICE_HEADERS

SECRET = "advice-form-test-secret-6f1e2d3c4b5a"
NOW = datetime(2026, 11, 29, 10, 30)
TODAY = NOW.date()
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
LEO_PARENT = ["Leo Fitzgerald", "Parent/carer", "Kim Fitzgerald", "kim.f@example.org"]


class Site:
    def __init__(self, tmp_path: Path, now: datetime = NOW) -> None:
        self.register = write_demo_register(tmp_path / "register.xlsx", today=TODAY)
        wb = openpyxl.load_workbook(self.register)
        wb["Contributions"].append(LEO_PARENT)
        wb.save(self.register)
        self.signer = LinkSigner(SECRET)
        school = School("", str(self.register), load_settings(register=self.register))
        self.now = now
        desk = AdviceDesk(
            store_for=lambda s: FolderEvidenceStore.beside(Path(s.register)),
            queue_for=lambda s: SubmissionQueue.beside(Path(s.register)),
            now=lambda: self.now,
        )
        service = Confirmations(
            {"": school},
            self.signer,
            lambda s: WorkbookRegister(s.register, read_while_open=True),
            lambda: self.now.date(),
            desk,
        )

        @Request.application
        def app(request: Request) -> Response:
            page = answer(request, service)
            return Response(page.html(), page.status, headers=dict(SECURITY_HEADERS))

        self.client = Client(app)

    def token(self, pupil: str, role: str, email: str, meeting: date | None = None) -> str:
        return self.signer.token(pupil_ref=pupil, role=role, email=email, meeting=meeting or TODAY + timedelta(days=30))

    def get(self, token: str):
        return self.client.get(f"/confirm?t={token}")

    def post(self, token: str, fields: dict[str, str], files: list[tuple[bytes, str]] = ()):
        data: dict[str, object] = {"t": token, "do": "advice", **fields}
        if files:
            data["files"] = [(io.BytesIO(content), name) for content, name in files]
        return self.client.post("/confirm", data=data, content_type="multipart/form-data")

    def sheet(self, title: str) -> list[tuple]:
        wb = openpyxl.load_workbook(self.register)
        try:
            return [tuple(r) for r in wb[title].iter_rows(values_only=True)] if title in wb.sheetnames else []
        finally:
            wb.close()

    def advice(self) -> list[dict[str, object]]:
        rows = self.sheet("Advice")
        return [dict(zip(ADVICE_HEADERS, r, strict=False)) for r in rows[1:]]


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


EP = (upn(5), "EP", "ep.team@northshire.example.org")
YOUNG = ("Leo Fitzgerald", "Young person", "leo.f@students.example.org")
PARENT = ("Leo Fitzgerald", "Parent/carer", "kim.f@example.org")
TEACHER = (upn(5), "Class teacher", "j.patel@oakfield.example.org")


def test_each_role_sees_its_own_form(site: Site) -> None:
    parent = site.get(site.token(*PARENT)).get_data(as_text=True)
    assert "What are your hopes for your child&#39;s adult life?" in parent  # Leo is in Year 9
    assert "personal budget" in parent
    assert 'type="file"' not in parent
    child = site.get(site.token(*YOUNG)).get_data(as_text=True)
    assert "What I like and am good at" in child
    assert "An adult may write down what the child or young person said or drew" in child
    teacher = site.get(site.token(*TEACHER)).get_data(as_text=True)
    assert "Progress towards the plan&#39;s outcomes" in teacher
    assert "hopes for your child" not in teacher
    ep = site.get(site.token(*EP)).get_data(as_text=True)
    assert 'type="file"' in ep
    assert 'enctype="multipart/form-data"' in ep
    for page in (parent, child, teacher, ep):
        assert "I have nothing new to add" in page
    assert site.sheet("Advice") == []  # GET never writes


def test_a_professional_sends_advice_with_a_report_then_changes_it(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = site.token(*EP)
    response = site.post(
        token, {"summary": "Freya reads well", "recommendations": "Keep the phonics group."}, [(PDF, "Dr O report.pdf")]
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "The school now has your contribution" in body
    assert "with 1 file" in body
    (row,) = site.advice()
    assert row["Role"] == "EP"
    assert row["Summary"] == "Freya reads well"
    assert row["Submitted at"] == NOW
    kept = str(row["Files"])
    assert kept.startswith("2026-11-29-ep-")
    assert kept.endswith(".pdf")
    assert (site.register.parent / "evidence" / upn(5) / kept).read_bytes() == PDF
    received = next(r for r in site.sheet("Contributions") if r[1] == "EP")
    assert received[5].date() == TODAY
    # The link again: the form is filled in from what was sent (a refresh never loses it), the file listed.
    again = site.get(token).get_data(as_text=True)
    assert "Freya reads well</textarea>" in again
    assert kept in again
    # A second submission is kept too; the newest wins; the earlier file stays with the advice.
    site.now = NOW + timedelta(hours=2)
    site.post(token, {"summary": "Freya reads very well"})
    rows = site.advice()
    assert [r["Summary"] for r in rows] == ["Freya reads well", "Freya reads very well"]
    assert rows[1]["Files"] == kept
    assert "Freya reads very well</textarea>" in site.get(token).get_data(as_text=True)
    logged = caplog.text
    for secret in ("Freya reads", "Dr O report", "phonics", kept):
        assert secret not in logged


def test_nothing_new_is_a_whole_answer_and_an_empty_form_is_not(site: Site) -> None:
    token = site.token(*TEACHER)
    empty = site.post(token, {})
    assert empty.status_code == 400
    assert "tick \u201cI have nothing new to add\u201d" in empty.get_data(as_text=True)
    assert site.advice() == []
    assert site.post(token, {"nothing_new": "yes"}).status_code == 200
    assert site.advice()[0]["Nothing new to add"] == "Yes"


def test_bad_files_and_long_text_get_the_form_back_with_the_answers(site: Site) -> None:
    token = site.token(*EP)
    before = site.register.read_bytes()
    fake = site.post(token, {"summary": "Kept text"}, [(b"GIF89a not a pdf", "report.pdf")])
    assert fake.status_code == 400
    body = fake.get_data(as_text=True)
    assert "File 1: it is not a PDF or a Word document" in body
    assert "Kept text</textarea>" in body  # nothing typed is lost
    big = site.post(token, {"summary": "x"}, [(b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), "big.pdf")])
    assert "larger than 10 MB" in big.get_data(as_text=True)
    long = site.post(token, {"summary": "y" * 200_000})
    assert long.status_code == 400
    assert "200,000 characters long and the limit is 20,000" in long.get_data(as_text=True)
    assert site.register.read_bytes() == before
    assert not (site.register.parent / "evidence").exists()


def test_html_and_formulas_stay_inert(site: Site) -> None:
    token = site.token(*YOUNG)
    site.post(token, {"likes": "<script>alert(1)</script>", "want_next": "=cmd|' /C calc'!A0"})
    (row,) = site.advice()
    assert row["Likes and good at"] == "<script>alert(1)</script>"
    assert row["Want next"] == "=cmd|' /C calc'!A0"
    page = site.get(token).get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_request_over_the_limit_is_refused_unread(site: Site) -> None:
    class Unreadable(io.RawIOBase):
        def readinto(self, buffer: object) -> int:
            raise AssertionError("the body was read")

    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "multipart/form-data; boundary=b",
        "CONTENT_LENGTH": str(REQUEST_LIMIT_BYTES + 1),
        "wsgi.input": Unreadable(),
    }
    with pytest.raises(TooLarge):
        read_post(Request(environ))  # refused from the Content-Length alone
    before = site.register.read_bytes()
    # Through HTTP with a body that really is too big (three 10 MB reports and more).
    chunk = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 - 20)
    response = site.post(
        site.token(*EP), {"summary": "x"}, [(chunk, "a.pdf"), (chunk, "b.pdf"), (chunk, "c.pdf"), (chunk, "d.pdf")]
    )
    assert response.status_code == 413
    assert "too large to send together" in response.get_data(as_text=True)
    assert site.register.read_bytes() == before


def test_forged_expired_and_replayed_links_write_nothing(site: Site) -> None:
    before = site.register.read_bytes()
    forged = LinkSigner("another-secret-entirely-0000").token(pupil_ref=EP[0], role=EP[1], email=EP[2], meeting=TODAY)
    assert site.post(forged, {"summary": "x"}).status_code == 400
    expired = site.token(*EP, meeting=TODAY - timedelta(days=60))
    assert site.post(expired, {"summary": "x"}).status_code == 410
    assert site.post(site.token(EP[0], EP[1], "someone.else@example.org"), {"summary": "x"}).status_code == 404
    assert site.register.read_bytes() == before


def test_changes_close_after_the_contributions_deadline(site: Site) -> None:
    token = site.token(*PARENT)
    site.post(token, {"going_well": "Football", "personal_budget": "Yes"})
    assert site.advice()[0]["Personal budget"] == "Yes"
    site.now = NOW + timedelta(days=120)  # long after Leo's contributions deadline, link still valid
    late_token = site.token(*PARENT, meeting=TODAY + timedelta(days=150))
    closed = site.post(late_token, {"going_well": "Changed"})
    assert closed.status_code == 409
    assert "The deadline for changes has passed" in closed.get_data(as_text=True)
    assert len(site.advice()) == 1


def test_the_register_open_in_excel_queues_the_submission(site: Site) -> None:
    lock = site.register.parent / f"~${site.register.name}"
    lock.write_text("owner")
    before = site.register.read_bytes()
    token = site.token(*YOUNG)
    assert site.get(token).status_code == 200  # the form still shows while the SENDCo has the register open
    response = site.post(token, {"likes": "Cars", "written_by": "I wrote it myself"})
    assert response.status_code == 200
    assert "it will appear there within a day; you do not need to send it again" in response.get_data(as_text=True)
    assert site.register.read_bytes() == before  # Excel's copy is never saved over
    queue = SubmissionQueue.beside(site.register)
    assert len(queue) == 1
    lock.unlink()
    assert apply_queued(WorkbookRegister(site.register), queue) == (1, 0)
    (row,) = site.advice()
    assert row["Likes and good at"] == "Cars"
    assert row["Written by"] == "I wrote it myself"
    young = next(r for r in site.sheet("Contributions") if r[1] == "Young person")
    assert young[5].date() == TODAY


SALT = ("Leo Fitzgerald", "SALT", "salt.referrals@nhs.example.org")


def test_the_record_is_compiled_from_what_was_sent(site: Site, tmp_path: Path) -> None:
    import hashlib

    import docx

    from functions.reporting import records_job

    site.post(
        site.token(*YOUNG),
        {
            "likes": "Fixing bikes",
            "hard_for_me": "Loud rooms",
            "when_older": "I want to be a mechanic. I want to live with my friends.",
        },
    )
    site.post(
        site.token(*PARENT),
        {"going_well": "He is calmer", "hopes_adult": "We hope he can travel to college on his own."},
    )
    site.post(
        site.token(*SALT),
        {
            "summary": "Speech is clearer",
            "recommendations": "Leo should join the college link course. Weekly therapy should continue.",
        },
        [(PDF, "salt.pdf")],
    )
    site.post(site.token(*EP), {"summary": "Freya reads well"})
    out = tmp_path / "records"
    paths = records_job(
        WorkbookRegister(site.register),
        today=TODAY,
        settings=load_settings(register=site.register),
        out_dir=out,
        store=FolderEvidenceStore.beside(site.register),
    )
    leo = next(p for p in paths if "Leo" in p.name)
    text = [p.text for p in docx.Document(str(leo)).paragraphs]
    child = text.index("Views, wishes and feelings of the child or young person")
    parents = text.index("Views of parents and carers")
    advice = text.index("Advice received")
    assert child < parents < advice
    assert "\u201cFixing bikes\u201d" in text[child:parents]  # the child's own words, first
    assert "He is calmer" in text[parents:advice]
    assert any(t.startswith("SALT: Priya Shah (sent 29/11/2026)") for t in text[advice:])
    assert "\u201cI want to be a mechanic. I want to live with my friends.\u201d" in text  # aspirations (Year 9)
    employment = text.index("Employment and higher education")
    living = text.index("Independent living")
    assert "The young person: I want to be a mechanic." in text[employment:living]
    assert "SALT: Leo should join the college link course." in text[employment:living]
    assert "Parent/carer: We hope he can travel to college on his own." in text[living : living + 6]
    tables = docx.Document(str(leo)).tables
    reports = next(t for t in tables if t.rows[0].cells[0].text == "File")
    assert reports.rows[1].cells[3].text == hashlib.sha256(PDF).hexdigest()
    assert reports.rows[1].cells[2].text == "29/11/2026"
    freya = next(p for p in paths if "Freya" in p.name)
    freya_text = [p.text for p in docx.Document(str(freya)).paragraphs]
    outstanding = freya_text.index("Still outstanding")
    assert "Class teacher (Jo Patel)" in freya_text[outstanding:]


def test_the_next_sweep_applies_what_waited_for_the_register(site: Site) -> None:
    import json
    import os
    import subprocess
    import sys

    lock = site.register.parent / f"~${site.register.name}"
    lock.write_text("owner")
    site.post(site.token(*YOUNG), {"likes": "Cars"})
    lock.unlink()
    assert len(SubmissionQueue.beside(site.register)) == 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPER_") or k == "KEEPER_TODAY_ANCHOR"} | {
        "KEEPER_MAIL": "none"
    }
    out = subprocess.run(
        [sys.executable, "main.py", "sweep", str(site.register), "--json", "--today", TODAY.isoformat()],
        capture_output=True, text=True, timeout=300, check=True, env=env,
    )  # fmt: skip
    result = json.loads(out.stdout)
    assert result["advice_applied"] == 1
    assert result["advice_waiting"] == 0
    assert [r["Likes and good at"] for r in site.advice()] == ["Cars"]
    assert len(SubmissionQueue.beside(site.register)) == 0


def test_the_same_form_sent_twice_is_kept_once(site: Site) -> None:
    token = site.token(*TEACHER)
    first = site.post(token, {"progress": "Steady"})
    again = site.post(token, {"progress": "Steady"})  # a double tap, or the browser resending the form
    assert first.status_code == again.status_code == 200
    assert "Thank you" in again.get_data(as_text=True)
    assert len(site.advice()) == 1
    site.post(token, {"progress": "Steady", "attainment": "Expected"})  # a real change is a new submission
    assert len(site.advice()) == 2
