"""The `AR suggested meeting` column as the plan left it (docs/register.md s5): read back by the jobs that show the
plan without solving it again (the digest's load line, the calendar's tentative meetings, the overview's chart)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from .ar_columns import AR_SUGGESTED
from .cells import CellError, parse_date
from .model import HeaderMatch


def suggested_meetings(rows: Sequence[Sequence[object]], header: HeaderMatch) -> dict[int, date]:
    """sheet row -> the suggested meeting date, for rows whose cell holds a date (a cell someone typed over with text
    is not a suggestion)."""
    column = header.ar_columns.get(AR_SUGGESTED)
    if column is None:
        return {}
    out: dict[int, date] = {}
    for number in range(header.header_row + 1, len(rows) + 1):
        values = rows[number - 1]
        if column < len(values):
            try:
                day = parse_date(values[column])
            except CellError:
                continue
            if day is not None:
                out[number] = day
    return out
