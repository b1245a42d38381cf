"""Header aliases, settings and finding the table (register.md sections 1-2)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sheet_schema.fields import ALIASES, field_for_header, normalise_header
from sheet_schema.header import check_required, choose_register, find_header
from sheet_schema.model import Field


def test_normalise_ignores_case_punctuation_spaces_and_line_breaks() -> None:
    assert normalise_header("D.O.B.") == normalise_header("dob") == normalise_header(" DoB ")
    assert normalise_header("Date of\nbirth") == normalise_header("date  of birth") == normalise_header("DATE-OF-BIRTH")
    assert normalise_header(None) == ""


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("D.O.B.", Field.DOB),
        ("dob", Field.DOB),
        ("Date of birth", Field.DOB),
        ("Date of\nBirth", Field.DOB),
        ("DOB (dd/mm/yyyy)", Field.DOB),
        ("Pupil Name", Field.NAME),
        ("Child's name", Field.NAME),
        ("Child\u2019s name", Field.NAME),
        ("Student name", Field.NAME),
        ("First name", Field.FORENAME),
        ("Last name", Field.SURNAME),
        ("EHCP issue date", Field.PLAN_ISSUED),
        ("Date EHCP issued", Field.PLAN_ISSUED),
        ("Final EHCP date", Field.PLAN_ISSUED),
        ("Date of last annual review", Field.LAST_REVIEW),
        ("Last AR date", Field.LAST_REVIEW),
        ("Last AR", Field.LAST_REVIEW),
        ("Next AR", Field.PLANNED_MEETING),
        ("Annual review date (next)", Field.PLANNED_MEETING),
        ("Review booked", Field.PLANNED_MEETING),
        ("NCY", Field.YEAR),
        ("Yr group", Field.YEAR),
        ("UPN number", Field.UPN),
        ("Unique Pupil Number", Field.UPN),
        ("Home local authority", Field.LA),
        ("Parent/carer email address", Field.PARENT_EMAIL),
        ("LA decision", Field.DECISION),
        ("LA decision date", Field.LA_DECISION),
        ("Outcome", Field.DECISION),
        ("Paperwork sent to LA", Field.REPORT_SENT),
        ("AR report sent", Field.REPORT_SENT),  # register.md's own alias, though it starts "AR "
        ("Draft amended plan", Field.AMENDMENT_NOTICE),
        ("Amended plan issued", Field.FINAL_PLAN),
        ("Next phase date", Field.TRANSFER_DATE),
        ("Status", Field.ON_ROLL),
        ("CLA", Field.LOOKED_AFTER),
    ],
)
def test_aliases(header: str, field: Field) -> None:
    assert field_for_header(header) is field


@pytest.mark.parametrize(
    "header", ["AR status", "AR hold meeting by", "AR issues", "AR notes", "Notes", "", None, "Annual review date"]
)
def test_headers_that_mean_no_field(header: object) -> None:
    assert field_for_header(header) is None


def test_every_register_md_alias_is_known() -> None:
    register_md = {
        Field.NAME: ["Name", "Pupil", "Pupil name", "Student", "Child", "Full name"],
        Field.FORENAME: ["Forename", "First name"],
        Field.SURNAME: ["Surname", "Last name"],
        Field.DOB: ["DOB", "D.O.B.", "Date of birth", "Birth date"],
        Field.PLAN_ISSUED: ["EHCP issued", "EHCP date", "Date of EHCP", "Plan issued", "Final EHCP date", "EHCP start"],
        Field.LAST_REVIEW: [
            "Last review",
            "Last AR",
            "Last annual review",
            "Date of last review",
            "Previous review meeting",
        ],
        Field.UPN: ["UPN", "Unique pupil number"],
        Field.YEAR: ["Year", "Yr", "Year group", "NC year"],
        Field.PLANNED_MEETING: ["Next review meeting", "Planned review", "Review booked", "Next AR date"],
        Field.REPORT_SENT: ["Report sent", "Paperwork sent to LA", "AR report sent"],
        Field.LA_DECISION: ["LA decision date", "Decision date"],
        Field.DECISION: ["Decision", "Outcome", "LA outcome"],
        Field.AMENDMENT_NOTICE: ["Proposed amendments", "Draft amended plan", "Amendment notice"],
        Field.FINAL_PLAN: ["Final amended plan", "Amended plan issued"],
        Field.TRANSFER_DATE: ["Transfer date", "Next phase date"],
        Field.LA: ["LA", "Local authority", "Home LA", "Council"],
        Field.ON_ROLL: ["Status", "On roll"],
        Field.LOOKED_AFTER: ["LAC", "CLA", "Looked after"],
        Field.PARENT_EMAIL: ["Parent email", "Parent/carer email"],
    }
    for field, headers in register_md.items():
        for header in headers:
            assert field_for_header(header) is field, header


def test_no_alias_means_two_fields() -> None:
    seen: dict[str, Field] = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            assert seen.setdefault(normalise_header(alias), field) is field, alias


def test_settings_win_over_aliases() -> None:
    mapping = {"Review date": "last_review", "  D O B  ": "ignore", "Born": "Date of birth", "Kid": "NAME"}
    assert field_for_header("review date", mapping) is Field.LAST_REVIEW
    assert field_for_header("Review\nDate", mapping) is Field.LAST_REVIEW
    assert field_for_header("D.O.B.", mapping) is None
    assert field_for_header("born", mapping) is Field.DOB
    assert field_for_header("Kid", mapping) is Field.NAME
    assert field_for_header("Status", {"status": "looked after"}) is Field.LOOKED_AFTER
    # An unknown field name in the settings leaves the aliases in charge.
    assert field_for_header("DOB", {"DOB": "shoe size"}) is Field.DOB


TITLE = ["Oakfield Academy: EHCP annual review register", None, None, None, None, None]
BANNER = ["Pupil details", None, None, "Review", None, None]  # merged banner cells arrive as value then None


def test_header_below_title_rows_and_banners() -> None:
    rows: list[Sequence[object]] = [
        TITLE,
        [],
        BANNER,
        ["Pupil\nname", "D.O.B.", " Last AR ", "UPN", "Notes", "AR status", "DOB"],
        ["Jo Smith", "01/09/2011", "12/11/2024", "B801200005001", "", "", ""],
    ]
    match = find_header(rows, sheet="Register")
    assert match is not None
    assert match.sheet == "Register"
    assert match.header_row == 4
    assert match.columns == {Field.NAME: 0, Field.DOB: 1, Field.LAST_REVIEW: 2, Field.UPN: 3}
    assert match.header_text[Field.NAME] == "Pupil name"
    assert match.header_text[Field.LAST_REVIEW] == "Last AR"
    assert match.ar_columns == {"AR status": 5}
    # the second DOB column is kept as the SENDCo's, untouched
    assert match.ignored == {4: "Notes", 6: "DOB"}


def test_forename_and_surname_count_as_two_fields() -> None:
    rows = [["Forename", "Surname", "DOB"]]
    match = find_header(rows, sheet="S")
    assert match is not None
    assert match.columns == {Field.FORENAME: 0, Field.SURNAME: 1, Field.DOB: 2}
    assert check_required(match) == [
        'There is neither a plan date column nor a last review column in the header row (row 1) of sheet "S". '
        'Add "EHCP issued" or "Last review" (ideally both), or map your columns in the settings.'
    ]


def test_two_fields_are_not_a_header() -> None:
    assert find_header([["Name", "DOB", "Notes"]], sheet="S") is None


def test_header_beyond_scan_limit_is_not_found() -> None:
    rows = [[None]] * 15 + [["Name", "DOB", "Last review"]]
    assert find_header(rows, sheet="S") is None
    assert find_header(rows, sheet="S", max_scan=16) is not None


def test_settings_mapping_in_find_header() -> None:
    rows = [["Child", "Born", "Review date", "DOB"]]
    match = find_header(rows, sheet="S", mapping={"Born": "dob", "Review date": "last_review"})
    assert match is not None
    # the column the settings name wins over the alias, wherever it sits
    assert match.columns == {Field.NAME: 0, Field.DOB: 1, Field.LAST_REVIEW: 2}
    assert match.ignored == {3: "DOB"}


def test_product_headers_are_exact_and_never_fields() -> None:
    # issue 10 item 5: the product owns exactly its own headers (trimmed); "ar STATUS" only looks like "AR status".
    rows = [["Name", "DOB", "Last review", "ar STATUS", "AR issues", "AR status", "AR date"]]
    match = find_header(rows, sheet="S", mapping={"AR issues": "dob"})
    assert match is not None
    assert match.columns == {Field.NAME: 0, Field.DOB: 1, Field.LAST_REVIEW: 2}
    assert match.ar_columns == {"ar STATUS": 3, "AR issues": 4, "AR status": 5, "AR date": 6}
    assert match.ignored == {}


def test_choose_register() -> None:
    notes = ("Notes", [["Things to do"], ["Name", "Notes"]])
    contributions = ("Contributions", [["Pupil", "Name", "DOB", "Last review", "Email"]])
    register = ("Register 2025", [["Name", "DOB", "EHCP issued"]])
    other = ("Old", [["Name", "DOB", "Last review"]])
    chosen = choose_register([notes, contributions, register, other])
    assert chosen is not None
    assert chosen.sheet == "Register 2025"
    named = choose_register([notes, register, other], sheet_name="old")
    assert named is not None
    assert named.sheet == "Old"
    assert choose_register([notes, register], sheet_name="Notes") is None
    assert choose_register([notes, register], sheet_name="Missing") is None
    assert choose_register([notes]) is None


def test_check_required() -> None:
    complete = find_header([["Name", "DOB", "Last review"]], sheet="S")
    assert complete is not None
    assert check_required(complete) == []
    no_name = find_header([["UPN", "DOB", "Last review"]], sheet="Reg")
    assert no_name is not None
    assert check_required(no_name) == [
        'There is no column for the pupil\'s name in the header row (row 1) of sheet "Reg". '
        'Add a "Name" column (or "Forename" and "Surname"), or map your name column in the settings.'
    ]
    forename_only = find_header([["First name", "UPN", "Year", "Status"]], sheet="Reg")
    assert forename_only is not None
    problems = check_required(forename_only)
    assert len(problems) == 3
    assert problems[0].startswith('There is a "First name" column but no surname column')
    assert "no date of birth column" in problems[1]
    assert "neither a plan date column nor a last review column" in problems[2]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("AR booked", Field.PLANNED_MEETING),
        ("AR meeting booked", Field.PLANNED_MEETING),
        ("AR held", Field.LAST_REVIEW),
        ("Last AR held", Field.LAST_REVIEW),
        ("AR report sent", Field.REPORT_SENT),
    ],
)
def test_sendcos_own_ar_abbreviations_are_their_fields(header: str, field: Field) -> None:
    # SENDCos abbreviate annual review to "AR": only the product's own "AR ..." headers never mean a field.
    assert field_for_header(header) is field
    found = find_header([["Name", "DOB", "EHCP issued", header, "AR status"]], sheet="Register")
    assert found is not None
    assert found.columns[field] == 3
    assert found.ar_columns == {"AR status": 4}
