"""A realistic demo register with made-up pupils, laid out the way SENDCos lay theirs out: a title banner, a
confidentiality line, their own colour coding, a dropdown, frozen panes, a notes column the product does not know,
and a key sheet. Dates are set relative to `today` so every status shows whatever day the demo is run.

    python -m scripts.make_demo demo/register.xlsx --today 2025-10-01
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from review_rules.school_days import calendar_for
from sheet_schema.cells import upn_check_letter

HEADERS = [
    "Pupil name",
    "UPN",
    "D.O.B.",
    "Year",
    "EHCP issued",
    "Last annual review",
    "LA decision date",
    "Outcome",
    "Next review meeting",
    "Report sent",
    "Home LA",
    "Status",
    "Parent/carer email",
    "Notes",
]

# The SENDCo's own colour coding: kept exactly as it is by every sweep.
THEIR_RED = PatternFill("solid", fgColor="FF9999")
THEIR_AMBER = PatternFill("solid", fgColor="FFCC66")
THEIR_GREEN = PatternFill("solid", fgColor="99CC99")


def _ay_start(d: date) -> int:
    return d.year if d.month >= 9 else d.year - 1


def dob_for_year(year: int, today: date, month: int, day: int) -> date:
    """A birthday that puts the pupil in NC `year` in the academic year containing `today`."""
    ay = _ay_start(today)
    born_ay = ay - year - 5  # the academic year the pupil was born in starts in this calendar year
    return date(born_ay, month, day) if month >= 9 else date(born_ay + 1, month, day)


def upn(serial: int) -> str:
    body = f"80120{serial:07d}"
    return upn_check_letter("A" + body) + body  # the check letter ignores the first character


def meeting_day(d: date) -> date:
    """A booked meeting falls on a school day, as a real one would: the school day on or before `d` (earlier, so a
    meeting booked in time stays in time). A demo run on a Sunday would otherwise book one for a Saturday, and the
    product rightly warns of a meeting on a non-school day (docs/register.md s4)."""
    return calendar_for(None).school_day_on_or_before(d)


def _rows(today: date) -> list[list[object]]:
    t = today

    def ago(days: int) -> date:
        return t - timedelta(days=days)

    def ahead(days: int) -> date:
        return t + timedelta(days=days)

    la = ["Northshire", "Northshire", "Westborough", "Northshire", "Eastfield"]
    rows: list[list[object]] = []

    def add(name, serial, dob, year, issued, last, decision_date=None, outcome=None, planned=None, report=None,
            status="On roll", notes="", upn_text=None):  # fmt: skip
        rows.append(
            [
                name,
                upn_text if upn_text is not None else (upn(serial) if serial else None),
                dob,
                year,
                issued,
                last,
                decision_date,
                outcome,
                planned,
                report,
                la[len(rows) % len(la)],
                status,
                f"parent{len(rows) + 1}@example.org",
                notes or None,
            ]
        )

    # Overdue: last review more than 12 months ago.
    add("Amelia Rowe", 1, dob_for_year(4, t, 3, 14), "Y4", ago(900), ago(400), ago(380), "Maintain", report=ago(390))
    add("Oliver Grant", 2, dob_for_year(2, t, 11, 2), 2, ago(380), None, notes="First review not yet booked")
    # Due soon.
    add(
        "Isla Mahmood",
        3,
        dob_for_year(3, t, 6, 30),
        "Year 3",
        ago(1100),
        ago(320),
        ago(300),
        "Maintain",
        report=ago(310),
    )
    add("Noah Bennett", 4, dob_for_year(10, t, 1, 9), "Y10", ago(1500), ago(318), ago(300), "Amend", report=ago(306))
    # Prepare: time to request advice.
    add("Freya Collins", 5, dob_for_year(1, t, 9, 21), "Y1", ago(640), ago(300), ago(290), "Maintain", report=ago(295))
    add("Leo Fitzgerald", 6, dob_for_year(9, t, 4, 4), "Y9", ago(1400), ago(270), ago(250), "Maintain", report=ago(262),
        notes="PfA: wants to be a mechanic")  # fmt: skip
    # On track.
    add("Poppy Nwosu", 7, dob_for_year(5, t, 12, 12), "Y5", ago(700), ago(120), ago(95), "Maintain", report=ago(108))
    add("Harry Szymanski", 8, dob_for_year(7, t, 5, 17), "Y7", ago(800), ago(60), ago(35), "Maintain", report=ago(50))
    add("Ava Lindqvist", 9, dob_for_year(0, t, 2, 1), "R", ago(150), None, notes="Under five at issue")
    add("George Adeyemi", 10, dob_for_year(8, t, 7, 7), "Y8", ago(900), ago(200), ago(176), "Maintain", report=ago(189))
    add("Mia O'Connell", 11, dob_for_year(3, t, 10, 3), "Y3", ago(500), ago(150), ago(128), "Maintain", report=ago(140))
    # Year 9 and later: preparing for adulthood.
    add(
        "Zara Whitfield",
        12,
        dob_for_year(9, t, 10, 30),
        "Y9",
        ago(1200),
        ago(200),
        ago(180),
        "Maintain",
        report=ago(190),
    )
    add(
        "Ethan Kowalczyk", 13, dob_for_year(10, t, 3, 3), "Y10", ago(2000), ago(90), ago(70), "Maintain", report=ago(80)
    )
    # Phase transfers: Year 6 (to secondary) and Year 11 (to post-16).
    add("Sofia Haddad", 14, dob_for_year(6, t, 1, 25), "Y6", ago(1000), ago(240), ago(220), "Maintain", report=ago(230))
    add("Jacob Ellison", 15, dob_for_year(5, t, 6, 6), "Y5", ago(700), ago(60), ago(40), "Maintain", report=ago(50))
    add(
        "Ruby Achterberg",
        16,
        dob_for_year(11, t, 8, 19),
        "Y11",
        ago(1800),
        ago(250),
        ago(230),
        "Maintain",
        report=ago(240),
    )
    # After the meeting: the LA clock.
    add("Alfie Brennan", 17, dob_for_year(4, t, 2, 14), "Y4", ago(600), ago(40), None, None, report=None)
    add("Lily Marchetti", 18, dob_for_year(7, t, 9, 9), "Y7", ago(700), ago(20), None, None, report=ago(10))
    add("Theo Abubakar", 19, dob_for_year(8, t, 4, 28), "Y8", ago(600), ago(100), ago(80), "Amend", report=ago(90))
    # A meeting already booked, one of them too late.
    add("Evie Lawson", 20, dob_for_year(2, t, 5, 5), "Y2", ago(500), ago(330), ago(310), "Maintain",
        planned=meeting_day(ahead(20)), report=ago(320))  # fmt: skip
    add("Arthur Quinn", 21, dob_for_year(6, t, 12, 1), "Y6", ago(800), ago(300), ago(280), "Maintain",
        planned=meeting_day(ahead(150)), report=ago(290))  # fmt: skip
    # Left the school: nothing to do.
    add("Harper Doyle", 22, dob_for_year(9, t, 3, 30), "Y9", ago(900), ago(200), ago(180), "Maintain", status="Left")
    # Rows with problems the SENDCo needs to fix.
    add("Jack Thornton", 23, "31/02/2015", "Y5", ago(400), ago(100))
    add("Grace Oyelaran", 24, dob_for_year(4, t, 7, 1), "Y4", None, None, notes="Dates still to find")
    add("Henry Ashworth", 25, dob_for_year(6, t, 2, 2), "Y6", ago(600), ahead(30), notes="Typed next meeting here")
    add("Chloe Varga", 26, dob_for_year(5, t, 8, 8), "Y5", ago(600), ago(200), ago(180), "Pending")
    add("Daniel Price", 0, dob_for_year(3, t, 1, 1), "Y3", ago(700), ago(200), ago(180), "Maintain", report=ago(190),
        upn_text="A801200000270")  # fmt: skip
    add("Maya Price", 27, dob_for_year(7, t, 9, 30), "Y6", ago(700), ago(100), ago(80), "Maintain", report=ago(90))
    add("Ivy Stone", 0, dob_for_year(1, t, 4, 12), "Y1", ago(300), None, upn_text=upn(25))
    add(None, 0, dob_for_year(2, t, 6, 1), "Y2", ago(200), None, notes="Name missing")
    return rows


def write_demo_register(path: Path, *, today: date) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "EHCP register"
    ws["A1"] = "Oakfield Academy: EHCP register"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    ws["A2"] = "CONFIDENTIAL: special category data. Do not email this file."
    ws["A2"].font = Font(italic=True, color="C00000")
    header_row = 4
    for col, text in enumerate(HEADERS, start=1):
        cell = ws.cell(row=header_row, column=col, value=text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="BDD7EE")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    date_cols = {3, 5, 6, 7, 9, 10}
    rows = _rows(today)
    for i, values in enumerate(rows):
        r = header_row + 1 + i
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col, value=value)
            if col in date_cols and isinstance(value, date):
                cell.number_format = "dd/mm/yyyy"
        # The SENDCo's own RAG colours on the name cell.
        last = values[5]
        if isinstance(last, date):
            age = (today - last).days
            ws.cell(row=r, column=1).fill = THEIR_RED if age > 330 else THEIR_AMBER if age > 270 else THEIR_GREEN
    last_row = header_row + len(rows)
    dv = DataValidation(type="list", formula1='"Maintain,Amend,Cease"', allow_blank=True)
    dv.add(f"H{header_row + 1}:H{last_row + 20}")
    ws.add_data_validation(dv)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    for letter, width in zip("ABCDEFGHIJKLMN", (20, 16, 12, 8, 12, 12, 12, 10, 12, 12, 13, 10, 24, 28), strict=True):
        ws.column_dimensions[letter].width = width

    key = wb.create_sheet("Key")
    key["A1"] = "Colour key (name column)"
    key["A1"].font = Font(bold=True)
    for r, (fill, meaning) in enumerate(
        ((THEIR_RED, "Review overdue or nearly"), (THEIR_AMBER, "Start preparing"), (THEIR_GREEN, "Fine")), start=2
    ):
        key.cell(row=r, column=1).fill = fill
        key.cell(row=r, column=2, value=meaning)
    key["A6"] = "Columns headed AR are written by Review Keeper; everything else is ours."

    write_contributions_sheet(wb.create_sheet("Contributions"), today)

    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


CONTRIBUTION_HEADERS = ["Pupil", "Role", "Name", "Email", "Requested", "Received", "Chasers", "Last chased", "Notes"]


def contribution_rows(today: date) -> list[list[object]]:
    """A handful of contributors (made-up example.org addresses): some not yet asked, one asked a while ago, one
    chased once already, one who has answered, and one row for a pupil whose meeting is booked (an invitation)."""
    t = today

    def ago(days: int) -> date:
        return t - timedelta(days=days)

    return [
        [upn(5), "Class teacher", "Jo Patel", "j.patel@oakfield.example.org", None, None, None, None, None],
        [upn(5), "EP", "Dr Sam Okafor", "ep.team@northshire.example.org", ago(10), None, None, None, "Via the LA EP team"],
        ["Leo Fitzgerald", "SALT", "Priya Shah", "salt.referrals@nhs.example.org", ago(16), None, 1, ago(8), None],
        ["Leo Fitzgerald", "Young person", "Leo Fitzgerald", "leo.f@students.example.org", None, None, None, None,
         "Leo asked to write his own views"],
        [upn(3), "Class teacher", "Tom Reid", "t.reid@oakfield.example.org", ago(20), ago(2), None, None, None],
        [upn(20), "Class teacher", "Ana Costa", "a.costa@oakfield.example.org", None, None, None, None, None],
        [upn(20), "OT", "Ben Hughes", "ot.service@nhs.example.org", ago(12), None, None, None, None],
    ]  # fmt: skip


def write_contributions_sheet(ws: Worksheet, today: date) -> None:
    """The Contributions tab (docs/register.md s6), as a SENDCo would start it; the product fills Requested,
    Chasers and Last chased as it emails, and adds Parent/carer rows from the register's parent emails."""
    for col, text in enumerate(CONTRIBUTION_HEADERS, start=1):
        cell = ws.cell(row=1, column=col, value=text)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="BDD7EE")
    for r, values in enumerate(contribution_rows(today), start=2):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col, value=value)
            if isinstance(value, date):
                cell.number_format = "dd/mm/yyyy"
    for letter, width in zip("ABCDEFGHI", (16, 14, 16, 32, 12, 12, 9, 12, 30), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default="demo/register.xlsx")
    parser.add_argument("--today", default=None, help="YYYY-MM-DD (default: today)")
    args = parser.parse_args()
    today = date.fromisoformat(args.today) if args.today else date.today()  # noqa: DTZ011
    print(write_demo_register(Path(args.out), today=today))


if __name__ == "__main__":
    main()
