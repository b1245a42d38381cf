"""The LA chaser decider (functions/la_chasing.py, docs/rules.md s8): tables of literal dates, school days and bank
holidays. Sources: reg 20(10) (decision 4 weeks after the meeting), reg 22(3) and Devon [2022] EWHC 493 (Admin)
(final amended plan 12 weeks after it); the schedule is issue 14's (first school day late, then 7 days, at most 3)."""

from __future__ import annotations

from datetime import date

import pytest

from functions.la_chasing import decide_la_chasers, la_chaser_key, pupil_key, schedule
from functions.la_profiles import LAProfile
from review_rules.clock import compute_review
from review_rules.model import Decision, ReviewFacts, RuleSettings
from review_rules.school_days import calendar_for
from sheet_schema.model import PupilRecord, ReviewedPupil

CAL = calendar_for(None)  # the default closures (21 Dec-3 Jan, 21 Jul-31 Aug) and England's bank holidays
KENT = LAProfile("Kent", email="sen@kent.example", aliases=("KCC",), chase=True)
MEDWAY = LAProfile("Medway", email="sen@medway.example", chase=False)


def reviewed(
    today: date,
    held: date,
    *,
    report_sent: date | None = None,
    la_decision: date | None = None,
    decision: Decision | None = None,
    final_plan: date | None = None,
    la: str = "Kent",
    no_column_for: frozenset[str] = frozenset(),
) -> ReviewedPupil:
    facts = ReviewFacts(
        dob=date(2012, 3, 4),
        plan_issued=date(2020, 1, 10),
        last_review=held,
        report_sent=report_sent,
        la_decision=la_decision,
        decision=decision,
        final_plan=final_plan,
        no_column_for=no_column_for,
    )
    clock = compute_review(facts, today, RuleSettings(), CAL)
    record = PupilRecord(2, "Evie Lane", "Evie", "L.", "A123456789012", facts, la=la)
    return ReviewedPupil(record, clock, clock.status)


def due_today(today: date, held: date, sent: dict[str, date] | None = None, profiles=(KENT, MEDWAY), **kw):
    p = reviewed(today, held, **kw)
    return decide_la_chasers([p], profiles, today=today, calendar=CAL, sent=sent or {}), p


# H Mon 15 Sep 2025: decision due Mon 13 Oct 2025 (H + 28), late from Tue 14 Oct.
H = date(2025, 9, 15)
SENT = date(2025, 9, 20)


@pytest.mark.parametrize(
    ("today", "number"),
    [
        (date(2025, 10, 13), None),  # the due day itself: not late yet
        (date(2025, 10, 14), 1),  # first school day late
        (date(2025, 10, 18), 1),  # Saturday: no chaser on a non-school day...
        (date(2025, 10, 20), 1),  # ...a missed first day is caught up on the next school day
    ],
)
def test_first_chaser_on_first_school_day_late(today: date, number: int | None) -> None:
    decided, _ = due_today(today, H, report_sent=SENT)
    got = [c.number for c in decided.chasers if c.send]
    if today.weekday() >= 5:
        assert got == []
    else:
        assert got == ([number] if number else [])


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 10, 20), []),  # 6 days after the first (Tue 14 Oct): too soon
        (date(2025, 10, 21), [2]),  # 7 days after
        (date(2025, 10, 22), [2]),  # missed on the 21st: the next school day
    ],
)
def test_next_chaser_seven_days_after_the_last(today: date, expected: list[int]) -> None:
    k = pupil_key(reviewed(today, H))
    sent = {la_chaser_key(H, k, "decision_due", 1): date(2025, 10, 14)}
    decided, _ = due_today(today, H, sent, report_sent=SENT)
    assert [c.number for c in decided.chasers if c.send] == expected
    if expected:
        assert decided.chasers[0].previous == (date(2025, 10, 14),)
        assert decided.chasers[0].to == "sen@kent.example"


def test_at_most_three_then_a_note() -> None:
    today = date(2025, 11, 10)
    k = pupil_key(reviewed(today, H))
    sent = {la_chaser_key(H, k, "decision_due", n): d for n, d in
            ((1, date(2025, 10, 14)), (2, date(2025, 10, 21)), (3, date(2025, 10, 28)))}  # fmt: skip
    decided, _ = due_today(today, H, sent, report_sent=SENT)
    assert decided.chasers == ()
    assert any("3 chasers" in n and "Tue 28 Oct 2025" in n for n in decided.notes)


