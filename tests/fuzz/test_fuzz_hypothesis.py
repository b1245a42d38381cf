"""The guard's Hypothesis run (issue 10): registers drawn cell by cell from hostile values, handed to the sweep (with
emails) and to every report in this process, with a fixed seed (derandomize) and a bounded budget so CI is repeatable.

Here cells need not survive an .xlsx: NaN, C0 control characters and lone surrogates (which a Google Sheet or another
adapter can hand over) reach the parsers directly. Whatever is drawn, nothing may raise: a bad cell is a sentence on
its row, never a crash; every document is written and opens again.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from tempfile import TemporaryDirectory

import docx
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from connectors.base import CellValue, RegisterData, SheetData, WritePlan, WriteResult
from connectors.placement import place
from functions.evaluate import evaluate
from functions.settings import Settings
from functions.sweep import run_sweep
from reports.calendar import write_calendar
from reports.overview import write_overview
from reports.record import write_review_records
from tests.fuzz.corpus import CONTRIBUTION_HEADER, HEADER, HOSTILE, valid_row

pytestmark = pytest.mark.slow  # about 15 s of CPU for 40 drawn registers

TODAY = date(2025, 10, 1)
EXTRA = ("\x07", "\x00bell", "\ud800", "\x1b[2J", math.nan, -math.inf, "\r\nBcc: x@example.org", "=cmd|'/c calc'!A1")

cells = st.one_of(
    st.sampled_from(HOSTILE + EXTRA),
    st.none(),
    st.text(max_size=40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
    st.dates(min_value=date(1, 1, 1)),
    st.datetimes(min_value=datetime(1, 1, 1)),
)


class MemoryRegister:
    """The register as cell grids in memory: `write` places every plan as the real adapters do, and keeps nothing."""

    def __init__(self, sheets: list[SheetData]) -> None:
        self.sheets = sheets

    def read(self) -> RegisterData:
        return RegisterData("memory", self.sheets)

    def write(self, plan: WritePlan, *more: WritePlan) -> WriteResult:
        results = []
        for each in (plan, *more):
            sheet = next((s for s in self.sheets if s.title == each.sheet), None)
            rows = sheet.rows if sheet is not None else [list(each.headers)]
            header_row = each.find_header_row(rows) or 1
            placed = place(each, rows, header_row, first_free=len(rows[header_row - 1]), formulas=frozenset())
            results.append(WriteResult(written_rows=placed.written_rows, missing_keys=placed.missing_keys))
        results[0].more = results[1:]
        return results[0]


class Inbox:
    sender = "Review Keeper <keeper@school.example.org>"

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        message.as_bytes()  # the message must serialise, headers and all
        self.messages.append(message)


@st.composite
def registers(draw: st.DrawFn) -> list[SheetData]:
    rows: list[list[CellValue]] = [list(HEADER)]
    for i in range(draw(st.integers(min_value=1, max_value=5))):
        row = valid_row(i, TODAY)
        for column in draw(st.lists(st.integers(min_value=0, max_value=len(HEADER) - 1), max_size=4)):
            row[column] = draw(cells)
        rows.append(row)
    tab: list[list[CellValue]] = [list(CONTRIBUTION_HEADER)]
    for i in range(draw(st.integers(min_value=0, max_value=4))):
        line: list[CellValue] = [f"Pupil{i} Test", "EP", "Dr X", f"ep{i}@example.org", None, None, None, None, None]
        for column in draw(st.lists(st.integers(min_value=0, max_value=len(line) - 1), max_size=3)):
            line[column] = draw(cells)
        tab.append(line)
    return [SheetData("Register", rows), SheetData("Contributions", tab)]


@settings(
    derandomize=True,  # the same examples on every run and machine: a CI failure reproduces locally
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(sheets=registers())
def test_no_drawn_register_crashes_the_sweep_or_a_report(sheets: list[SheetData]) -> None:
    school = Settings(school_name="Oak\u202e Academy", sendco_email="senco@school.example.org")
    inbox = Inbox()
    run_sweep(MemoryRegister(sheets), today=TODAY, settings=school, transport=inbox)
    pupils = evaluate(RegisterData("memory", sheets), today=TODAY, settings=school).pupils
    with TemporaryDirectory() as folder:
        out = Path(folder)
        openpyxl.load_workbook(
            write_overview(
                pupils, today=TODAY, school_name=school.school_name, settings=school.rules, out=out / "r.xlsx"
            )
        ).close()
        Calendar.from_ical(
            write_calendar(
                pupils, today=TODAY, school_name=school.school_name, out=out / "c.ics", settings=school.rules
            ).read_bytes()
        )
        for path in write_review_records(
            pupils[:2], today=TODAY, school_name=school.school_name, settings=school.rules, out_dir=out / "records"
        ):
            docx.Document(str(path))
