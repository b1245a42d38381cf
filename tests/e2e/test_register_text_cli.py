"""Register text the reports must survive (issue 10 items 2, 7, 10, 11): `main.py report | records | calendar` run as a
SENDCo runs them, on registers holding what a keyboard, a paste or a Google Sheet lets through.

Each test failed before its fix: a traceback (`'Status' is not in list`, IllegalCharacterError, python-docx's
ValueError, "File name too long") or a live formula in the overview.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from icalendar import Calendar

from reports.overview import NO_PUPILS
from tests.e2e.conftest import run_main
from tests.fakes.sheets_api import FakeSheetsServer

TODAY = "2025-10-01"
HEADER = ["Name", "DOB", "UPN", "Year", "Last review", "LA"]
SHEET_KEY = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
EXCEL_EPOCH = date(1899, 12, 30)


def serial(day: date) -> int:
    return (day - EXCEL_EPOCH).days


def workbook(path: Path, rows: list[list[object]]) -> Path:
    """A register whose text cells are stored as text, whatever they start with (as Excel stores '=1+1 typed after an
    apostrophe, or a Google Sheet exported)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Register"
    for row in [HEADER, *rows]:
        ws.append(row)
    for cells in ws.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    book.save(path)
    return path


def pupil(name: str, la: str = "Kent", dob: date = date(2014, 3, 1), last: date = date(2025, 1, 10)) -> list[object]:
    return [name, dob, "", "", last, la]


def no_traceback(proc) -> None:  # type: ignore[no-untyped-def]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 2), proc.stderr


