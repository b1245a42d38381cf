"""No regular expression in the product backtracks catastrophically (issue 10 item 3).

A Year cell of 32,767 characters made year parsing quadratic (`[A-Za-z].*[-−]\\s*\\d`): 30 such rows hung the sweep.
tests/unit/regex_audit.py collects every pattern in the product's source and times it on long adversarial text; it
runs in a child process so that an exponential pattern is stopped by the timeout and named, instead of hanging CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_product_regex_runs_in_linear_time_on_long_adversarial_text() -> None:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.unit.regex_audit"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        started = [line for line in out.splitlines() if line.startswith("start ")]
        raise AssertionError(f"a pattern hung: {started[-1] if started else 'before the first pattern'}") from None
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    (count,) = [r["patterns"] for r in records if "patterns" in r]
    assert count >= 40  # the walk found the product's patterns (45 when this test was written)
    assert [r["unresolved"] for r in records if "unresolved" in r] == []  # write a new pattern as a literal
    slow = [r for r in records if "where" in r]
    assert slow == [], "\n".join(f"{r['where']} {r['method']} on {r['input']}: {r['large']} s" for r in slow)
