"""The Contributions cells the email step writes, once its emails have gone: Requested, Chasers, Last chased and
"AR invited for" on the rows that were emailed, and the Parent/carer rows seeded from the register (docs/register.md
s6). Turns the planner's `CellUpdate`s into the register adapter's `WritePlan`; pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol

from connectors.base import CellValue, CellWrite, WritePlan
from sheet_schema.ar_columns import DATE_FORMAT, column_width
from sheet_schema.contributions import (
    CHASERS,
    CONTRIBUTION_HEADERS,
    CONTRIBUTIONS_SHEET,
    INVITED_FOR,
    LAST_CHASED,
    REQUESTED,
    Contribution,
    contributions_header_key,
    find_contributions_header,
    key_of_row,
)

from .plan_model import CellUpdate, ContributionKey


class _Planned(Protocol):
    """An EmailPlan or the planner's EmailDecisions: both carry the updates and the seeded rows."""

    @property
    def updates(self) -> tuple[CellUpdate, ...]: ...

    @property
    def new_rows(self) -> tuple[Contribution, ...]: ...


def updates_to_write(plan: _Planned, sent_keys: Iterable[str] | None = None) -> dict[ContributionKey, dict[str, Any]]:
    """Cells per row for the emails that went (`sent_keys`: reason keys sent or already in the ledger; None: all, as in
    a dry run), plus the ledger recoveries. Later updates to the same row merge into earlier ones."""
    allowed = None if sent_keys is None else set(sent_keys)
    out: dict[ContributionKey, dict[str, Any]] = {}
    for update in plan.updates:
        if update.reason_key is not None and allowed is not None and update.reason_key not in allowed:
            continue
        out.setdefault(update.key, {}).update(update.values)
    return out


def rows_to_append(plan: _Planned, sent_keys: Iterable[str] | None = None) -> list[list[CellValue]]:
    """Seeded Parent/carer rows, with whatever was sent to them today, in CONTRIBUTION_HEADERS order (then "AR invited
    for")."""
    cells = updates_to_write(plan, sent_keys)
    out: list[list[CellValue]] = []
    for c in plan.new_rows:
        done = cells.get(c.key, {})
        out.append(
            [
                c.pupil_ref,
                c.role,
                c.name,
                c.email or "",
                done.get(REQUESTED),
                None,
                done.get(CHASERS),
                done.get(LAST_CHASED),
                c.notes,
                done.get(INVITED_FOR),
            ]
        )
    return out


def contributions_write_plan(plan: _Planned, sent_keys: Iterable[str] | None = None) -> WritePlan:
    """The Contributions cells for the register adapter's write (rows on the sheet only; see rows_to_append)."""
    cells = updates_to_write(plan, sent_keys)
    seeded = {c.key for c in plan.new_rows}
    current: dict[str, dict[str, int]] = {"columns": {}}

    def find_header_row(rows: list[list[CellValue]]) -> int | None:
        found = find_contributions_header(rows)
        if found is None:
            return None
        current["columns"] = found[1]
        return found[0]

    def key_of(values: list[CellValue]) -> ContributionKey | None:
        return key_of_row(values, current["columns"])

    def cell(value: Any) -> CellWrite:
        return CellWrite(value, DATE_FORMAT) if isinstance(value, date) else CellWrite(value)

    return WritePlan(
        sheet=CONTRIBUTIONS_SHEET,
        headers=(*CONTRIBUTION_HEADERS, INVITED_FOR),
        find_header_row=find_header_row,
        key_of=key_of,
        rows={k: {h: cell(v) for h, v in values.items()} for k, values in cells.items() if k not in seeded},
        # Columns as parse_contributions finds them ("Received?" is Received, "E-mail" is Email), and only the first
        # of duplicate rows: it is the one parse_contributions emails, so the only one whose Requested/Chasers moved.
        header_key=contributions_header_key,
        first_match_only=True,
        # Widths for the columns the product adds (all of them when it creates the tab); the SENDCo's stay theirs.
        column_widths={h: column_width(h) for h in (*CONTRIBUTION_HEADERS, INVITED_FOR)},
    )


__all__ = ["contributions_write_plan", "rows_to_append", "updates_to_write"]
