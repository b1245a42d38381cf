"""Formulas in the Contributions cells the product fills (issue 10 item 4): "fills a blank cell only" means a cell
with no value and no formula (docs/register.md s6). A formula there, even one showing blank such as
`=IFERROR(VLOOKUP(...),"")`, is the SENDCo's: it is never written (connectors.placement), and when it is where the
product must record what it sends, that row gets no emails and the pupil's AR issues say why."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from .cells import cell_text, is_blank
from .contributions import (
    CHASERS,
    CONTRIBUTIONS_SHEET,
    LAST_CHASED,
    PUPIL,
    RECEIVED,
    REQUESTED,
    find_contributions_header,
    pupils_for_ref,
)
from .model import ReviewedPupil

# The cells the product fills as it emails (docs/register.md s6), and what it records in each.
_FILLED_AS_IT_EMAILS = ((REQUESTED, "date of the request"), (CHASERS, "chasers"), (LAST_CHASED, "date of the chaser"))


def formula_problem(
    index: int, values: Sequence[object], columns: Mapping[str, int], formulas: Collection[tuple[int, int]]
) -> str | None:
    """A formula where the product must record what it sends (Requested showing blank, Chasers, Last chased) blocks
    the emails of that row: "fills a blank cell only" means no value and no formula (docs/register.md s6)."""
    received = columns.get(RECEIVED)
    if received is not None and received < len(values) and not is_blank(values[received]):
        return None  # nothing more is sent for advice already received
    for header, what in _FILLED_AS_IT_EMAILS:
        col = columns.get(header)
        if col is None or (index, col) not in formulas:
            continue
        if header == REQUESTED and col < len(values) and not is_blank(values[col]):
            continue  # a formula showing the request's date: nothing to record there
        return (
            f'{CONTRIBUTIONS_SHEET} row {index + 1}: "{header}" holds a formula, so Review Keeper cannot record the '
            f"{what} there and sends no emails for this row; type the value instead of the formula, or move the "
            "formula to another column."
        )
    return None


def formula_issues(
    rows: Sequence[Sequence[object]], formulas: Collection[tuple[int, int]], pupils: Sequence[ReviewedPupil]
) -> dict[int, list[str]]:
    """pupil row -> the sentences for its AR issues about Contributions rows whose formulas block a step."""
    found = find_contributions_header(rows) if formulas else None
    if found is None:
        return {}
    header_row, columns = found
    out: dict[int, list[str]] = {}
    for index in range(header_row, len(rows)):
        values = rows[index]
        problem = formula_problem(index, values, columns, formulas)
        pupil_col = columns.get(PUPIL)
        if problem is None or pupil_col is None or pupil_col >= len(values):
            continue
        matches = pupils_for_ref(cell_text(values[pupil_col]).strip(), pupils)
        if len(matches) == 1:
            out.setdefault(matches[0].record.row, []).append(problem)
    return out


__all__ = ["formula_issues", "formula_problem"]
