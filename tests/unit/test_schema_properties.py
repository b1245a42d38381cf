"""Property-based tests: no cell value, however odd, in any column, raises anything but a validation message."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review_rules.clock import compute_review
from review_rules.model import Anchor, Decision, Period, RuleSettings
from sheet_schema.cells import (
    SERIAL_EPOCH,
    CellError,
    is_blank,
    parse_date,
    parse_decision,
    parse_flag,
    parse_on_roll,
    parse_upn,
    parse_year,
)
from sheet_schema.fields import field_for_header, normalise_header
from sheet_schema.header import choose_register, find_header
from sheet_schema.model import PupilRecord
from sheet_schema.validate import read_rows, row_key, validate_rows

TRICKY_TEXT = [
    '=HYPERLINK("http://x","y")',
    "=1/0",
    "#N/A",
    "#VALUE!",
    "TRUE",
    "0",
    "-0",
    "1e309",
    "nan",
    "inf",
    "29/02/2023",
    "00/00/0000",
    "31/12/9999",
    "01/01/0001",
    "9999-12-31T23:59:59Z",
    "0001-01-01",
    "0000-01-01",
    "Sun 31 Dec 9999",
    "Mon 1 Jan 1",
    "3rd Sept 99",
    "\u0663/\u0664/\u0662\u0660\u0662\u0665",  # Arabic-Indic digits
    "\x00\x1b[31m",
    "\u202eevil",
    " \u00a0 ",
    "Year\n9",
    "N1",
    "cease to maintain amend",
    "B801200005001",
    "b801200005001\n",
    "Smith, ",
    ",",
    "  ,  Jo",
]

timezones = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)))

date_like_text = st.one_of(
    st.from_regex(r"\A\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}( \d{1,2}:\d{2})?\Z"),
    st.from_regex(r"\A([A-Za-z]{3,9},? )?\d{1,2}(st|nd|rd|th)? [A-Za-z]{3,9} \d{2,4}\Z"),
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?\Z"),
    st.from_regex(r"\A(y|yr|year|n|fs|r)? ?-?\d{1,3}\Z"),
)

cell_values = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(TRICKY_TEXT),
    date_like_text,
    st.integers(),
    st.integers(min_value=-5, max_value=3_000_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=3_000_000),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=timezones),
    st.times(),
)

HEADER = [
    "Name",
    "Forename",
    "Surname",
    "D.O.B.",
    "EHCP issued",
    "Last AR",
    "UPN",
    "Year",
    "Next AR",
    "Report sent",
    "LA decision date",
    "Decision",
    "Proposed amendments",
    "Final amended plan",
    "Transfer date",
    "LA",
    "Status",
    "LAC",
    "Parent email",
    "AR status",
    "Notes",
]

rows_strategy = st.lists(st.lists(cell_values, max_size=len(HEADER) + 3), max_size=8)
ROW_PREFIX = re.compile(r'^row (\d+): "')


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(cell_values)
def test_parsers_raise_only_cell_errors(value: object) -> None:
    for parse, kind in ((parse_date, date), (parse_year, int), (parse_decision, Decision)):
        message = None
        try:
            result = parse(value)
        except CellError as problem:
            message = str(problem)
            result = None
        if message is not None:
            assert message
            assert "\n" not in message
        assert result is None or isinstance(result, kind)
        assert not isinstance(result, datetime)
    upn, warning = parse_upn(value)
    assert upn is None or re.fullmatch(r"[A-Z0-9]{13}", upn)
    assert warning is None or isinstance(warning, str)
    assert isinstance(parse_on_roll(value), bool)
    assert isinstance(parse_flag(value), bool)
    assert isinstance(normalise_header(value), str)
    field_for_header(value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.booleans())
def test_validate_rows_never_raises(data_rows: list[list[object]], today: date, year_warnings: bool) -> None:
    grid: list[list[object]] = [["Register"], [None, None], list(HEADER), *data_rows]
    header = find_header(grid, sheet="S")
    assert header is not None
    found = read_rows(grid, header, today=today, recorded_year_warnings=year_warnings)
    records = list(found.pupils)
    assert records == validate_rows(grid, header, today=today, recorded_year_warnings=year_warnings)
    # Every row with something in it is either read as a pupil (a record, maybe INVALID) or named as not a pupil
    # (docs/register.md s1); a row with one cell filled is never a pupil.
    filled = [i + 1 for i, values in enumerate(grid) if i >= header.header_row and any(not is_blank(v) for v in values)]
    assert sorted([r.row for r in records] + list(found.not_pupils)) == filled
    for row in found.not_pupils:
        assert all(r.row != row for r in records)
    for record in records:
        assert row_key(grid[record.row - 1], header) is not None
        assert sum(not is_blank(v) for v in grid[record.row - 1]) > 1
    for record in records:
        assert isinstance(record, PupilRecord)
        assert record.valid == (not record.errors)
        for message in (*record.errors, *record.warnings):
            match = ROW_PREFIX.match(message)
            assert match is not None, message
            assert int(match[1]) == record.row
            assert message.endswith("."), message


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell_values, max_size=8), max_size=18), st.none() | st.text(max_size=10))
def test_find_header_and_choose_register_never_raise(grid: list[list[object]], sheet_name: str | None) -> None:
    match = find_header(grid, sheet="S")
    assert match is None or 1 <= match.header_row <= 15
    choose_register([("S", grid), ("T", [list(HEADER)])], sheet_name=sheet_name)


@settings(max_examples=300)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_every_written_form_reads_back(day: date) -> None:
    forms = [
        f"{day:%d/%m/%Y}",
        f"{day.day}/{day.month}/{day:%y}",
        f"{day:%d-%m-%Y}",
        f"{day:%d.%m.%Y}",
        day.isoformat(),
        f"{day.isoformat()}T08:15:00",
        f"{day.day} {day:%B %Y}",
        f"{day.day} {day:%b %y}",
        f"{day:%a} {day.day} {day:%b %Y}",
        datetime.combine(day, time(13, 45)),
        (day - SERIAL_EPOCH).days,
        float((day - SERIAL_EPOCH).days) + 0.99,
    ]
    for form in forms:
        assert parse_date(form) == day, form


EXTREME_DATES = [date.min, date.max, date(1, 1, 1), date(9999, 12, 31), "31/12/9999", "01/01/0001", "0001-01-01"]


@st.composite
def dated_rows(draw: st.DrawFn) -> tuple[date, list[list[object]]]:
    """A day and rows whose date of birth is plausible for it (so many rows are valid) and whose other date columns
    hold anything from nothing to the extremes a spreadsheet can hold."""
    today = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2110, 12, 31)))
    rows = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        dob = today - timedelta(days=draw(st.integers(min_value=0, max_value=26 * 366)))
        some_date = st.one_of(
            st.none(),
            st.dates(min_value=dob, max_value=today + timedelta(days=900)),
            st.dates(),
            st.sampled_from(EXTREME_DATES),
        )
        cells = {column: draw(some_date) for column in HEADER if column in DATE_COLUMNS}
        cells.update(
            {
                "Name": "Jo Smith",
                "D.O.B.": dob,
                "Year": draw(st.one_of(st.none(), st.integers(min_value=-1, max_value=14))),
                "Decision": draw(st.sampled_from([None, "Maintain", "Amend", "Cease"])),
            }
        )
        rows.append([cells.get(column) for column in HEADER])
    return today, rows


DATE_COLUMNS = {
    "EHCP issued",
    "Last AR",
    "Next AR",
    "Report sent",
    "LA decision date",
    "Proposed amendments",
    "Final amended plan",
    "Transfer date",
}


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(dated_rows(), st.sampled_from([Anchor.DECISION, Anchor.MEETING]), st.sampled_from(list(Period)))
def test_every_valid_record_has_a_computable_clock(
    case: tuple[date, list[list[object]]], anchor: Anchor, period: Period
) -> None:
    """validate_rows is the clock's gate: whatever it calls valid, compute_review computes without raising (a row
    with 31/12/9999 as its plan date is an error naming that column, never "the dates cannot be worked out")."""
    today, data_rows = case
    grid: list[list[object]] = [list(HEADER), *data_rows]
    header = find_header(grid, sheet="S")
    assert header is not None
    rules = RuleSettings(anchor=anchor, period=period)
    for record in validate_rows(grid, header, today=today):
        if record.facts is None:
            assert record.errors
            continue
        clock = compute_review(record.facts, today, rules)
        assert clock.meeting_target <= clock.window_end
