"""The one bounded retry loop of the Google REST connectors (connectors/http_retry.py): which answers are tried again,
the pauses between tries, and the reason given after the last one."""

from __future__ import annotations

import pytest
import requests

from connectors.http_retry import with_retries


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
