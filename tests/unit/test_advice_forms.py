"""The role forms and the Advice tab contract (sheet_schema/advice.py; docs/register.md s8)."""

from __future__ import annotations

from datetime import datetime

import pytest

from sheet_schema.advice import (
    ADVICE_HEADERS,
    CELL_LIMIT,
    CUT_NOTE,
    FORMS,
    Submission,
    advice_row,
    clean_answer,
    cut,
    form_kind,
    newest_per_contributor,
    parse_advice,
    pupil_key,
    submitted_time,
)


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        ("Parent/carer", "parent"),
        ("Mum", "parent"),
        ("Young person", "child"),
        ("Child's views", "child"),
        ("pupil", "child"),
        ("Class teacher", "teacher"),
        ("Subject teacher", "teacher"),
        ("TA", "teacher"),
        ("Teaching assistant", "teacher"),
        ("EP", "professional"),
        ("SALT", "professional"),
        ("OT", "professional"),
        ("Health", "professional"),
        ("Paediatrician", "professional"),
        ("Social worker", "professional"),
        ("Other", "professional"),
        ("Careers adviser", "professional"),
    ],
)
def test_each_role_gets_its_form(role: str, kind: str) -> None:
    assert form_kind(role) == kind


def test_parent_form_asks_adult_life_only_from_year_9_and_the_personal_budget_always() -> None:
    parent = FORMS["parent"]
    before = [p.key for p in parent.prompts_for(year9=False)]
    after = [p.key for p in parent.prompts_for(year9=True)]
    assert "hopes_adult" not in before
    assert "hopes_adult" in after
    assert "personal_budget" in before
    budget = next(p for p in parent.prompts if p.key == "personal_budget")
    assert budget.choices == ("Yes", "No", "Not sure yet")


def test_child_form_is_short_optional_and_says_an_adult_may_write() -> None:
    child = FORMS["child"]
    labels = [p.label for p in child.prompts_for(year9=False)]
    assert labels[:4] == [
        "What I like and am good at",
        "What is hard for me",
        "What helps me",
        "What I want to happen next",
    ]
    assert "adult may write down what the child" in child.note
    assert not child.takes_files


def test_only_professionals_attach_reports() -> None:
    assert [k for k, f in FORMS.items() if f.takes_files] == ["professional"]
    assert {p.key for p in FORMS["professional"].prompts} == {"summary", "recommendations"}


def test_advice_headers_are_unique_and_start_with_the_keys() -> None:
    assert len(ADVICE_HEADERS) == len(set(ADVICE_HEADERS))
    assert ADVICE_HEADERS[:6] == ("Pupil", "Role", "Name", "Email", "Submitted at", "Nothing new to add")
    assert ADVICE_HEADERS[-2:] == ("Files", "Submission")


def test_long_text_is_cut_visibly() -> None:
    text = "x" * 5000
    assert len(cut(text)) == CELL_LIMIT
    assert cut(text).endswith(CUT_NOTE)
    assert cut("short") == "short"


def test_clean_answer_keeps_html_and_formulas_as_text_but_drops_control_characters() -> None:
    assert clean_answer("<script>alert(1)</script>") == "<script>alert(1)</script>"
    assert clean_answer("=cmd|' /C calc'!A0") == "=cmd|' /C calc'!A0"
    assert clean_answer("a\x00b\r\nc\x07") == "a b\nc"


def _submission(id_: str, at: datetime, **answers: str) -> Submission:
    return Submission(id_, "Freya Clarke", "Parent/carer", "Ann Clarke", "ann@example.org", at, answers)


def test_advice_row_round_trips_through_the_tab() -> None:
    sub = _submission("abc", datetime(2026, 11, 3, 9, 30), going_well="Reading", hard="x" * 3000)
    row = advice_row(sub)
    grid = [list(ADVICE_HEADERS), [row.get(h) for h in ADVICE_HEADERS]]
    (back,) = parse_advice(grid)
    assert back.id == "abc"
    assert back.submitted_at == datetime(2026, 11, 3, 9, 30)
    assert back.answers["going_well"] == "Reading"
    assert back.answers["hard"].endswith(CUT_NOTE)
    assert back.contribution_key == sub.contribution_key


def test_files_not_stored_are_said_in_the_files_cell_and_never_read_back_as_files() -> None:
    from sheet_schema.advice import StoredFile

    kept = StoredFile("EP-report-1.pdf", "ab" * 32, 10)
    sub = Submission(
        "s1", "Freya Clarke", "EP", "Dr Okafor", "ep@la.example.org", datetime(2026, 11, 3, 9), {}, False, (kept,), 2
    )
    cell = advice_row(sub)["Files"]
    assert cell == (
        "EP-report-1.pdf, (2 files attached but not stored: the storage did not answer; the contributor was asked to "
        "send again)"
    )
    (back,) = parse_advice([list(ADVICE_HEADERS), [advice_row(sub).get(h) for h in ADVICE_HEADERS]])
    assert [f.name for f in back.files] == ["EP-report-1.pdf"]
    assert Submission.from_json(sub.to_json()).files_not_kept == 2


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (datetime(2026, 11, 3, 9, 30), datetime(2026, 11, 3, 9, 30)),
        (46329.5, datetime(2026, 11, 3, 12, 0)),  # a Google Sheets serial: 3 Nov 2026 is 46329
        ("03/11/2026 09:30", datetime(2026, 11, 3, 9, 30)),
        ("2026-11-03T09:30:00", datetime(2026, 11, 3, 9, 30)),
        ("yesterday", datetime(1900, 1, 1)),
    ],
)
def test_submitted_time_reads_every_cell_form(cell: object, expected: datetime) -> None:
    assert submitted_time(cell) == expected


def test_newest_submission_wins() -> None:
    old = _submission("1", datetime(2026, 11, 1, 9, 0), going_well="old")
    new = _submission("2", datetime(2026, 11, 2, 9, 0), going_well="new")
    other = Submission("3", "Freya Clarke", "EP", "Dr O", "ep@example.org", datetime(2026, 11, 1, 8, 0))
    assert [s.id for s in newest_per_contributor([new, old, other])] == ["3", "2"]


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        ("B801200005001", "B801200005001"),
        ("Freya Clarke", "freya-clarke"),
        ("../../etc/passwd", "etc-passwd"),
        ("", "pupil"),
    ],
)
def test_pupil_key_is_a_safe_folder_name(ref: str, key: str) -> None:
    assert pupil_key(ref) == key
