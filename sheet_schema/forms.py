"""The contributors' forms (docs/register.md s8): what each role is asked. Pure data.

Each Contributions role (docs/register.md s6) gets a short form that fits it. The prompts follow the SEND Code of
Practice: advice and information from parents, the child and professionals (CoP 9.166-9.168, reg 20(1)), the child's
own views first (CoP 1.1-1.6), preparing for adulthood from Year 9 (CoP 8.9-8.12), and the personal budget question
(CoP 9.168: the review should consider whether a personal budget is wanted). Every form accepts "I have nothing new to
add" as a whole answer: a professional who has nothing to add still counts as having contributed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .contributions import PARENT, canonical_role
from .fields import normalise_header

PARENT_FORM = "parent"
CHILD_FORM = "child"
TEACHER_FORM = "teacher"
PROFESSIONAL_FORM = "professional"

BUDGET_CHOICES: tuple[str, ...] = ("Yes", "No", "Not sure yet")
WRITER_CHOICES: tuple[str, ...] = ("I wrote it myself", "An adult wrote down what I said or drew")


@dataclass(frozen=True)
class Prompt:
    """One question. `key` names its answer everywhere (form field, stored text); `header` its Advice column."""

    key: str
    header: str
    label: str
    hint: str = ""
    year9_only: bool = False  # preparing for adulthood (CoP 8.9): shown only for reviews in Year 9 or later
    choices: tuple[str, ...] = ()  # radio buttons instead of a text box


@dataclass(frozen=True)
class RoleForm:
    kind: str
    title: str
    intro: str
    prompts: tuple[Prompt, ...]
    takes_files: bool = False
    note: str = ""  # shown above the prompts

    def prompts_for(self, year9: bool) -> tuple[Prompt, ...]:
        return tuple(p for p in self.prompts if year9 or not p.year9_only)


_RECOMMENDATIONS = Prompt(
    "recommendations",
    "Recommendations",
    "Your recommendations",
    "What should change in the plan or the support, and what should the outcomes be?",
)

FORMS: Mapping[str, RoleForm] = {
    PARENT_FORM: RoleForm(
        PARENT_FORM,
        "Your views for the annual review",
        "Answer as much or as little as you like. You can come back with the same link and change your answers.",
        (
            Prompt("going_well", "Going well", "What is going well for your child?"),
            Prompt("hard", "Hard", "What is hard for your child at the moment?"),
            Prompt("change", "Would like to change", "What would you like to change?"),
            Prompt("hopes_year", "Hopes next year", "What are your hopes for your child for the next year?"),
            Prompt(
                "hopes_adult",
                "Hopes adult life",
                "What are your hopes for your child's adult life?",
                "For example work or college, where they will live, friends and community, and health.",
                year9_only=True,
            ),
            Prompt(
                "personal_budget",
                "Personal budget",
                "Would you like to talk about a personal budget at the review?",
                "A personal budget is money the council sets aside so that you can have a say in how some of the "
                "support in the plan is arranged.",
                choices=BUDGET_CHOICES,
            ),
        ),
    ),
    CHILD_FORM: RoleForm(
        CHILD_FORM,
        "My views",
        "Every question is optional. Short answers are fine.",
        (
            Prompt("likes", "Likes and good at", "What I like and am good at"),
            Prompt("hard_for_me", "Hard for me", "What is hard for me"),
            Prompt("helps_me", "Helps me", "What helps me"),
            Prompt("want_next", "Want next", "What I want to happen next"),
            Prompt(
                "when_older",
                "When I am older",
                "When I am older I would like to",
                "For example a job, college, where I live, friends, staying healthy.",
                year9_only=True,
            ),
            Prompt("written_by", "Written by", "Who wrote these answers?", choices=WRITER_CHOICES),
        ),
        note="An adult may write down what the child or young person said or drew, in their own words.",
    ),
    TEACHER_FORM: RoleForm(
        TEACHER_FORM,
        "Your advice for the annual review",
        "Short answers are fine: this should take about ten minutes.",
        (
            Prompt("progress", "Progress towards outcomes", "Progress towards the plan's outcomes"),
            Prompt("attainment", "Attainment", "Attainment, in a sentence"),
            Prompt("working", "Provision working", "What provision is working"),
            Prompt("not_working", "Provision not working", "What provision is not working"),
            _RECOMMENDATIONS,
        ),
    ),
    PROFESSIONAL_FORM: RoleForm(
        PROFESSIONAL_FORM,
        "Your advice for the annual review",
        "Give a short summary and your recommendations here, and attach your report.",
        (
            Prompt("summary", "Summary", "Summary of your advice"),
            _RECOMMENDATIONS,
        ),
        takes_files=True,
    ),
}

_TEACHER_ROLES = frozenset({"Class teacher", "Subject teacher", "Teaching assistant"})
_TEACHING_ASSISTANT = frozenset(
    normalise_header(w) for w in ("TA", "Teaching assistant", "LSA", "Learning support assistant", "HLTA")
)


def form_kind(role: object) -> str:
    """Which form a Contributions role gets: Parent/carer, Young person, teachers and TAs, else a professional's."""
    canonical = canonical_role(role)
    if canonical == PARENT:
        return PARENT_FORM
    if canonical == "Young person":
        return CHILD_FORM
    text = normalise_header(role)
    if canonical in _TEACHER_ROLES or text in _TEACHING_ASSISTANT or text.startswith("teachingassistant"):
        return TEACHER_FORM
    if text in {"childsviews", "childviews", "views", "pupilviews"}:
        return CHILD_FORM
    return PROFESSIONAL_FORM


def form_for(role: object) -> RoleForm:
    return FORMS[form_kind(role)]


def all_prompts() -> tuple[Prompt, ...]:
    """Every prompt once, in form order (a prompt shared by two forms, Recommendations, has one column)."""
    seen: dict[str, Prompt] = {}
    for form in FORMS.values():
        for prompt in form.prompts:
            seen.setdefault(prompt.key, prompt)
    return tuple(seen.values())


__all__ = [
    "BUDGET_CHOICES",
    "CHILD_FORM",
    "FORMS",
    "PARENT_FORM",
    "PROFESSIONAL_FORM",
    "TEACHER_FORM",
    "WRITER_CHOICES",
    "Prompt",
    "RoleForm",
    "all_prompts",
    "form_for",
    "form_kind",
]
