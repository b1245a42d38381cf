"""The LA's link to the review record, black-box (issue 14 item 3): `main.py submit --send` emails the LA through a real
local SMTP server (aiosmtpd on a socket); the link is taken from the email as received and fetched from a running
`main.py serve` (a child process on an ephemeral port). A genuine, unexpired link gets the record as `records` makes
it (and the papers pack as circulated); a forged link, another kind of link, or a genuine one past its expiry gets a
page and nothing else; the server's log carries neither the token nor anything about the pupil.

Expiry (functions/la_record.py): the final amended plan's latest date, meeting + 84 days (reg 22(3)), or 28 days after
the email when later (reg 20(10)).
"""

from __future__ import annotations

import http.client
import io
import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import docx
import openpyxl
import pytest

import main
from functions.evaluate import london_today
from functions.la_record import RecordSigner, kept_copy
from functions.links import LinkSigner
from functions.papers import PapersSigner, served_copy
from sheet_schema.advice import pupil_key
from tests.e2e.cloud_fixtures import SmtpInbox, smtp_server
from tests.e2e.conftest import serve_child

ROOT = Path(__file__).resolve().parents[2]
SECRET = "la-record-secret-0123456789abcdef0123"
BASE = "https://keeper.example.org"
KENT, SENDCO = "sen@kent.example", "senco@oak.example"
TODAY = london_today()  # the running `serve` checks expiry against the real date
RECENT = TODAY - timedelta(days=10)  # Amy's meeting: her link works until RECENT + 84 days
OLD = TODAY - timedelta(days=200)  # Ben's meeting: submitted a week later, his link expired at OLD + 84 days
CONFIG = f"""
school_name = "Oak School"
sendco_name = "Ms Patel"
sendco_email = "{SENDCO}"
[las."Kent"]
email = "{KENT}"
aliases = ["KCC"]
submit = "email"
"""


def _write_register(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.append(["Name", "DOB", "EHCP issued", "Last review", "LA decision date", "LA", "LA ref"])
    ws.append(["Amy Adams", date(2012, 3, 4), date(2020, 1, 10), RECENT, None, "KCC", "LA-001"])
    ws.append(["Ben Brown", date(2012, 5, 6), date(2020, 1, 10), OLD, None, "Kent", "LA-002"])
    wb.save(path)


@pytest.fixture
def school(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Path, SmtpInbox]]:
    for name in list(os.environ):
        if name.startswith("KEEPER_") and name != "KEEPER_TODAY_ANCHOR":
            monkeypatch.delenv(name, raising=False)
    (tmp_path / "keeper.toml").write_text(CONFIG, encoding="utf-8")
    register = tmp_path / "register.xlsx"
    _write_register(register)
    with smtp_server() as inbox:
        for key, value in {
            "KEEPER_MAIL": "smtp",
            "KEEPER_SMTP_HOST": inbox.host,
            "KEEPER_SMTP_PORT": str(inbox.port),
            "KEEPER_SMTP_SECURITY": "none",
            "KEEPER_LINK_SECRET": SECRET,
            "KEEPER_BASE_URL": BASE,
        }.items():
            monkeypatch.setenv(key, value)
        yield register, inbox


@pytest.fixture
def serve(school: tuple[Path, SmtpInbox]) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    register, _ = school
    with serve_child(str(register), {"KEEPER_LINK_SECRET": SECRET, "KEEPER_BASE_URL": BASE}) as running:
        yield running


