"""The digest's "papers ready" summary (functions/digest_planning.py): from the week before papers_by (reg 20(4): two
weeks before the meeting), what has arrived and the one command that builds the pack and sends the links."""

from __future__ import annotations

from datetime import date

import pytest

from functions.rendering import plan_emails
from review_rules.model import Status
from tests.mail_fixtures import clock, contribution, pupil, settings

TEACHER = "teacher@school.example"

# The fixture's review: papers by Fri 31 Oct 2025, meeting Fri 14 Nov 2025; Monday is the weekly digest day.


@pytest.mark.parametrize(
    ("today", "shown"),
    [
        (date(2025, 10, 20), False),  # Mon: papers_by is 11 days away
        (date(2025, 10, 27), True),  # Mon: papers_by this week
        (date(2025, 11, 3), False),  # Mon: papers_by has passed
    ],
)
def test_papers_ready_in_the_week_before_papers_by(today: date, shown: bool) -> None:
    rows = [
        contribution(2, "Class teacher", TEACHER, requested=date(2025, 10, 6), received=date(2025, 10, 20)),
        contribution(3, "EP", "ep@la.example", requested=date(2025, 10, 6)),
    ]
    p = pupil(clock(status=Status.PREPARE), parent_email=None)
    plan = plan_emails([p], rows, today=today, settings=settings())
    (digest,) = [e for e in plan.emails if e.kind == "digest"]
    assert ("PAPERS READY TO CIRCULATE" in digest.text) is shown
    if shown:
        assert (
            "send by Fri 31 Oct 2025; 1 of 2 contributions in. Run: python main.py papers REGISTER --pupil 7 --send"
            in digest.text
        )
        assert "Papers ready to circulate" in digest.html
