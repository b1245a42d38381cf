"""Row validation (register.md section 4): each message names the row, the column as written, and what to do."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from review_rules.model import Decision, ReviewFacts
from sheet_schema.header import find_header
from sheet_schema.model import HeaderMatch, PupilRecord
from sheet_schema.validate import row_key, validate_rows

TODAY = date(2025, 10, 1)
HEADERS = [
    "Pupil name",
    "D.O.B.",
    "EHCP issued",
    "Last AR",
    "UPN",
    "Yr group",
    "Next AR",
    "LA decision date",
    "Outcome",
    "Home LA",
    "Status",
    "CLA",
    "Parent email",
    "Notes",
]
COL = {h: i for i, h in enumerate(HEADERS)}


def make_row(**cells: object) -> list[object]:
    row: list[object] = [None] * len(HEADERS)
    for key, value in cells.items():
        row[COL[key.replace("_", " ")] if key.replace("_", " ") in COL else COL[KEYS[key]]] = value
    return row


KEYS = {
    "name": "Pupil name",
    "dob": "D.O.B.",
    "issued": "EHCP issued",
    "last": "Last AR",
    "upn": "UPN",
    "year": "Yr group",
    "next": "Next AR",
    "decided": "LA decision date",
    "outcome": "Outcome",
    "la": "Home LA",
    "status": "Status",
    "cla": "CLA",
    "email": "Parent email",
    "notes": "Notes",
}


def good(**over: object) -> list[object]:
    cells: dict[str, object] = {
        "name": "Jo Smith",
        "dob": "01/09/2011",  # Year 9 on 2025-10-01
        "issued": "15/03/2019",
        "last": date(2024, 11, 12),
        "upn": "B801200005001",
        "year": "Y9",
    }
    cells.update(over)
    return make_row(**cells)


def sheet(*rows: list[object]) -> tuple[list[list[object]], HeaderMatch]:
    grid: list[list[object]] = [["Oakfield register"], [], list(HEADERS), *rows]
    header = find_header(grid, sheet="Register")
    assert header is not None
    assert header.header_row == 3
    return grid, header


def one(row: list[object], **kwargs: object) -> PupilRecord:
    grid, header = sheet(row)
    records = validate_rows(grid, header, today=TODAY, **kwargs)  # type: ignore[arg-type]
    assert len(records) == 1
    return records[0]


def test_valid_row_builds_facts() -> None:
    record = one(
        good(
            next="12/11/2025",
            decided=45658,
            outcome="Amended",
            la=" Kent ",
            status="On roll",
            cla="Y",
            email="parent@example.org",
            notes="anything",
        )
    )
    assert record.valid
    assert record.row == 4
    assert record.errors == ()
    # LA decision (1 Jan 2025) after the last meeting (12 Nov 2024): no warning
    assert record.warnings == ()
    assert record.name == "Jo Smith"
    assert record.short_name == "Jo S."
    assert record.upn == "B801200005001"
    assert record.la == "Kent"
    assert record.parent_email == "parent@example.org"
    assert record.looked_after is True
    assert record.facts == ReviewFacts(
        dob=date(2011, 9, 1),
        plan_issued=date(2019, 3, 15),
        last_review=date(2024, 11, 12),
        la_decision=date(2025, 1, 1),
        decision=Decision.AMEND,
        planned_meeting=date(2025, 11, 12),
        recorded_year=9,
        inactive=False,
        # This register has no Report sent or Final amended plan column: those steps are never called late.
        no_column_for=frozenset({"report_due", "final_plan_due"}),
    )


def test_inactive_from_status() -> None:
    record = one(good(status="Left"))
    assert record.valid
    assert record.facts is not None
    assert record.facts.inactive is True


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            {"last": "next week"},
            'row 4: "Last AR" is "next week", which is not a date. '
            "Type the date of the last annual review meeting, e.g. 03/04/2025.",
        ),
        (
            {"dob": None},
            'row 4: "D.O.B." is blank. Type the pupil\'s date of birth, e.g. 14/09/2012.',
        ),
        (
            {"dob": "31/02/2012"},
            'row 4: "D.O.B." is "31/02/2012", which is not a real date. '
            "Type the pupil's date of birth, e.g. 14/09/2012.",
        ),
        (
            {"dob": "01/01/2026"},
            'row 4: "D.O.B." is in the future. Check the pupil\'s date of birth and correct it.',
        ),
        (
            {"dob": "30/09/1999"},
            'row 4: "D.O.B." makes the pupil older than 25, past the age an EHC plan can last. '
            "Check the date of birth, or mark the pupil as no longer on roll.",
        ),
        (
            {"issued": "01/01/2010"},
            'row 4: "EHCP issued" is before the date of birth in "D.O.B.". Check both dates.',
        ),
        (
            {"last": "01/01/2011"},
            'row 4: "Last AR" is before the date of birth in "D.O.B.". Check both dates.',
        ),
        (
            {"last": "14/11/2025"},
            'row 4: "Last AR" (14/11/2025) is in the future, so it looks like the planned date: put it in "Next AR", '
            'and type in "Last AR" the date of the last meeting already held.',
        ),
        (
            {"issued": None, "last": None},
            'row 4: "EHCP issued" and "Last AR" are both blank. '
            "Type the date the plan was issued or the date of the last annual review meeting.",
        ),
        (
            {"outcome": "Maybe"},
            'row 4: "Outcome" is "Maybe", which is not an LA decision. '
            "Type Maintain, Amend or Cease, or leave it blank until the LA decides.",
        ),
        (
            {"next": -3.5},
            'row 4: "Next AR" is -3.5, which is not a date. '
            "Type the date of the next review meeting, e.g. 03/04/2025, or leave it blank.",
        ),
        (
            {"decided": "#REF!"},
            'row 4: "LA decision date" shows the spreadsheet error #REF!, not a date. '
            "Type the date of the LA's decision letter, e.g. 03/04/2025, or leave it blank.",
        ),
        (
            {"name": None},
            'row 4: "Pupil name" is blank, but the row has other details. '
            "Type the pupil's name, or clear the row if it is not a pupil.",
        ),
    ],
)
def test_errors(cells: dict[str, object], message: str) -> None:
    record = one(good(**cells))
    assert record.errors == (message,)
    assert record.facts is None
    assert not record.valid


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            {"upn": "A801200005001"},
            'row 4: "UPN" has a check letter that does not match the rest of the number. '
            "Check it against the pupil's record in your MIS.",
        ),
        (
            {"upn": "I801200005001"},
            'row 4: "UPN" is not in the DfE UPN format (a check letter, 11 digits, then a digit or letter; '
            "I, O and S are never used). Check it against the pupil's record in your MIS.",
        ),
        (
            {"upn": "12345"},
            'row 4: "UPN" is not a UPN (a UPN is 13 characters: a check letter then 12 digits). '
            "Check it against the pupil's record in your MIS.",
        ),
        (
            {"year": "Year 8"},
            'row 4: "Yr group" says Year 8, but the date of birth puts the pupil in Year 9 this school year. '
            'If the pupil is taught out of year group, leave it; otherwise correct "Yr group".',
        ),
        (
            {"year": "Y15"},
            'row 4: "Yr group" is "Y15", which is not a year group. Type a year such as 9, R for Reception or N for '
            "Nursery; until then the year is worked out from the date of birth.",
        ),
        (
            {"decided": "01/10/2024"},
            'row 4: "LA decision date" (01/10/2024) is earlier than "Last AR" (12/11/2024), so it belongs to the '
            "previous review and does not count for this one. Record this review's date when it comes, or check "
            "both dates.",
        ),
    ],
)
def test_warnings(cells: dict[str, object], message: str) -> None:
    record = one(good(**cells))
    assert record.errors == ()
    assert record.warnings == (message,)
    assert record.valid


def test_recorded_year_kept_and_warning_can_be_switched_off() -> None:
    record = one(good(year="Year 8"), recorded_year_warnings=False)
    assert record.warnings == ()
    assert record.facts is not None
    assert record.facts.recorded_year == 8


def test_duplicate_upn_on_both_rows() -> None:
    grid, header = sheet(good(), good(name="Sam Jones", upn="b801 2000 05001"), good(name="Al Ray", upn=None))
    records = validate_rows(grid, header, today=TODAY)
    assert [r.row for r in records] == [4, 5, 6]
    assert records[0].errors == (
        'row 4: "UPN" is the same as on row 5. Each pupil has their own UPN: check these rows against your MIS.',
    )
    assert records[1].errors == (
        'row 5: "UPN" is the same as on row 4. Each pupil has their own UPN: check these rows against your MIS.',
    )
    assert records[2].valid


def test_three_rows_with_one_upn() -> None:
    grid, header = sheet(good(), good(), good())
    records = validate_rows(grid, header, today=TODAY)
    assert records[1].errors == (
        'row 5: "UPN" is the same as on rows 4 and 6. Each pupil has their own UPN: check these rows against your MIS.',
    )


def test_blank_rows_and_rows_with_only_unknown_columns_are_skipped() -> None:
    grid, header = sheet(
        [],
        [None] * len(HEADERS),
        make_row(name="   ", notes="left over note"),
        good(),
        ["  ", "\t"],
    )
    records = validate_rows(grid, header, today=TODAY)
    assert [r.row for r in records] == [7]


def test_one_bad_row_never_stops_the_run() -> None:
    grid, header = sheet(good(dob="soon"), good(name="Sam Jones", upn=None), good(name=None, upn=None))
    records = validate_rows(grid, header, today=TODAY)
    assert [(r.row, r.valid) for r in records] == [(4, False), (5, True), (6, False)]


def test_every_message_names_row_and_column() -> None:
    odd = good(dob="x", issued="y", last="z", upn="Q", year="?!", next="a", decided="b", outcome="c", la=1, status=2)
    record = one(odd)
    assert record.errors
    for message in (*record.errors, *record.warnings):
        assert message.startswith('row 4: "'), message
        assert any(f'"{h}"' in message for h in HEADERS), message
        assert message.endswith("."), message


@pytest.mark.parametrize(
    ("name", "first", "initial"),
    [
        ("Jo Smith", "Jo", "S."),
        ("Smith, Jo Anne", "Jo", "S."),
        ("  Mary-Jane   O'Neil  ", "Mary-Jane", "O."),
        ("Cher", "Cher", ""),
        ("Ann van Dyke", "Ann", "D."),
    ],
)
def test_first_name_and_initial(name: str, first: str, initial: str) -> None:
    record = one(good(name=name))
    assert (record.first_name, record.surname_initial) == (first, initial)


def test_forename_and_surname_columns() -> None:
    grid: list[list[object]] = [
        ["Forename", "Surname", "DOB", "Last review"],
        ["Jo Anne", "Smith", "01/09/2011", "12/11/2024"],
    ]
    header = find_header(grid, sheet="S")
    assert header is not None
    (record,) = validate_rows(grid, header, today=TODAY)
    assert record.valid
    assert (record.name, record.first_name, record.surname_initial) == ("Jo Anne Smith", "Jo", "S.")
    grid.append([None, None, "01/09/2011", "12/11/2024"])
    records = validate_rows(grid, header, today=TODAY)
    assert records[1].errors == (
        'row 3: "Forename" and "Surname" are blank, but the row has other details. '
        "Type the pupil's name, or clear the row if it is not a pupil.",
    )


def test_last_review_in_future_without_planned_column() -> None:
    grid: list[list[object]] = [["Name", "DOB", "Last review"], ["Jo", datetime(2011, 9, 1), "01/12/2025"]]
    header = find_header(grid, sheet="S")
    assert header is not None
    (record,) = validate_rows(grid, header, today=TODAY)
    assert "put it in a Next review meeting column" in record.errors[0]


def test_short_rows_are_read_as_blank_beyond_their_end() -> None:
    grid, header = sheet(["Jo Smith", "01/09/2011", "15/03/2019"])
    (record,) = validate_rows(grid, header, today=TODAY)
    assert record.valid
    assert record.facts is not None
    assert record.facts.plan_issued == date(2019, 3, 15)


def test_row_key() -> None:
    _, header = sheet()
    assert row_key(good(), header) == ("upn", "B801200005001")
    assert row_key(good(upn="a801 200005001"), header) == ("upn", "A801200005001")  # bad check letter still keys
    assert row_key(good(upn=None, name="  Jo   SMITH "), header) == ("name", "jo smith", "2011-09-01")
    assert row_key(good(upn="n/a", dob="soon"), header) == ("name", "jo smith", "soon")
    assert row_key(make_row(dob="01/09/2011", year=9.0), header) == (
        "content",
        # in field-name order (so a moved column keeps the key): ..., dob, ..., year last
        ("", "01/09/2011", "", "", "", "", "", "", "", "", "", "", "9"),
    )
    assert row_key([], header) is None
    assert row_key(make_row(notes="just a note"), header) is None


def test_every_date_field_is_read_and_advised() -> None:
    from sheet_schema.model import DATE_FIELDS
    from sheet_schema.validate import DATE_ADVICE

    assert set(DATE_ADVICE) == DATE_FIELDS


@pytest.mark.parametrize(
    ("key", "value", "column", "shown"),
    [
        ("issued", "31/12/9999", "EHCP issued", "31/12/9999"),
        ("next", "31/12/9999", "Next AR", "31/12/9999"),
        ("decided", "31/12/9999", "LA decision date", "31/12/9999"),
        ("issued", "01/01/1900", "EHCP issued", "01/01/1900"),
        ("next", date(2101, 1, 1), "Next AR", "01/01/2101"),
    ],
)
def test_out_of_range_dates_name_the_column(key: str, value: object, column: str, shown: str) -> None:
    record = one(good(**{key: value}))
    assert not record.valid
    (error,) = record.errors
    assert error.startswith(f'row 4: "{column}" is {shown}, which cannot be right')
    assert "check the year" in error


def test_out_of_range_transfer_date_names_the_column() -> None:
    grid: list[list[object]] = [["Name", "DOB", "EHCP issued", "Transfer date"]]
    grid.append(["Jo Smith", date(2011, 9, 1), date(2020, 1, 1), "01/01/0001"])
    header = find_header(grid, sheet="Register")
    assert header is not None
    (record,) = validate_rows(grid, header, today=TODAY)
    (error,) = record.errors
    assert error.startswith('row 2: "Transfer date" is 01/01/0001, which cannot be right')


def test_dates_at_the_ends_of_the_range_are_accepted() -> None:
    assert one(good(decided=date(1990, 1, 1), next=date(2100, 12, 31))).valid  # a warning, not an error
