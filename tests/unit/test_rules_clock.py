"""The whole clock for one pupil (review-rules.md sections 4-10): tables of literal dates worked by hand from the spec.

Pupils used (date of birth -> year group):
  2016-01-10: Year 5 in 2025/26 (Year 6 in 2026/27, so no transfer binds before Sep 2026).
  2018-06-15: Year 3 in 2025/26.           2014-03-01: Year 5 in 2023/24, Year 6 in 2024/25.
  2010-05-10: Year 11 in 2025/26.          2019-01-20: Year 2 in 2025/26.     2022-05-01: Nursery in 2025/26.
  2013-01-15: Year 8 in 2025/26.
Bank holidays used (holidays package, GB/ENG): 2026-05-25 spring bank holiday; default closures 21 Jul-31 Aug and
21 Dec-3 Jan.
"""

import time
from datetime import date
from typing import Any

import pytest

from review_rules import (
    AfterMeeting,
    Anchor,
    Decision,
    Period,
    PhaseTransfer,
    ReviewFacts,
    RuleSettings,
    SchoolCalendar,
    Status,
    compute_review,
)

D = date.fromisoformat

DEFAULT = RuleSettings()
MEETING = RuleSettings(anchor=Anchor.MEETING)
ANNIV = RuleSettings(period=Period.ANNIVERSARY)
ANNIV_MEETING = RuleSettings(anchor=Anchor.MEETING, period=Period.ANNIVERSARY)
MEETING_12M = RuleSettings(anchor=Anchor.MEETING, period=Period.TWELVE_MONTHS)
ALL_PHASES = RuleSettings(transfer_after_years=(-1, 2, 6, 11))
INCLUSIVE = RuleSettings(phase_deadline_inclusive=True)
CHRISTMAS_ONLY = RuleSettings(closures=((D("2025-12-24"), D("2026-01-02")),))

# Spec s4 example 1: last meeting 20 Jun 2025, LA decision 10 Jul 2025.
EX1 = ReviewFacts(dob=D("2016-01-10"), last_review=D("2025-06-20"), la_decision=D("2025-07-10"))
# Spec s4 example 2: plan issued 10 Mar 2025, no review yet.
EX2 = ReviewFacts(dob=D("2018-06-15"), plan_issued=D("2025-03-10"))
# Spec s5 example: Year 5 review 15 Apr 2024, transfer 1 Sep 2025.
EX3 = ReviewFacts(dob=D("2014-03-01"), last_review=D("2024-04-15"))
# Year 10 review; transfers to post-16 on 1 Sep 2026.
Y11 = ReviewFacts(dob=D("2010-05-10"), last_review=D("2025-03-20"))


def with_(facts: ReviewFacts, **changes: Any) -> ReviewFacts:
    return ReviewFacts(**{**facts.__dict__, **changes})


def row(why: str, facts: ReviewFacts, today: str, settings: RuleSettings = DEFAULT, **expected: Any) -> object:
    return pytest.param(facts, D(today), settings, expected, id=why)


