"""Role spellings SENDCos write on the Contributions tab -> the canonical role (sheet_schema/roles.py) -> the form the
link opens (sheet_schema/forms.py). Source: issue 12, Deliver 1 ("class/subject teacher and teaching assistant" share
a form) and docs/register.md s6 (roles) and s8 (forms). Each row is a literal spelling seen in registers."""

from __future__ import annotations

import pytest

from sheet_schema.contributions import contribution_key
from sheet_schema.forms import form_for, form_kind
from sheet_schema.roles import ROLES, canonical_role

TEACHER_FORM_TITLE = form_for("Class teacher").title

SPELLINGS: list[tuple[str, str | None, str]] = [
    # (as written, canonical role, form)
    ("Teaching assistant", "Teaching assistant", "teacher"),
    ("teaching assistant", "Teaching assistant", "teacher"),
    ("Teaching Assistant ", "Teaching assistant", "teacher"),
    ("TA", "Teaching assistant", "teacher"),
    ("ta", "Teaching assistant", "teacher"),
    ("T.A.", "Teaching assistant", "teacher"),
    ("LSA", "Teaching assistant", "teacher"),
    ("HLTA", "Teaching assistant", "teacher"),
    ("Learning support assistant", "Teaching assistant", "teacher"),
    ("Learning Support Assistant", "Teaching assistant", "teacher"),
    ("Higher level teaching assistant", "Teaching assistant", "teacher"),
    ("Class teacher", "Class teacher", "teacher"),
    ("Form tutor", "Class teacher", "teacher"),
    ("Subject teacher", "Subject teacher", "teacher"),
    ("Parent/carer", "Parent/carer", "parent"),
    ("Mum", "Parent/carer", "parent"),
    ("Young person", "Young person", "child"),
    ("Pupil", "Young person", "child"),
    ("Child's views", None, "child"),
    ("EP", "EP", "professional"),
    ("Speech and language therapist", "SALT", "professional"),
    ("School nurse", "Health", "professional"),
    ("Other", "Other", "professional"),
    # Not support staff: an unknown role stays unknown (treated as Other, with a warning), so a professional's form.
    ("Tutor agency", None, "professional"),
    ("Assistant head", None, "professional"),
]


@pytest.mark.parametrize(("written", "role", "kind"), SPELLINGS)
def test_role_spelling_maps_to_its_role_and_form(written: str, role: str | None, kind: str) -> None:
    assert canonical_role(written) == role
    assert form_kind(written) == kind


@pytest.mark.parametrize("written", ["TA", "LSA", "HLTA", "Learning support assistant", "Teaching assistant"])
def test_a_teaching_assistant_gets_the_teachers_form(written: str) -> None:
    form = form_for(written)
    assert form.title == TEACHER_FORM_TITLE
    assert [p.key for p in form.prompts][:2] == ["progress", "attainment"]
    assert not form.takes_files


def test_every_spelling_of_a_ta_is_one_contributor() -> None:
    # "TA" on the row and "Teaching assistant" in a link signed earlier must find the same Contributions row.
    keys = {
        contribution_key("Leo Fitzgerald", w, "a.b@school.example.org") for w in ("TA", "Teaching assistant", "T A")
    }
    assert len(keys) == 1
    assert "Teaching assistant" in ROLES


def test_a_link_signed_before_ta_was_a_known_role_still_finds_its_row() -> None:
    # Links carry the role's key as it was when the email went: "ta" for a "TA" row before this change. The row's key is
    # now "teaching assistant"; the link must still find it (and only it).
    from datetime import date

    from functions.links import LinkSigner
    from sheet_schema.contributions import parse_contributions

    signer = LinkSigner("roles-test-secret-0123456789abcdef")
    header = ["Pupil", "Role", "Name", "Email"]
    rows, _ = parse_contributions(
        [
            header,
            ["Leo Fitzgerald", "TA", "Sam Jones", "s.jones@oakfield.example.org"],
            ["Leo Fitzgerald", "Class teacher", "Sam Jones", "s.jones@oakfield.example.org"],
        ]
    )
    new_token = signer.token(
        pupil_ref="Leo Fitzgerald", role="TA", email="s.jones@oakfield.example.org", meeting=date(2026, 12, 10)
    )
    payload = signer._serializer.loads(new_token)  # the token's own fields, to remake one as the old code signed it
    assert payload["r"] == "teaching assistant"
    old_token = signer._serializer.dumps({**payload, "r": "ta"})
    for token in (new_token, old_token):
        claim = signer.verify(token, now=date(2026, 11, 29))
        found = signer.find_row(claim, rows)
        assert found is not None
        assert found.role == "Teaching assistant"
