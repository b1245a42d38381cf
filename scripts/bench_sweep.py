"""Benchmark: the whole `python main.py sweep` process against a whole process doing the bare openpyxl load + save of
the same register, as a user meets it (imports, settings, reading, computing, emails, the backup and the save).

    python -m scripts.bench_sweep                                   # 500, 2,000, 10,000 pupils, 5 pairs each
    python -m scripts.bench_sweep --sizes 2000 --runs 3 --modes none --kinds daily     # a quick look
    python -m scripts.bench_sweep --root /tmp/before                # another checkout's main.py (before/after)
    python -m scripts.bench_sweep --sizes 2000 --formulas           # with a 26th column computed by a formula

Registers are generated with a realistic layout (25 columns: a title banner and a confidentiality line above the
header, the SENDCo's own fill colours, a dropdown, frozen panes, date formats, a Key sheet and a Contributions tab with
staff rows for some pupils). Every timed run works on a fresh copy in a fresh folder, after a `sync` (so the file
system's pending work, such as the last run's deleted .eml files, is not charged to the next process that creates
files). Pairs are alternated (floor first, then sweep first, ...) so drift on a shared machine hits both; each figure
is the median over the runs.

- kinds: "first" is a register the product has never seen (AR columns appended, Parent/carer rows seeded, requests
  sent); "daily" is the next weekday's sweep of that register after its first sweep (AR columns present, the
  Contributions tab full, the sent-ledger beside it).
- modes: KEEPER_MAIL=none (AR columns only) and outbox (the default: .eml files written, the sent-ledger kept).
- CPU is the child's user + system time (os.wait4's rusage), wall is the elapsed time, peak memory the child's
  ru_maxrss. No keeper.toml: a register swept with the defaults (so no SENDCo digest).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_DAY = date(2025, 10, 1)  # a Wednesday in term
NEXT_DAY = date(2025, 10, 2)  # the daily sweep: the next weekday

HEADERS = [
    "Pupil name", "UPN", "D.O.B.", "Year", "Gender", "Primary need", "Secondary need", "EHCP issued",
    "Last annual review", "LA decision date", "Outcome", "Next review meeting", "Report sent", "Home LA",
    "Funding band", "Key worker", "Tutor group", "Attendance %", "SALT", "OT", "Transport", "Status",
    "Parent/carer email", "Medical", "Notes",
]  # fmt: skip
DATE_COLUMNS = (3, 8, 9, 10, 12, 13)
NEEDS = ["ASC", "SLCN", "SEMH", "MLD", "SpLD", "PD", "HI", "VI", "SLD"]
FLOOR_CODE = "import sys, openpyxl; wb = openpyxl.load_workbook(sys.argv[1]); wb.save(sys.argv[1])"


def _dob_for_year(year: int, today: date, rng: random.Random) -> date:
    ay = today.year if today.month >= 9 else today.year - 1
    born = ay - year - 5
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return date(born, month, day) if month >= 9 else date(born + 1, month, day)


def _upn(serial: int) -> str:
    body = f"80120{serial:07d}"
    total = sum(int(ch) * weight for weight, ch in zip(range(2, 14), body, strict=True))
    return "ABCDEFGHJKLMNPQRTUVWXYZ"[total % 23] + body


def build_register(path: Path, pupils: int, *, today: date = FIRST_DAY, seed: int = 7, formulas: bool = False) -> Path:
    """A made-up register of `pupils` rows laid out as SENDCos keep theirs (see the module's docstring). `formulas`: a
    26th column, "Review due", computed by a formula from the last review (as many SENDCos keep it)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    rng = random.Random(seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "EHCP register"
    ws["A1"] = "Trust EHCP register (benchmark: made-up pupils)"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    ws["A2"] = "CONFIDENTIAL: special category data. Do not email this file."
    ws["A2"].font = Font(italic=True, color="C00000")
    header_row = 4
    header_fill = PatternFill("solid", fgColor="BDD7EE")
    for col, text in enumerate(HEADERS, start=1):
        cell = ws.cell(row=header_row, column=col, value=text)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    rag = [PatternFill("solid", fgColor=c) for c in ("FF9999", "FFCC66", "99CC99")]
    staff_rows: list[list[object]] = []
    for i in range(pupils):
        year = rng.randint(0, 13)
        dob = _dob_for_year(year, today, rng)
        issued = today - timedelta(days=rng.randint(60, max(61, min(3000, (today - dob).days - 700))))
        held = (today - issued).days  # a plan older than about ten months has had its first review
        last = today - timedelta(days=rng.randint(10, min(420, held))) if held > 300 else None
        decision = last + timedelta(days=rng.randint(10, 40)) if last and rng.random() < 0.6 else None
        decision = decision if decision and decision <= today else None
        planned = today + timedelta(days=rng.randint(5, 80)) if rng.random() < 0.15 else None
        report = last + timedelta(days=rng.randint(3, 14)) if last and rng.random() < 0.5 else None
        report = report if report and report <= today else None
        name = f"Pupil{i} Surname{i}"
        values: list[object] = [
            name, _upn(i + 1), dob, f"Y{year}" if year else "R",
            rng.choice("MF"), rng.choice(NEEDS), rng.choice([*NEEDS, None]), issued, last, decision,
            rng.choice(["Maintain", "Amend"]) if decision else None, planned, report,
            rng.choice(["Northshire", "Westborough", "Eastfield"]), rng.choice("ABCDE"), f"Staff{i % 40}",
            f"{year}{rng.choice('ABC')}", round(rng.uniform(70, 100), 1), rng.random() < 0.4, rng.random() < 0.2,
            rng.choice(["Taxi", "Parent", "Bus", None]), "On roll" if rng.random() < 0.97 else "Left",
            f"parent{i}@example.org" if rng.random() < 0.9 else None,
            rng.choice([None, None, "Epilepsy plan", "Inhaler"]), rng.choice([None, "", "Needs SALT report"]),
        ]  # fmt: skip
        r = header_row + 1 + i
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col, value=value)
            if col in DATE_COLUMNS and isinstance(value, date):
                cell.number_format = "dd/mm/yyyy"
        age = (today - last).days if last else 400
        ws.cell(row=r, column=1).fill = rag[0] if age > 330 else rag[1] if age > 270 else rag[2]
        if rng.random() < 0.3:  # staff already listed for a third of the pupils
            email = f"teacher{i % 60}@school.example.org"
            staff_rows.append([_upn(i + 1), "Class teacher", f"Teacher{i % 60}", email, None, None, None, None, None])
            if rng.random() < 0.5:
                asked = today - timedelta(days=rng.randint(3, 30))
                staff_rows.append([name, "EP", "LA EP team", "ep@la.example.org", asked, None, None, None, None])
    last_row = header_row + pupils
    if formulas:
        col = len(HEADERS) + 1
        ws.cell(row=header_row, column=col, value="Review due").font = Font(bold=True)
        for r in range(header_row + 1, last_row + 1):
            ws.cell(row=r, column=col, value=f'=IF(I{r}="","",EDATE(I{r},12))').number_format = "dd/mm/yyyy"
    outcome = DataValidation(type="list", formula1='"Maintain,Amend,Cease"', allow_blank=True)
    outcome.add(f"K{header_row + 1}:K{last_row + 50}")
    ws.add_data_validation(outcome)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)

    key = wb.create_sheet("Key")
    key["A1"] = "Colour key (name column)"
    for r, (fill, meaning) in enumerate(zip(rag, ("Overdue or nearly", "Start preparing", "Fine"), strict=True), 2):
        key.cell(row=r, column=1).fill = fill
        key.cell(row=r, column=2, value=meaning)
    contributions = wb.create_sheet("Contributions")
    contributions.append(["Pupil", "Role", "Name", "Email", "Requested", "Received", "Chasers", "Last chased", "Notes"])
    for row in staff_rows:
        contributions.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@dataclass(frozen=True)
