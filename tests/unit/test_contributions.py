"""The Contributions tab contract: finding the header, reading rows, matching pupils, seeding parent rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from review_rules.model import Status
from sheet_schema.contributions import (
    CONTRIBUTION_HEADERS,
    PARENT,
    find_contributions_tab,
    match_pupil,
    outstanding_by_pupil,
    outstanding_text,
    parse_contributions,
    seed_parent_rows,
)
from tests.mail_fixtures import UPN, contribution, pupil

HEADER = list(CONTRIBUTION_HEADERS)


def test_header_below_a_title_and_rows_parsed() -> None:
    rows: list[Sequence[object]] = [
        ["Hillside: contributions 2025-26"],
        [],
        ["pupil", "ROLE", "Name", "E-mail ", "Requested", "Received", "Chasers", "Last chased", "Notes"],
        [
            UPN,
            "educational psychologist",
            "Dr Patel",
            "ep@la.example",
            "06/10/2025",
            None,
            1.0,
            datetime(2025, 10, 13),
            "by phone",
        ],
        ["Amira Khan", "class teacher", "Ms Jones", "teacher@school.example", 45936, "yes", "", None, ""],
        [None, None, None, None],
    ]
    found, messages = parse_contributions(rows)
    # "E-mail" is not "Email" after normalising? It is: punctuation is ignored.
    assert messages == []
    ep, teacher = found
    assert (ep.row, ep.role, ep.requested, ep.chasers, ep.last_chased, ep.notes) == (
        4,
        "EP",
        date(2025, 10, 6),
        1,
        date(2025, 10, 13),
        "by phone",
    )
    assert (teacher.row, teacher.role, teacher.requested, teacher.is_received, teacher.received) == (
        5,
        "Class teacher",
        date(2025, 10, 6),
        True,
        None,
    )


def test_bad_rows_are_reported_and_the_rest_continue() -> None:
    rows: list[Sequence[object]] = [
        HEADER,
        [UPN, "EP", "", "ep@la.example", "next week", None, None, None, None],
        [UPN, "SALT", "", "salt@nhs.example", None, None, "lots", None, None],
        [UPN, "Wizard", "", "not-an-email", None, None, None, None, None],
        [None, "EP", "", "x@la.example", None, None, None, None, None],
        [UPN, "OT", "", "ot@nhs.example", "01/10/2025", None, None, None, None],
        [UPN, "ot", "", "OT@nhs.example", None, None, None, None, None],
    ]
    found, messages = parse_contributions(rows)
    assert [c.row for c in found] == [4, 6]
    assert found[0].role == "Wizard"
    assert found[0].email is None
    text = "\n".join(messages)
    assert 'Contributions row 2: "Requested" is "next week", which is not a date; write a date' in text
    assert 'row 3: "Chasers" is "lots", which is not a number of chasers' in text
    assert 'row 4: "Role" is "Wizard"' in text
    assert 'row 4: "Email" is "not-an-email"' in text
    assert 'row 5: "Pupil" is blank' in text
    assert "row 7 is the same pupil, role and email as row 6" in text


def test_missing_header_is_one_message_and_an_empty_tab_is_fine() -> None:
    assert parse_contributions([]) == ([], [])
    found, messages = parse_contributions([["just", "notes"]])
    assert found == []
    assert len(messages) == 1
    assert "Pupil, Role and Email" in messages[0]


def test_match_by_upn_else_name() -> None:
    amira = pupil(row=7)
    other = pupil(row=8, name="Ben Cole", upn="A123456789012")
    pupils = [amira, other]
    assert match_pupil(contribution(2, "EP", None, pupil_ref=UPN.lower()), pupils) is amira
    assert match_pupil(contribution(2, "EP", None, pupil_ref="  amira   KHAN "), pupils) is amira
    assert match_pupil(contribution(2, "EP", None, pupil_ref="Khan, Amira"), pupils) is amira
    assert match_pupil(contribution(2, "EP", None, pupil_ref="Amira"), pupils) is None
    assert match_pupil(contribution(2, "EP", None, pupil_ref="B999999999999"), pupils) is None


def test_seed_parent_rows() -> None:
    with_email = pupil(row=7)
    no_email = pupil(row=8, name="Ben Cole", upn=None, parent_email=None)
    has_row = pupil(row=9, name="Cara Dunn", upn=None, parent_email="dunn@example.org")
    left = pupil(row=10, name="Dan Eve", upn=None, parent_email="eve@example.org", status=Status.INACTIVE)
    # An INVALID row (here a UPN shared with another row) is seeded only once the SENDCo has fixed it.
    broken = pupil(row=11, name="Eli Fox", upn="B801200005001", parent_email="fox@example.org", status=Status.INVALID)
    existing = [contribution(2, PARENT, "dunn@example.org", pupil_ref="Cara Dunn")]
    seeded = seed_parent_rows([with_email, no_email, has_row, left, broken], existing)
    assert [(c.row, c.pupil_ref, c.role, c.email) for c in seeded] == [(0, UPN, PARENT, "parent.khan@example.org")]


def test_outstanding_text() -> None:
    p = pupil()
    rows = [
        contribution(2, "EP", "ep@la.example", requested=date(2025, 10, 6), chasers=2),
        contribution(3, "Class teacher", "t@s.example", requested=date(2025, 10, 6)),
        contribution(4, "SALT", "s@n.example", requested=date(2025, 10, 6), received=date(2025, 10, 9)),
        contribution(5, "OT", "o@n.example"),
    ]
    assert outstanding_text(p, rows, [p]) == "EP (2 chasers), Class teacher"


def test_outstanding_leaves_out_history_and_pupils_who_await_nothing() -> None:
    p = pupil()
    anchor = p.clock.meeting_anchor  # type: ignore[union-attr]
    history = contribution(2, "EP", "ep@la.example", requested=anchor - timedelta(days=1), chasers=3)
    current = contribution(3, "Class teacher", "t@s.example", requested=anchor)
    assert outstanding_text(p, [history, current], [p]) == "Class teacher"
    left = pupil(row=9, name="Dan Eve", upn=None, status=Status.INACTIVE)
    for_left = contribution(4, "SALT", "s@n.example", pupil_ref="Dan Eve", requested=anchor)
    assert outstanding_by_pupil([current, for_left], [p, left]) == {7: "Class teacher"}


def test_outstanding_counts_what_went_today() -> None:
    p = pupil()
    anchor = p.clock.meeting_anchor  # type: ignore[union-attr]
    ep = contribution(2, "EP", "ep@la.example", requested=anchor, chasers=1)
    teacher = contribution(3, "Class teacher", "t@s.example")
    went = {ep.key: {"Chasers": 2}, teacher.key: {"Requested": anchor + timedelta(days=3)}}
    assert outstanding_by_pupil([ep, teacher], [p], went) == {7: "EP (2 chasers), Class teacher"}
    assert outstanding_by_pupil([ep, teacher], [p]) == {7: "EP (1 chaser)"}


@dataclass(frozen=True)
class _Tab:
    title: str


def test_the_tab_is_found_whatever_its_case_and_spacing() -> None:
    for title in ("Contributions", "contributions", " CONTRIBUTIONS ", "contributions  "):
        tabs = [_Tab("Register"), _Tab(title)]
        assert find_contributions_tab(tabs) is tabs[1]
    assert find_contributions_tab([_Tab("Register"), _Tab("Contribution log")]) is None
