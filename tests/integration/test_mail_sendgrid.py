"""SendGridTransport with SendGrid's real client against a local HTTP endpoint that captures the v3 JSON: 429 and a
refused connection are retried; a 5xx or a timeout after the request went are "in doubt" and never sent again."""

from __future__ import annotations

import base64
import json
import logging
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import icalendar
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from datetime import date  # noqa: E402

from connectors.mail import MailError, SendGridTransport  # noqa: E402
from functions.mailer import FileLedger, MemoryLedger, send_all  # noqa: E402
from functions.planning import plan_emails  # noqa: E402
from tests.mail_fixtures import UPN, clock, contribution, pupil, settings  # noqa: E402

API_KEY = "SG.test-key-do-not-log"


class Api:
    """`stall`: seconds to wait, after reading the whole request, before answering."""

    def __init__(self, statuses: list[int], stall: float = 0.0) -> None:
        self.statuses = statuses
        self.requests: list[tuple[str, dict, dict]] = []
        self.stall = stall


def serve(api: Api):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            api.requests.append((self.path, dict(self.headers), json.loads(body)))
            if api.stall:
                time.sleep(api.stall)
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
        transport = SendGridTransport(
            API_KEY,
            sender="SEN team <keeper@hillside.example>",
            host=f"http://127.0.0.1:{server.server_port}",
            sandbox=True,
        )
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


def transport_for(server, **kwargs) -> SendGridTransport:
    kwargs.setdefault("timeout", 5)
    kwargs.setdefault("sleep", lambda s: None)
    return SendGridTransport(
        API_KEY, sender="keeper@hillside.example", host=f"http://127.0.0.1:{server.server_port}", **kwargs
    )


def test_bounded_429_retries_then_a_recorded_failure(invitation_plan) -> None:
    api = Api([429, 429, 429])
    server = serve(api)
    try:
        transport = transport_for(server, retries=2)
        ledger = MemoryLedger()
        outcomes = send_all(invitation_plan, transport, ledger)
        api.statuses = [401]
        transport.retries = 0
        message = _message(invitation_plan)
        with pytest.raises(MailError, match="401") as refused:
            transport.send(message)
    finally:
        server.shutdown()
    assert [o.status for o in outcomes] == ["failed"]
    assert outcomes[0].error == "SendGrid answered 429 (too many requests)."
    assert len(api.requests) == 4  # 3 attempts, then the 401
    assert ledger.sent_log() == {}  # refused every time: the next sweep asks again
    assert not refused.value.in_doubt


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_is_in_doubt_not_retried_and_not_sent_again(invitation_plan, tmp_path: Path, status: int) -> None:
    api = Api([status, 202, 202])
    server = serve(api)
    waits: list[float] = []
    ledger = FileLedger(tmp_path / "ledger.jsonl")
    try:
        transport = transport_for(server, sleep=waits.append)
        outcomes = send_all(invitation_plan, transport, ledger)
        again = send_all(invitation_plan, transport, ledger)  # the next sweep, with the same plan
    finally:
        server.shutdown()
    assert [o.status for o in outcomes] == ["in doubt"]
    assert f"SendGrid answered {status}" in (outcomes[0].error or "")
    assert len(api.requests) == 1
    assert waits == []
    assert ledger.in_doubt() == {invitation_plan.emails[0].reason_key: invitation_plan.today}
    assert [o.status for o in again] == ["already sent"]


def test_no_answer_after_the_request_went_is_in_doubt(invitation_plan, tmp_path: Path) -> None:
    api = Api([202], stall=3.0)
    server = serve(api)
    ledger = FileLedger(tmp_path / "ledger.jsonl")
    try:
        transport = transport_for(server, timeout=1)
        started = time.monotonic()
        outcomes = send_all(invitation_plan, transport, ledger)
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
    assert [o.status for o in outcomes] == ["in doubt"]
    assert "did not answer (TimeoutError)" in (outcomes[0].error or "")
    assert len(api.requests) == 1  # SendGrid had it: one request, no retry
    assert elapsed < 2.5
    assert invitation_plan.emails[0].reason_key in ledger.sent_log()


def test_a_refused_connection_is_retried(invitation_plan, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    transport = SendGridTransport(
        API_KEY, sender="keeper@hillside.example", host=f"http://127.0.0.1:{port}", retries=2, sleep=waits.append
    )
    ledger = FileLedger(tmp_path / "ledger.jsonl")
    outcomes = send_all(invitation_plan, transport, ledger)
    assert [o.status for o in outcomes] == ["failed"]
    assert outcomes[0].error == "Could not reach SendGrid (ConnectionRefusedError)."
    assert waits == [1.0, 2.0]  # nothing reached SendGrid, so both retries were safe
    assert ledger.sent_log() == {}


def _message(plan):
    from functions.mailer import to_message

    return to_message(plan.emails[0], "keeper@hillside.example")


def test_missing_key_is_a_clear_error() -> None:
    with pytest.raises(MailError, match="SENDGRID_API_KEY"):
        SendGridTransport("", sender="keeper@hillside.example")
