"""The year's review workload against the SENDCo's capacity, week by week, before and after the plan (issue 13): a
line chart as PNG bytes for the overview workbook. Pure over plain numbers: the plan itself is computed elsewhere."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display on a server or in CI

import matplotlib.pyplot as plt
from openpyxl.drawing.image import Image as XLImage
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.workbook import Workbook

from .common import uk_date


@dataclass(frozen=True)
class WeekPoint:
    week_start: date
    before: float  # hours with every unbooked review on its deadline (reminders alone)
    after: float  # hours with the plan's suggested meetings
    capacity: float  # hours the SENDCo has that week


def load_chart_png(weeks: Sequence[WeekPoint], *, title: str) -> bytes:
    """Weekly hours before (grey) and after (blue) the plan, with capacity as a step line (red); weeks over capacity
    after the plan are marked, so the overloaded weeks are seen at a glance."""
    fig, ax = plt.subplots(figsize=(9, 3.8), dpi=100)
    try:
        x = list(range(len(weeks)))
        ax.plot(x, [w.before for w in weeks], color="#A6A6A6", linewidth=1.2, label="Before the plan (on deadlines)")
        ax.plot(x, [w.after for w in weeks], color="#4472C4", linewidth=1.8, label="With the plan")
        ax.step(x, [w.capacity for w in weeks], where="mid", color="#C00000", linewidth=1.2, label="Hours available")
        over = [i for i, w in enumerate(weeks) if w.after > w.capacity + 0.01]
        if over:
            ax.scatter(over, [weeks[i].after for i in over], color="#C00000", zorder=3, s=14, label="Over capacity")
        step = max(1, len(weeks) // 13)
        ticks = x[::step]
        ax.set_xticks(ticks, [uk_date(weeks[i].week_start).split(" ", 1)[1] for i in ticks], rotation=45, ha="right")
        ax.tick_params(axis="x", labelsize=7)
        ax.set_ylabel("Hours of review work")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(
            0, max([w.before for w in weeks] + [w.after for w in weeks] + [w.capacity for w in weeks] + [1]) * 1.15
        )
        ax.legend(fontsize=7, loc="upper right", frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)


def add_load_sheet(book: Workbook, weeks: Sequence[WeekPoint], *, title: str, sheet: str = "Weekly load") -> None:
    """A sheet in the overview workbook (an openpyxl Workbook): the weekly hours before and after the plan against
    capacity, as a table and as the chart beside it."""
    ws = book.create_sheet(sheet)
    ws.append([title])
    ws["A1"].font = Font(bold=True)
    ws.append(["Week beginning", "Hours before the plan", "Hours with the plan", "Hours available"])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    over = PatternFill("solid", start_color="F4B6B6")
    for w in weeks:
        ws.append([w.week_start, w.before, w.after, w.capacity])
        ws.cell(ws.max_row, 1).number_format = "dd/mm/yyyy"
        if w.after > w.capacity + 0.01:
            ws.cell(ws.max_row, 3).fill = over
    for letter, width in {"A": 16, "B": 20, "C": 20, "D": 16}.items():
        ws.column_dimensions[letter].width = width
    if weeks:
        ws.add_image(XLImage(io.BytesIO(load_chart_png(weeks, title=title))), "F2")
