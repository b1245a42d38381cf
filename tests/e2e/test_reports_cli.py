"""`main.py records | report | calendar` on the demo register: every document is opened again and checked against the
sweep's own JSON for the same day."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from icalendar import Calendar

from scripts.make_demo import write_demo_register
from tests.e2e.conftest import run_main, sweep_json

TODAY = "2025-10-01"
PFA_HEADING = "Preparing for adulthood"
TRANSFER_WORD = "transfer"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = write_demo_register(tmp_path_factory.mktemp("demo") / "register.xlsx", today=date.fromisoformat(TODAY))
    return path, sweep_json(path, TODAY, "--dry-run")


def test_records_have_pfa_headings_exactly_when_required(demo: tuple[Path, dict], tmp_path: Path) -> None:
    path, result = demo
    before = path.read_bytes()
    proc = run_main("records", str(path), "--today", TODAY, "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes() == before  # reports never write the register
    tracked = {p["row"]: p for p in result["pupils"] if p["status"] not in ("INVALID", "INACTIVE")}
    files = sorted(tmp_path.glob("*.docx"))
    assert len(files) == len(tracked)
    for file in files:
        row = int(file.name.split("row")[1][:3])
        headings = [p.text for p in docx.Document(str(file)).paragraphs if p.style.name.startswith("Heading")]
        assert (PFA_HEADING in headings) == tracked[row]["pfa_required"], file.name
        text = "\n".join(p.text for p in docx.Document(str(file)).paragraphs)
        assert TODAY[:4] in text


def test_one_record_by_row(demo: tuple[Path, dict], tmp_path: Path) -> None:
    path, result = demo
    year9 = next(p for p in result["pupils"] if p["pfa_required"] and p["status"] != "INACTIVE")
    proc = run_main("records", str(path), "--today", TODAY, "--out", str(tmp_path), "--pupil", str(year9["row"]))
    assert proc.returncode == 0, proc.stderr
    (only,) = tmp_path.glob("*.docx")
    assert f"row{year9['row']:03d}" in only.name
    bad = run_main("records", str(path), "--today", TODAY, "--out", str(tmp_path), "--pupil", "999")
    assert bad.returncode == 2
    assert "no pupil at row" in bad.stderr


def test_overview_counts_equal_the_sweep(demo: tuple[Path, dict], tmp_path: Path) -> None:
    path, result = demo
    out = tmp_path / "report.xlsx"
    proc = run_main("report", str(path), "--today", TODAY, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = {r[0]: r[1] for r in openpyxl.load_workbook(out)["Summary"].iter_rows(values_only=True) if r[0]}
    counts = Counter(p["status"] for p in result["pupils"])
    labels = {"OVERDUE": "OVERDUE", "DUE_SOON": "DUE SOON", "PREPARE": "PREPARE", "ON_TRACK": "ON TRACK"}
    for status, label in labels.items():
        assert summary[f"Status: {label}"] == counts[status]
    assert summary["Pupils on the register"] == len(result["pupils"])
    assert "Computed for Wed 1 Oct 2025" in summary


def test_calendar_is_stable_and_private(demo: tuple[Path, dict], tmp_path: Path) -> None:
    path, result = demo
    a, b = tmp_path / "a.ics", tmp_path / "b.ics"
    for out in (a, b):
        assert run_main("calendar", str(path), "--today", TODAY, "--out", str(out)).returncode == 0
    assert a.read_bytes() == b.read_bytes()
    events = [c for c in Calendar.from_ical(a.read_bytes()).walk() if c.name == "VEVENT"]
    assert len({str(e["UID"]) for e in events}) == len(events) > 0
    text = a.read_text()
    for pupil in result["pupils"]:
        if pupil["upn"]:
            assert pupil["upn"] not in text
        names = (pupil["name"] or "").split()
        if len(names) > 1:
            assert names[-1] not in text  # first name and surname initial only
