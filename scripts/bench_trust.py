"""Benchmark: a trust's morning against Google Sheets' per-account quota, end to end on local sockets.

    python -m scripts.bench_trust                          # 50 schools x 30 pupils, paced by the Cloud Tasks queue
    python -m scripts.bench_trust --schools 500            # 500 schools x 30 pupils
    python -m scripts.bench_trust --pacing all-at-once     # the old Pub/Sub fan-out: every school at once, no retry
    python -m scripts.bench_trust --page-reads 6           # and the contributors' page reading 6 times a minute

What is real: each school is a Google Sheet in the local Sheets fake (tests/fakes/sheets_api.py) and is swept by the
product's own cloud job (functions.cloud.sweep_schools, with mail off) through the real Sheets connector, with its
timeouts, retries and back-off; the tasks are made by connectors/queue_tasks.py against the Cloud Tasks fake
(tests/fakes/tasks_api.py), with the rate deploy.sh gives the queue.

What is modelled: Google's quota, as a sliding 60-second window of 60 reads and 60 writes per account (one account
here), answering 429 RESOURCE_EXHAUSTED beyond it (refused requests are not counted); Google's latency (0.3-0.8 s a
read, 0.5-1.5 s a write, 0.05 s for a refusal); and the queue's dispatching as Cloud Tasks documents it (a token
bucket at maxDispatchesPerSecond, maxConcurrentDispatches, retries after minBackoff doubling up to maxBackoff,
maxAttempts), the tasks' own scheduleTimes included. The quota and the queue's default pace are the product's own
(connectors/queue_tasks.py: SHEETS_READS_PER_MINUTE, READS_PER_SCHOOL, RESERVED_READS_PER_MINUTE, DEFAULT_RATE).
`--page-reads N` adds the contributors' page, which runs as the same account: N register reads a minute at random
(Poisson) times, each with the page's own 15-second deadline, as a link opened by a person or a mail scanner costs.

The clock is simulated: time runs `--speed` times faster than the wall clock (default 10), for the quota window, the
latencies, the queue and the connector's back-off alike, so a 20-minute morning takes 2 minutes. The product's own
computing time is scaled too (each sweep's few milliseconds of CPU count `--speed` times over), which only makes the
morning look longer than it is.
"""

from __future__ import annotations

import argparse
import heapq
import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from werkzeug.wrappers import Response

from connectors.base import RegisterError
from connectors.queue_tasks import (
    DEFAULT_RATE,
    READS_PER_SCHOOL,
    RESERVED_READS_PER_MINUTE,
    SHEETS_READS_PER_MINUTE,
    CloudTasksQueue,
    QueueConfig,
)
from connectors.sheets import SheetsRegister
from connectors.sheets_http import BoundedHTTPClient, RetryPolicy
from functions.cloud import school_runner, sweep_schools
from functions.setting_tables import MailSettings
from functions.settings import School, Settings
from tests.fakes.sheets_api import FakeSheetsServer, made_up_register
from tests.fakes.tasks_api import QueuePolicy, TokenBucket, fake_cloud_tasks

TODAY = date(2026, 3, 4)
QUOTA = SHEETS_READS_PER_MINUTE  # requests a minute per account: reads, and (separately) writes, the same 60
PAGE_DEADLINE_S = 15.0  # the contributors' page's own deadline for a read (functions/bootstrap.py)
WINDOW = 60.0
PROJECT, LOCATION, QUEUE = "trust-keeper", "europe-west2", "keeper-sweeps"
SWEEP_URL = "https://keeper-sweep-bench.europe-west2.run.app"


class Clock:
    """Simulated seconds since the morning started, running `speed` times faster than the wall clock."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.started = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self.started) * self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)


class QuotaSheets(FakeSheetsServer):
    """The Sheets fake with one account's per-minute quota and Google-like latencies, on the simulated clock."""

    def __init__(self, clock: Clock, seed: int = 11) -> None:
        super().__init__()
        self.clock = clock
        self.rng = random.Random(seed)
        self.windows: dict[str, deque[float]] = {"read": deque(), "write": deque()}
        self.peak = {"read": 0, "write": 0}
        self.refused = {"read": 0, "write": 0}
        self.quota_lock = threading.Lock()

    def _serve(self, method: str, path: str, args: dict[str, list[str]], body: Any, kind: str) -> Response:
        if path == "/token":
            return super()._serve(method, path, args, body, kind)
        bucket = "write" if kind == "batchUpdate" else "read"
        with self.quota_lock:
            now = self.clock.now()
            window = self.windows[bucket]
            while window and window[0] <= now - WINDOW:
                window.popleft()
            refused = len(window) >= QUOTA
            if refused:
                self.refused[bucket] += 1
            else:
                window.append(now)
                self.peak[bucket] = max(self.peak[bucket], len(window))
            latency = 0.05 if refused else self.rng.uniform(*((0.5, 1.5) if bucket == "write" else (0.3, 0.8)))
        self.clock.sleep(latency)
        if refused:
            message = f"Quota exceeded for quota metric '{bucket.title()} requests per minute per user'."
            return Response(
                f'{{"error": {{"code": 429, "message": "{message}", "status": "RESOURCE_EXHAUSTED"}}}}',
                429,
                content_type="application/json",
            )
        return super()._serve(method, path, args, body, kind)


