"""The statutory EHC plan annual review clock (England): pure functions over `datetime.date`.

See docs/rules.md. Imports only the standard library, `holidays` and `dateutil`.
"""

from review_rules.clock import compute_review
from review_rules.dates import (
    add_months_clamped,
    anniversary,
    end_of_compulsory_school,
    format_date,
    last_friday_in_june,
    window_end,
)
from review_rules.model import (
    DEFAULT_CLOSURES_MONTH_DAY,
    AfterMeeting,
    Anchor,
    Decision,
    Period,
    PhaseTransfer,
    ReviewClock,
    ReviewFacts,
    RuleSettings,
    Status,
)
from review_rules.school_days import SchoolCalendar, bank_holidays, calendar_for
from review_rules.transfers import binding_transfer
from review_rules.year_groups import age_on, ay_start, nc_year_from_dob, pupil_year, year_at

__all__ = [
    "DEFAULT_CLOSURES_MONTH_DAY",
    "AfterMeeting",
    "Anchor",
    "Decision",
    "Period",
    "PhaseTransfer",
    "ReviewClock",
    "ReviewFacts",
    "RuleSettings",
    "SchoolCalendar",
    "Status",
    "add_months_clamped",
    "age_on",
    "anniversary",
    "ay_start",
    "bank_holidays",
    "binding_transfer",
    "calendar_for",
    "compute_review",
    "end_of_compulsory_school",
    "format_date",
    "last_friday_in_june",
    "nc_year_from_dob",
    "pupil_year",
    "window_end",
    "year_at",
]
