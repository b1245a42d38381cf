"""Issue 12 on a Microsoft 365 register: a contributor's form, served by `python main.py serve LINK` as a real process
against the Graph fake on a real socket (GRAPH_EMULATOR_HOST). The report lands in `evidence/<pupil key>/` beside the
workbook in its drive (a 6 MB report by an upload session), the Advice row in the workbook through the Graph register
adapter; an outage of the drive keeps the answers and the page says so. Nothing is kept under KEEPER_STATE_DIR. The
cloud's `confirm` target does the same."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import docx
import pytest
import requests

from functions.links import LinkSigner
from scripts.make_demo import upn, write_demo_register
from sheet_schema.advice import ADVICE_HEADERS
from tests.e2e.conftest import run_main, serve_child
from tests.fakes.graph_api import FakeGraphServer, FakeItem, Fault

ROOT = Path(__file__).resolve().parents[2]
SECRET = "m365-evidence-test-secret-0d15ea5e0d15ea5e"
LINK = "https://oakfield.sharepoint.com/:x:/s/SEND/EEvidenceEvidence?e=Ev1d"
TODAY = date.today()
EP = (upn(5), "EP", "ep.team@northshire.example.org")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
BIG = b"%PDF-1.7\n" + hashlib.sha256(b"report").digest() * (6 * 1024 * 1024 // 32) + b"\n%%EOF\n"


class Served:
    def __init__(self, graph: FakeGraphServer, item: FakeItem, port: int, state: Path) -> None:
        self.graph, self.item, self.port, self.state = graph, item, port, state

    def token(self) -> str:
        pupil, role, email = EP
        signer = LinkSigner(SECRET, "http://localhost", "")
        return signer.token(pupil_ref=pupil, role=role, email=email, meeting=TODAY + timedelta(days=30))

    def post(self, fields: dict[str, str], files: list[tuple[str, bytes]]) -> requests.Response:
        return requests.post(
            f"http://127.0.0.1:{self.port}/confirm",
            data={"t": self.token(), "do": "advice", **fields},
            files=[("files", (name, data, "application/pdf")) for name, data in files],
            timeout=60,
        )

    def advice(self) -> list[dict[str, object]]:
        rows = list(self.graph.saved(self.item)["Advice"].iter_rows(values_only=True))
        return [dict(zip(ADVICE_HEADERS, r, strict=False)) for r in rows[1:]]

    def evidence(self) -> dict[str, bytes]:
        return self.graph.evidence_beside(self.item).get(upn(5), {})


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with FakeGraphServer() as graph:
        item = graph.add_file(write_demo_register(tmp_path / "register.xlsx", today=TODAY), sharing_url=LINK)
        item.parent_id = "D-SEND"  # the register's folder in the school's SharePoint library
        state = tmp_path / "state"
        env = {"KEEPER_LINK_SECRET": SECRET, "KEEPER_BASE_URL": "http://localhost", "GRAPH_EMULATOR_HOST": graph.host,
               "KEEPER_STATE_DIR": str(state)}  # fmt: skip
        with serve_child(LINK, env, cwd=tmp_path, verbose=False) as (port, _):
            yield Served(graph, item, port, state)


def test_a_report_lands_beside_the_workbook_and_the_advice_in_it(served: Served) -> None:
    form = requests.get(f"http://127.0.0.1:{served.port}/confirm?t={served.token()}", timeout=30)
    assert form.status_code == 200
    assert 'type="file"' in form.text
    response = served.post({"summary": "Freya reads well"}, [("Dr O report.pdf", PDF)])
    assert response.status_code == 200, response.text
    assert "The school now has your contribution" in response.text
    assert "with 1 file" in response.text
    (row,) = served.advice()
    assert row["Role"] == "EP"
    assert row["Summary"] == "Freya reads well"
    kept = str(row["Files"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-ep-[0-9a-f]{12}\.pdf", kept)  # the product's name, never the upload's
    evidence = served.evidence()
    assert evidence[kept] == PDF
    (text,) = [name for name in evidence if name.startswith("advice-")]
    assert b"Freya reads well" in evidence[text]  # the full text beside the files
    assert not any(served.state.rglob("*.pdf"))  # nothing kept in the deployment's own storage
    # The same link again: the form is filled in from what was sent, the file listed.
    again = requests.get(f"http://127.0.0.1:{served.port}/confirm?t={served.token()}", timeout=30).text
    assert "Freya reads well</textarea>" in again
    assert kept in again
    # The SENDCo's `records` on the same link compiles the advice, the report listed with its SHA-256 from OneDrive.
    out = served.state.parent / "records"
    env = {"GRAPH_EMULATOR_HOST": served.graph.host, "KEEPER_STATE_DIR": str(served.state)}
    proc = run_main("records", LINK, "--pupil", upn(5), "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    (record,) = out.glob("*.docx")
    document = docx.Document(str(record))
    assert any(p.text.startswith("EP: ") for p in document.paragraphs)
    reports = next(t for t in document.tables if t.rows[0].cells[0].text == "File")
    assert reports.rows[1].cells[3].text == hashlib.sha256(PDF).hexdigest()


def test_a_six_megabyte_report_goes_by_an_upload_session(served: Served) -> None:
    response = served.post({"summary": "Long report attached"}, [("assessment.pdf", BIG)])
    assert response.status_code == 200, response.text
    assert "with 1 file" in response.text
    (row,) = served.advice()
    assert served.evidence()[str(row["Files"])] == BIG
    assert [r for r in served.graph.graph_log if r.path.endswith("/createUploadSession")]
    fragments = [r for r in served.graph.log if r.path.startswith("/upload-session/")]
    assert [r.status for r in fragments] == [202, 201]
    assert all(r.headers["Authorization"] == "" for r in fragments)
    assert not [r for r in served.graph.graph_log if r.method == "PUT" and str(row["Files"]) in r.path]


def test_a_drive_outage_keeps_the_answers_and_the_page_says_so(served: Served) -> None:
    # Every drive request fails (paths below a folder: ":/"); the workbook API still answers.
    served.graph.faults += [Fault(503, match=":/") for _ in range(40)]
    response = served.post({"summary": "Kept without the file"}, [("report.pdf", PDF)])
    served.graph.faults.clear()
    assert response.status_code == 200, response.text
    assert "your files could not be stored just now" in response.text
    (row,) = served.advice()
    assert row["Summary"] == "Kept without the file"
    # Never a file that was not kept, but the SENDCo is told one was attached and not stored (docs/register.md s8).
    assert (
        row["Files"]
        == "(1 file attached but not stored: the storage did not answer; the contributor was asked to send again)"
    )
    assert served.evidence() == {}


def test_the_cloud_confirm_function_keeps_the_report_in_onedrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The functions-framework `confirm` target (keeper-confirm), a fresh deployment a request as in the cloud."""
    import io

    from tests.e2e.cloud_fixtures import app_client

    with FakeGraphServer() as graph:
        item = graph.add_file(write_demo_register(tmp_path / "register.xlsx", today=TODAY), sharing_url=LINK)
        for name in ("KEEPER_CONFIG", "KEEPER_SCHOOL_ID", "KEEPER_PAPERS_URL", "KEEPER_MAIL"):
            monkeypatch.delenv(name, raising=False)
        env = {"KEEPER_REGISTER": LINK, "GRAPH_EMULATOR_HOST": graph.host, "KEEPER_LINK_SECRET": SECRET,
               "KEEPER_BASE_URL": "http://localhost", "KEEPER_STATE_DIR": str(tmp_path / "state")}  # fmt: skip
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        served = Served(graph, item, 0, tmp_path / "state")
        response = app_client("confirm").post(
            "/confirm",
            data={"t": served.token(), "summary": "From the cloud", "files": (io.BytesIO(PDF), "report.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        assert "with 1 file" in response.get_data(as_text=True)
        (row,) = served.advice()
        assert row["Summary"] == "From the cloud"
        assert served.evidence()[str(row["Files"])] == PDF
