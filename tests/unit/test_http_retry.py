"""The one bounded retry loop of the Google REST connectors (connectors/http_retry.py): which answers are tried again,
the pauses between tries, and the reason given after the last one."""

from __future__ import annotations

import threading

import pytest
import requests

from connectors.http_retry import Deadline, DeadlinePassed, with_retries


def answer(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    return response


@pytest.mark.parametrize(
    ("answers", "status", "problem", "pauses"),
    [
        ([200], 200, "", []),
        ([503, 200], 200, "", [1.0]),
        ([429, 500, 404], 404, "", [1.0, 2.0]),  # a 404 is final: the caller says what to fix
        ([503, 503, 503, 503], None, "Pub/Sub answered 503", [1.0, 2.0, 4.0]),
        ([requests.Timeout(), requests.Timeout(), requests.Timeout(), requests.Timeout()], None,
         "no answer from Pub/Sub (Timeout)", [1.0, 2.0, 4.0]),
    ],
)  # fmt: skip
def test_transient_failures_are_retried_boundedly(
    answers: list[object], status: int | None, problem: str, pauses: list[float]
) -> None:
    slept: list[float] = []
    left = list(answers)

    def call() -> requests.Response:
        item = left.pop(0)
        if isinstance(item, Exception):
            raise item
        assert isinstance(item, int)
        return answer(item)

    response, why = with_retries(call, attempts=4, sleep=slept.append, service="Pub/Sub")
    assert (response.status_code if response is not None else None, why, slept) == (status, problem, pauses)


def test_pauses_stop_growing_at_the_cap() -> None:
    slept: list[float] = []
    with_retries(lambda: answer(503), attempts=6, sleep=slept.append, service="Cloud Storage", cap_s=4.0)
    assert slept == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_given_wait_decides_the_pauses_and_sees_retry_after() -> None:
    asked: list[tuple[int, float | None]] = []
    throttled = answer(429)
    throttled.headers["Retry-After"] = "3"
    left = [answer(503), throttled, answer(200)]

    def wait(failures: int, hint: float | None) -> bool:
        asked.append((failures, hint))
        return True

    response, why = with_retries(lambda: left.pop(0), attempts=4, sleep=pytest.fail, service="Drive", wait=wait)
    assert (response is not None and response.status_code, why, asked) == (200, "", [(1, None), (2, 3.0)])
    # A wait that says no ends the tries at once, with the reason.
    response, why = with_retries(
        lambda: answer(503), attempts=4, sleep=pytest.fail, service="Drive", wait=lambda *a: False
    )
    assert (response, why) == (None, "Drive answered 503")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_one_submissions_calls_share_a_deadline_until_a_quiet_spell() -> None:
    clock = Clock()
    deadline = Deadline(20.0, quiet_s=2.0, clock=clock, sleep=clock.sleep)
    with deadline.operation(fresh=True):  # the form's full text read back
        clock.now += 12.0
    clock.now += 1.0  # the files follow at once: the same submission
    with deadline.operation():
        assert deadline.left() == 7.0
        assert deadline.timeout((10.0, 60.0)) == (7.0, 7.0)  # no request may outlast the deadline
        clock.now += 7.0
        with pytest.raises(DeadlinePassed):
            deadline.timeout((10.0, 60.0))
    clock.now += 2.0  # quiet for 2 s: the next contributor
    with deadline.operation():
        assert deadline.timeout((10.0, 60.0)) == (10.0, 20.0)


def test_a_retry_waits_for_retry_after_but_never_past_the_deadline() -> None:
    clock = Clock()
    deadline = Deadline(20.0, clock=clock, sleep=clock.sleep)
    wait = deadline.waiter(backoff_s=0.5, cap_s=8.0, longest_wait_s=10.0, service="Drive")
    with deadline.operation():
        assert wait(1, 6.0)
        assert clock.now == 106.0  # Retry-After over the backoff
        assert not wait(2, 11.0)  # longer than a contributor waits on the page
        assert wait(2, None)
        assert 106.5 <= clock.now <= 107.0  # the backoff with jitter: 0.5 to 1 s
        clock.now = 118.0
        assert not wait(3, 3.0)  # would end at 121 s, past the deadline (120 s)
        assert clock.now == 118.0


def test_each_thread_has_its_own_deadline() -> None:
    clock = Clock()
    deadline = Deadline(20.0, clock=clock, sleep=clock.sleep)
    seen: list[float] = []
    with deadline.operation():
        clock.now += 15.0

        def other_contributor() -> None:
            with deadline.operation():
                seen.append(deadline.left())

        worker = threading.Thread(target=other_contributor)
        worker.start()
        worker.join()
        assert deadline.left() == 5.0
    assert seen == [20.0]


def test_a_stores_policy_gives_one_submission_its_deadline_and_its_wait() -> None:
    from dataclasses import dataclass

    from connectors.http_retry import submission_deadline

    @dataclass(frozen=True)
    class Policy:
        deadline_s: float = 3.0
        quiet_s: float = 0.5
        backoff_s: float = 0.1
        backoff_cap_s: float = 0.4
        longest_wait_s: float = 1.0

    now = [100.0]
    slept: list[float] = []
    deadline, wait = submission_deadline(Policy(), service="test storage", clock=lambda: now[0], sleep=slept.append)
    with deadline.operation():
        assert deadline.left() == 3.0
        assert wait(1, 0.5) is True  # Retry-After 0.5 s, inside the 3 s: waited
        assert slept == [0.5]
        assert wait(1, 2.0) is False  # longer than the 1 s a contributor may be kept waiting: given up
        now[0] += 2.9
        assert wait(3, None) is False  # the third pause (0.2-0.4 s) would end past the deadline, 0.1 s away
