"""The sweep lease (issue 10 item 6): the lock file on a real disk, and the Cloud Storage object against a local fake of
the JSON API on a real socket (tests/fakes/gcs_api.py), through the same port and the same `held` helper."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from connectors.lease import LeaseError, SweepAlreadyRunning, held
from connectors.lease_file import FileLease
from connectors.lease_gcs import GcsLease
from functions import bootstrap
from functions.settings import SettingsError
from tests.fakes.gcs_api import fake_gcs


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


# ------------------------------------------------------------------------------------------------------ the file


def test_one_holder_at_a_time_and_release_frees_it(tmp_path: Path) -> None:
    path = tmp_path / ".register.xlsx.keeper-lease"
    first, second = FileLease(path), FileLease(path)
    assert first.try_acquire()
    assert json.loads(path.read_text())["pid"] > 0
    assert not second.try_acquire()
    first.release()
    assert not path.exists()
    assert second.try_acquire()


def test_a_dead_holder_on_this_computer_is_recovered_at_once(tmp_path: Path) -> None:
    path = tmp_path / "lease"
    dead = FileLease(path, pid=_dead_pid())
    assert dead.try_acquire()
    assert FileLease(path).try_acquire()


def test_a_holder_elsewhere_is_recovered_only_when_older_than_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "lease"
    clock = [1_000_000.0]
    assert FileLease(path, host="other-computer", now=lambda: clock[0]).try_acquire()
    waiting = FileLease(path, now=lambda: clock[0], stale_after=1800)
    clock[0] += 1799
    assert not waiting.try_acquire()
    clock[0] += 2
    assert waiting.try_acquire()


def test_an_unwritten_lease_file_is_recovered_after_a_grace(tmp_path: Path) -> None:
    path = tmp_path / "lease"
    path.write_text("")  # a holder killed between creating the file and writing it
    assert not FileLease(path).try_acquire()
    assert FileLease(path, now=lambda: time.time() + 11).try_acquire()


def test_release_never_deletes_a_lease_someone_else_took_since(tmp_path: Path) -> None:
    path = tmp_path / "lease"
    clock = [0.0]
    old = FileLease(path, host="other-computer", now=lambda: clock[0])
    assert old.try_acquire()
    clock[0] += 3600
    new = FileLease(path, now=lambda: clock[0] + 0.0)
    assert new.try_acquire()  # the old one is stale: broken and taken
    old.release()
    assert path.exists()
    assert not FileLease(path, now=lambda: clock[0]).try_acquire()


def test_racing_threads_never_hold_it_together(tmp_path: Path) -> None:
    path = tmp_path / "lease"
    holders, most, lock = [0], [0], threading.Lock()

    def worker() -> None:
        lease = FileLease(path)
        for _ in range(30):
            if lease.try_acquire():
                with lock:
                    holders[0] += 1
                    most[0] = max(most[0], holders[0])
                time.sleep(0.001)
                with lock:
                    holders[0] -= 1
                lease.release()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1


def test_held_waits_a_bounded_time_then_says_a_sweep_is_running(tmp_path: Path) -> None:
    path = tmp_path / "lease"
    assert FileLease(path).try_acquire()
    started = time.monotonic()
    with pytest.raises(SweepAlreadyRunning, match="already running") as caught, held(FileLease(path), wait=0.5):
        pass
    assert 0.5 <= time.monotonic() - started < 10  # bounded (generous: the test machine is shared)
    assert "without sending or writing anything" in str(caught.value)


def _fail_holding(path: Path, problem: type[BaseException]) -> None:
    with held(FileLease(path), wait=0):
        assert path.exists()
        raise problem


def test_held_releases_on_error_and_on_ctrl_c(tmp_path: Path) -> None:
    path = tmp_path / "lease"
    for problem in (ValueError, KeyboardInterrupt):
        with pytest.raises(problem):
            _fail_holding(path, problem)
        assert not path.exists()


# ------------------------------------------------------------------------------------------------ Cloud Storage


def test_gcs_one_holder_at_a_time_with_generation_preconditions() -> None:
    with fake_gcs("keeper-state") as gcs:
        first = GcsLease.connect("keeper-state", "review-keeper/leases/oak.json", emulator_host=gcs.host)
        second = GcsLease.connect("keeper-state", "review-keeper/leases/oak.json", emulator_host=gcs.host)
        assert first.try_acquire()
        assert not second.try_acquire()
        creates = [p for m, p in gcs.calls if m == "POST"]
        assert all("ifGenerationMatch=0" in p for p in creates)
        first.release()
        assert any(m == "DELETE" and "ifGenerationMatch=" in p for m, p in gcs.calls)
        assert gcs.objects == {}
        assert second.try_acquire()
        second.release()


def test_gcs_an_expired_lease_is_broken_and_a_late_release_leaves_the_new_one() -> None:
    clock = [1_000_000.0]
    with fake_gcs("keeper-state") as gcs:
        crashed = GcsLease.connect("keeper-state", "l.json", emulator_host=gcs.host, now=lambda: clock[0], ttl=900)
        assert crashed.try_acquire()
        later = GcsLease.connect("keeper-state", "l.json", emulator_host=gcs.host, now=lambda: clock[0], ttl=900)
        clock[0] += 899
        assert not later.try_acquire()
        clock[0] += 2
        assert later.try_acquire()
        crashed.release()  # its generation is gone: the precondition fails, the new lease stays
        assert len(gcs.objects) == 1
        assert not GcsLease.connect(
            "keeper-state", "l.json", emulator_host=gcs.host, now=lambda: clock[0]
        ).try_acquire()


def test_gcs_retries_are_bounded_and_a_missing_bucket_says_so() -> None:
    with fake_gcs("keeper-state") as gcs:
        gcs.fail_next = 2
        lease = GcsLease.connect("keeper-state", "l.json", emulator_host=gcs.host, sleep=lambda s: None)
        assert lease.try_acquire()
        gcs.fail_next = 10
        other = GcsLease.connect("keeper-state", "m.json", emulator_host=gcs.host, sleep=lambda s: None, attempts=3)
        with pytest.raises(LeaseError, match="could not be reached"):
            other.try_acquire()
        assert gcs.fail_next == 7
        gcs.fail_next = 0
        with pytest.raises(LeaseError, match="does not exist"):
            GcsLease.connect("no-such-bucket", "l.json", emulator_host=gcs.host).try_acquire()


# -------------------------------------------------------------------------------------------- the composition root


def test_bootstrap_builds_the_bucket_lease_or_the_state_folder_file(tmp_path: Path) -> None:
    base = {"KEEPER_REGISTER": str(tmp_path / "r.xlsx"), "KEEPER_STATE_DIR": str(tmp_path / "state")}
    dep = bootstrap.deployment(env=base)
    school = next(iter(dep.schools.values()))
    lease = dep.lease(school)
    assert isinstance(lease, FileLease)
    assert lease.path == tmp_path / "state" / school.id / "sweep.keeper-lease"
    dep = bootstrap.deployment(env={**base, "KEEPER_LEASE_BUCKET": "gs://keeper-state/", "KEEPER_LEASE_WAIT": "5"})
    lease = dep.lease(school)
    assert isinstance(lease, GcsLease)
    assert lease.describe() == f"gs://keeper-state/review-keeper/leases/{school.id}.json"
    assert dep.runtime.lease_wait == 5
    local = bootstrap.local(str(tmp_path / "r.xlsx"), env={})
    assert bootstrap.adapters.local_lease(local.ref).describe() == str(tmp_path / ".r.xlsx.keeper-lease")
    with pytest.raises(SettingsError, match="KEEPER_LEASE_WAIT"):
        bootstrap.runtime({"KEEPER_LEASE_WAIT": "soon"})


def test_a_folder_that_cannot_be_written_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the lease's folder should be")
    with pytest.raises(LeaseError, match="could not be created"):
        FileLease(blocker / "lease").try_acquire()
