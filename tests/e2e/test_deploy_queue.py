"""scripts/deploy.sh --trust creates the Cloud Tasks queue that paces a trust's morning inside the Sheets quota (issue
16): its rate, retry policy and permissions, and the dispatch function's settings that point at it. Checked in the
dry run's printed commands and in a real run against the stand-in gcloud of test_deploy_script.py."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from connectors.queue_tasks import (
    DEFAULT_RATE,
    READS_PER_SCHOOL,
    RESERVED_READS_PER_MINUTE,
    SHEETS_READS_PER_MINUTE,
    QueueConfig,
)
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
    # Each school's sweep is 2 reads and 1 write; Google allows 60 of each a minute per account, and the pace keeps
    # RESERVED_READS_PER_MINUTE of them back (connectors/queue_tasks.py).
    assert READS_PER_SCHOOL * rate * 60 <= SHEETS_READS_PER_MINUTE - RESERVED_READS_PER_MINUTE
    assert rate == DEFAULT_RATE == 0.45
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


def _copy_with_quota(tmp_path: Path, **constants: int) -> Path:
    """scripts/deploy.sh beside a connectors/queue_tasks.py whose quota lines say `constants`."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "connectors").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts" / "deploy.sh")
    source = (SCRIPT.parents[1] / "connectors" / "queue_tasks.py").read_text(encoding="utf-8")
    for name, value in constants.items():
        source, found = re.subn(rf"^{name} = \d+", f"{name} = {value}", source, flags=re.MULTILINE)
        assert found == 1, name
    (tmp_path / "connectors" / "queue_tasks.py").write_text(source, encoding="utf-8")
    return tmp_path / "scripts" / "deploy.sh"


@pytest.mark.parametrize(
    ("constants", "rate"),
    [
        ({}, "0.45"),
        ({"SHEETS_READS_PER_MINUTE": 120, "RESERVED_READS_PER_MINUTE": 12}, "0.9"),  # a raised quota
        ({"READS_PER_SCHOOL": 3}, "0.3"),
        ({"RESERVED_READS_PER_MINUTE": 0}, "0.5"),
    ],
)
def test_the_queues_default_pace_is_worked_out_from_the_products_own_quota_lines(
    tmp_path: Path, constants: dict[str, int], rate: str
) -> None:
    # One place: the queue deploy.sh creates, the tasks' steps (QueueConfig) and bench_trust read the same three lines.
    script = _copy_with_quota(tmp_path, **constants)
    proc = subprocess.run(
        ["bash", str(script), "--project", "oak-keeper", "--dry-run", "--trust", "--mail", "none"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert _flags(_queue_command(proc.stdout))["--max-dispatches-per-second"] == rate
    (dispatch,) = [line for line in proc.stdout.splitlines() if "--entry-point dispatch" in line]
    assert f"KEEPER_TASKS_RATE={rate}," in _flags(dispatch)["--update-env-vars"] + ","


def test_a_copy_without_the_quota_lines_stops_with_one_sentence(tmp_path: Path) -> None:
    script = _copy_with_quota(tmp_path)
    (tmp_path / "connectors" / "queue_tasks.py").write_text("DEFAULT_RATE = 0.45\n", encoding="utf-8")
    proc = subprocess.run(
        ["bash", str(script), "--project", "p", "--dry-run", "--trust"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 70
    assert "could not work out the queue's pace from connectors/queue_tasks.py" in proc.stderr
    assert proc.stdout == ""


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
