"""`main.py sweep` never writes what is the SENDCo's (issue 10 items 4 and 5), run as a SENDCo runs it.

- Columns whose headers only look like the product's ("A.R. checked", "AR-Status", "ar status ") are theirs: before the
  fix the sweep took them as its own and overwrote their values; now it appends its own columns and names each
  look-alike in one sentence.
- A formula in a Contributions cell the product fills (Requested `=IFERROR(VLOOKUP(...),"")`, showing blank) is
  theirs: before the fix it was replaced by a date; now it stays, that row gets no email, and the pupil's AR issues
  say why.
"""

from __future__ import annotations

from datetime import date
from email import message_from_bytes
from pathlib import Path

import openpyxl

from sheet_schema.ar_columns import AR_HEADERS, AR_ISSUES
from tests.e2e.conftest import run_main

TODAY = "2025-12-01"  # both reviews are due soon: advice is requested from every contributor today
LOOKALIKES = ["A.R. checked", "AR-Status", "ar status "]
LOOKUP = '=IFERROR(VLOOKUP(A3,Sent!A:B,2,FALSE),"")'


def register(path: Path) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Register"
    ws.append(["Name", "DOB", "Last review", "LA", *LOOKALIKES])
    ws.append(["Ann Smith", date(2014, 3, 1), date(2025, 1, 10), "Kent", "yes", "fine", "mine"])
    ws.append(["Bob Jones", date(2013, 3, 1), date(2025, 1, 20), "Kent", "no", "ok", "theirs"])
    tab = book.create_sheet("Contributions")
    tab.append(["Pupil", "Role", "Name", "Email", "Requested", "Received", "Chasers", "Last chased", "Notes"])
    tab.append(["Ann Smith", "EP", "Dr X", "x@example.org"])
    tab.append(["Bob Jones", "EP", "Dr Y", "y@example.org", LOOKUP])
    book.save(path)
    return path


def test_lookalike_columns_and_formulas_stay_the_sendcos(tmp_path: Path) -> None:
    path = register(tmp_path / "register.xlsx")
    proc = run_main("sweep", str(path), "--today", TODAY, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr

    book = openpyxl.load_workbook(path)
    ws = book["Register"]
    header = [c.value for c in ws[1]]
    assert header[4:7] == LOOKALIKES
    assert header[7:] == list(AR_HEADERS)  # the product's own columns, appended after the SENDCo's
    assert [[c.value for c in row[4:7]] for row in ws.iter_rows(min_row=2, max_row=3)] == [
        ["yes", "fine", "mine"],
        ["no", "ok", "theirs"],
    ]
    for text in ("A.R. checked", "AR-Status", "ar status"):
        assert f'the column "{text}" looks like' in proc.stdout

    tab = book["Contributions"]
    assert tab["E2"].value is not None
    assert tab["E2"].data_type == "d"
    assert (tab["E3"].value, tab["E3"].data_type) == (LOOKUP, "f")
    issues = ws.cell(3, header.index(AR_ISSUES) + 1).value
    assert 'Contributions row 3: "Requested" holds a formula' in issues

    sent_to = [message_from_bytes(f.read_bytes())["To"] for f in (tmp_path / "outbox").glob("*.eml")]
    assert sent_to == ["x@example.org"]  # nobody was emailed on the row whose request could not be recorded
