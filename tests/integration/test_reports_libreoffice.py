"""Reports end to end: clocks computed by review_rules.compute_review from register facts, documents written, then
opened by real readers: python-docx, openpyxl, icalendar, and LibreOffice, which converts the record and the overview to
PDF. Page 1 of each is rendered to PNG (pdftoppm) in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from icalendar import Calendar
from openpyxl import load_workbook

from reports.calendar import write_calendar
from reports.common import ContributionLine
from reports.overview import write_overview
from reports.record import HEADING_PFA, HEADING_TRANSFER, write_review_record, write_review_records
from review_rules import compute_review
from review_rules.model import Decision, ReviewFacts, RuleSettings, Status
from sheet_schema.model import PupilRecord, ReviewedPupil

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
SOFFICE = "/usr/bin/soffice"
PDFTOPPM = shutil.which("pdftoppm") or "/usr/bin/pdftoppm"
TODAY = date(2025, 10, 1)
SETTINGS = RuleSettings()
SCHOOL = "Oakfield Academy"


def reviewed(row: int, name: str, upn: str | None, la: str | None, facts: ReviewFacts) -> ReviewedPupil:
    first, _, surname = name.partition(" ")
    record = PupilRecord(row, name, first, f"{surname[:1]}.", upn, facts, la=la)
    clock = compute_review(facts, TODAY, SETTINGS)
    return ReviewedPupil(record, clock, clock.status)


# Year 9 in 2025/26 (13 on 31 Aug 2025); reviewed 20 Nov 2024, LA decided 10 Dec 2024 (20 days).
MAYA = reviewed(
    4,
    "Maya Okafor",
    "B801200005001",
    "Devon",
    ReviewFacts(
        dob=date(2011, 10, 3),
        plan_issued=date(2022, 5, 9),
        last_review=date(2024, 11, 20),
        la_decision=date(2024, 12, 10),
        decision=Decision.MAINTAIN,
        report_sent=date(2024, 11, 29),
    ),
)
# Year 6 in 2025/26, first plan 20 Jan 2025: the Year 6 -> 7 transfer on 1 Sep 2026 binds (final by 14 Feb 2026).
TOM = reviewed(5, "Tom Reilly", None, "Cornwall", ReviewFacts(dob=date(2014, 12, 24), plan_issued=date(2025, 1, 20)))
# Year 3, reviewed 3 Mar 2025, amended plan final 30 Jun 2025 (119 days: late).
ZARA = reviewed(
    6,
    "Zara Ahmed",
    None,
    "Devon",
    ReviewFacts(
        dob=date(2018, 6, 15),
        plan_issued=date(2023, 2, 1),
        last_review=date(2025, 3, 3),
        la_decision=date(2025, 3, 20),
        decision=Decision.AMEND,
        final_plan=date(2025, 6, 30),
        report_sent=date(2025, 3, 14),
    ),
)
REGISTER = [MAYA, TOM, ZARA]


def soffice_to_pdf(source: Path, out_dir: Path) -> Path:
    """Convert with a private profile (parallel runs and a user's own LibreOffice never interfere) and a timeout."""
    profile = Path("/tmp") / f"lo-reports-{uuid.uuid4().hex}"
    try:
        result = subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir),
                str(source),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdf = out_dir / (source.stem + ".pdf")
    assert result.returncode == 0, result.stderr
    assert pdf.exists(), f"LibreOffice wrote no PDF: {result.stdout} {result.stderr}"
    assert pdf.read_bytes().startswith(b"%PDF")
    return pdf


def render_page(pdf: Path, name: str, page: int = 1) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = ARTIFACTS / name
    subprocess.run(
        [PDFTOPPM, "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(prefix)],
        check=True,
        timeout=120,
    )
    png = prefix.with_suffix(".png")
    assert png.stat().st_size > 5_000  # a rendered page, not an empty image
    return png


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True, timeout=60).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def test_computed_clocks_flow_into_every_document(tmp_path: Path) -> None:
    assert MAYA.clock is not None
    assert MAYA.clock.pfa_required
    assert TOM.clock is not None
    assert TOM.clock.phase_transfer is not None
    assert TOM.clock.phase_transfer.final_by == date(2026, 2, 14)

    paths = write_review_records(REGISTER, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)
    assert [p.name for p in paths] == [
        "review-record-row004-Maya-O.docx",
        "review-record-row005-Tom-R.docx",
        "review-record-row006-Zara-A.docx",
    ]
    for path, pupil in zip(paths, REGISTER, strict=True):
        doc = Document(str(path))
        heads = [p.text for p in doc.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
        assert (HEADING_PFA in heads) == pupil.clock.pfa_required  # type: ignore[union-attr]
        assert (HEADING_TRANSFER in heads) == (pupil.clock.phase_transfer is not None)  # type: ignore[union-attr]
        text = "\n".join(cell.text for t in doc.tables for row in t.rows for cell in row.cells)
        # The clock's own explanation of the window end is in the dates table.
        assert pupil.clock.explain["window_end"] in text  # type: ignore[union-attr]

    out = write_overview(REGISTER, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out=tmp_path / "o.xlsx")
    summary = {r[0]: r[1] for r in load_workbook(out)["Summary"].iter_rows(values_only=True) if r[0]}
    statuses = [p.status for p in REGISTER]
    for status, label in ((Status.ON_TRACK, "ON TRACK"), (Status.PREPARE, "PREPARE"), (Status.OVERDUE, "OVERDUE")):
        assert summary[f"Status: {label}"] == statuses.count(status)
    assert summary["Year 9 or later at the review (PfA)"] == 1
    assert summary["Phase transfer review this cycle"] == 1
    assert summary["Home LA: Devon"] == 2

    ics = write_calendar(REGISTER, today=TODAY, school_name=SCHOOL, out=tmp_path / "r.ics", settings=SETTINGS)
    events = list(Calendar.from_ical(ics.read_bytes()).walk("VEVENT"))
    holds = {e.decoded("DTSTART") for e in events if str(e["SUMMARY"]).startswith("Hold review meeting by")}
    assert holds == {p.clock.meeting_target for p in REGISTER}  # type: ignore[union-attr]
    assert b"B801200005001" not in ics.read_bytes()


@pytest.mark.libreoffice
def test_libreoffice_converts_record_and_overview(tmp_path: Path) -> None:
    contributions = [
        ContributionLine("Parent/carer", "Mrs Okafor", date(2025, 9, 1), date(2025, 9, 12), 0),
        ContributionLine("EP", "Dr Shah", date(2025, 9, 1), None, 2),
        ContributionLine("Careers adviser", "Ms Lee", date(2025, 9, 3), None, 1),
    ]
    record = write_review_record(
        MAYA, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path, contributions=contributions
    )
    transfer = write_review_record(TOM, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)
    overview = write_overview(REGISTER, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out=tmp_path / "o.xlsx")

    record_pdf = soffice_to_pdf(record, tmp_path)
    transfer_pdf = soffice_to_pdf(transfer, tmp_path)
    overview_pdf = soffice_to_pdf(overview, tmp_path)
    assert pdf_pages(record_pdf) >= 3  # dates, contributions, invitees, sections and PfA headings
    assert pdf_pages(overview_pdf) >= 4  # one sheet at least per page

    render_page(record_pdf, "review-record-page1")
    render_page(record_pdf, "review-record-page3", page=3)
    render_page(transfer_pdf, "review-record-transfer-page1")
    render_page(overview_pdf, "overview-page1")
