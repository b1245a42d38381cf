"""`main.py la-figures` across a trust's [[schools]], and "not measurable" where the register lacks the column."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import openpyxl
import pytest

import main
from reports.la_figures import NONE_YET, NOT_MEASURABLE, SHEET, la_figures, la_groups
from review_rules.clock import compute_review
from review_rules.model import Decision, ReviewFacts, RuleSettings
from review_rules.school_days import calendar_for
from sheet_schema.model import PupilRecord, ReviewedPupil
from tests.e2e.test_la_clock import CANONICAL, CONFIG, HEADERS, PUPILS, ROW, _independent, _write_register


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


def test_overview_counts_an_la_once_whatever_the_register_calls_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ "Kent", "KCC", " kent county council" and "K.C.C." are one LA where keeper.toml's profile claims those names
    (ignoring case, spaces and punctuation): the overview's figures equal a count made here from the register."""
    for name in list(os.environ):
        if name.startswith("KEEPER_") and name != "KEEPER_TODAY_ANCHOR":
            monkeypatch.delenv(name, raising=False)
    register = tmp_path / "register.xlsx"
    (tmp_path / "keeper.toml").write_text(CONFIG, encoding="utf-8")
    _write_register(register)
    typed_as = {"Gus": " kent county council", "Hal": "K.C.C."}
    wb = openpyxl.load_workbook(register)
    for first, la in typed_as.items():
        wb["Register"].cell(ROW[first], HEADERS.index("LA") + 1, la)
    wb.save(register)
    pupils = [(*p[:9], typed_as.get(p[0].split()[0], p[9]), *p[10:]) for p in PUPILS]
    today = date(2025, 10, 20)

    out = tmp_path / "overview.xlsx"
    assert main.main(["report", str(register), "--today", today.isoformat(), "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out)[SHEET]
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if r and r[0]]
    table = {r[0]: (r[2], r[3], r[5], r[9], r[10] if r[10] != NONE_YET else None) for r in rows}
    canonical = CANONICAL | {" kent county council": "Kent", "K.C.C.": "Kent"}
    assert table == _independent(today, typed=[], pupils=pupils, canonical=canonical)
    assert sorted(table) == ["Kent", "Medway", "Surrey"]
    # By hand: Kent is Amy, Ben (KCC), Fay, Gus, Hal; only Ben's decision in time (22 Sep to 1 Oct, 9 days).
    assert table["Kent"][:3] == (1, 5, 9)
    assert {r[0]: r[1] for r in rows}["Kent"] == 5
    # Medway (Cara): her decision is late and unrecorded, so nothing to take a median of yet, and no amended plan to
    # count: "none yet", never "not measurable" (the register has both columns).
    medway = {r[0]: r for r in rows}["Medway"]
    assert medway[2:9] == (0, 1, 0, NONE_YET, 0, 0, NONE_YET)


def test_trust_figures_merge_each_schools_aliases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("KEEPER_") and name != "KEEPER_TODAY_ANCHOR":
            monkeypatch.delenv(name, raising=False)
    _write_register(tmp_path / "oak.xlsx")
    _write_register(tmp_path / "elm.xlsx")
    config = tmp_path / "keeper.toml"
    config.write_text(
        CONFIG + '[[schools]]\nid = "oak"\nname = "Oak"\nregister = "oak.xlsx"\n'
        '[[schools]]\nid = "elm"\nname = "Elm"\nregister = "elm.xlsx"\n',
        encoding="utf-8",
    )
    out = tmp_path / "trust.xlsx"
    assert main.main(["la-figures", "--config", str(config), "--today", "2025-10-20", "--out", str(out)]) == 0
    book = openpyxl.load_workbook(out)
    by_school = {(r[0], r[1]): r for r in book["By school"].iter_rows(min_row=2, values_only=True)}
    assert sorted(by_school) == [(s, la) for s in ("Elm", "Oak") for la in ("Kent", "Medway", "Surrey")]
    one = _independent(date(2025, 10, 20), typed=[])
    assert by_school[("Oak", "Kent")][3:5] == (1, 5) == one["Kent"][:2]
    by_la = {r[0]: r for r in book["By LA"].iter_rows(min_row=4, values_only=True) if r and r[0]}
    assert sorted(by_la) == ["Kent", "Medway", "Surrey"]
    assert by_la["Kent"][1:5] == (10, 2, 10, 20.0)  # both schools' five Kent reviews: 2 of 10 within 4 weeks


def test_names_no_profile_claims_merge_only_when_they_differ_in_case_spaces_or_punctuation() -> None:
    def pupil(la: str | None) -> ReviewedPupil:
        facts = ReviewFacts(dob=date(2012, 3, 4), plan_issued=date(2020, 1, 10), last_review=date(2025, 9, 15))
        clock = compute_review(facts, date(2025, 11, 1), RuleSettings(), calendar_for(None))
        return ReviewedPupil(PupilRecord(2, "A B", "A", "B.", None, facts, la=la), clock, clock.status)

    typed = ["kent ", "Kent", "KENT", "Kent", "Kent CC", "Kent C.C.", None, "  ", "Medway"]
    groups = la_groups([pupil(la) for la in typed])
    # The spelling typed most often names the LA; "Kent CC" is another LA until a profile says it is Kent's.
    assert {la: len(g) for la, g in groups.items()} == {"Kent": 4, "Kent CC": 2, "(no LA given)": 2, "Medway": 1}
    groups = la_groups([pupil(la) for la in typed], {"KCC": "Kent", "Kent CC": "Kent"})
    assert {la: len(g) for la, g in groups.items()} == {"Kent": 6, "(no LA given)": 2, "Medway": 1}
    (kent_cc,) = la_groups([pupil(la) for la in typed[4:6]])  # a tie: the first in the register's order
    assert kent_cc == "Kent CC"


def test_an_amend_decision_without_a_final_plan_column_is_not_counted_waiting() -> None:
    # H Mon 15 Sep 2025, report 20 Sep, decided Amend 1 Oct (notice 2 Oct): final plan due min(2 Oct + 56, H + 84) =
    # Thu 27 Nov 2025 (reg 22(3)). Without a "Final amended plan" column the register cannot show it came.
    def pupil(no_column: frozenset[str]) -> ReviewedPupil:
        facts = ReviewFacts(dob=date(2012, 3, 4), plan_issued=date(2020, 1, 10), last_review=date(2025, 9, 15),
                            report_sent=date(2025, 9, 20), la_decision=date(2025, 10, 1), decision=Decision.AMEND,
                            amendment_notice=date(2025, 10, 2), no_column_for=no_column)  # fmt: skip
        clock = compute_review(facts, date(2026, 3, 1), RuleSettings(), calendar_for(None))
        return ReviewedPupil(PupilRecord(2, "A B", "A", "B.", None, facts, la="Kent"), clock, clock.status)

    (with_column,) = la_figures([pupil(frozenset())], today=date(2026, 3, 1))
    assert (with_column.waiting, with_column.longest_wait_days) == (1, 167)  # 15 Sep 2025 to 1 Mar 2026
    assert (with_column.plans_on_time, with_column.plans_counted) == (0, 1)
    (without,) = la_figures([pupil(frozenset({"final_plan_due"}))], today=date(2026, 3, 1))
    assert (without.waiting, without.longest_wait_days) == (0, None)
    assert (without.plans_on_time, without.plans_counted) == (None, None)
