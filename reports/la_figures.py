"""Each local authority's record after the review meeting (issue 14 item 5), for the overview workbook's "LA timeliness"
sheet: decisions within 4 weeks of the meeting (reg 20(10)), median days from meeting to decision, amended plans final
in time (reg 22(3); Devon [2022] EWHC 493 (Admin)), and the reviews waiting on the LA now and for how long.

The LAs are grouped as keeper.toml's profiles name them: "Kent", "Kent CC" and "KCC" are one LA when a profile claims
those aliases. The map (alias -> the profile's name) comes in as data from the jobs (functions/la_profiles.py
`la_aliases`), since reports/ never imports functions/. Names match ignoring case, spaces and punctuation, as the
profiles do (docs/la-clock.md); a name no profile claims is its own LA, its spellings that differ only so merged.

Only what the register proves is counted (docs/rules.md s8): a date recorded before the meeting belongs to the previous
cycle and is ignored; a step whose date has not passed and is not recorded is not counted either way; a register
without the column to record a step makes that figure "not measurable", never zero.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XLImage
from openpyxl.styles import Font

from review_rules.model import Decision, Status
from sheet_schema.fields import normalise_header
from sheet_schema.model import ReviewedPupil

from .common import replaced_atomically

NOT_MEASURABLE = "not measurable"  # the register has no column to prove it
NONE_YET = "none yet"  # measurable, but nothing to count yet (no decision recorded or due, nobody waiting)
SHEET = "LA timeliness"
NO_LA = "(no LA given)"


@dataclass(frozen=True)
class LAFigures:
    la: str
    reviews: int  # reviews whose last meeting is recorded (the LA's clock has started)
    decisions_on_time: int | None  # None: not measurable (no LA decision date column)
    decisions_counted: int | None
    median_days_to_decision: float | None
    plans_on_time: int | None  # None: not measurable (no final amended plan column)
    plans_counted: int | None
    waiting: int  # report sent, the LA's decision or final plan not yet recorded
    longest_wait_days: int | None  # days since the meeting, of the longest waiting

    @staticmethod
    def percent(met: int | None, counted: int | None) -> float | None:
        return None if not counted or met is None else round(100 * met / counted, 1)


def _this_cycle(value: date | None, held: date) -> date | None:
    return value if value is not None and value >= held else None


LAAliases = Mapping[str, str]  # a name or alias as the register may write it -> the LA's name in keeper.toml


def la_groups(pupils: Sequence[ReviewedPupil], aliases: LAAliases | None = None) -> dict[str, list[ReviewedPupil]]:
    """The reviews whose LA clock has started, per LA: the profile's name where a profile claims the register's
    name; otherwise the name as most often typed (trimmed)."""
    return _grouped([(pupils, aliases)])


def _grouped(parts: Sequence[tuple[Sequence[ReviewedPupil], LAAliases | None]]) -> dict[str, list[ReviewedPupil]]:
    """`parts`: pupils with the alias map that names their LAs (a trust: each school's own)."""
    keyed: dict[str, list[ReviewedPupil]] = {}
    spellings: dict[str, Counter[str]] = {}
    for pupils, aliases in parts:
        canonical = {normalise_header(k): v for k, v in (aliases or {}).items()}
        for p in pupils:
            if p.clock is None or p.clock.after_meeting is None or p.status in (Status.INVALID, Status.INACTIVE):
                continue
            typed = (p.record.la or "").strip() or NO_LA
            name = canonical.get(normalise_header(typed)) if typed != NO_LA else None
            shown = name if name is not None else typed
            key = normalise_header(shown) if shown != NO_LA else NO_LA
            keyed.setdefault(key, []).append(p)
            spellings.setdefault(key, Counter())[shown] += 1
    # The spelling most often used names the LA (ties: the first in the register's order).
    return {max(spellings[k], key=spellings[k].__getitem__): group for k, group in keyed.items()}


def la_figures(pupils: Sequence[ReviewedPupil], *, today: date, aliases: LAAliases | None = None) -> list[LAFigures]:
    """Per LA (merged by `aliases`, see la_groups), sorted by name."""
    return figures_of(la_groups(pupils, aliases), today=today)


def figures_of(groups: Mapping[str, list[ReviewedPupil]], *, today: date) -> list[LAFigures]:
    return [_one(la, group, today) for la, group in sorted(groups.items())]


def _one(la: str, group: list[ReviewedPupil], today: date) -> LAFigures:
    dec_met = dec_counted = plan_met = plan_counted = waiting = 0
    days: list[int] = []
    waits: list[int] = []
    dec_measurable = plan_measurable = True
    for p in group:
        facts, after = p.record.facts, p.clock.after_meeting  # type: ignore[union-attr]
        assert facts is not None
        assert after is not None
        held = after.meeting_held
        decided = _this_cycle(facts.la_decision, held)
        if "decision_due" in facts.no_column_for:
            dec_measurable = False
        elif decided is not None:
            dec_counted += 1
            dec_met += decided <= after.decision_due
            days.append((decided - held).days)
        elif after.decision_due < today:
            dec_counted += 1  # late and still not recorded: counts against the LA
        final = _this_cycle(facts.final_plan, held)
        if after.final_plan_due is not None:
            if "final_plan_due" in facts.no_column_for:
                plan_measurable = False
            elif final is not None:
                plan_counted += 1
                plan_met += final <= after.final_plan_due
            elif after.final_plan_due < today:
                plan_counted += 1
        report = _this_cycle(facts.report_sent, held)
        amend = facts.decision is Decision.AMEND and decided is not None
        # Without the column to record the LA's answer (the decision, or the final plan after an amend decision) the
        # register cannot show it came: such a review is not counted as waiting, however long ago the meeting was.
        unknowable = (decided is None and "decision_due" in facts.no_column_for) or (
            amend and final is None and "final_plan_due" in facts.no_column_for
        )
        if report is not None and (decided is None or (amend and final is None)) and not unknowable:
            waiting += 1
            waits.append((today - held).days)
    return LAFigures(
        la=la,
        reviews=len(group),
        decisions_on_time=dec_met if dec_measurable else None,
        decisions_counted=dec_counted if dec_measurable else None,
        median_days_to_decision=float(statistics.median(days)) if days and dec_measurable else None,
        plans_on_time=plan_met if plan_measurable else None,
        plans_counted=plan_counted if plan_measurable else None,
        waiting=waiting,
        longest_wait_days=max(waits) if waits else None,
    )


HEADERS = (
    "LA",
    "Reviews with a meeting recorded",
    "Decisions within 4 weeks",
    "Decisions counted",
    "% within 4 weeks",
    "Median days meeting to decision",
    "Amended plans in time",
    "Amended plans counted",
    "% in time",
    "Waiting on the LA now",
    "Longest wait (days since meeting)",
)


def _cell(value: object, measurable: bool = True) -> object:
    """ "not measurable" only where the register lacks the column; a figure with nothing to count yet says so."""
    if not measurable:
        return NOT_MEASURABLE
    return NONE_YET if value is None else value


def rows(figures: Sequence[LAFigures]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for f in figures:
        decisions, plans = f.decisions_counted is not None, f.plans_counted is not None
        out.append(
            (
                f.la,
                f.reviews,
                _cell(f.decisions_on_time, decisions),
                _cell(f.decisions_counted, decisions),
                _cell(LAFigures.percent(f.decisions_on_time, f.decisions_counted), decisions),
                _cell(f.median_days_to_decision, decisions),
                _cell(f.plans_on_time, plans),
                _cell(f.plans_counted, plans),
                _cell(LAFigures.percent(f.plans_on_time, f.plans_counted), plans),
                f.waiting,
                _cell(f.longest_wait_days),
            )
        )
    return out


def _charted(figures: Sequence[LAFigures]) -> list[LAFigures]:
    """The LAs with a percentage to show: a bar at 0% for an LA with nothing counted would read as "never on time"."""
    return [f for f in figures if LAFigures.percent(f.decisions_on_time, f.decisions_counted) is not None]


def chart_png(figures: Sequence[LAFigures]) -> bytes:
    figures = _charted(figures) or list(figures)
    names = [f.la for f in figures]
    values = [LAFigures.percent(f.decisions_on_time, f.decisions_counted) or 0.0 for f in figures]
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    ax.bar(names, values, color="#4472C4")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of decisions within 4 weeks")
    ax.set_title("LA decisions within 4 weeks of the review meeting (reg 20(10))")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def add_la_sheet(
    book: Workbook, pupils: Sequence[ReviewedPupil], *, today: date, aliases: LAAliases | None = None
) -> None:
    """The "LA timeliness" sheet: the table, what it counts, and the chart."""
    figures = la_figures(pupils, today=today, aliases=aliases)
    ws = book.create_sheet(SHEET)
    ws.append([f"LA timeliness after the review meeting, as at {today:%d/%m/%Y}"])
    ws["A1"].font = Font(bold=True)
    ws.append(
        [
            "Counted: decisions recorded, and those past their due date and not recorded (they count as late). "
            'Dates before the meeting are the previous cycle\'s. "not measurable": the register has no column to '
            'record that step; "none yet": nothing to count so far.'
        ]
    )
    ws.append([])
    ws.append(list(HEADERS))
    for cell in ws[4]:
        cell.font = Font(bold=True)
    for row in rows(figures):
        ws.append(list(row))
    ws.column_dimensions["A"].width = 24
    for letter in "BCDEFGHIJK":
        ws.column_dimensions[letter].width = 16
    if _charted(figures):
        ws.add_image(XLImage(io.BytesIO(chart_png(figures))), f"A{len(figures) + 7}")


def write_trust_workbook(
    per_school: Sequence[tuple[str, Sequence[ReviewedPupil]]],
    *,
    today: date,
    out: Path,
    aliases_by_school: Mapping[str, LAAliases] | None = None,
) -> Path:
    """A trust's LA timeliness (`main.py la-figures`): one table per LA across all its schools (with the chart), and
    one row per school and LA. Every figure is the same count as the overview's sheet. `aliases_by_school`: each
    school's own alias map (by school name), since each school's keeper.toml settings may name its LAs."""
    aliases_by_school = aliases_by_school or {}
    combined = figures_of(
        _grouped([(pupils, aliases_by_school.get(school)) for school, pupils in per_school]), today=today
    )
    book = Workbook()
    ws = book.active
    ws.title = "By LA"
    ws.append([f"LA timeliness across {len(per_school)} schools, as at {today:%d/%m/%Y}"])
    ws["A1"].font = Font(bold=True)
    ws.append([])
    ws.append(list(HEADERS))
    for row in rows(combined):
        ws.append(list(row))
    if _charted(combined):
        ws.add_image(XLImage(io.BytesIO(chart_png(combined))), f"A{len(combined) + 6}")
    ws = book.create_sheet("By school")
    ws.append(["School", *HEADERS])
    for school, pupils in per_school:
        for row in rows(la_figures(pupils, today=today, aliases=aliases_by_school.get(school))):
            ws.append([school, *row])
    for sheet in book.worksheets:
        for cell in sheet[3 if sheet.title == "By LA" else 1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 24
    with replaced_atomically(out) as tmp:
        book.save(tmp)
    return out


__all__ = [
    "HEADERS",
    "NONE_YET",
    "NOT_MEASURABLE",
    "NO_LA",
    "SHEET",
    "LAAliases",
    "LAFigures",
    "add_la_sheet",
    "chart_png",
    "figures_of",
    "la_figures",
    "la_groups",
    "rows",
    "write_trust_workbook",
]