@dataclass(order=True)
class Due:
    at: float
    school: str = field(compare=False)
    attempt: int = field(compare=False, default=1)


@dataclass
class Morning:
    swept: set[str] = field(default_factory=set)
    failed: dict[str, int] = field(default_factory=dict)  # school -> attempts made
    late: dict[str, int] = field(default_factory=dict)  # school -> the attempt that swept it (2 or more)
    attempts: int = 0
    ended: float = 0.0
    most_at_once: int = 0
    durations: list[float] = field(default_factory=list)  # simulated seconds per sweep
    crashes: dict[str, int] = field(default_factory=dict)  # exceptions sweep_schools let through, by class


def sheet_key(school: str) -> str:
    return f"1Bench{school}".ljust(44, "x")


def run_queue(
    schools: dict[str, School], due: list[Due], policy: QueuePolicy, clock: Clock, sheets: QuotaSheets, retry: bool
) -> Morning:
    """Dispatch `due` as the queue would, each dispatch sweeping one school on its own thread."""
    morning = Morning()
    heap = list(due)
    heapq.heapify(heap)
    bucket = TokenBucket(policy.max_dispatches_per_second, policy.max_burst_size)
    lock = threading.Condition()
    running = 0
    base = f"http://{sheets.host}"

    def sweep(task: Due) -> None:
        nonlocal running
        began = clock.now()
        http = BoundedHTTPClient(_anonymous(), base_url=base, policy=RetryPolicy(), sleep=clock.sleep, clock=clock.now)
        try:
            result = sweep_schools(
                schools,
                [task.school],
                today=TODAY,
                open_register=lambda s: SheetsRegister(sheet_key(s.id), http),
                runner=school_runner(_no_mail),
            )
        except Exception as exc:  # a crash the cloud job did not catch: a 500 to the queue, which retries it
            result = {"ok": False}
            with lock:
                morning.crashes[type(exc).__name__] = morning.crashes.get(type(exc).__name__, 0) + 1
        with lock:
            running -= 1
            morning.ended = max(morning.ended, clock.now())
            morning.durations.append(clock.now() - began)
            if result["ok"]:
                morning.swept.add(task.school)
                if task.attempt > 1:
                    morning.late[task.school] = task.attempt
            elif retry and task.attempt < policy.max_attempts:
                heapq.heappush(heap, Due(clock.now() + policy.backoff(task.attempt), task.school, task.attempt + 1))
            else:
                morning.failed[task.school] = task.attempt
            lock.notify_all()

    threads: list[threading.Thread] = []
    with lock:
        while heap or running:
            now = clock.now()
            if not heap or running >= policy.max_concurrent_dispatches:
                lock.wait(timeout=0.05)
                continue
            start = bucket.next_free(max(now, heap[0].at))
            if start > now:
                lock.wait(timeout=min(0.05, (start - now) / clock.speed))
                continue
            task = heapq.heappop(heap)
            bucket.take(now)
            running += 1
            morning.attempts += 1
            morning.most_at_once = max(morning.most_at_once, running)
            thread = threading.Thread(target=sweep, args=(task,), daemon=True)
            threads.append(thread)
            thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return morning


@dataclass
class PageReads:
    """The contributors' page reading registers on the same account while the morning runs."""

    ok: int = 0
    failed: int = 0
    stop: threading.Event = field(default_factory=threading.Event)


def read_pages(per_minute: float, ids: list[str], clock: Clock, sheets: QuotaSheets, pages: PageReads) -> None:
    """One register read at a time at Poisson times, `per_minute` on average, until `pages.stop` is set."""
    rng = random.Random(29)
    base = f"http://{sheets.host}"
    while not pages.stop.is_set():
        clock.sleep(rng.expovariate(per_minute / 60))
        if pages.stop.is_set():
            break
        policy = RetryPolicy(deadline_s=PAGE_DEADLINE_S)
        http = BoundedHTTPClient(_anonymous(), base_url=base, policy=policy, sleep=clock.sleep, clock=clock.now)
        try:
            SheetsRegister(sheet_key(rng.choice(ids)), http).read()
            pages.ok += 1
        except RegisterError:
            pages.failed += 1


def _no_mail(school: School) -> Any:
    raise AssertionError("the schools here send no email (KEEPER_MAIL=none)")


def _anonymous() -> Any:
    from google.auth.credentials import AnonymousCredentials

    return AnonymousCredentials()


