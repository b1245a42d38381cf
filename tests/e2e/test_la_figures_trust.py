"""`main.py la-figures` across a trust's [[schools]], and "not measurable" where the register lacks the column."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import openpyxl
import pytest

import main
from reports.la_figures import NOT_MEASURABLE, la_figures
from review_rules.clock import compute_review
from review_rules.model import ReviewFacts, RuleSettings
from review_rules.school_days import calendar_for
from sheet_schema.model import PupilRecord, ReviewedPupil
from tests.e2e.test_la_clock import HEADERS, _write_register


def test_trust_figures_per_school_and_per_la(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("KEEPER_") and name != "KEEPER_TODAY_ANCHOR":
            monkeypatch.delenv(name, raising=False)
    _write_register(tmp_path / "oak.xlsx")
    # Elm: the same pupils without an LA decision column.
    _write_register(tmp_path / "elm.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "elm.xlsx")
    wb["Register"].delete_cols(HEADERS.index("LA decision date") + 1)
    wb.save(tmp_path / "elm.xlsx")
    config = tmp_path / "keeper.toml"
    config.write_text(
        '[[schools]]\nid = "oak"\nname = "Oak"\nregister = "oak.xlsx"\n'
        '[[schools]]\nid = "elm"\nname = "Elm"\nregister = "elm.xlsx"\n',
        encoding="utf-8",
    )
    out = tmp_path / "trust.xlsx"
    assert main.main(["la-figures", "--config", str(config), "--today", "2025-10-20", "--out", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    by_school = {(r[0], r[1]): r for r in book["By school"].iter_rows(min_row=2, values_only=True)}
    # Oak, Kent on 20 Oct: Amy, Gus, Hal past their 13 Oct decision date, unrecorded: 0 of 3 (Fay's meeting is 2024's:
    # its decision too is late and unrecorded, so 0 of 4).
    assert by_school[("Oak", "Kent")][3:5] == (0, 4)
    assert by_school[("Elm", "Kent")][3:5] == (NOT_MEASURABLE, NOT_MEASURABLE)
    assert by_school[("Oak", "KCC")][3:7] == (1, 1, 100, 9)  # Ben: 22 Sep to 1 Oct
    by_la = {r[0]: r for r in book["By LA"].iter_rows(min_row=4, values_only=True) if r and r[0]}
    # Across the trust one school cannot measure Kent: the trust's Kent figure is not measurable either.
    assert by_la["Kent"][2] == NOT_MEASURABLE


def test_not_measurable_never_zero() -> None:
    def pupil(no_column: frozenset[str]) -> ReviewedPupil:
        facts = ReviewFacts(dob=date(2012, 3, 4), plan_issued=date(2020, 1, 10), last_review=date(2025, 9, 15),
                            report_sent=date(2025, 9, 20), no_column_for=no_column)  # fmt: skip
        clock = compute_review(facts, date(2025, 11, 1), RuleSettings(), calendar_for(None))
        return ReviewedPupil(PupilRecord(2, "A B", "A", "B.", None, facts, la="Kent"), clock, clock.status)

    (with_column,) = la_figures([pupil(frozenset())], today=date(2025, 11, 1))
    assert (with_column.decisions_on_time, with_column.decisions_counted, with_column.waiting) == (0, 1, 1)
    assert with_column.longest_wait_days == 47
    (without,) = la_figures([pupil(frozenset({"decision_due"}))], today=date(2025, 11, 1))
    assert (without.decisions_on_time, without.decisions_counted, without.waiting) == (None, None, 0)
