"""The review record: one Word document per pupil that a SENDCo takes into the review meeting, edits and sends to the
LA (SEND Regulations 2014 reg 20; SEND Code of Practice 9.166-9.180).

The record is ready to use, not ready to start: the review's dates with the rule behind each, the contributions
received and awaited, the statutory invitees (reg 20(2)), the headings the meeting must cover (progress towards
outcomes, reg 20(5); the views of the child and parents, CFA 2014 s19), the preparing-for-adulthood headings from
Year 9 (reg 20(6); CoP 8.9-8.12) and the phase transfer when one binds (reg 18).

A date of birth or UPN is never written into the record or its file name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor

from review_rules.model import ReviewClock, RuleSettings, Status
from review_rules.periods import DECISION_DAYS, FINAL_AFTER_MEETING_DAYS, FINAL_AFTER_NOTICE_DAYS, REPORT_DAYS
from sheet_schema.model import ReviewedPupil

from .common import (
    RULES,
    STATUS_LABELS,
    ContributionLine,
    hold_by_rule,
    replaced_atomically,
    rule_for,
    safe_part,
    settings_lines,
    transfer_label,
    uk_date,
    year_label,
)
from .docx_helpers import BOX, GREY, dates_table, docx_safe, key_value_table, new_document, repeat_header, shade
from .record_sections import (
    HEADING_ABOUT,
    HEADING_ADULT_SERVICES,
    HEADING_CAREERS,
    HEADING_CONTRIBUTIONS,
    HEADING_DATES,
    HEADING_INVITEES,
    HEADING_OWN_RIGHTS,
    HEADING_PFA,
    HEADING_PROGRESS,
    HEADING_RECOMMENDATION,
    HEADING_TRANSFER,
    HEADING_VIEWS_CHILD,
    HEADING_VIEWS_PARENTS,
    PFA_AREAS,
    PFA_HEADINGS,
    STATUTORY_INVITEES,
    USUAL_CONTRIBUTORS,
    invitees_section,
    pfa_sections,
    progress_section,
    recommendation_section,
    views_sections,
)


def record_file_name(pupil: ReviewedPupil) -> str:
    """`review-record-row012-Amy-B.docx`: row number, first name, surname initial; no date of birth, no UPN."""
    record = pupil.record
    parts = [f"review-record-row{record.row:03d}"]
    first = safe_part(record.first_name)
    initial = safe_part(record.surname_initial)
    if first:
        parts.append(first)
    if initial:
        parts.append(initial[:1])
    return "-".join(parts) + ".docx"


def write_review_record(
    pupil: ReviewedPupil,
    *,
    today: date,
    school_name: str,
    settings: RuleSettings,
    out_dir: Path,
    contributions: Sequence[ContributionLine] = (),
) -> Path:
    """Write one pupil's review record into `out_dir` and return its path. The pupil must have a computed clock."""
    if pupil.clock is None or pupil.status is Status.INVALID:
        raise ValueError(f"row {pupil.record.row} has no computed review (INVALID row): fix the register first")
    clock = pupil.clock
    pupil, contributions, school_name = docx_safe(pupil, contributions, school_name)
    doc = new_document(pupil, today=today, school_name=school_name, settings=settings)

    _title(doc, pupil, clock, school_name=school_name, today=today, settings=settings)
    _pupil_table(doc, pupil, clock, school_name=school_name)
    _points_to_check(doc, pupil, clock)
    _dates_section(doc, clock)
    _after_last_meeting(doc, clock)
    if clock.phase_transfer is not None:
        _transfer_section(doc, clock)
    _contributions_section(doc, clock, contributions, looked_after=pupil.record.looked_after)
    invitees_section(doc)
    progress_section(doc)
    views_sections(doc)
    if clock.pfa_required:
        pfa_sections(doc, pupil, clock)
    recommendation_section(doc)
    _about_section(doc, today=today, settings=settings, clock=clock)

    path = out_dir / record_file_name(pupil)
    with replaced_atomically(path) as tmp:
        doc.save(str(tmp))
    return path


