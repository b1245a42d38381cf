"""Emails through the whole sweep, as a SENDCo runs it: `python main.py sweep` on a workbook with a Contributions tab,
the outbox parsed with the `email` package, SMTP against a real aiosmtpd server, and a crash between sending and
writing."""

from __future__ import annotations

import email
import json
import socket
from datetime import date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest

from connectors.base import RegisterError, WritePlan, WriteResult
from connectors.mail import OutboxTransport
from connectors.workbook import WorkbookRegister
from functions.mailer import LEDGER_NAME, FileLedger
from functions.settings import load_settings
from functions.sweep import run_sweep
from tests.e2e.conftest import run_main

UPN = "B801200005001"
DOB = date(2014, 3, 4)
SENDCO = "sendco@school.example.org"
REGISTER_HEADERS = [
    "Name",
    "UPN",
    "DOB",
    "EHCP issued",
    "Last review",
    "LA decision date",
    "Next review meeting",
    "Parent email",
]
CONTRIB_HEADERS = ["Pupil", "Role", "Name", "Email", "Requested", "Received", "Chasers", "Last chased", "Notes"]
TEACHER = "teacher@school.example.org"
EP = "ep@la.example.org"
PARENT = "ann.parent@example.org"
TYPED_BY_SENDCO = date(2025, 9, 26)


def make_register(folder: Path, *, contributions: bool = True, typed_request: bool = False) -> Path:
    """One pupil (meeting due by 11/11/2025; contributions asked for from 30/09/2025), a parent email in the register,
    and a Contributions tab with a class teacher and an EP. `typed_request`: a third row (SALT) whose Requested date
    the SENDCo typed herself."""
    folder.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.append(REGISTER_HEADERS)
    ws.append(["Ann Example", UPN, DOB, date(2020, 1, 1), date(2024, 11, 20), date(2024, 12, 10), None, PARENT])
    if contributions:
        tab = wb.create_sheet("Contributions")
        tab.append(CONTRIB_HEADERS)
        tab.append([UPN, "Class teacher", "Jo Patel", TEACHER, None, None, None, None, "Teaches Ann for maths too"])
        tab.append(["Ann Example", "EP", "Dr Sam Okafor", EP, None, None, None, None, None])
        if typed_request:
            tab.append([UPN, "SALT", "Priya Shah", "salt@nhs.example.org", TYPED_BY_SENDCO, None, None, None, None])
    path = folder / "register.xlsx"
    wb.save(path)
    (folder / "keeper.toml").write_text(
        f'school_name = "Oakfield Primary"\nsendco_name = "Sam Taylor"\nsendco_email = "{SENDCO}"\n', encoding="utf-8"
    )
    return path


def outbox_messages(folder: Path) -> list[EmailMessage]:
    out = []
    for path in sorted(folder.glob("*.eml")):
        with path.open("rb") as fh:
            out.append(email.message_from_binary_file(fh, policy=policy.default))
    return out