def _get(port: int, path_and_query: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", path_and_query)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def _links(message: EmailMessage) -> list[str]:
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    return [line.strip().removeprefix(BASE) for line in body.splitlines() if line.startswith(f"{BASE}/record?t=")]


def _text(document: bytes) -> list[str]:
    doc = docx.Document(io.BytesIO(document))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return [p.text for p in doc.paragraphs] + cells


def test_the_la_downloads_the_record_from_the_emailed_link_and_nothing_else(
    school: tuple[Path, SmtpInbox],
    serve: tuple[int, subprocess.Popen[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    register, inbox = school
    port, proc = serve
    # Amy's papers were circulated before her meeting: `papers --send` published the pack here, named by its digest.
    pack = served_copy(tmp_path, PapersSigner(SECRET, BASE).pack_id(pupil_key("Amy Adams"), RECENT))
    pack.parent.mkdir(parents=True)
    pack.write_bytes(b"%PDF-1.7 Amy's papers as circulated\n%%EOF\n")

    assert main.main(["submit", str(register), "--pupil", "2", "--today", TODAY.isoformat(), "--send"]) == 0
    out = capsys.readouterr().out
    assert f"Sent a link to the review record and the papers pack for row 2 to {KENT}" in out
    # This register has no "Report sent" column: the SENDCo is told which to add (the product never writes it).
    assert f'Add a "Report sent" column to the register and type {TODAY:%d/%m/%Y} into it for row 2' in out
    sent_on = OLD + timedelta(days=7)
    assert main.main(["submit", str(register), "--pupil", "3", "--today", sent_on.isoformat(), "--send"]) == 0
    assert "Sent a link to the review record for row 3" in capsys.readouterr().out

    amy, ben = inbox.messages()
    assert str(amy["To"]) == KENT
    assert "A. A." in str(amy["Subject"])
    record_link, papers_link = _links(amy)
    text = amy.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert f"{BASE}{record_link}\n\nThe papers circulated before the meeting" in text
    assert f"{BASE}{papers_link}\n\nThese links are secure downloads for your team; they work until" in text
    (ben_link,) = _links(ben)

    # The genuine link: the Word record, byte for byte as kept, with the same text `records` writes for that pupil.
    status, headers, body = _get(port, record_link)
    assert status == 200
    assert headers["content-type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert headers["content-disposition"] == 'attachment; filename="review-record.docx"'
    claim = RecordSigner(SECRET).verify(record_link.split("t=", 1)[1], today=TODAY)
    assert body == kept_copy(tmp_path, claim.record, "record").read_bytes()
    made = tmp_path / "made"
    assert main.main(["records", str(register), "--pupil", "2", "--today", TODAY.isoformat(), "--out", str(made)]) == 0
    (independent,) = made.glob("*.docx")
    assert _text(body) == _text(independent.read_bytes())
    assert "Annual review record: Amy Adams" in _text(body)
    # The papers pack as circulated.
    status, headers, body = _get(port, papers_link)
    assert (status, headers["content-type"], body) == (200, "application/pdf", pack.read_bytes())

    # Ben's link is genuine but past its date (his meeting + 84 days): the page, though his record is still kept.
    status, headers, body = _get(port, ben_link)
    assert status == 410
    assert headers["content-type"].startswith("text/html")
    page = body.decode()
    expired_on = OLD + timedelta(days=84)
    assert "This link has expired" in page
    assert f"until {expired_on.day} {expired_on:%B %Y}" in page
    assert b"PK" not in body[:4]
    assert "Ben" not in page
    ben_claim = RecordSigner(SECRET).verify(ben_link.split("t=", 1)[1], today=sent_on)
    assert kept_copy(tmp_path, ben_claim.record, "record").is_file()

    # Forged: one character of the token changed; signed with another secret; a papers or contributor link's token.
    token = record_link.split("t=", 1)[1]
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    other = RecordSigner("another-secret-xxxxxxxxxxxxxxxx", BASE).link(claim.record, "record", KENT, TODAY)
    papers = PapersSigner(SECRET, BASE).link(claim.record, KENT, TODAY)
    contributor = LinkSigner(SECRET, BASE).token(pupil_ref="Amy Adams", role="LA record", email=KENT, meeting=RECENT)
    for forged in (flipped, other.split("t=", 1)[1], papers.split("t=", 1)[1], contributor, "", "not-a-token"):
        status, headers, body = _get(port, f"/record?t={forged}")
        assert status == 400, forged
        assert "This link does not work" in body.decode()
        assert "Amy" not in body.decode()

    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=20)
    logs = stdout + stderr
    assert "GET 200, a signed link" in logs
    assert "GET 410, a signed link" in logs
    for secret_text in (token[:24], ben_link[12:36], "Amy", "Adams", "LA-001", "Ben"):
        assert secret_text not in logs
    assert "Traceback" not in logs


def test_the_papers_function_serves_a_trust_schools_kept_record(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In the cloud the LA's link goes to keeper-papers (KEEPER_PAPERS_URL), which serves `/record` from the school's
    folder under KEEPER_STATE_DIR as it serves `/papers`; a link made for another school finds nothing there."""
    from functions import bootstrap
    from functions.la_record import keep
    from tests.e2e.cloud_fixtures import app_client

    oak = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
    config = tmp_path / "keeper.toml"
    config.write_text(f'[mail]\ntransport = "outbox"\n\n[[schools]]\nid = "oak"\nregister = "{oak}"\n', "utf-8")
    for name in list(os.environ):
        if name.startswith("KEEPER_") and name != "KEEPER_TODAY_ANCHOR":
            monkeypatch.delenv(name, raising=False)
    env = {"KEEPER_CONFIG": str(config), "KEEPER_STATE_DIR": str(tmp_path / "state"), "KEEPER_LINK_SECRET": SECRET,
           "KEEPER_BASE_URL": "https://keeper-confirm.example.run.app"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    folder = bootstrap.papers_folder(oak, bootstrap.runtime({**env, "KEEPER_SCHOOL_ID": "oak"}), "oak")
    assert folder == tmp_path / "state" / "oak"
    signer = RecordSigner(SECRET, "https://keeper-papers.example.run.app", "oak")
    record = signer.record_id("abc", RECENT)
    (tmp_path / "record.docx").write_bytes(b"PK the record")
    keep(tmp_path / "record.docx", folder, record, "record")
    token = signer.link(record, "record", KENT, TODAY + timedelta(days=30)).split("t=", 1)[1]

    client = app_client("papers")
    response = client.get(f"/record?t={token}")
    assert (response.status_code, response.data) == (200, b"PK the record")
    elm = RecordSigner(SECRET, "", "elm").link(record, "record", KENT, TODAY + timedelta(days=30)).split("t=", 1)[1]
    assert client.get(f"/record?t={elm}").status_code == 400
    assert client.post(f"/record?t={token}").status_code == 405