@dataclass(frozen=True)
class RecordFailure:
    """A record that could not be written; the others still were."""

    row: int
    reason: str


_log = logging.getLogger(__name__)


def write_review_records(
    pupils: Sequence[ReviewedPupil],
    *,
    today: date,
    school_name: str,
    settings: RuleSettings,
    out_dir: Path,
    contributions: Mapping[int, Sequence[ContributionLine]] | None = None,
    failures: list[RecordFailure] | None = None,
) -> list[Path]:
    """Write a record for every pupil with a review to hold: INVALID rows are skipped (they have no dates to show) and
    so are INACTIVE ones (left, ceased or transferred out: this school holds no review for them).

    `contributions` maps a register row number to that pupil's contribution lines. One pupil's record that cannot be
    written (a full disk, a folder refusing the name) never stops the others: it is added to `failures` when given,
    else the first failure is raised once every other record is written.
    """
    contributions = contributions or {}
    paths: list[Path] = []
    failed: list[RecordFailure] = []
    first_error: Exception | None = None
    for pupil in pupils:
        if pupil.clock is None or pupil.status in (Status.INVALID, Status.INACTIVE):
            continue
        try:
            path = write_review_record(
                pupil,
                today=today,
                school_name=school_name,
                settings=settings,
                out_dir=out_dir,
                contributions=contributions.get(pupil.record.row, ()),
            )
        except (OSError, ValueError) as exc:
            # The row and the kind of failure only: the message may hold the pupil's name (a file name).
            _log.warning("review record for row %s not written (%s)", pupil.record.row, type(exc).__name__)
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            failed.append(RecordFailure(pupil.record.row, reason))
            first_error = first_error or exc
            continue
        paths.append(path)
    if failures is not None:
        failures.extend(failed)
    elif first_error is not None:
        raise first_error
    return paths


# --- document building blocks -------------------------------------------------------------------------------------


def _title(
    doc: DocxDocument,
    pupil: ReviewedPupil,
    clock: ReviewClock,
    *,
    school_name: str,
    today: date,
    settings: RuleSettings,
) -> None:
    doc.add_heading(f"Annual review record: {pupil.record.name}", level=0)
    p = doc.add_paragraph()
    run = p.add_run(f"{school_name}. Review of the EHC plan under CFA 2014 s44 and SEND Regulations 2014 reg 20.")
    run.italic = True
    p = doc.add_paragraph()
    run = p.add_run(f"Computed for {uk_date(today)}; the settings used are listed at the end.")
    run.font.size = Pt(9)
    run.font.color.rgb = GREY


def _pupil_table(doc: DocxDocument, pupil: ReviewedPupil, clock: ReviewClock, *, school_name: str) -> None:
    record = pupil.record
    if clock.meeting_is_planned:
        meeting = f"{uk_date(clock.meeting_date)} (planned)"
    else:
        meeting = f"Not yet booked: hold by {uk_date(clock.meeting_target)}"
    rows = [
        ("Pupil", record.name),
        ("Year group at the review", year_label(clock.nc_year_at_review)),
        ("Home local authority", record.la or "Not recorded in the register"),
        ("School", school_name),
        ("Review meeting", meeting),
        ("Status today", STATUS_LABELS[pupil.status]),
    ]
    if record.looked_after:
        rows.append(("Looked after", "Yes: invite the social worker and the Virtual School Head"))
    if clock.pfa_required:
        rows.append(("Preparing for adulthood", "Required: Year 9 or later at the review (reg 20(6))"))
    if clock.phase_transfer is not None:
        pt = clock.phase_transfer
        rows.append(
            (
                "Phase transfer",
                f"{transfer_label(pt.from_year, pt.to_post16)}: amended plan final by {uk_date(pt.final_by)}",
            )
        )
    key_value_table(doc, rows)