def sweep(path: Path, today: str, *extra: str, env: dict[str, str] | None = None) -> dict:
    proc = run_main("sweep", str(path), "--today", today, "--json", *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def contributions(path: Path) -> dict[str, dict[str, object]]:
    """Role -> header -> value, from the Contributions tab as saved."""
    ws = openpyxl.load_workbook(path)["Contributions"]
    rows = list(ws.iter_rows(values_only=True))
    headers = [h for h in rows[0]]
    return {row[1]: dict(zip(headers, row, strict=False)) for row in rows[1:] if row[1]}


def as_date(value: object) -> date | None:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def text_of(message: EmailMessage) -> str:
    parts = [str(v) for _, v in message.items()]
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        payload = part.get_payload(decode=True) or b""
        parts.append(payload.decode("utf-8", errors="replace"))
    return "\n".join(parts)


def test_two_sweeps_on_one_day_send_once_and_record_it(tmp_path: Path) -> None:
    path = make_register(tmp_path / "school", typed_request=True)
    first = sweep(path, "2025-09-30")
    outbox = path.parent / "outbox"
    sent = outbox_messages(outbox)
    assert {(e["kind"], e["to"]) for e in first["emails"]} == {
        ("request", TEACHER),
        ("request", EP),
        ("request", PARENT),
    }  # a Tuesday with nothing newly urgent: no digest
    assert all(set(e) == {"kind", "to", "pupil_row", "subject"} for e in first["emails"])
    assert first["email_failures"] == []
    assert len(sent) == 3
    assert sorted(str(m["To"]) for m in sent) == sorted(e["to"] for e in first["emails"])

    second = sweep(path, "2025-09-30")
    assert second["emails"] == []
    assert len(outbox_messages(outbox)) == 3

    tab = contributions(path)
    assert as_date(tab["Class teacher"]["Requested"]) == date(2025, 9, 30)
    assert as_date(tab["EP"]["Requested"]) == date(2025, 9, 30)
    assert as_date(tab["Parent/carer"]["Requested"]) == date(2025, 9, 30)  # the seeded row, appended
    assert tab["Parent/carer"]["Email"] == PARENT
    # The SENDCo's own date and notes are as she typed them.
    assert as_date(tab["SALT"]["Requested"]) == TYPED_BY_SENDCO
    assert tab["Class teacher"]["Notes"] == "Teaches Ann for maths too"
    # The AR outstanding column lists what is awaited.
    ws = openpyxl.load_workbook(path)["Register"]
    headers = [c.value for c in ws[1]]
    outstanding = ws.cell(row=2, column=headers.index("AR outstanding") + 1).value
    assert "Class teacher" in outstanding
    assert "EP" in outstanding
    assert "Parent/carer" in outstanding


def test_dry_run_reports_emails_but_sends_and_writes_nothing(tmp_path: Path) -> None:
    path = make_register(tmp_path / "school")
    before = path.read_bytes()
    result = sweep(path, "2025-10-06", "--dry-run")  # a Monday: the weekly digest too
    assert sorted(e["kind"] for e in result["emails"]) == ["digest", "request", "request", "request"]
    assert not (path.parent / "outbox").exists()
    assert not (path.parent / LEDGER_NAME).exists()
    assert path.read_bytes() == before


def test_contributions_tab_is_created_when_missing(tmp_path: Path) -> None:
    path = make_register(tmp_path / "school", contributions=False)
    result = sweep(path, "2025-09-30")
    assert ("request", PARENT) in {(e["kind"], e["to"]) for e in result["emails"]}
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Register", "Contributions"]
    header = [c.value for c in wb["Contributions"][1]]
    assert header[:9] == CONTRIB_HEADERS
    assert contributions(path)["Parent/carer"]["Email"] == PARENT


def edit(path: Path, sheet: str, row: int, header: str, value: object) -> None:
    """The SENDCo types into the workbook between sweeps."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    headers = [c.value for c in ws[1]]
    cell = ws.cell(row=row, column=headers.index(header) + 1, value=value)
    if isinstance(value, date):
        cell.number_format = "dd/mm/yyyy"
    wb.save(path)


def row_of(path: Path, role: str) -> int:
    ws = openpyxl.load_workbook(path)["Contributions"]
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=2).value == role)


def test_three_weeks_day_by_day(tmp_path: Path) -> None:
    """29/09/2025 to 19/10/2025: requests when contributions may be asked for, a chaser a week later on a school day
    to whoever has not answered, invitations once the SENDCo records the meeting, the digest every Monday and on the
    day the review turns DUE SOON; a rerun of every day sends nothing more."""
    path = make_register(tmp_path / "school")
    outbox = path.parent / "outbox"
    sequence: list[tuple[str, str, str]] = []
    day = date(2025, 9, 29)
    while day <= date(2025, 10, 19):
        if day == date(2025, 10, 3):  # the class teacher's advice arrives; the SENDCo notes it
            edit(path, "Contributions", row_of(path, "Class teacher"), "Received", date(2025, 10, 3))
        if day == date(2025, 10, 8):  # the SENDCo books the meeting
            edit(path, "Register", 2, "Next review meeting", date(2025, 11, 5))
        before = len(outbox_messages(outbox)) if outbox.exists() else 0
        result = sweep(path, day.isoformat())
        sequence += [(day.isoformat(), e["kind"], e["to"]) for e in result["emails"]]
        assert len(outbox_messages(outbox)) == before + len(result["emails"])
        assert sweep(path, day.isoformat())["emails"] == []  # the same day again: nothing
        day += timedelta(days=1)

    assert sorted(sequence) == sorted(EXPECTED_THREE_WEEKS)
    messages = outbox_messages(outbox)
    assert len(messages) == len(EXPECTED_THREE_WEEKS)
    kinds = [str(m["X-Review-Keeper-Kind"]) for m in messages]
    assert kinds.count("digest") == sum(1 for _, k, _ in EXPECTED_THREE_WEEKS if k == "digest")

    # Nothing personal beyond a first name and initial: no date of birth (any usual form), no UPN, no surname.
    dob_forms = {DOB.isoformat(), f"{DOB:%d/%m/%Y}", f"{DOB.day} {DOB:%b %Y}", f"{DOB.day} {DOB:%B %Y}"}
    for message in messages:
        body = text_of(message)
        assert UPN not in body
        assert not any(form in body for form in dob_forms)
        assert "Example" not in body.replace("example.org", "")
        assert str(message["Reply-To"] or SENDCO) == SENDCO
    invitations = [m for m in messages if str(m["X-Review-Keeper-Kind"]) == "invitation"]
    for invitation in invitations:
        ics = next(p for p in invitation.walk() if p.get_content_type() == "text/calendar")
        assert b"DTSTART;VALUE=DATE:20251105" in ics.get_payload(decode=True)

    tab = contributions(path)
    assert as_date(tab["Class teacher"]["Received"]) == date(2025, 10, 3)  # hers, untouched
    assert tab["Class teacher"]["Chasers"] in (None, 0)
    assert tab["EP"]["Chasers"] == 2
    assert as_date(tab["EP"]["Last chased"]) == date(2025, 10, 14)
    assert as_date(tab["EP"]["AR invited for"]) == date(2025, 11, 5)


EXPECTED_THREE_WEEKS: list[tuple[str, str, str]] = [
    ("2025-09-29", "digest", SENDCO),  # Monday: the weekly digest (requests may start tomorrow)
    ("2025-09-30", "request", TEACHER),  # requests_from
    ("2025-09-30", "request", EP),
    ("2025-09-30", "request", PARENT),  # the Parent/carer row seeded from the register
    ("2025-10-06", "digest", SENDCO),  # Monday
    ("2025-10-07", "chaser", EP),  # 7 days on, a school day; the teacher answered on 03/10
    ("2025-10-07", "chaser", PARENT),
    ("2025-10-08", "invitation", TEACHER),  # the meeting was recorded today: every contributor is invited
    ("2025-10-08", "invitation", EP),
    ("2025-10-08", "invitation", PARENT),
    ("2025-10-13", "digest", SENDCO),  # Monday
    ("2025-10-14", "chaser", EP),  # the second chaser, 7 days after the first
    ("2025-10-14", "chaser", PARENT),
    ("2025-10-14", "digest", SENDCO),  # 28 days before 11/11/2025 the review turns DUE SOON
]


def test_smtp_end_to_end_with_aiosmtpd(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self) -> None:
            self.envelopes: list[tuple[str, list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        path = make_register(tmp_path / "school")
        env = {
            "KEEPER_MAIL": "smtp",
            "KEEPER_SMTP_HOST": "127.0.0.1",
            "KEEPER_SMTP_PORT": str(port),
            "KEEPER_SMTP_SECURITY": "none",
            "KEEPER_MAIL_FROM": "Oakfield Primary <reviews@school.example.org>",
        }
        result = sweep(path, "2025-10-06", env=env)  # a Monday: three requests and the weekly digest
        again = sweep(path, "2025-10-06", env=env)
    finally:
        controller.stop()
    assert again["emails"] == []
    assert len(handler.envelopes) == len(result["emails"]) == 4
    assert sorted(r for _, rcpts, _ in handler.envelopes for r in rcpts) == sorted([TEACHER, EP, PARENT, SENDCO])
    assert {mail_from for mail_from, _, _ in handler.envelopes} == {"reviews@school.example.org"}
    for _, _, content in handler.envelopes:
        message = email.message_from_bytes(content, policy=policy.default)
        assert UPN not in text_of(message)
    assert not (path.parent / "outbox").exists()


class CrashingWorkbook(WorkbookRegister):
    """The real workbook adapter, but the process 'dies' at the write, after the emails went."""

    def write(self, plan: WritePlan, *more: WritePlan) -> WriteResult:
        raise RegisterError("simulated crash between sending and writing")


def test_crash_between_sending_and_writing_sends_nothing_twice(tmp_path: Path) -> None:
    path = make_register(tmp_path / "school")
    before = path.read_bytes()
    outbox = path.parent / "outbox"
    settings = load_settings(None, path)
    with pytest.raises(RegisterError, match="simulated crash"):
        run_sweep(
            CrashingWorkbook(path),
            today=date(2025, 9, 30),
            settings=settings,
            transport=OutboxTransport(outbox),
            ledger=FileLedger(path.parent / LEDGER_NAME),
        )
    assert len(outbox_messages(outbox)) == 3
    assert path.read_bytes() == before  # nothing recorded in the sheet

    rerun = sweep(path, "2025-09-30")  # the next sweep, through the command line, same ledger beside the register
    assert rerun["emails"] == []
    assert len(outbox_messages(outbox)) == 3
    tab = contributions(path)  # ...and the sheet now records what went, from the ledger
    assert as_date(tab["EP"]["Requested"]) == date(2025, 9, 30)
    assert as_date(tab["Parent/carer"]["Requested"]) == date(2025, 9, 30)

    # A week later the chasers go once, counted from the recovered dates.
    week = sweep(path, "2025-10-07")
    assert sorted(e["to"] for e in week["emails"] if e["kind"] == "chaser") == sorted([TEACHER, EP, PARENT])


def test_a_stalled_mail_server_still_leaves_time_to_write_what_went(tmp_path: Path) -> None:
    """The server takes the first email, then stops answering. The email step stops at KEEPER_MAIL_DEADLINE, the sheet
    records the one that went, and the next sweep (the server well again) sends the other two, once each."""
    import asyncio

    from aiosmtpd.controller import Controller

    from functions.bootstrap import transport_for

    class TakesOneThenStalls:
        def __init__(self) -> None:
            self.envelopes: list[tuple[str, list[str], bytes]] = []
            self.stalled = True

        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            if self.envelopes and self.stalled:
                await asyncio.sleep(60)  # cancelled when the server stops
            envelope.mail_from = address
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = TakesOneThenStalls()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    path = make_register(tmp_path / "school")
    env = {
        "KEEPER_MAIL": "smtp",
        "KEEPER_SMTP_HOST": "127.0.0.1",
        "KEEPER_SMTP_PORT": str(port),
        "KEEPER_SMTP_SECURITY": "none",
        "KEEPER_MAIL_FROM": "reviews@school.example.org",
        "KEEPER_MAIL_TIMEOUT": "1",
        "KEEPER_MAIL_DEADLINE": "3",
    }
    settings = load_settings(None, path, env)  # the bootstrap, with this environment
    ledger = FileLedger(path.parent / LEDGER_NAME)
    try:
        started = datetime.now()
        result = run_sweep(
            WorkbookRegister(path),
            today=date(2025, 9, 30),
            settings=settings,
            transport=transport_for(settings.mail, path.parent),
            ledger=ledger,
            deadline=settings.mail.deadline,
        )
        elapsed = (datetime.now() - started).total_seconds()
        handler.stalled = False
        rerun = run_sweep(
            WorkbookRegister(path),
            today=date(2025, 9, 30),
            settings=settings,
            transport=transport_for(settings.mail, path.parent),
            ledger=ledger,
            deadline=settings.mail.deadline,
        )
    finally:
        controller.stop()
    assert elapsed < 3 + 2  # the deadline, plus reading and writing the workbook
    assert result.mail is not None
    assert result.write is not None
    assert len(result.mail.sent) == 1
    # The second email used up the time on the stalled server (never handed over: safe to send tomorrow); the third
    # was not tried.
    assert [f["error"][:24] for f in result.mail.failures] == ["The mail server at 127.0", "The 3 seconds allowed fo"]
    assert "did not answer in time" in result.mail.failures[0]["error"]
    assert result.mail.unconfirmed == []
    assert any("1 email not tried today" in note for note in result.mail.notes)
    went = result.mail.sent[0]["to"]
    tab = contributions(path)
    by_email = {row["Email"]: as_date(row["Requested"]) for row in tab.values()}
    # The write after the stall recorded the first sweep's one email; the rerun recorded the other two.
    assert by_email == {TEACHER: date(2025, 9, 30), EP: date(2025, 9, 30), PARENT: date(2025, 9, 30)}
    assert sorted(e["to"] for e in rerun.mail.sent) == sorted({TEACHER, EP, PARENT} - {went})  # type: ignore[union-attr]
    assert sorted(r for _, rcpts, _ in handler.envelopes for r in rcpts) == sorted([TEACHER, EP, PARENT])


def test_the_email_time_limit_setting(tmp_path: Path) -> None:
    from functions.settings import SettingsError
    from functions.sweep import mail_deadline

    path = make_register(tmp_path / "school")
    settings = load_settings(None, path)
    assert mail_deadline(settings, {}) == 240.0
    assert mail_deadline(settings, {"KEEPER_MAIL_DEADLINE": "90"}) == 90.0
    (path.parent / "keeper.toml").write_text("[mail]\ndeadline = 120\n", encoding="utf-8")
    configured = load_settings(None, path)
    assert mail_deadline(configured, {}) == 120.0
    assert mail_deadline(configured, {"KEEPER_MAIL_DEADLINE": "30"}) == 30.0  # the environment wins
    for bad in ("0", "-5", "soon", "inf"):
        with pytest.raises(SettingsError, match="KEEPER_MAIL_DEADLINE"):
            mail_deadline(settings, {"KEEPER_MAIL_DEADLINE": bad})


def test_an_email_in_doubt_is_recorded_as_sent_and_never_resent(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    from connectors.mail import SmtpTransport

    class DropsTheFirstAnswer:
        def __init__(self) -> None:
            self.handed_over: list[list[str]] = []

        async def handle_DATA(self, server, session, envelope):
            self.handed_over.append(list(envelope.rcpt_tos))
            if len(self.handed_over) == 1:
                server.transport.abort()  # took the message; the answer never comes
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = DropsTheFirstAnswer()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    path = make_register(tmp_path / "school")
    settings = load_settings(None, path)
    ledger = FileLedger(path.parent / LEDGER_NAME)
    try:
        runs = [
            run_sweep(
                WorkbookRegister(path),
                today=date(2025, 9, 30),
                settings=settings,
                transport=SmtpTransport("127.0.0.1", port, security="none", sender="reviews@school.example.org"),
                ledger=ledger,
            )
            for _ in range(2)
        ]
    finally:
        controller.stop()
    first, second = (r.mail for r in runs)
    assert first is not None
    assert second is not None
    assert len(first.unconfirmed) == 1
    assert len(first.sent) == 2
    assert first.failures == []
    assert any("1 email may not have arrived" in note for note in first.notes)
    assert runs[0].to_json()["email_unconfirmed"] == first.unconfirmed
    assert second.sent == second.unconfirmed == []  # the rerun sends nothing, the doubtful one included
    assert len(handler.handed_over) == 3  # each email handed over exactly once
    assert sorted(r for rcpts in handler.handed_over for r in rcpts) == sorted([TEACHER, EP, PARENT])
    tab = contributions(path)  # the doubtful one's Requested is written too: it counts as sent
    assert {row["Email"]: as_date(row["Requested"]) for row in tab.values()} == dict.fromkeys(
        [TEACHER, EP, PARENT], date(2025, 9, 30)
    )


def test_mail_none_sends_nothing_and_records_nothing(tmp_path: Path) -> None:
    path = make_register(tmp_path / "school", typed_request=True)
    result = sweep(path, "2025-09-30", env={"KEEPER_MAIL": "none"})
    assert "emails" not in result  # no email step at all
    assert not (path.parent / "outbox").exists()
    assert not (path.parent / LEDGER_NAME).exists()
    tab = contributions(path)
    assert tab["Class teacher"]["Requested"] is None  # nothing recorded as asked
    assert [p["status"] for p in result["pupils"]] == ["PREPARE"]  # the AR columns are still computed and written
    # AR outstanding still shows what the tab, kept by hand, says is awaited: the SALT advice the SENDCo requested.
    ws = openpyxl.load_workbook(path)["Register"]
    headers = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=headers.index("AR outstanding") + 1).value == "SALT"
