"""Phase transfers (SEND Regs 2014 reg 18; review-rules.md section 5).

Each row: a pupil, the cycle's meeting anchor and section-4 meeting_latest, and whether a transfer binds. Expected
deadlines are worked by hand: final_by is 14 Feb (30 Mar post-16) of T's year; phase meeting_latest is 84 days earlier.
  14 Feb 2025 - 84 days = 22 Nov 2024;  14 Feb 2026 - 84 = 22 Nov 2025;  15 Feb 2026 - 84 = 23 Nov 2025;
  30 Mar 2026 - 84 days = 5 Jan 2026;   31 Mar 2026 - 84 = 6 Jan 2026.
"""

from datetime import date

import pytest

from review_rules import PhaseTransfer, ReviewFacts, RuleSettings, binding_transfer
from review_rules.transfers import twelve_months_before

D = date.fromisoformat

DEFAULT = RuleSettings()
ALL_PHASES = RuleSettings(transfer_after_years=(-1, 2, 6, 11))
INCLUSIVE = RuleSettings(transfer_after_years=(-1, 2, 6, 11), phase_deadline_inclusive=True)
NO_DERIVED = RuleSettings(transfer_after_years=())


def transfer(k: int, t: str, final_by: str, meeting_latest: str, post16: bool = False) -> PhaseTransfer:
    return PhaseTransfer(
        from_year=k, transfer_date=D(t), final_by=D(final_by), meeting_latest=D(meeting_latest), to_post16=post16
    )


Y6_2025 = transfer(6, "2025-09-01", "2025-02-14", "2024-11-22")
Y6_2026 = transfer(6, "2026-09-01", "2026-02-14", "2025-11-22")
Y11_2026 = transfer(11, "2026-09-01", "2026-03-30", "2026-01-05", post16=True)
Y2_2026 = transfer(2, "2026-09-01", "2026-02-14", "2025-11-22")
NURSERY_2026 = transfer(-1, "2026-09-01", "2026-02-14", "2025-11-22")

# Pupils (date of birth):
Y5_IN_2023 = "2014-03-01"  # Year 5 in 2023/24, Year 6 in 2024/25: T = 1 Sep 2025, T - 1 year = 1 Sep 2024
Y11_IN_2025 = "2010-05-10"  # Year 11 in 2025/26: T = 1 Sep 2026, T - 1 year = 1 Sep 2025
Y2_IN_2025 = "2019-01-20"  # Year 2 in 2025/26: T = 1 Sep 2026
NURSERY_IN_2025 = "2022-05-01"  # Nursery in 2025/26: T = 1 Sep 2026


def case(
    why: str,
    dob: str,
    today: str,
    anchor: str,
    latest: str,
    expected: PhaseTransfer | None,
    settings: RuleSettings = DEFAULT,
    recorded: int | None = None,
    per_pupil: str | None = None,
) -> object:
    return pytest.param(dob, recorded, per_pupil, today, anchor, latest, settings, expected, id=why)