def _points_to_check(doc: DocxDocument, pupil: ReviewedPupil, clock: ReviewClock) -> None:
    points = list(pupil.warnings)
    if clock.planned_after_deadline and not any("after" in w.lower() for w in points):
        points.append(
            f"The planned meeting ({uk_date(clock.meeting_date)}) is after the latest date "
            f"({uk_date(clock.meeting_latest)}): bring it forward."
        )
    if clock.interim_review_by is not None:
        points.append(
            f"Under five: an interim review is advised by {uk_date(clock.interim_review_by)} (CoP 9.178; advisory)."
        )
    if not points:
        return
    doc.add_heading("Points to check", level=2)
    for point in points:
        doc.add_paragraph(point, style="List Bullet")


def _dates_section(doc: DocxDocument, clock: ReviewClock) -> None:
    doc.add_heading(HEADING_DATES, level=1)
    source = (
        "the last annual review meeting" if clock.anchor_source == "last_review" else "the date the plan was issued"
    )
    doc.add_paragraph(
        f"The 12 months run from {uk_date(clock.meeting_anchor)}, {source}. "
        "Preparation dates run from the meeting date"
        + (" as planned." if clock.meeting_is_planned else ": the hold-by date until a meeting is booked.")
    )
    m = clock.meeting_date
    rows: list[tuple[str, date | None, str]] = [
        ("12-month window ends", clock.window_end, rule_for(clock, "window_end")),
        ("Hold the meeting by", clock.meeting_target, hold_by_rule(clock)),
        ("Ask for advice from", clock.requests_from, rule_for(clock, "requests_from")),
        ("Contributions due", clock.contributions_due, rule_for(clock, "contributions_due")),
        ("Invitations sent by", clock.invites_by, rule_for(clock, "invites_by")),
        ("Papers circulated by", clock.papers_by, rule_for(clock, "papers_by")),
        ("Meeting", m, "As planned" if clock.meeting_is_planned else "Not yet booked: shown at the hold-by date"),
        ("Report to the LA due", m + timedelta(days=REPORT_DAYS), _after_rule("report_due", m)),
        ("LA decision due", m + timedelta(days=DECISION_DAYS), _after_rule("decision_due", m)),
        ("Final amended plan due", m + timedelta(days=FINAL_AFTER_MEETING_DAYS), _after_rule("final_plan_due", m)),
    ]
    if clock.phase_transfer is not None:
        rows.append(("Amended plan final by (transfer)", clock.phase_transfer.final_by, RULES["final_by"]))
    dates_table(doc, rows)


def _after_rule(name: str, meeting: date) -> str:
    return f"{RULES[name]}; counted from the meeting on {uk_date(meeting)}"


def _after_last_meeting(doc: DocxDocument, clock: ReviewClock) -> None:
    after = clock.after_meeting
    if after is None:
        return
    doc.add_heading("The LA clock after the last meeting", level=2)
    doc.add_paragraph(f"Last review meeting held on {uk_date(after.meeting_held)}.")
    rows: list[tuple[str, date | None, str]] = [
        ("Report to the LA due", after.report_due, rule_for(clock, "report_due")),
        ("LA decision due", after.decision_due, rule_for(clock, "decision_due")),
    ]
    if after.final_plan_due is not None:
        rows.append(("Final amended plan due", after.final_plan_due, rule_for(clock, "final_plan_due")))
    dates_table(doc, rows)
    labels = {"report_due": "report to the LA", "decision_due": "LA decision", "final_plan_due": "final amended plan"}
    for step in after.late:
        p = doc.add_paragraph()
        run = p.add_run(f"LATE: the {labels.get(step, step)} is past its date and not recorded in the register.")
        run.bold = True
        run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)


