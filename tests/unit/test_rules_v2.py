"""Rules v2 (docs/rules.md "Changes", 2026-11-29): tables of literal dates worked by hand, each with its source.

Pupils (date of birth -> year group):
  2016-01-10: Year 5 in 2025/26, Year 6 in 2026/27.   2010-05-10: Year 11 in 2025/26.
  2009-05-10: Year 12 in 2025/26.                      2012-01-15: Year 8 in 2024/25, Year 9 in 2025/26.
Dates: 2025-05-25 and 2026-05-25 spring bank holidays; default closures 21 Jul-31 Aug and 21 Dec-3 Jan.
"""

from datetime import date
from typing import Any

import pytest

from review_rules import AfterMeeting, Decision, PhaseTransfer, ReviewFacts, RuleSettings, Status, compute_review
from review_rules.transfers import phase_transfer_for

D = date.fromisoformat
DEFAULT = RuleSettings()
INCLUSIVE = RuleSettings(phase_deadline_inclusive=True)


def pt(k: int, t: str, final_by: str, latest: str, post16: bool = False) -> PhaseTransfer:
    return PhaseTransfer(k, D(t), D(final_by), D(latest), post16)


# --- s5: the per-pupil transfer date, mid-year moves ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("k", "transfer", "settings", "expected"),
    [
        pytest.param(6, "2027-01-04", DEFAULT, pt(6, "2027-01-04", "2027-01-03", "2026-10-11"),
                     id="spec s5 example: Y6 moving 4 Jan 2027 -> final by 3 Jan 2027 (not 14 Feb); -84 = 11 Oct"),
        pytest.param(6, "2026-09-01", DEFAULT, pt(6, "2026-09-01", "2026-02-14", "2025-11-22"),
                     id="1 Sep move: 14 Feb of T's year, unchanged (reg 18)"),
        pytest.param(6, "2027-02-10", INCLUSIVE, pt(6, "2027-02-10", "2027-02-09", "2026-11-17"),
                     id="inclusive 15 Feb, move 10 Feb: the day before the move wins"),
        pytest.param(6, "2027-02-20", DEFAULT, pt(6, "2027-02-20", "2027-02-14", "2026-11-22"),
                     id="move 20 Feb: 14 Feb is already before it"),
        pytest.param(11, "2026-09-01", DEFAULT, pt(11, "2026-09-01", "2026-03-30", "2026-01-05", True),
                     id="Y11 1 Sep: 30 March (5 months before is 1 April, later)"),
        pytest.param(11, "2026-08-20", DEFAULT, pt(11, "2026-08-20", "2026-03-20", "2025-12-26", True),
                     id="Y11 moving 20 Aug 2026: five months before = 20 Mar 2026 (reg 18(2))"),
        pytest.param(12, "2027-01-04", DEFAULT, pt(12, "2027-01-04", "2026-08-04", "2026-05-12", True),
                     id="Y12 between post-16 institutions 4 Jan 2027: five months before = 4 Aug 2026"),
        pytest.param(11, "2026-07-31", DEFAULT, pt(11, "2026-07-31", "2026-02-28", "2025-12-06", True),
                     id="31 Jul - 5 months clamps to 28 Feb 2026"),
        pytest.param(12, "2027-09-01", DEFAULT, pt(12, "2027-09-01", "2027-03-30", "2027-01-05", True),
                     id="k = 12 is post-16 too: 30 March (k >= 11)"),
        pytest.param(13, "2027-09-01", INCLUSIVE, pt(13, "2027-09-01", "2027-03-31", "2027-01-06", True),
                     id="k = 13, inclusive: 31 March"),
    ],
)  # fmt: skip
def test_phase_deadlines_for_mid_year_moves(k: int, transfer: str, settings: RuleSettings, expected: object) -> None:
    assert phase_transfer_for(k, D(transfer), settings) == expected


def with_(facts: ReviewFacts, **changes: Any) -> ReviewFacts:
    return ReviewFacts(**{**facts.__dict__, **changes})


