"""Cell parsing (register.md section 3): tables of literal values."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from review_rules.model import Decision
from sheet_schema.cells import (
    CellError,
    Placeholder,
    cell_text,
    is_email_address,
    is_placeholder,
    parse_date,
    parse_decision,
    parse_email,
    parse_flag,
    parse_on_roll,
    parse_upn,
    parse_year,
    show_value,
    upn_check_letter,
)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        # d/m/yyyy and d/m/yy: UK day first
        ("03/04/2025", date(2025, 4, 3)),
        ("3/4/2025", date(2025, 4, 3)),
        ("3/4/25", date(2025, 4, 3)),
        ("31/12/99", date(2099, 12, 31)),  # two-digit years are 20yy
        ("03-04-2025", date(2025, 4, 3)),
        ("03.04.2025", date(2025, 4, 3)),
        ("  03/04/2025  ", date(2025, 4, 3)),
        ("03/04/2025 00:00:00", date(2025, 4, 3)),
        # ISO is year-month-day, never day first: dateutil dayfirst would give 3 January
        ("2024-03-01", date(2024, 3, 1)),
        ("2024-03-01T10:30:00", date(2024, 3, 1)),
        ("2024-03-01 10:30", date(2024, 3, 1)),
        ("2024-03-01T10:30:00+01:00", date(2024, 3, 1)),
        ("2024/03/01", date(2024, 3, 1)),
        # words
        ("3 April 2025", date(2025, 4, 3)),
        ("3rd Apr 2025", date(2025, 4, 3)),
        ("3 Apr 25", date(2025, 4, 3)),
        ("1st September 2025", date(2025, 9, 1)),
        ("22nd Sept 2025", date(2025, 9, 22)),
        ("21st Jan 2026", date(2026, 1, 21)),
        ("3-Apr-2025", date(2025, 4, 3)),
        ("03-Apr-25", date(2025, 4, 3)),
        ("3 april 2025", date(2025, 4, 3)),
        ("3 of April 2025", date(2025, 4, 3)),
        ("Thu 3 Apr 2025", date(2025, 4, 3)),
        ("Thursday, 3 April 2025", date(2025, 4, 3)),
        ("29/02/2024", date(2024, 2, 29)),
        # real date cells
        (date(2025, 4, 3), date(2025, 4, 3)),
        (datetime(2025, 4, 3, 14, 5), date(2025, 4, 3)),
        # serial numbers, epoch 1899-12-30 (Excel and Google Sheets)
        (45658, date(2025, 1, 1)),
        (45658.0, date(2025, 1, 1)),
        (45658.75, date(2025, 1, 1)),
        (1, date(1899, 12, 31)),
        (61, date(1900, 3, 1)),
        (2958465, date(9999, 12, 31)),
        # nothing there
        (None, None),
        ("", None),
        ("   \n ", None),
    ],
)
def test_parse_date(cell: object, expected: date | None) -> None:
    assert parse_date(cell) == expected


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        ("next week", 'is "next week", which is not a date'),
        ("31/02/2025", 'is "31/02/2025", which is not a real date'),
        ("29/02/2025", "which is not a real date"),
        ("04/13/2025", "dates are read day first"),
        ("2025-13-01", "not a real date"),
        ("April 3 2025", "which is not a date"),  # month-first is not UK
        ("3 Foo 2025", "which is not a date"),
        ("Fri 3 Apr 2025", "is a Thursday"),
        ("3/4-2025", "which is not a date"),
        ("45658", "which is not a date"),  # a serial typed as text is not trusted
        ("#VALUE!", "spreadsheet error #VALUE!"),
        ("=B4+365", "formula"),
        (True, "is TRUE, which is not a date"),
        (False, "is FALSE, which is not a date"),
        (0, "is 0, which is not a date"),
        (-5.0, "is -5, which is not a date"),
        (2958466, "which is not a date"),
        (float("nan"), "which is not a date"),
        (float("inf"), "which is not a date"),
        (time(10, 30), "a time of day rather than a date"),
        ("x" * 500, "which is not a date"),
    ],
)
def test_parse_date_rejects(cell: object, fragment: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_date(cell)
    assert fragment in str(caught.value)


def test_iso_is_never_read_day_first() -> None:
    # The pitfall in register.md section 3: dateutil.parser.parse("2024-03-01", dayfirst=True) is 3 January.
    assert parse_date("2024-03-01") == date(2024, 3, 1)
    assert parse_date("01/03/2024") == date(2024, 3, 1)
    assert parse_date("03/01/2024") == date(2024, 1, 3)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (9, 9),
        (9.0, 9),
        ("9", 9),
        ("9.0", 9),
        ("Y9", 9),
        ("y 9", 9),
        ("Yr 9", 9),
        ("Year 9", 9),
        ("YEAR 9", 9),
        ("NC Year 9", 9),
        ("Year 12", 12),
        ("Year 13", 13),
        ("Y14", 14),
        ("R", 0),
        ("Rec", 0),
        ("Reception", 0),
        ("YR", 0),
        ("FS2", 0),
        (0, 0),
        ("Nursery", -1),
        ("N", -1),
        ("N2", -1),
        ("FS1", -1),
        ("N1", -2),
        ("-1", -1),
        (None, None),
        ("  ", None),
    ],
)
def test_parse_year(cell: object, expected: int | None) -> None:
    assert parse_year(cell) == expected


@pytest.mark.parametrize(
    "cell", ["Y15", 15, -3, 9.5, "Year nine", "KS3", True, "12/13", date(2025, 1, 1), float("nan"), "Y-1", "Year -2"]
)
def test_parse_year_rejects(cell: object) -> None:
    with pytest.raises(CellError, match="which is not a year group"):
        parse_year(cell)


def test_upn_check_letters() -> None:
    assert upn_check_letter("B801200005001") == "B"
    assert parse_upn("B801200005001") == ("B801200005001", None)
    upn, warning = parse_upn("A801200005001")
    assert upn == "A801200005001"
    assert warning == "has a check letter that does not match the rest of the number"


def test_upn_normalised() -> None:
    assert parse_upn(" b801 2000 05001 ") == ("B801200005001", None)
    assert parse_upn("B801-200005001") == ("B801200005001", None)


def test_upn_temporary_with_final_letter() -> None:
    # A final letter counts by its place in ABCDEFGHJKLMNPQRTUVWXYZ: "A" (0) in position 13 adds nothing.
    body = "80120000500A"
    letter = upn_check_letter("X" + body)
    assert letter == upn_check_letter("X801200005000")
    assert parse_upn(letter + body) == (letter + body, None)
    # "B" (1) in position 13 adds 13, moving the check letter 13 places along the alphabet.
    letters = "ABCDEFGHJKLMNPQRTUVWXYZ"
    with_b = upn_check_letter("X80120000500B")
    assert letters.index(with_b) == (letters.index(letter) + 13) % 23


@pytest.mark.parametrize(
    ("cell", "upn", "fragment"),
    [
        ("I801200005001", "I801200005001", "not in the DfE UPN format"),  # I is never used
        ("B80120000500O", "B80120000500O", "not in the DfE UPN format"),
        ("B8012000A5001", "B8012000A5001", "not in the DfE UPN format"),
        ("B80120000500", None, "is not a UPN"),  # 12 characters
        ("pending upn", None, "is not a UPN"),
        (801200005001, None, "is not a UPN"),
        (True, None, "is not a UPN"),
    ],
)
def test_upn_bad_format(cell: object, upn: str | None, fragment: str) -> None:
    got, warning = parse_upn(cell)
    assert got == upn
    assert warning is not None
    assert fragment in warning


@pytest.mark.parametrize("cell", [None, "", "  ", "n/a", "TBC", "unknown", "-"])
def test_upn_absent(cell: object) -> None:
    assert parse_upn(cell) == (None, None)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Maintain", Decision.MAINTAIN),
        ("maintain", Decision.MAINTAIN),
        ("MAINTAINED", Decision.MAINTAIN),
        ("Maintain plan", Decision.MAINTAIN),
        ("Continue to maintain", Decision.MAINTAIN),
        ("No change", Decision.MAINTAIN),
        ("Amend", Decision.AMEND),
        ("Amended", Decision.AMEND),
        ("To amend", Decision.AMEND),
        ("Maintain and amend", Decision.AMEND),
        ("Cease", Decision.CEASE),
        ("Ceased", Decision.CEASE),
        ("Cease to maintain", Decision.CEASE),
        (" cease. ", Decision.CEASE),
        (None, None),
        ("", None),
    ],
)
def test_parse_decision(cell: object, expected: Decision | None) -> None:
    assert parse_decision(cell) == expected


# register.md s4: anything but maintain / amend / cease is an error.
@pytest.mark.parametrize("cell", ["maybe", "Not ceased", "Refused", 1, True, date(2025, 1, 1), "to"])
def test_parse_decision_rejects(cell: object) -> None:
    with pytest.raises(CellError, match="which is not an LA decision") as caught:
        parse_decision(cell)
    assert not isinstance(caught.value, Placeholder)


@pytest.mark.parametrize(
    ("cell", "on_roll"),
    [
        (None, True),
        ("", True),
        ("On roll", True),
        ("Yes", True),
        ("Active", True),
        ("Transferred in", True),
        ("Left", False),
        ("left 12/03/2025", False),
        ("Ceased", False),
        ("Plan ceased", False),
        ("Transferred out", False),
        ("Moved", False),
        ("Moved out of area", False),
        ("Off roll", False),
        ("Off-roll", False),
        ("No longer on roll", False),
        ("No", False),
        (False, False),
        (True, True),
        (0, False),
        (1, True),
    ],
)
def test_parse_on_roll(cell: object, on_roll: bool) -> None:
    assert parse_on_roll(cell) is on_roll


@pytest.mark.parametrize(
    ("cell", "flag"),
    [
        ("Y", True),
        ("yes", True),
        ("TRUE", True),
        (True, True),
        (1, True),
        ("1", True),
        ("x", True),
        ("\u2713", True),
        ("LAC", True),
        (None, False),
        ("", False),
        ("N", False),
        ("No", False),
        (False, False),
        (0, False),
        ("maybe", False),
    ],
)
def test_parse_flag(cell: object, flag: bool) -> None:
    assert parse_flag(cell) is flag


def test_cell_text_shows_whole_numbers_without_point_zero() -> None:
    assert cell_text(9.0) == "9"
    assert cell_text(9.5) == "9.5"
    assert cell_text(date(2025, 4, 3)) == "03/04/2025"
    assert show_value("a\x00b") == '"a?b"'
    assert show_value("x" * 100).endswith('\u2026"')


@pytest.mark.parametrize("cell", ["\x00", " \u200b ", "\t\r\n", "\u00a0"])
def test_invisible_text_is_blank(cell: str) -> None:
    assert parse_date(cell) is None
    assert parse_year(cell) is None
    assert parse_decision(cell) is None
    assert parse_upn(cell) == (None, None)


# register.md s3 (2026-11-29): placeholders are no value yet, in any case, with spaces or one trailing full stop.
PLACEHOLDER_CELLS = ["TBC", "TBA", "tba", "to be confirmed", "To Be Confirmed.", "?", "-", "n/a", "N/A", "pending",
                     "Pending.", "awaiting", "AWAITING", "not yet", "  Not yet  ", "tbc.", " TBC. "]  # fmt: skip


@pytest.mark.parametrize("cell", PLACEHOLDER_CELLS)
def test_placeholders_are_no_value_yet_in_dates_and_decisions(cell: str) -> None:
    assert is_placeholder(cell)
    with pytest.raises(Placeholder, match="which is not a date"):
        parse_date(cell)
    with pytest.raises(Placeholder, match="which is not an LA decision"):
        parse_decision(cell)


@pytest.mark.parametrize("cell", ["next week", "TBC 2026", "t.b.c.x", "pending review", 0, None, "", "Maintain"])
def test_other_text_is_not_a_placeholder(cell: object) -> None:
    assert not is_placeholder(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("parent@example.org", "parent@example.org"),
        ("  j.smith+ar@school.sch.uk ", "j.smith+ar@school.sch.uk"),
        ("", None),
        (None, None),
    ],
)
def test_parse_email(cell: object, expected: str | None) -> None:
    assert parse_email(cell) == expected


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        ("jsmith@example", 'is "jsmith@example", which is not an email address'),
        ("N/A", 'is "N/A", which is not an email address'),
        ("jsmith example.org", "which is not an email address"),
        ("a@x.org; b@y.org", "which is not one email address"),
        ("Jo Smith <jo@example.org>", "which is not an email address"),
        ("jo@@example.org", "which is not one email address"),
        ("jo@example..org", "which is not an email address"),
        (12, "is 12, which is not an email address"),
    ],
)
def test_parse_email_names_what_is_wrong(cell: object, fragment: str) -> None:
    with pytest.raises(CellError) as caught:
        parse_email(cell)
    assert str(caught.value) == fragment or fragment in str(caught.value)
    assert not is_email_address(cell)
