"""Reports from a small literal register: every document written is opened again and checked against hand counts.

The clocks below are literal dates (not computed), so these tests depend only on the report code. Today is
Wed 1 Oct 2025 and the settings are the defaults. The hand counts are worked out beside each pupil.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from icalendar import Calendar
from openpyxl import load_workbook

from reports.calendar import write_calendar
from reports.common import (
    ContributionLine,
    computed_for_statement,
    pupil_key_hash,
    safe_part,
    uk_date,
    year_label,
)
from reports.overview import compliance_measures, summary_counts, write_overview
from reports.record import (
    HEADING_OWN_RIGHTS,
    HEADING_TRANSFER,
    PFA_HEADINGS,
    STATUTORY_INVITEES,
    record_file_name,
    write_review_record,
    write_review_records,
)
from review_rules.model import (
    AfterMeeting,
    Decision,
    PhaseTransfer,
    ReviewClock,
    ReviewFacts,
    RuleSettings,
    Status,
)
from sheet_schema.model import PupilRecord, ReviewedPupil

TODAY = date(2025, 10, 1)
SETTINGS = RuleSettings()
SCHOOL = "Oakfield Primary"


def make_clock(status: Status, **kw: object) -> ReviewClock:
    """A literal clock: the fields a test cares about are passed, the rest are plausible fillers."""
    target: date = kw.get("meeting_target", date(2026, 3, 2))  # type: ignore[assignment]
    values: dict[str, object] = {
        "status": status,
        "meeting_anchor": date(2025, 3, 3),
        "anchor_source": "last_review",
        "decision_anchor": date(2025, 3, 3),
        "window_end": date(2026, 3, 2),
        "meeting_latest": target,
        "meeting_target": target,
        "meeting_date": target,
        "meeting_is_planned": False,
        "planned_after_deadline": False,
        "requests_from": date(2025, 12, 15),
        "contributions_due": date(2026, 2, 9),
        "invites_by": date(2026, 2, 16),
        "papers_by": date(2026, 2, 16),
        "nc_year_at_review": 5,
        "pfa_required": False,
        "phase_transfer": None,
        "after_meeting": None,
        "interim_review_by": None,
        "end_of_compulsory_school": date(2031, 6, 27),
    }
    values.update(kw)
    return ReviewClock(**values)  # type: ignore[arg-type]


def make_pupil(
    row: int,
    name: str,
    dob: date,
    status: Status,
    *,
    upn: str | None = None,
    la: str | None = None,
    facts: dict[str, object] | None = None,
    clock: dict[str, object] | None = None,
    warnings: tuple[str, ...] = (),
    errors: tuple[str, ...] = (),
) -> ReviewedPupil:
    first, _, surname = name.partition(" ")
    review_facts = ReviewFacts(dob=dob, **(facts or {})) if not errors else None  # type: ignore[arg-type]
    record = PupilRecord(
        row=row,
        name=name,
        first_name=first,
        surname_initial=f"{surname[:1]}." if surname else "",
        upn=upn,
        facts=review_facts,
        la=la,
        errors=errors,
        warnings=warnings,
    )
    the_clock = None if errors else make_clock(status, **(clock or {}))
    return ReviewedPupil(record, the_clock, status, errors, warnings)


# Row 5 Amy: OVERDUE, Devon. Window ended 9 Sep 2025 (before today). Last review 10 Sep 2024 is before the last-year
# period (2 Oct 2024 - 1 Oct 2025), so it counts in no last-year measure. Hold-by Aug 2025.
AMY = make_pupil(
    5,
    "Amy Brown",
    date(2015, 4, 12),
    Status.OVERDUE,
    upn="B801200005001",
    la="Devon",
    facts={"last_review": date(2024, 9, 10), "plan_issued": date(2023, 5, 1), "la_decision": date(2024, 10, 1)},
    clock={"window_end": date(2025, 9, 9), "meeting_target": date(2025, 8, 13), "meeting_anchor": date(2024, 9, 10)},
)
# Row 6 Ben: DUE SOON, Devon, Year 9 (PfA). Review 20 Nov 2024 after plan 15 Jan 2024: in time (window ended
# 14 Jan 2025). LA decision 30 Dec 2024 = 40 days (late). Final amended plan 5 Feb 2025 = 77 days (in time). Oct 2025.
BEN = make_pupil(
    6,
    "Ben Carter",
    date(2011, 10, 3),
    Status.DUE_SOON,
    upn="A123456789012",
    la="Devon",
    facts={
        "last_review": date(2024, 11, 20),
        "plan_issued": date(2024, 1, 15),
        "la_decision": date(2024, 12, 30),
        "decision": Decision.AMEND,
        "final_plan": date(2025, 2, 5),
        "report_sent": date(2024, 11, 28),
    },
    clock={
        "window_end": date(2025, 11, 19),
        "meeting_target": date(2025, 10, 23),
        "meeting_anchor": date(2024, 11, 20),
        "nc_year_at_review": 9,
        "pfa_required": True,
        "end_of_compulsory_school": date(2028, 6, 30),
    },
)
# Row 7 Chloé: PREPARE, Cornwall, first review (plan 20 Jan 2025), Year 6 -> 7 transfer binds. Dec 2025.
CHLOE = make_pupil(
    7,
    "Chloé Dubois",
    date(2014, 12, 24),
    Status.PREPARE,
    la="Cornwall",
    facts={"plan_issued": date(2025, 1, 20)},
    clock={
        "anchor_source": "plan_issued",
        "meeting_anchor": date(2025, 1, 20),
        "window_end": date(2026, 1, 19),
        "meeting_target": date(2025, 11, 21),
        "meeting_latest": date(2025, 11, 22),
        "nc_year_at_review": 6,
        "phase_transfer": PhaseTransfer(6, date(2026, 9, 1), date(2026, 2, 14), date(2025, 11, 22), False),
    },
)
# Row 8 Dev: ON TRACK, LA not recorded, Year 10 at review (PfA). Review 20 Jun 2025, over 12 months after plan 1 Mar
# 2024 (a late first review or a second one: not judged). LA decision 10 Jul 2025 = 20 days (in time). Report not sent: a report_due event.
# Jun 2026. One warning.
DEV = make_pupil(
    8,
    "Dev Patel",
    date(2010, 9, 30),
    Status.ON_TRACK,
    la=None,
    facts={"last_review": date(2025, 6, 20), "plan_issued": date(2024, 3, 1), "la_decision": date(2025, 7, 10)},
    clock={
        "meeting_anchor": date(2025, 6, 20),
        "window_end": date(2026, 6, 19),
        "meeting_target": date(2026, 6, 11),
        "nc_year_at_review": 10,
        "pfa_required": True,
        "end_of_compulsory_school": date(2027, 6, 25),
        "after_meeting": AfterMeeting(
            date(2025, 6, 20), date(2025, 7, 4), date(2025, 7, 18), None, late=("report_due",)
        ),
    },
    warnings=('row 8: "Year" is 9 but the date of birth gives Year 10; check which is right.',),
)
# Row 9 Ella: ON TRACK, Plymouth. Review 3 Mar 2025; the plan date 20 Apr 2025 is the amended plan after it (not an
# earlier anchor: not in measure 2). LA decision 20 Mar 2025 = 17 days (in time). Final plan 30 Jun 2025 = 119 days
# (late). Everything after the meeting recorded: no after-meeting events. Feb 2026.
ELLA = make_pupil(
    9,
    "Ella Evans",
    date(2018, 2, 28),
    Status.ON_TRACK,
    la="Plymouth",
    facts={
        "last_review": date(2025, 3, 3),
        "plan_issued": date(2025, 4, 20),
        "la_decision": date(2025, 3, 20),
        "decision": Decision.AMEND,
        "final_plan": date(2025, 6, 30),
        "report_sent": date(2025, 3, 14),
    },
    clock={
        "meeting_target": date(2026, 2, 2),
        "nc_year_at_review": 2,
        "after_meeting": AfterMeeting(date(2025, 3, 3), date(2025, 3, 17), date(2025, 3, 31), date(2025, 5, 26)),
    },
)
# Row 10 Finn: left the school (INACTIVE): counted in the status counts only.
FINN = make_pupil(
    10,
    "Finn Green",
    date(2016, 7, 7),
    Status.INACTIVE,
    la="Devon",
    facts={"last_review": date(2025, 1, 10), "la_decision": date(2025, 1, 15), "inactive": True},
    clock={"meeting_target": date(2025, 12, 10)},
)
# Row 11 Gus: INVALID (no clock): counted in the status counts and as a data issue only.
GUS = make_pupil(
    11,
    "Gus Hill",
    date(2016, 1, 1),
    Status.INVALID,
    errors=('row 11: "Last review" is "next week", which is not a date',),
)
REGISTER = [AMY, BEN, CHLOE, DEV, ELLA, FINN, GUS]


def docx_text(path: Path) -> str:
    """All the text python-docx can see: paragraphs, tables, header and footer."""
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    for section in doc.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


def headings(path: Path) -> list[str]:
    doc = Document(str(path))
    return [p.text for p in doc.paragraphs if p.style is not None and p.style.name.startswith("Heading")]


def raw_package_text(path: Path) -> str:
    """Every XML part of an Office file, to search for personal data that must not be there."""
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist() if not n.endswith(".png"))


def table_rows(ws, first_header: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The rows of the table whose header row starts with `first_header`, up to the first blank row."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == first_header)
    out = []
    for r in rows[start + 1 :]:
        if r[0] is None:
            break
        out.append(r)
    return out


def dob_forms(d: date) -> list[str]:
    return [d.isoformat(), f"{d:%d/%m/%Y}", uk_date(d), f"{d.day} {d:%B %Y}", f"{d:%Y%m%d}"]


# --- common ------------------------------------------------------------------------------------------------------


def test_uk_date_reads_like_the_register() -> None:
    assert uk_date(date(2025, 11, 7)) == "Fri 7 Nov 2025"
    assert uk_date(None) == ""


@pytest.mark.parametrize(("year", "label"), [(-1, "Nursery"), (0, "Reception"), (9, "Year 9"), (12, "Year 12")])
def test_year_label(year: int, label: str) -> None:
    assert year_label(year) == label


def test_statement_names_date_and_every_setting() -> None:
    text = computed_for_statement(TODAY, SETTINGS)
    assert text.startswith("Computed for Wed 1 Oct 2025 with settings:")
    assert "LA decision" in text
    assert "day before the anniversary" in text
    assert "21 Jul to 31 Aug and 21 Dec to 3 Jan" in text
    closures = RuleSettings(closures=((date(2025, 10, 27), date(2025, 10, 31)),))
    assert "Mon 27 Oct 2025 to Fri 31 Oct 2025" in computed_for_statement(TODAY, closures)


def test_safe_part_keeps_ascii_letters_only() -> None:
    assert safe_part("Chloé-Anne O'Neil / 2") == "ChloeAnneONeil2"


def test_pupil_key_does_not_depend_on_row_but_on_upn() -> None:
    moved = replace(BEN, record=replace(BEN.record, row=40))
    assert pupil_key_hash(moved) == pupil_key_hash(BEN)
    assert pupil_key_hash(AMY) != pupil_key_hash(BEN)
    assert "B801200005001" not in pupil_key_hash(AMY)


# --- review record -----------------------------------------------------------------------------------------------


def test_record_has_pfa_headings_exactly_when_required(tmp_path: Path) -> None:
    ben = write_review_record(BEN, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)
    chloe = write_review_record(CHLOE, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)
    ben_headings, chloe_headings = headings(ben), headings(chloe)
    for heading in PFA_HEADINGS:
        assert heading in ben_headings
        assert heading not in chloe_headings
    assert "Employment and higher education" in ben_headings
    assert "Being healthy" in ben_headings
    # Own rights from the end of compulsory school age: Fri 30 Jun 2028 for Ben.
    assert HEADING_OWN_RIGHTS in ben_headings
    assert "Compulsory school age ends on Fri 30 Jun 2028" in docx_text(ben)


def test_record_has_transfer_section_exactly_when_bound(tmp_path: Path) -> None:
    chloe = write_review_record(CHLOE, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)
    ben = write_review_record(BEN, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)
    assert HEADING_TRANSFER in headings(chloe)
    assert HEADING_TRANSFER not in headings(ben)
    text = docx_text(chloe)
    assert "Year 6 to Year 7" in text
    assert "Sat 14 Feb 2026" in text  # final-by
    assert "Setting to be named" in text


def test_record_content_dates_rules_invitees_and_statement(tmp_path: Path) -> None:
    path = write_review_record(CHLOE, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)
    assert path.name == "review-record-row007-Chloe-D.docx"
    text = docx_text(path)
    assert "Chloé Dubois" in text
    assert SCHOOL in text
    assert "Cornwall" in text
    assert "Year 6" in text
    # Meeting not booked: the hold-by date, and the dates table with their rules.
    assert "Not yet booked: hold by Fri 21 Nov 2025" in text
    assert "Mon 19 Jan 2026" in text
    assert "CFA 2014 s44(1)" in text
    assert "reg 20(3)" in text
    assert "reg 20(4)" in text
    assert "reg 20(10)" in text
    assert "reg 22(3)" in text
    assert "Fri 5 Dec 2025" in text  # report due: meeting + 14 days (reg 20(7)-(8))
    assert "Fri 19 Dec 2025" in text  # LA decision due: meeting + 28 days
    assert "Fri 13 Feb 2026" in text  # final amended plan: meeting + 84 days
    for ref, _who in STATUTORY_INVITEES:
        assert ref in text
    assert "health care professional" in text
    assert "social care" in text
    assert "No contributions are recorded yet" in text
    assert "Progress towards the outcomes in the plan" in headings(path)
    assert "Views of parents and carers" in headings(path)
    assert "Computed for Wed 1 Oct 2025" in text
    assert "21 Jul to 31 Aug" in text  # closures setting
    doc = Document(str(path))
    assert doc.core_properties.comments.startswith("Computed for 2025-10-01; settings: anchor=decision")


def test_record_lists_contributions_received_and_outstanding(tmp_path: Path) -> None:
    lines = [
        ContributionLine("EP", "Dr Shah", date(2025, 9, 1), None, 2),
        ContributionLine("Class teacher", "Mr Jones", date(2025, 9, 1), date(2025, 9, 15), 0),
    ]
    path = write_review_record(
        BEN, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path, contributions=lines
    )
    text = docx_text(path)
    assert "Received: 1. Outstanding: 1." in text
    assert "Dr Shah" in text
    assert "OUTSTANDING" in text
    assert "Mon 15 Sep 2025" in text
    assert "No contributions are recorded yet" not in text


def test_record_never_carries_dob_or_upn(tmp_path: Path) -> None:
    for pupil in (AMY, BEN, DEV):
        path = write_review_record(pupil, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)
        raw = raw_package_text(path)
        assert pupil.record.facts is not None
        for form in dob_forms(pupil.record.facts.dob):
            assert form not in raw
        if pupil.record.upn:
            assert pupil.record.upn not in raw
            assert pupil.record.upn not in path.name


def test_record_shows_late_la_steps_and_warnings(tmp_path: Path) -> None:
    path = write_review_record(DEV, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)
    text = docx_text(path)
    assert "LATE: the report to the LA is past its date" in text
    assert "Fri 4 Jul 2025" in text
    assert "check which is right" in text


def test_write_records_skips_invalid_and_inactive_rows(tmp_path: Path) -> None:
    paths = write_review_records(REGISTER, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)
    assert [p.name for p in paths] == [
        "review-record-row005-Amy-B.docx",
        "review-record-row006-Ben-C.docx",
        "review-record-row007-Chloe-D.docx",
        "review-record-row008-Dev-P.docx",
        "review-record-row009-Ella-E.docx",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in paths]
    with pytest.raises(ValueError, match="row 11"):
        write_review_record(GUS, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out_dir=tmp_path)


def test_record_file_name_is_safe() -> None:
    odd = replace(AMY, record=replace(AMY.record, first_name="Zoë/../..", surname_initial="Ó."))
    assert record_file_name(odd) == "review-record-row005-Zoe-O.docx"


# --- overview ----------------------------------------------------------------------------------------------------


def test_summary_counts_equal_hand_counts() -> None:
    counts = summary_counts(REGISTER)
    assert counts["total_rows"] == 7
    assert counts["caseload"] == 5
    assert counts["by_status"] == {
        Status.OVERDUE: 1,
        Status.DUE_SOON: 1,
        Status.PREPARE: 1,
        Status.ON_TRACK: 2,
        Status.INACTIVE: 1,
        Status.INVALID: 1,
    }
    assert counts["by_la"] == {"Cornwall": 1, "Devon": 2, "Plymouth": 1, "(not recorded)": 1}
    assert counts["by_month"] == {
        date(2025, 8, 1): 1,
        date(2025, 10, 1): 1,
        date(2025, 11, 1): 1,
        date(2026, 2, 1): 1,
        date(2026, 6, 1): 1,
    }
    assert counts["year9_plus"] == 2
    assert counts["phase_transfers"] == 1
    assert counts["rows_with_errors"] == 1
    assert counts["rows_with_warnings"] == 1


def test_compliance_measures_equal_hand_counts() -> None:
    m1, m2, m3, m4 = compliance_measures(REGISTER, today=TODAY, settings=SETTINGS)
    assert (m1.met, m1.denominator, m1.percent) == (4, 5, 80.0)  # all but Amy inside their window
    # First reviews only, as far as the register proves them: Ben's (plan 15 Jan 2024, review 20 Nov 2024) in time.
    # Dev's review (20 Jun 2025) came more than 12 months after his plan (1 Mar 2024): a late first review or a second
    # one, the register cannot tell; Ella's plan date is after her review. Neither is judged, neither counts as late.
    assert (m2.met, m2.denominator, m2.percent) == (1, 1, 100.0)
    assert m2.not_judged == 2
    assert "2 reviews were held" in m2.counts
    assert "not measurable from this register" in m2.counts
    assert (m3.met, m3.denominator, m3.percent) == (2, 3, 66.7)  # Dev 20 d, Ella 17 d; Ben 40 d
    assert (m4.met, m4.denominator, m4.percent) == (1, 2, 50.0)  # Ben 77 d; Ella 119 d
    assert "2 Oct 2024 to Wed 1 Oct 2025" in m2.counts


def test_later_reviews_are_never_counted_late_against_the_first_plan_date() -> None:
    """plan_issued is when the plan was FIRST issued (review-rules.md s4): a pupil on their third review, held in time
    against their second, must not count as late. Such reviews are "not measurable from this register"."""
    veteran = make_pupil(
        12,
        "Vera Old",
        date(2012, 5, 5),
        Status.ON_TRACK,
        facts={"plan_issued": date(2019, 3, 1), "last_review": date(2025, 2, 10)},
        clock={"meeting_anchor": date(2025, 2, 10), "window_end": date(2026, 2, 9)},
    )
    first_due_now = make_pupil(  # plan 1 Nov 2024: first review due by 31 Oct 2025, after today: not yet judged
        13,
        "Nia New",
        date(2016, 5, 5),
        Status.PREPARE,
        facts={"plan_issued": date(2024, 11, 1)},
        clock={"anchor_source": "plan_issued", "meeting_anchor": date(2024, 11, 1)},
    )
    early_first = make_pupil(  # plan 1 Jan 2025, reviewed early on 1 Aug 2025: judged, in time
        14,
        "Eli Early",
        date(2015, 5, 5),
        Status.ON_TRACK,
        facts={"plan_issued": date(2025, 1, 1), "last_review": date(2025, 8, 1)},
    )
    never_reviewed = make_pupil(  # plan 1 Oct 2024: first review was due by 30 Sep 2025 and none is recorded: late
        15,
        "Ola Late",
        date(2015, 6, 6),
        Status.OVERDUE,
        facts={"plan_issued": date(2024, 10, 1)},
    )
    (m2,) = [m for m in compliance_measures([veteran], today=TODAY, settings=SETTINGS) if m.name.startswith("First")]
    assert (m2.met, m2.denominator, m2.percent, m2.not_judged) == (0, 0, None, 1)
    assert "1 review was held" in m2.counts
    after_first_year = make_pupil(  # plan 1 Jun 2024, review 1 Aug 2025: late first review or a second one: unknown
        16,
        "Kai Later",
        date(2015, 7, 7),
        Status.ON_TRACK,
        facts={"plan_issued": date(2024, 6, 1), "last_review": date(2025, 8, 1)},
    )
    pupils = [veteran, first_due_now, early_first, never_reviewed, after_first_year]
    (m2,) = [m for m in compliance_measures(pupils, today=TODAY, settings=SETTINGS) if m.name.startswith("First")]
    assert (m2.met, m2.denominator, m2.not_judged) == (1, 2, 2)  # Eli in time, Ola late; Vera and Kai not judged


def test_overview_workbook_figures_read_back(tmp_path: Path) -> None:
    out = write_overview(REGISTER, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out=tmp_path / "o.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", "Compliance", "Due by month", "Pupils", "LA timeliness"]  # issue 14

    summary = wb["Summary"]
    assert summary["A2"].value == "Computed for Wed 1 Oct 2025"
    heading = [summary.cell(i, 1).value for i in range(3, 8)]
    assert heading[0] == "Settings used:"
    assert any("Anchor:" in line for line in heading[1:])
    assert any("21 Jul to 31 Aug" in line for line in heading[1:])
    assert table_rows(summary, "Measure")[0][:3] == ("Pupils on the register", 7, "Every named row")
    summary_header = next(r for r in summary.iter_rows(values_only=True) if r[0] == "Measure")
    assert summary_header[:3] == ("Measure", "Count", "What it counts")
    figures = {r[0]: r[1] for r in table_rows(summary, "Measure")}
    assert figures["Pupils on the register"] == 7
    assert figures["Caseload (reviews being tracked)"] == 5
    assert figures["Status: OVERDUE"] == 1
    assert figures["Status: ON TRACK"] == 2
    assert figures["Status: INVALID"] == 1
    assert figures["Home LA: Devon"] == 2
    assert figures["Home LA: (not recorded)"] == 1
    assert figures["Meeting due (hold-by): Nov 2025"] == 1
    assert figures["Year 9 or later at the review (PfA)"] == 2
    assert figures["Phase transfer review this cycle"] == 1
    assert figures["Data issues: rows with errors"] == 1

    compliance = {r[0]: r[1:4] for r in table_rows(wb["Compliance"], "Measure")}
    assert compliance["First reviews held within 12 months of the plan (last year)"] == (1, 1, 100)
    assert compliance["LA decisions within 4 weeks of the meeting"] == (2, 3, 66.7)
    assert compliance["Amended plans final within 12 weeks of the meeting"] == (1, 2, 50)

    due = wb["Due by month"]
    due_rows = table_rows(due, "Month")
    months = [(r[0], r[1]) for r in due_rows[:12]]
    assert months[0] == ("Oct 2025", 1)
    assert months[-1] == ("Sep 2026", 0)
    assert dict(months) == {
        **dict.fromkeys(dict(months), 0),
        "Oct 2025": 1,
        "Nov 2025": 1,
        "Feb 2026": 1,
        "Jun 2026": 1,
    }
    assert due_rows[12][:2] == ("Total", 4)
    assert due_rows[13][:2] == ("Overdue from before Oct 2025", 1)  # Amy
    assert len(due._images) == 1

    pupils = wb["Pupils"]
    header = [c.value for c in pupils[1]]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in pupils.iter_rows(min_row=2, values_only=True)}
    assert sorted(rows) == [5, 6, 7, 8, 9, 10, 11]
    assert rows[6]["Pupil"] == "Ben C."
    assert rows[6]["Status"] == "DUE SOON"
    assert rows[6]["PfA"] == "PfA required"
    assert rows[7]["Hold meeting by"].date() == date(2025, 11, 21)  # a real date cell
    assert rows[11]["Status"] == "INVALID"
    assert rows[11]["Hold meeting by"] is None
    hold_col = header.index("Hold meeting by") + 1
    assert pupils.cell(2, hold_col).is_date


def test_overview_has_no_dob_upn_or_full_names(tmp_path: Path) -> None:
    out = write_overview(REGISTER, today=TODAY, school_name=SCHOOL, settings=SETTINGS, out=tmp_path / "o.xlsx")
    raw = raw_package_text(out)
    assert "B801200005001" not in raw
    assert "A123456789012" not in raw
    assert "Brown" not in raw
    assert "Carter" not in raw
    # Dates of birth are written nowhere: as text, nor as an Excel serial in a cell.
    wb = load_workbook(out)
    dobs = {p.record.facts.dob for p in REGISTER if p.record.facts}
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                assert not (hasattr(value, "date") and value.date() in dobs)
                assert not (isinstance(value, str) and any(f in value for d in dobs for f in dob_forms(d)))


# --- calendar ----------------------------------------------------------------------------------------------------


def read_events(path: Path) -> list:
    cal = Calendar.from_ical(path.read_bytes())
    return list(cal.walk("VEVENT"))


def test_calendar_events_and_stable_uids(tmp_path: Path) -> None:
    first = write_calendar(REGISTER, today=TODAY, school_name=SCHOOL, out=tmp_path / "a.ics")
    again = write_calendar(list(reversed(REGISTER)), today=TODAY, school_name=SCHOOL, out=tmp_path / "b.ics")
    assert first.read_bytes() == again.read_bytes()

    events = read_events(first)
    # 5 pupils on roll x (hold-by, invitations, contributions) + Dev's report, still not sent.
    assert len(events) == 16
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == 16
    summaries = {str(e["SUMMARY"]) for e in events}
    assert "Hold review meeting by: Chloé D. (annual review)" in summaries
    assert "Review report to LA due: Dev P. (annual review)" in summaries
    hold_ben = next(e for e in events if str(e["SUMMARY"]).startswith("Hold review meeting by: Ben C."))
    assert hold_ben.decoded("DTSTART") == date(2025, 10, 23)  # all-day: a DATE, not a DATETIME
    assert hold_ben.decoded("DTEND") == date(2025, 10, 24)
    assert not any("Finn" in s or "Gus" in s for s in summaries)

    # The register sorted differently (new row numbers): the same events keep the same UIDs.
    moved = [replace(p, record=replace(p.record, row=p.record.row + 20)) for p in REGISTER]
    later = write_calendar(moved, today=TODAY, school_name=SCHOOL, out=tmp_path / "c.ics")
    assert sorted(str(e["UID"]) for e in read_events(later)) == sorted(uids)

    # A new cycle (review held, new anchor) gets new UIDs; the planned date moving keeps the UID (an update).
    booked = replace(BEN, clock=replace(BEN.clock, meeting_target=date(2025, 10, 16)))
    renewed = replace(BEN, clock=replace(BEN.clock, meeting_anchor=date(2025, 10, 20)))
    uid_of = {
        name: str(
            read_events(write_calendar([p], today=TODAY, school_name=SCHOOL, out=tmp_path / f"{name}.ics"))[0]["UID"]
        )
        for name, p in (("ben", BEN), ("booked", booked), ("renewed", renewed))
    }
    assert uid_of["ben"] == uid_of["booked"] != uid_of["renewed"]


def test_calendar_has_no_dob_upn_or_surname(tmp_path: Path) -> None:
    path = write_calendar(REGISTER, today=TODAY, school_name=SCHOOL, out=tmp_path / "r.ics")
    raw = path.read_text("utf-8")
    unfolded = re.sub(r"\r\n[ \t]", "", raw)
    for pupil in REGISTER:
        assert pupil.record.facts is None or not any(f in unfolded for f in dob_forms(pupil.record.facts.dob))
        if pupil.record.upn:
            assert pupil.record.upn not in unfolded
        surname = pupil.record.name.split()[-1]
        assert surname not in unfolded
    assert "Computed for Wed 1 Oct 2025" in unfolded
    assert "DTSTAMP:20251001T000000Z" in raw


def test_record_says_whether_the_young_person_is_invited_in_their_own_right(tmp_path: Path) -> None:
    # issue 14 item 6: past compulsory school age (Ben's ends Fri 30 Jun 2028: a meeting after it), with and without
    # their own email in the register.
    assert BEN.clock is not None
    later = replace(BEN.clock, meeting_date=date(2028, 7, 3))
    with_email = replace(BEN, clock=later, record=replace(BEN.record, young_person_email="ben@f.example"))
    without = replace(BEN, clock=later)
    text = docx_text(write_review_record(with_email, today=TODAY, school_name=SCHOOL, settings=SETTINGS,
                                         out_dir=tmp_path / "a"))  # fmt: skip
    assert "they are asked for their views, invited and told of each stage themselves" in text
    text = docx_text(write_review_record(without, today=TODAY, school_name=SCHOOL, settings=SETTINGS,
                                         out_dir=tmp_path / "b"))  # fmt: skip
    assert 'add a "Young person email" column' in text
