"""A trust's morning through the Cloud Tasks queue (issue 16), end to end through functions-framework's apps: dispatch
adds one named task per school to the queue fake on a real socket; each task, delivered to sweep_http as Cloud Tasks
delivers it (its body and headers), sweeps its school; a retried task is logged as a late sweep with the attempt and
the previous answer; dispatch run twice the same morning adds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from tests.e2e.cloud_fixtures import Deployment, app_client, make_deployment
from tests.e2e.test_plan_functions import _headers
from tests.fakes.tasks_api import fake_cloud_tasks

QUEUE = "projects/trust-keeper/locations/europe-west2/queues/keeper-sweeps"
SWEEP_URL = "https://keeper-sweep-abc.europe-west2.run.app"


@pytest.fixture
def dep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    deployment = make_deployment(tmp_path, monkeypatch)
    for name, value in {
        "KEEPER_TASKS_QUEUE": "keeper-sweeps",
        "KEEPER_PROJECT": "trust-keeper",
        "KEEPER_TASKS_LOCATION": "europe-west2",
        "KEEPER_TASKS_RATE": "0.4",
        "KEEPER_TASKS_SERVICE_ACCOUNT": "keeper-runner@trust-keeper.iam.gserviceaccount.com",
        "KEEPER_SWEEP_URL": SWEEP_URL,
    }.items():
        monkeypatch.setenv(name, value)
    return deployment


def ar_status_cells(path: Path) -> list:
    wb = openpyxl.load_workbook(path)
    try:
        ws = wb["EHCP register"]
        header = [c.value for c in ws[4]]
        col = header.index("AR status") + 1
        return [ws.cell(row=r, column=col).value for r in range(5, ws.max_row + 1)]
    finally:
        wb.close()


def delivery_headers(task_name: str, retries: int = 0, previous: str | None = None) -> dict[str, str]:
    """What Cloud Tasks sends with each attempt of an HTTP task (besides its own headers and the OIDC token)."""
    headers = {
        "Content-Type": "application/json",
        "X-CloudTasks-QueueName": "keeper-sweeps",
        "X-CloudTasks-TaskName": task_name.rsplit("/", 1)[1],
        "X-CloudTasks-TaskRetryCount": str(retries),
        "X-CloudTasks-TaskExecutionCount": str(retries),
    }
    if previous is not None:
        headers["X-CloudTasks-TaskPreviousResponse"] = previous
    return headers


def test_dispatch_enqueues_one_task_per_school_and_each_task_sweeps_its_school(
    dep: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_cloud_tasks(QUEUE) as fake:
        monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", fake.host)
        response = app_client("dispatch").post("/")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == {"ok": True, "enqueued": 2, "already_enqueued": 0, "schools": ["oak", "elm"]}
        # A Cloud Scheduler retry of dispatch the same morning: the tasks' names are taken, nothing is added.
        again = app_client("dispatch").post("/")
        assert again.get_json()["already_enqueued"] == 2
        tasks = sorted(fake.tasks.values(), key=lambda t: t.schedule_time)
    assert [t.payload for t in tasks] == [{"school": "oak"}, {"school": "elm"}]
    assert (tasks[1].schedule_time - tasks[0].schedule_time).total_seconds() == 2.5  # 0.4 schools a second
    assert {t.url for t in tasks} == {SWEEP_URL}
    client = app_client("sweep_http")
    for task in tasks:
        body = json.dumps(task.payload)
        answer = client.post("/", data=body, headers=delivery_headers(task.name))
        assert answer.status_code == 200
        assert answer.get_json()["schools"][0]["school"] == task.payload["school"]
    for path in dep.registers.values():
        assert any(ar_status_cells(path))


def test_the_monthly_plan_goes_through_the_queue_too_and_each_task_plans_its_school(
    dep: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queue deployment (deploy.sh --trust) has no Pub/Sub topic: dispatch {"job": "plan"} adds one plan task per
    school, paced like the sweep, named apart from the same morning's sweep tasks; each task plans, sends nothing."""
    with fake_cloud_tasks(QUEUE) as fake:
        monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", fake.host)
        swept = app_client("dispatch").post("/")
        assert swept.get_json()["enqueued"] == 2
        response = app_client("dispatch").post("/", data=b'{"job": "plan"}')
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json() == {"ok": True, "enqueued": 2, "already_enqueued": 0, "schools": ["oak", "elm"]}
        again = app_client("dispatch").post("/", data=b'{"job": "plan"}')
        assert again.get_json()["already_enqueued"] == 2
        plans = sorted((t for t in fake.tasks.values() if "job" in t.payload), key=lambda t: t.schedule_time)
        assert len(fake.tasks) == 4
    assert [t.payload for t in plans] == [{"school": "oak", "job": "plan"}, {"school": "elm", "job": "plan"}]
    assert all(t.name.endswith("-plan") for t in plans)
    client = app_client("sweep_http")
    for task in plans:
        answer = client.post("/", data=json.dumps(task.payload), headers=delivery_headers(task.name))
        assert answer.status_code == 200, answer.get_data(as_text=True)
    for path in dep.registers.values():
        headers = _headers(path)
        assert "AR suggested meeting" in headers
        assert "(Plan tab)" in headers
        assert "AR status" not in headers  # planned, not swept


def test_a_task_naming_an_unknown_job_is_a_400(dep: Deployment) -> None:
    answer = app_client("sweep_http").post("/", data=json.dumps({"school": "oak", "job": "tidy"}))
    assert answer.status_code == 400
    assert answer.get_json()["error"] == 'job is \'tidy\'; use "sweep" or "plan".'


def test_a_retried_task_is_logged_as_a_late_sweep_with_why(
    dep: Deployment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    capsys.readouterr()
    body = json.dumps({"school": "oak"})
    answer = app_client("sweep_http").post("/", data=body, headers=delivery_headers(f"{QUEUE}/tasks/x-oak", 2, "500"))
    assert answer.status_code == 200
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    (late,) = [x for x in lines if x.get("event") == "LateSweep"]
    assert (late["severity"], late["school"], late["attempt"], late["previous"], late["outcome"]) == (
        "WARNING",
        "oak",
        3,
        "500",
        "ok",
    )
    # A first attempt, or a call from Cloud Scheduler, is not late.
    app_client("sweep_http").post("/", data=body, headers=delivery_headers(f"{QUEUE}/tasks/x-oak"))
    assert "LateSweep" not in capsys.readouterr().err


def test_a_failed_school_answers_500_so_the_queue_retries_it(dep: Deployment) -> None:
    dep.registers["elm"].write_bytes(b"not a workbook")
    body = json.dumps({"school": "elm"})
    answer = app_client("sweep_http").post("/", data=body, headers=delivery_headers(f"{QUEUE}/tasks/x-elm"))
    assert answer.status_code == 500
    assert answer.get_json()["schools"][0]["ok"] is False


def test_dispatch_to_a_missing_queue_is_a_502_with_the_fix(dep: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_cloud_tasks("projects/trust-keeper/locations/europe-west2/queues/other") as fake:
        monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", fake.host)
        response = app_client("dispatch").post("/")
    assert response.status_code == 502
    assert "run scripts/deploy.sh --trust" in response.get_json()["error"]


def test_a_queue_without_its_sweep_url_is_a_500_naming_the_setting(
    dep: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KEEPER_SWEEP_URL")
    response = app_client("dispatch").post("/")
    assert response.status_code == 502
    assert "KEEPER_SWEEP_URL" in response.get_json()["error"]
