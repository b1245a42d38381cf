"""Benchmark: what one sweep of a Google Sheet register costs, against the fake Sheets API on a local socket.

    python -m scripts.bench_sheets [--sizes 10,100,1000,10000]

For each register size it prints the HTTP requests the sweep made (read, re-read, write: Google's quota is 60 reads and
60 writes a minute per user), the wall time, and the size of the one batchUpdate body. The request count must not grow
with the number of pupils."""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, datetime

from connectors.sheets import open_sheet_register
from functions.settings import Settings
from functions.sweep import run_sweep
from tests.fakes.sheets_api import FakeSheetsServer, made_up_register

TODAY = date(2025, 10, 1)
KEY = "1BenchBenchBenchBenchBenchBenchBenchBench0"


def bench(server: FakeSheetsServer, pupils: int) -> dict[str, object]:
    server.load(KEY, {"EHCP register": made_up_register(pupils, TODAY), "Contributions": [["Pupil", "Role"]]})
    server.reset_log()
    started = time.perf_counter()
    result = run_sweep(
        open_sheet_register(KEY, emulator_host=server.host),
        today=TODAY,
        settings=Settings(),
        now=lambda: datetime(2025, 10, 1, 7, 0),  # noqa: DTZ001 - a wall-clock stamp for the AR checked cell
    )
    elapsed = time.perf_counter() - started
    writes = [r for r in server.log if r.method == "POST"]
    return {
        "pupils": pupils,
        "requests": server.request_count,
        "reads": server.request_count - len(writes),
        "writes": len(writes),
        "seconds": elapsed,
        "written_rows": result.write.written_rows if result.write else 0,
        "batch_kb": sum(len(json.dumps(r.body)) for r in writes) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000,10000", help="comma-separated register sizes (pupils)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with FakeSheetsServer() as server:
        rows = [bench(server, n) for n in sizes]
    print(
        f"{'pupils':>8} {'requests':>9} {'reads':>6} {'writes':>7} {'rows written':>13} {'batch KB':>9} {'seconds':>8}"
    )
    for r in rows:
        print(
            f"{r['pupils']:>8} {r['requests']:>9} {r['reads']:>6} {r['writes']:>7} {r['written_rows']:>13} "
            f"{r['batch_kb']:>9.0f} {r['seconds']:>8.2f}"
        )


if __name__ == "__main__":
    main()
