"""The evidence in a review record (docs/register.md s8): what contributors sent, compiled for the meeting.

Order follows the Code of Practice: the child's or young person's views first, in their own words (CoP 9.166, 1.1-1.6),
then the parents' (CoP 9.166), then each piece of advice under its role with its date (reg 20(1)). From Year 9 the
preparing-for-adulthood outcomes (CoP 8.9-8.12, reg 20(6)) are drawn from the young person's aspirations, the parents'
hopes for adult life and every recommendation, sorted into the four PfA areas. Then the attached reports with their
received dates and SHA-256 (so a copy can be checked against what arrived), and what is still outstanding.
The newest submission from each contributor is the one used (sheet_schema.advice.newest_per_contributor).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sheet_schema.advice import FORMS, Submission, form_kind, newest_per_contributor, pupil_key
from sheet_schema.contributions import Contribution, contribution_key

if TYPE_CHECKING:  # a sweep compiles evidence without writing a record: python-docx loads only with one (issue 16)
    from docx.document import Document as DocxDocument

# The four preparing-for-adulthood areas (CoP 8.9) and words that place a sentence in one.
PFA_AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Employment and higher education",
        ("job", "work", "career", "college", "want to be", "become", "be a ", "be an ", "universit", "apprentic", "training", "employ", "volunteer",
         "qualification", "gcse", "course", "sixth form", "post-16", "internship", "supported internship"),
    ),
    (
        "Independent living",
        ("live", "home", "cook", "money", "travel", "bus", "train", "shop", "independen", "flat", "dress", "wash",
         "self-care", "budget"),
    ),
    (
        "Participating in society (friends, relationships and community)",
        ("friend", "club", "communit", "social", "relationship", "activit", "sport", "hobby", "hobbies", "leisure",
         "group", "youth"),
    ),
    (
        "Being healthy",
        ("health", "doctor", "gp", "medic", "therap", "sleep", "eat", "diet", "exercise", "mental", "wellbeing",
         "anxiety", "hospital", "nurse", "camhs", "dentist", "fit"),
    ),
)  # fmt: skip
OTHER_AREA = "Other aspirations and recommendations"


def _starts_a_word(text: str, word: str) -> bool:
    """`word` appears at the start of a word in `text` ("work" in "homework" does not count; in "working" it does).
    Plain string search, linear in the text: no pattern is built from data."""
    at = text.find(word)
    while at != -1:
        if at == 0 or not text[at - 1].isalnum():
            return True
        at = text.find(word, at + 1)
    return False


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Entry:
    role: str
    name: str
    submitted: date
    answers: tuple[tuple[str, str], ...]  # (question as asked, answer), in form order
    nothing_new: bool


@dataclass(frozen=True)
class KeptReport:
    name: str
    role: str
    received: date
    sha256: str
    folder: str = ""  # the pupil's evidence folder (sheet_schema.advice.pupil_key of the contributor's row)


@dataclass(frozen=True)
class CompiledEvidence:
    child: tuple[Entry, ...] = ()
    parents: tuple[Entry, ...] = ()
    advice: tuple[Entry, ...] = ()
    pfa: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # (area, ((source, sentence), ...))
    reports: tuple[KeptReport, ...] = ()
    outstanding: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


def _entry(submission: Submission) -> Entry:
    form = FORMS[form_kind(submission.role)]
    answers = tuple(
        (p.label, submission.answers[p.key]) for p in form.prompts if submission.answers.get(p.key, "").strip()
    )
    return Entry(submission.role, submission.name, submission.submitted_at.date(), answers, submission.nothing_new)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _pfa(submissions: Sequence[Submission]) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    found: dict[str, list[tuple[str, str]]] = {area: [] for area, _ in PFA_AREAS}
    found[OTHER_AREA] = []
    for submission in submissions:
        kind = form_kind(submission.role)
        keys: tuple[str, ...] = {"child": ("when_older", "want_next"), "parent": ("hopes_adult",)}.get(
            kind, ("recommendations",)
        )
        source = {"child": "The young person", "parent": "Parent/carer"}.get(kind, submission.role)
        for key in keys:
            for sentence in _sentences(submission.answers.get(key, "")):
                lowered = sentence.casefold()
                areas = [area for area, words in PFA_AREAS if any(_starts_a_word(lowered, w) for w in words)]
                for area in areas or [OTHER_AREA]:
                    found[area].append((source, sentence))
    return tuple((area, tuple(items)) for area, items in found.items() if items or area != OTHER_AREA)


def compile_evidence(
    submissions: Sequence[Submission], contributions: Sequence[Contribution], *, pfa_required: bool
) -> CompiledEvidence:
    """One pupil's evidence: `submissions` and `contributions` already narrowed to that pupil."""
    newest = newest_per_contributor(submissions)
    child = tuple(_entry(s) for s in newest if form_kind(s.role) == "child")
    parents = tuple(_entry(s) for s in newest if form_kind(s.role) == "parent")
    advice = tuple(_entry(s) for s in newest if form_kind(s.role) not in {"child", "parent"})
    reports = tuple(
        KeptReport(f.name, s.role, s.submitted_at.date(), f.sha256, pupil_key(s.pupil_ref))
        for s in newest
        for f in s.files
    )
    submitted = {s.contribution_key for s in newest}
    outstanding = tuple(
        f"{c.role}{f' ({c.name})' if c.name else ''}"
        for c in contributions
        if not c.is_received and contribution_key(c.pupil_ref, c.role, c.email or "") not in submitted
    )
    return CompiledEvidence(
        child=child,
        parents=parents,
        advice=advice,
        pfa=_pfa(newest) if pfa_required else (),
        reports=reports,
        outstanding=outstanding,
    )