Y6_MOVER = ReviewFacts(dob=D("2016-01-10"), last_review=D("2025-11-20"), transfer_date=D("2027-01-04"))
# Plan issued 8 Aug 2024: window ends 7 Aug 2025, meeting_latest 7 Aug - 28 days = Thu 10 Jul 2025 (Year 8 then).
YEAR8_MISSED = ReviewFacts(dob=D("2012-01-15"), plan_issued=D("2024-08-08"))
# Last meeting H = Fri 20 Jun 2025: report due 4 Jul, decision due 18 Jul, H + 84 = 12 Sep 2025.
H = ReviewFacts(dob=D("2016-01-10"), last_review=D("2025-06-20"))


def row(why: str, facts: ReviewFacts, today: str, **expected: Any) -> object:
    return pytest.param(facts, D(today), expected, id=why)


CLOCK_CASES = [
    # s5: k is the year on 3 Jan 2027 (Year 6); T - 1 year = 4 Jan 2026 lies after the anchor 20 Nov 2025 and before
    # the section 4 meeting_latest 22 Oct 2026, so it binds: meeting by Sun 11 Oct 2026 -> Fri 9 Oct.
    row("spec s5: Y6 moving 4 Jan 2027 binds, final by 3 Jan", Y6_MOVER, "2026-06-01",
        phase_transfer=pt(6, "2027-01-04", "2027-01-03", "2026-10-11"), meeting_latest="2026-10-11",
        meeting_target="2026-10-09", requests_from="2026-07-20", invites_by="2026-09-25",
        contributions_due="2026-09-18"),
    # s7: spec example. M = 10 Jul 2025 (Year 8) but nothing is booked and today is 1 Oct 2025 (Year 9).
    row("spec s7: deadline 10 Jul 2025 missed in Y8, nothing booked, today 1 Oct: Year 9, PfA, 70 days",
        YEAR8_MISSED, "2025-10-01", meeting_latest="2025-07-10", meeting_date="2025-07-10",
        nc_year_at_review=9, pfa_required=True, requests_from="2025-05-01", status=Status.OVERDUE),
    row("same pupil on 9 Jul 2025 (before the deadline): Year 8, no PfA, 42 days", YEAR8_MISSED, "2025-07-09",
        nc_year_at_review=8, pfa_required=False, requests_from="2025-05-29", status=Status.DUE_SOON),
    row("a booked meeting is judged on its own date: planned 8 Jul 2025 (Year 8), today 1 Oct",
        with_(YEAR8_MISSED, planned_meeting=D("2025-07-08")), "2025-10-01",
        nc_year_at_review=8, pfa_required=False, requests_from="2025-05-27"),
    # 20 Oct - 70 days = Mon 11 Aug 2025, in the summer closure -> Fri 18 Jul.
    row("booked for 20 Oct 2025 (Year 9): PfA from the planned date",
        with_(YEAR8_MISSED, planned_meeting=D("2025-10-20")), "2025-10-01",
        nc_year_at_review=9, pfa_required=True, requests_from="2025-07-18"),
    # s6: invites_by 29 Dec 2025 is in the Christmas closure -> Fri 19 Dec; contributions a week before that,
    # Fri 12 Dec (rules v1 gave M - 21 = 22 Dec -> 19 Dec, the same day as the invitations: no week to compile).
    row("planned Mon 12 Jan 2026: invites 29 Dec -> 19 Dec, contributions 12 Dec",
        with_(H, planned_meeting=D("2026-01-12")), "2025-10-01",
        invites_by="2025-12-19", papers_by="2025-12-19", contributions_due="2025-12-12", requests_from="2025-12-01"),
    row("planned Mon 8 Jun 2026: invites 25 May (bank holiday) -> Fri 22 May, contributions Fri 15 May",
        with_(H, planned_meeting=D("2026-06-08")), "2025-10-01",
        invites_by="2026-05-22", contributions_due="2026-05-15"),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "today", "expected"), CLOCK_CASES)
