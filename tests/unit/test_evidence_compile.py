"""Compiling contributors' submissions for the review record (reports/evidence.py)."""

from __future__ import annotations

from datetime import date, datetime

import docx

from reports.evidence import OTHER_AREA, add_evidence, compile_evidence
from sheet_schema.advice import StoredFile, Submission
from sheet_schema.contributions import Contribution


def sub(
    id_: str, role: str, at: datetime, name: str = "", files: tuple[StoredFile, ...] = (), **answers: str
) -> Submission:
    return Submission(
        id_, "Leo Fitzgerald", role, name, f"{role.lower().replace('/', '')}@example.org", at, answers, files=files
    )


def contribution(role: str, received: date | None = None, name: str = "") -> Contribution:
    email = f"{role.lower().replace('/', '')}@example.org"
    return Contribution(0, "Leo Fitzgerald", role, name, email, None, received, 0, None, "")


SUBMISSIONS = [
    sub("1", "EP", datetime(2026, 11, 2, 9, 0), "Dr Okafor", summary="Old summary", recommendations="Old."),
    sub(
        "2",
        "EP",
        datetime(2026, 11, 5, 9, 0),
        "Dr Okafor",
        files=(StoredFile("2026-11-05-ep-abc.pdf", "ab" * 32, 1200),),
        summary="Leo has made progress.",
        recommendations="Leo should visit the local college. He needs help to travel by bus. Weekly CAMHS sessions should continue. Keep the visual timetable.",
    ),
    sub(
        "3",
        "Parent/carer",
        datetime(2026, 11, 3, 18, 0),
        "Ann F",
        hopes_adult="We hope he can live in his own flat one day.",
        going_well="Reading",
    ),
    sub(
        "4",
        "Young person",
        datetime(2026, 11, 4, 12, 0),
        "Leo",
        likes="Football",
        when_older="I want a job with animals. I want to see my friends.",
    ),
]


def test_order_newest_wins_and_outstanding() -> None:
    contributions = [
        contribution("EP"),
        contribution("Parent/carer"),
        contribution("Young person"),
        contribution("SALT", name="Priya"),
        contribution("OT", received=date(2026, 11, 1)),
    ]
    compiled = compile_evidence(SUBMISSIONS, contributions, pfa_required=True)
    assert [e.role for e in compiled.child] == ["Young person"]
    assert compiled.child[0].answers[0] == ("What I like and am good at", "Football")
    assert [e.role for e in compiled.parents] == ["Parent/carer"]
    (ep,) = compiled.advice
    assert ep.submitted == date(2026, 11, 5)
    assert ("Summary of your advice", "Leo has made progress.") in ep.answers
    assert compiled.reports[0].sha256 == "ab" * 32
    assert compiled.reports[0].received == date(2026, 11, 5)
    assert compiled.outstanding == ("SALT (Priya)",)  # OT marked received by the SENDCo; the others sent their views


def test_pfa_areas_from_aspirations_and_recommendations() -> None:
    compiled = compile_evidence(SUBMISSIONS, [], pfa_required=True)
    areas = dict(compiled.pfa)
    assert ("The young person", "I want a job with animals.") in areas["Employment and higher education"]
    assert ("EP", "Leo should visit the local college.") in areas["Employment and higher education"]
    assert ("EP", "He needs help to travel by bus.") in areas["Independent living"]
    assert ("Parent/carer", "We hope he can live in his own flat one day.") in areas["Independent living"]
    assert ("The young person", "I want to see my friends.") in areas[
        "Participating in society (friends, relationships and community)"
    ]
    assert ("EP", "Weekly CAMHS sessions should continue.") in areas["Being healthy"]
    assert ("EP", "Keep the visual timetable.") in areas[OTHER_AREA]
    assert compile_evidence(SUBMISSIONS, [], pfa_required=False).pfa == ()


def test_rendered_child_first_in_their_own_words() -> None:
    document = docx.Document()
    add_evidence(document, compile_evidence(SUBMISSIONS, [], pfa_required=True))
    text = [p.text for p in document.paragraphs]
    child = text.index("The child's or young person's views")
    parents = text.index("Parents' and carers' views")
    assert child < parents < text.index("Advice received")
    assert "\u201cFootball\u201d" in text[child:parents]
    assert document.tables[0].rows[1].cells[3].text == "ab" * 32


def test_pfa_areas_are_the_records_own() -> None:
    from reports import record
    from reports.evidence import PFA_AREAS

    assert tuple(area for area, _ in PFA_AREAS) == record.PFA_AREAS
