"""scripts/deploy.sh --trust creates the Cloud Tasks queue that paces a trust's morning inside the Sheets quota (issue
16): its rate, retry policy and permissions, and the dispatch function's settings that point at it. Checked in the
dry run's printed commands and in a real run against the stand-in gcloud of test_deploy_script.py."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from connectors.queue_tasks import DEFAULT_RATE, QueueConfig
from tests.e2e.test_deploy_script import SCRIPT, FakeCloud, dry_run
from tests.fakes.tasks_api import QueuePolicy


def _flags(command: str) -> dict[str, str]:
    words = shlex.split(command[2:])
    return {w: words[i + 1] for i, w in enumerate(words[:-1]) if w.startswith("--")}


def _queue_command(out: str) -> str:
    (line,) = [line for line in out.splitlines() if line.startswith("+ gcloud tasks queues create")]
    return line


def test_the_queue_keeps_one_account_under_the_sheets_quota_and_retries_the_same_morning() -> None:
    flags = _flags(_queue_command(dry_run("--trust", "--mail", "none")))
    rate = float(flags["--max-dispatches-per-second"])
    # docs/register.md s7: each school's sweep is 2 reads and 1 write; Google allows 60 of each a minute per account.
    assert 2 * rate * 60 <= 60
    assert rate == DEFAULT_RATE
    assert flags["--location"] == "europe-west2"
    # Retries: after 1, 2, 4, 8 and 10 minutes, so the last attempt starts within about 25 minutes of the first.
    policy = QueuePolicy(
        max_attempts=int(flags["--max-attempts"]),
        min_backoff=float(flags["--min-backoff"].rstrip("s")),
        max_backoff=float(flags["--max-backoff"].rstrip("s")),
        max_doublings=int(flags["--max-doublings"]),
    )
    waits = [policy.backoff(n) for n in range(1, policy.max_attempts)]
    assert waits == [60, 120, 240, 480, 600]
    assert sum(waits) / 60 < 30


def test_dispatch_is_told_where_the_queue_is_and_the_sweep_may_be_called_by_the_queue() -> None:
    out = dry_run("--trust", "--mail", "none", "--queue-rate", "0.25")
    assert "--max-dispatches-per-second 0.25" in _queue_command(out)
    (dispatch,) = [line for line in out.splitlines() if "--entry-point dispatch" in line]
    env = dict(item.split("=", 1) for item in _flags(dispatch)["--update-env-vars"].split(","))
    config = QueueConfig.from_env({**env, "KEEPER_PROJECT": "oak-keeper"})
    assert config is not None
    assert config.queue_path == "projects/oak-keeper/locations/europe-west2/queues/keeper-sweeps"
    assert config.rate == 0.25  # the queue's rate and the tasks' steps come from the same option
    assert config.target_url.startswith("https://keeper-sweep-")
    assert config.service_account == "keeper-runner@oak-keeper.iam.gserviceaccount.com"
    (sweep,) = [line for line in out.splitlines() if "--entry-point sweep_http" in line]
    assert _flags(sweep)["--max-instances"] == _flags(_queue_command(out))["--max-concurrent-dispatches"]
    assert "add-invoker-policy-binding keeper-sweep --region europe-west2 --project oak-keeper --member " in out
    assert "roles/iam.serviceAccountUser" in out
    assert "cloudtasks.googleapis.com" in out


def test_one_school_makes_no_queue() -> None:
    out = dry_run("--mail", "none")
    assert "tasks queues" not in out
    (sweep,) = [line for line in out.splitlines() if "--entry-point sweep_http" in line]
    assert _flags(sweep)["--max-instances"] == "1"  # one register on disk, one writer


@pytest.mark.parametrize("rate", ["fast", "0", "0.0", "-1", "1,5"])
def test_a_bad_queue_rate_is_refused(rate: str) -> None:
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--project", "p", "--dry-run", "--trust", "--queue-rate", rate],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 64
    assert "--queue-rate" in proc.stderr


def test_a_real_run_creates_the_queue_then_updates_it(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    first = cloud.deploy("--trust", "--mail", "none")
    assert first.returncode == 0, first.stderr
    queue_calls = [c for c in cloud.calls() if c.startswith("tasks queues ")]
    assert queue_calls[0].startswith("tasks queues describe keeper-sweeps")
    assert queue_calls[1].startswith("tasks queues create keeper-sweeps")
    # The fake gcloud answers every `functions describe` with a URL: that is what dispatch is pointed at.
    (dispatch,) = [c for c in cloud.calls() if c.startswith("functions deploy keeper-dispatch")]
    assert "KEEPER_SWEEP_URL=https://keeper-sweep-fake.europe-west2.run.app" in dispatch
    # A queue that exists is updated in place (its tasks kept), not created again.
    (cloud.state / "queue-exists").touch()
    fake = (tmp_path / "bin" / "gcloud").read_text(encoding="utf-8")
    (tmp_path / "bin" / "gcloud").write_text(
        fake.replace('"tasks queues")', '"tasks queues")\n    if [ -e "$state/queue-exists" ]; then exit 0; fi'),
        encoding="utf-8",
    )
    second = cloud.deploy("--trust", "--mail", "none")
    assert second.returncode == 0, second.stderr
    assert any(c.startswith("tasks queues update keeper-sweeps") for c in cloud.calls())
