"""Year groups (review-rules.md section 3), including pupils taught out of their chronological year group."""

from datetime import date

import pytest

from review_rules import nc_year_from_dob, pupil_year

D = date.fromisoformat


@pytest.mark.parametrize(
    ("dob", "on", "expected"),
    [
        pytest.param("2011-09-01", "2025-10-01", 9, id="spec s3 example: born 1 Sep 2011 -> Year 9"),
        pytest.param("2011-08-31", "2025-10-01", 10, id="spec s3 example: born 31 Aug 2011 -> Year 10"),
        pytest.param("2012-02-29", "2025-10-01", 9, id="spec s3 example: born 29 Feb 2012 -> Year 9"),
        pytest.param("2021-03-01", "2025-10-01", 0, id="aged 4 on 31 Aug 2025 -> Reception"),
        pytest.param("2022-05-01", "2025-10-01", -1, id="aged 3 on 31 Aug 2025 -> Nursery"),
        pytest.param("2010-08-31", "2026-07-15", 11, id="born 31 Aug 2010, summer 2026 -> Year 11"),
        pytest.param("2010-09-01", "2026-07-15", 10, id="born 1 Sep 2010, summer 2026 -> Year 10"),
        pytest.param("2011-08-31", "2025-08-31", 9, id="31 Aug is still the old academic year"),
        pytest.param("2011-08-31", "2025-09-01", 10, id="1 Sep starts the new academic year"),
    ],
)
def test_nc_year_from_dob(dob: str, on: str, expected: int) -> None:
    assert nc_year_from_dob(D(dob), D(on)) == expected


@pytest.mark.parametrize(
    ("dob", "recorded", "today", "on", "expected"),
    [
        pytest.param("2011-09-01", 8, "2025-10-01", "2026-07-01", 8, id="recorded Year 8: same academic year"),
        pytest.param("2011-09-01", 8, "2025-10-01", "2026-09-01", 9, id="recorded Year 8: next academic year"),
        pytest.param("2011-09-01", 8, "2025-10-01", "2025-08-31", 7, id="recorded Year 8: previous academic year"),
        pytest.param("2013-01-15", 8, "2026-07-10", "2026-10-15", 9, id="spec s7: Year 8 in July, review in Oct"),
        pytest.param("2011-08-31", 9, "2025-10-01", "2025-10-01", 9, id="held back: DOB says 10, register 9"),
        pytest.param("2012-08-31", 10, "2025-10-01", "2026-01-10", 10, id="moved up: DOB says 9, register 10"),
        pytest.param("2011-09-01", None, "2025-10-01", "2026-09-01", 10, id="no recorded year: from DOB"),
    ],
)
def test_pupil_year(dob: str, recorded: int | None, today: str, on: str, expected: int) -> None:
    assert pupil_year(D(dob), recorded, D(today), D(on)) == expected
