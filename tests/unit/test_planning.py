"""The pure planner: tables of literal dates for requests, chasers, invitations and digests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import icalendar
import pytest

from connectors.base import CellValue
from functions.contribution_writes import contributions_write_plan, rows_to_append, updates_to_write
from functions.planning import chaser_key, digest_key, request_key
from functions.rendering import plan_emails
from review_rules.model import Status
from sheet_schema.contributions import CHASERS, INVITED_FOR, LAST_CHASED, REQUESTED
from tests.mail_fixtures import UPN, clock, contribution, pupil, settings

TEACHER = "teacher@school.example"


def kinds(plan) -> list[tuple[str, str]]:
    return [(e.kind, e.to) for e in plan.emails]


def teacher_only(**kw):
    return [contribution(2, "Class teacher", TEACHER, name="Ms Jones", **kw)]


# A Tuesday, so the weekly (Monday) digest never muddles the contributor cases below.
@pytest.mark.parametrize(
    ("today", "requests_from", "expected"),
    [
        (date(2025, 10, 7), date(2025, 10, 6), True),  # after requests_from
        (date(2025, 10, 6), date(2025, 10, 6), True),  # on the day
        (date(2025, 10, 3), date(2025, 10, 6), False),  # before it
        (date(2025, 10, 11), date(2025, 10, 6), True),  # Saturday: requests are not held back for school days
    ],
)
def test_request_from_requests_from(today: date, requests_from: date, expected: bool) -> None:
    p = pupil(clock(requests_from=requests_from), parent_email=None)
    plan = plan_emails([p], teacher_only(), today=today, settings=settings(sendco_email=None))
    assert (("request", TEACHER) in kinds(plan)) is expected
    if expected:
        email = plan.emails[0]
        assert "Fri 24 Oct 2025" in email.text  # contributions_due
        assert email.reply_to is None  # no SENDCo email configured
        assert updates_to_write(plan) == {("b801200005001", "class teacher", TEACHER): {REQUESTED: today}}


@pytest.mark.parametrize(
    ("today", "subject_end"),
    [
        (date(2025, 10, 7), "by Fri 24 Oct 2025"),  # contributions due in the future
        (date(2025, 10, 24), "by Fri 24 Oct 2025"),  # due today
        (date(2025, 10, 28), "as soon as you can"),  # an overdue review asked late: never "by" a date already gone
    ],
)
def test_request_subject_never_names_a_past_date(today: date, subject_end: str) -> None:
    p = pupil(clock(requests_from=date(2025, 10, 6)), parent_email=None)
    plan = plan_emails([p], teacher_only(), today=today, settings=settings(sendco_email=None))
    (email,) = [e for e in plan.emails if e.kind == "request"]
    assert email.subject == f"Annual review for Amira K.: your contribution, please, {subject_end}"


def test_no_request_when_requested_received_or_no_email() -> None:
    p = pupil(parent_email=None)
    rows = [
        contribution(2, "Class teacher", TEACHER, requested=date(2025, 10, 6)),
        contribution(3, "EP", "ep@la.example", received=date(2025, 10, 6)),
        contribution(4, "SALT", None),
    ]
    plan = plan_emails([p], rows, today=date(2025, 10, 7), settings=settings(sendco_email=None))
    assert kinds(plan) == []


@pytest.mark.parametrize(
    ("today", "requested", "chasers", "last_chased", "expected"),
    [
        (date(2025, 10, 13), date(2025, 10, 6), 0, None, 1),  # Mon: 7 days after the request
        (date(2025, 10, 10), date(2025, 10, 6), 0, None, None),  # Fri: only 4 days
        (date(2025, 10, 12), date(2025, 10, 5), 0, None, None),  # Sun: 7 days, but not a school day
        (date(2025, 10, 13), date(2025, 10, 5), 0, None, 1),  # so it waits for Monday
        (date(2025, 10, 20), date(2025, 10, 6), 1, date(2025, 10, 13), 2),  # 7 days after the last chaser
        (date(2025, 10, 17), date(2025, 10, 6), 1, date(2025, 10, 13), None),  # 4 days after the last chaser
        (date(2025, 10, 27), date(2025, 10, 6), 2, date(2025, 10, 20), 3),  # the third and last
        (date(2025, 11, 3), date(2025, 10, 6), 3, date(2025, 10, 27), None),  # no fourth
        (date(2025, 10, 20), date(2025, 10, 6), 0, date(2025, 10, 16), None),  # the SENDCo phoned on the 16th
        (date(2025, 12, 22), date(2025, 12, 1), 0, None, None),  # Christmas closure (default 21 Dec-3 Jan)
        (date(2025, 12, 26), date(2025, 12, 1), 0, None, None),  # Boxing Day, and in the closure
    ],
)
def test_chaser_cadence(
    today: date, requested: date, chasers: int, last_chased: date | None, expected: int | None
) -> None:
    p = pupil(clock(meeting_date=date(2026, 1, 30), meeting_latest=date(2026, 1, 30)), parent_email=None)
    rows = teacher_only(requested=requested, chasers=chasers, last_chased=last_chased)
    plan = plan_emails([p], rows, today=today, settings=settings(sendco_email=None))
    chasers_out = [e for e in plan.emails if e.kind == "chaser"]
    if expected is None:
        assert chasers_out == []
        assert plan.updates == ()
    else:
        assert len(chasers_out) == 1
        assert chasers_out[0].reason_key.endswith(f"|{expected}")
        assert updates_to_write(plan)[rows[0].key] == {CHASERS: expected, LAST_CHASED: today}


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 11, 6), True),  # the day before the planned meeting
        (date(2025, 11, 7), False),  # the meeting day
        (date(2025, 11, 10), False),  # after the meeting
    ],
)
def test_chasers_never_after_the_meeting(today: date, expected: bool) -> None:
    c = clock(planned=True, meeting_date=date(2025, 11, 7), contributions_due=date(2025, 10, 17))
    rows = teacher_only(
        requested=date(2025, 10, 6), chasers=1, last_chased=date(2025, 10, 20), invited_for=date(2025, 11, 7)
    )
    plan = plan_emails([pupil(c, parent_email=None)], rows, today=today, settings=settings(sendco_email=None))
    assert (("chaser", TEACHER) in kinds(plan)) is expected


def test_max_chasers_setting() -> None:
    rows = teacher_only(requested=date(2025, 10, 6), chasers=1, last_chased=date(2025, 10, 13))
    plan = plan_emails(
        [pupil(parent_email=None)], rows, today=date(2025, 10, 21), settings=settings(sendco_email=None, max_chasers=1)
    )
    assert kinds(plan) == []
    plan = plan_emails(
        [pupil(parent_email=None)],
        rows,
        today=date(2025, 10, 16),
        settings=settings(sendco_email=None, chaser_every_days=3),
    )
    assert kinds(plan) == [("chaser", TEACHER)]


def test_invitation_then_rescheduled() -> None:
    c = clock(planned=True, meeting_date=date(2025, 11, 7))
    rows = [
        contribution(2, "Class teacher", TEACHER, requested=date(2025, 10, 14)),
        contribution(3, "EP", "ep@la.example", requested=date(2025, 10, 6), received=date(2025, 10, 9)),
    ]
    plan = plan_emails(
        [pupil(c, parent_email=None)], rows, today=date(2025, 10, 15), settings=settings(sendco_email=None)
    )
    assert sorted(kinds(plan)) == [("invitation", "ep@la.example"), ("invitation", TEACHER)]
    invite = plan.emails[0]
    assert invite.subject.startswith("Invitation:")
    cal = icalendar.Calendar.from_ical(invite.attachments[0].data)
    event = cal.walk("VEVENT")[0]
    assert event.decoded("dtstart") == date(2025, 11, 7)
    assert int(event.get("sequence")) == 0
    assert updates_to_write(plan)[rows[0].key] == {INVITED_FOR: date(2025, 11, 7)}
    uid = str(event.get("uid"))

    # Next day, sheet updated: nothing.
    invited = [
        contribution(2, "Class teacher", TEACHER, requested=date(2025, 10, 14), invited_for=date(2025, 11, 7)),
    ]
    assert (
        kinds(
            plan_emails(
                [pupil(c, parent_email=None)], invited, today=date(2025, 10, 16), settings=settings(sendco_email=None)
            )
        )
        == []
    )

    # The SENDCo moves the meeting to 12 Nov: a rescheduled invitation, same UID, higher SEQUENCE.
    moved = clock(planned=True, meeting_date=date(2025, 11, 12))
    plan = plan_emails(
        [pupil(moved, parent_email=None)], invited, today=date(2025, 10, 20), settings=settings(sendco_email=None)
    )
    assert kinds(plan) == [("invitation", TEACHER)]
    email = plan.emails[0]
    assert email.subject.startswith("Rescheduled:")
    assert "Fri 7 Nov 2025" in email.text
    assert "Wed 12 Nov 2025" in email.text
    event = icalendar.Calendar.from_ical(email.attachments[0].data).walk("VEVENT")[0]
    assert str(event.get("uid")) == uid
    assert int(event.get("sequence")) >= 1
    assert event.decoded("dtstart") == date(2025, 11, 12)


@pytest.mark.parametrize(
    ("meeting", "invited"),
    [
        (date(2025, 11, 8), False),  # a Saturday
        (date(2025, 12, 25), False),  # Christmas Day (a bank holiday, and inside the default closure)
        (date(2025, 12, 22), False),  # a Monday inside the default 21 Dec-3 Jan closure
        (date(2025, 11, 7), True),  # a Friday in term
    ],
)
def test_no_invitation_for_a_planned_meeting_on_a_day_the_school_is_closed(meeting: date, invited: bool) -> None:
    c = clock(planned=True, meeting_date=meeting)
    plan = plan_emails(
        [pupil(c, parent_email=None)],
        teacher_only(requested=date(2025, 10, 13)),
        today=date(2025, 10, 14),
        settings=settings(),
    )
    assert (("invitation", TEACHER) in kinds(plan)) is invited
    held = [n for n in plan.notes if "no invitations sent: the planned meeting is not a school day" in n]
    assert bool(held) is not invited
    if not invited:
        assert INVITED_FOR not in updates_to_write(plan).get(teacher_only()[0].key, {})


def test_short_notice_invitation_is_flagged_in_a_digest() -> None:
    c = clock(planned=True, meeting_date=date(2025, 10, 24))  # 10 days' notice on Tue 14 Oct
    plan = plan_emails(
        [pupil(c, parent_email=None)],
        teacher_only(requested=date(2025, 10, 13)),
        today=date(2025, 10, 14),
        settings=settings(),
    )
    assert [e.kind for e in plan.emails] == ["invitation", "digest"]
    assert any("less than 14 days' notice" in n for n in plan.notes)
    assert "less than 14 days' notice" in plan.emails[1].text


@pytest.mark.parametrize(
    ("today", "status", "previous", "expected"),
    [
        (date(2025, 10, 13), Status.PREPARE, None, True),  # Monday: weekly
        (date(2025, 10, 14), Status.PREPARE, None, False),  # Tuesday, nothing new
        (date(2025, 10, 17), Status.DUE_SOON, None, True),  # meeting_latest 14 Nov - 28 days: turns DUE SOON today
        (date(2025, 10, 21), Status.DUE_SOON, None, False),  # still due soon: not new
        (date(2025, 11, 15), Status.OVERDUE, None, True),  # the day after meeting_latest
        (date(2025, 10, 21), Status.DUE_SOON, {7: "PREPARE"}, True),  # register showed PREPARE before this sweep
        (date(2025, 10, 21), Status.DUE_SOON, {7: "DUE SOON"}, False),
        (date(2025, 11, 18), Status.OVERDUE, {7: "DUE SOON"}, True),
        (date(2025, 10, 21), Status.DUE_SOON, {}, True),  # first sweep: nothing was shown yet
    ],
)
def test_digest_days(today: date, status: Status, previous: dict | None, expected: bool) -> None:
    p = pupil(clock(status=status), parent_email=None)
    plan = plan_emails([p], [], today=today, settings=settings(), previous_status=previous)
    digests = [e for e in plan.emails if e.kind == "digest"]
    assert bool(digests) is expected
    if expected:
        assert digests[0].to == "sendco@hillside.example"
        assert digests[0].reason_key == digest_key(today)


def test_digest_setting_day_and_once_a_day() -> None:
    s = settings(digest_weekday=2)  # Wednesday
    assert [
        e.kind for e in plan_emails([pupil()], [], today=date(2025, 10, 13), settings=s, seed_parents=False).emails
    ] == []
    plan = plan_emails([pupil()], [], today=date(2025, 10, 15), settings=s, seed_parents=False)
    assert [e.kind for e in plan.emails] == ["digest"]
    again = plan_emails(
        [pupil()],
        [],
        today=date(2025, 10, 15),
        settings=s,
        seed_parents=False,
        sent_log={digest_key(date(2025, 10, 15)): date(2025, 10, 15)},
    )
    assert again.emails == ()


def test_digest_contents_without_personal_details() -> None:
    p = pupil(clock(status=Status.OVERDUE, meeting_latest=date(2025, 10, 1)), parent_email=None)
    rows = [
        contribution(
            2,
            "Class teacher",
            TEACHER,
            name="Ms Jones",
            requested=date(2025, 9, 1),
            chasers=3,
            last_chased=date(2025, 9, 22),
        ),
        contribution(3, "EP", "ep@la.example", requested=date(2025, 9, 1), chasers=1, last_chased=date(2025, 9, 8)),
    ]
    plan = plan_emails(
        [p],
        rows,
        today=date(2025, 10, 13),
        settings=settings(),
        contribution_issues=['Contributions row 9: "Email" is "bob", which is not an email address'],
    )
    digest = next(e for e in plan.emails if e.kind == "digest")
    for needle in (
        "OVERDUE",
        "row 7 (Amira K.)",
        "Class teacher (Ms Jones)",
        "NO ANSWER AFTER 3 CHASERS",
        "Contributions row 9",
    ):
        assert needle in digest.text
    for body in (digest.text, digest.html):
        assert UPN not in body
        assert "Khan" not in body
        assert "04/03/2012" not in body
    assert plan.outstanding == {7: "Class teacher (3 chasers), EP (1 chaser)"}


def test_crash_recovery_from_the_ledger() -> None:
    """Sent on 6 Oct, the sweep died before writing Requested: the next day sends nothing and writes the 6th."""
    rows = teacher_only()
    key = rows[0].key
    sent = {request_key(date(2024, 11, 20), key): date(2025, 10, 6)}
    plan = plan_emails(
        [pupil(parent_email=None)], rows, today=date(2025, 10, 7), settings=settings(sendco_email=None), sent_log=sent
    )
    assert plan.emails == ()
    assert updates_to_write(plan, sent_keys=[]) == {key: {REQUESTED: date(2025, 10, 6)}}
    # And a chaser lost the same way on 13 Oct comes back from the ledger too.
    sent[chaser_key(date(2024, 11, 20), key, 1)] = date(2025, 10, 13)
    plan = plan_emails(
        [pupil(parent_email=None)], rows, today=date(2025, 10, 14), settings=settings(sendco_email=None), sent_log=sent
    )
    assert plan.emails == ()
    assert updates_to_write(plan, sent_keys=[]) == {
        key: {REQUESTED: date(2025, 10, 6), CHASERS: 1, LAST_CHASED: date(2025, 10, 13)}
    }


def test_failed_email_leaves_its_cells_unwritten() -> None:
    plan = plan_emails(
        [pupil(parent_email=None)], teacher_only(), today=date(2025, 10, 7), settings=settings(sendco_email=None)
    )
    assert updates_to_write(plan, sent_keys=[]) == {}
    assert contributions_write_plan(plan, sent_keys=[]).rows == {}
    wp = contributions_write_plan(plan)
    assert wp.sheet == "Contributions"
    header: list[CellValue] = [
        "Pupil",
        "Role",
        "Name",
        "Email",
        "Requested",
        "Received",
        "Chasers",
        "Last chased",
        "Notes",
    ]
    assert wp.find_header_row([["Title"], header]) == 2
    assert wp.key_of(["b801200005001 ", "class TEACHER", "", TEACHER.upper()]) in wp.rows


def test_seeded_parent_row_is_requested_and_appended() -> None:
    plan = plan_emails([pupil()], teacher_only(), today=date(2025, 10, 7), settings=settings(sendco_email=None))
    assert sorted(kinds(plan)) == [("request", "parent.khan@example.org"), ("request", TEACHER)]
    assert [c.role for c in plan.new_rows] == ["Parent/carer"]
    appended = rows_to_append(plan)
    assert appended[0][:5] == [UPN, "Parent/carer", "", "parent.khan@example.org", date(2025, 10, 7)]
    assert appended[0][-1] is None  # not invited yet
    # The seeded row is appended, not matched on the sheet.
    assert all(k[1] != "parent/carer" for k in contributions_write_plan(plan).rows)


def test_old_cycle_rows_and_inactive_or_invalid_pupils_get_nothing() -> None:
    old = teacher_only(requested=date(2024, 10, 1))  # before the last review (20 Nov 2024): last year's request
    assert (
        kinds(
            plan_emails([pupil(parent_email=None)], old, today=date(2025, 10, 13), settings=settings(sendco_email=None))
        )
        == []
    )
    for status in (Status.INACTIVE, Status.INVALID):
        p = pupil(status=status)
        plan = plan_emails([p], teacher_only(), today=date(2025, 10, 7), settings=settings(sendco_email=None))
        assert kinds(plan) == []
        assert plan.new_rows == () or status is Status.INVALID


def test_unmatched_and_ambiguous_pupils_are_reported() -> None:
    twins = [pupil(row=7, upn=None), pupil(row=8, upn=None)]
    rows = [
        contribution(2, "EP", "ep@la.example", pupil_ref="amira  KHAN"),
        contribution(3, "EP", "x@la.example", pupil_ref="Nobody"),
    ]
    plan = plan_emails(twins, rows, today=date(2025, 10, 7), settings=settings(sendco_email=None), seed_parents=False)
    assert plan.emails == ()
    assert any("matches 2 pupils" in n for n in plan.notes)
    assert any("matches no pupil" in n for n in plan.notes)


def test_the_digest_names_the_hold_by_school_day_not_the_legal_latest() -> None:
    # meeting_latest Sat 15 Nov 2025 (a weekend), hold-by Fri 14 Nov: the digest says the day the SENDCo can use.
    c = replace(clock(meeting_latest=date(2025, 11, 15)), status=Status.DUE_SOON, meeting_target=date(2025, 11, 14))
    plan = plan_emails([pupil(c, parent_email=None)], [], today=date(2025, 10, 20), settings=settings())
    (digest,) = [e for e in plan.emails if e.kind == "digest"]
    assert "meeting needed by Fri 14 Nov 2025" in digest.text
    assert "Sat 15 Nov 2025" not in digest.text


def test_the_planner_decides_in_plain_data_and_loads_no_templates() -> None:
    """Issue 11: planning decides, rendering writes. The decisions carry the template's data, not its words."""
    import subprocess
    import sys

    from functions.planning import plan_decisions

    p = pupil(clock(requests_from=date(2025, 10, 6)), parent_email=None)
    decisions = plan_decisions([p], teacher_only(), today=date(2025, 10, 7), settings=settings(sendco_email=None))
    (due,) = decisions.due
    assert (due.kind, due.to, due.reason_key) == (
        "request",
        TEACHER,
        request_key(p.clock.meeting_anchor, due.contribution_key),
    )  # type: ignore[union-attr,arg-type]
    assert due.context["pupil"] == "Amira K."
    assert due.context["due"] == date(2025, 10, 24)
    assert due.invitation is None
    assert not hasattr(due, "text")
    assert not hasattr(due, "subject")
    # Importing the planner pulls in neither Jinja nor icalendar (a fresh interpreter, so nothing is cached).
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, functions.planning; print(sorted({'jinja2', 'icalendar'} & set(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
