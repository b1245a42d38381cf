"""Which warnings mean "openpyxl would drop something": only openpyxl's own, on the thread loading the register.

Python's warning filters are one per process. A register load that recorded every warning raised meanwhile also took a
ResourceWarning from the garbage collector finalising an earlier unclosed file (collections run inside openpyxl's
allocation-heavy load) or a warning from another of `serve`'s threads, read it as "content openpyxl cannot read", and
sent the results to a copy beside the register: the SENDCo's own file kept no Received date, and the contributor's
second "I've sent it" was thanked again instead of being told it was already received. That was the CI failure of
tests/integration/test_register_adapter_review.py::test_confirming_writes_the_sendcos_received_column_once."""

from __future__ import annotations

import gc
import threading
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.workbook import WorkbookRegister
from functions.confirm import Confirmations, received_plan
from functions.links import LinkSigner
from functions.settings import School, Settings
from scripts.make_demo import contribution_rows
from sheet_schema.contributions import contribution_key
from tests.integration.conftest import rewrite_zip
from tests.integration.test_register_adapter_review import TODAY, demo
from tests.integration.test_workbook_dropped import CROSS_SHEET_LIST


class _Litter:
    """Garbage from an earlier test: a reference cycle whose finaliser warns as an unclosed file does, and leaves the
    same litter behind, so every collection (hundreds during one register load) finalises one."""

    active = False

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        if _Litter.active:
            warnings.warn("unclosed file <_io.BufferedReader name='/tmp/old-report.pdf'>", ResourceWarning, 1)
            _Litter()


@pytest.fixture
def litter() -> Iterator[None]:
    _Litter.active = True
    _Litter()
    try:
        yield
    finally:
        _Litter.active = False
        gc.collect()


@pytest.fixture
def noisy_thread() -> Iterator[None]:
    """Another request of `serve` warning all the while (a socket it dropped unclosed)."""
    stop = threading.Event()

    def warn() -> None:
        while not stop.wait(0.001):
            warnings.warn("unclosed <socket.socket fd=7, family=2, type=1, proto=6>", ResourceWarning, 1)

    thread = threading.Thread(target=warn, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


FIRST = contribution_rows(TODAY)[0]
KEY = contribution_key(str(FIRST[0]), str(FIRST[1]), str(FIRST[3]))


def confirm_twice(tmp_path: Path) -> tuple[str, str, list[str]]:
    path = demo(tmp_path / "register.xlsx")
    signer = LinkSigner("s3cret-s3cret-s3cret", "http://x", "")
    first = contribution_rows(TODAY)[0]
    token = signer.token(
        pupil_ref=str(first[0]), role=str(first[1]), email=str(first[3]), meeting=TODAY + timedelta(days=30)
    )
    school = School("", str(path), Settings())
    confirmations = Confirmations({"": school}, signer, lambda s: WorkbookRegister(s.register), lambda: TODAY)
    once = confirmations.record(token, "sent").kind
    twice = confirmations.record(token, "sent").kind
    return once, twice, sorted(p.name for p in tmp_path.iterdir() if p.is_file())


@pytest.mark.parametrize("noise", ["litter", "noisy_thread"])
def test_someone_elses_warning_during_the_load_does_not_send_the_results_to_a_copy(
    tmp_path: Path, request: pytest.FixtureRequest, noise: str
) -> None:
    request.getfixturevalue(noise)
    once, twice, files = confirm_twice(tmp_path)
    assert (once, twice) == ("thanks", "already")
    assert files == ["register.xlsx"]  # written to the SENDCo's own file, no "(Review Keeper)" copy


def test_openpyxl_warnings_still_count_with_noise_about(tmp_path: Path, litter: None) -> None:
    """A dropdown list pointing at another sheet (an x14 extension openpyxl warns it drops) still sends the results to
    a copy, named for what it is, and the SENDCo's file stays byte for byte as it was."""
    path = demo(tmp_path / "register.xlsx")
    rewrite_zip(path, {}, {"xl/worksheets/sheet1.xml": ("</worksheet>", CROSS_SHEET_LIST)})
    original = path.read_bytes()
    adapter = WorkbookRegister(path)
    adapter.read()
    result = adapter.write(received_plan(KEY, TODAY, "sent"))
    assert path.read_bytes() == original
    assert result.destination == str(path.with_name("register (Review Keeper).xlsx"))
    assert "dropdown lists that point at another sheet" in result.notes[-1]
    assert "content openpyxl cannot read" not in result.notes[-1]
