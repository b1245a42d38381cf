"""The register's AR cells as one write plan (docs/register.md s5): every pupil's cells keyed the way the adapter finds
their rows again at write time, and the AR outstanding cells alone for the link page's write."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from connectors.base import CellValue, CellWrite, WritePlan
from sheet_schema.ar_columns import AR_HEADERS, AR_OUTSTANDING, AR_WIDTHS, ar_row, own_header_key
from sheet_schema.contributions import Contribution, outstanding_by_pupil
from sheet_schema.header import find_header
from sheet_schema.model import HeaderMatch
from sheet_schema.validate import row_key

from .evaluate import Evaluation
from .settings import Settings


def _cell(value: Any, shared: dict[tuple[Any, ...], CellWrite]) -> CellWrite:
    """One CellWrite per distinct cell (a status, a date, the checked time ...) shared by every row that has it: 10,000
    rows of a dozen AR cells hold a few thousand objects, not 120,000 (issue 16). The type is in the key, since
    True == 1 and a date equal to another type's value must still be written as what it is."""
    key = (type(value.value), value.value, value.number_format, value.fill)
    cell = shared.get(key)
    if cell is None:
        cell = shared[key] = CellWrite(value.value, value.number_format, value.fill)
    return cell


def _full_key(values: Sequence[CellValue], header: HeaderMatch, duplicated: AbstractSet[Hashable]) -> object | None:
    key = row_key(values, header)
    if key is None or key not in duplicated:
        return key
    return (
        key,
        tuple("" if values[i] is None else str(values[i]) for i in sorted(header.columns.values()) if i < len(values)),
    )


def write_plan(
    evaluation: Evaluation,
    *,
    today: date,
    checked_at: datetime,
    settings: Settings,
    outstanding: Mapping[int, str] | None = None,
    more_issues: Mapping[int, Sequence[str]] | None = None,
) -> WritePlan:
    """The AR cells for every pupil, keyed the way the adapter will find their rows again at write time.
    `outstanding`: pupil row -> the AR outstanding cell (awaited contributions and their chasers); `more_issues`:
    pupil row -> further sentences for its AR issues (a Contributions formula that blocks a step)."""
    outstanding = outstanding or {}
    more_issues = more_issues or {}
    header = evaluation.header
    mapping = settings.headers

    # The adapter calls find_header_row on the sheet as it is at write time, then key_of on each row below it: the
    # SENDCo may have moved columns or rows since the read, so the key columns are located afresh from that header.
    current = {"header": header}
    # Each pupil's row as read, by identity, with its key: while the adapter writes the very rows it read, under the
    # same header (the usual write), a row's key is the one worked out below, not worked out again (issue 16). A row
    # read afresh (the SENDCo saved meanwhile, or a Google Sheet re-read) is a new list, whose key is computed.
    as_read: dict[int, tuple[list[CellValue], object]] = {}
    same_header = [True]

    def find_header_row(rows: list[list[CellValue]]) -> int | None:
        found = find_header(rows, sheet=header.sheet, mapping=mapping)
        if found is None:
            return None
        current["header"] = found
        same_header[0] = found == header
        return found.header_row

    def key_of(values: list[CellValue]) -> object | None:
        if same_header[0]:
            known = as_read.get(id(values))
            if known is not None and known[0] is values:
                return known[1]
        return _full_key(values, current["header"], duplicated)

    # Two rows with one key (a duplicated UPN, or the same name and DOB twice) are both INVALID, and each must still
    # show why on its own row: their key is widened with the row's known fields so each is matched to itself.
    base = [(row_key(evaluation.rows[p.record.row - 1], header), p) for p in evaluation.pupils]
    base_counts = Counter(k for k, _ in base if k is not None)
    duplicated = {k for k, n in base_counts.items() if n > 1}
    keyed = [
        (_full_key(evaluation.rows[p.record.row - 1], header, duplicated) if k in duplicated else k, p) for k, p in base
    ]
    counts = Counter(k for k, _ in keyed)
    for key, pupil in keyed:
        values = evaluation.rows[pupil.record.row - 1]
        as_read[id(values)] = (values, key)
    rows: dict[object, dict[str, CellWrite]] = {}
    shared: dict[tuple[Any, ...], CellWrite] = {}
    for key, pupil in keyed:
        if key is None or counts[key] > 1:
            continue  # identical rows: neither can be told apart from the other, so neither is written
        extra = tuple(more_issues.get(pupil.record.row, ()))
        if extra:
            pupil = replace(pupil, warnings=(*pupil.warnings, *extra))
        cells = ar_row(pupil, today=today, checked_at=checked_at, outstanding=outstanding.get(pupil.record.row, ""))
        rows[key] = {h: _cell(v, shared) for h, v in cells.items()}
    return WritePlan(
        sheet=header.sheet,
        headers=AR_HEADERS,
        find_header_row=find_header_row,
        key_of=key_of,
        rows=rows,
        # The product's columns are exactly its own headers (trimmed): "AR-Status" or "A.R. checked" are the SENDCo's
        # and never written (docs/register.md s5); a warning names such look-alikes (Evaluation.notes).
        header_key=own_header_key,
        # The product's own columns (docs/register.md s5): their whole look is reset on every run.
        owned_headers=frozenset(AR_HEADERS),
        # Wide enough for their dates and sentences on first sight (docs/register.md s5); the SENDCo's own widths stay.
        column_widths={h: AR_WIDTHS[h] for h in AR_HEADERS},
    )


def outstanding_plan(
    evaluation: Evaluation, contributions: Iterable[Contribution], *, today: date, settings: Settings
) -> WritePlan | None:
    """The AR outstanding cells alone, from `contributions` as they now stand (outstanding_by_pupil, the one builder):
    the confirmation page writes them in the same write as Received, so the register never lists as awaited a
    contribution that came. None when the register has no AR outstanding column yet: confirming never adds a column
    (the next sweep does)."""
    if AR_OUTSTANDING not in evaluation.header.ar_columns:
        return None
    outstanding = outstanding_by_pupil(contributions, evaluation.pupils)
    full = write_plan(
        evaluation, today=today, checked_at=datetime(2000, 1, 1, tzinfo=UTC), settings=settings, outstanding=outstanding
    )
    return replace(
        full,
        headers=(AR_OUTSTANDING,),
        rows={key: {AR_OUTSTANDING: cells[AR_OUTSTANDING]} for key, cells in full.rows.items()},
        owned_headers=frozenset({AR_OUTSTANDING}),
        column_widths={},
    )
