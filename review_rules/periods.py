"""Every statutory day count the product uses, each with its source (docs/rules.md).

The only place these numbers are stated: the clock, the email planner, the review records and the overview import
them from here. A lawyer can check this file line by line against the regulations it cites.
"""

from __future__ import annotations

# CoP 9.169 / reg 20(10): the LA's decision is due 4 weeks after the meeting and is expected inside the 12 months.
DECISION_WEEKS_DAYS = 28
# docs/rules.md s9: DUE SOON from 4 weeks before meeting_latest.
DUE_SOON_DAYS = 28
# Reg 20(3): at least two weeks' notice of the meeting.
INVITES_DAYS = 14
# Reg 20(4): advice circulated at least two weeks before the meeting.
PAPERS_DAYS = 14
# A full week to compile the contributions before they are circulated (reg 20(4) timing): counted back from the
# invitations date after it has moved to a school day (docs/rules.md s6).
CONTRIBUTIONS_BEFORE_INVITES_DAYS = 7
# Requests for advice go out 6 weeks ahead; 10 weeks for Year 9+ and phase transfer reviews (more contributors).
REQUESTS_DAYS = 42
REQUESTS_EXTENDED_DAYS = 70
# Reg 20(7)-(8): the school's report within 2 weeks of the meeting.
REPORT_DAYS = 14
# Reg 20(10): the LA's decision within 4 weeks of the meeting.
DECISION_DAYS = 28
# Reg 22(3) and Devon [2022] EWHC 493 (Admin): the final amended plan within 8 weeks of the amendment notice, and
# within 12 weeks of the meeting.
FINAL_AFTER_NOTICE_DAYS = 56
FINAL_AFTER_MEETING_DAYS = 84
# Reg 18 with reg 20(10) and reg 22(3): the meeting of a binding phase transfer review is due 4 + 8 weeks before the
# date the amended plan must be final.
DAYS_FROM_MEETING_TO_FINAL_PLAN = 84
# Reg 18(2): a post-16 transfer at any other time than 1 September needs the plan final five months before it.
POST16_MIDYEAR_MONTHS = 5
# Reg 20(6), 21(6); CoP 8.9-8.12: preparing for adulthood from Year 9.
PFA_FROM_YEAR = 9
# CoP 9.178: consider reviews every 3-6 months for children under 5.
UNDER_FIVES_AGE = 5
UNDER_FIVES_INTERIM_MONTHS = 6
