"""Two `python main.py sweep` processes started at once on one register (a scheduled run and the SENDCo's own, issue 10
item 6): one sweep per register at a time (the lease beside the workbook), so no email goes twice and no Parent/carer
row is added twice, whichever of the two ran or waited or gave up."""

from __future__ import annotations

import email
import os
import subprocess
import sys
from collections import Counter
from email import policy
from pathlib import Path

import openpyxl

from connectors.lease_file import FileLease
from scripts.bench_sweep import build_register

ROOT = Path(__file__).resolve().parents[2]
PUPILS = 150


def _start(register: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "sweep", str(register), "--today", "2025-10-01"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _emails(outbox: Path) -> Counter[tuple[str, str, str]]:
    seen: Counter[tuple[str, str, str]] = Counter()
    for path in outbox.glob("*.eml"):
        with path.open("rb") as fh:
            message = email.message_from_binary_file(fh, policy=policy.default)
        seen[(str(message["To"]), str(message["Subject"]), str(message["X-Review-Keeper-Kind"]))] += 1
    return seen


def _contribution_rows(register: Path) -> Counter[tuple[object, ...]]:
    ws = openpyxl.load_workbook(register, read_only=True)["Contributions"]
    rows = list(ws.iter_rows(values_only=True))
    return Counter(tuple(row[:4]) for row in rows[1:] if any(v is not None for v in row))


def test_two_sweeps_at_once_send_each_email_once_and_add_each_row_once(tmp_path: Path) -> None:
    register = build_register(tmp_path / "register.xlsx", PUPILS)
    (tmp_path / "keeper.toml").write_text('sendco_email = "sendco@school.example.org"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPER_") or k == "KEEPER_TODAY_ANCHOR"}
    env["KEEPER_TODAY_ANCHOR"] = "2025-10-01"  # --today must lie within a year of this (the test's fixed date)
    env["KEEPER_LEASE_WAIT"] = "120"  # long enough that the second waits for the first, then runs and finds it done
    first, second = _start(register, env), _start(register, env)
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], results
    emails = _emails(tmp_path / "outbox")
    assert sum(emails.values()) > PUPILS // 4, "too few emails were due for the test to mean anything"
    assert [k for k, n in emails.items() if n > 1] == []
    rows = _contribution_rows(register)
    assert sum(k[1] == "Parent/carer" for k in rows) > PUPILS // 2
    assert [k for k, n in rows.items() if n > 1] == []
    assert not list(tmp_path.glob(".register.xlsx.keeper-lease*")), "the lease is released"


def test_the_second_sweep_gives_up_after_its_wait_and_says_why(tmp_path: Path) -> None:
    register = build_register(tmp_path / "register.xlsx", PUPILS)
    before = register.read_bytes()
    running = FileLease(tmp_path / ".register.xlsx.keeper-lease")  # a sweep (this test's live process) holds it
    assert running.try_acquire()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPER_") or k == "KEEPER_TODAY_ANCHOR"}
    env["KEEPER_TODAY_ANCHOR"] = "2025-10-01"  # --today must lie within a year of this (the test's fixed date)
    env["KEEPER_LEASE_WAIT"] = "1"
    second = _start(register, env)
    _out, err = second.communicate(timeout=120)
    assert second.returncode == 2
    assert "already running" in err, err
    assert "without sending or writing anything" in err
    assert "Traceback" not in err
    assert register.read_bytes() == before
    assert not (tmp_path / "outbox").exists()
    running.release()
    after = _start(register, env)
    after.communicate(timeout=300)
    assert after.returncode == 0