def as_expected(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return D(value)
    return value


CASES = [
    # --- the spec's worked examples ---
    row("spec s4 ex1: meeting 20 Jun 2025, decision 10 Jul 2025", EX1, "2025-10-01",
        meeting_anchor="2025-06-20", anchor_source="last_review", decision_anchor="2025-07-10",
        window_end="2026-06-19", meeting_latest="2026-06-11", meeting_target="2026-06-11",
        meeting_date="2026-06-11", meeting_is_planned=False, planned_after_deadline=False,
        requests_from="2026-04-30", contributions_due="2026-05-21", invites_by="2026-05-28",
        papers_by="2026-05-28", nc_year_at_review=5, pfa_required=False, phase_transfer=None,
        interim_review_by=None, end_of_compulsory_school="2032-06-25", status=Status.ON_TRACK),
    row("spec s4 ex2: plan issued 10 Mar 2025; requests_from 29 Dec in closure -> Fri 19 Dec", EX2, "2025-10-01",
        meeting_anchor="2025-03-10", anchor_source="plan_issued", decision_anchor="2025-03-10",
        window_end="2026-03-09", meeting_latest="2026-02-09", meeting_target="2026-02-09",
        meeting_date="2026-02-09", requests_from="2025-12-19", contributions_due="2026-01-19",
        invites_by="2026-01-26", papers_by="2026-01-26", nc_year_at_review=3, pfa_required=False,
        phase_transfer=None, after_meeting=None, interim_review_by=None, status=Status.ON_TRACK),
    row("spec s5 ex: Y5 review 15 Apr 2024, transfer 1 Sep 2025 -> meeting by 22 Nov 2024", EX3, "2024-06-01",
        window_end="2025-04-14", meeting_latest="2024-11-22", meeting_target="2024-11-22",
        requests_from="2024-09-13", contributions_due="2024-11-01", invites_by="2024-11-08",
        papers_by="2024-11-08", nc_year_at_review=6, pfa_required=False, status=Status.ON_TRACK,
        phase_transfer=PhaseTransfer(6, D("2025-09-01"), D("2025-02-14"), D("2024-11-22"), False)),
    row("spec s7 ex: Year 8 in July, review in Oct is Year 9: PfA, 70-day requests (20 Jul, before closure)",
        ReviewFacts(dob=D("2013-01-15"), last_review=D("2025-11-20"), recorded_year=8), "2026-07-10",
        window_end="2026-11-19", meeting_latest="2026-10-22", meeting_date="2026-10-22", nc_year_at_review=9,
        pfa_required=True, requests_from="2026-07-20", contributions_due="2026-10-01", invites_by="2026-10-08",
        status=Status.ON_TRACK),
    row("spec s7 ex, today 20 Jul: PREPARE",
        ReviewFacts(dob=D("2013-01-15"), last_review=D("2025-11-20"), recorded_year=8), "2026-07-20",
        status=Status.PREPARE),
    row("held back: recorded Year 7 in 2025/26 is Year 8 at the review: no PfA, 42-day requests",
        ReviewFacts(dob=D("2013-01-15"), last_review=D("2025-11-20"), recorded_year=7), "2026-07-10",
        nc_year_at_review=8, pfa_required=False, requests_from="2026-09-10"),
    row("moved up: DOB Year 5 but recorded Year 9 in 2025/26: PfA", with_(EX1, recorded_year=9), "2025-10-01",
        nc_year_at_review=9, pfa_required=True, requests_from="2026-04-02"),
    # --- planned meetings before and after meeting_latest ---
    row("planned 5 Jun 2026, before the deadline: stages run from it", with_(EX1, planned_meeting=D("2026-06-05")),
        "2025-10-01", meeting_target="2026-06-11", meeting_date="2026-06-05", meeting_is_planned=True,
        planned_after_deadline=False, invites_by="2026-05-22", papers_by="2026-05-22",
        contributions_due="2026-05-15", requests_from="2026-04-24"),
    row("planned 18 Jun 2026, after the deadline 11 Jun: warning", with_(EX1, planned_meeting=D("2026-06-18")),
        "2025-10-01", meeting_latest="2026-06-11", meeting_date="2026-06-18", planned_after_deadline=True,
        invites_by="2026-06-04", contributions_due="2026-05-28", requests_from="2026-05-07"),
    row("planned on the deadline itself: no warning", with_(EX1, planned_meeting=D("2026-06-11")), "2025-10-01",
        meeting_date="2026-06-11", meeting_is_planned=True, planned_after_deadline=False),
    row("planned Mon 8 Jun 2026: invites 25 May (bank holiday) -> Fri 22 May; contributions a week before it",
        with_(EX1, planned_meeting=D("2026-06-08")), "2025-10-01",
        invites_by="2026-05-22", papers_by="2026-05-22", contributions_due="2026-05-15", requests_from="2026-04-27"),
    row("planned 18 Jun: PREPARE from its requests date 7 May", with_(EX1, planned_meeting=D("2026-06-18")),
        "2026-05-07", status=Status.PREPARE),
    row("planned 18 Jun: DUE_SOON runs from meeting_latest, not the plan", with_(EX1, planned_meeting=D("2026-06-18")),
        "2026-05-14", status=Status.DUE_SOON),
    # --- anchor settings ---
    row("anchor=meeting: the 12-month window alone", EX1, "2025-10-01", MEETING,
        decision_anchor="2025-07-10", meeting_latest="2026-06-19", meeting_target="2026-06-19",
        requests_from="2026-05-08"),
    row("decision recorded before the meeting (last cycle's): ignored", with_(EX1, la_decision=D("2025-06-01")),
        "2025-10-01", decision_anchor="2025-06-20", meeting_latest="2026-05-22"),
    row("late decision 30 Sep 2025: the 12-month window wins", with_(EX1, la_decision=D("2025-09-30")),
        "2025-10-01", decision_anchor="2025-09-30", meeting_latest="2026-06-19"),
    row("plan_issued anchor ignores a recorded LA decision", with_(EX2, la_decision=D("2025-04-01")),
        "2025-10-01", decision_anchor="2025-03-10", meeting_latest="2026-02-09"),
    row("amended plan date does not restart the clock", with_(EX1, final_plan=D("2025-09-01")), "2025-10-01",
        meeting_anchor="2025-06-20", window_end="2026-06-19"),
    # --- period settings and leap days ---
    row("anniversary period, decision anchor", EX1, "2025-10-01", ANNIV,
        window_end="2026-06-20", meeting_latest="2026-06-12", meeting_target="2026-06-12"),
    row("anniversary period, meeting anchor: Sat 20 Jun -> Fri 19 Jun", EX1, "2025-10-01", ANNIV_MEETING,
        window_end="2026-06-20", meeting_latest="2026-06-20", meeting_target="2026-06-19"),
    row("plan issued 29 Feb 2024, twelve months: window 28 Feb 2025", with_(EX2, dob=D("2016-01-10"),
        plan_issued=D("2024-02-29")), "2024-10-01", window_end="2025-02-28", meeting_latest="2025-01-31"),
    row("plan issued 29 Feb 2024, anniversary: clamped to 28 Feb 2025", with_(EX2, dob=D("2016-01-10"),
        plan_issued=D("2024-02-29")), "2024-10-01", ANNIV, window_end="2025-02-28", meeting_latest="2025-01-31"),
    row("plan issued 29 Feb 2024, meeting anchor", with_(EX2, dob=D("2016-01-10"), plan_issued=D("2024-02-29")),
        "2024-10-01", MEETING_12M, meeting_latest="2025-02-28", meeting_target="2025-02-28"),
    row("review 1 Mar 2023 -> window ends 29 Feb 2024", with_(EX1, last_review=D("2023-03-01"), la_decision=None),
        "2023-10-01", MEETING_12M, window_end="2024-02-29", meeting_latest="2024-02-29", meeting_target="2024-02-29"),
    row("review 1 Mar 2023, anniversary -> 1 Mar 2024", with_(EX1, last_review=D("2023-03-01"), la_decision=None),
        "2023-10-01", ANNIV_MEETING, window_end="2024-03-01", meeting_latest="2024-03-01"),
    row("review 1 Mar 2023, decision anchor: 29 Feb 2024 - 28 days",
        with_(EX1, last_review=D("2023-03-01"), la_decision=None), "2023-10-01", meeting_latest="2024-02-01"),
    # --- closures configured or passed in ---
    row("configured closures 24 Dec-2 Jan: requests 29 Dec -> Tue 23 Dec", EX2, "2025-10-01", CHRISTMAS_ONLY,
        requests_from="2025-12-23", meeting_target="2026-02-09"),
    # --- phase transfers inside the clock ---
    row("Y11 -> post-16: Y10 review Mar 2025 -> meeting by 5 Jan 2026 (30 Mar - 84 days); contributions 19 - 7 Dec", Y11, "2025-10-01",
        window_end="2026-03-19", meeting_latest="2026-01-05", meeting_target="2026-01-05",
        requests_from="2025-10-27", contributions_due="2025-12-12", invites_by="2025-12-19",
        papers_by="2025-12-19", nc_year_at_review=11, pfa_required=True, status=Status.ON_TRACK,
        end_of_compulsory_school="2026-06-26",
        phase_transfer=PhaseTransfer(11, D("2026-09-01"), D("2026-03-30"), D("2026-01-05"), True)),
    row("Y11: PREPARE from 27 Oct", Y11, "2025-10-27", status=Status.PREPARE),
    row("Y11: DUE_SOON from 8 Dec", Y11, "2025-12-08", status=Status.DUE_SOON),
    row("Y11: OVERDUE on 6 Jan", Y11, "2026-01-06", status=Status.OVERDUE),
    row("Y11 phase_deadline_inclusive: 31 Mar - 84 days = 6 Jan", Y11, "2025-10-01", INCLUSIVE,
        meeting_latest="2026-01-06", meeting_target="2026-01-06"),
    row("Y11: Y10 review Nov 2024: binds but the ordinary deadline 14 Oct is earlier",
        with_(Y11, last_review=D("2024-11-12")), "2025-10-01", meeting_latest="2025-10-14",
        requests_from="2025-07-18", contributions_due="2025-09-23", invites_by="2025-09-30",
        status=Status.DUE_SOON,
        phase_transfer=PhaseTransfer(11, D("2026-09-01"), D("2026-03-30"), D("2026-01-05"), True)),
    row("Y2 infant->junior: 22 Nov 2025 is a Saturday -> Fri 21 Nov",
        ReviewFacts(dob=D("2019-01-20"), last_review=D("2025-01-15")), "2025-10-01", ALL_PHASES,
        meeting_latest="2025-11-22", meeting_target="2025-11-21", meeting_date="2025-11-21",
        requests_from="2025-09-12", contributions_due="2025-10-31", invites_by="2025-11-07",
        nc_year_at_review=2, pfa_required=False, status=Status.PREPARE),
    row("Y2 with default transfer years: ordinary review",
        ReviewFacts(dob=D("2019-01-20"), last_review=D("2025-01-15")), "2025-10-01",
        meeting_latest="2025-12-17", phase_transfer=None, requests_from="2025-11-05"),
    row("Nursery->Reception, under five: interim by 10 Sep 2025",
        ReviewFacts(dob=D("2022-05-01"), plan_issued=D("2025-03-10")), "2025-10-01", ALL_PHASES,
        meeting_latest="2025-11-22", meeting_target="2025-11-21", requests_from="2025-09-12",
        nc_year_at_review=-1, interim_review_by="2025-09-10", status=Status.PREPARE,
        phase_transfer=PhaseTransfer(-1, D("2026-09-01"), D("2026-02-14"), D("2025-11-22"), False)),
    row("per-pupil transfer date 1 Sep 2026 overrides the derived 2025 one",
        with_(EX3, transfer_date=D("2026-09-01")), "2024-06-01",
        meeting_latest="2025-03-17", phase_transfer=None, requests_from="2025-02-03"),
    # --- under-fives (CoP 9.178) ---
    row("under five on the anchor: interim review 6 months later, clamped to 28 Feb",
        ReviewFacts(dob=D("2021-03-01"), plan_issued=D("2025-08-31")), "2025-10-01",
        interim_review_by="2026-02-28"),
    row("fifth birthday on the anchor: no interim review",
        ReviewFacts(dob=D("2020-08-31"), plan_issued=D("2025-08-31")), "2025-10-01", interim_review_by=None),
    row("born 1 Sep 2020, still 4 on 31 Aug 2025: interim review",
        ReviewFacts(dob=D("2020-09-01"), plan_issued=D("2025-08-31")), "2025-10-01",
        interim_review_by="2026-02-28"),
    row("interim date passed is never red: ON_TRACK; 2 Aug 2026 in closure -> 20 Jul",
        ReviewFacts(dob=D("2021-03-01"), plan_issued=D("2025-08-31")), "2026-03-15",
        meeting_latest="2026-08-02", meeting_target="2026-07-20", requests_from="2026-06-08",
        interim_review_by="2026-02-28", status=Status.ON_TRACK),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "today", "settings", "expected"), CASES)
