"""Building blocks of the Word documents the reports write: an A4 page with the school's header and a page-numbered
footer, and the few table shapes the review record uses (Word honours cell widths, LibreOffice the grid: both set).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table

from review_rules.model import RuleSettings
from sheet_schema.model import ReviewedPupil
from sheet_schema.output_text import docx_text

from .common import ContributionLine, settings_short, uk_date

BOX = "\u2610"  # an empty ballot box: a checklist that prints and that Word users tick by hand
GREY = RGBColor(0x59, 0x59, 0x59)
PROPERTY_LIMIT = 255


def new_document(pupil: ReviewedPupil, *, today: date, school_name: str, settings: RuleSettings) -> DocxDocument:
    doc = Document()
    section = doc.sections[0]
    # A4 with 2 cm margins: UK schools print on A4, and python-docx's default is US Letter.
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    # python-docx refuses a document property over 255 characters; a long name in the register must not stop a record.
    doc.core_properties.title = f"Annual review record: {pupil.record.short_name}"[:PROPERTY_LIMIT]
    doc.core_properties.author = school_name[:PROPERTY_LIMIT]
    doc.core_properties.comments = f"Computed for {today.isoformat()}; settings: {settings_short(settings)}"[
        :PROPERTY_LIMIT
    ]

    header = section.header.paragraphs[0]
    header.text = f"{school_name} · EHC plan annual review record"
    header.runs[0].font.size = Pt(8)
    header.runs[0].font.color.rgb = GREY

    footer = section.footer.paragraphs[0]
    run = footer.add_run(f"{pupil.record.short_name} · computed for {uk_date(today)} · page ")
    run.font.size = Pt(8)
    run.font.color.rgb = GREY
    add_page_field(footer)
    return doc


def add_page_field(paragraph) -> None:  # type: ignore[no-untyped-def]
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


def key_value_table(doc: DocxDocument, rows: Sequence[tuple[str, str]]) -> Table:
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    for key, value in rows:
        cells = table.add_row().cells
        cells[0].text = key
        cells[1].text = value
        cells[0].paragraphs[0].runs[0].bold = True
        shade(cells[0], "EDEDED")
    set_widths(table, (Cm(5.0), Cm(12.0)))
    return table


def dates_table(doc: DocxDocument, rows: Sequence[tuple[str, date | None, str]]) -> Table:
    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("What", "Date", "Rule"), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        shade(cell, "D9E2F3")
    for what, when, rule in rows:
        cells = table.add_row().cells
        cells[0].text = what
        cells[1].text = uk_date(when) if when else "—"
        cells[2].text = rule
        for run in cells[2].paragraphs[0].runs:
            run.font.size = Pt(9)
    set_widths(table, (Cm(4.2), Cm(3.5), Cm(9.3)))
    repeat_header(table)
    return table


def lined_table(doc: DocxDocument, headers: Sequence[str], rows: int) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        shade(cell, "D9E2F3")
    for _ in range(rows):
        row = table.add_row()
        row.height = Cm(1.2)


def prompt(doc: DocxDocument, text: str) -> None:
    p = doc.add_paragraph()
    run = p.add_run(text)
    run.italic = True
    run.font.color.rgb = GREY
    doc.add_paragraph()


def shade(cell, fill: str) -> None:  # type: ignore[no-untyped-def]
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def set_widths(table: Table, widths: Sequence[Cm]) -> None:
    # Word honours cell widths, LibreOffice the grid: set both so the table looks the same in each.
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = width
    for col, width in zip(table.columns, widths, strict=False):
        col.width = width


def repeat_header(table: Table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def docx_safe(
    pupil: ReviewedPupil, contributions: Sequence[ContributionLine], school_name: str
) -> tuple[ReviewedPupil, list[ContributionLine], str]:
    """The register's text as a Word document can hold it: a BEL in a name made python-docx raise (issue 10 item 11)."""
    record = pupil.record
    record = replace(
        record,
        name=docx_text(record.name),
        first_name=docx_text(record.first_name),
        surname_initial=docx_text(record.surname_initial),
        upn=docx_text(record.upn) if record.upn else record.upn,
        la=docx_text(record.la) if record.la else record.la,
        errors=tuple(docx_text(e) for e in record.errors),
        warnings=tuple(docx_text(w) for w in record.warnings),
    )
    pupil = replace(
        pupil,
        record=record,
        errors=tuple(docx_text(e) for e in pupil.errors),
        warnings=tuple(docx_text(w) for w in pupil.warnings),
    )
    lines = [replace(c, role=docx_text(c.role), name=docx_text(c.name)) for c in contributions]
    return pupil, lines, docx_text(school_name)
