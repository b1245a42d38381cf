"""scripts/deploy.sh: shellcheck-clean, its --dry-run prints every command for a school and for a trust, and a real
run against a stand-in gcloud (a script on PATH that keeps Secret Manager's state in a folder) stops before deploying
any function while a secret has no value. Also .gcloudignore: no personal data goes up with the source."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.cloud_fixtures import ROOT

SCRIPT = ROOT / "scripts" / "deploy.sh"
NO_VALUE = 78  # deploy.sh's exit status when a secret has no value yet (EX_CONFIG)


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
    out = dry_run("--mail", "smtp")
    commands = [line for line in out.splitlines() if line.startswith("+ ")]
    assert all("gcloud" in c for c in commands)
    assert any("iam service-accounts create keeper-runner" in c for c in commands)
    assert any("iam service-accounts create keeper-scheduler" in c for c in commands)
    assert any("roles/secretmanager.secretAccessor" in c for c in commands)
    assert any("openssl rand -base64 48" in c and "gcloud secrets create keeper-link-secret" in c for c in commands)
    deploys = [c for c in commands if "gcloud functions deploy" in c]
    assert [c.split()[4] for c in deploys] == ["keeper-confirm", "keeper-papers", "keeper-sweep"]
    for c in deploys:
        assert "--gen2 --runtime python312 --region europe-west2" in c
        words = shlex.split(c[2:])  # printed shell-quoted (printf %q)
        secrets = ["KEEPER_LINK_SECRET=keeper-link-secret:latest", "KEEPER_SMTP_PASSWORD=keeper-smtp-password:latest"]
        if "keeper-papers" in c:
            secrets = secrets[:1]  # it checks links and reads packs: no mail password
        assert words[words.index("--set-secrets") + 1].split(",") == secrets
        # Added, not replaced: a variable the IT lead set by hand survives the next deploy.
        assert "KEEPER_MAIL=smtp" in words[words.index("--update-env-vars") + 1].split(",")
    confirm, papers, sweep = deploys
    assert "--allow-unauthenticated" in confirm
    assert "--entry-point confirm" in confirm
    assert "--no-allow-unauthenticated" in sweep
    assert "--entry-point sweep_http" in sweep
    assert "--allow-unauthenticated" in papers  # the signed, expiring link is the invitee's only key
    assert "--entry-point papers" in papers
    papers_env = shlex.split(papers[2:])[shlex.split(papers[2:]).index("--update-env-vars") + 1].split(",")
    assert "KEEPER_BASE_URL=https://keeper-confirm-PROJECT-HASH.europe-west2.run.app" in papers_env
    assert "KEEPER_PAPERS_URL=https://keeper-papers-PROJECT-HASH.europe-west2.run.app" in out  # the hint for --send
    (job,) = [c for c in commands if "scheduler jobs create http" in c]
    assert "--schedule 0\\ 7\\ \\*\\ \\*\\ 1-5 --time-zone Europe/London" in job
    assert "--oidc-service-account-email keeper-scheduler@oak-keeper.iam.gserviceaccount.com" in job
    assert "keeper-sweep-" in job
    assert "pubsub topics" not in out
    assert "sweep_event" not in out
    assert "--set-env-vars" not in out


def test_a_trust_fans_out_through_a_cloud_tasks_queue() -> None:
    # The queue's flags are checked in tests/e2e/test_deploy_queue.py; Pub/Sub no longer carries the schools (issue 16).
    out = dry_run("--trust", "--mail", "sendgrid")
    assert "+ gcloud tasks queues create keeper-sweeps" in out
    assert "roles/cloudtasks.enqueuer" in out
    assert "--entry-point dispatch" in out
    assert "pubsub topics create" not in out
    assert "--entry-point sweep_event" not in out
    assert "SENDGRID_API_KEY=keeper-sendgrid-api-key:latest" in out
    (job,) = [line for line in out.splitlines() if "scheduler jobs create http" in line]
    assert "keeper-dispatch-" in job


@pytest.mark.parametrize(("mode", "target"), [((), "keeper-sweep-"), (("--trust",), "keeper-dispatch-")])
def test_monthly_plan_adds_a_second_scheduler_job_posting_the_plan_job(mode: tuple[str, ...], target: str) -> None:
    assert "keeper-monthly-plan" not in dry_run(*mode)  # off unless asked: a plan writes columns to the register
    out = dry_run(*mode, "--monthly-plan")
    (job,) = [line for line in out.splitlines() if "scheduler jobs create http keeper-monthly-plan" in line]
    words = shlex.split(job[2:])
    assert words[words.index("--schedule") + 1] == "0 6 1 * *"
    assert json.loads(words[words.index("--message-body") + 1]) == {"job": "plan"}
    assert target in words[words.index("--uri") + 1]
    assert (
        words[words.index("--oidc-service-account-email") + 1] == "keeper-scheduler@oak-keeper.iam.gserviceaccount.com"
    )


def test_state_dir_reaches_every_function() -> None:
    out = dry_run("--trust", "--state-dir", "/mnt/keeper")
    deploys = [line for line in out.splitlines() if line.startswith("+ gcloud functions deploy")]
    assert len(deploys) == 4  # confirm, papers, sweep, dispatch (papers serves packs published there)
    for command in deploys:
        words = shlex.split(command[2:])  # printed shell-quoted (printf %q)
        env_vars = words[words.index("--update-env-vars") + 1]
        assert "KEEPER_STATE_DIR=/mnt/keeper" in env_vars.split(",")
    assert "mount lasting storage there" in out
    assert not [line for line in dry_run().splitlines() if line.startswith("+ ") and "KEEPER_STATE_DIR" in line]


@pytest.mark.parametrize(
    "args",
    [
        ["--mail", "pigeon"],
        ["--mail", "outbox"],  # in the cloud its files vanish with the disk while the sheet records them as sent
        ["--frobnicate"],
        ["--state-dir", "relative/path"],
        ["--state-dir", "/a,KEEPER_MAIL=smtp"],
    ],
)
def test_bad_options_are_refused(args: list[str]) -> None:
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--project", "p", "--dry-run", *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 64
    assert "deploy.sh:" in proc.stderr


def test_a_dry_run_without_mail_shows_none_and_a_real_run_without_it_is_refused(tmp_path: Path) -> None:
    out = dry_run()
    deploys = [line for line in out.splitlines() if line.startswith("+ gcloud functions deploy")]
    assert deploys
    assert all("KEEPER_MAIL=none" in d for d in deploys)
    assert "keeper-sendgrid-api-key" not in out
    assert "keeper-smtp-password" not in out
    assert "sends no email" in out
    config = tmp_path / "keeper.toml"
    config.write_text("", encoding="utf-8")
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--project", "p", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 64
    assert "--mail smtp, --mail sendgrid, or --mail none" in proc.stderr


def test_the_dry_run_prints_the_command_that_adds_a_mail_secrets_value() -> None:
    out = dry_run("--mail", "sendgrid")
    assert "+ gcloud secrets versions list keeper-sendgrid-api-key --project oak-keeper --limit=1" in out
    assert (
        "#  printf '%s' 'PASTE-THE-SENDGRID-API-KEY-HERE' | gcloud secrets versions add keeper-sendgrid-api-key "
        "--data-file=- --project oak-keeper"
    ) in out
    # The link secret is created with its value, so the dry run asks for nothing more.
    assert "versions add keeper-link-secret" not in out
    assert out.index("versions add keeper-sendgrid-api-key") < out.index("gcloud functions deploy")


# ------------------------------------------------------------------------------------- a real run, stand-in gcloud

FAKE_GCLOUD = r"""#!/usr/bin/env bash
# A stand-in for gcloud: logs every call, keeps which secrets exist and their values in $FAKE_GCLOUD_STATE, and says
# "not found" for accounts, topics and jobs (so they are created). Every other command succeeds.
state="$FAKE_GCLOUD_STATE"
printf '%s\n' "$*" >>"$state/calls.log"
case "$1 $2" in
  "secrets create")
    touch "$state/secret-$3"
    for arg in "$@"; do
      if [ "$arg" = "--data-file=-" ]; then cat >"$state/secret-$3.value"; fi
    done
    ;;
  "secrets describe") [ -e "$state/secret-$3" ] || exit 1 ;;
  "secrets versions")
    case "$3" in
      list) if [ -e "$state/secret-$4.value" ]; then echo "projects/p/secrets/$4/versions/1"; fi ;;
      add) [ -e "$state/secret-$4" ] || exit 1; cat >"$state/secret-$4.value" ;;
    esac
    ;;
  "functions describe") echo "https://$3-fake.europe-west2.run.app" ;;
  "iam service-accounts" | "scheduler jobs" | "pubsub topics" | "tasks queues")
    if [ "$3" = describe ]; then exit 1; fi
    ;;