@pytest.mark.parametrize(
    ("held", "expected"),
    [
        # decision due Fri 2 May 2025; Mon 5 May is the Early May bank holiday: first chaser Tue 6 May
        (date(2025, 4, 4), (date(2025, 5, 6), date(2025, 5, 13), date(2025, 5, 20))),
        # decision due Fri 19 Dec 2025; closed 21 Dec-3 Jan: first chaser Mon 5 Jan 2026
        (date(2025, 11, 21), (date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19))),
        # decision due Mon 13 Oct 2025: Tue 14, 21, 28 Oct
        (H, (date(2025, 10, 14), date(2025, 10, 21), date(2025, 10, 28))),
    ],
)
def test_schedule_school_days_and_bank_holidays(held: date, expected: tuple[date, ...]) -> None:
    p = reviewed(held, held)
    assert p.clock is not None
    assert p.clock.after_meeting is not None
    assert schedule(p.clock.after_meeting.decision_due, CAL) == expected


def test_bank_holiday_today_sends_nothing() -> None:
    decided, _ = due_today(date(2025, 5, 5), date(2025, 4, 4), report_sent=date(2025, 4, 10))
    assert decided.chasers == ()
    decided, _ = due_today(date(2025, 5, 6), date(2025, 4, 4), report_sent=date(2025, 4, 10))
    assert [c.number for c in decided.chasers] == [1]


@pytest.mark.parametrize(
    ("kw", "note_has"),
    [
        ({}, "no report sent"),  # report never sent: the delay is the school's
        ({"report_sent": date(2025, 9, 1)}, "no report sent"),  # sent before H: the previous cycle's
        ({"report_sent": SENT, "no_column_for": frozenset({"decision_due"})}, '"LA decision date" column'),
        ({"report_sent": SENT, "la_decision": date(2025, 10, 20)}, None),  # the LA answered
    ],
)
def test_not_chased(kw: dict, note_has: str | None) -> None:
    decided, _ = due_today(date(2025, 10, 21), H, **kw)
    assert [c for c in decided.chasers if c.send] == []
    if note_has:
        assert any(note_has in n for n in decided.notes)
    else:
        assert decided.notes == ()


@pytest.mark.parametrize(
    ("la", "today", "would", "why"),
    [
        ("Medway", date(2025, 10, 14), 1, 'chasers to Medway are off (chase = true under [las."Medway"]'),
        ("Medway", date(2025, 10, 15), None, ""),  # not a scheduled day: nothing said
        ("Medway", date(2025, 10, 21), 2, "chasers to Medway are off"),
        ("Swale", date(2025, 10, 28), 3, 'Swale has no profile in keeper.toml (add [las."Swale"]'),
    ],
)
def test_off_says_what_would_have_gone(la: str, today: date, would: int | None, why: str) -> None:
    decided, _ = due_today(today, H, report_sent=SENT, la=la)
    assert [c for c in decided.chasers if c.send] == []
    if would is None:
        assert decided.chasers == ()
        assert decided.notes == ()
    else:
        assert [c.number for c in decided.chasers] == [would]
        assert any(f"chaser {would}" in n and "would have been sent" in n and why in n for n in decided.notes)


def test_alias_selects_profile() -> None:
    decided, _ = due_today(date(2025, 10, 14), H, report_sent=SENT, la="kcc")
    assert [(c.send, c.to) for c in decided.chasers] == [(True, "sen@kent.example")]


def test_final_plan_late_and_one_email_per_review() -> None:
    # Decision "amend" recorded without its date: the decision is still late (no date) and the final plan is due
    # H + 84 = Mon 8 Dec 2025. On Tue 9 Dec both are late: one email (the decision first), the plan the next day.
    kw = {"report_sent": SENT, "decision": Decision.AMEND}
    today = date(2025, 12, 9)
    k = pupil_key(reviewed(today, H))
    sent = {la_chaser_key(H, k, "decision_due", 1): date(2025, 11, 20)}
    decided, _ = due_today(today, H, sent, **kw)
    assert [(c.step, c.number) for c in decided.chasers] == [("decision_due", 2)]
    sent[la_chaser_key(H, k, "decision_due", 2)] = today
    decided, _ = due_today(date(2025, 12, 10), H, sent, **kw)
    assert [(c.step, c.number) for c in decided.chasers] == [("final_plan_due", 1)]