class Usage:
    cpu: float  # seconds, user + system, of the child alone
    wall: float
    peak_mb: float


def run_measured(argv: list[str], env: dict[str, str], cwd: Path) -> Usage:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[1:3]} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return Usage(rusage.ru_utime + rusage.ru_stime, wall, rusage.ru_maxrss / 1024)


def compile_product(root: Path) -> None:
    """Write the product's .pyc files, as a user's first run does: the children never write them (nor does a shell
    with PYTHONDONTWRITEBYTECODE set), and compiling ~100 modules afresh would add 0.1-0.2 s to every sweep."""
    import compileall

    for name in ("functions", "connectors", "sheet_schema", "review_rules", "reports", "scripts"):
        compileall.compile_dir(root / name, quiet=1, force=False)


def child_env(mode: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEEPER_", "SENDGRID_", "SHEETS_EMULATOR"))}
    env["KEEPER_MAIL"] = mode
    env["KEEPER_TODAY_ANCHOR"] = FIRST_DAY.isoformat()  # the registers' fixed dates are a replay, on purpose
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the .pyc files are written before (compile_product); never during a run
    return env


def fresh_copy(source: Path, tmp: Path, name: str) -> Path:
    """A new folder holding a copy of the source's folder (the register, and for a daily run its sent-ledger)."""
    folder = Path(tempfile.mkdtemp(prefix=name, dir=tmp))
    for item in source.parent.iterdir():
        if item.is_file():
            shutil.copyfile(item, folder / item.name)
    return folder / source.name


def sweep_argv(root: Path, register: Path, today: date) -> list[str]:
    return [sys.executable, str(root / "main.py"), "sweep", str(register), "--today", today.isoformat()]


def prepare(tmp: Path, pupils: int, root: Path, *, formulas: bool = False) -> dict[str, Path]:
    """The first-run register, and the daily one: the first register after one sweep with the outbox by `root`'s
    main.py (the ledger beside it; the .eml files are not needed again)."""
    first = build_register(tmp / f"src-first-{pupils}" / "register.xlsx", pupils, formulas=formulas)
    daily_dir = tmp / f"src-daily-{pupils}"
    daily_dir.mkdir()
    daily = daily_dir / "register.xlsx"
    shutil.copyfile(first, daily)
    run_measured(sweep_argv(root, daily, FIRST_DAY), child_env("outbox"), daily_dir)
    for leftover in ("outbox", ".keeper-backups"):
        shutil.rmtree(daily_dir / leftover, ignore_errors=True)
    return {"first": first, "daily": daily}


def compare(source: Path, today: date, mode: str, runs: int, tmp: Path, root: Path) -> dict[str, list[Usage]]:
    env = child_env(mode)
    out: dict[str, list[Usage]] = {"floor": [], "sweep": []}

    def one(side: str) -> Usage:
        work = fresh_copy(source, tmp, side)
        # The file system's pending work (the copy just made, the last run's 1,386 deleted .eml files) is done before
        # the clock starts: otherwise the next process to create files (a sweep, never the floor) pays for it.
        os.sync()
        if side == "floor":
            usage = run_measured([sys.executable, "-c", FLOOR_CODE, str(work)], env, work.parent)
        else:
            usage = run_measured(sweep_argv(root, work, today), env, work.parent)
        shutil.rmtree(work.parent, ignore_errors=True)
        return usage

    one("floor"), one("sweep")  # warm the page cache and the .pyc files; not counted
    for i in range(runs):
        order = ("floor", "sweep") if i % 2 == 0 else ("sweep", "floor")
        for side in order:
            out[side].append(one(side))
    return out


def _median(values: list[float]) -> float:
    return statistics.median(values)


def report(label: str, result: dict[str, list[Usage]]) -> str:
    floor, sweep = result["floor"], result["sweep"]
    f_cpu, s_cpu = _median([u.cpu for u in floor]), _median([u.cpu for u in sweep])
    f_wall, s_wall = _median([u.wall for u in floor]), _median([u.wall for u in sweep])
    f_mem, s_mem = _median([u.peak_mb for u in floor]), _median([u.peak_mb for u in sweep])
    paired = _median([s.cpu / f.cpu for f, s in zip(floor, sweep, strict=True)])
    return (
        f"{label:<28} CPU floor {f_cpu:6.2f} s sweep {s_cpu:6.2f} s ratio {s_cpu / f_cpu:5.2f} (paired {paired:4.2f}) | "
        f"wall {f_wall:6.2f} / {s_wall:6.2f} s ratio {s_wall / f_wall:5.2f} | "
        f"peak {f_mem:5.0f} / {s_mem:5.0f} MB ratio {s_mem / f_mem:4.2f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,2000,10000", help="pupils per register, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="timed pairs per case (default 5)")
    parser.add_argument("--modes", default="none,outbox", help="KEEPER_MAIL values: none, outbox (default both)")
    parser.add_argument("--kinds", default="daily,first", help="daily, first (default both)")
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose main.py is measured (default this one)")
    parser.add_argument(
        "--prepare-root",
        help="the checkout whose first sweep makes the daily register (default --root): compare two checkouts on the "
        "same registers, and an old, slow one need not make its own",
    )
    parser.add_argument(
        "--formulas", action="store_true", help='add a 26th column, "Review due", computed by a formula in every row'
    )
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    for checkout in {root, Path(args.prepare_root).resolve() if args.prepare_root else root}:
        compile_product(checkout)
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = [m.strip() for m in args.modes.split(",")]
    kinds = [k.strip() for k in args.kinds.split(",")]
    print(f"{root / 'main.py'}: {args.runs} alternated pairs per case, medians (CPU = child user+system time)")
    print("targets: daily <= 1.25x at 2,000 and <= 1.15x at 10,000; first with outbox <= 1.6x at 2,000; peak <= 1.3x")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as name:
        tmp = Path(name)
        for pupils in sizes:
            sources = prepare(
                tmp, pupils, Path(args.prepare_root).resolve() if args.prepare_root else root, formulas=args.formulas
            )
            for kind in kinds:
                for mode in modes:
                    today = FIRST_DAY if kind == "first" else NEXT_DAY
                    result = compare(sources[kind], today, mode, args.runs, tmp, root)
                    print(report(f"{pupils:>6} pupils {kind:<5} {mode:<6}", result), flush=True)


if __name__ == "__main__":
    main()
