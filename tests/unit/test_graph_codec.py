"""The Graph adapter's pure parts: text that Excel's input rules would change gets an apostrophe, range answers are
placed from A1, and product cells become what a range PATCH takes."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from connectors.base import CellWrite
from connectors.graph_codec import as_typed, excel_input, rows_of, sheet_path


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),  # a formula
        ("+44 7700 900123", "'+44 7700 900123"),  # a sign: Excel would read a formula or a number
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("'quoted", "''quoted"),  # the apostrophe of its own is kept
        ("#N/A", "'#N/A"),  # an error literal
        ("12", "'12"),  # a number
        ("1/2/2025", "'1/2/2025"),  # a UK date
        ("3 Apr 2025", "'3 Apr 2025"),  # a date in words, day first
        ("Mar 2025", "'Mar 2025"),  # a month and year
        ("true", "'true"),  # a boolean
        ("£5", "'£5"),  # currency
        ("OVERDUE", "OVERDUE"),
        ("ON TRACK", "ON TRACK"),
        ("Send invitations by Fri 7 Nov 2025", "Send invitations by Fri 7 Nov 2025"),
        ("March of the penguins", "March of the penguins"),  # a month name, then no number
        ("EP, Class teacher (2 chasers)", "EP, Class teacher (2 chasers)"),
        ("Truer words", "Truer words"),
    ],
)
def test_text_excel_would_change_gets_an_apostrophe(text: str, sent: str) -> None:
    assert as_typed(text) == sent


def test_cells_become_values_and_number_formats() -> None:
    assert excel_input(CellWrite(date(2026, 1, 2), "dd/mm/yyyy"), owned=True) == (46024, "dd/mm/yyyy")
    assert excel_input(CellWrite(datetime(2025, 10, 1, 7, 0), "dd/mm/yyyy hh:mm"), owned=True) == (
        45931 + 7 / 24,
        "dd/mm/yyyy hh:mm",
    )
    assert excel_input(CellWrite("OVERDUE", fill="F4B6B6"), owned=True) == ("OVERDUE", "General")
    assert excel_input(CellWrite(None), owned=True) == ("", "General")  # a blank result clears the cell
    assert excel_input(CellWrite(3), owned=False) == (3, None)  # the SENDCo's column keeps its format
    assert excel_input(CellWrite("note"), owned=False) == ("note", None)


def test_range_answers_are_placed_from_a1_with_serial_dates() -> None:
    body = {"address": "'My tab'!B3:C4", "values": [["Name", 45000], ["", True]]}
    assert rows_of(body) == [[], [], [None, "Name", 45000], [None, None, True]]
    assert rows_of({"address": "Sheet1!A1:A1", "values": [[""]]}) == []
    assert sheet_path("Pupils' register (Y7)") == "/worksheets/Pupils%27%20register%20%28Y7%29"
