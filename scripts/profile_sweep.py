"""Where a whole `main.py sweep` process spends its time: imports, garbage collection, and (with --cprofile) every
function. Runs the sweep in this process exactly as `python main.py sweep ...` would.

    python -m scripts.profile_sweep register.xlsx --today 2025-10-02
    python -m scripts.profile_sweep register.xlsx --today 2025-10-02 --cprofile sweep.prof   # then: python -m pstats

It prints the process's CPU time, the CPU time spent importing `main` (and openpyxl, imported as a sweep imports it:
without numpy, which the floor's openpyxl loads), the number and CPU time of the collector's passes by generation,
and the peak memory (ru_maxrss).
"""

from __future__ import annotations

import gc
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    args = sys.argv[1:]
    prof_out = None
    if "--cprofile" in args:
        i = args.index("--cprofile")
        prof_out = args[i + 1]
        del args[i : i + 2]
    passes = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    started: dict[int, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        generation = info["generation"]
        if phase == "start":
            started[generation] = time.process_time()
        else:
            passes[generation][0] += 1
            passes[generation][1] += time.process_time() - started.get(generation, time.process_time())

    gc.callbacks.append(on_gc)
    cpu0 = time.process_time()
    t0 = time.process_time()
    sys.path.insert(0, str(ROOT))
    # As `python main.py sweep` imports it: without numpy (connectors/lean_import.py; the floor's openpyxl loads it).
    from connectors.lean_import import import_openpyxl_without_numpy

    import_openpyxl_without_numpy()
    import openpyxl  # noqa: F401

    t1 = time.process_time()
    import main as product

    t2 = time.process_time()
    heavy = sorted(
        m for m in ("flask", "functions_framework", "jinja2", "pandas", "docx", "gspread") if m in sys.modules
    )
    if prof_out:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        code = product.main(["sweep", *args], short_run=True)
        profiler.disable()
        profiler.dump_stats(prof_out)
    else:
        code = product.main(["sweep", *args], short_run=True)  # the collector tuned as `python main.py sweep` tunes it
    cpu = time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"exit {code}; CPU {cpu:.2f} s; import openpyxl {t1 - t0:.3f} s, then import main {t2 - t1:.3f} s "
        f"(loaded: {', '.join(heavy) or 'none of flask, functions_framework, jinja2, pandas, docx, gspread'})",
        file=sys.stderr,
    )
    for generation, (count, seconds) in passes.items():
        print(f"gc generation {generation}: {count} passes, {seconds:.3f} s", file=sys.stderr)
    print(f"peak memory {peak:.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