esac
exit 0
"""


class FakeCloud:
    def __init__(self, tmp_path: Path) -> None:
        self.state = tmp_path / "gcloud-state"
        self.state.mkdir()
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        gcloud = bin_dir / "gcloud"
        gcloud.write_text(FAKE_GCLOUD, encoding="utf-8")
        gcloud.chmod(0o755)
        self.env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_GCLOUD_STATE": str(self.state), "HOME": str(tmp_path)}
        self.config = tmp_path / "keeper.toml"
        self.config.write_text('[mail]\nfrom = "senco@oakfield.example.org"\n', encoding="utf-8")

    def deploy(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT), "--project", "oak-keeper", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=self.env,
        )

    def shell(self, command: str) -> None:
        subprocess.run(["bash", "-c", command], check=True, env=self.env, timeout=60)

    def calls(self) -> list[str]:
        log = self.state / "calls.log"
        return log.read_text(encoding="utf-8").splitlines() if log.exists() else []

    def secret(self, name: str) -> bytes | None:
        value = self.state / f"secret-{name}.value"
        return value.read_bytes() if value.exists() else None


def printed_command(stderr: str, secret: str) -> str:
    (line,) = [line for line in stderr.splitlines() if f"gcloud secrets versions add {secret} " in line]
    return line.strip()


def test_a_first_deploy_stops_before_the_functions_until_the_mail_secret_has_a_value(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    first = cloud.deploy("--mail", "sendgrid")
    assert first.returncode == NO_VALUE, first.stderr
    command = printed_command(first.stderr, "keeper-sendgrid-api-key")
    assert command == (
        "printf '%s' 'PASTE-THE-SENDGRID-API-KEY-HERE' | gcloud secrets versions add keeper-sendgrid-api-key "
        "--data-file=- --project oak-keeper"
    )
    assert "run this script again" in first.stderr
    assert not [c for c in cloud.calls() if c.startswith("functions deploy")]
    assert not [c for c in cloud.calls() if c.startswith("scheduler")]
    link_secret = cloud.secret("keeper-link-secret")
    assert link_secret is not None
    assert re.fullmatch(rb"[A-Za-z0-9+/]{64}", link_secret)  # 48 random bytes, no newline

    # The IT lead runs the printed command with the real key: exactly the key is stored, no newline after it.
    cloud.shell(command.replace("PASTE-THE-SENDGRID-API-KEY-HERE", "SG.test-key"))
    assert cloud.secret("keeper-sendgrid-api-key") == b"SG.test-key"

    second = cloud.deploy("--mail", "sendgrid")
    assert second.returncode == 0, second.stderr
    deploys = [c for c in cloud.calls() if c.startswith("functions deploy")]
    assert [d.split()[2] for d in deploys] == ["keeper-confirm", "keeper-papers", "keeper-sweep"]
    for d in deploys:
        assert ("SENDGRID_API_KEY=keeper-sendgrid-api-key:latest" in d) == ("keeper-papers" not in d)
        assert "--update-env-vars" in d
        assert "KEEPER_MAIL=sendgrid" in d
        assert "--set-env-vars" not in d
    assert "KEEPER_PAPERS_URL=https://keeper-papers-fake.europe-west2.run.app" in second.stdout
    # Run again: nothing is created twice and the link secret is never replaced (that would break every link sent).
    assert sum(c.startswith("secrets create") for c in cloud.calls()) == 2
    assert cloud.secret("keeper-link-secret") == link_secret
    assert any(c.startswith("scheduler jobs create http keeper-daily-sweep") for c in cloud.calls())


def test_an_empty_link_secret_stops_the_deploy_with_the_command_that_fills_it(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    (cloud.state / "secret-keeper-link-secret").touch()  # exists, but was created without a value
    first = cloud.deploy("--mail", "none")
    assert first.returncode == NO_VALUE, first.stderr
    command = printed_command(first.stderr, "keeper-link-secret")
    assert command == (
        "openssl rand -base64 48 | tr -d '\\n' | gcloud secrets versions add keeper-link-secret --data-file=- "
        "--project oak-keeper"
    )
    assert not [c for c in cloud.calls() if c.startswith("functions deploy")]
    cloud.shell(command)
    value = cloud.secret("keeper-link-secret")
    assert value is not None
    assert re.fullmatch(rb"[A-Za-z0-9+/]{64}", value)
    second = cloud.deploy("--mail", "none")
    assert second.returncode == 0, second.stderr
    deploys = [c for c in cloud.calls() if c.startswith("functions deploy")]
    assert deploys
    assert all("KEEPER_MAIL=none" in d and "SENDGRID" not in d and "SMTP" not in d for d in deploys)


# ---------------------------------------------------------------------------------------------------- .gcloudignore


def gcloudignore_patterns() -> list[str]:
    lines = (ROOT / ".gcloudignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """gitignore's rules as gcloud applies them, for the patterns used here: "dir/" ignores a folder of that name at any
    depth; a pattern with no slash matches any file's or folder's name. The last matching pattern wins ("!" undoes)."""
    parts = path.split("/")
    result = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        if body.endswith("/"):
            hit = any(fnmatch.fnmatchcase(part, body[:-1]) for part in parts[:-1])
        elif "/" in body.strip("/"):
            hit = fnmatch.fnmatchcase(path, body.lstrip("/"))
        else:
            hit = any(fnmatch.fnmatchcase(part, body) for part in parts)
        if hit:
            result = not negated
    return result


@pytest.mark.parametrize(
    "path",
    [
        "records/review-Amelia-2026-03-04.docx",  # main.py records writes here by default
        "review-record.docx",
        "reviews.ics",
        "exports/reviews.ics",
        "outbox/20260304-070000-abc.eml",
        "a-saved-email.eml",
        "outbox/20260304-070000.part",
        "review-keeper-sent.jsonl",  # the sent-ledger beside a register
        "oak/review-keeper-sent.jsonl",
        "demo/register.xlsx",
        "demo/keeper.toml",
        "EHCP register.xlsx",
        "register.xlsm",
        "register.xls",
        "register.ods",
        "register.csv",
        "report.xlsx",
        ".keeper-backups/register-2026-03-04.xlsx",
        "test-artifacts/screenshot.txt",
        "papers/papers-row7-2026-12-01.pdf",  # main.py papers --out papers/ and the served copies
        "evidence/B801200005001/2026-11-29-ep-1a2b3c4d5e6f.pdf",  # contributors' reports beside a register
        "evidence/B801200005001/advice-0a1b2c.json",
        "evidence/B801200005001/2026-11-29-ep-1a2b3c4d5e6f.doc",
        ".keeper-queue/0a1b2c.json",  # submissions waiting for the register
        "m365-tokens.bin",
        ".venv/lib/python3.12/site.py",
        "tests/e2e/test_deploy_script.py",
    ],
)
def test_personal_data_never_goes_up_with_the_source(path: str) -> None:
    assert ignored(path, gcloudignore_patterns()), f"{path} would be deployed"


@pytest.mark.parametrize(
    "path",
    [
        "main.py",
        "keeper.toml",
        "requirements.txt",
        "functions/cloud.py",
        "functions/templates/request.txt.j2",
        "functions/pages/confirm.html.j2",
        "connectors/mail.py",
    ],
)
def test_the_code_and_settings_still_go_up(path: str) -> None:
    assert not ignored(path, gcloudignore_patterns()), f"{path} would be left behind"


def test_every_code_file_in_the_repository_goes_up() -> None:
    patterns = gcloudignore_patterns()
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    code = [
        p for p in tracked if not p.startswith(("tests/", ".ci/")) and p.endswith((".py", ".j2", "requirements.txt"))
    ]
    assert "functions/cloud.py" in code
    assert [p for p in code if ignored(p, patterns)] == []


def test_microsoft_365_mail_keeps_the_sign_in_key_in_secret_manager(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    first = cloud.deploy("--mail", "graph", "--state-dir", "/mnt/keeper")
    assert first.returncode == NO_VALUE, first.stderr
    command = printed_command(first.stderr, "keeper-m365-token-key")
    assert "PASTE-THE-KEY-FROM-M365-LOGIN-NEW-KEY" in command
    assert not [c for c in cloud.calls() if c.startswith("functions deploy")]
    cloud.shell(command.replace("PASTE-THE-KEY-FROM-M365-LOGIN-NEW-KEY", "a-fernet-key"))
    assert cloud.secret("keeper-m365-token-key") == b"a-fernet-key"
    second = cloud.deploy("--mail", "graph", "--state-dir", "/mnt/keeper")
    assert second.returncode == 0, second.stderr
    for d in [c for c in cloud.calls() if c.startswith("functions deploy")]:
        # The papers function never signs in to Microsoft 365: it reads published packs from the state directory.
        assert ("KEEPER_TOKEN_KEY=keeper-m365-token-key:latest" in d) == ("keeper-papers" not in d)
        assert "KEEPER_MAIL=graph" in d
        assert "KEEPER_STATE_DIR=/mnt/keeper" in d
    assert "m365-tokens.bin" in second.stdout


def test_a_microsoft_365_register_with_smtp_mail_still_gets_the_key() -> None:
    out = dry_run("--mail", "smtp", "--m365")
    assert "keeper-m365-token-key" in out
    assert "KEEPER_TOKEN_KEY=keeper-m365-token-key:latest" in out
