"""The private cloud targets change state only on a POST (issue 10 item 13): a GET to dispatch publishes nothing and a
GET to sweep_http sweeps nothing; both answer 405 with an Allow header. Cloud Run IAM authenticates the POST (the
scheduler's OIDC token), as scripts/deploy.sh deploys them (--no-allow-unauthenticated)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cloud_fixtures import app_client, digest, make_deployment
from tests.fakes.pubsub_api import fake_pubsub


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_dispatch_publishes_only_on_post(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    make_deployment(tmp_path, monkeypatch)
    with fake_pubsub("projects/trust-project/topics/keeper-sweep") as fake:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", fake.host)
        monkeypatch.setenv("KEEPER_PROJECT", "trust-project")
        response = app_client("dispatch").open("/", method=method)
        assert response.status_code == 405
        assert response.headers["Allow"] == "POST"
        assert fake.published == []
        assert app_client("dispatch").post("/").status_code == 200
        assert len(fake.published) == 2


def test_sweep_http_sweeps_only_on_post(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dep = make_deployment(tmp_path, monkeypatch)
    before = {k: digest(p) for k, p in dep.registers.items()}
    response = app_client("sweep_http").get("/")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert {k: digest(p) for k, p in dep.registers.items()} == before
