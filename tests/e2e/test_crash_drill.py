"""The crash drill (issue 10, the guard): `python main.py sweep` on a 5,000-row register killed with SIGKILL at seeded
random points, some of them while the register is being saved. After every kill the register opens (openpyxl) and is
cell for cell either the original or the complete result; the next run completes it and leaves no temporary file.
Emails are off (KEEPER_MAIL=none) so the complete result is one fixed workbook: what is under test is the save."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from scripts.bench_sweep import build_register
from sheet_schema.ar_columns import AR_CHECKED

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ROWS = 5000
SEED = 20261129
TRIALS = 3  # one at a random moment of the whole run, two at random moments of the save itself
TODAY = "2025-10-01"

Snapshot = dict[str, list[tuple[object, ...]]]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPER_") or k == "KEEPER_TODAY_ANCHOR"}
    env["KEEPER_MAIL"] = "none"
    env["KEEPER_TODAY_ANCHOR"] = TODAY  # --today must lie within a year of this (the test's fixed date)
    return env


def _start(register: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "sweep", str(register), "--today", TODAY],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _complete_run(register: Path) -> float:
    started = time.monotonic()
    proc = _start(register)
    _out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    return time.monotonic() - started


def _snapshot(register: Path) -> Snapshot:
    """Every sheet's values, the run's own timestamp (AR checked) blanked: it differs from run to run."""
    wb = openpyxl.load_workbook(register, read_only=True)
    try:
        out: Snapshot = {}
        for ws in wb.worksheets:
            rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
            stamp = next((r.index(AR_CHECKED) for r in rows[:10] if AR_CHECKED in r), None)
            if stamp is not None:
                rows = [(*r[:stamp], None, *r[stamp + 1 :]) if len(r) > stamp else r for r in rows]
            out[ws.title] = rows
        return out
    finally:
        wb.close()


def _temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".keeper-" in p.name and p.suffix == ".xlsx"]


def test_kill_9_at_random_points_never_leaves_a_broken_or_half_written_register(tmp_path: Path) -> None:
    source = build_register(tmp_path / "source.xlsx", ROWS)
    original = _snapshot(source)
    reference = tmp_path / "reference" / "register.xlsx"
    reference.parent.mkdir()
    shutil.copyfile(source, reference)
    run_time = _complete_run(reference)
    complete = _snapshot(reference)
    assert complete != original

    rng = random.Random(SEED)
    outcomes = []
    for trial in range(TRIALS):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        register = folder / "register.xlsx"
        shutil.copyfile(source, register)
        proc = _start(register)
        if trial < 1:
            time.sleep(rng.uniform(0.2, 1.0) * run_time)
        else:
            deadline = time.monotonic() + 180
            while not _temps(folder) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.5) * run_time * 0.3)  # somewhere in the save and its check
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        after_kill = _snapshot(register)  # it opens
        assert after_kill in (original, complete), f"trial {trial}: neither the original nor the complete result"
        outcomes.append("original" if after_kill == original else "complete")

        _complete_run(register)  # the next run
        assert _temps(folder) == [], f"trial {trial}: a temporary file was left beside the register"
        if trial == TRIALS - 1:  # (once: each snapshot of 5,000 rows costs seconds)
            assert _snapshot(register) == complete
    # The drill means something only if some kills hit before the swap (the register stayed the original).
    assert "original" in outcomes, outcomes
