"""The caseload overview workbook for the head teacher, governors and trust: counts, compliance measures, one row per
pupil, and a chart of the reviews due in the next 12 months.

Every figure is a plain count over the register that a reader can check by hand: the sheets say what each one counts.
Names appear as first name and surname initial; no date of birth or UPN is written.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a server or in CI

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator
from openpyxl.drawing.image import Image as XLImage
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from review_rules.dates import add_months_clamped
from review_rules.model import RuleSettings, Status
from sheet_schema.ar_columns import DATE_FORMAT
from sheet_schema.ar_columns import STATUS_FILLS as AR_STATUS_FILLS
from sheet_schema.model import ReviewedPupil
from sheet_schema.output_text import xlsx_text

from .common import (
    STATUS_LABELS,
    replaced_atomically,
    settings_lines,
    transfer_label,
    uk_date,
    uk_month,
    year_label,
)
from .compliance import NOT_RECORDED, caseload, compliance_measures
from .la_figures import add_la_sheet

STATUS_ORDER: tuple[Status, ...] = (
    Status.OVERDUE,
    Status.DUE_SOON,
    Status.PREPARE,
    Status.ON_TRACK,
    Status.INACTIVE,
    Status.INVALID,
)
# The register's own AR status fills (docs/register.md s5), so the overview reads like the register.
STATUS_FILLS = AR_STATUS_FILLS


def months_ahead(today: date, n: int = 12) -> list[date]:
    """The first day of this month and of the next n - 1 months."""
    first = today.replace(day=1)
    return [add_months_clamped(first, i) for i in range(n)]


def due_per_month(pupils: Sequence[ReviewedPupil], *, today: date, n: int = 12) -> list[tuple[date, int]]:
    """Hold-by dates (meeting_target) of the caseload, counted per month for this month and the next n - 1."""
    counts = Counter(
        p.clock.meeting_target.replace(day=1)
        for p in caseload(pupils)
        if p.clock is not None  # narrowed for the type checker; caseload() guarantees it
    )
    return [(m, counts.get(m, 0)) for m in months_ahead(today, n)]


def summary_counts(pupils: Sequence[ReviewedPupil]) -> dict[str, object]:
    """Every figure on the Summary sheet, as plain Python values (the tests compare them with hand counts)."""
    active = caseload(pupils)
    by_status = Counter(p.status for p in pupils)
    by_la = la_counts(p.record.la for p in sorted(active, key=lambda p: p.record.row))
    by_month = Counter(p.clock.meeting_target.replace(day=1) for p in active if p.clock is not None)
    return {
        "total_rows": len(pupils),
        "caseload": len(active),
        "by_status": {s: by_status.get(s, 0) for s in STATUS_ORDER},
        "by_la": dict(sorted(by_la.items(), key=lambda kv: (kv[0] == NOT_RECORDED, kv[0].lower()))),
        "by_month": dict(sorted(by_month.items())),
        "year9_plus": sum(1 for p in active if p.clock is not None and p.clock.pfa_required),
        "phase_transfers": sum(1 for p in active if p.clock is not None and p.clock.phase_transfer is not None),
        "rows_with_errors": sum(1 for p in pupils if p.errors or p.status is Status.INVALID),
        "rows_with_warnings": sum(1 for p in pupils if p.warnings),
    }


def la_counts(names: Iterable[str | None]) -> Counter[str]:
    """Pupils per home LA. "Kent", "kent " and "KENT" are one LA (a register typed by hand over years spells it
    several ways); it is shown as the SENDCo spells it most often, the first such spelling on a tie."""
    spellings: dict[str, Counter[str]] = {}
    for name in names:
        shown = " ".join((name or "").split()) or NOT_RECORDED
        spellings.setdefault(shown.casefold(), Counter())[shown] += 1
    return Counter({seen.most_common(1)[0][0]: seen.total() for seen in spellings.values()})


PUPIL_COLUMNS = (
    "Row", "Pupil", "Status", "Home LA", "Year at review", "PfA", "Phase transfer", "Transfer plan final by",
    "Last review", "Plan issued", "Window ends", "Hold meeting by", "Planned meeting", "Ask for advice from",
    "Contributions due", "Invitations by", "Report due", "LA decision due", "LA decision", "Final plan due",
    "Final plan", "Late after meeting", "Issues",
)  # fmt: skip
NO_PUPILS = "The register has no pupils yet: its header was found, but no row below it names a pupil."


def pupils_frame(pupils: Sequence[ReviewedPupil]) -> pd.DataFrame:
    """One row per register row, dates as real dates (written as date cells)."""
    rows = []
    for p in sorted(pupils, key=lambda p: p.record.row):
        c = p.clock
        facts = p.record.facts
        after = c.after_meeting if c else None
        pt = c.phase_transfer if c else None
        rows.append(
            {
                "Row": p.record.row,
                "Pupil": p.record.short_name,
                "Status": STATUS_LABELS[p.status],
                "Home LA": p.record.la or "",
                "Year at review": year_label(c.nc_year_at_review) if c else "",
                "PfA": "PfA required" if c and c.pfa_required else "",
                "Phase transfer": f"{transfer_label(pt.from_year, pt.to_post16)}" if pt else "",
                "Transfer plan final by": pt.final_by if pt else None,
                "Last review": facts.last_review if facts else None,
                "Plan issued": facts.plan_issued if facts else None,
                "Window ends": c.window_end if c else None,
                "Hold meeting by": c.meeting_target if c else None,
                "Planned meeting": c.meeting_date if c and c.meeting_is_planned else None,
                "Ask for advice from": c.requests_from if c else None,
                "Contributions due": c.contributions_due if c else None,
                "Invitations by": c.invites_by if c else None,
                "Report due": after.report_due if after else None,
                "LA decision due": after.decision_due if after else None,
                "LA decision": facts.la_decision if facts else None,
                "Final plan due": after.final_plan_due if after else None,
                "Final plan": facts.final_plan if facts else None,
                "Late after meeting": ", ".join(s.replace("_", " ") for s in after.late) if after else "",
                "Issues": " | ".join((*p.errors, *p.warnings)),
            }
        )
    return pd.DataFrame(rows, columns=list(PUPIL_COLUMNS))


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Register text made safe for a cell before pandas sees it (a BEL in a name made openpyxl raise)."""
    return frame.map(lambda v: xlsx_text(v) if isinstance(v, str) else v)