def _entries(document: DocxDocument, entries: Sequence[Entry], *, quote: bool) -> None:
    for entry in entries:
        who = f"{entry.role}{f': {entry.name}' if entry.name else ''}"
        document.add_heading(f"{who} (sent {entry.submitted:%d/%m/%Y})", level=3)
        if entry.nothing_new and not entry.answers:
            document.add_paragraph("Nothing new to add since the last review.")
        for question, answer in entry.answers:
            document.add_paragraph(question).runs[0].bold = True
            for line in answer.split("\n"):
                paragraph = document.add_paragraph(f"\u201c{line}\u201d" if quote and line.strip() else line)
                if quote:
                    paragraph.style = document.styles["Quote"]


def add_views(document: DocxDocument, entries: Sequence[Entry], *, child: bool) -> bool:
    """The child's (quoted, in their own words) or the parents' views under the current heading; False when none."""
    if not entries:
        return False
    _entries(document, entries, quote=child)
    return True


def add_advice(document: DocxDocument, compiled: CompiledEvidence, *, level: int = 1) -> None:
    """Each contribution under its role with its date, the reports kept (received date, SHA-256), what is awaited."""
    document.add_heading("Advice received", level=level)
    if compiled.advice:
        _entries(document, compiled.advice, quote=False)
    else:
        document.add_paragraph("None received through the contributors' links yet.")
    document.add_heading("Reports attached", level=level + 1)
    if compiled.reports:
        table = document.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("File", "From", "Received", "SHA-256"), strict=True):
            cell.text = text
        for report in compiled.reports:
            values = (report.name, report.role, f"{report.received:%d/%m/%Y}", report.sha256)
            for cell, text in zip(table.add_row().cells, values, strict=True):
                cell.text = text
        document.add_paragraph("The files are in the pupil's evidence folder; the SHA-256 identifies each exactly.")
    else:
        document.add_paragraph("No reports have been sent through the contributors' links.")
    document.add_heading("Still outstanding", level=level + 1)
    if compiled.outstanding:
        for item in compiled.outstanding:
            document.add_paragraph(item, style="List Bullet")
    else:
        document.add_paragraph("Nothing: every contribution asked for has arrived.")


def pfa_lines(compiled: CompiledEvidence, area: str) -> tuple[tuple[str, str], ...]:
    """(source, sentence) for one preparing-for-adulthood area, as compiled."""
    return next((items for name, items in compiled.pfa if name == area), ())


def aspirations(compiled: CompiledEvidence) -> tuple[str, ...]:
    """The young person's own words about adult life ("When I am older I would like to"), newest submission."""
    return tuple(answer for entry in compiled.child for q, answer in entry.answers if q.startswith("When I am older"))


def add_pfa_lines(document: DocxDocument, items: Sequence[tuple[str, str]]) -> None:
    for source, sentence in items:
        document.add_paragraph(f"{source}: {sentence}", style="List Bullet")


def add_evidence(document: DocxDocument, compiled: CompiledEvidence) -> None:
    """Every evidence section in order, for a document of its own (reports/record.py places them in the record)."""
    document.add_heading("The child's or young person's views", level=2)
    if not add_views(document, compiled.child, child=True):
        document.add_paragraph("Not yet received: record the child's views, in their own words, before the meeting.")
    document.add_heading("Parents' and carers' views", level=2)
    if not add_views(document, compiled.parents, child=False):
        document.add_paragraph("Not yet received.")
    add_advice(document, compiled, level=2)
    if compiled.pfa:
        document.add_heading("Preparing for adulthood: what was said", level=2)
        for area, items in compiled.pfa:
            document.add_heading(area, level=3)
            add_pfa_lines(document, items)


__all__ = [
    "OTHER_AREA",
    "PFA_AREAS",
    "CompiledEvidence",
    "Entry",
    "KeptReport",
    "add_advice",
    "add_evidence",
    "add_pfa_lines",
    "add_views",
    "aspirations",
    "compile_evidence",
    "pfa_lines",
]