def test_clock_v2(facts: ReviewFacts, today: date, expected: dict[str, Any]) -> None:
    clock = compute_review(facts, today, DEFAULT)
    actual = {name: getattr(clock, name) for name in expected}
    wanted = {k: D(v) if isinstance(v, str) and not isinstance(v, Status) else v for k, v in expected.items()}
    assert actual == wanted


def after(
    report: str, decision: str, final: str | None, late: tuple[str, ...], without: tuple[str, ...] = ()
) -> object:
    return AfterMeeting(D("2025-06-20"), D(report), D(decision), D(final) if final else None, late, without)


AMEND_DONE = {"decision": Decision.AMEND, "report_sent": D("2025-07-01"), "la_decision": D("2025-07-15")}

AFTER_CASES = [
    pytest.param(with_(H, report_sent=D("2025-06-01")), "2025-07-05",
                 after("2025-07-04", "2025-07-18", None, ("report_due",)),
                 id="s8: report sent 1 Jun, before H 20 Jun: last cycle's, so late on 5 Jul"),
    pytest.param(with_(H, report_sent=D("2025-06-20")), "2025-07-05",
                 after("2025-07-04", "2025-07-18", None, ()), id="s8: report sent on H itself counts"),
    pytest.param(with_(H, la_decision=D("2025-06-01"), decision=Decision.AMEND), "2025-10-01",
                 after("2025-07-04", "2025-07-18", None, ("report_due", "decision_due")),
                 id="s8: decision 1 Jun (before H) with Amend: both ignored, no final plan due"),
    pytest.param(with_(H, decision=Decision.AMEND), "2025-10-01",
                 after("2025-07-04", "2025-07-18", "2025-09-12", ("report_due", "decision_due", "final_plan_due")),
                 id="s8: Amend with no decision date is kept; late in order report, decision, final plan"),
    pytest.param(with_(H, amendment_notice=D("2025-06-01"), **AMEND_DONE), "2025-09-10",
                 after("2025-07-04", "2025-07-18", "2025-09-12", ()),
                 id="s8: notice 1 Jun (before H) ignored: H + 84 = 12 Sep, not 1 Jun + 56 = 27 Jul"),
    pytest.param(with_(H, final_plan=D("2025-05-01"), **AMEND_DONE), "2025-09-13",
                 after("2025-07-04", "2025-07-18", "2025-09-12", ("final_plan_due",)),
                 id="s8: final plan 1 May (before H) is the last cycle's: late on 13 Sep"),
    pytest.param(with_(H, no_column_for=frozenset({"decision_due"})), "2025-07-19",
                 after("2025-07-04", "2025-07-18", None, ("report_due",), ("decision_due",)),
                 id="register.md s5: no LA decision column: never late, listed apart"),
    pytest.param(with_(H, no_column_for=frozenset({"report_due", "decision_due", "final_plan_due"}),
                       decision=Decision.AMEND), "2025-10-01",
                 after("2025-07-04", "2025-07-18", "2025-09-12", (), ("report_due", "decision_due", "final_plan_due")),
                 id="register.md s5: no after-meeting columns at all: nothing late"),
    pytest.param(with_(H, no_column_for=frozenset({"decision_due"})), "2025-07-18",
                 after("2025-07-04", "2025-07-18", None, ("report_due",), ()),
                 id="not yet passed: neither late nor listed"),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "today", "expected"), AFTER_CASES)
def test_after_meeting_v2(facts: ReviewFacts, today: str, expected: object) -> None:
    assert compute_review(facts, D(today), DEFAULT).after_meeting == expected


def test_explanations_name_the_mid_year_move_and_the_unbooked_review() -> None:
    clock = compute_review(Y6_MOVER, D("2026-06-01"), DEFAULT)
    assert "before the move itself on Mon 4 Jan 2027" in clock.explain["phase_transfer"]
    assert "final by Sun 3 Jan 2027" in clock.explain["phase_transfer"]
    late = compute_review(YEAR8_MISSED, D("2025-10-01"), DEFAULT)
    assert late.explain["nc_year_at_review"].startswith("On Wed 1 Oct 2025, the earliest the unbooked review")
