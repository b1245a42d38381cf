"""The workbook opened in Excel while a sweep runs (issue 10 item 14). Opened after the read and before the first
email: nothing is sent and the register is untouched (the lock is checked again just before sending). Opened while
the emails go: the sweep stops with the register untouched and says how many emails went and that the ledger keeps
the next run from repeating them; the next run (Excel closed) sends nothing again and writes their cells."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from connectors.base import RegisterData, RegisterError
from connectors.mail import OutboxTransport
from connectors.workbook import WorkbookRegister
from functions.mailer import LEDGER_NAME, FileLedger
from functions.settings import load_settings
from functions.sweep import run_sweep
from tests.e2e.test_emails_cli import as_date, contributions, make_register, outbox_messages, sweep

DAY = date(2025, 9, 30)


def _excel_lock(path: Path) -> Path:
    return path.with_name(f"~${path.name}")


class OpenedAfterReading(WorkbookRegister):
    """The SENDCo opens the workbook just after the sweep has read it."""

    def read(self) -> RegisterData:
        data = super().read()
        _excel_lock(self.path).write_bytes(b"SENDCo")
        return data


class OpensOnTheSecondEmail(OutboxTransport):
    """The SENDCo opens the workbook while the emails are going out."""

    def __init__(self, folder: Path, register: Path) -> None:
        super().__init__(folder)
        self.register = register

    def send(self, message: EmailMessage) -> None:
        super().send(message)
        _excel_lock(self.register).write_bytes(b"SENDCo")


def _run(register: WorkbookRegister, transport: OutboxTransport, folder: Path) -> None:
    run_sweep(
        register,
        today=DAY,
        settings=load_settings(None, register.path),
        transport=transport,
        ledger=FileLedger(folder / LEDGER_NAME),
    )


def test_opened_before_the_first_email_sends_nothing(tmp_path: Path) -> None:
    path = make_register(tmp_path / "school")
    before = path.read_bytes()
    with pytest.raises(RegisterError, match="open in Excel") as caught:
        _run(OpenedAfterReading(path), OutboxTransport(path.parent / "outbox"), path.parent)
    assert "email" not in str(caught.value)
    assert not (path.parent / "outbox").exists() or outbox_messages(path.parent / "outbox") == []
    assert path.read_bytes() == before


def test_opened_while_sending_says_how_many_went_and_the_next_run_writes_them(tmp_path: Path) -> None:
    path = make_register(tmp_path / "school")
    before = path.read_bytes()
    outbox = path.parent / "outbox"
    with pytest.raises(RegisterError, match="open in Excel") as caught:
        _run(WorkbookRegister(path), OpensOnTheSecondEmail(outbox, path), path.parent)
    message = str(caught.value)
    assert "3 emails had already gone" in message, message
    assert "will not send them again" in message
    assert len(outbox_messages(outbox)) == 3
    assert path.read_bytes() == before

    _excel_lock(path).unlink()  # Excel closed
    rerun = sweep(path, DAY.isoformat())
    assert rerun["emails"] == []
    assert len(outbox_messages(outbox)) == 3
    tab = contributions(path)
    assert as_date(tab["EP"]["Requested"]) == DAY
    assert as_date(tab["Parent/carer"]["Requested"]) == DAY
