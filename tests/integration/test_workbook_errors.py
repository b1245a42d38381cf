"""Registers the adapter must refuse with one clear sentence, writing nothing; locks; backups."""

from __future__ import annotations

import csv
from collections.abc import Hashable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from connectors.base import CellWrite, RegisterError
from connectors.workbook import OLE_MAGIC, WorkbookRegister
from tests.integration.test_workbook import make_plan

ONE_RESULT: dict[Hashable, Mapping[str, CellWrite]] = {"Ava Smith": {"AR status": CellWrite("OVERDUE", fill="F8CBAD")}}


def refused(path: Path) -> str:
    with pytest.raises(RegisterError) as caught:
        WorkbookRegister(path).read()
    message = str(caught.value)
    assert message.endswith("."), message
    assert ". " not in message, f"not one sentence: {message}"
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert "was not found" in refused(tmp_path / "Register.xlsx")


def test_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "Register.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([["Name", "DOB"], ["Ava Smith", "04/03/2015"]])
    assert refused(path) == (
        "Register.csv is a CSV file; open it in Excel and save it as an Excel workbook (.xlsx), then run again."
    )
    renamed = path.rename(tmp_path / "Register.xlsx")  # a CSV someone renamed to .xlsx
    assert "is a CSV file" in refused(renamed)


def test_legacy_xls(tmp_path: Path) -> None:
    # An Excel 97-2003 file is an OLE compound document: the magic number, then sectors naming a "Workbook" stream.
    path = tmp_path / "Register.xls"
    path.write_bytes(OLE_MAGIC + bytes(504) + "Workbook".encode("utf-16-le") + bytes(1000))
    assert "Excel 97-2003 workbook (.xls)" in refused(path)


def test_password_protected_workbook(tmp_path: Path) -> None:
    # Excel encrypts an .xlsx by wrapping it in an OLE compound document with "EncryptionInfo" and "EncryptedPackage"
    # streams (MS-OFFCRYPTO). This stand-in carries the same header and directory names; no tool here can encrypt.
    path = tmp_path / "Register.xlsx"
    names = "EncryptionInfo".encode("utf-16-le") + bytes(40) + "EncryptedPackage".encode("utf-16-le")
    path.write_bytes(OLE_MAGIC + bytes(504) + names + bytes(2000))
    assert "protected with a password" in refused(path)


def test_corrupt_workbook(tmp_path: Path) -> None:
    path = tmp_path / "Register.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
    assert "damaged" in refused(path)


def test_truncated_workbook(tmp_path: Path, register: Path) -> None:
    path = tmp_path / "Cut.xlsx"
    path.write_bytes(register.read_bytes()[:3000])
    assert "damaged" in refused(path)


def test_other_file_types(tmp_path: Path) -> None:
    path = tmp_path / "Register.pdf"
    path.write_bytes(b"%PDF-1.4\n\x00\x01\x02binary")
    assert "is not an Excel workbook" in refused(path)


def test_workbook_with_no_worksheets(tmp_path: Path) -> None:
    wb = Workbook()
    data = wb.active
    data.append([1, 2, 3])
    chart = BarChart()
    chart.add_data(Reference(data, min_col=1, max_col=3, min_row=1))
    wb.create_chartsheet("Chart").add_chart(chart)
    wb.remove(data)
    path = tmp_path / "Charts.xlsx"
    wb.save(path)
    assert "has no worksheets" in refused(path)


@pytest.mark.parametrize("lock_name", ["~$Register.xlsx", "~$gister.xlsx", ".~lock.Register.xlsx#"])
def test_open_workbook_is_refused_at_read(register: Path, lock_name: str) -> None:
    (register.parent / lock_name).write_text("owner")
    assert "is open in Excel (or LibreOffice)" in refused(register)


def test_lock_appearing_after_read_refuses_the_write_and_writes_nothing(register: Path) -> None:
    original = register.read_bytes()
    adapter = WorkbookRegister(register)
    adapter.read()
    (register.parent / ".~lock.Register.xlsx#").write_text("someone,host,...")
    with pytest.raises(RegisterError, match="close it and run again"):
        adapter.write(make_plan(ONE_RESULT))
    assert register.read_bytes() == original
    assert not (register.parent / ".keeper-backups").exists()
    assert sorted(p.name for p in register.parent.iterdir()) == [".~lock.Register.xlsx#", "Register.xlsx"]


def test_backups_are_timestamped_and_only_the_newest_ten_kept(register: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    start = datetime(2025, 10, 1, 7, 0, 0)
    backups.mkdir()
    (backups / "Other-20250101-070000.xlsx").write_text("another workbook's backup")
    previous = register.read_bytes()
    for run in range(12):
        adapter = WorkbookRegister(register, backup_dir=backups, now=lambda run=run: start + timedelta(days=run))
        adapter.read()
        result = adapter.write(make_plan(ONE_RESULT))
        assert Path(result.backup).read_bytes() == previous  # the backup is the file as it was before this write
        previous = register.read_bytes()
    names = sorted(p.name for p in backups.iterdir() if p.name.startswith("Register-"))
    assert names == [f"Register-202510{d:02d}-070000.xlsx" for d in range(3, 13)]
    assert (backups / "Other-20250101-070000.xlsx").exists()
    # No temporary files are left beside the register.
    assert sorted(p.name for p in register.parent.iterdir()) == ["Register.xlsx"]
