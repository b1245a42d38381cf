"""Issue 12 end to end on a Google Sheet with Google Drive, black-box: the register on the local Sheets look-alike and
the evidence on the local Drive look-alike (tests/fakes, real sockets). Contributors send their forms to the `confirm`
cloud target (functions-framework's own app, a multipart POST with a PDF); then `main.py records` on that Sheet
compiles the record (the child's views first, the report listed with its SHA-256, read back from Drive), `main.py
papers --pupil ... --send` builds the pack and emails each invitee a link (the outbox), and the `papers` cloud target
serves the PDF behind that link."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import docx
import openpyxl
import pytest

from functions.evaluate import london_today
from functions.links import LinkSigner
from scripts.make_demo import write_demo_register
from sheet_schema.advice import ADVICE_HEADERS
from tests.e2e.cloud_fixtures import ROOT, app_client
from tests.fakes.drive_api import FOLDER_MIME, FakeDriveServer
from tests.fakes.sheets_api import FakeSheetsServer

pytestmark = [pytest.mark.libreoffice, pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")]

KEY = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
SHEET = f"https://docs.google.com/spreadsheets/d/{KEY}/edit"
SECRET = "sheet-drive-e2e-secret-1a2b3c4d5e6f"
BASE = "https://keeper.oakfield.example.org"


def one_page_pdf(text: str) -> bytes:
    """A real one-page PDF with `text` on it (so the pack's pages can be read back with pdftotext)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF = one_page_pdf("Speech and language therapy report for the review")
PARENT = ("Leo Fitzgerald", "Parent/carer", "kim.f@example.org")
YOUNG = ("Leo Fitzgerald", "Young person", "leo.f@students.example.org")
SALT = ("Leo Fitzgerald", "SALT", "salt.referrals@nhs.example.org")


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    today = london_today()
    book = write_demo_register(tmp_path / "register.xlsx", today=today)
    wb = openpyxl.load_workbook(book)
    wb["Contributions"].append(["Leo Fitzgerald", "Parent/carer", "Kim Fitzgerald", "kim.f@example.org"])
    wb.save(book)
    (tmp_path / "keeper.toml").write_text(
        'school_name = "Oakfield Academy"\nsendco_name = "Ms Patel"\nsendco_email = "senco@oakfield.example.org"\n',
        encoding="utf-8",
    )
    with FakeSheetsServer() as sheets, FakeDriveServer() as drive:
        sheets.load_workbook(KEY, book)
        book.unlink()  # the Sheet is the register now: nothing may read the workbook by mistake
        env = {
            "SHEETS_EMULATOR_HOST": sheets.host,
            "DRIVE_EMULATOR_HOST": drive.base_url.removeprefix("http://"),
            "KEEPER_LINK_SECRET": SECRET,
            "KEEPER_BASE_URL": BASE,
            "KEEPER_STATE_DIR": str(tmp_path / "state"),
            "KEEPER_REGISTER": SHEET,
            "KEEPER_CONFIG": str(tmp_path / "keeper.toml"),
        }
        for name in [k for k in os.environ if k.startswith("KEEPER_") and k != "KEEPER_TODAY_ANCHOR"]:
            monkeypatch.delenv(name)
        monkeypatch.delenv("PUBSUB_EMULATOR_HOST", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("KEEPER_MAIL", "none")  # the cloud side sends nothing here
        yield sheets, drive, today


def run_main(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line as the SENDCo runs it, in the folder with keeper.toml (mail to the outbox there)."""
    env = {k: v for k, v in os.environ.items() if k != "KEEPER_MAIL"}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )


def post_form(client, who: tuple[str, str, str], today, fields: dict[str, str], files=()) -> str:
    pupil, role, email = who
    token = LinkSigner(SECRET, BASE).token(pupil_ref=pupil, role=role, email=email, meeting=today + timedelta(days=30))
    data: dict[str, object] = {"t": token, "do": "advice", **fields}
    if files:
        data["files"] = [(io.BytesIO(content), name) for content, name in files]
    response = client.post("/", data=data, content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    return body


def test_records_and_papers_on_a_google_sheet_with_drive(
    cloud, tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    sheets, drive, today = cloud
    confirm = app_client("confirm")

    # Three contributors, through the cloud's form.
    post_form(
        confirm,
        YOUNG,
        today,
        {"likes": "Fixing bikes with my uncle", "helps_me": "Ear defenders", "written_by": "I wrote it myself"},
    )
    post_form(confirm, PARENT, today, {"going_well": "He is calmer at home", "personal_budget": "Yes"})
    body = post_form(
        confirm,
        SALT,
        today,
        {"summary": "Speech is clearer", "recommendations": "Leo should join the college link course."},
        [(PDF, "SALT report.pdf")],
    )
    assert "with 1 file" in body
    logged = "".join(capfd.readouterr()) + caplog.text
    for private in ("Fixing bikes", "calmer at home", "SALT report.pdf", "Speech is clearer", "Fitzgerald"):
        assert private not in logged  # no advice text, file name or pupil name in the logs

    # The Sheet's Advice tab (one row a submission) and Received; the report and the full text in Drive.
    advice = sheets.dump(KEY, "Advice")
    rows = [dict(zip(ADVICE_HEADERS, r, strict=False)) for r in advice[1:]]
    assert [r["Role"] for r in rows] == ["Young person", "Parent/carer", "SALT"]
    assert rows[2]["Files"]
    (stored,) = drive.named(str(rows[2]["Files"]))
    assert stored.content == PDF
    assert stored.name != "SALT report.pdf"  # renamed, never the uploaded name
    folders = [f for f in drive.files.values() if f.mime_type == FOLDER_MIME]
    assert any(p.get("emailAddress") == "senco@oakfield.example.org" for f in folders for p in f.permissions)
    assert not [p for p in (tmp_path / "state").rglob("*") if p.is_file()]  # all of it in Drive, none on this disk
    contributions = sheets.dump(KEY, "Contributions")
    salt_row = next(r for r in contributions if r[0] == "Leo Fitzgerald" and r[1] == "SALT")
    assert salt_row[5] not in (None, "")

    # The record, compiled from the Sheet and Drive.
    records = run_main(tmp_path, "records", SHEET, "--out", str(tmp_path / "records"))
    assert records.returncode == 0, records.stderr
    assert "Fixing bikes" not in records.stderr
    leo = next((tmp_path / "records").glob("*Leo*.docx"))
    document = docx.Document(str(leo))
    text = [p.text for p in document.paragraphs]
    assert "\u201cFixing bikes with my uncle\u201d" in text
    assert text.index("\u201cFixing bikes with my uncle\u201d") < text.index("He is calmer at home")
    assert "SALT: Leo should join the college link course." in text
    cells = {c.text for t in document.tables for r in t.rows for c in r.cells}
    assert hashlib.sha256(PDF).hexdigest() in cells

    # The papers pack, sent as links.
    pupils = sheets.dump(KEY, sheets.books[KEY]["sheets"][0].title)
    leo_row = next(i + 1 for i, r in enumerate(pupils) if any("Leo Fitzgerald" in str(v) for v in r))
    papers = run_main(tmp_path, "papers", SHEET, "--pupil", str(leo_row), "--send", "--out", str(tmp_path / "papers"))
    assert papers.returncode == 0, papers.stderr
    (pack,) = (tmp_path / "papers").glob("papers-row*.pdf")
    assert pack.read_bytes().startswith(b"%PDF-")
    assert "left out" not in papers.stdout + papers.stderr
    pages = subprocess.run(["pdftotext", "-layout", str(pack), "-"], capture_output=True, text=True, timeout=60).stdout
    assert "Fixing bikes with my uncle" in pages  # the compiled record, first
    assert pages.index("Fixing bikes with my uncle") < pages.index("Speech and language therapy report for the review")
    messages = [message_from_bytes(p.read_bytes(), policy=default) for p in (tmp_path / "outbox").glob("*.eml")]
    assert sorted(str(m["To"]) for m in messages) == sorted(
        ["kim.f@example.org", "leo.f@students.example.org", "salt.referrals@nhs.example.org"]
    )
    assert all(not list(m.iter_attachments()) for m in messages)
    links = [
        line.strip()
        for m in messages
        for line in m.get_body(("plain",)).get_content().splitlines()
        if line.strip().startswith(f"{BASE}/papers?t=")
    ]
    assert len(links) == 3
    contributions = sheets.dump(KEY, "Contributions")
    header = contributions[0]
    assert "Papers sent" in header
    sent = [r for r in contributions[1:] if r and r[0] == "Leo Fitzgerald" and len(r) > header.index("Papers sent")]
    assert len([r for r in sent if r[header.index("Papers sent")] not in (None, "")]) == 3

    # Each link serves the PDF from the cloud's `papers` target; a changed one does not.
    download = app_client("papers")
    for link in links:
        response = download.get("/" + link.removeprefix(BASE + "/").removeprefix("papers"))
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.get_data() == pack.read_bytes()
    broken = download.get("/" + links[0].removeprefix(BASE + "/").removeprefix("papers")[:-5] + "xxxxx")
    assert broken.status_code == 400

    # And from `main.py serve` on the Sheet, the route DEPLOY.md gives until the `papers` function is deployed.
    env = {k: v for k, v in os.environ.items() if k not in ("KEEPER_MAIL", "KEEPER_REGISTER", "KEEPER_CONFIG")}
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "serve", SHEET, "--port", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert match, (first, server.poll() is not None and server.stderr and server.stderr.read())
        local = f"http://127.0.0.1:{match.group(1)}"
        with urllib.request.urlopen(links[1].replace(BASE, local), timeout=30) as response:
            assert response.headers["Content-Type"] == "application/pdf"
            assert response.read() == pack.read_bytes()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
