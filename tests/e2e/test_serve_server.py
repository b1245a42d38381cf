"""`python main.py serve` as a real process on an ephemeral port (issue 10 items 8 and 13): an idle connection does not
hold the page up for anyone else, oversized requests are refused before their body is read with the same security
headers as every page, and the log says a link was used without ever carrying its token."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from functions.confirm import SECURITY_HEADERS
from functions.links import LinkSigner
from scripts.make_demo import contribution_rows, write_demo_register
from tests.e2e.conftest import serve_child

ROOT = Path(__file__).resolve().parents[2]
SECRET = "serve-test-secret-5c0ffee5c0ffee5c0ffee"
TODAY = date.today()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    register = write_demo_register(tmp_path / "register.xlsx", today=TODAY)
    with serve_child(str(register), {"KEEPER_LINK_SECRET": SECRET, "KEEPER_BASE_URL": "http://localhost"}) as running:
        yield running


def _token() -> str:
    values = contribution_rows(TODAY)[0]
    return LinkSigner(SECRET, "http://localhost", "").token(
        pupil_ref=str(values[0]), role=str(values[1]), email=str(values[3]), meeting=TODAY + timedelta(days=30)
    )


def _get(port: int, path: str, timeout: float = 5.0) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _raw(port: int, data: bytes) -> tuple[int, dict[str, str]]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:])
    return int(head[0].split()[1]), headers


def test_an_idle_connection_does_not_block_the_page(server: tuple[int, subprocess.Popen[str]]) -> None:
    port, _proc = server
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)  # connects, then says nothing
    slow = socket.create_connection(("127.0.0.1", port), timeout=5)
    slow.sendall(b"GET /confirm?t=")  # starts a request and stalls
    try:
        started = time.monotonic()
        response = _get(port, f"/confirm?t={_token()}")
        assert response.status == 200
        assert time.monotonic() - started < 3
    finally:
        idle.close()
        slow.close()


def test_oversized_requests_are_refused_with_the_security_headers(server: tuple[int, subprocess.Popen[str]]) -> None:
    port, _proc = server
    normal = _get(port, "/confirm?t=not-a-token")
    assert normal.status == 400
    status, headers = _raw(port, b"GET /confirm?t=" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414
    assert {k: headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS
    # A huge declared body is refused at once: the server answers without waiting for a byte of it.
    started = time.monotonic()
    status, headers = _raw(
        port,
        b"POST /confirm HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 50000000\r\n\r\n",
    )
    assert status == 413
    assert time.monotonic() - started < 3
    assert {k: headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS
    assert {k: normal.getheader(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS


def test_the_log_says_a_link_was_used_and_never_carries_the_token(server: tuple[int, subprocess.Popen[str]]) -> None:
    port, proc = server
    token = _token()
    assert _get(port, f"/confirm?t={token}").status == 200
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/confirm", body=f"t={token}", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert conn.getresponse().status == 200
    conn.close()
    _raw(port, b"GET /confirm?t=" + token.encode() + b" HTTP/1.1 extra words\r\n\r\n")  # malformed: 400
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    logs = out + err
    assert token not in logs
    assert token[:24] not in logs
    assert "GET 200, a signed link" in logs
    assert "POST 200" in logs
    assert "Traceback" not in logs
    assert proc.returncode == 0
