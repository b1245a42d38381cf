from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANCHOR_ENV = "KEEPER_TODAY_ANCHOR"


def run_main(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python main.py ...` as a SENDCo would, in a child process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPER_") or k == ANCHOR_ENV}
    # The tests' dates are fixed (2025-10-01 mostly) and --today must lie within a year of today: the date --today is
    # checked against is pinned to the test's own --today, or every fixed date would become a "typo" a year after it
    # was written (tests of that check pass their own anchor in `env`).
    if "--today" in args:
        full_env[ANCHOR_ENV] = args[args.index("--today") + 1]
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def sweep_json(path: Path, today: str, *extra: str) -> dict:
    proc = run_main("sweep", str(path), "--today", today, "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def main_runner():
    return run_main


@contextlib.contextmanager
def serve_child(
    register: str, env: dict[str, str], *, cwd: Path | None = None, verbose: bool = True
) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`python main.py serve REGISTER --port 0` as a user runs it, in a child process: yields the port announced on
    its startup line and the process; stopped with SIGTERM (as a service manager would) at the end. `env` is added to
    this process's environment with every KEEPER_ variable removed (the replay anchor kept)."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPER_") or k == "KEEPER_TODAY_ANCHOR"}
    child_env |= env
    args = [sys.executable, str(ROOT / "main.py"), *(["--verbose"] if verbose else []), "serve", register]
    proc = subprocess.Popen(
        [*args, "--port", "0"],
        cwd=cwd or ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
    assert found, (first, proc.poll() is not None and proc.stderr and proc.stderr.read())
    try:
        yield int(found.group(1)), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