@pytest.mark.parametrize(
    ("dob", "recorded", "per_pupil", "today", "anchor", "latest", "settings", "expected"),
    [
        # Year 6 -> 7.
        case("spec s5 example: Y5 review 15 Apr 2024, T 1 Sep 2025 binds", Y5_IN_2023, "2024-06-01",
             "2024-04-15", "2025-03-17", Y6_2025),
        case("Y6: meeting due just inside the 12 months before T: binds", Y5_IN_2023, "2024-06-01",
             "2023-10-10", "2024-09-12", Y6_2025),
        case("Y6: meeting due before the 12 months begin: ordinary review", Y5_IN_2023, "2024-06-01",
             "2023-06-15", "2024-05-17", None),
        case("Y6: review already held inside the 12 months before T", Y5_IN_2023, "2024-06-01",
             "2024-09-20", "2025-08-21", None),
        case("Y6: review held on T - 1 year itself counts as inside", Y5_IN_2023, "2024-06-01",
             "2024-09-01", "2025-08-04", None),
        case("Y6: meeting_latest exactly T - 1 year binds (<=)", Y5_IN_2023, "2024-06-01",
             "2023-10-04", "2024-09-01", Y6_2025),
        case("Y6: after the transfer (Year 7 review)", Y5_IN_2023, "2025-11-01",
             "2025-10-01", "2026-09-02", None),
        # Year boundary: born 31 Aug 2014 is Year 5 in 2023/24 (T 2025); born 1 Sep 2014 is Year 4 (T 2026).
        case("born 31 Aug: T 1 Sep 2025, review already inside its 12 months", "2014-08-31", "2024-06-01",
             "2024-10-01", "2025-09-02", None),
        case("born 1 Sep: T 1 Sep 2026, 1 Sep 2025 falls in this cycle: binds", "2014-09-01", "2024-06-01",
             "2024-10-01", "2025-09-02", Y6_2026),
        # Recorded year out of chronological year.
        case("held back (recorded Y4, DOB Y5): T moves to 2026, no bind", Y5_IN_2023, "2024-06-01",
             "2024-04-15", "2025-03-17", None, recorded=4),
        case("held back: the next cycle binds to T 1 Sep 2026", Y5_IN_2023, "2024-06-01",
             "2025-01-20", "2025-12-22", Y6_2026, recorded=4),
        case("moved up (recorded Y5, DOB Y4): binds to T 1 Sep 2025", "2015-03-01", "2024-06-01",
             "2024-04-15", "2025-03-17", Y6_2025, recorded=5),
        case("same pupil from DOB (Y4): T 2026, no bind", "2015-03-01", "2024-06-01",
             "2024-04-15", "2025-03-17", None),
        # Year 11 -> post-16.
        case("Y11: Y10 review Nov 2024, next due Oct 2025: binds, 30 Mar", Y11_IN_2025, "2025-10-01",
             "2024-11-12", "2025-10-14", Y11_2026),
        case("Y11: Y10 review Mar 2025: binds", Y11_IN_2025, "2025-10-01",
             "2025-03-20", "2026-02-19", Y11_2026),
        case("Y11: meeting due before Sep 2025: no bind", Y11_IN_2025, "2025-10-01",
             "2024-07-01", "2025-06-02", None),
        case("Y11: review held in Year 11: no bind", Y11_IN_2025, "2025-10-01",
             "2025-09-15", "2026-08-17", None),
        case("Y11 phase_deadline_inclusive: 31 Mar", Y11_IN_2025, "2025-10-01",
             "2024-11-12", "2025-10-14", transfer(11, "2026-09-01", "2026-03-31", "2026-01-06", post16=True),
             settings=INCLUSIVE),
        # Infant -> junior (Year 2).
        case("Y2 infant->junior: binds when the setting lists 2", Y2_IN_2025, "2025-10-01",
             "2025-01-15", "2025-12-17", Y2_2026, settings=ALL_PHASES),
        case("Y2: default settings (6, 11) have no infant->junior transfer", Y2_IN_2025, "2025-10-01",
             "2025-01-15", "2025-12-17", None),
        case("Y2 phase_deadline_inclusive: 15 Feb", Y2_IN_2025, "2025-10-01",
             "2025-01-15", "2025-12-17", transfer(2, "2026-09-01", "2026-02-15", "2025-11-23"), settings=INCLUSIVE),
        case("Y2: Year 1 review due before Sep 2025: no bind", Y2_IN_2025, "2025-10-01",
             "2024-06-10", "2025-05-12", None, settings=ALL_PHASES),
        case("Y2: review held in Year 2: no bind", Y2_IN_2025, "2025-10-01",
             "2025-09-10", "2026-08-12", None, settings=ALL_PHASES),
        # Nursery -> Reception.
        case("Nursery->Reception: plan issued Mar 2025: binds", NURSERY_IN_2025, "2025-10-01",
             "2025-03-10", "2026-02-09", NURSERY_2026, settings=ALL_PHASES),
        case("Nursery: not a transfer year by default", NURSERY_IN_2025, "2025-10-01",
             "2025-03-10", "2026-02-09", None),
        # Per-pupil transfer dates override the derived ones; k is the year on T - 1 day.
        case("per-pupil: middle->upper from Year 8 (not in settings) binds", "2012-03-01", "2024-06-01",
             "2024-04-15", "2025-03-17", transfer(8, "2025-09-01", "2025-02-14", "2024-11-22"),
             per_pupil="2025-09-01"),
        case("per-pupil 2026 date overrides the derived 2025 transfer", Y5_IN_2023, "2024-06-01",
             "2024-04-15", "2025-03-17", None, per_pupil="2026-09-01"),
        case("per-pupil mid-year move in Y6: T - 1 year = 21 Apr 2024: binds", Y5_IN_2023, "2024-06-01",
             "2024-04-15", "2025-03-17", transfer(6, "2025-04-21", "2025-02-14", "2024-11-22"),
             per_pupil="2025-04-21"),
        case("per-pupil post-16 date: k = 11 on 31 Aug 2026 -> 30 Mar", Y11_IN_2025, "2025-10-01",
             "2024-11-12", "2025-10-14", Y11_2026, settings=NO_DERIVED, per_pupil="2026-09-01"),
    ],
)  # fmt: skip
def test_binding_transfer(
    dob: str,
    recorded: int | None,
    per_pupil: str | None,
    today: str,
    anchor: str,
    latest: str,
    settings: RuleSettings,
    expected: PhaseTransfer | None,
) -> None:
    facts = ReviewFacts(
        dob=D(dob), last_review=D(anchor), recorded_year=recorded, transfer_date=D(per_pupil) if per_pupil else None
    )
    assert binding_transfer(facts, D(today), D(anchor), D(latest), settings) == expected


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        pytest.param("2025-09-01", "2024-09-01", id="1 Sep"),
        pytest.param("2028-02-29", "2027-02-28", id="29 Feb transfer: 12 months before starts 28 Feb"),
    ],
)
def test_twelve_months_before(t: str, expected: str) -> None:
    assert twelve_months_before(D(t)) == D(expected)