def _transfer_section(doc: DocxDocument, clock: ReviewClock) -> None:
    pt = clock.phase_transfer
    assert pt is not None
    doc.add_heading(HEADING_TRANSFER, level=1)
    doc.add_paragraph(
        f"This review is the phase transfer review ({transfer_label(pt.from_year, pt.to_post16)}, starting "
        f"{uk_date(pt.transfer_date)}). The plan must be reviewed and amended, naming the new setting, before "
        f"{'31 March' if pt.to_post16 else '15 February'} of the year of transfer (reg 18): the amended plan must "
        f"be final by {uk_date(pt.final_by)}. To leave the LA {DECISION_DAYS // 7} weeks to decide and "
        f"{FINAL_AFTER_NOTICE_DAYS // 7} weeks to finalise "
        f"(reg 20(10), reg 22(3)), the meeting must be held by {uk_date(clock.meeting_target)} (the last school day "
        f"on or before {uk_date(pt.meeting_latest)})."
    )
    key_value_table(
        doc,
        [
            ("Transfer", f"{transfer_label(pt.from_year, pt.to_post16)} on {uk_date(pt.transfer_date)}"),
            ("Amended plan final by", uk_date(pt.final_by)),
            ("Meeting held by", uk_date(clock.meeting_target)),
            ("Parent's / young person's preference", ""),
            ("Setting to be named", ""),
            ("Setting consulted on (date)", ""),
        ],
    )


def _contributions_section(
    doc: DocxDocument, clock: ReviewClock, contributions: Sequence[ContributionLine], *, looked_after: bool
) -> None:
    doc.add_heading(HEADING_CONTRIBUTIONS, level=1)
    doc.add_paragraph(
        f"Advice is due by {uk_date(clock.contributions_due)} and must be circulated to everyone invited by "
        f"{uk_date(clock.papers_by)} (reg 20(4))."
    )
    if not contributions:
        doc.add_paragraph("No contributions are recorded yet. Usual contributors to ask:")
        contributors = list(USUAL_CONTRIBUTORS)
        if clock.pfa_required:
            contributors.append("Careers adviser")
        if looked_after:
            contributors.append("Virtual School Head")
        for who in contributors:
            doc.add_paragraph(f"{BOX} {who}")
        return
    received = [c for c in contributions if not c.outstanding]
    outstanding = [c for c in contributions if c.outstanding]
    doc.add_paragraph(f"Received: {len(received)}. Outstanding: {len(outstanding)}.")
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Role", "Name", "Requested", "Received", "Chasers"), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        shade(cell, "D9E2F3")
    for line in [*outstanding, *received]:
        cells = table.add_row().cells
        cells[0].text = line.role
        cells[1].text = line.name
        cells[2].text = uk_date(line.requested)
        cells[3].text = uk_date(line.received) if line.received else "OUTSTANDING"
        cells[4].text = str(line.chasers)
        if line.outstanding:
            shade(cells[3], "FCE4D6")
    repeat_header(table)


def _about_section(doc: DocxDocument, *, today: date, settings: RuleSettings, clock: ReviewClock) -> None:
    doc.add_heading(HEADING_ABOUT, level=2)
    p = doc.add_paragraph()
    run = p.add_run(f"Computed for {uk_date(today)} by Review Keeper from the school's register, with these settings:")
    run.font.size = Pt(9)
    for line in settings_lines(settings):
        bullet = doc.add_paragraph(line, style="List Bullet")
        for run in bullet.runs:
            run.font.size = Pt(9)
    p = doc.add_paragraph()
    run = p.add_run(
        "Dates are moved earlier, never later, to a school day. Check them against the plan and the LA's own "
        "timetable before sending invitations."
    )
    run.font.size = Pt(9)
    run.font.color.rgb = GREY
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT


# The headings live in reports/record_sections.py; they stay importable from here, where a reader looks first.
__all__ = [
    "HEADING_ABOUT",
    "HEADING_ADULT_SERVICES",
    "HEADING_CAREERS",
    "HEADING_CONTRIBUTIONS",
    "HEADING_DATES",
    "HEADING_INVITEES",
    "HEADING_OWN_RIGHTS",
    "HEADING_PFA",
    "HEADING_PROGRESS",
    "HEADING_RECOMMENDATION",
    "HEADING_TRANSFER",
    "HEADING_VIEWS_CHILD",
    "HEADING_VIEWS_PARENTS",
    "PFA_AREAS",
    "PFA_HEADINGS",
    "STATUTORY_INVITEES",
    "USUAL_CONTRIBUTORS",
    "RecordFailure",
    "record_file_name",
    "write_review_record",
    "write_review_records",
]
