"""The review record's pages for the meeting itself: who must be invited (reg 20(2)), progress towards outcomes
(reg 20(5)), the views of the child and parents (CFA 2014 s19), preparing for adulthood from Year 9 (reg 20(6);
CoP 8.9-8.12) and the recommendation to the LA. Headings a reader (or a test) can rely on live here too.
"""

from __future__ import annotations

from docx.document import Document as DocxDocument
from docx.shared import Cm

from review_rules.model import ReviewClock
from review_rules.periods import DECISION_DAYS, INVITES_DAYS, REPORT_DAYS
from sheet_schema.model import ReviewedPupil

from .common import uk_date, year_label
from .docx_helpers import BOX, lined_table, prompt, set_widths, shade

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


def invitees_section(doc: DocxDocument) -> None:
    doc.add_heading(HEADING_INVITEES, level=1)
    doc.add_paragraph(
        f"Give at least {INVITES_DAYS // 7} weeks' notice of the meeting (reg 20(3)) and ask each for advice "
        "(reg 20(4))."
    )
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Invitee", "Name", "Invited on", "Attending"), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        shade(cell, "D9E2F3")
    for ref, who in STATUTORY_INVITEES:
        cells = table.add_row().cells
        cells[0].text = f"{BOX} {who} ({ref})"
        cells[3].text = f"{BOX} yes  {BOX} no"
    set_widths(table, (Cm(8.0), Cm(4.0), Cm(2.5), Cm(2.5)))


def progress_section(doc: DocxDocument) -> None:
    doc.add_heading(HEADING_PROGRESS, level=1)
    doc.add_paragraph("The meeting must consider progress towards each outcome in section E of the plan (reg 20(5)).")
    lined_table(doc, ("Outcome (section E)", "Progress and evidence", "Next steps / proposed change"), rows=4)


def views_sections(doc: DocxDocument) -> None:
    doc.add_heading(HEADING_VIEWS_CHILD, level=1)
    prompt(doc, "What is going well, what is hard, what they would like to change (CFA 2014 s19; CoP 9.176).")
    doc.add_heading(HEADING_VIEWS_PARENTS, level=1)
    prompt(doc, "Parents' and carers' views, wishes and feelings, and any changes they ask for (CFA 2014 s19).")


def pfa_sections(doc: DocxDocument, pupil: ReviewedPupil, clock: ReviewClock) -> None:
    doc.add_heading(HEADING_PFA, level=1)
    doc.add_paragraph(
        f"{pupil.record.first_name} is in {year_label(clock.nc_year_at_review)} at this review: from Year 9 every "
        "review must include a focus on preparing for adulthood (reg 20(6); CoP 8.9-8.12, 9.179). Record the young "
        "person's aspirations and the outcomes across the four areas."
    )
    doc.add_heading("The young person's aspirations", level=2)
    prompt(doc, "What they want to do and be after school, in their own words.")
    for area in PFA_AREAS:
        doc.add_heading(area, level=2)
        prompt(doc, "Outcomes, progress, and support needed to get there.")
    doc.add_heading(HEADING_CAREERS, level=1)
    prompt(
        doc,
        "Independent careers guidance received (Education Act 1997 s42A, from Year 8), post-16 options being "
        "considered (sixth form, college, supported internship, apprenticeship, traineeship) and visits planned.",
    )
    doc.add_heading(HEADING_ADULT_SERVICES, level=1)
    prompt(
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
    if ends <= clock.meeting_date:  # issue 14 item 6: say whether they are invited in their own right
        doc.add_paragraph(
            "The register holds the young person's own email: they are asked for their views, invited and told of "
            "each stage themselves."
            if pupil.record.young_person_email
            else 'The register holds no email for the young person: add a "Young person email" column so they are '
            "invited and told themselves."
        )


_RULE_OWN_RIGHTS = "the last Friday in June of the school year in which they turn 16"


def recommendation_section(doc: DocxDocument) -> None:
    doc.add_heading(HEADING_RECOMMENDATION, level=1)
    doc.add_paragraph(
        "The school's report, with the meeting's recommendation, goes to the LA and everyone invited within "
        f"{REPORT_DAYS // 7} weeks of the meeting (reg 20(7)-(8)); the LA then decides within {DECISION_DAYS // 7} "
        "weeks (reg 20(10))."
    )
    for option in ("Maintain the plan as it is", "Amend the plan (changes listed above)", "Cease the plan"):
        doc.add_paragraph(f"{BOX} {option}")
