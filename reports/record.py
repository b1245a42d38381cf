"""The review record: one Word document per pupil that a SENDCo takes into the review meeting, edits and sends to the
LA (SEND Regulations 2014 reg 20; SEND Code of Practice 9.166-9.180).

The record is ready to use, not ready to start: the review's dates with the rule behind each, the contributions
received and awaited, the statutory invitees (reg 20(2)), the headings the meeting must cover (progress towards
outcomes, reg 20(5); the views of the child and parents, CFA 2014 s19), the preparing-for-adulthood headings from
Year 9 (reg 20(6); CoP 8.9-8.12) and the phase transfer when one binds (reg 18).

A date of birth or UPN is never written into the record or its file name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table

from review_rules.model import ReviewClock, RuleSettings, Status
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
    settings_short,
    transfer_label,
    uk_date,
    year_label,
)

# Headings a reader (or a test) can rely on. The PfA areas are the four of CoP 8.9.
HEADING_DATES = "Dates for this review and the rules behind them"
HEADING_CONTRIBUTIONS = "Advice and information (contributions)"
HEADING_INVITEES = "Who must be invited (reg 20(2))"
HEADING_PROGRESS = "Progress towards the outcomes in the plan"
HEADING_VIEWS_CHILD = "Views, wishes and feelings of the child or young person"
HEADING_VIEWS_PARENTS = "Views of parents and carers"
HEADING_PFA = "Preparing for adulthood"
PFA_AREAS: tuple[str, ...] = (
    "Employment and higher education",
    "Independent living",
    "Participating in society (friends, relationships and community)",
    "Being healthy",
)
HEADING_CAREERS = "Careers guidance and post-16 options"
HEADING_ADULT_SERVICES = "Planning for adult health and social care"
HEADING_OWN_RIGHTS = "The young person's own rights"
HEADING_TRANSFER = "Phase transfer"
HEADING_RECOMMENDATION = "Recommendation to the local authority"
HEADING_ABOUT = "How these dates were computed"
PFA_HEADINGS: tuple[str, ...] = (HEADING_PFA, *PFA_AREAS, HEADING_CAREERS, HEADING_ADULT_SERVICES)

# reg 20(2)(a)-(e), in the Regulations' order.
STATUTORY_INVITEES: tuple[tuple[str, str], ...] = (
    ("reg 20(2)(a)", "The child's parent, or the young person"),
    ("reg 20(2)(b)", "The head teacher or principal of the school or institution (or the early years provider)"),
    ("reg 20(2)(c)", "An officer of the LA's special educational needs (SEN) service"),
    ("reg 20(2)(d)", "A health care professional identified by the health commissioning body"),
    ("reg 20(2)(e)", "An officer of the LA's social care service for children with SEN"),
)

# Who usually gives advice; the SENDCo ticks the ones who apply to this pupil.
USUAL_CONTRIBUTORS: tuple[str, ...] = (
    "Parent/carer",
    "The child or young person (their own views)",
    "Class teacher or form tutor",
    "Subject teachers",
    "Educational psychologist (EP)",
    "Speech and language therapist (SALT)",
    "Occupational therapist (OT)",
    "Health (school nurse, paediatrician, CAMHS)",
    "Social worker (where involved)",
)

REPORT_DAYS = 14  # reg 20(7)-(8)
DECISION_DAYS = 28  # reg 20(10)
FINAL_PLAN_DAYS = 84  # reg 22(3) with the Devon judgment: 4 weeks to decide + 8 weeks to finalise

_BOX = "\u2610"  # an empty ballot box: a checklist that prints and that Word users tick by hand
_GREY = RGBColor(0x59, 0x59, 0x59)


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
    doc = _new_document(pupil, today=today, school_name=school_name, settings=settings)

    _title(doc, pupil, clock, school_name=school_name, today=today, settings=settings)
    _pupil_table(doc, pupil, clock, school_name=school_name)
    _points_to_check(doc, pupil, clock)
    _dates_section(doc, clock)
    _after_last_meeting(doc, clock)
    if clock.phase_transfer is not None:
        _transfer_section(doc, clock)
    _contributions_section(doc, clock, contributions, looked_after=pupil.record.looked_after)
    _invitees_section(doc)
    _progress_section(doc)
    _views_sections(doc)
    if clock.pfa_required:
        _pfa_sections(doc, pupil, clock)
    _recommendation_section(doc)
    _about_section(doc, today=today, settings=settings, clock=clock)

    path = out_dir / record_file_name(pupil)
    with replaced_atomically(path) as tmp:
        doc.save(str(tmp))
    return path


def write_review_records(
    pupils: Sequence[ReviewedPupil],
    *,
    today: date,
    school_name: str,
    settings: RuleSettings,
    out_dir: Path,
    contributions: Mapping[int, Sequence[ContributionLine]] | None = None,
) -> list[Path]:
    """Write a record for every pupil with a review to hold: INVALID rows are skipped (they have no dates to show) and
    so are INACTIVE ones (left, ceased or transferred out: this school holds no review for them).

    `contributions` maps a register row number to that pupil's contribution lines.
    """
    contributions = contributions or {}
    paths: list[Path] = []
    for pupil in pupils:
        if pupil.clock is None or pupil.status in (Status.INVALID, Status.INACTIVE):
            continue
        paths.append(
            write_review_record(
                pupil,
                today=today,
                school_name=school_name,
                settings=settings,
                out_dir=out_dir,
                contributions=contributions.get(pupil.record.row, ()),
            )
        )
    return paths


# --- document building blocks -------------------------------------------------------------------------------------


def _new_document(pupil: ReviewedPupil, *, today: date, school_name: str, settings: RuleSettings) -> DocxDocument:
    doc = Document()
    section = doc.sections[0]
    # A4 with 2 cm margins: UK schools print on A4, and python-docx's default is US Letter.
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    doc.core_properties.title = f"Annual review record: {pupil.record.short_name}"
    doc.core_properties.author = school_name
    doc.core_properties.comments = f"Computed for {today.isoformat()}; settings: {settings_short(settings)}"

    header = section.header.paragraphs[0]
    header.text = f"{school_name} · EHC plan annual review record"
    header.runs[0].font.size = Pt(8)
    header.runs[0].font.color.rgb = _GREY

    footer = section.footer.paragraphs[0]
    run = footer.add_run(f"{pupil.record.short_name} · computed for {uk_date(today)} · page ")
    run.font.size = Pt(8)
    run.font.color.rgb = _GREY
    _add_page_field(footer)
    return doc


def _add_page_field(paragraph) -> None:  # type: ignore[no-untyped-def]
    run = paragraph.add_run()
    run.font.size = Pt(8)
    begin, instr, end = OxmlElement("w:fldChar"), OxmlElement("w:instrText"), OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instr.set(qn("xml:space"), "preserve")
    instr.text = "PAGE"
    end.set(qn("w:fldCharType"), "end")
    run._r.append(begin)
    run._r.append(instr)
    run._r.append(end)


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
    run.font.color.rgb = _GREY


def _key_value_table(doc: DocxDocument, rows: Sequence[tuple[str, str]]) -> Table:
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    for key, value in rows:
        cells = table.add_row().cells
        cells[0].text = key
        cells[1].text = value
        cells[0].paragraphs[0].runs[0].bold = True
        _shade(cells[0], "EDEDED")
    _widths(table, (Cm(5.0), Cm(12.0)))
    return table


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
    _key_value_table(doc, rows)


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


def _dates_table(doc: DocxDocument, rows: Sequence[tuple[str, date | None, str]]) -> Table:
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("What", "Date", "Rule"), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        _shade(cell, "D9E2F3")
    for what, when, rule in rows:
        cells = table.add_row().cells
        cells[0].text = what
        cells[1].text = uk_date(when) if when else "—"
        cells[2].text = rule
        for run in cells[2].paragraphs[0].runs:
            run.font.size = Pt(9)
    _widths(table, (Cm(4.2), Cm(3.5), Cm(9.3)))
    _repeat_header(table)
    return table


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
        ("Final amended plan due", m + timedelta(days=FINAL_PLAN_DAYS), _after_rule("final_plan_due", m)),
    ]
    if clock.phase_transfer is not None:
        rows.append(("Amended plan final by (transfer)", clock.phase_transfer.final_by, RULES["final_by"]))
    _dates_table(doc, rows)


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
    _dates_table(doc, rows)
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
        f"be final by {uk_date(pt.final_by)}. To leave the LA 4 weeks to decide and 8 weeks to finalise "
        f"(reg 20(10), reg 22(3)), the meeting must be held by {uk_date(pt.meeting_latest)}."
    )
    _key_value_table(
        doc,
        [
            ("Transfer", f"{transfer_label(pt.from_year, pt.to_post16)} on {uk_date(pt.transfer_date)}"),
            ("Amended plan final by", uk_date(pt.final_by)),
            ("Meeting held by", uk_date(pt.meeting_latest)),
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
            doc.add_paragraph(f"{_BOX} {who}")
        return
    received = [c for c in contributions if not c.outstanding]
    outstanding = [c for c in contributions if c.outstanding]
    doc.add_paragraph(f"Received: {len(received)}. Outstanding: {len(outstanding)}.")
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Role", "Name", "Requested", "Received", "Chasers"), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        _shade(cell, "D9E2F3")
    for line in [*outstanding, *received]:
        cells = table.add_row().cells
        cells[0].text = line.role
        cells[1].text = line.name
        cells[2].text = uk_date(line.requested)
        cells[3].text = uk_date(line.received) if line.received else "OUTSTANDING"
        cells[4].text = str(line.chasers)
        if line.outstanding:
            _shade(cells[3], "FCE4D6")
    _repeat_header(table)


def _invitees_section(doc: DocxDocument) -> None:
    doc.add_heading(HEADING_INVITEES, level=1)
    doc.add_paragraph("Give at least two weeks' notice of the meeting (reg 20(3)) and ask each for advice (reg 20(4)).")
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Invitee", "Name", "Invited on", "Attending"), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        _shade(cell, "D9E2F3")
    for ref, who in STATUTORY_INVITEES:
        cells = table.add_row().cells
        cells[0].text = f"{_BOX} {who} ({ref})"
        cells[3].text = f"{_BOX} yes  {_BOX} no"
    _widths(table, (Cm(8.0), Cm(4.0), Cm(2.5), Cm(2.5)))


def _lined_table(doc: DocxDocument, headers: Sequence[str], rows: int) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        _shade(cell, "D9E2F3")
    for _ in range(rows):
        row = table.add_row()
        row.height = Cm(1.2)


def _prompt(doc: DocxDocument, text: str) -> None:
    p = doc.add_paragraph()
    run = p.add_run(text)
    run.italic = True
    run.font.color.rgb = _GREY
    doc.add_paragraph()


def _progress_section(doc: DocxDocument) -> None:
    doc.add_heading(HEADING_PROGRESS, level=1)
    doc.add_paragraph("The meeting must consider progress towards each outcome in section E of the plan (reg 20(5)).")
    _lined_table(doc, ("Outcome (section E)", "Progress and evidence", "Next steps / proposed change"), rows=4)


def _views_sections(doc: DocxDocument) -> None:
    doc.add_heading(HEADING_VIEWS_CHILD, level=1)
    _prompt(doc, "What is going well, what is hard, what they would like to change (CFA 2014 s19; CoP 9.176).")
    doc.add_heading(HEADING_VIEWS_PARENTS, level=1)
    _prompt(doc, "Parents' and carers' views, wishes and feelings, and any changes they ask for (CFA 2014 s19).")


def _pfa_sections(doc: DocxDocument, pupil: ReviewedPupil, clock: ReviewClock) -> None:
    doc.add_heading(HEADING_PFA, level=1)
    doc.add_paragraph(
        f"{pupil.record.first_name} is in {year_label(clock.nc_year_at_review)} at this review: from Year 9 every "
        "review must include a focus on preparing for adulthood (reg 20(6); CoP 8.9-8.12, 9.179). Record the young "
        "person's aspirations and the outcomes across the four areas."
    )
    doc.add_heading("The young person's aspirations", level=2)
    _prompt(doc, "What they want to do and be after school, in their own words.")
    for area in PFA_AREAS:
        doc.add_heading(area, level=2)
        _prompt(doc, "Outcomes, progress, and support needed to get there.")
    doc.add_heading(HEADING_CAREERS, level=1)
    _prompt(
        doc,
        "Independent careers guidance received (Education Act 1997 s42A, from Year 8), post-16 options being "
        "considered (sixth form, college, supported internship, apprenticeship, traineeship) and visits planned.",
    )
    doc.add_heading(HEADING_ADULT_SERVICES, level=1)
    _prompt(
        doc,
        "Transition to adult health services and adult social care: who is involved, referrals needed, and "
        "when (CoP 8.46-8.56).",
    )
    ends = clock.end_of_compulsory_school
    doc.add_heading(HEADING_OWN_RIGHTS, level=2)
    if ends <= clock.meeting_date:
        text = (
            f"Compulsory school age ended on {uk_date(ends)}: the young person now makes decisions in their own "
            "right (CFA 2014 s80 and reg 2): invite them, and send the LA's notices to them, as well as to their "
            "parents where they wish."
        )
    else:
        text = (
            f"Compulsory school age ends on {uk_date(ends)} ({_RULE_OWN_RIGHTS}). From then on the young person "
            "makes decisions in their own right (CFA 2014 s80 and reg 2): they are invited and notified themselves."
        )
    doc.add_paragraph(text)


_RULE_OWN_RIGHTS = "the last Friday in June of the school year in which they turn 16"


def _recommendation_section(doc: DocxDocument) -> None:
    doc.add_heading(HEADING_RECOMMENDATION, level=1)
    doc.add_paragraph(
        "The school's report, with the meeting's recommendation, goes to the LA and everyone invited within two "
        "weeks of the meeting (reg 20(7)-(8)); the LA then decides within four weeks (reg 20(10))."
    )
    for option in ("Maintain the plan as it is", "Amend the plan (changes listed above)", "Cease the plan"):
        doc.add_paragraph(f"{_BOX} {option}")


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
    run.font.color.rgb = _GREY
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT


# --- table helpers ------------------------------------------------------------------------------------------------


def _shade(cell, fill: str) -> None:  # type: ignore[no-untyped-def]
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def _widths(table: Table, widths: Sequence[Cm]) -> None:
    # Word honours cell widths, LibreOffice the grid: set both so the table looks the same in each.
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = width
    for col, width in zip(table.columns, widths, strict=False):
        col.width = width


def _repeat_header(table: Table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)
