"""is_pupil_row recognises the usual row from its name and one other field before going through every cell (issue
16); its answer must be exactly the full scan's (docs/register.md s1) for any row: checked here against the full scan
as it was written before, on rows drawn from blanks, names, headings, numbers, dates and invisible text."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from sheet_schema.cells import cell_text
from sheet_schema.fields import Field
from sheet_schema.header import find_header
from sheet_schema.model import HeaderMatch
from sheet_schema.row_checks import _HEADING, is_pupil_row
from sheet_schema.text import is_blank

HEADERS = {
    "one name column, AR columns": ["Name", "UPN", "DOB", "Year", "Notes", "Key worker", "AR status", "AR issues"],
    "forename and surname": ["Forename", "Surname", "Date of birth", "Year group", "Last annual review", "AR status"],
    "no AR columns": [
        "Pupil name",
        "UPN",
        "D.O.B.",
        "Year",
        "Primary need",
        "Next review meeting",
        "Parent/carer email",
    ],
}
CELLS = st.sampled_from(
    [None, "", "  ", "\u200b", "\n", "Ann Smith", "Year 7", "Total", "TBC", "x", 12, 0, 3.5, True, date(2015, 1, 1)]
)


def full_scan(values: list[object], header: HeaderMatch) -> bool | None:
    """The rule as it read before issue 16's fast path: every cell of the row looked at."""
    product, name_columns, known = header.row_sets
    filled = [i for i, v in enumerate(values) if v is not None and i not in product and not is_blank(v)]
    if not filled:
        return None
    has_name = any(i in name_columns for i in filled)
    other_fields = [i for i in filled if i in known and i not in name_columns]
    if has_name and other_fields:
        names = " ".join(cell_text(values[i]) for i in sorted(name_columns) if i < len(values)).casefold()
        dob_column = header.columns.get(Field.DOB)
        no_dob = dob_column is None or dob_column >= len(values) or is_blank(values[dob_column])
        return not (no_dob and _HEADING.fullmatch(names))
    if not has_name and len(filled) > 1 and other_fields:
        return None
    return False


MATCHES = {label: find_header([["A title"], headers], sheet="Register") for label, headers in HEADERS.items()}


@settings(max_examples=400, deadline=None)
@given(label=st.sampled_from(sorted(HEADERS)), values=st.lists(CELLS, max_size=11))
def test_the_fast_path_answers_as_the_full_scan(label: str, values: list[object]) -> None:
    header = MATCHES[label]
    assert header is not None
    assert is_pupil_row(values, header) == full_scan(values, header)


def test_the_headers_under_test_have_what_the_rule_looks_at() -> None:
    first = MATCHES["one name column, AR columns"]
    assert first is not None
    assert first.ar_columns  # product columns are left out of both answers
    assert all(m is not None and Field.DOB in m.columns for m in MATCHES.values())