def test_compute_review(facts: ReviewFacts, today: date, settings: RuleSettings, expected: dict[str, Any]) -> None:
    clock = compute_review(facts, today, settings)
    actual = {name: getattr(clock, name) for name in expected}
    assert actual == {name: as_expected(value) for name, value in expected.items()}


STATUS_CASES = [
    # Spec s4 ex2: meeting_latest 9 Feb 2026; DUE_SOON from 12 Jan 2026; requests_from Fri 19 Dec 2025.
    row("long before requests", EX2, "2025-10-01", status=Status.ON_TRACK),
    row("day before requests_from", EX2, "2025-12-18", status=Status.ON_TRACK),
    row("on requests_from", EX2, "2025-12-19", status=Status.PREPARE),
    row("day before the 4 weeks", EX2, "2026-01-11", status=Status.PREPARE),
    row("4 weeks before meeting_latest", EX2, "2026-01-12", status=Status.DUE_SOON),
    row("on meeting_latest", EX2, "2026-02-09", status=Status.DUE_SOON),
    row("day after meeting_latest", EX2, "2026-02-10", status=Status.OVERDUE),
    row("inactive beats overdue", with_(EX2, inactive=True), "2026-02-10", status=Status.INACTIVE),
    row("inactive when on track", with_(EX2, inactive=True), "2025-10-01", status=Status.INACTIVE),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "today", "settings", "expected"), STATUS_CASES)
