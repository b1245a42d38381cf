"""Three weeks, day by day, of the pure planner over one pupil and its Contributions tab, with the sheet and the
sent-ledger updated after each day as the sweep would. Then: two plans made on one day send once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from email.message import EmailMessage

from functions.contribution_writes import rows_to_append, updates_to_write
from functions.mailer import MemoryLedger, send_all, went_keys
from functions.rendering import plan_emails
from review_rules.model import Status
from sheet_schema.contributions import CHASERS, INVITED_FOR, LAST_CHASED, REQUESTED, Contribution
from tests.mail_fixtures import UPN, clock, contribution, pupil, settings

PARENT = "parent.khan@example.org"
TEACHER = "teacher@school.example"
EP = "ep@la.example"
SENDCO = "sendco@hillside.example"


def pupil_on(day: date):
    """The SENDCo records the planned meeting (Fri 7 Nov) on Wed 15 Oct; the review turns DUE SOON on Fri 17 Oct
    (meeting_latest Fri 14 Nov - 28 days)."""
    status = Status.DUE_SOON if day >= date(2025, 10, 17) else Status.PREPARE
    if day >= date(2025, 10, 15):
        c = clock(
            status=status,
            planned=True,
            meeting_date=date(2025, 11, 7),
            requests_from=date(2025, 9, 26),
            contributions_due=date(2025, 10, 17),
            invites_by=date(2025, 10, 24),
            papers_by=date(2025, 10, 24),
        )
    else:
        c = clock(status=status)
    return pupil(c, parent_email=PARENT)


class Sheet:
    """The Contributions tab as the adapter would leave it after each sweep's write."""

    def __init__(self) -> None:
        self.rows: list[Contribution] = [
            contribution(2, "Class teacher", TEACHER, name="Ms Jones"),
            contribution(3, "EP", EP, name="Dr Patel"),
            contribution(4, "SALT", None),
        ]

    def apply(self, plan, keys) -> None:
        cells = updates_to_write(plan, keys)
        names = {REQUESTED: "requested", CHASERS: "chasers", LAST_CHASED: "last_chased", INVITED_FOR: "invited_for"}
        self.rows = [replace(r, **{names[h]: v for h, v in cells.get(r.key, {}).items()}) for r in self.rows]
        for values in rows_to_append(plan, keys):
            self.rows.append(
                contribution(
                    len(self.rows) + 2,
                    values[1],
                    values[3],
                    pupil_ref=values[0],
                    requested=values[4],
                    chasers=values[6] or 0,
                    last_chased=values[7],
                    invited_for=values[9],
                )
            )

    def receive(self, email: str, day: date) -> None:
        self.rows = [replace(r, received=day) if r.email == email else r for r in self.rows]


# In the Contributions tab's order: the seeded parent row is appended after the SENDCo's rows.
EXPECTED: dict[date, list[tuple[str, str]]] = {
    date(2025, 10, 6): [("request", TEACHER), ("request", EP), ("request", PARENT), ("digest", SENDCO)],  # Monday
    date(2025, 10, 13): [("chaser", TEACHER), ("chaser", PARENT), ("digest", SENDCO)],  # EP answered on the 10th
    date(2025, 10, 15): [("invitation", TEACHER), ("invitation", EP), ("invitation", PARENT)],  # meeting recorded
    date(2025, 10, 17): [("digest", SENDCO)],  # turned DUE SOON
    date(2025, 10, 20): [("chaser", TEACHER), ("chaser", PARENT), ("digest", SENDCO)],
    # The teacher confirmed on the 21st; the parent's third chaser is due on Mon 27th, after this run.
}


def test_three_weeks_day_by_day() -> None:
    sheet = Sheet()
    ledger = MemoryLedger()
    previous: dict[int, str] = {}
    seen: dict[date, list[tuple[str, str]]] = {}
    for offset in range(21):
        today = date(2025, 10, 6) + timedelta(days=offset)
        if today == date(2025, 10, 10):
            sheet.receive(EP, today)
        if today == date(2025, 10, 21):
            sheet.receive(TEACHER, today)
        p = pupil_on(today)
        plan = plan_emails(
            [p], sheet.rows, today=today, settings=settings(), sent_log=ledger.sent_log(), previous_status=previous
        )
        sent: list[tuple[str, str]] = [(e.kind, e.to) for e in plan.emails]
        if sent:
            seen[today] = sent
        for email in plan.emails:
            ledger.begin(email.reason_key, today)
            ledger.done(email.reason_key, today)
        sheet.apply(plan, {e.reason_key for e in plan.emails})
        previous = {p.record.row: p.status.value.replace("_", " ")}

        # A second sweep the same day, after the first one's write: nothing at all.
        rerun = plan_emails(
            [p], sheet.rows, today=today, settings=settings(), sent_log=ledger.sent_log(), previous_status=previous
        )
        assert rerun.emails == (), today
        assert updates_to_write(rerun) == {}, today

    assert seen == EXPECTED
    parent_row = next(r for r in sheet.rows if r.email == PARENT)
    assert (parent_row.pupil_ref, parent_row.requested, parent_row.chasers, parent_row.last_chased) == (
        UPN,
        date(2025, 10, 6),
        2,
        date(2025, 10, 20),
    )
    assert parent_row.invited_for == date(2025, 11, 7)


class Recorder:
    """A transport that keeps what it was given (a fake with behaviour, not a mock)."""

    sender = "keeper@hillside.example"

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def send(self, message) -> None:
        self.messages.append(message)


def test_two_plans_on_one_day_send_once() -> None:
    today = date(2025, 10, 6)
    rows = Sheet().rows
    ledger = MemoryLedger()
    first = plan_emails([pupil_on(today)], rows, today=today, settings=settings(), sent_log=ledger.sent_log())
    second = plan_emails([pupil_on(today)], rows, today=today, settings=settings(), sent_log=ledger.sent_log())
    assert len(first.emails) == len(second.emails) == 4  # both made before either sent
    transport = Recorder()
    a = send_all(first, transport, ledger)
    b = send_all(second, transport, ledger)
    assert len(transport.messages) == 4
    assert [o.status for o in a] == ["sent"] * 4
    assert [o.status for o in b] == ["already sent"] * 4
    # The second sweep's cells are still written (the emails are out), so the sheet ends up right either way.
    assert went_keys(b) == {e.reason_key for e in first.emails}
