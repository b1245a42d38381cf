"""Benchmark: what one sweep of a Microsoft 365 register costs, against the Graph fake on a local socket.

    python -m scripts.bench_graph [--sizes 10,100,1000,10000]

For each register size it prints the HTTP requests the sweep made to Graph ($batch counted as one; Graph throttles
per request and per app, and a workbook session serialises requests on one file), how many requests rode inside the
$batches, the wall time, and the bytes of the write $batch. The request count must not grow with the pupils."""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, datetime

from openpyxl import Workbook

from connectors.graph_http import GraphClient, GraphPolicy
from connectors.graph_register import GraphRegister
from functions.settings import Settings
from functions.sweep import run_sweep
from tests.fakes.graph_api import FakeGraphServer
from tests.fakes.sheets_api import made_up_register

TODAY = date(2025, 10, 1)
LINK = "https://bench.sharepoint.com/:x:/s/SEND/EBenchBench?e=Bench1"


def register(pupils: int) -> Workbook:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "EHCP register"
    for row in made_up_register(pupils, TODAY):
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, date):
                cell.number_format = "dd/mm/yyyy"
            elif isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    book.create_sheet("Contributions").append(["Pupil", "Role"])
    return book


def bench(server: FakeGraphServer, pupils: int) -> dict[str, float]:
    server.add_workbook(register(pupils), sharing_url=LINK)
    server.reset_log()
    client = GraphClient(
        lambda **_: "bench-token", base_url=f"http://{server.host}", policy=GraphPolicy(deadline_s=600)
    )
    started = time.perf_counter()
    result = run_sweep(
        GraphRegister(LINK, client),
        today=TODAY,
        settings=Settings(),
        now=lambda: datetime(2025, 10, 1, 7, 0),  # noqa: DTZ001 - a wall-clock stamp for the AR checked cell
    )
    elapsed = time.perf_counter() - started
    log = server.graph_log
    writes = [r for r in log if any(s.get("method") != "GET" for s in r.batch)]
    return {
        "pupils": pupils,
        "requests": len(log),
        "inside": sum(len(r.batch) for r in log),
        "seconds": elapsed,
        "written": result.write.written_rows if result.write else 0,
        "write_kb": sum(len(json.dumps(r.body)) for r in writes) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,1000,10000", help="comma-separated register sizes (pupils)")
    args = parser.parse_args()
    with FakeGraphServer() as server:
        rows = [bench(server, int(n)) for n in args.sizes.split(",")]
    print(f"{'pupils':>8} {'requests':>9} {'in $batch':>10} {'rows written':>13} {'write KB':>9} {'seconds':>8}")
    for r in rows:
        print(f"{r['pupils']:>8} {r['requests']:>9} {r['inside']:>10} {r['written']:>13} {r['write_kb']:>9.0f} "
              f"{r['seconds']:>8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