def test_status(facts: ReviewFacts, today: date, settings: RuleSettings, expected: dict[str, Any]) -> None:
    assert compute_review(facts, today, settings).status is expected["status"]


# Section 8, last meeting H = Fri 20 Jun 2025: report due 4 Jul, decision due 18 Jul, H + 84 days = 12 Sep 2025.
H = ReviewFacts(dob=D("2016-01-10"), last_review=D("2025-06-20"))
DONE = {"report_sent": D("2025-07-01"), "la_decision": D("2025-07-15")}


def after(held: str, report: str, decision: str, final: str | None, late: tuple[str, ...]) -> AfterMeeting:
    return AfterMeeting(D(held), D(report), D(decision), D(final) if final else None, late)


AFTER_CASES = [
    pytest.param(H, "2025-07-04", after("2025-06-20", "2025-07-04", "2025-07-18", None, ()),
                 id="report due today: not late yet"),
    pytest.param(H, "2025-07-05", after("2025-06-20", "2025-07-04", "2025-07-18", None, ("report_due",)),
                 id="report date passed, none recorded: late"),
    pytest.param(H, "2025-07-19",
                 after("2025-06-20", "2025-07-04", "2025-07-18", None, ("report_due", "decision_due")),
                 id="report and decision late"),
    pytest.param(with_(H, decision=Decision.MAINTAIN, **DONE), "2025-07-19",
                 after("2025-06-20", "2025-07-04", "2025-07-18", None, ()), id="maintain, all recorded"),
    pytest.param(with_(H, decision=Decision.CEASE, **DONE), "2025-10-01",
                 after("2025-06-20", "2025-07-04", "2025-07-18", None, ()), id="cease: no final plan due"),
    pytest.param(with_(H, decision=Decision.AMEND, amendment_notice=D("2025-07-15"), **DONE), "2025-09-10",
                 after("2025-06-20", "2025-07-04", "2025-07-18", "2025-09-09", ("final_plan_due",)),
                 id="amend: notice 15 Jul + 56 days = 9 Sep, earlier than H + 84; late"),
    pytest.param(with_(H, decision=Decision.AMEND, amendment_notice=D("2025-08-01"), **DONE), "2025-09-10",
                 after("2025-06-20", "2025-07-04", "2025-07-18", "2025-09-12", ()),
                 id="amend: notice 1 Aug + 56 = 26 Sep, capped at H + 84 = 12 Sep"),
    pytest.param(with_(H, decision=Decision.AMEND, **DONE), "2025-09-12",
                 after("2025-06-20", "2025-07-04", "2025-07-18", "2025-09-12", ()),
                 id="amend without notice: H + 84, due today"),
    pytest.param(with_(H, decision=Decision.AMEND, **DONE), "2025-09-13",
                 after("2025-06-20", "2025-07-04", "2025-07-18", "2025-09-12", ("final_plan_due",)),
                 id="amend without notice: passed, late"),
    pytest.param(with_(H, decision=Decision.AMEND, final_plan=D("2025-09-01"), **DONE), "2025-10-01",
                 after("2025-06-20", "2025-07-04", "2025-07-18", "2025-09-12", ()),
                 id="amended plan recorded: not late"),
    pytest.param(with_(H, decision=Decision.AMEND), "2025-10-01",
                 after("2025-06-20", "2025-07-04", "2025-07-18", "2025-09-12",
                       ("report_due", "decision_due", "final_plan_due")),
                 id="amend recorded, no dates at all: every step late"),
    pytest.param(with_(H, report_sent=D("2025-06-01")), "2025-07-05",
                 after("2025-06-20", "2025-07-04", "2025-07-18", None, ("report_due",)),
                 id="a report date older than the meeting is the last cycle's: late (rules v2 s8)"),
    pytest.param(EX2, "2025-10-01", None, id="no review yet: no after-meeting clock"),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "today", "expected"), AFTER_CASES)
