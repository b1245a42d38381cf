"""Literal pupils, clocks and contributions for the email tests. Dates are written out, never computed by the rules."""

from __future__ import annotations

from datetime import date

from functions.links import LinkSigner
from functions.planning import MailPlanSettings
from review_rules.model import ReviewClock, ReviewFacts, Status
from sheet_schema.contributions import Contribution
from sheet_schema.model import PupilRecord, ReviewedPupil

DOB = date(2012, 3, 4)
UPN = "B801200005001"
SECRET = "test-secret-0123456789abcdef"
BASE_URL = "https://keeper.example.org"


def clock(
    *,
    status: Status = Status.PREPARE,
    meeting_anchor: date = date(2024, 11, 20),
    meeting_latest: date = date(2025, 11, 14),
    meeting_date: date = date(2025, 11, 14),
    planned: bool = False,
    requests_from: date = date(2025, 10, 6),
    contributions_due: date = date(2025, 10, 24),
    invites_by: date = date(2025, 10, 31),
    papers_by: date = date(2025, 10, 31),
    pfa: bool = True,
) -> ReviewClock:
    return ReviewClock(
        status=status,
        meeting_anchor=meeting_anchor,
        anchor_source="last_review",
        decision_anchor=meeting_anchor,
        window_end=date(2025, 11, 19),
        meeting_latest=meeting_latest,
        meeting_target=meeting_latest,
        meeting_date=meeting_date,
        meeting_is_planned=planned,
        planned_after_deadline=False,
        requests_from=requests_from,
        contributions_due=contributions_due,
        invites_by=invites_by,
        papers_by=papers_by,
        nc_year_at_review=9 if pfa else 7,
        pfa_required=pfa,
        phase_transfer=None,
        after_meeting=None,
        interim_review_by=None,
        end_of_compulsory_school=date(2028, 6, 30),
    )


def pupil(
    c: ReviewClock | None = None,
    *,
    row: int = 7,
    name: str = "Amira Khan",
    upn: str | None = UPN,
    parent_email: str | None = "parent.khan@example.org",
    status: Status | None = None,
) -> ReviewedPupil:
    c = c if c is not None else clock()
    first, _, last = name.partition(" ")
    record = PupilRecord(
        row=row,
        name=name,
        first_name=first,
        surname_initial=f"{last[:1]}." if last else "",
        upn=upn,
        facts=ReviewFacts(
            dob=DOB, last_review=c.meeting_anchor, planned_meeting=c.meeting_date if c.meeting_is_planned else None
        ),
        parent_email=parent_email,
    )
    return ReviewedPupil(record=record, clock=c, status=status or c.status)


def contribution(
    row: int,
    role: str,
    email: str | None,
    *,
    name: str = "",
    pupil_ref: str = UPN,
    requested: date | None = None,
    received: date | None = None,
    chasers: int = 0,
    last_chased: date | None = None,
    invited_for: date | None = None,
) -> Contribution:
    return Contribution(
        row=row,
        pupil_ref=pupil_ref,
        role=role,
        name=name,
        email=email,
        requested=requested,
        received=received,
        chasers=chasers,
        last_chased=last_chased,
        notes="",
        invited_for=invited_for,
    )


def settings(**overrides: object) -> MailPlanSettings:
    base: dict[str, object] = {
        "school_name": "Hillside Academy",
        "sendco_name": "Mrs Rachel Okafor",
        "sendco_email": "sendco@hillside.example",
        "signer": LinkSigner(SECRET, BASE_URL, school="hillside"),
    }
    base.update(overrides)
    return MailPlanSettings(**base)  # type: ignore[arg-type]
