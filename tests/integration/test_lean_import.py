"""`python main.py sweep` imports openpyxl without numpy (connectors/lean_import.py, issue 16), still writes every
value, and leaves numpy importable; other commands and an already-running process keep openpyxl as they found it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl

from connectors.lean_import import import_openpyxl_without_numpy
from scripts.make_demo import write_demo_register

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2025, 10, 1)

# Runs main.py as `python main.py ...` does (run_name "__main__"), then says what the process ended up with.
PROBE = """
import json, runpy, sys
sys.path.insert(0, {root!r})
sys.argv = ["main.py", *{argv!r}]
try:
    runpy.run_path({main!r}, run_name="__main__")
except SystemExit as exc:
    code = exc.code
import openpyxl
numpy_loaded = "numpy" in sys.modules
import numpy  # still importable afterwards
print(json.dumps({{"code": code, "numpy_loaded": numpy_loaded, "openpyxl_numpy": openpyxl.NUMPY}}))
"""


def probe(argv: list[str], cwd: Path) -> dict[str, object]:
    code = PROBE.format(root=str(ROOT), argv=argv, main=str(ROOT / "main.py"))
    env = {"KEEPER_MAIL": "outbox", "KEEPER_TODAY_ANCHOR": "any", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_sweep_runs_without_numpy_and_writes_its_cells(tmp_path: Path) -> None:
    register = write_demo_register(tmp_path / "register.xlsx", today=TODAY)
    seen = probe(["sweep", str(register), "--today", TODAY.isoformat()], tmp_path)
    assert seen == {"code": 0, "numpy_loaded": False, "openpyxl_numpy": False}
    ws = openpyxl.load_workbook(register)["EHCP register"]
    headers = [c.value for row in ws.iter_rows(max_row=6) for c in row if isinstance(c.value, str)]
    assert any(h.startswith("AR ") for h in headers)  # the AR columns were written and saved
    assert list((tmp_path / "outbox").glob("*.eml"))  # and the emails went


def test_other_commands_keep_openpyxl_as_installed(tmp_path: Path) -> None:
    register = write_demo_register(tmp_path / "register.xlsx", today=TODAY)
    seen = probe(["calendar", str(register), "--today", TODAY.isoformat(), "--out", str(tmp_path / "c.ics")], tmp_path)
    assert seen["openpyxl_numpy"] is True


def test_a_process_that_already_has_openpyxl_is_left_alone() -> None:
    assert "openpyxl" in sys.modules
    assert import_openpyxl_without_numpy() is False
    assert openpyxl.NUMPY is True
