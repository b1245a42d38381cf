"""A two-school deployment on disk (demo registers with made-up pupils) and helpers to drive the cloud targets through
the app functions-framework builds, as Cloud Functions would."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import functions_framework
import openpyxl
import pytest
from aiosmtpd.controller import Controller

from functions.evaluate import london_today
from functions.links import LinkSigner
from scripts.make_demo import contribution_rows, write_demo_register

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "main.py")
SECRET = "cloud-test-secret-6f1d2c0a9b8e7d6c"


def app_client(target: str, signature_type: str | None = None):
    return functions_framework.create_app(target=target, source=MAIN, signature_type=signature_type).test_client()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def contributions(path: Path) -> list[tuple]:
    wb = openpyxl.load_workbook(path)
    try:
        return [tuple(r) for r in wb["Contributions"].iter_rows(values_only=True)]
    finally:
        wb.close()


@dataclass(frozen=True)
class Deployment:
    root: Path
    today: date
    registers: dict[str, Path]

    def signer(self, school: str = "oak", secret: str = SECRET) -> LinkSigner:
        return LinkSigner(secret, "http://localhost", school)

    def token(self, row: int, *, school: str = "oak", meeting: date | None = None, secret: str = SECRET) -> str:
        """The link token for data row `row` (0-based) of the demo's Contributions tab."""
        values = contribution_rows(self.today)[row]
        return self.signer(school, secret).token(
            pupil_ref=str(values[0]),
            role=str(values[1]),
            email=str(values[3]),
            meeting=meeting or self.today + timedelta(days=30),
        )


def make_deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    today = london_today()
    registers = {}
    for school in ("oak", "elm"):
        registers[school] = write_demo_register(tmp_path / school / "register.xlsx", today=today)
    config = tmp_path / "keeper.toml"
    config.write_text(
        "\n".join(
            [
                "[digest]",
                'day = "never"',
                "",
                "[[schools]]",
                'id = "oak"',
                'name = "Oakfield Academy"',
                'register = "oak/register.xlsx"',
                'sendco_name = "Ms Patel"',
                'sendco_email = "senco@oakfield.example.org"',
                "",
                "[[schools]]",
                'id = "elm"',
                'name = "Elm Primary"',
                'register = "elm/register.xlsx"',
                'sendco_name = "Mr Jones"',
                "[schools.rules]",
                "transfer_after_years = [6]",
                "",
            ]
        ),
        encoding="utf-8",
    )
    for name in ("KEEPER_REGISTER", "KEEPER_SCHOOL_ID", "KEEPER_SCHOOL_NAME", "PUBSUB_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KEEPER_CONFIG", str(config))
    # Each school's sent-ledger lives under the state folder (lasting storage in a real deployment).
    monkeypatch.setenv("KEEPER_STATE_DIR", str(tmp_path / "state"))
    # "none", as `deploy.sh --mail none` sets it: the sweep writes the AR columns and sends nothing. Tests that send
    # point the deployment at a local SMTP server (use_smtp); the cloud never sends into an outbox (functions/cloud.py).
    monkeypatch.setenv("KEEPER_MAIL", "none")
    for name in (
        "KEEPER_OUTBOX",
        "KEEPER_LEDGER",
        "KEEPER_SMTP_HOST",
        "KEEPER_SMTP_PORT",
        "KEEPER_SMTP_SECURITY",
        "KEEPER_SMTP_USER",
        "KEEPER_SMTP_PASSWORD",
        "KEEPER_SMTP_OAUTH_TOKEN",
        "KEEPER_MAIL_FROM",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KEEPER_LINK_SECRET", SECRET)
    monkeypatch.setenv("KEEPER_BASE_URL", "http://localhost")
    return Deployment(tmp_path, today, registers)


@dataclass
class SmtpInbox:
    """What a real local SMTP server (aiosmtpd, over a socket) was handed: one entry per message."""

    host: str
    port: int
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(content) for _, _, content in self.received]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[SmtpInbox]:
    # The test server's own conversation log is not the product's: kept out of the logs the tests check for names.
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    inbox = SmtpInbox("127.0.0.1", _free_port())
    controller = Controller(inbox, hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
        server_log.setLevel(level)


def use_smtp(monkeypatch: pytest.MonkeyPatch, inbox: SmtpInbox) -> None:
    """The deployment sends by SMTP (as `deploy.sh --mail smtp` with [mail] smtp_host in keeper.toml) to `inbox`."""
    monkeypatch.setenv("KEEPER_MAIL", "smtp")
    monkeypatch.setenv("KEEPER_SMTP_HOST", inbox.host)
    monkeypatch.setenv("KEEPER_SMTP_PORT", str(inbox.port))
    monkeypatch.setenv("KEEPER_SMTP_SECURITY", "none")  # a local test server without TLS


def cloud_event_headers(event_id: str = "1") -> dict[str, str]:
    """A Pub/Sub CloudEvent in binary mode, as Eventarc delivers it."""
    return {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "//pubsub.googleapis.com/projects/test/topics/keeper-sweep",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "Content-Type": "application/json",
    }


def pubsub_body(data_b64: str | None, attributes: dict | None = None) -> str:
    message: dict = {"messageId": "1", "attributes": attributes or {}}
    if data_b64 is not None:
        message["data"] = data_b64
    return json.dumps({"message": message, "subscription": "projects/test/subscriptions/s"})
