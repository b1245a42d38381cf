"""Finding the register's table in a workbook (docs/register.md s1).

The header row may sit below title rows, merged banners (which arrive as one value and then None cells) and blank rows,
so the first 15 rows are searched for a row whose cells name at least three known fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .ar_columns import AR_HEADERS, own_header_key
from .contributions import is_contributions_tab
from .fields import FIELD_LABELS, field_for_header, fold_header, is_product_header
from .model import Field, HeaderMatch

MIN_FIELDS = 3
DEFAULT_MAX_SCAN = 15
# The product's columns are exactly its own headers, trimmed (docs/register.md s5): "ar status " or "AR-Status" are
# the SENDCo's, never read as the product's previous results nor written (sheet_schema.ar_columns.near_miss).
_PRODUCT_HEADERS = frozenset(AR_HEADERS)


def _match_row(cells: list[object], *, sheet: str, header_row: int, mapping: Mapping[str, str] | None) -> HeaderMatch:
    columns: dict[Field, int] = {}
    header_text: dict[Field, str] = {}
    ar_columns: dict[str, int] = {}
    ignored: dict[int, str] = {}
    # A column the settings name beats one the aliases guess, wherever it sits; otherwise the first column wins.
    claimed_by_setting: set[Field] = set()
    if mapping:
        for index, cell in enumerate(cells):
            field = field_for_header(cell, mapping) if not _is_product_column(cell) else None
            if field is not None and field is not field_for_header(cell) and field not in claimed_by_setting:
                columns[field] = index
                header_text[field] = fold_header(cell)
                claimed_by_setting.add(field)
    for index, cell in enumerate(cells):
        text = fold_header(cell)
        if not text or index in columns.values():
            continue
        if _is_product_column(cell):
            key = own_header_key(cell)
            if key in ar_columns:
                ignored[index] = text
            else:
                ar_columns[key] = index
            continue
        field = field_for_header(cell, mapping)
        if field is None:
            if is_product_header(cell) and text not in ar_columns:
                # Any other "AR ..." header counts as the product's (a column added in a later version): it is never read
                # as the SENDCo's data, and never written unless the product knows its header.
                ar_columns[text] = index
            else:
                ignored[index] = text
            continue
        if field in columns:
            ignored[index] = text
            continue
        columns[field] = index
        header_text[field] = text
    return HeaderMatch(
        sheet=sheet,
        header_row=header_row,
        columns=dict(sorted(columns.items(), key=lambda item: item[1])),
        header_text={field: header_text[field] for field in sorted(header_text, key=lambda f: columns[f])},
        ar_columns=ar_columns,
        ignored=dict(sorted(ignored.items())),
    )


def _is_product_column(cell: object) -> bool:
    return own_header_key(cell) in _PRODUCT_HEADERS


def find_header(
    rows: Sequence[Sequence[object]],
    *,
    sheet: str,
    mapping: Mapping[str, str] | None = None,
    max_scan: int = DEFAULT_MAX_SCAN,
) -> HeaderMatch | None:
    """The first row among the first `max_scan` whose cells name at least three known fields (forename and surname
    count as two), or None. `header_row` is the sheet's own 1-based row number."""
    for index, cells in enumerate(rows[:max_scan]):
        if not cells:
            continue
        match = _match_row(list(cells), sheet=sheet, header_row=index + 1, mapping=mapping)
        if len(match.columns) >= MIN_FIELDS:
            return match
    return None


def choose_register(
    sheets: Sequence[tuple[str, Sequence[Sequence[object]]]],
    *,
    sheet_name: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> HeaderMatch | None:
    """The register: the sheet the settings name (matched exactly, else ignoring case and spaces), or else the first
    sheet with a matching header. A named sheet that is missing or has no header gives None: the product never
    silently reads a different sheet from the one the school chose."""
    if sheet_name is not None:
        wanted = [rows for name, rows in sheets if name == sheet_name]
        if not wanted:
            folded = fold_header(sheet_name).casefold()
            wanted = [rows for name, rows in sheets if fold_header(name).casefold() == folded]
        if not wanted:
            return None
        name = next(n for n, r in sheets if r is wanted[0])
        return find_header(wanted[0], sheet=name, mapping=mapping)
    for name, rows in sheets:
        if is_contributions_tab(name):  # the product's own tab of advice requests is never the register
            continue
        match = find_header(rows, sheet=name, mapping=mapping)
        if match is not None:
            return match
    return None


def _label(header: HeaderMatch, field: Field) -> str:
    return header.header_text.get(field, FIELD_LABELS[field])


def check_required(header: HeaderMatch) -> list[str]:
    """Sentences for each required column the register lacks (docs/register.md s2): a name (or forename and
    surname), a date of birth, and a plan date or a last review date. An empty list means the register can be read."""
    where = f'the header row (row {header.header_row}) of sheet "{header.sheet}"'
    problems: list[str] = []
    columns = header.columns
    if Field.NAME not in columns:
        has_fore, has_sur = Field.FORENAME in columns, Field.SURNAME in columns
        if has_fore and not has_sur:
            problems.append(
                f'There is a "{_label(header, Field.FORENAME)}" column but no surname column in {where}. '
                'Add a "Surname" column, or map your surname column in the settings.'
            )
        elif has_sur and not has_fore:
            problems.append(
                f'There is a "{_label(header, Field.SURNAME)}" column but no forename column in {where}. '
                'Add a "Forename" column, or map your forename column in the settings.'
            )
        elif not has_fore and not has_sur:
            problems.append(
                f"There is no column for the pupil's name in {where}. "
                'Add a "Name" column (or "Forename" and "Surname"), or map your name column in the settings.'
            )
    if Field.DOB not in columns:
        problems.append(
            f"There is no date of birth column in {where}. "
            'Add a "Date of birth" column, or map your date of birth column in the settings.'
        )
    if Field.PLAN_ISSUED not in columns and Field.LAST_REVIEW not in columns:
        problems.append(
            f"There is neither a plan date column nor a last review column in {where}. "
            'Add "EHCP issued" or "Last review" (ideally both), or map your columns in the settings.'
        )
    return problems


__all__ = ["check_required", "choose_register", "find_header"]