def _no_formulas(book: Workbook) -> None:
    """Every cell of the overview is a value: register text such as "=1+1 Ito" that openpyxl took for a formula is
    stored as the text it is (docs/register.md s5: text is written as text, never a formula)."""
    for ws in book.worksheets:
        for cell in ws._cells.values():
            if cell.data_type == "f":
                cell.data_type = "s"


def chart_png(months: Sequence[tuple[date, int]], *, title: str) -> bytes:
    """A bar chart of reviews due per month, as PNG bytes (the counts are printed on the bars to be read exactly)."""
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    try:
        labels = [uk_month(m) for m, _ in months]
        values = [n for _, n in months]
        bars = ax.bar(range(len(values)), values, color="#4472C4")
        ax.set_xticks(range(len(values)), labels, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("Reviews due (hold-by date)")
        ax.set_title(title, fontsize=10)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of reviews: whole numbers only
        ax.set_ylim(0, max([*values, 1]) * 1.2)
        for bar, n in zip(bars, values, strict=True):
            ax.annotate(str(n), (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom")
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        # A fixed date in the metadata keeps two runs on the same data identical.
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)


def write_overview(
    pupils: Sequence[ReviewedPupil],
    *,
    today: date,
    school_name: str,
    settings: RuleSettings,
    out: Path,
    la_aliases: Mapping[str, str] | None = None,
) -> Path:
    """Write the caseload overview workbook (Summary, Compliance, Due by month with chart, Pupils) to `out`.
    `la_aliases`: keeper.toml's LA names and aliases -> each LA's name, for the "LA timeliness" sheet."""
    counts = summary_counts(pupils)
    measures = compliance_measures(pupils, today=today, settings=settings)
    months = due_per_month(pupils, today=today)
    overdue_before = sum(1 for p in caseload(pupils) if p.clock is not None and p.clock.meeting_target < months[0][0])

    header = [
        f"Annual reviews: caseload overview, {school_name}",
        f"Computed for {uk_date(today)}",
        "Settings used:",
        *(f"    {line}" for line in settings_lines(settings)),
    ]
    if not pupils:
        header.append(NO_PUPILS)
    header = [xlsx_text(line) for line in header]

    summary_rows: list[tuple[str, object, str]] = []
    summary_rows.append(("Pupils on the register", counts["total_rows"], "Every named row"))
    summary_rows.append(
        ("Caseload (reviews being tracked)", counts["caseload"], "Rows that are neither INVALID nor INACTIVE")
    )
    by_status: dict[Status, int] = counts["by_status"]  # type: ignore[assignment]
    for status in STATUS_ORDER:
        summary_rows.append((f"Status: {STATUS_LABELS[status]}", by_status[status], "All rows"))
    by_la: dict[str, int] = counts["by_la"]  # type: ignore[assignment]
    for la, n in by_la.items():
        summary_rows.append((f"Home LA: {la}", n, "Caseload"))
    by_month: dict[date, int] = counts["by_month"]  # type: ignore[assignment]
    for month, n in by_month.items():
        summary_rows.append((f"Meeting due (hold-by): {uk_month(month)}", n, "Caseload, by month of the hold-by date"))
    summary_rows.append(("Year 9 or later at the review (PfA)", counts["year9_plus"], "Caseload"))
    summary_rows.append(("Phase transfer review this cycle", counts["phase_transfers"], "Caseload"))
    summary_rows.append(("Data issues: rows with errors", counts["rows_with_errors"], "All rows (shown as INVALID)"))
    summary_rows.append(("Data issues: rows with warnings", counts["rows_with_warnings"], "All rows"))
    summary = pd.DataFrame(summary_rows, columns=["Measure", "Count", "What it counts"])

    compliance = pd.DataFrame(
        [
            {
                "Measure": m.name,
                "Met": m.met,
                "Out of": m.denominator,
                "Percent": m.percent,
                "What it counts": m.counts,
            }
            for m in measures
        ]
    )
    due = pd.DataFrame([{"Month": uk_month(m), "Reviews due": n} for m, n in months])
    per_pupil = _as_text(pupils_frame(pupils))
    summary, compliance = _as_text(summary), _as_text(compliance)

    start_row = len(header) + 1  # a blank row between the heading lines and the table
    with replaced_atomically(out) as tmp:
        _write_workbook(tmp, school_name, header, start_row, summary, compliance, due, per_pupil, pupils, months,
                        overdue_before, today=today, la_aliases=la_aliases)  # fmt: skip
    return out


def _write_workbook(
    out: Path,
    school_name: str,
    header: Sequence[str],
    start_row: int,
    summary: pd.DataFrame,
    compliance: pd.DataFrame,
    due: pd.DataFrame,
    per_pupil: pd.DataFrame,
    pupils: Sequence[ReviewedPupil],
    months: Sequence[tuple[date, int]],
    overdue_before: int,
    today: date | None = None,
    la_aliases: Mapping[str, str] | None = None,
) -> None:
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        summary.to_excel(writer, sheet_name="Summary", index=False, startrow=start_row)
        compliance.to_excel(writer, sheet_name="Compliance", index=False, startrow=start_row)
        due.to_excel(writer, sheet_name="Due by month", index=False, startrow=start_row)
        per_pupil.to_excel(writer, sheet_name="Pupils", index=False)

        book = writer.book
        # The last column each heading line may wrap across, so the sheet prints one page wide at a readable size.
        heading_span = {"Summary": "C", "Compliance": "E", "Due by month": "L"}
        for name, last_col in heading_span.items():
            ws = book[name]
            _heading_lines(ws, header, last_col=last_col)
            _style_header_row(ws, start_row + 1)
            _print_setup(ws, landscape=name != "Summary")
        ws = book["Summary"]
        _widths(ws, {"A": 44, "B": 10, "C": 46})
        ws = book["Compliance"]
        _widths(ws, {"A": 48, "B": 8, "C": 8, "D": 9, "E": 80})
        for (cell,) in ws.iter_rows(min_row=start_row + 2, min_col=5, max_col=5):
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            # Spreadsheet programs do not grow a row for wrapped text written by a library: size it from the text.
            if isinstance(cell.value, str):
                ws.row_dimensions[cell.row].height = 13.5 * (len(cell.value) // 75 + 1)
        for row in ws.iter_rows(min_row=start_row + 2, min_col=4, max_col=4):
            for cell in row:
                cell.number_format = "0.0"
        note_row = start_row + len(compliance) + 3
        ws.cell(note_row, 1, "Percent = Met / Out of x 100, blank when nothing was counted. Pupils on roll only.")

        ws = book["Due by month"]
        _widths(ws, {"A": 26, "B": 12})
        total_row = start_row + len(due) + 2
        ws.cell(total_row, 1, "Total").font = Font(bold=True)
        ws.cell(total_row, 2, sum(n for _, n in months)).font = Font(bold=True)
        ws.cell(total_row + 1, 1, f"Overdue from before {uk_month(months[0][0])}")
        ws.cell(total_row + 1, 2, overdue_before)
        png = chart_png(
            months, title=f"Annual reviews due per month from {uk_month(months[0][0])} ({xlsx_text(school_name)})"
        )
        image = XLImage(io.BytesIO(png))
        ws.add_image(image, f"D{start_row + 1}")

        ws = book["Pupils"]
        _style_header_row(ws, 1)
        _print_setup(ws, landscape=True, pages_wide=2)
        ws.print_title_rows = "1:1"
        ws.freeze_panes = "C2"
        for col_idx, column in enumerate(per_pupil.columns, start=1):
            letter = get_column_letter(col_idx)
            is_date = per_pupil[column].map(lambda v: isinstance(v, date)).any()
            ws.column_dimensions[letter].width = max(12 if is_date else 10, min(40, len(column) + 2))
            if is_date:
                for (cell,) in ws.iter_rows(min_row=2, min_col=col_idx, max_col=col_idx):
                    cell.number_format = DATE_FORMAT
        status_col = list(per_pupil.columns).index("Status") + 1
        for p, (cell,) in zip(
            sorted(pupils, key=lambda p: p.record.row),
            ws.iter_rows(min_row=2, min_col=status_col, max_col=status_col),
            strict=True,
        ):
            cell.fill = PatternFill("solid", start_color=STATUS_FILLS[p.status])
        ws.column_dimensions[get_column_letter(len(per_pupil.columns))].width = 60
        if today is not None:
            add_la_sheet(book, pupils, today=today, aliases=la_aliases)  # issue 14: each LA's record after the meeting
        _no_formulas(book)


def _heading_lines(ws: Worksheet, lines: Sequence[str], *, last_col: str) -> None:
    for i, text in enumerate(lines, start=1):
        cell = ws.cell(i, 1, text)
        cell.font = Font(bold=i == 1, size=13 if i == 1 else 10)
        if len(text) > 60:
            ws.merge_cells(f"A{i}:{last_col}{i}")
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.row_dimensions[i].height = 27


def _print_setup(ws: Worksheet, *, landscape: bool, pages_wide: int = 1) -> None:
    # One page wide (the pupil list two), as many long as needed: a printout keeps a table's columns together.
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = pages_wide
    ws.page_setup.fitToHeight = 0


def _style_header_row(ws: Worksheet, row: int) -> None:
    for cell in ws[row]:
        if cell.value is not None:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", start_color="D9E2F3")


def _widths(ws: Worksheet, widths: dict[str, float]) -> None:
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
