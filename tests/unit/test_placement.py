"""The one placement algorithm both register adapters use (connectors/placement.py): pure, so tables of literal grids.

Indices in the answers are 0-based (row 0 is sheet row 1, column 0 is column A); `header_row` is 1-based, as a plan's
find_header_row gives it. The rules are docs/register.md s5 (own columns appended after the SENDCo's, found by header
after that; rows matched by key, never by position) and s6 (a blank cell only: a date the SENDCo typed wins).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from datetime import date

import pytest

from connectors.base import CellValue, CellWrite, WritePlan
from connectors.placement import last_used_row, place, place_columns, used_width

AR = ("AR status", "AR next action")
DUE = CellWrite("DUE SOON", fill="FFEB9C")
NEXT = CellWrite("Send invitations by Fri 7 Nov 2025")


def first_cell(row: list[CellValue]) -> Hashable | None:
    return row[0] if row and isinstance(row[0], str) and row[0].strip() else None


def plan(
    rows: Mapping[Hashable, Mapping[str, CellWrite]],
    *,
    headers: Sequence[str] = AR,
    owned: Sequence[str] = AR,
    **more: object,
) -> WritePlan:
    return WritePlan(
        sheet="Register",
        headers=headers,
        find_header_row=lambda rows: 1,
        key_of=first_cell,
        rows=rows,
        owned_headers=frozenset(owned),
        **more,  # type: ignore[arg-type]
    )


# ---- columns: found wherever moved, else appended after the SENDCo's last column


@pytest.mark.parametrize(
    ("header_row", "first_free", "columns", "new"),
    [
        # first run: both appended after Name, DOB, Notes (first free column D = 3)
        (["Name", "DOB", "Notes"], 3, {"ar status": 0 + 3, "ar next action": 4}, {3: "AR status", 4: "AR next action"}),
        # the SENDCo moved the AR columns to the front: found there, nothing appended
        (["AR next action", "AR status", "Name", "DOB"], 99, {"ar status": 1, "ar next action": 0}, {}),
        # one of them deleted: only that one is appended, after everything in use
        (["Name", "AR status", "DOB"], 5, {"ar status": 1, "ar next action": 5}, {5: "AR next action"}),
        # spelt differently: the default header key ignores surrounding spaces and case only
        (["Name", "  ar STATUS ", "DOB"], 3, {"ar status": 1, "ar next action": 3}, {3: "AR next action"}),
        # a duplicated header: the first (leftmost), which is the one the parser reads
        (["AR status", "Name", "AR status", "AR next action"], 9, {"ar status": 0, "ar next action": 3}, {}),
    ],
)
def test_columns_are_found_by_header_or_appended(
    header_row: list[CellValue], first_free: int, columns: dict[str, int], new: dict[int, str]
) -> None:
    placed = place_columns(plan({}), header_row, first_free)
    assert dict(placed.plan) == columns
    assert dict(placed.new_headers) == new
    assert placed.owned == frozenset(columns.values())


def test_first_free_is_asked_only_when_a_header_is_missing() -> None:
    asked: list[int] = []

    def first_free() -> int:
        asked.append(1)
        return 7

    place_columns(plan({}), ["Name", "AR status", "AR next action"], first_free)
    assert asked == []  # once the columns exist the adapter never scans formats
    place_columns(plan({}), ["Name"], first_free)
    assert asked == [1]


def test_only_owned_headers_make_owned_columns() -> None:
    contributions = plan({}, headers=("Requested", "AR invited for"), owned=("AR invited for",))
    placed = place_columns(contributions, ["Pupil", "Requested"], 2)
    assert dict(placed.plan) == {"requested": 1, "ar invited for": 2}
    assert placed.owned == frozenset({2})  # Requested is the SENDCo's column: its look stays theirs


@pytest.mark.parametrize(
    ("rows", "header_row", "also", "width"),
    [
        ([["Name", "DOB"], ["Ava", 1, None, None]], 1, (), 2),  # trailing blanks do not count
        ([["Name"], ["Ava", "", "", "watch"]], 1, (), 4),  # a value far right below the header does
        ([["A wide title banner", None, None, None, "x"], ["Name", "DOB"]], 2, (), 2),  # the banner above does not
        ([["Name", "DOB"]], 1, (6,), 6),  # a coloured blank or merge the adapter saw, up to column F
        ([], 1, (), 0),
    ],
)
def test_used_width(rows: list[list[CellValue]], header_row: int, also: tuple[int, ...], width: int) -> None:
    assert used_width(rows, header_row, also=also) == width


def test_sendco_fill_columns_right_of_the_data_push_new_columns_past_them() -> None:
    rows: list[list[CellValue]] = [["Name", "DOB"], ["Ava", 1], ["Ben", 2]]
    # The adapter found a yellow "pupil to watch" fill on blank cells C:E of Ben's row (width 5).
    placed = place(plan({"Ava": {"AR status": DUE}}), rows, 1, first_free=lambda: used_width(rows, 1, also=[0, 0, 5]))
    assert dict(placed.columns.new_headers) == {5: "AR status", 6: "AR next action"}
    assert placed.cells == {1: {5: DUE}}
    assert placed.columns.width == 7


# ---- rows: matched by key as the sheet is now


def test_rows_sorted_between_read_and_write_keep_their_own_results() -> None:
    # Read as Ava, Ben, Cy; sorted by the SENDCo to Cy, Ava, Ben before the write; Dee removed.
    now: list[list[CellValue]] = [["Name", "AR status"], ["Cy"], ["Ava"], ["Ben"]]
    results = {
        "Ava": {"AR status": CellWrite("OVERDUE")},
        "Ben": {"AR status": CellWrite("ON TRACK")},
        "Cy": {"AR status": DUE},
        "Dee": {"AR status": DUE},
    }
    placed = place(plan(results), now, 1, first_free=2)
    assert {i: c[1].value for i, c in placed.cells.items()} == {1: "DUE SOON", 2: "OVERDUE", 3: "ON TRACK"}
    assert placed.missing_keys == ["Dee"]
    assert placed.written_rows == 3


def test_rows_above_the_header_and_unkeyed_rows_are_never_written() -> None:
    rows: list[list[CellValue]] = [["Ava"], ["Name", "AR status"], [None, "x"], ["Ava"]]
    placed = place(plan({"Ava": {"AR status": DUE}}), rows, 2, first_free=2)
    assert placed.cells == {3: {1: DUE}}


@pytest.mark.parametrize(("first_match_only", "written"), [(False, [1, 3]), (True, [1])])
def test_duplicate_keys(first_match_only: bool, written: list[int]) -> None:
    rows: list[list[CellValue]] = [["Name", "AR status"], ["Ava"], ["Ben"], ["Ava"]]
    placed = place(plan({"Ava": {"AR status": DUE}}, first_match_only=first_match_only), rows, 1, first_free=2)
    assert sorted(placed.cells) == written


# ---- cells: blank-only, unknown headers


def test_blank_only_cells_keep_what_the_sendco_typed_since_the_read() -> None:
    headers = ("Requested", "Chasers")
    rows: list[list[CellValue]] = [
        ["Pupil", "Requested", "Chasers"],
        ["Ava", date(2025, 9, 30), None],  # the SENDCo typed a date after the read
        ["Ben", "", None],  # an empty string is blank
        ["Cy"],  # a short row is blank beyond its end
    ]
    cells = {"Requested": CellWrite(date(2025, 10, 1), "dd/mm/yyyy"), "Chasers": CellWrite(1)}
    blank_only = plan(
        {"Ava": cells, "Ben": cells, "Cy": cells}, headers=headers, owned=(), blank_only=frozenset({"Requested"})
    )
    placed = place(blank_only, rows, 1, first_free=3)
    assert {i: sorted(c) for i, c in placed.cells.items()} == {1: [2], 2: [1, 2], 3: [1, 2]}


def test_a_cell_for_a_header_not_in_the_plan_is_not_written() -> None:
    rows: list[list[CellValue]] = [["Name", "Notes", "AR status"], ["Ava"]]
    placed = place(plan({"Ava": {"Notes": CellWrite("overwrite?"), "AR status": DUE}}), rows, 1, first_free=3)
    assert placed.cells == {1: {2: DUE}}  # Notes is the SENDCo's column and not one of the plan's headers


# ---- appended rows


def test_appended_rows_go_below_the_last_used_row_by_header() -> None:
    rows: list[list[CellValue]] = [["Pupil", "Role", "Email"], ["Ava", "EP"], [], [None, None, "x@example.org"], []]
    contributions = plan(
        {},
        headers=("Pupil", "Role"),
        owned=(),
        append_rows=[
            {"Pupil": CellWrite("Ben"), "Role": CellWrite("Parent/carer"), "Nope": CellWrite("dropped")},
            {"Pupil": CellWrite(""), "Email": CellWrite(None)},  # nothing to write, but still a row
            {"Email": CellWrite("p@example.org")},
        ],
    )
    placed = place(contributions, rows, 1, first_free=3)
    assert last_used_row(rows, 1) == 3
    assert placed.appended == {
        4: {0: CellWrite("Ben"), 1: CellWrite("Parent/carer")},
        6: {2: CellWrite("p@example.org")},
    }
    assert placed.appended_rows == 3


def test_the_adapter_may_report_rows_in_use_that_hold_no_value() -> None:
    rows: list[list[CellValue]] = [["Pupil", "Role"], ["Ava", "EP"]]
    # A merge below the header ending on row index 4 (sheet row 5).
    placed = place(
        plan({}, headers=("Pupil",), owned=(), append_rows=[{"Pupil": CellWrite("Ben")}]),
        rows,
        1,
        first_free=2,
        last_row=lambda: last_used_row(rows, 1, also=[4]),
    )
    assert list(placed.appended) == [5]


# ---- formulas (issue 10 item 4): "a blank cell" has no value and no formula


REQUESTED_ON = CellWrite(date(2025, 12, 1), "dd/mm/yyyy")


def test_a_formula_showing_blank_is_never_filled_and_the_product_columns_still_are() -> None:
    contributions = plan(
        {"Bob": {"Requested": REQUESTED_ON, "Chasers": CellWrite(1), "AR status": DUE}},
        headers=("Requested", "Chasers", "AR status"),
        owned=("AR status",),
        blank_only=frozenset({"Requested"}),
    )
    rows: list[list[CellValue]] = [["Pupil", "Requested", "Chasers", "AR status"], ["Bob", "", None, ""]]
    # Requested is =IFERROR(VLOOKUP(...),"") showing blank; Chasers a =COUNTA(...) showing nothing; AR status a formula
    # the SENDCo typed into the product's own column, which the product overwrites as ever.
    placed = place(contributions, rows, 1, first_free=4, formulas={(1, 1), (1, 2), (1, 3)})
    assert dict(placed.cells[1]) == {3: DUE}
    without = place(contributions, rows, 1, first_free=4)
    assert set(without.cells[1]) == {1, 2, 3}  # the same sheet without formulas: every cell is filled


def test_new_rows_go_below_rows_holding_only_formulas() -> None:
    seeded = plan({}, headers=("Pupil", "Role"), owned=(), append_rows=[{"Pupil": CellWrite("Cai")}])
    rows: list[list[CellValue]] = [["Pupil", "Role"], ["Ava", "EP"], ["", ""], ["", ""]]
    placed = place(seeded, rows, 1, first_free=2, formulas={(3, 1)})  # row 4 holds a formula showing blank
    assert list(placed.appended) == [4]
    assert list(place(seeded, rows, 1, first_free=2).appended) == [2]