def test_after_meeting(facts: ReviewFacts, today: str, expected: AfterMeeting | None) -> None:
    assert compute_review(facts, D(today), DEFAULT).after_meeting == expected


@pytest.mark.parametrize(
    ("calendar", "expected_requests"),
    [
        pytest.param(None, "2025-12-19", id="default closures: 29 Dec -> Fri 19 Dec"),
        pytest.param(SchoolCalendar(closures=()), "2025-12-29", id="no closures: Mon 29 Dec is a school day"),
        pytest.param(SchoolCalendar(closures=((D("2025-12-22"), D("2026-01-02")),)), "2025-12-19",
                     id="configured closures 22 Dec-2 Jan"),
    ],
)  # fmt: skip
def test_calendar_passed_in(calendar: SchoolCalendar | None, expected_requests: str) -> None:
    assert compute_review(EX2, D("2025-10-01"), DEFAULT, calendar).requests_from == D(expected_requests)


@pytest.mark.parametrize(
    ("facts", "today", "settings", "field", "sentence"),
    [
        pytest.param(EX1, "2025-10-01", DEFAULT, "window_end",
                     "12 months starting with the last review on Fri 20 Jun 2025 end on Fri 19 Jun 2026 "
                     "(CFA 2014 s44(1)).", id="brief's example sentence"),
        pytest.param(EX1, "2025-10-01", DEFAULT, "meeting_latest",
                     "Thu 11 Jun 2026 is 4 weeks before the 12 months from the LA decision anchor Thu 10 Jul 2025 "
                     "end on Thu 9 Jul 2026, leaving time for the LA's decision within them "
                     "(CoP 9.169; SEND Regs 2014 reg 20(10)).", id="decision anchor named"),
        pytest.param(EX1, "2025-10-01", MEETING, "meeting_latest",
                     "The meeting must be held by the end of the 12 months, Fri 19 Jun 2026 "
                     "(CFA 2014 s44(1); school setting: meeting anchor).", id="meeting anchor setting"),
        pytest.param(EX3, "2024-06-01", DEFAULT, "meeting_latest",
                     "Fri 22 Nov 2024 is 84 days (4 weeks for the LA decision with proposed amendments, then 8 weeks "
                     "to the final plan) before the phase transfer deadline Fri 14 Feb 2025 (SEND Regs 2014 regs 18, "
                     "20(10), 22(3); Devon [2022] EWHC 493 (Admin)).", id="phase transfer deadline named"),
        pytest.param(EX2, "2025-10-01", DEFAULT, "meeting_anchor",
                     "The clock runs from the final plan first issued on Mon 10 Mar 2025: a review restarts it, "
                     "an amended plan does not (CFA 2014 s44(1)).", id="plan issued anchor"),
    ],
)  # fmt: skip
def test_explain_sentences(facts: ReviewFacts, today: str, settings: RuleSettings, field: str, sentence: str) -> None:
    assert compute_review(facts, D(today), settings).explain[field] == sentence


