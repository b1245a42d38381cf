"""A save by the SENDCo that leaves the register the same size and, to the file system, the same modification time
(a FAT or exFAT stick keeps times to 2 s or 10 ms, Linux's to a clock tick): the product's write must still see it and
start again from their version, never replace it with one built on what it read before."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import openpyxl

from connectors.base import WritePlan
from connectors.workbook import WorkbookRegister
from tests.integration.test_register_adapter_review import demo

NOTE = "N5"


def sendco_saves(path: Path, text: str, size: int) -> None:
    wb = openpyxl.load_workbook(path)
    wb["EHCP register"][NOTE] = text
    wb.save(path)  # openpyxl, like many editors, writes the file in place (same inode)
    pad_to(path, size)


def pad_to(path: Path, size: int) -> None:
    """Make the saved file exactly `size` bytes with the zip's archive comment (which Excel and openpyxl ignore): a
    save of the same size, whatever the compression of this particular edit came to."""
    with zipfile.ZipFile(path, "a") as archive:
        archive.comment = b""
    spare = size - path.stat().st_size
    assert 0 <= spare < 65_536, spare
    with zipfile.ZipFile(path, "a") as archive:
        archive.comment = b" " * spare


def status_plan() -> WritePlan:
    return WritePlan(
        sheet="EHCP register",
        headers=["AR status"],
        find_header_row=lambda rows: 4,
        key_of=lambda row: row[1] if len(row) > 1 and row[1] else None,
        rows={},
    )


def test_a_same_size_save_within_the_file_systems_time_granularity_is_not_overwritten(tmp_path: Path) -> None:
    path = demo(tmp_path / "register.xlsx")
    size = path.stat().st_size + 4_096  # room for either save to be padded to
    sendco_saves(path, "Mum rang: meeting on 14/11", size)
    register = WorkbookRegister(path)
    register.read()
    before = path.stat()
    time.sleep(0.05)
    sendco_saves(path, "Mum rang: meeting on 15/11", size)  # their edit: one date in a note, the same size
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # the same time, as a coarse file system shows it
    theirs = openpyxl.load_workbook(path)["EHCP register"][NOTE].value

    register.write(status_plan())
    ws = openpyxl.load_workbook(path)["EHCP register"]
    assert ws[NOTE].value == theirs  # their save survives ...
    assert "AR status" in [c.value for c in ws[4]]  # ... and the product's cells went in on top of it
