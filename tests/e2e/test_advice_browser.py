"""Each role's form in a real browser on a phone-sized screen: `python main.py serve` in a child process, headless
Chromium over the DevTools pipe (tests/e2e/test_confirm_browser.py), every field filled by typing, a report attached
through the file chooser, a real tap on "Send to the school"; then the register's Advice tab, the evidence folder and
the compiled review record are read back. Screenshots go to test-artifacts/."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import docx
import openpyxl
import pytest

from functions.evaluate import london_today
from functions.links import LinkSigner
from scripts.make_demo import upn, write_demo_register
from sheet_schema.advice import ADVICE_HEADERS
from tests.e2e.cloud_fixtures import ROOT
from tests.e2e.test_confirm_browser import ARTIFACTS, CHROMIUM, DevTools, free_port, wait_for_port

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium")
SECRET = "advice-browser-secret-5e4d3c2b1a09"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PARENT = ["Leo Fitzgerald", "Parent/carer", "Kim Fitzgerald", "kim.f@example.org"]


@pytest.fixture
def served(tmp_path: Path):
    today = london_today()
    register = write_demo_register(tmp_path / "register.xlsx", today=today)
    wb = openpyxl.load_workbook(register)
    wb["Contributions"].append(PARENT)
    wb.save(register)
    (tmp_path / "keeper.toml").write_text(
        'school_name = "Oakfield Academy"\nsendco_name = "Ms Patel"\nsendco_email = "senco@oakfield.example.org"\n',
        encoding="utf-8",
    )
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if (not k.startswith("KEEPER_") or k == "KEEPER_TODAY_ANCHOR") and k != "PUBSUB_EMULATOR_HOST"
    }
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
def phone(tmp_path: Path):
    devtools = DevTools(tmp_path / "chromium-profile")
    try:
        target = devtools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        devtools.session = devtools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        devtools.send("Page.enable")
        devtools.send("DOM.enable")
        devtools.send(
            "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
        )
        yield devtools
    finally:
        devtools.close()


def open_link(browser: DevTools, url: str, first_field: str) -> None:
    """Navigate and wait until the form is really there (a late load event of the page before must not count)."""
    browser.navigate(url)
    deadline = time.monotonic() + 20
    while not browser.evaluate(f"!!document.getElementById({json.dumps(first_field)})"):
        assert time.monotonic() < deadline, f"the form with #{first_field} did not load"
        time.sleep(0.1)


def type_into(browser: DevTools, field_id: str, text: str) -> None:
    """Tap the field (as a thumb would), put the caret at the end, and type."""
    browser.click(f"#{field_id}")
    browser.evaluate(
        f"(() => {{ const e = document.getElementById({json.dumps(field_id)}); e.focus();"
        " e.setSelectionRange(e.value.length, e.value.length); }})()"
    )
    browser.send("Input.insertText", {"text": text})
    assert browser.evaluate(f"document.getElementById({json.dumps(field_id)}).value.endsWith({json.dumps(text)})")


def attach(browser: DevTools, path: Path) -> None:
    root = browser.send("DOM.getDocument")["root"]["nodeId"]
    node = browser.send("DOM.querySelector", {"nodeId": root, "selector": "#files"})["nodeId"]
    browser.send("DOM.setFileInputFiles", {"files": [str(path)], "nodeId": node})


def send(browser: DevTools) -> str:
    browser.events.clear()
    browser.click("form[enctype] button[type=submit]")
    browser.wait_for("Page.loadEventFired")
    return str(browser.evaluate("document.querySelector('h1').textContent"))


def check_page(browser: DevTools) -> None:
    # Phone first: nothing to scroll sideways; every control labelled; no script anywhere on the page.
    assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    unlabelled = browser.evaluate(
        "[...document.querySelectorAll('textarea, input:not([type=hidden])')]"
        ".filter(e => !e.labels || e.labels.length === 0).map(e => e.id)"
    )
    assert unlabelled == []
    assert browser.evaluate("document.scripts.length") == 0


def test_every_role_fills_its_form_on_a_phone(served, phone: DevTools, tmp_path: Path) -> None:
    register, port, today = served
    signer = LinkSigner(SECRET, f"http://127.0.0.1:{port}")
    meeting = today + timedelta(days=30)

    def link(pupil: str, role: str, email: str) -> str:
        return signer.make_link(pupil_ref=pupil, role=role, email=email, meeting=meeting)

    # The young person, helped by an adult.
    open_link(phone, link("Leo Fitzgerald", "Young person", "leo.f@students.example.org"), "likes")
    assert phone.evaluate("document.querySelector('h1').textContent") == "My views"
    check_page(phone)
    type_into(phone, "likes", "Fixing bikes with my uncle")
    type_into(phone, "hard_for_me", "Loud rooms")
    type_into(phone, "helps_me", "Ear defenders")
    type_into(phone, "want_next", "More time in the workshop")
    type_into(phone, "when_older", "I want to be a mechanic.")
    phone.click("#written_by-2")
    phone.screenshot(ARTIFACTS / "advice-child-form.png")
    assert send(phone) == "Thank you"
    phone.screenshot(ARTIFACTS / "advice-child-thanks.png")

    # The parent: Year 9, so adult life and the personal budget question.
    open_link(phone, link(*PARENT[:2], PARENT[3]), "going_well")
    check_page(phone)
    type_into(phone, "going_well", "He is calmer at home")
    type_into(phone, "hard", "Mornings")
    type_into(phone, "change", "More notice of changes")
    type_into(phone, "hopes_year", "A work experience week")
    type_into(phone, "hopes_adult", "We hope he can travel to college on his own.")
    phone.click("#personal_budget-1")
    phone.screenshot(ARTIFACTS / "advice-parent-form.png")
    assert send(phone) == "Thank you"

    # The class teacher: ten minutes' worth.
    open_link(phone, link(upn(5), "Class teacher", "j.patel@oakfield.example.org"), "progress")
    check_page(phone)
    for field, text in (
        ("progress", "Outcome 1 met"),
        ("attainment", "Working towards"),
        ("working", "Phonics group"),
        ("not_working", "Playtimes"),
        ("recommendations", "Keep the group"),
    ):
        type_into(phone, field, text)
    assert send(phone) == "Thank you"

    # A professional, with a report chosen through the file input.
    report = tmp_path / "SALT report.pdf"
    report.write_bytes(PDF)
    open_link(phone, link("Leo Fitzgerald", "SALT", "salt.referrals@nhs.example.org"), "summary")
    check_page(phone)
    type_into(phone, "summary", "Speech is clearer")
    type_into(phone, "recommendations", "Leo should join the college link course.")
    attach(phone, report)
    phone.screenshot(ARTIFACTS / "advice-professional-form.png")
    assert send(phone) == "Thank you"
    assert "with 1 file" in phone.evaluate("document.body.innerText")
    phone.screenshot(ARTIFACTS / "advice-professional-thanks.png")

    # A refresh of the link keeps what was sent.
    open_link(phone, link("Leo Fitzgerald", "SALT", "salt.referrals@nhs.example.org"), "summary")
    assert phone.evaluate("document.getElementById('summary').value") == "Speech is clearer"

    # A wrong file gets the form back with the answers still in it.
    fake = tmp_path / "notes.pdf"
    fake.write_bytes(b"GIF89a this is not a PDF")
    type_into(phone, "summary", " (updated)")
    attach(phone, fake)
    assert send(phone) == "Your advice for the annual review"
    assert "File 1: it is not a PDF or a Word document" in phone.evaluate("document.body.innerText")
    assert phone.evaluate("document.getElementById('summary').value") == "Speech is clearer (updated)"
    phone.screenshot(ARTIFACTS / "advice-wrong-file.png")

    # The register's Advice tab: one row per submission.
    wb = openpyxl.load_workbook(register)
    rows = [dict(zip(ADVICE_HEADERS, r, strict=False)) for r in wb["Advice"].iter_rows(min_row=2, values_only=True)]
    wb.close()
    assert [r["Role"] for r in rows] == ["Young person", "Parent/carer", "Class teacher", "SALT"]
    assert rows[0]["Written by"] == "An adult wrote down what I said or drew"
    assert rows[1]["Personal budget"] == "Yes"
    assert rows[2]["Provision not working"] == "Playtimes"
    kept = register.parent / "evidence" / "leo-fitzgerald" / str(rows[3]["Files"])
    assert kept.read_bytes() == PDF

    # The compiled record.
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "records", str(register), "--out", str(tmp_path / "records")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("KEEPER_") or k == "KEEPER_TODAY_ANCHOR"},
    )
    assert "review record" in result.stdout
    leo = next((tmp_path / "records").glob("*Leo*.docx"))
    text = [p.text for p in docx.Document(str(leo)).paragraphs]
    assert "\u201cFixing bikes with my uncle\u201d" in text
    assert text.index("\u201cFixing bikes with my uncle\u201d") < text.index("He is calmer at home")
    assert "SALT: Leo should join the college link course." in text
    assert hashlib.sha256(PDF).hexdigest() in {
        c.text for t in docx.Document(str(leo)).tables for r in t.rows for c in r.cells
    }