DATE_FIELDS = (
    "meeting_anchor", "decision_anchor", "window_end", "meeting_latest", "meeting_target", "meeting_date",
    "requests_from", "contributions_due", "invites_by", "papers_by", "end_of_compulsory_school",
)  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "today"),
    [
        pytest.param(EX1, "2025-10-01", id="spec ex1"),
        pytest.param(EX3, "2024-06-01", id="spec s5 ex"),
        pytest.param(ReviewFacts(dob=D("2022-05-01"), plan_issued=D("2025-03-10")), "2025-10-01", id="under five"),
    ],
)
def test_every_date_is_explained_with_its_own_date(facts: ReviewFacts, today: str) -> None:
    clock = compute_review(facts, D(today), ALL_PHASES)
    for name in DATE_FIELDS:
        value: date = getattr(clock, name)
        assert f"{value:%a} {value.day} {value:%b %Y}" in clock.explain[name], name
    for name in ("status", "nc_year_at_review", "pfa_required"):
        assert clock.explain[name]
    if clock.interim_review_by is not None:
        assert "CoP 9.178" in clock.explain["interim_review_by"]
    if clock.phase_transfer is not None:
        assert "reg 18" in clock.explain["phase_transfer"]
    if clock.after_meeting is not None:
        assert "reg 20(10)" in clock.explain["decision_due"]


def test_a_row_with_no_anchor_is_refused() -> None:
    with pytest.raises(ValueError, match="last review date or a plan issue date"):
        compute_review(ReviewFacts(dob=D("2016-01-10")), D("2025-10-01"), DEFAULT)


def test_a_sweep_of_2000_pupils_is_fast() -> None:
    pupils = [
        ReviewFacts(
            dob=date.fromordinal(D("2006-09-01").toordinal() + (i * 37) % 6500),
            last_review=date.fromordinal(D("2024-10-01").toordinal() + (i * 13) % 365) if i % 3 else None,
            plan_issued=date.fromordinal(D("2024-06-01").toordinal() + (i * 7) % 400),
        )
        for i in range(2000)
    ]
    start = time.perf_counter()
    clocks = [compute_review(p, D("2025-10-01"), DEFAULT) for p in pupils]
    elapsed = time.perf_counter() - start
    assert len({c.status for c in clocks}) >= 3
    assert elapsed < 3.0
