"""connectors/queue_tasks.py against the Cloud Tasks fake on a real local socket: one task per school, stepped at the
queue's rate, named per school and day so a second dispatch adds nothing, with bounded retries."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from connectors.queue_tasks import (
    DEFAULT_RATE,
    READS_PER_SCHOOL,
    RESERVED_READS_PER_MINUTE,
    SHEETS_READS_PER_MINUTE,
    CloudTasksQueue,
    EnqueueError,
    QueueConfig,
    pace,
    task_id,
)
from tests.fakes.tasks_api import QueuePolicy, TokenBucket, fake_cloud_tasks

QUEUE = "projects/trust-keeper/locations/europe-west2/queues/keeper-sweeps"
START = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
DAY = date(2026, 3, 4)
ENV = {
    "KEEPER_TASKS_QUEUE": "keeper-sweeps",
    "KEEPER_PROJECT": "trust-keeper",
    "KEEPER_TASKS_LOCATION": "europe-west2",
    "KEEPER_SWEEP_URL": "https://keeper-sweep-abc.europe-west2.run.app",
    "KEEPER_TASKS_SERVICE_ACCOUNT": "keeper-runner@trust-keeper.iam.gserviceaccount.com",
    "KEEPER_TASKS_RATE": "0.4",
}


def make_queue(host: str, **kwargs: object) -> CloudTasksQueue:
    config = QueueConfig.from_env(ENV)
    assert config is not None
    return CloudTasksQueue.from_env(
        config, {"CLOUD_TASKS_EMULATOR_HOST": host}, now=lambda: START, sleep=lambda s: None, **kwargs
    )


def test_one_task_per_school_stepped_at_the_queues_rate() -> None:
    with fake_cloud_tasks(QUEUE) as fake:
        done = make_queue(fake.host).enqueue(["oak", "elm", "ash"], DAY)
        assert [e.school for e in done] == ["oak", "elm", "ash"]
        assert not any(e.existed for e in done)
        tasks = sorted(fake.tasks.values(), key=lambda t: t.schedule_time)
    # 0.4 a second: one school every 2.5 s, the first straight away.
    assert [t.schedule_time - START for t in tasks] == [timedelta(0), timedelta(seconds=2.5), timedelta(seconds=5)]
    assert [t.payload for t in tasks] == [{"school": "oak"}, {"school": "elm"}, {"school": "ash"}]
    for t in tasks:
        assert t.url == ENV["KEEPER_SWEEP_URL"]
        assert t.audience == ENV["KEEPER_SWEEP_URL"]
        assert t.service_account == ENV["KEEPER_TASKS_SERVICE_ACCOUNT"]
        assert t.dispatch_deadline == "540s"


def test_a_task_created_after_its_turn_is_due_now_and_the_rest_keep_their_step() -> None:
    # Cloud Tasks answering slowly (10 s a task, as during its own retries): the tasks' times would fall in the past,
    # and the queue would dispatch them as fast as its burst allows, reads bunched. Each is due on creation instead,
    # and never sooner than one step (1 / rate) after the one before.
    clock = {"now": START}

    def now() -> datetime:
        moment = clock["now"]
        clock["now"] = moment + timedelta(seconds=10)
        return moment

    config = QueueConfig.from_env(ENV)
    assert config is not None
    with fake_cloud_tasks(QUEUE) as fake:
        queue = CloudTasksQueue.from_env(config, {"CLOUD_TASKS_EMULATOR_HOST": fake.host}, now=now, sleep=lambda s: 0)
        queue.enqueue(["oak", "elm", "ash"], DAY)
        times = sorted(t.schedule_time - START for t in fake.tasks.values())
    assert times == [timedelta(0), timedelta(seconds=10), timedelta(seconds=20)]

    # Creating faster than the step (the usual case): exactly start + n / rate, as the queue's rate allows.
    clock["now"] = START
    with fake_cloud_tasks(QUEUE) as fake:
        queue = CloudTasksQueue.from_env(
            config, {"CLOUD_TASKS_EMULATOR_HOST": fake.host}, now=lambda: START, sleep=lambda s: 0
        )
        queue.enqueue(["oak", "elm", "ash", "yew"], DAY)
        times = sorted(t.schedule_time - START for t in fake.tasks.values())
    assert times == [timedelta(seconds=2.5 * n) for n in range(4)]


@pytest.mark.parametrize(
    ("reads_per_minute", "reads_per_school", "reserved", "schools_a_second"),
    [
        (60, 2, 6, 0.45),  # Google's default Sheets quota: 27 schools, 54 reads a minute
        (60, 2, 0, 0.5),  # the whole quota, nothing kept back
        (120, 2, 12, 0.9),  # a project whose quota Google raised to 120: twice the pace
        (60, 3, 6, 0.3),  # a sweep that read three times would have to go slower
    ],
)
def test_the_pace_is_the_quota_less_the_reserve_over_the_reads_a_school(
    reads_per_minute: int, reads_per_school: int, reserved: int, schools_a_second: float
) -> None:
    assert pace(reads_per_minute, reads_per_school, reserved) == pytest.approx(schools_a_second)


def test_the_default_pace_keeps_one_account_a_tenth_under_its_read_quota() -> None:
    assert (SHEETS_READS_PER_MINUTE, READS_PER_SCHOOL, RESERVED_READS_PER_MINUTE) == (60, 2, 6)
    assert DEFAULT_RATE == pace() == pytest.approx(0.45)
    assert DEFAULT_RATE * 60 * READS_PER_SCHOOL <= 0.9 * SHEETS_READS_PER_MINUTE
    no_rate = {k: v for k, v in ENV.items() if k != "KEEPER_TASKS_RATE"}
    config = QueueConfig.from_env(no_rate)
    assert config is not None
    assert config.rate == DEFAULT_RATE


def test_a_second_dispatch_the_same_morning_enqueues_nothing_twice() -> None:
    with fake_cloud_tasks(QUEUE) as fake:
        make_queue(fake.host).enqueue(["oak", "elm"], DAY)
        again = make_queue(fake.host).enqueue(["oak", "elm", "ash"], DAY)
        assert [e.existed for e in again] == [True, True, False]
        assert len(fake.tasks) == 3
        tomorrow = make_queue(fake.host).enqueue(["oak"], DAY + timedelta(days=1))
        assert not tomorrow[0].existed
        assert len(fake.tasks) == 4


def test_task_ids_are_the_apis_characters_and_differ_by_school_and_day() -> None:
    assert task_id("elm-primary", DAY).endswith("-elm-primary-20260304")
    assert task_id("oak", DAY) != task_id("oak", DAY + timedelta(days=1))
    assert task_id("oak", DAY) == task_id("oak", DAY)
    assert all(ch.isalnum() or ch in "-_" for ch in task_id("elm-primary", DAY))
    # The monthly plan's task for a school is named apart from the same morning's sweep (docs: README, a trust's plan).
    assert task_id("oak", DAY, "plan").endswith("-oak-20260304-plan")
    assert task_id("oak", DAY, "plan") != task_id("oak", DAY)
    assert task_id("oak", DAY, "sweep") == task_id("oak", DAY)


def test_a_busy_api_is_retried_a_bounded_number_of_times() -> None:
    with fake_cloud_tasks(QUEUE) as fake:
        fake.fail_next, fake.fail_status = 2, 503
        done = make_queue(fake.host).enqueue(["oak"], DAY)
        assert len(done) == 1
        assert fake.calls == 3
        fake.fail_next, fake.fail_status = 10, 429
        with pytest.raises(EnqueueError, match="after 4 tries: Cloud Tasks answered 429"):
            make_queue(fake.host).enqueue(["elm"], DAY)
        assert fake.calls == 3 + 4


def test_a_missing_queue_names_the_fix() -> None:
    with (
        fake_cloud_tasks("projects/trust-keeper/locations/europe-west2/queues/other") as fake,
        pytest.raises(EnqueueError, match=r"does not exist; run scripts/deploy\.sh --trust"),
    ):
        make_queue(fake.host).enqueue(["oak"], DAY)


def test_the_task_body_is_what_the_api_documents() -> None:
    config = QueueConfig.from_env(ENV)
    assert config is not None
    body = CloudTasksQueue(config).task_body("oak", DAY, START)
    http = body["task"]["httpRequest"]
    assert json.loads(base64.b64decode(http["body"])) == {"school": "oak"}
    assert http["headers"] == {"Content-Type": "application/json"}
    assert body["task"]["scheduleTime"] == "2026-03-04T07:00:00.000000Z"
    assert body["task"]["name"].startswith(QUEUE + "/tasks/")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"KEEPER_SWEEP_URL": ""}, "KEEPER_SWEEP_URL is not"),
        ({"KEEPER_TASKS_RATE": "fast"}, 'KEEPER_TASKS_RATE is "fast"'),
        ({"KEEPER_TASKS_RATE": "0"}, 'KEEPER_TASKS_RATE is "0"'),
    ],
)
def test_bad_queue_settings_are_one_sentence(change: dict[str, str], message: str) -> None:
    with pytest.raises(EnqueueError, match=message):
        QueueConfig.from_env({**ENV, **change})


def test_no_queue_configured_is_none() -> None:
    assert QueueConfig.from_env({}) is None


# The queue model bench_trust.py paces with: Cloud Tasks' documented retry schedule and token bucket.
@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(1, 60), (2, 120), (3, 240), (4, 480), (5, 600), (6, 600)],  # min 60 s, 3 doublings, then linear, max 600 s
)
def test_retry_backoff_follows_the_queue_config(failures: int, seconds: float) -> None:
    assert QueuePolicy(min_backoff=60, max_backoff=600, max_doublings=3).backoff(failures) == seconds


def test_the_token_bucket_spaces_dispatches_at_the_rate() -> None:
    bucket = TokenBucket(rate=0.5, burst=1)
    times = []
    now = 0.0
    for _ in range(4):
        now = bucket.next_free(now)
        bucket.take(now)
        times.append(now)
    assert times == [0.0, 2.0, 4.0, 6.0]
