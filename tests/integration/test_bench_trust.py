"""scripts/bench_trust.py still runs a trust's morning end to end (the product's cloud job, the real Sheets connector,
the local Sheets fake with its per-account quota, the tasks made by connectors/queue_tasks.py) at the product's own
pace, and reports it against the quota's own limit. A few schools on a fast simulated clock: seconds, not minutes."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from connectors.queue_tasks import DEFAULT_RATE
from scripts import bench_trust


@pytest.fixture
def log_levels_kept() -> Iterator[None]:
    """bench_trust.main quiets the root and werkzeug loggers for its printout; later tests' caplog needs them as they were."""
    loggers = [logging.getLogger(name) for name in ("", "werkzeug")]
    levels = [logger.level for logger in loggers]
    handlers = list(logging.getLogger().handlers)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)
    for handler in logging.getLogger().handlers:
        if handler not in handlers:  # what logging.basicConfig may have added
            logging.getLogger().removeHandler(handler)


@pytest.mark.usefixtures("log_levels_kept")
def test_a_small_morning_at_the_products_pace_sweeps_every_school_inside_the_quota(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench_trust.main(["--schools", "6", "--pupils", "5", "--speed", "20"])
    out = capsys.readouterr().out
    assert f"pacing queue at {DEFAULT_RATE:g}/s" in out
    assert "(60 - 6 reserved) reads a minute / 2 reads a school / 60 = 0.45 schools a second" in out
    assert "schools swept: 6  failed: 0" in out
    assert "429s seen: 0 on reads, 0 on writes; attempts 6" in out
    # 6 schools one step (1 / 0.45 s) apart: the last starts 11.1 simulated seconds in; the floor is 6 x 2 / 60 min.
    minutes = float(re.search(r"the morning took ([\d.]+) min", out).group(1))  # type: ignore[union-attr]
    assert 0.15 <= minutes < 0.5
    assert "the quota's own limit is 0.2 min (6 x 2 reads / 60)" in out


def test_sweeps_started_together_in_one_process_share_the_bank_holiday_calendar_safely() -> None:
    # bench_trust's all-at-once morning (20 sweeps on threads at once) crashed with AttributeError: one thread found the
    # United Kingdom calendar module in sys.modules while another was still executing it. `main.py serve` answers
    # contributors' pages on threads too. Each round starts fresh, as a new process would.
    import sys
    import threading

    from review_rules import school_days

    def look(barrier: threading.Barrier, found: list[object]) -> None:
        barrier.wait()
        try:
            found.append(len(school_days.bank_holidays(2031)))
        except Exception as exc:  # the race, if it is back
            found.append(exc)

    for _ in range(5):
        school_days._united_kingdom.cache_clear()
        school_days.bank_holidays.cache_clear()
        sys.modules.pop("holidays.countries.united_kingdom", None)
        barrier = threading.Barrier(12)
        found: list[object] = []
        threads = [threading.Thread(target=look, args=(barrier, found)) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert found == [8] * 12  # England's 8 bank holidays in 2031
