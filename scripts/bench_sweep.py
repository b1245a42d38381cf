"""Benchmark: a full sweep with write-back against a bare openpyxl load + save of the same 2,000-pupil register.

    python -m scripts.bench_sweep [--pupils 2000] [--runs 5]

Prints the median wall time of each and their ratio (target: 1.5 or less), for two registers:
- the daily run: a register that already has its AR columns (every school morning after the first);
- the first run: a register without them, so the sweep appends 10 columns (20,000 cells for 2,000 pupils) that the
  bare save does not have to write.
Each timed run works on a fresh copy of the same file."""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
from openpyxl.styles import PatternFill

from connectors.workbook import WorkbookRegister
from functions.settings import Settings
from functions.sweep import run_sweep
from scripts.make_demo import HEADERS, dob_for_year, upn

TODAY = date(2025, 10, 1)


def build_register(path: Path, pupils: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "EHCP register"
    ws["A1"] = "Trust-wide EHCP register (benchmark, made-up pupils)"
    ws.append([])
    ws.append(HEADERS)
    fills = [PatternFill("solid", fgColor=c) for c in ("FF9999", "FFCC66", "99CC99")]
    for i in range(pupils):
        year = rng.randint(0, 13)
        dob = dob_for_year(year, TODAY, rng.randint(1, 12), rng.randint(1, 28))
        issued = TODAY - timedelta(days=rng.randint(200, 3000))
        last = TODAY - timedelta(days=rng.randint(10, 500)) if rng.random() < 0.85 else None
        decision = last + timedelta(days=rng.randint(10, 40)) if last and rng.random() < 0.6 else None
        if decision and decision > TODAY:
            decision = None
        ws.append(
            [
                f"Pupil{i} Surname{i}",
                upn(i + 1),
                dob,
                f"Y{year}" if year else "R",
                issued,
                last,
                decision,
                rng.choice(["Maintain", "Amend", None]) if decision else None,
                None,
                None,
                rng.choice(["Northshire", "Westborough", "Eastfield"]),
                "On roll" if rng.random() < 0.97 else "Left",
                f"parent{i}@example.org",
                "",
            ]
        )
        r = ws.max_row
        for col in (3, 5, 6, 7):
            ws.cell(row=r, column=col).number_format = "dd/mm/yyyy"
        ws.cell(row=r, column=1).fill = fills[i % 3]
    wb.save(path)
    return path


def bare(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    wb.save(path)


def sweep(path: Path) -> None:
    run_sweep(
        WorkbookRegister(path, backup_dir=path.parent / "backups"),
        today=TODAY,
        settings=Settings(),
        now=lambda: datetime(2025, 10, 1, 7, 0),  # noqa: DTZ001 - a wall-clock stamp for the AR checked cell
    )


def timed(fn, src: Path, work: Path) -> float:
    shutil.copyfile(src, work)
    start = time.perf_counter()
    fn(work)
    return time.perf_counter() - start


def compare(src: Path, work: Path, runs: int) -> tuple[float, float]:
    timed(bare, src, work)  # warm imports and caches
    timed(sweep, src, work)
    bare_times, sweep_times = [], []
    for _ in range(runs):
        bare_times.append(timed(bare, src, work))
        sweep_times.append(timed(sweep, src, work))
    return statistics.median(bare_times), statistics.median(sweep_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"pupils: {args.pupils}, runs: {args.runs} (medians)")
    with tempfile.TemporaryDirectory() as tmp:
        first = build_register(Path(tmp) / "first.xlsx", args.pupils)
        daily = Path(tmp) / "daily.xlsx"
        shutil.copyfile(first, daily)
        sweep(daily)
        work = Path(tmp) / "work.xlsx"
        for label, src in (("daily run (AR columns present)", daily), ("first run (AR columns appended)", first)):
            b, s = compare(src, work, args.runs)
            print(f"{label}: bare load+save {b:.3f} s, sweep with write-back {s:.3f} s, ratio {s / b:.2f}")
    print("target: ratio <= 1.5")


if __name__ == "__main__":
    main()