def enqueue(ids: list[str], rate: float) -> list[Due]:
    """The tasks as connectors/queue_tasks.py creates them (through the Cloud Tasks fake): school and scheduleTime."""
    start = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
    queue_path = f"projects/{PROJECT}/locations/{LOCATION}/queues/{QUEUE}"
    config = QueueConfig(PROJECT, LOCATION, QUEUE, SWEEP_URL, f"keeper-runner@{PROJECT}.iam.gserviceaccount.com", rate)
    with fake_cloud_tasks(queue_path) as fake:
        CloudTasksQueue.from_env(config, {"CLOUD_TASKS_EMULATOR_HOST": fake.host}, now=lambda: start).enqueue(
            ids, TODAY
        )
        tasks = list(fake.tasks.values())
    return [Due((t.schedule_time - start).total_seconds(), str(t.payload["school"])) for t in tasks]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--pupils", type=int, default=30)
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="the queue's dispatches per second")
    parser.add_argument("--burst", type=int, default=10, help="the queue's burst size (Google picks it; default 10)")
    parser.add_argument("--concurrency", type=int, default=10, help="the queue's max concurrent dispatches")
    parser.add_argument("--pacing", choices=("queue", "all-at-once"), default="queue")
    parser.add_argument("--speed", type=float, default=10.0, help="simulated seconds per wall-clock second")
    parser.add_argument(
        "--page-reads", type=float, default=0.0, help="the contributors' page's register reads a minute (same account)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for name in ("", "werkzeug"):  # the product's and the servers' own log lines would drown the result
        logging.getLogger(name).setLevel(logging.CRITICAL)
    ids = [f"school-{n:03d}" for n in range(args.schools)]
    clock = Clock(args.speed)
    sheets = QuotaSheets(clock)
    with sheets:
        schools: dict[str, School] = {}
        for i, school in enumerate(ids):
            sheets.load(sheet_key(school), {"EHCP register": made_up_register(args.pupils, TODAY, seed=i)})
            settings = Settings(school_name=f"School {i}", mail=MailSettings(kind="none"))
            schools[school] = School(school, sheet_key(school), settings)
        if args.pacing == "queue":
            due = enqueue(ids, args.rate)
            policy = QueuePolicy(args.rate, args.burst, args.concurrency)
        else:
            # dispatch published every school at once; keeper-sweep-event ran up to 20 at a time, without retry.
            due = [Due(0.0, s) for s in ids]
            policy = QueuePolicy(1000.0, len(ids), 20, max_attempts=1)
        clock.started = time.monotonic()
        pages = PageReads()
        reader = threading.Thread(target=read_pages, args=(args.page_reads, ids, clock, sheets, pages), daemon=True)
        if args.page_reads > 0:
            reader.start()
        morning = run_queue(schools, due, policy, clock, sheets, retry=args.pacing == "queue")
        pages.stop.set()
        if reader.is_alive():
            reader.join(timeout=30)
    minutes = morning.ended / 60
    floor = args.schools * READS_PER_SCHOOL / QUOTA
    print(
        f"{args.schools} schools x {args.pupils} pupils, pacing {args.pacing}"
        + (f" at {args.rate:g}/s (burst {args.burst}, {args.concurrency} at once)" if args.pacing == "queue" else "")
        + f", simulated clock x{args.speed:g}"
    )
    if args.pacing == "queue" and args.rate == DEFAULT_RATE:
        print(
            f"  the product's pace: ({QUOTA} - {RESERVED_READS_PER_MINUTE} reserved) reads a minute / "
            f"{READS_PER_SCHOOL} reads a school / 60 = {DEFAULT_RATE:g} schools a second"
        )
    print(
        f"  schools swept: {len(morning.swept)}  failed: {len(morning.failed)}  swept late (retried): {len(morning.late)}"
    )
    print(
        f"  429s seen: {sheets.refused['read']} on reads, {sheets.refused['write']} on writes; attempts {morning.attempts}"
    )
    print(f"  busiest minute: {sheets.peak['read']} reads, {sheets.peak['write']} writes (quota {QUOTA} each)")
    if args.page_reads > 0:
        print(f"  contributors' page: {pages.ok} register reads, {pages.failed} gave up after {PAGE_DEADLINE_S:g} s")
    durations = sorted(morning.durations)
    print(
        f"  one sweep: median {durations[len(durations) // 2]:.1f} s, slowest {durations[-1]:.1f} s (simulated); "
        f"at most {morning.most_at_once} at once"
    )
    print(
        f"  the morning took {minutes:.1f} min; the quota's own limit is {floor:.1f} min "
        f"({args.schools} x {READS_PER_SCHOOL} reads / {QUOTA}); {minutes / floor:.2f}x"
    )
    if morning.failed:
        print(f"  failed: {', '.join(sorted(morning.failed))}")
    if morning.crashes:
        print(f"  sweeps that crashed (not a quota failure): {morning.crashes}")


if __name__ == "__main__":
    main()
