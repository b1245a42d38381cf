"""SendGridTransport with SendGrid's real client against a local HTTP endpoint that captures the v3 JSON."""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import icalendar
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from datetime import date  # noqa: E402

from connectors.mail import MailError, SendGridTransport, transport_from_env  # noqa: E402
from functions.mailer import MemoryLedger, send_all  # noqa: E402
from functions.planning import plan_emails  # noqa: E402
from tests.mail_fixtures import UPN, clock, contribution, pupil, settings  # noqa: E402

API_KEY = "SG.test-key-do-not-log"


class Api:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[str, dict, dict]] = []


def serve(api: Api):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            api.requests.append((self.path, dict(self.headers), json.loads(body)))
            status = api.statuses.pop(0) if api.statuses else 202
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def invitation_plan():
    c = clock(planned=True, meeting_date=date(2025, 11, 7))
    rows = [contribution(2, "Class teacher", "teacher@school.example", requested=date(2025, 10, 14))]
    return plan_emails(
        [pupil(c, parent_email=None)],
        rows,
        today=date(2025, 10, 15),
        settings=settings(sendco_email="sendco@hillside.example"),
    )


def test_retries_429_then_posts_the_message(invitation_plan, caplog) -> None:
    api = Api([429, 202])
    server = serve(api)
    waits: list[float] = []
    try:
        transport = transport_from_env(
            {
                "KEEPER_MAIL": "sendgrid",
                "SENDGRID_API_KEY": API_KEY,
                "SENDGRID_API_HOST": f"http://127.0.0.1:{server.server_port}",
                "KEEPER_MAIL_FROM": "SEN team <keeper@hillside.example>",
            },
            {"sendgrid_sandbox": True},
            Path("."),
        )
        assert isinstance(transport, SendGridTransport)
        transport._sleep = waits.append
        with caplog.at_level(logging.DEBUG):
            logging.getLogger().setLevel(logging.DEBUG)
            outcomes = send_all(invitation_plan, transport, MemoryLedger())
    finally:
        server.shutdown()
    assert [o.status for o in outcomes] == ["sent"]
    assert waits == [0.0]  # Retry-After: 0 was honoured, once
    assert len(api.requests) == 2
    path, headers, body = api.requests[-1]
    assert path == "/v3/mail/send"
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert body["personalizations"] == [{"to": [{"email": "teacher@school.example"}]}]
    assert body["from"] == {"email": "keeper@hillside.example", "name": "SEN team"}
    assert body["reply_to"] == {"email": "sendco@hillside.example"}
    assert body["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert "Amira K." in body["content"][0]["value"]
    assert UPN not in json.dumps(body)
    ics = body["attachments"][0]
    assert ics["filename"] == "invitation.ics"
    assert ics["type"] == "text/calendar"
    event = icalendar.Calendar.from_ical(base64.b64decode(ics["content"])).walk("VEVENT")[0]
    assert event.decoded("dtstart") == date(2025, 11, 7)
    # python_http_client logs the key and body at DEBUG: pinned above it.
    assert API_KEY not in caplog.text
    assert logging.getLogger("python_http_client").getEffectiveLevel() > logging.DEBUG


def test_bounded_retries_then_a_recorded_failure(invitation_plan) -> None:
    api = Api([503, 503, 503])
    server = serve(api)
    try:
        transport = SendGridTransport(
            API_KEY,
            sender="keeper@hillside.example",
            host=f"http://127.0.0.1:{server.server_port}",
            retries=2,
            timeout=5,
            sleep=lambda s: None,
        )
        ledger = MemoryLedger()
        outcomes = send_all(invitation_plan, transport, ledger)
        api.statuses = [401]
        transport.retries = 0
        message = _message(invitation_plan)
        with pytest.raises(MailError, match="401"):
            transport.send(message)
    finally:
        server.shutdown()
    assert [o.status for o in outcomes] == ["failed"]
    assert outcomes[0].error == "SendGrid answered 503."
    assert len(api.requests) == 4  # 3 attempts, then the 401
    assert ledger.sent_log() == {}


def _message(plan):
    from functions.mailer import to_message

    return to_message(plan.emails[0], "keeper@hillside.example")


def test_missing_key_is_a_clear_error() -> None:
    with pytest.raises(MailError, match="SENDGRID_API_KEY"):
        transport_from_env({"KEEPER_MAIL": "sendgrid"}, {}, Path("."))
    with pytest.raises(MailError, match="use outbox"):
        transport_from_env({"KEEPER_MAIL": "pigeon"}, {}, Path("."))
