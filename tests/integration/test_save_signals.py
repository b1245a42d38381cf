"""Ctrl-C and SIGTERM during a save, sent to a real `python main.py sweep` process the moment its temporary file appears
beside the register (issue 10 item 9): the register is exactly as it was, no temporary file stays, and the process
ends with one sentence, no traceback. Leftovers of saves killed outright are cleared on the next start, and only the
product's own temporary names: a SENDCo's file with a similar name is never touched."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from connectors.files import remove_leftovers, temp_prefix
from scripts.bench_sweep import build_register

ROOT = Path(__file__).resolve().parents[2]
PUPILS = 3000

pytestmark = pytest.mark.slow  # a 3,000-row register saved four times


@pytest.fixture(scope="module")
def big_register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_register(tmp_path_factory.mktemp("big") / "source.xlsx", PUPILS)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPER_") or k == "KEEPER_TODAY_ANCHOR"}
    env["KEEPER_MAIL"] = "none"
    env["KEEPER_TODAY_ANCHOR"] = "2025-10-01"  # --today must lie within a year of this (the test's fixed date)
    return env


def _temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".register.keeper-")]


def _sweep(register: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "sweep", str(register), "--today", "2025-10-01"],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_save_leaves_the_register_as_it_was_and_no_temporary_file(
    big_register: Path, tmp_path: Path, signum: int, code: int
) -> None:
    register = tmp_path / "register.xlsx"
    shutil.copyfile(big_register, register)
    before = register.read_bytes()
    proc = _sweep(register)
    deadline = time.monotonic() + 120
    while not _temps(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert _temps(tmp_path), "the save never started"
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, (proc.returncode, err)
    assert "Traceback" not in err
    assert "was not changed" in err, err
    assert _temps(tmp_path) == []
    assert register.read_bytes() == before
    openpyxl.load_workbook(register, read_only=True).close()


def test_leftovers_of_killed_saves_are_cleared_on_start_and_nothing_else(tmp_path: Path) -> None:
    register = tmp_path / "register.xlsx"
    build_register(register, 5)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    ours = temp_prefix(register)  # ".register.keeper-<host>-<this pid>-": a save of this (live) process
    tag = ours.split("-")[1]
    leftover = tmp_path / f".register.keeper-{tag}-{dead_pid}-abc_1234.xlsx"
    live = tmp_path / f"{ours}zz9_0000.xlsx"
    old_style = tmp_path / ".register.keeper-k2j4_9ab.xlsx"  # an older version's name, just made: kept for now
    sendco_files = [
        tmp_path / ".register.keeper-notes.xlsx",
        tmp_path / "register.keeper-abc_1234.xlsx",
        tmp_path / f".register.keeper-{tag}-{dead_pid}-abc_1234.xlsx.bak",
        tmp_path / f".other.keeper-{tag}-{dead_pid}-abc_1234.xlsx",
    ]
    for path in (leftover, live, old_style, *sendco_files):
        path.write_bytes(b"x")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "sweep", str(register), "--today", "2025-10-01"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert not leftover.exists()
    assert live.exists(), "a save of a running process is never removed"
    assert old_style.exists()
    assert all(p.exists() for p in sendco_files)
    # An hour on, a leftover whose writer cannot be checked goes too; a SENDCo's file never does.
    assert remove_leftovers(register, now=lambda: time.time() + 3601) == [old_style]
    assert all(p.exists() for p in sendco_files)