def test_final_plan_chased_after_amend_decision() -> None:
    kw = {"report_sent": SENT, "decision": Decision.AMEND, "la_decision": date(2025, 10, 10)}
    decided, p = due_today(date(2025, 12, 9), H, **kw)
    assert p.clock is not None
    assert p.clock.after_meeting is not None
    assert p.clock.after_meeting.final_plan_due == date(2025, 12, 8)
    assert [(c.step, c.number, c.due) for c in decided.chasers] == [("final_plan_due", 1, date(2025, 12, 8))]


@pytest.mark.parametrize(
    ("held", "today", "expected"),
    [
        # H Mon 15 Sep 2025: report due Mon 29 Sep (H + 14, reg 20(7)); 3 school days before: Wed 24 Sep.
        (date(2025, 9, 15), date(2025, 9, 24), True),
        (date(2025, 9, 15), date(2025, 9, 25), False),
        # H Fri 24 Apr 2026: report due Fri 8 May; Mon 4 May is a bank holiday: Tue 5, Wed 6, Thu 7 -> Tue 5 May.
        (date(2026, 4, 24), date(2026, 5, 5), True),
        (date(2026, 4, 24), date(2026, 5, 4), False),
    ],
)
def test_report_reminder_three_school_days_before(held: date, today: date, expected: bool) -> None:
    from functions.la_chasing import report_reminders

    p = reviewed(today, held)
    assert bool(report_reminders([p], today=today, calendar=CAL)) is expected
    sent = reviewed(today, held, report_sent=held)
    assert report_reminders([sent], today=today, calendar=CAL) == ()


@pytest.mark.parametrize(
    ("la", "how"),
    [
        ("Kent", "`main.py submit REGISTER --pupil 2 --send` emails it to Kent."),
        ("Surrey", "upload it to Surrey's portal (https://portal.surrey.example)."),
        ("Hampshire", "Hampshire takes it by post."),
        ("Medway", "send it as Medway asks (its profile sets no submit way)."),
        ("Swale", 'send it as the LA asks (`main.py submit` emails it for an LA whose profile says submit = "email").'),
    ],
)
def test_report_reminder_says_how_the_la_takes_the_report(la: str, how: str) -> None:
    from functions.la_chasing import report_reminders

    profiles = (
        LAProfile("Kent", email="sen@kent.example", submit="email"),
        LAProfile("Surrey", submit="portal", portal_url="https://portal.surrey.example"),
        LAProfile("Hampshire", submit="post"),
        MEDWAY,
    )
    # H Mon 15 Sep 2025: report due Mon 29 Sep (reg 20(7)); the reminder on Wed 24 Sep.
    (line,) = report_reminders([reviewed(date(2025, 9, 24), H, la=la)], today=date(2025, 9, 24), calendar=CAL,
                               profiles=profiles)  # fmt: skip
    assert line == f"row 2 (Evie L.): the review report is due with {la} by Mon 29 Sep 2025 (reg 20(7)-(8)); {how}"


@pytest.mark.parametrize(
    ("la", "report_sent", "chased"),
    [
        ("Kent", SENT, True),  # chase on and the report sent: Kent gets chaser 1 on Tue 14 Oct
        ("Medway", SENT, False),  # chasers off (the default): the family is not told of a chase
        ("Kent", None, False),  # no report recorded: the decision is not chased (docs/la-clock.md)
    ],
)
def test_a_late_decisions_status_email_says_the_school_is_chasing_only_when_it_is(
    la: str, report_sent: date | None, chased: bool
) -> None:
    from dataclasses import replace

    from functions.plan_model import DueEmail
    from functions.rendering import render_email
    from functions.status_emails import decide_status_emails

    today = date(2025, 10, 14)  # H Mon 15 Sep 2025: decision due Mon 13 Oct (reg 20(10)), late from Tue 14 Oct
    pupil = reviewed(today, H, report_sent=report_sent, la=la)
    pupil = replace(pupil, record=replace(pupil.record, parent_email="parent@f.example"))
    (status,) = decide_status_emails([pupil], today=today, sent={}, enabled=True, profiles=(KENT, MEDWAY))
    assert status.stage == "decision_late"
    context = {**status.context, "subject": "Evie's annual review", "school_name": "Oak", "sendco_name": "Ms Patel"}
    text = render_email(DueEmail("status", status.to, 2, status.reason_key, context, None)).text
    assert ("The school is asking the local authority for it." in text) is chased
    assert "was due by Mon 13 Oct 2025" in text
