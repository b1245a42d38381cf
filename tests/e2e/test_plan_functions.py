"""A trust's monthly plan through functions-framework: dispatch {"job": "plan"} publishes one message per school to a
local Pub/Sub endpoint, and each message plans its school's register (README, "Planning the year")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from tests.e2e.cloud_fixtures import (
    Deployment,
    app_client,
    cloud_event_headers,
    make_deployment,
    pubsub_body,
    smtp_server,
    use_smtp,
)
from tests.fakes.pubsub_api import fake_pubsub


@pytest.fixture
def dep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    with smtp_server() as inbox:
        deployment = make_deployment(tmp_path, monkeypatch)
        use_smtp(monkeypatch, inbox)
        yield deployment


def _headers(path: Path) -> list[object]:
    wb = openpyxl.load_workbook(path)
    try:
        return [c.value for c in wb["EHCP register"][4]] + (["(Plan tab)"] if "Plan" in wb.sheetnames else [])
    finally:
        wb.close()


def test_dispatch_plan_publishes_plan_messages_and_each_plans_its_school(
    dep: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_pubsub("projects/trust-project/topics/keeper-sweep") as fake:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", fake.host)
        monkeypatch.setenv("KEEPER_PROJECT", "trust-project")
        response = app_client("dispatch").post("/", data=b'{"job": "plan"}')
        assert response.status_code == 200
        assert fake.payloads() == [{"school": "oak", "job": "plan"}, {"school": "elm", "job": "plan"}]
        messages = list(fake.published)
    client = app_client("sweep_event")
    for n, message in enumerate(messages):
        body = pubsub_body(message["data"], message.get("attributes"))
        assert client.post("/", data=body, headers=cloud_event_headers(str(n))).status_code == 200
    for path in dep.registers.values():
        headers = _headers(path)
        assert "AR suggested meeting" in headers
        assert "(Plan tab)" in headers
        assert "AR status" not in headers  # planned, not swept


def test_one_schools_monthly_job_posts_the_plan_to_sweep_http(dep: Deployment) -> None:
    """deploy.sh --monthly-plan for one school: Cloud Scheduler posts {"job": "plan"} to keeper-sweep itself."""
    response = app_client("sweep_http").post("/", data=b'{"job": "plan"}')
    assert response.status_code == 200, response.get_data(as_text=True)
    for path in dep.registers.values():
        headers = _headers(path)
        assert "AR suggested meeting" in headers
        assert "AR status" not in headers  # planned, not swept


def test_dispatch_refuses_an_unknown_job(dep: Deployment) -> None:
    response = app_client("dispatch").post("/", data=b'{"job": "tidy"}')
    assert response.status_code == 400
    assert response.get_json() == {"ok": False, "error": 'job is \'tidy\'; use "sweep" or "plan".'}
