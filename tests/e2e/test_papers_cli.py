"""`main.py papers REGISTER --pupil ... --send` and the download link through `main.py serve`: the PDF pack is built
(LibreOffice), each invitee's email carries a link (never the file), the link serves the PDF, and "Papers sent" is
in the Contributions tab."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import openpyxl
import pytest

from functions.evaluate import london_today
from scripts.make_demo import upn, write_demo_register
from tests.e2e.cloud_fixtures import ROOT
from tests.e2e.test_confirm_browser import free_port, wait_for_port

pytestmark = [pytest.mark.libreoffice, pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")]
SECRET = "papers-cli-secret-9a8b7c6d5e4f"


def test_papers_are_built_sent_as_links_and_served(tmp_path: Path) -> None:
    today = london_today()
    register = write_demo_register(tmp_path / "register.xlsx", today=today)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEPER_")}
    env.update({"KEEPER_LINK_SECRET": SECRET, "KEEPER_BASE_URL": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"})
    run = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "papers", str(register), "--pupil", upn(5), "--send", "--out", str(tmp_path / "papers")],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Sent a download link to 2 invitees." in run.stdout
    (pack,) = (tmp_path / "papers").glob("papers-row*.pdf")
    assert pack.read_bytes().startswith(b"%PDF-")
    messages = [message_from_bytes(p.read_bytes(), policy=default) for p in (tmp_path / "outbox").glob("*.eml")]
    assert len(messages) == 2
    assert all(not list(m.iter_attachments()) for m in messages)
    link = messages[0].get_body(("plain",)).get_content().split("\n\n")[2].strip()
    assert link.startswith(f"http://127.0.0.1:{port}/papers?t=")
    wb = openpyxl.load_workbook(register)
    headers = [c.value for c in wb["Contributions"][1]]
    sent = [
        r[headers.index("Papers sent")]
        for r in wb["Contributions"].iter_rows(min_row=2, values_only=True)
        if r[0] == upn(5)
    ]
    wb.close()
    assert [d.date() for d in sent] == [today, today]

    server = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "serve", str(register), "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_port(port, server)
        with urllib.request.urlopen(link, timeout=30) as response:
            assert response.headers["Content-Type"] == "application/pdf"
            assert response.read() == pack.read_bytes()
        with pytest.raises(urllib.error.HTTPError) as broken:
            urllib.request.urlopen(link[:-5] + "xxxxx", timeout=30)
        assert broken.value.code == 400
    finally:
        server.terminate()
        server.wait(timeout=10)