def test_report_on_a_register_with_a_header_and_no_pupils_says_so(tmp_path: Path) -> None:
    register = workbook(tmp_path / "register.xlsx", [])
    out = tmp_path / "report.xlsx"
    proc = run_main("report", str(register), "--today", TODAY, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    summary = openpyxl.load_workbook(out)["Summary"]
    texts = [c.value for c in summary["A"] if c.value is not None]
    assert NO_PUPILS in texts
    counts = {row[0].value: row[1].value for row in summary.iter_rows() if row[0].value and row[1].value is not None}
    assert counts["Pupils on the register"] == 0
    pupils = openpyxl.load_workbook(out)["Pupils"]
    assert [c.value for c in pupils[1]][:3] == ["Row", "Pupil", "Status"]  # the table's header, with no rows under it
    assert pupils.max_row == 1


def test_overview_writes_register_text_as_text_and_groups_las_as_one(tmp_path: Path) -> None:
    register = workbook(
        tmp_path / "register.xlsx",
        [
            pupil("=1+1 Ito", la="Kent"),
            pupil("Bea Khan", la="kent ", dob=date(2013, 5, 2)),
            pupil("Cal Ode", la=" KENT", dob=date(2012, 6, 3)),
            pupil("Dee Park", la='=HYPERLINK("http://x.example","Surrey")', dob=date(2012, 7, 4)),
        ],
    )
    out = tmp_path / "report.xlsx"
    proc = run_main("report", str(register), "--today", TODAY, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    book = openpyxl.load_workbook(out)
    formulas = [(ws.title, c.coordinate) for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    pupils = book["Pupils"]
    names = [c.value for c in pupils["B"]][1:]
    las = [c.value for c in pupils["D"]][1:]
    assert "=1+1 I." in names
    assert '=HYPERLINK("http://x.example","Surrey")' in las
    summary = [c.value for c in book["Summary"]["A"] if isinstance(c.value, str) and c.value.startswith("Home LA")]
    counts = {row[0].value: row[1].value for row in book["Summary"].iter_rows() if row[0].value in summary}
    # "Kent", "kent " and " KENT" are one LA, shown as the first spelling (each spelling is used once).
    assert counts == {"Home LA: Kent": 3, 'Home LA: =HYPERLINK("http://x.example","Surrey")': 1}


def test_records_bound_a_long_name_and_one_failure_never_stops_the_others(tmp_path: Path) -> None:
    long_first = "A" * 300 + "é" * 300
    register = workbook(
        tmp_path / "register.xlsx",
        [pupil(f"{long_first} Smith"), pupil("Bea Khan", dob=date(2013, 5, 2))],
    )
    out = tmp_path / "records"
    proc = run_main("records", str(register), "--today", TODAY, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    files = sorted(out.glob("*.docx"))
    assert len(files) == 2
    assert all(len(f.name.encode()) <= 100 for f in files), [f.name for f in files]
    assert any(docx.Document(str(f)).paragraphs for f in files)

    # One record that cannot be written (its path is taken by a folder): the other is written, the run says which.
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "review-record-row002-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-S.docx").mkdir()
    proc = run_main("records", str(register), "--today", TODAY, "--out", str(blocked))
    no_traceback(proc)
    assert proc.returncode == 2
    assert "wrote 1 of 2 review records" in proc.stderr
    assert "row 2" in proc.stderr
    assert (blocked / "review-record-row003-Bea-K.docx").is_file()


@pytest.fixture
def sheet_with_control_characters() -> FakeSheetsServer:
    """A Google Sheet can hold what an .xlsx cannot: a BEL in a name, a vertical tab in an LA, a lone surrogate."""
    with FakeSheetsServer() as server:
        rows: list[list[object]] = [
            HEADER,
            ["Ann\x07 Smith", serial(date(2014, 3, 1)), "", "Y6", serial(date(2025, 1, 10)), "Ke\x0bnt"],
            ["Bea\x1b[31m Khan\x00", serial(date(2013, 5, 2)), "", "", serial(date(2025, 2, 10)), "=1+1"],
        ]
        server.load(SHEET_KEY, {"Register": rows})
        yield server


def test_control_characters_never_crash_report_records_or_calendar(
    sheet_with_control_characters: FakeSheetsServer, tmp_path: Path
) -> None:
    env = {"SHEETS_EMULATOR_HOST": sheet_with_control_characters.host}
    report = run_main("report", SHEET_KEY, "--today", TODAY, "--out", str(tmp_path / "report.xlsx"), env=env)
    assert report.returncode == 0, report.stderr
    names = [c.value for c in openpyxl.load_workbook(tmp_path / "report.xlsx")["Pupils"]["B"]][1:]
    assert names == ["Ann S.", "Bea[31m K."]

    records = run_main("records", SHEET_KEY, "--today", TODAY, "--out", str(tmp_path / "records"), env=env)
    assert records.returncode == 0, records.stderr
    texts = [
        "\n".join(p.text for p in docx.Document(str(f)).paragraphs) for f in sorted((tmp_path / "records").glob("*"))
    ]
    assert len(texts) == 2
    assert "Annual review record: Ann Smith" in texts[0]

    calendar = run_main("calendar", SHEET_KEY, "--today", TODAY, "--out", str(tmp_path / "r.ics"), env=env)
    assert calendar.returncode == 0, calendar.stderr
    raw = (tmp_path / "r.ics").read_bytes()
    assert not any(b < 0x20 and b not in (0x0D, 0x0A, 0x09) for b in raw)
    summaries = [str(e["summary"]) for e in Calendar.from_ical(raw).walk("VEVENT")]
    assert any("Ann S." in s for s in summaries)


def test_a_line_break_in_the_school_name_stops_calendar_with_one_sentence(tmp_path: Path) -> None:
    """issue 10 item 12: the calendar ended in an AssertionError traceback; settings are now checked on load."""
    register = workbook(tmp_path / "register.xlsx", [pupil("Ann Smith")])
    (tmp_path / "keeper.toml").write_text('school_name = "Oak\\nBcc: all@example.org"\n', encoding="utf-8")
    out = tmp_path / "reviews.ics"
    proc = run_main("calendar", str(register), "--today", TODAY, "--out", str(out))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "school_name has a line break" in proc.stderr
    assert not out.exists()
