"""The LA's termly list (CoP 9.172) against the register: layouts as LAs send them, and the warnings."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from connectors.la_list_file import LAFileError, read_la_file
from functions.la_list import LAListError, RegisterPupil, compare, name_key, parse_la_rows
from sheet_schema.cells import upn_check_letter


def _upn(serial: int) -> str:
    body = f"80120{serial:07d}"
    return upn_check_letter("A" + body) + body  # the check letter ignores the first character


PUPILS = [
    RegisterPupil(5, "Aisha K.", "Aisha Khan", _upn(1), date(2015, 3, 2), date(2027, 1, 18), date(2027, 2, 14)),
    RegisterPupil(6, "Ben C.", "Ben Carter", None, date(2014, 7, 9), date(2027, 2, 1), date(2027, 3, 1)),
    RegisterPupil(7, "Cara D.", "Cara Doyle", None, date(2016, 1, 5), date(2027, 3, 8), date(2027, 4, 5)),
    # Due next summer: not expected on a spring list.
    RegisterPupil(8, "Dan E.", "Dan Evans", None, date(2013, 5, 5), date(2027, 6, 7), date(2027, 7, 5)),
]


def test_csv_with_banner_semicolons_and_surname_first(tmp_path: Path) -> None:
    path = tmp_path / "spring.csv"
    path.write_text(
        "Anyshire County Council - EHCP annual reviews due Spring 2027\n"
        "\n"
        "Surname, forename;D.O.B.;UPN;Annual review due\n"
        f"KHAN, Aisha;02/03/2015;{_upn(1)};14/02/2027\n"
        "Carter, Ben;09/07/2014;;01/05/2027\n"
        "Zed, Zara;01/01/2015;;20/03/2027\n",
        encoding="utf-8-sig",
    )
    [(name, rows)] = read_la_file(path)
    entries, warnings = parse_la_rows(rows, name)
    assert warnings == []
    assert [(e.line, e.due) for e in entries] == [(4, date(2027, 2, 14)), (5, date(2027, 5, 1)), (6, date(2027, 3, 20))]
    out = compare(entries, PUPILS, name)
    assert out == [
        "row 6: Ben C.: the LA's list gives the review as due Sat 1 May 2027, but the register gives hold by "
        "Mon 1 Feb 2027 (12 months end Mon 1 Mar 2027); check the last review date with the LA.",
        "spring.csv row 6: Zara Z. is on the LA's list but not an active pupil on the register; check the name, UPN "
        "and date of birth, or tell the LA.",
        "row 7: Cara D. is due for review by Mon 8 Mar 2027, inside the LA list's term (Sun 14 Feb 2027 to "
        "Sat 1 May 2027), but is not on the LA's list; tell the LA.",
    ]


def test_xlsx_with_forename_and_surname_columns(tmp_path: Path) -> None:
    path = tmp_path / "list.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Reviews due next term"])
    ws.append(["Forename", "Surname", "Date of birth", "Review due date", "Caseworker"])
    ws.append(["Aisha", "Khan", datetime(2015, 3, 2), datetime(2027, 2, 15), "J Smith"])  # the anniversary: agrees
    ws.append(["Cara", "Doyle", "05/01/2016", "not known", "J Smith"])
    wb.save(path)
    [(name, rows)] = read_la_file(path)
    entries, warnings = parse_la_rows(rows, name)
    assert len(warnings) == 1
    assert warnings[0].startswith('Sheet row 4: the review due date is "not known"')
    assert warnings[0].endswith("; it is not compared.")
    assert compare(entries, PUPILS, name) == []


def test_unknown_layout_is_one_sentence() -> None:
    with pytest.raises(LAListError, match=r"no header row found in the first 15 rows"):
        parse_la_rows([["Ref", "School", "Caseworker"], ["A1", "Oak", "JS"]], "odd.csv")


def test_files_that_are_not_lists(tmp_path: Path) -> None:
    old = tmp_path / "list.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(LAFileError, match=r"save it as \.xlsx or CSV"):
        read_la_file(old)
    with pytest.raises(LAFileError, match="no such file"):
        read_la_file(tmp_path / "missing.csv")


def test_names_match_as_sets_of_words() -> None:
    assert name_key("KHAN, Aisha") == name_key("Aisha  Khan") == ("aisha", "khan")
    assert name_key("Zoë O'Neil-Brown") == name_key("zoe o neil brown")
