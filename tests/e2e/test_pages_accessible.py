"""An automated accessibility audit (WCAG 2.2 AA) of every page a contributor or the SENDCo can meet behind a link.

The same stack as `python main.py serve` (connectors/web_server.py's threaded server, functions/cloud_entry.serve_app,
the Confirmations service, the papers download) on a real socket (port 0), a register workbook on disk, and Debian's
headless Chromium over the DevTools pipe (tests/e2e/test_confirm_browser.py). The clock is the test's, so the
"deadline for changes has passed" page can be reached too. On each page, axe-core (pinned and installed by
scripts/install_test_deps.sh into tests/vendor) runs with the WCAG 2.0/2.1/2.2 A and AA rules at a phone's viewport and
a desktop's; any violation is printed with its rule, element and help, and fails the test. The forms are also walked
with real Tab key presses: the focus goes through every control in the order they are seen (top to bottom) and is
always visible (WCAG 2.2 2.4.3, 2.4.7, 2.4.11). Screenshots go to test-artifacts/a11y-*.png."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from connectors.storage_folder import FolderEvidenceStore
from connectors.submission_queue import SubmissionQueue
from connectors.web_server import build_server
from connectors.workbook import WorkbookRegister
from functions.advice_page import REQUEST_LIMIT_BYTES, AdviceDesk
from functions.cloud_entry import serve_app
from functions.confirm import SECURITY_HEADERS, Confirmations
from functions.la_record import RecordSigner, record_download
from functions.links import LinkSigner
from functions.papers import PapersSigner, download
from functions.settings import School, load_settings
from scripts.make_demo import upn, write_demo_register
from sheet_schema.forms import form_for
from tests.e2e.cloud_fixtures import ROOT
from tests.e2e.test_confirm_browser import ARTIFACTS, CHROMIUM, DevTools

AXE = ROOT / "tests" / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Chromium"),
    pytest.mark.skipif(not AXE.exists(), reason="needs axe-core: run scripts/install_test_deps.sh"),
]

SECRET = "a11y-test-secret-7a6b5c4d3e2f1098"
RECORD_NOT_FOUND = "This record is no longer here"
NOW = datetime(2026, 11, 29, 10, 30)
TODAY = NOW.date()
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}

PARENT = ("Leo Fitzgerald", "Parent/carer", "kim.f@example.org")
YOUNG = ("Leo Fitzgerald", "Young person", "leo.f@students.example.org")
TEACHER = (upn(5), "Class teacher", "j.patel@oakfield.example.org")
TA = ("Leo Fitzgerald", "TA", "s.jones@oakfield.example.org")
SALT = ("Leo Fitzgerald", "SALT", "salt.referrals@nhs.example.org")
EP = (upn(5), "EP", "ep.team@northshire.example.org")
TEACHER_FORM = form_for("Class teacher")


@dataclass
class Site:
    register: Path
    base: str
    now: list[datetime] = field(default_factory=lambda: [NOW])
    signer: LinkSigner = field(default_factory=lambda: LinkSigner(SECRET))

    def link(self, who: tuple[str, str, str], meeting: date | None = None) -> str:
        pupil, role, email = who
        token = self.signer.token(
            pupil_ref=pupil, role=role, email=email, meeting=meeting or TODAY + timedelta(days=30)
        )
        return f"{self.base}/confirm?t={token}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    register = write_demo_register(tmp_path / "register.xlsx", today=TODAY)
    wb = openpyxl.load_workbook(register)
    wb["Contributions"].append(["Leo Fitzgerald", "Parent/carer", "Kim Fitzgerald", "kim.f@example.org"])
    wb["Contributions"].append(["Leo Fitzgerald", "TA", "Sam Jones", "s.jones@oakfield.example.org"])
    wb.save(register)
    school = School("", str(register), load_settings(register=register))
    holder: dict[str, Site] = {}

    def now() -> datetime:
        return holder["site"].now[0]

    desk = AdviceDesk(
        store_for=lambda s: FolderEvidenceStore.beside(Path(s.register)),
        queue_for=lambda s: SubmissionQueue.beside(Path(s.register)),
        now=now,
    )
    service = Confirmations(
        {"": school},
        LinkSigner(SECRET),
        lambda s: WorkbookRegister(s.register, read_while_open=True),
        lambda: now().date(),
        desk,
    )
    papers = PapersSigner(SECRET)

    records = RecordSigner(SECRET)

    def papers_reply(request: Any) -> tuple[bytes, int, dict[str, str]]:
        if request.path.rstrip("/").endswith("/record"):  # the LA's record link, served beside the papers
            return record_download(request.args.get("t"), signer=records, folder_for={"": tmp_path}, today=now().date())
        return download(request.args.get("t"), signer=papers, folder_for={"": tmp_path}, today=now().date())

    app = serve_app(service, papers_reply)
    server = build_server(app, "127.0.0.1", 0, error_headers=SECURITY_HEADERS, max_body=REQUEST_LIMIT_BYTES)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        holder["site"] = Site(register, f"http://127.0.0.1:{server.server_port}")
        holder["site"].signer = LinkSigner(SECRET, holder["site"].base)
        yield holder["site"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    devtools = DevTools(tmp_path / "chromium-profile")
    try:
        target = devtools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        devtools.session = devtools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        devtools.send("Page.enable")
        devtools.send("DOM.enable")
        devtools.send("Emulation.setDeviceMetricsOverride", PHONE)
        yield devtools
    finally:
        devtools.close()


class Auditor:
    """Runs axe on the page in the browser, at both viewports, and keeps every violation for one report at the end."""

    def __init__(self, browser: DevTools) -> None:
        self.browser = browser
        self.source = AXE.read_text(encoding="utf-8")
        self.found: list[str] = []
        self.pages: list[str] = []
        self.incomplete: set[str] = set()  # "needs review" by a person: printed, not failed

    def _axe(self) -> list[dict[str, Any]]:
        if not self.browser.evaluate("typeof window.axe === 'object'"):
            self.browser.send("Runtime.evaluate", {"expression": self.source})
        options = json.dumps({"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
        reply = self.browser.send(
            "Runtime.evaluate",
            {
                "expression": (
                    f"axe.run(document, {options}).then(r => ({{passes: r.passes.length, incomplete: r.incomplete"
                    ".map(v => v.id + ' ' + v.nodes.map(n => n.target.join(' ')).join(', ')),"
                    " violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
                    " targets: v.nodes.map(n => n.target.join(' '))}))}))"
                ),
                "awaitPromise": True,
                "returnByValue": True,
            },
            timeout=60,
        )
        assert "exceptionDetails" not in reply, reply.get("exceptionDetails")
        result = reply["result"]["value"]
        assert result["passes"] > 0  # axe really ran its rules on this page (the control test shows it can fail)
        self.incomplete.update(result["incomplete"])
        return list(result["violations"])

    def audit(self, name: str) -> None:
        """The page now in the browser, at a phone's width then a desktop's (it is not reloaded: a POST's answer too)."""
        self.pages.append(name)
        # Phone first (WCAG 1.4.10 reflow): laid out at the phone's width, nothing to scroll sideways.
        if not self.browser.evaluate(
            "!!document.querySelector('meta[name=viewport][content*=\"width=device-width\"]')"
            " && document.documentElement.scrollWidth <= window.innerWidth"
        ):
            self.found.append(f"{name} (phone): not laid out for a phone's width (viewport or sideways scroll)")
        for viewport, metrics in (("phone", PHONE), ("desktop", DESKTOP)):
            self.browser.send("Emulation.setDeviceMetricsOverride", metrics)
            time.sleep(0.05)  # one frame for the layout at the new width
            for v in self._axe():
                self.found.append(f"{name} ({viewport}): {v['id']} [{v['impact']}] {v['help']} -> {v['targets']}")
            self.browser.screenshot(ARTIFACTS / f"a11y-{name}-{viewport}.png")
        self.browser.send("Emulation.setDeviceMetricsOverride", PHONE)

    def check(self) -> None:
        print("axe asks a person to review:", sorted(self.incomplete) or "nothing")
        print("\n".join(self.found) or f"axe: no WCAG 2.2 A/AA violations on {len(self.pages)} pages")
        assert self.found == [], "axe found violations:\n" + "\n".join(self.found)


def heading(browser: DevTools) -> str:
    return str(browser.evaluate("document.querySelector('h1') && document.querySelector('h1').textContent"))


def open_page(browser: DevTools, url: str) -> None:
    browser.navigate(url)


def submit(browser: DevTools, selector: str = "form[enctype] button[type=submit]") -> None:
    browser.events.clear()
    browser.click(selector)
    browser.wait_for("Page.loadEventFired")


def type_into(browser: DevTools, field_id: str, text: str) -> None:
    browser.click(f"#{field_id}")
    browser.evaluate(f"document.getElementById({json.dumps(field_id)}).focus()")
    browser.send("Input.insertText", {"text": text})


def attach(browser: DevTools, path: Path) -> None:
    root = browser.send("DOM.getDocument")["root"]["nodeId"]
    node = browser.send("DOM.querySelector", {"nodeId": root, "selector": "#files"})["nodeId"]
    browser.send("DOM.setFileInputFiles", {"files": [str(path)], "nodeId": node})


def press_tab(browser: DevTools) -> None:
    for kind in ("keyDown", "keyUp"):
        browser.send("Input.dispatchKeyEvent", {"type": kind, "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9})


# The focused element: what it is, where it is on the page, and whether its focus indicator is really drawn (an outline
# of at least 2 px in a colour other than the page's, WCAG 2.2 2.4.7 and 2.4.11).
_FOCUSED = """(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return {key: e.id || e.name || e.textContent.trim().slice(0, 30), tag: e.tagName.toLowerCase(), type: e.type || '',
          top: r.top + window.scrollY, left: r.left + window.scrollX,
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2, outlineColor: s.outlineColor};
})()"""

# Every control a keyboard should reach, in the order the page shows them; a radio group is one stop.
_EXPECTED = """(() => {
  const seen = new Set(), out = [];
  for (const e of document.querySelectorAll('a[href], button, input:not([type=hidden]), textarea, select')) {
    if (e.type === 'radio') { if (seen.has(e.name)) continue; seen.add(e.name); }
    out.push(e.type === 'radio' ? e.name : (e.id || e.name || e.textContent.trim().slice(0, 30)));
  }
  return out;
})()"""


def walk_focus(browser: DevTools, name: str) -> list[str]:
    """Tab from the top of the page to its end with real key events; returns the problems found."""
    # Start where a person would: a click on the page's heading (Chromium starts Tab from the last click or focus).
    browser.evaluate("document.activeElement && document.activeElement.blur()")
    browser.click("h1")
    expected = browser.evaluate(_EXPECTED)
    stops: list[dict[str, Any]] = []
    for _ in range(len(expected) + 3):
        press_tab(browser)
        focused = browser.evaluate(_FOCUSED)
        if focused is None or (stops and focused["key"] == stops[0]["key"]):
            break
        if focused["type"] == "radio":
            focused["key"] = browser.evaluate("document.activeElement.name")
        stops.append(focused)
    problems = []
    order = [s["key"] for s in stops]
    if order != expected:
        problems.append(f"{name}: Tab went {order}, the page shows {expected}")
    for before, after in itertools.pairwise(stops):
        if after["top"] + 1 < before["top"]:
            problems.append(f"{name}: Tab moved up the page from {before['key']} to {after['key']}")
    for s in stops:
        if not s["outline"]:
            problems.append(f"{name}: no visible focus on {s['key']}")
    return problems


def test_every_contributor_page_passes_axe_and_the_keyboard(site: Site, browser: DevTools, tmp_path: Path) -> None:
    axe = Auditor(browser)
    focus: list[str] = []

    # Each role's form, as the link first opens it.
    for name, who, title in (
        ("form-parent", PARENT, "Your views for the annual review"),
        ("form-young-person", YOUNG, "My views"),
        ("form-class-teacher", TEACHER, TEACHER_FORM.title),
        ("form-teaching-assistant", TA, TEACHER_FORM.title),  # "TA" on the register: the teacher/TA form
        ("form-professional", SALT, "Your advice for the annual review"),
        ("form-ep", EP, "Your advice for the annual review"),
    ):
        open_page(browser, site.link(who))
        assert browser.evaluate("!!document.querySelector('form[enctype]')"), name
        if who in (TEACHER, TA):
            assert browser.evaluate("!!document.getElementById('progress') && !document.getElementById('files')")
        assert heading(browser) == title, name
        axe.audit(name)
        focus += walk_focus(browser, f"{name} (phone)")
        browser.send("Emulation.setDeviceMetricsOverride", DESKTOP)
        focus += walk_focus(browser, f"{name} (desktop)")
        browser.send("Emulation.setDeviceMetricsOverride", PHONE)

    # A wrong file: the form again, the problem listed first and linked to its field.
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"GIF89a this is not a PDF")
    open_page(browser, site.link(SALT))
    type_into(browser, "summary", "Speech is clearer")
    attach(browser, fake)
    submit(browser)
    assert "it is not a PDF or a Word document" in browser.evaluate("document.body.innerText")
    axe.audit("form-wrong-file-type")
    focus += walk_focus(browser, "form-wrong-file-type")

    # A good report: the thank-you page; then the link again, prefilled.
    good = tmp_path / "SALT report.pdf"
    good.write_bytes(PDF)
    attach(browser, good)
    submit(browser)
    assert heading(browser) == "Thank you"
    axe.audit("thanks-advice")
    open_page(browser, site.link(SALT))
    assert browser.evaluate("document.getElementById('summary').value") == "Speech is clearer"
    axe.audit("form-prefilled-on-reopen")
    focus += walk_focus(browser, "form-prefilled-on-reopen")

    # "I've sent it another way", then the link again (already received).
    open_page(browser, site.link(TEACHER))
    type_into(browser, "note", "Sent by email")
    submit(browser, "button.secondary")
    assert heading(browser) == "Thank you"
    axe.audit("thanks-sent-another-way")
    open_page(browser, site.link(TEACHER))
    assert "Already marked as received" in browser.evaluate("document.body.innerText")
    axe.audit("form-already-received")

    # Too much text at once (over the form's text limit): refused unread, with its own page.
    open_page(browser, site.link(EP))
    browser.evaluate(
        "(() => { const e = document.getElementById('summary'); e.removeAttribute('maxlength');"
        " e.value = 'x'.repeat(1100 * 1024); })()"
    )
    submit(browser)
    assert heading(browser) == "Your files are too large to send together"
    axe.audit("error-too-large")

    # Files over the request limit: the server answers before reading them, with its own short page.
    big = []
    for number in range(4):
        part = tmp_path / f"part-{number}.pdf"
        part.write_bytes(b"%PDF-1.4\n" + b"0" * (9 * 1024 * 1024))
        big.append(str(part))
    open_page(browser, site.link(EP))
    root = browser.send("DOM.getDocument")["root"]["nodeId"]
    node = browser.send("DOM.querySelector", {"nodeId": root, "selector": "#files"})["nodeId"]
    browser.send("DOM.setFileInputFiles", {"files": big, "nodeId": node})
    submit(browser)
    assert "Go back to the form (your answers are still there)" in browser.evaluate("document.body.innerText")
    axe.audit("error-upload-over-the-limit")

    # The parent sends answers; the register open in Excel then queues the young person's.
    open_page(browser, site.link(PARENT))
    type_into(browser, "going_well", "Football")
    submit(browser)
    assert heading(browser) == "Thank you"
    lock = site.register.parent / f"~${site.register.name}"
    lock.write_text("owner")
    open_page(browser, site.link(YOUNG))
    type_into(browser, "likes", "Cars")
    submit(browser)
    assert "The school's register is in use just now" in browser.evaluate("document.body.innerText")
    axe.audit("thanks-queued-register-busy")
    lock.unlink()

    # The deadline for changes has passed (months later; the link itself still valid).
    site.now[0] = NOW + timedelta(days=120)
    open_page(browser, site.link(PARENT, meeting=TODAY + timedelta(days=150)))
    assert "The deadline for changes has passed" in browser.evaluate("document.body.innerText")
    axe.audit("error-deadline-passed")
    site.now[0] = NOW

    # Links that do not work.
    open_page(browser, site.link(PARENT, meeting=TODAY - timedelta(days=60)))
    assert heading(browser) == "This link has expired"
    axe.audit("error-expired")
    forged = LinkSigner("another-secret-entirely-0000", site.base).make_link(
        pupil_ref=PARENT[0], role=PARENT[1], email=PARENT[2], meeting=TODAY + timedelta(days=30)
    )
    open_page(browser, forged)
    assert heading(browser) == "This link does not work"
    axe.audit("error-forged")
    open_page(browser, site.link((PARENT[0], PARENT[1], "someone.else@example.org")))
    assert heading(browser) == "We could not find this request"
    axe.audit("error-not-found")
    other = LinkSigner(SECRET, site.base, "elm").make_link(
        pupil_ref=PARENT[0], role=PARENT[1], email=PARENT[2], meeting=TODAY + timedelta(days=30)
    )
    open_page(browser, other)
    assert heading(browser) == "This link is not for this service"
    axe.audit("error-wrong-school")
    hidden = site.register.with_name("moved.xlsx")
    site.register.rename(hidden)  # the register cannot be read just now
    open_page(browser, site.link(PARENT))
    assert heading(browser) == "Sorry, this is not working right now"
    axe.audit("error-unavailable")
    hidden.rename(site.register)
    open_page(browser, f"{site.base}/confirm?t={'A' * 9000}")  # a link mangled past the server's line limit
    axe.audit("error-server-address-too-long")

    # The papers download link: a good one is the PDF itself; the pages are the ones a bad or old link meets.
    papers = PapersSigner(SECRET, site.base)
    pack = papers.pack_id("leo fitzgerald", TODAY + timedelta(days=30))
    open_page(browser, papers.link(pack, PARENT[2], TODAY + timedelta(days=30)))
    assert heading(browser) == "We could not find this request"  # no pack published in this test
    axe.audit("papers-not-found")
    open_page(browser, papers.link(pack, PARENT[2], TODAY - timedelta(days=1)))
    assert heading(browser) == "This link has expired"
    axe.audit("papers-expired")
    open_page(browser, f"{site.base}/papers?t=not-a-real-link")
    assert heading(browser) == "This link does not work"
    axe.audit("papers-forged")

    # The LA's record link (submit --send): the pages an LA meets with a link that shows no record.
    record_links = RecordSigner(SECRET, site.base)
    record = record_links.record_id("leo fitzgerald", TODAY - timedelta(days=10))
    open_page(browser, record_links.link(record, "record", "sen@la.example.org", TODAY + timedelta(days=60)))
    assert heading(browser) == RECORD_NOT_FOUND  # nothing kept in this test
    axe.audit("record-not-found")
    open_page(browser, record_links.link(record, "record", "sen@la.example.org", TODAY - timedelta(days=1)))
    assert heading(browser) == "This link has expired"
    axe.audit("record-expired")
    open_page(browser, f"{site.base}/record?t=not-a-real-link")
    assert heading(browser) == "This link does not work"
    axe.audit("record-forged")

    assert len(axe.pages) == 27
    print("\n".join(focus) or "keyboard: focus order and visibility as shown on every form")
    axe.check()
    assert focus == []


def test_the_audit_fails_a_page_that_breaks_the_rules(site: Site, browser: DevTools) -> None:
    """The control: the same checks on a form broken on purpose (in the browser only) find each fault."""
    open_page(browser, site.link(PARENT))
    browser.evaluate(
        """(() => {
          const extra = document.createElement('textarea'); extra.id = 'unlabelled';
          document.querySelector('form[enctype] button').before(extra);
          document.querySelector('.hint').style.color = '#b0b0b0';
          document.getElementById('hard').style.outline = 'none';
          const form = document.querySelector('form[enctype]');
          form.style.display = 'flex'; form.style.flexDirection = 'column';
          form.querySelector('button').style.order = '-1';  // shown first, reached last
        })()"""
    )
    axe = Auditor(browser)
    axe.audit("control-broken-on-purpose")
    rules = {line.split(": ", 1)[1].split(" ", 1)[0] for line in axe.found}
    assert {"label", "color-contrast"} <= rules, axe.found
    problems = walk_focus(browser, "control")
    assert "control: Tab moved up the page from unlabelled to Send to the school" in problems, problems
    assert "control: no visible focus on hard" in problems
