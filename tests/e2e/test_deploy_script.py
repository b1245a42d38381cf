"""scripts/deploy.sh: shellcheck-clean, and its --dry-run prints every command for a school and for a trust."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from tests.e2e.cloud_fixtures import ROOT

SCRIPT = ROOT / "scripts" / "deploy.sh"


def dry_run(*args: str) -> str:
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--project", "oak-keeper", "--dry-run", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},  # no gcloud on PATH: a dry run must not need it
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_shellcheck_is_clean() -> None:
    shellcheck = shutil.which("shellcheck") or "/usr/bin/shellcheck"
    proc = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_one_school() -> None:
    out = dry_run()
    commands = [line for line in out.splitlines() if line.startswith("+ ")]
    assert all("gcloud" in c for c in commands)
    assert any("iam service-accounts create keeper-runner" in c for c in commands)
    assert any("iam service-accounts create keeper-scheduler" in c for c in commands)
    assert any("roles/secretmanager.secretAccessor" in c for c in commands)
    assert any("openssl rand -base64 48" in c and "gcloud secrets create keeper-link-secret" in c for c in commands)
    deploys = [c for c in commands if "gcloud functions deploy" in c]
    assert [c.split()[4] for c in deploys] == ["keeper-confirm", "keeper-sweep"]
    for c in deploys:
        assert "--gen2 --runtime python312 --region europe-west2" in c
        assert "--set-secrets KEEPER_LINK_SECRET=keeper-link-secret:latest" in c
    confirm, sweep = deploys
    assert "--allow-unauthenticated" in confirm
    assert "--entry-point confirm" in confirm
    assert "--no-allow-unauthenticated" in sweep
    assert "--entry-point sweep_http" in sweep
    (job,) = [c for c in commands if "scheduler jobs create http" in c]
    assert "--schedule 0\\ 7\\ \\*\\ \\*\\ 1-5 --time-zone Europe/London" in job
    assert "--oidc-service-account-email keeper-scheduler@oak-keeper.iam.gserviceaccount.com" in job
    assert "keeper-sweep-" in job
    assert "pubsub topics" not in out
    assert "sweep_event" not in out


def test_a_trust_fans_out_through_pubsub() -> None:
    out = dry_run("--trust", "--mail", "sendgrid")
    assert "+ gcloud pubsub topics create keeper-sweep" in out
    assert "roles/pubsub.publisher" in out
    assert "--entry-point dispatch" in out
    assert "--entry-point sweep_event --trigger-topic keeper-sweep" in out
    assert "SENDGRID_API_KEY=keeper-sendgrid-api-key:latest" in out
    (job,) = [line for line in out.splitlines() if "scheduler jobs create http" in line]
    assert "keeper-dispatch-" in job


def test_state_dir_reaches_every_function() -> None:
    out = dry_run("--trust", "--state-dir", "/mnt/keeper")
    deploys = [line for line in out.splitlines() if line.startswith("+ gcloud functions deploy")]
    assert len(deploys) == 4
    for command in deploys:
        words = shlex.split(command[2:])  # printed shell-quoted (printf %q)
        env_vars = words[words.index("--set-env-vars") + 1]
        assert "KEEPER_STATE_DIR=/mnt/keeper" in env_vars.split(",")
    assert "mount lasting storage there" in out
    assert "KEEPER_STATE_DIR" not in dry_run()


@pytest.mark.parametrize(
    "args",
    [["--mail", "pigeon"], ["--frobnicate"], ["--state-dir", "relative/path"], ["--state-dir", "/a,KEEPER_MAIL=smtp"]],
)
def test_bad_options_are_refused(args: list[str]) -> None:
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--project", "p", "--dry-run", *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 64
    assert "deploy.sh:" in proc.stderr
