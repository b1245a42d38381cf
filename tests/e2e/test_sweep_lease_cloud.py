"""The cloud's sweep lease (issue 10 item 6) through functions-framework's app, with KEEPER_LEASE_BUCKET pointing at a
local fake of Cloud Storage's JSON API on a real socket: a sweep takes the school's lease object and gives it back; a
second delivery while the first still holds it sweeps nothing, answers ok (no retry storm) and logs one clear line."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.lease_gcs import GcsLease
from tests.e2e.cloud_fixtures import Deployment, app_client, cloud_event_headers, digest, make_deployment, pubsub_body
from tests.fakes.gcs_api import FakeGcs, fake_gcs

BUCKET = "keeper-state"


@pytest.fixture
def gcs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Deployment, FakeGcs]]:
    dep = make_deployment(tmp_path, monkeypatch)
    with fake_gcs(BUCKET) as fake:
        monkeypatch.setenv("KEEPER_LEASE_BUCKET", BUCKET)
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake.host)
        monkeypatch.setenv("KEEPER_LEASE_WAIT", "0.5")
        yield dep, fake


def test_a_sweep_takes_the_schools_lease_and_gives_it_back(gcs: tuple[Deployment, FakeGcs]) -> None:
    _dep, fake = gcs
    response = app_client("sweep_http").post("/", json={"school": "oak"})
    assert response.status_code == 200
    assert response.get_json()["schools"][0]["written_rows"] > 0
    created = [p for m, p in fake.calls if m == "POST"]
    assert created
    assert "name=review-keeper%2Fleases%2Foak.json" in created[0]
    assert "ifGenerationMatch=0" in created[0]
    assert fake.objects == {}, "released with its generation"


def test_a_second_delivery_while_a_sweep_runs_sweeps_nothing_and_says_so(
    gcs: tuple[Deployment, FakeGcs], capsys: pytest.CaptureFixture[str]
) -> None:
    dep, fake = gcs
    running = GcsLease.connect(BUCKET, "review-keeper/leases/oak.json", emulator_host=fake.host)
    assert running.try_acquire()
    before = digest(dep.registers["oak"])
    data = base64.b64encode(json.dumps({"school": "oak"}).encode()).decode()
    response = app_client("sweep_event", "cloudevent").post("/", data=pubsub_body(data), headers=cloud_event_headers())
    assert response.status_code == 200  # acknowledged: the running sweep does this school's work
    assert digest(dep.registers["oak"]) == before
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    skipped = [line for line in lines if line.get("event") == "SweepAlreadyRunning"]
    assert len(skipped) == 1
    assert skipped[0]["school"] == "oak"
    assert skipped[0]["outcome"] == "skipped"
    assert "already running" in skipped[0]["message"]
    reply = app_client("sweep_http").post("/", json={"school": "oak"}).get_json()
    assert reply["ok"] is True
    assert "already running" in reply["schools"][0]["skipped"]
    running.release()
    assert app_client("sweep_http").post("/", json={"school": "oak"}).get_json()["schools"][0]["written_rows"] > 0
