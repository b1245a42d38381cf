"""A real browser on a real link: `python main.py serve` in a child process, Debian's headless Chromium driven over the
Chrome DevTools Protocol (through --remote-debugging-pipe: no driver, no extra packages), a phone-sized screen, a real
mouse click on "I've sent it", and the register workbook read afterwards. Screenshots go to test-artifacts/."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.links import LinkSigner
from functions.sweep import london_today
from scripts.make_demo import contribution_rows, write_demo_register
from tests.e2e.cloud_fixtures import ROOT, contributions

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
SECRET = "browser-test-secret-0b1c2d3e4f5a6978"


class DevTools:
    """Chrome DevTools Protocol over the pipe Chromium opens on fds 3 (commands in) and 4 (replies out)."""

    def __init__(self, profile: Path) -> None:
        commands_r, self._commands_w = os.pipe()
        self._replies_r, replies_w = os.pipe()

        def wire_fds() -> None:  # in the child, before exec: Chromium expects the pipe on fds 3 and 4
            os.dup2(commands_r, 3)
            os.dup2(replies_w, 4)

        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds,
            close_fds=False,
        )
        os.close(commands_r)
        os.close(replies_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._replies_r], [], [], remaining)
            if ready:
                chunk = os.read(self._replies_r, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._commands_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, *, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def click(self, selector: str) -> None:
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView({{block: 'center'}});"
            " const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = box
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self._commands_w)
        os.close(self._replies_r)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"main.py serve stopped: {process.stderr.read() if process.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("main.py serve did not start listening")


@pytest.fixture
def served(tmp_path: Path):
    today = london_today()
    register = write_demo_register(tmp_path / "register.xlsx", today=today)
    (tmp_path / "keeper.toml").write_text(
        'school_name = "Oakfield Academy"\nsendco_name = "Ms Patel"\nsendco_email = "senco@oakfield.example.org"\n',
        encoding="utf-8",
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPER_") and k != "PUBSUB_EMULATOR_HOST"}
    env.update({"KEEPER_LINK_SECRET": SECRET, "PYTHONUNBUFFERED": "1"})
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "serve", str(register), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, server)
        yield register, port, today
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture
def browser(tmp_path: Path):
    devtools = DevTools(tmp_path / "chromium-profile")
    try:
        target = devtools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        devtools.session = devtools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        devtools.send("Page.enable")
        # A phone: most contributors open the link from their email on one.
        devtools.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
        )
        yield devtools
    finally:
        devtools.close()


def test_a_contributor_confirms_from_a_phone(served, browser: DevTools) -> None:
    register, port, today = served
    pupil_ref, role, _, email = contribution_rows(today)[0][:4]
    link = LinkSigner(SECRET, f"http://127.0.0.1:{port}").make_link(
        pupil_ref=str(pupil_ref), role=str(role), email=str(email), meeting=today + timedelta(days=30)
    )
    before = contributions(register)

    browser.navigate(link)
    assert browser.evaluate("document.querySelector('h1').textContent") == "Your advice for the annual review"
    text = browser.evaluate("document.body.innerText")
    assert "Freya C." in text
    assert "Class teacher" in text
    assert "Oakfield Academy" in text
    # Fits the phone's width: nothing to scroll sideways.
    assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The keyboard starts at "nothing new to add", the first control of the form.
    browser.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9})
    browser.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9})
    assert browser.evaluate("document.activeElement.id") == "nothing_new"
    # "Sent it another way?": the note's label is tied to it.
    assert browser.evaluate("document.getElementById('note').labels[0].textContent.includes('optional')")
    browser.evaluate("document.getElementById('note').focus()")
    browser.send("Input.insertText", {"text": "Sent by email to the school office"})
    browser.screenshot(ARTIFACTS / "confirm-page.png")
    assert contributions(register) == before  # opening the link wrote nothing

    browser.events.clear()
    browser.click("button.secondary")
    browser.wait_for("Page.loadEventFired")
    assert browser.evaluate("document.querySelector('h1').textContent") == "Thank you"
    browser.screenshot(ARTIFACTS / "confirm-thanks.png")

    row = contributions(register)[1]
    assert row[2] == "Jo Patel"
    assert row[5].date() == today
    assert row[8] == f"Contributor's note ({today:%d/%m/%Y}): Sent by email to the school office"
    assert contributions(register)[2:] == before[2:]

    # Back to the link later (or a scanner re-opening it): already recorded, nothing written again.
    saved = register.read_bytes()
    browser.navigate(link)
    assert "Already marked as received on" in browser.evaluate("document.body.innerText")
    assert register.read_bytes() == saved


def test_a_tampered_link_shows_what_to_do(served, browser: DevTools) -> None:
    register, port, _today = served
    saved = register.read_bytes()
    browser.navigate(f"http://127.0.0.1:{port}/confirm?t=not.a-real-link")
    assert browser.evaluate("document.querySelector('h1').textContent") == "This link does not work"
    assert "reply to the email from Ms Patel" in browser.evaluate("document.body.innerText")
    browser.screenshot(ARTIFACTS / "confirm-broken-link.png")
    assert register.read_bytes() == saved
