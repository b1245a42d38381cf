"""Issue 14's check: a register with pupils from several LAs and every after-meeting state, swept day by day for eight
weeks (`main.py sweep --today`) through a real local SMTP server (aiosmtpd on a socket). Exactly the expected chasers
go to exactly the right LA addresses on the right days, none twice; the family's status emails go at each stage; the
overview's per-LA figures equal an independent count made here.

The SENDCo types into the register as the weeks go by (a meeting held, a report sent, an LA's answer), as they would.
Dates: decision due H + 28 days (reg 20(10)); final plan due min(notice + 56, H + 84) (reg 22(3); Devon [2022]).
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest

import main
from reports.la_figures import NONE_YET, SHEET
from tests.e2e.cloud_fixtures import smtp_server

pytestmark = pytest.mark.slow

START, END = date(2025, 10, 6), date(2025, 12, 1)  # Mon to Mon, 8 weeks
KENT, MEDWAY, SURREY = "sen@kent.example", "sen@medway.example", "sen@surrey.example"
SENDCO = "senco@school.example"
HEADERS = ["Name", "DOB", "EHCP issued", "Last review", "Next review meeting", "Report sent", "LA decision date",
           "Decision", "Proposed amendments", "Final amended plan", "LA", "LA ref", "Parent email",
           "Young person email", "UPN"]  # fmt: skip
d = date
# name, dob, last review (H), planned meeting, report sent, LA decision, decision, notice, final plan, LA, parent, YP
PUPILS = [
    ("Amy Adams", d(2012, 3, 4), d(2025, 9, 15), None, d(2025, 9, 20), None, None, None, None, "Kent", "pa@f.example", None),
    ("Ben Brown", d(2012, 5, 6), d(2025, 9, 22), None, d(2025, 9, 25), d(2025, 10, 1), "Amend", d(2025, 10, 2), None, "KCC", "pb@f.example", None),
    ("Cara Cole", d(2012, 7, 8), d(2025, 9, 15), None, d(2025, 9, 20), None, None, None, None, "Medway", None, None),
    ("Dan Dale", d(2012, 9, 10), d(2025, 9, 29), None, None, None, None, None, None, "Surrey CC", None, None),
    ("Eve Ede", d(2012, 11, 12), d(2025, 10, 6), None, None, None, None, None, None, "Surrey", "pe@f.example", None),
    ("Fay Ford", d(2013, 1, 14), d(2024, 10, 21), d(2025, 10, 20), None, None, None, None, None, "Kent", "pf@f.example", None),
    ("Gus Grey", d(2008, 5, 1), d(2025, 9, 15), None, d(2025, 9, 20), None, None, None, None, "Kent", "pg@f.example", "gus@f.example"),
    # The previous cycle's decision (before H): not this cycle's, so the decision is late and Kent is chased.
    ("Hal Hunt", d(2012, 2, 2), d(2025, 9, 15), None, d(2025, 9, 16), d(2025, 6, 1), "Maintain", None, None, "Kent", None, None),
]  # fmt: skip
COLUMN = {h: i + 1 for i, h in enumerate(HEADERS)}
ROW = {p[0].split()[0]: i + 2 for i, p in enumerate(PUPILS)}

# What the SENDCo types, before the sweep of that day: (day, first name, column, value).
TYPED = [
    (d(2025, 10, 10), "Eve", "Report sent", d(2025, 10, 10)),
    (d(2025, 10, 21), "Fay", "Last review", d(2025, 10, 20)),
    (d(2025, 10, 21), "Fay", "Next review meeting", None),
    (d(2025, 10, 27), "Fay", "Report sent", d(2025, 10, 27)),
    (d(2025, 11, 3), "Dan", "Report sent", d(2025, 11, 3)),
    (d(2025, 11, 7), "Eve", "LA decision date", d(2025, 11, 6)),
    (d(2025, 11, 7), "Eve", "Decision", "Maintain"),
    (d(2025, 11, 20), "Dan", "LA decision date", d(2025, 11, 19)),  # Surrey answers after 3 chasers
    (d(2025, 11, 20), "Dan", "Decision", "Maintain"),
]

# Every LA chaser: (day, to, pupil initials). Worked out by hand from the dates above, on school days (no closures or
# bank holidays fall in Oct-Nov 2025 under the default calendar): first school day late, then 7 days on, at most 3.
EXPECTED_CHASERS = {
    (d(2025, 10, 14), KENT, "A. A."), (d(2025, 10, 21), KENT, "A. A."), (d(2025, 10, 28), KENT, "A. A."),
    (d(2025, 10, 14), KENT, "G. G."), (d(2025, 10, 21), KENT, "G. G."), (d(2025, 10, 28), KENT, "G. G."),
    (d(2025, 10, 14), KENT, "H. H."), (d(2025, 10, 21), KENT, "H. H."), (d(2025, 10, 28), KENT, "H. H."),
    (d(2025, 11, 28), KENT, "B. B."),  # final plan due min(2 Oct + 56, 22 Sep + 84) = Thu 27 Nov
    (d(2025, 11, 3), SURREY, "D. D."), (d(2025, 11, 10), SURREY, "D. D."), (d(2025, 11, 17), SURREY, "D. D."),
    (d(2025, 11, 4), SURREY, "E. E."),  # decision due Mon 3 Nov; answered 6 Nov
    (d(2025, 11, 18), KENT, "F. F."), (d(2025, 11, 25), KENT, "F. F."),  # H 20 Oct: due Mon 17 Nov
}  # fmt: skip
# Medway (Cara) has chase = false: nothing goes to Medway; the digest says what would have gone.

# Status emails: (day, to, stage words in the subject). Latest stage only, within 14 days of it happening.
EXPECTED_STATUS = {
    (d(2025, 10, 6), "pb@f.example", "the local authority's decision"),  # decided 1 Oct
    (d(2025, 10, 6), "pe@f.example", "annual review meeting held"),
    (d(2025, 10, 10), "pe@f.example", "report sent to the local authority"),
    (d(2025, 11, 4), "pe@f.example", "the local authority's decision is late"),
    (d(2025, 11, 7), "pe@f.example", "the local authority's decision"),
    (d(2025, 10, 6), "pf@f.example", "annual review meeting date"),
    (d(2025, 10, 21), "pf@f.example", "annual review meeting held"),
    (d(2025, 10, 27), "pf@f.example", "report sent to the local authority"),
    (d(2025, 11, 18), "pf@f.example", "the local authority's decision is late"),
    (d(2025, 10, 14), "pa@f.example", "the local authority's decision is late"),
    (d(2025, 10, 14), "pg@f.example", "the local authority's decision is late"),
    (d(2025, 10, 14), "gus@f.example", "the local authority's decision is late"),  # 17: told in his own right
    (d(2025, 11, 28), "pb@f.example", "the final amended plan is late"),
}

CONFIG = f"""
school_name = "Oak School"
sendco_name = "Ms Patel"
sendco_email = "{SENDCO}"
status_emails = true
[las."Kent"]
email = "{KENT}"
aliases = ["KCC", "Kent County Council"]
chase = true
submit = "email"
[las."Medway"]
email = "{MEDWAY}"
[las."Surrey"]
email = "{SURREY}"
aliases = ["Surrey CC"]
chase = true
submit = "portal"
portal_url = "https://portal.surrey.example"
"""


def _write_register(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.append(HEADERS)
    for i, (name, dob, last, planned, report, decided, decision, notice, final, la, parent, yp) in enumerate(PUPILS):
        ws.append([name, dob, d(2020, 1, 10), last, planned, report, decided, decision, notice, final, la,
                   f"LA-{i + 1:03d}", parent, yp, None])  # fmt: skip
    wb.save(path)


def _type(path: Path, first: str, column: str, value: object) -> None:
    wb = openpyxl.load_workbook(path)
    wb["Register"].cell(ROW[first], COLUMN[column], value)
    wb.save(path)


def _initials(message: EmailMessage) -> str:
    subject = str(message["Subject"])
    return subject.split("Annual review of ", 1)[1].split(" (ref", 1)[0]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    for name in list(__import__("os").environ):
        if name.startswith("KEEPER_") and name != "KEEPER_TODAY_ANCHOR":
            monkeypatch.delenv(name, raising=False)
    with smtp_server() as inbox:
        monkeypatch.setenv("KEEPER_MAIL", "smtp")
        monkeypatch.setenv("KEEPER_SMTP_HOST", inbox.host)
        monkeypatch.setenv("KEEPER_SMTP_PORT", str(inbox.port))
        monkeypatch.setenv("KEEPER_SMTP_SECURITY", "none")
        yield inbox


def test_eight_weeks_of_the_la_clock(env, tmp_path: Path) -> None:
    inbox = env
    register = tmp_path / "register.xlsx"
    (tmp_path / "keeper.toml").write_text(CONFIG, encoding="utf-8")
    _write_register(register)
    got: list[tuple[date, EmailMessage, list[str]]] = []
    day = START
    while day <= END:
        for when, first, column, value in TYPED:
            if when == day:
                _type(register, first, column, value)
        before = len(inbox.received)
        assert main.main(["sweep", str(register), "--today", day.isoformat()]) == 0
        for (_, rcpts, _), message in zip(inbox.received[before:], inbox.messages()[before:], strict=True):
            got.append((day, message, rcpts))
        day += timedelta(days=1)

    chasers = [(day, m, r) for day, m, r in got if m["X-Review-Keeper-Kind"] == "la_chaser"]
    seen = [(day, str(m["To"]), _initials(m)) for day, m, _ in chasers]
    assert len(seen) == len(set(seen))  # none twice
    assert set(seen) == EXPECTED_CHASERS
    for _, m, rcpts in chasers:
        assert str(m["Cc"]) == SENDCO
        assert str(m["Reply-To"]) == SENDCO
        assert SENDCO in rcpts  # the copy really goes to the SENDCo
        body = m.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "regulation 2" in body  # reg 20(10) or reg 22(3) cited
        assert "ehc plan" not in body  # the sentence's first letter raised, not the rest lowered ("EHC plan")
        assert "LA-00" in body  # the LA's own reference
        assert "2012" not in body
        assert "2008" not in body
        assert "Adams" not in body
        assert "Grey" not in body
    assert not [m for _, m, _ in got if MEDWAY in str(m["To"])]

    status = {(day, str(m["To"]), str(m["Subject"]).split(": ", 1)[1]) for day, m, _ in got
              if m["X-Review-Keeper-Kind"] == "status"}  # fmt: skip
    assert status == EXPECTED_STATUS
    assert len([m for _, m, _ in got if m["X-Review-Keeper-Kind"] == "status"]) == len(EXPECTED_STATUS)

    # The digest on Medway's first would-be day says what would have gone.
    digests = [m for day, m, _ in got if m["X-Review-Keeper-Kind"] == "digest" and day == d(2025, 10, 14)]
    assert digests
    text = digests[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "chaser 1 to Medway" in text
    assert "would have been sent" in text

    # The register shows it: one LA chasers row per chaser sent, and the SENDCo's cells untouched.
    wb = openpyxl.load_workbook(register)
    tab = [r for r in wb["LA chasers"].iter_rows(min_row=2, values_only=True) if any(r)]
    assert len(tab) == len(EXPECTED_CHASERS)
    ws = wb["Register"]
    assert ws.cell(ROW["Dan"], COLUMN["Report sent"]).value.date() == d(2025, 11, 3)

    # A second sweep of the last day sends nothing more.
    before = len(inbox.received)
    assert main.main(["sweep", str(register), "--today", END.isoformat()]) == 0
    assert not [m for m in inbox.messages()[before:] if m["X-Review-Keeper-Kind"] in ("la_chaser", "status")]

    _check_overview(register, tmp_path)


# The LA each register name belongs to, written out by hand from CONFIG's profiles and aliases.
CANONICAL = {"Kent": "Kent", "KCC": "Kent", "Kent County Council": "Kent", "Medway": "Medway", "Surrey": "Surrey",
             "Surrey CC": "Surrey"}  # fmt: skip


def _independent(
    today: date, typed: list[tuple] = TYPED, pupils: list[tuple] = PUPILS, canonical: dict[str, str] = CANONICAL
) -> dict[str, tuple]:
    """Per LA, counted here from the register's final state, by the rules as written in the docstring."""
    final = {p[0].split()[0]: list(p) for p in pupils}
    for _, first, column, value in typed:
        index = {"Last review": 2, "Next review meeting": 3, "Report sent": 4, "LA decision date": 5, "Decision": 6}
        final[first][index[column]] = value
    out: dict[str, list] = {}
    for _name, _dob, held, _planned, report, decided, decision, notice, plan, la, _p, _y in final.values():
        la = canonical.get(la, la)
        f = out.setdefault(la, [0, 0, [], 0, 0, 0, []])
        if decided is not None and decided >= held:
            f[1] += 1
            f[0] += decided <= held + timedelta(days=28)
            f[2].append((decided - held).days)
        elif held + timedelta(days=28) < today:
            f[1] += 1
        if decision == "Amend" and decided is not None and decided >= held:
            due = min(notice + timedelta(days=56), held + timedelta(days=84))
            if plan is not None or due < today:
                f[4] += 1
                f[3] += plan is not None and plan <= due
        if report is not None and report >= held:
            waiting = decided is None or decided < held or (decision == "Amend" and plan is None)
            if waiting:
                f[5] += 1
                f[6].append((today - held).days)
    return {
        la: (f[0], f[1], statistics.median(f[2]) if f[2] else NONE_YET, f[5], max(f[6]) if f[6] else None)
        for la, f in out.items()
    }


def _check_overview(register: Path, tmp_path: Path) -> None:
    out = tmp_path / "overview.xlsx"
    assert main.main(["report", str(register), "--today", END.isoformat(), "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out)[SHEET]
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if r and r[0]]
    table = {r[0]: (r[2], r[3], r[5], r[9], r[10] if r[10] != NONE_YET else None) for r in rows}
    expected = _independent(END)
    assert table == expected
    # Kent with KCC (Ben): Amy, Gus, Hal late and unanswered, Fay late too (H 20 Oct, due 17 Nov); Ben's in time (22 Sep
    # to 1 Oct): 1 of 5 within 4 weeks.
    assert table["Kent"][:3] == (1, 5, 9)
    # Surrey with Surrey CC (Dan): Eve 6 Oct to 6 Nov, 31 days; Dan 29 Sep to 19 Nov, 51 days; median 41.
    assert table["Surrey"][:3] == (0, 2, 41)
    assert "KCC" not in table
    assert "Surrey CC" not in table
