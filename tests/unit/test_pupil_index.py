"""Matching Contributions rows to pupils through an index (issue 16): the same answers as a scan of every pupil, in
register order, and the pupils' names folded once per sweep, not once per row."""

from __future__ import annotations

import pytest

import sheet_schema.pupil_index as pupil_index
from sheet_schema.contributions import PupilIndex, match_pupil, pupil_matches
from tests.mail_fixtures import UPN, contribution, pupil

AMIRA = pupil(row=7)
BEN = pupil(row=8, name="Ben Cole", upn="A123456789012")
BEN_TWIN = pupil(row=9, name="Ben Cole", upn=None)  # two pupils of one name: ambiguous by name
NO_UPN = pupil(row=10, name="Cara Dunn", upn=None)
PUPILS = [AMIRA, BEN, BEN_TWIN, NO_UPN]


@pytest.mark.parametrize(
    ("ref", "rows"),
    [
        (UPN, [7]),
        (UPN.lower(), [7]),  # UPNs are matched ignoring case and spaces
        (f" {UPN[:4]} {UPN[4:]} ", [7]),
        ("  amira   KHAN ", [7]),  # names ignoring case and spacing
        ("Khan, Amira", [7]),  # "Surname, Forename", as MIS exports write it
        ("Khan Amira", [7]),
        ("Ben Cole", [8, 9]),  # both, in register order: match_pupil then refuses to guess
        ("a123456789012", [8]),
        ("Cara Dunn", [10]),
        ("Amira", []),
        ("B999999999999", []),
        ("", []),
    ],
)
def test_the_index_answers_as_the_scan_did(ref: str, rows: list[int]) -> None:
    row = contribution(2, "EP", None, pupil_ref=ref)
    index = PupilIndex(PUPILS)
    assert [p.record.row for p in pupil_matches(row, index)] == rows
    assert [p.record.row for p in pupil_matches(row, PUPILS)] == rows  # a plain list still works
    assert match_pupil(row, index) is (
        AMIRA if rows == [7] else BEN if rows == [8] else NO_UPN if rows == [10] else None
    )


def test_the_index_is_the_pupils_in_order() -> None:
    index = PupilIndex(PUPILS)
    assert list(index) == PUPILS
    assert len(index) == 4
    assert index[1] is BEN
    assert list(index[1:3]) == [BEN, BEN_TWIN]


def test_names_are_folded_once_per_pupil_however_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    original = pupil_index._name_forms

    def counting(p):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return original(p)

    monkeypatch.setattr(pupil_index, "_name_forms", counting)
    pupils = [pupil(row=r, name=f"Pupil{r} Surname{r}", upn=None) for r in range(2, 502)]
    index = PupilIndex(pupils)
    for r in range(2, 502):
        assert match_pupil(contribution(r, "EP", None, pupil_ref=f"Pupil{r} Surname{r}"), index) is pupils[r - 2]
    assert calls == len(pupils)  # a scan per row would have been 500 x 500
