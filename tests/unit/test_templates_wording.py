"""The digest and request emails as a reader sees them: the date a meeting is needed by is the hold-by date (a school
day), and an overdue request never cites a date already gone."""

from __future__ import annotations

from datetime import date
from typing import Any

from functions.rendering import render

TODAY = date(2025, 10, 1)
SATURDAY_LATEST = date(2025, 11, 22)  # meeting_latest can fall on a weekend ...
FRIDAY_TARGET = date(2025, 11, 21)  # ... the hold-by date is the school day on or before it


def digest(**urgent: Any) -> tuple[str, str]:
    return render(
        "digest",
        today=TODAY,
        school_name="Oakfield",
        sendco_name="Sam Taylor",
        reasons=[],
        urgent=[{"label": "Row 7, Chloé D.", "status": "DUE SOON", "new": False, **urgent}],
        actions=[],
        awaited=[],
        unanswered=[],
        max_chasers=3,
        soon=[],
        late=[],
        issues=[],
        notes=[],
        counts={"request": 0, "chaser": 0, "invitation": 0},
    )


def test_digest_meeting_needed_by_is_the_hold_by_date() -> None:
    text, html = digest(meeting_latest=SATURDAY_LATEST, meeting_target=FRIDAY_TARGET)
    for body in (text, html):
        assert "meeting needed by Fri 21 Nov 2025" in body
        assert "22 Nov" not in body


def request(**over: Any) -> tuple[str, str]:
    context: dict[str, Any] = {
        "pupil": "Freya C.",
        "first_name": "Freya",
        "greeting": "Jo Patel",
        "role": "Class teacher",
        "is_parent": False,
        "is_young_person": False,
        "due": date(2025, 9, 1),
        "due_passed": True,
        "meeting": date(2025, 9, 22),
        "meeting_planned": False,
        "link": None,
        "school_name": "Oakfield",
        "sendco_name": "Sam Taylor",
        "sendco_email": None,
        "chaser_number": 0,
        "max_chasers": 3,
        "rescheduled": False,
        "previous_meeting": None,
    }
    context.update(over)
    return render("request", **context)


def test_overdue_request_cites_no_past_date_and_ends_its_sentences() -> None:
    text, html = request()
    for body in (text, html):
        assert "1 Sep 2025" not in body
        assert "had hoped" not in body
        assert "as soon as you can?" in body
        assert "so it would be a great help. Replying to this email" in body


def test_request_in_time_still_gives_the_date() -> None:
    text, html = request(due_passed=False, due=date(2025, 10, 20))
    assert "Could you send it by Mon 20 Oct 2025?" in text
    assert "<strong>Mon 20 Oct 2025</strong>?" in html
