"""The invitation's .ics written directly (functions/invitation_ics.py, issue 16) against what the icalendar package
writes for the same event: the same bytes, case by case and for drawn names, and icalendar reads ours back."""

from __future__ import annotations

from datetime import date

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.invitation_ics import _with_icalendar, invitation_ics

BASE: dict[str, object] = {
    "uid": "ar-2025-3f9a2c@review-keeper",
    "meeting": date(2025, 11, 14),
    "sequence": 0,
    "summary": "Annual review meeting: Evie L.",
    "school_name": "Hillside Academy",
    "organiser_email": "sendco@hillside.example",
    "organiser_name": "Sam Taylor",
    "attendee_email": "ep@la.example",
    "stamp": date(2025, 10, 1),
}
LONG = "Annual review meeting for Maximilian-Alexander W. (Year 9, phase transfer review)"
CASES: list[tuple[str, dict[str, object]]] = [
    ("plain", {}),
    ("rescheduled", {"sequence": 2, "meeting": date(2025, 12, 31)}),
    ("no organiser email", {"organiser_email": None}),
    ("name needing quotes", {"organiser_name": "Mrs O'Neil, SENDCo"}),
    ("one-word organiser", {"organiser_name": "SENDCo"}),
    ("curly apostrophe", {"organiser_name": "Mrs O\u2019Neil"}),
    ("commas and semicolons", {"school_name": "St. Mary's, Hillside; C of E", "summary": "Review: a, b; c"}),
    ("backslash and \\N", {"summary": "Back\\slash and \\N too", "school_name": "A\\B"}),
    ("line breaks", {"summary": "one\ntwo\r\nthree\rfour"}),
    ("long summary", {"summary": LONG * 2}),
    ("non-ASCII folded", {"summary": "Réunion annuelle: Zoë Łukasiewicz-Ó Súilleabháin " * 3}),
    ("escape at the fold", {"summary": "x" * 64 + ",,,,,,,,,,,,,,,"}),
    ("emoji", {"school_name": "Ysgol 🌳 Bro Ddyfi", "organiser_name": "Siân Ŵyn"}),
    ("caret in the name (icalendar itself)", {"organiser_name": 'A^B "Sam"\nTaylor'}),
]


@pytest.mark.parametrize(("case", "changes"), CASES, ids=[c[0] for c in CASES])
def test_the_ics_is_icalendars(case: str, changes: dict[str, object]) -> None:
    fields = {**BASE, **changes}
    ours = invitation_ics(**fields)  # type: ignore[arg-type]
    assert ours == _with_icalendar(**fields)  # type: ignore[arg-type]
    event = icalendar.Calendar.from_ical(ours).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == str(fields["summary"]).replace("\r\n", "\n").replace("\r", "\n").replace(
        "\\N", "\n"
    )
    assert event.decoded("DTSTART") == fields["meeting"]
    assert int(event["SEQUENCE"]) == fields["sequence"]
    assert all(len(line) <= 75 for line in ours.split(b"\r\n"))


_TEXT = st.text(st.characters(), max_size=150)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(summary=_TEXT, school=_TEXT, organiser=_TEXT, uid=st.text(max_size=40))
def test_any_names_give_icalendars_bytes(summary: str, school: str, organiser: str, uid: str) -> None:
    fields = {**BASE, "summary": summary, "school_name": school, "organiser_name": organiser, "uid": uid}
    try:
        expected: bytes | type[BaseException] = _with_icalendar(**fields)  # type: ignore[arg-type]
    except Exception as exc:
        expected = type(exc)
    try:
        got: bytes | type[BaseException] = invitation_ics(**fields)  # type: ignore[arg-type]
    except Exception as exc:
        got = type(exc)
    assert got == expected


def test_a_name_that_cannot_be_encoded_is_refused_like_icalendar() -> None:
    fields = {**BASE, "summary": "Ann \ud800 S."}
    with pytest.raises(UnicodeEncodeError):
        _with_icalendar(**fields)  # type: ignore[arg-type]
    with pytest.raises(UnicodeEncodeError):
        invitation_ics(**fields)  # type: ignore[arg-type]
