"""One tolerant reader for numeric cells (issue 10 item 1) and a bound on every cell parser's input (item 3).

Before: a Chasers cell holding "²" passed `str.isdigit` and crashed `int` (a traceback in sweep, report, records,
calendar and the confirm page); a 32,767-character Year cell took 19 s to parse.
"""

from __future__ import annotations

import contextlib
import math
import time

import pytest

from sheet_schema.cells import (
    CellError,
    parse_date,
    parse_decision,
    parse_email,
    parse_flag,
    parse_on_roll,
    parse_upn,
    parse_year,
)
from sheet_schema.contributions import parse_contributions
from sheet_schema.numbers import parse_count, whole_number

HEADER = ["Pupil", "Role", "Name", "Email", "Requested", "Received", "Chasers", "Last chased", "Notes"]


@pytest.mark.parametrize(
    ("cell", "count"),
    [(None, None), ("", None), (" ", None), (0, 0), (2, 2), (2.0, 2), ("2", 2), (" 4 ", 4), ("3 chasers", 3),
     ("2x", 2), ("+1", 1), ("5.0", 5)],
)  # fmt: skip
def test_counts_that_are_read(cell: object, count: int | None) -> None:
    assert parse_count(cell, "a number of chasers") == count


@pytest.mark.parametrize(
    "cell",
    ["²", "\u0661", "½", "two", "-1", -1, 2.5, math.nan, math.inf, -math.inf, True, False, 10**9, "1e3", "3 4",
     "9" * 30, "x" * 32_767],
)  # fmt: skip
def test_counts_that_are_refused_with_a_sentence(cell: object) -> None:
    with pytest.raises(CellError, match="number of chasers"):
        parse_count(cell, "a number of chasers")


def test_whole_numbers_refuse_what_python_would_coerce() -> None:
    assert whole_number(9.0, "a year group") == 9
    for cell in (True, math.nan, math.inf, 9.5, 1e300):
        with pytest.raises(CellError):
            whole_number(cell, "a year group")


@pytest.mark.parametrize("chasers", ["²", math.nan, math.inf, True, "3 and counting on"])
def test_an_unreadable_chasers_cell_is_a_sentence_naming_the_cell_never_a_crash(chasers: object) -> None:
    rows = [HEADER, ["Ann Smith", "EP", "Dr X", "x@example.org", None, None, chasers]]
    contributions, messages = parse_contributions(rows)
    assert contributions == []  # left out: no emails until the cell is fixed
    assert len(messages) == 1
    assert messages[0].startswith('Contributions row 2: "Chasers" is ')


def test_a_chasers_cell_with_its_word_is_read() -> None:
    rows = [HEADER, ["Ann Smith", "EP", "Dr X", "x@example.org", None, None, "3 chasers"]]
    (contribution,), messages = parse_contributions(rows)
    assert (contribution.chasers, messages) == (3, [])


@pytest.mark.parametrize(
    "parse", [parse_year, parse_date, parse_decision, parse_email, parse_upn, parse_on_roll, parse_flag]
)
@pytest.mark.parametrize("text", ["Y" + "a" * 32_766, "a-" * 16_383, "x@" + "a." * 16_000 + " ", "(" * 32_767])
def test_every_cell_parser_answers_a_32767_character_cell_at_once(parse, text: str) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    with contextlib.suppress(CellError):
        parse(text)
    assert time.perf_counter() - start < 0.1


def test_a_long_year_is_refused_as_too_long() -> None:
    with pytest.raises(CellError, match="too long to be a year group"):
        parse_year("Year 9 " + "(taught with Year 8) " * 3)
    assert parse_year("NC Year 10") == 10
