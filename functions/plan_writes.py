"""What `plan` writes (docs/register.md s5): the `AR suggested meeting` column on the register, the SENDCo's planned
meeting column for `--accept` (blank cells only), and the `Plan` tab, one row per school week. Built as WritePlans for
the register adapters' one write (one save and backup, or one batchUpdate), in the sweep's way: rows are found again
by their pupil key at write time, wherever the SENDCo has moved them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from connectors.base import CellValue, CellWrite, WritePlan
from functions.capacity import Plan, Suggestion, WeekLoad
from review_rules.dates import format_date
from sheet_schema.ar_columns import AR_SUGGESTED, AR_WIDTHS, DATE_FORMAT, column_width
from sheet_schema.cells import CellError, parse_date
from sheet_schema.fields import normalise_header, plan_header_key
from sheet_schema.header import find_header
from sheet_schema.model import Field, HeaderMatch
from sheet_schema.validate import row_key

PLAN_SHEET = "Plan"
WEEK_HEADER = "Week beginning"
PLAN_HEADERS: tuple[str, ...] = (
    WEEK_HEADER,
    "Meetings",
    "Requests for advice",
    "Invitations and papers",
    "Reports due",
    "Hours planned",
    "Hours available",
    "Load",
    "Hours before the plan",
)
# The usual content of the Plan tab's wider columns, in characters (the others fit their header).
_PLAN_CHARS = {WEEK_HEADER: 10, "Meetings": 48, "Requests for advice": 40, "Invitations and papers": 40}
# When a header is missing, the planned meeting column is added with a name the register parser recognises.
PLANNED_HEADER = "Planned meeting"
# Red over capacity, amber from 90%, green below (the AR status colours, docs/register.md s5).
OVER_FILL, FULL_FILL, OK_FILL = "F4B6B6", "F8CBAD", "C6E0B4"
FULL_FROM = 0.9


def _keyed(header: HeaderMatch, rows: Sequence[Sequence[CellValue]], pupil_rows: Sequence[int]) -> dict[int, object]:
    """pupil row -> its key; rows whose key is shared (duplicates) are left out: neither can be told apart."""
    keys = {r: row_key(rows[r - 1], header) for r in pupil_rows if r - 1 < len(rows)}
    counts = Counter(k for k in keys.values() if k is not None)
    return {r: k for r, k in keys.items() if k is not None and counts[k] == 1}


def register_plan(
    header: HeaderMatch,
    rows: Sequence[Sequence[CellValue]],
    pupil_rows: Sequence[int],
    suggested: dict[int, date],
    accept: dict[int, date],
    mapping: dict[str, str],
) -> WritePlan:
    """AR suggested meeting for every active pupil (blank where there is none), and for the rows in `accept` their
    suggestion in the planned meeting column, only where that cell is blank at write time."""
    planned = header.header_text.get(Field.PLANNED_MEETING, PLANNED_HEADER)
    current = {"header": header}

    def find_header_row(grid: list[list[CellValue]]) -> int | None:
        found = find_header(grid, sheet=header.sheet, mapping=mapping)
        if found is None:
            return None
        current["header"] = found
        return found.header_row

    def key_of(values: list[CellValue]) -> object | None:
        return row_key(values, current["header"])

    cells: dict[object, dict[str, CellWrite]] = {}
    for row, key in _keyed(header, rows, pupil_rows).items():
        day = suggested.get(row)
        cells[key] = {AR_SUGGESTED: CellWrite(day, DATE_FORMAT if day else None)}
        if row in accept:
            cells[key][planned] = CellWrite(accept[row], DATE_FORMAT)
    headers = (AR_SUGGESTED, planned) if accept else (AR_SUGGESTED,)
    return WritePlan(
        sheet=header.sheet,
        headers=headers,
        find_header_row=find_header_row,
        key_of=key_of,
        rows=cells,
        blank_only=frozenset({planned}),
        # "AR suggested meeting" only exactly (a look-alike is the SENDCo's); their planned meeting column as parsed.
        header_key=plan_header_key,
        # The SENDCo's planned meeting column is theirs: only its value is set (and only when blank).
        owned_headers=frozenset({AR_SUGGESTED}),
        # A date fits and the header is whole (docs/register.md s5); a planned meeting column added here too.
        column_widths={AR_SUGGESTED: AR_WIDTHS[AR_SUGGESTED], planned: column_width(planned, 10)},
    )


def _names(items: Sequence[tuple[date, str]], with_day: bool) -> str:
    if with_day:
        return "; ".join(f"{format_date(d).rsplit(' ', 1)[0]}: {name}" for d, name in sorted(items))
    return ", ".join(name for _, name in sorted(items))


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def tab_rows(plan: Plan) -> dict[date, dict[str, CellWrite]]:
    """One row per school week: who meets, whose preparation is due, hours against capacity (coloured)."""
    this_week = _monday(plan.today)
    meetings: dict[date, list[tuple[date, str]]] = defaultdict(list)
    requests: dict[date, list[tuple[date, str]]] = defaultdict(list)
    invites: dict[date, list[tuple[date, str]]] = defaultdict(list)
    for s in plan.suggestions:
        meetings[_monday(s.suggested_meeting)].append((s.suggested_meeting, s.name))
        # Advice already late is requested at once (the next school day), marked as a short lead.
        when = max(s.requests_from, plan.asap or plan.today)
        requests[_monday(when)].append((when, s.name + (" (short lead)" if s.short_lead else "")))
        invites[_monday(s.invites_by)].append((s.invites_by, s.name))
    out: dict[date, dict[str, CellWrite]] = {}
    for w in plan.weeks:
        if w.week_start < this_week:
            continue
        out[w.week_start] = {
            WEEK_HEADER: CellWrite(w.week_start, DATE_FORMAT),
            "Meetings": CellWrite(_names(meetings[w.week_start], True) or ("" if w.meetings == 0 else "booked")),
            "Requests for advice": CellWrite(_names(requests[w.week_start], False)),
            "Invitations and papers": CellWrite(_names(invites[w.week_start], False)),
            "Reports due": CellWrite(w.reports or None),
            "Hours planned": CellWrite(_hours_text(w.hours), fill=_fill(w)),
            "Hours available": CellWrite(_hours_text(w.capacity_hours)),
            "Load": CellWrite(_load_text(w), fill=_fill(w)),
            "Hours before the plan": CellWrite(_hours_text(w.baseline_hours)),
        }
    return out


def _hours_text(hours: float) -> str:
    # CellWrite carries no floats: the hours are text, "7.5 h", as the SENDCo reads them.
    return f"{hours:g} h"


def _fill(w: WeekLoad) -> str:
    if w.over_hours > 0:
        return OVER_FILL
    if w.capacity_hours and w.hours >= FULL_FROM * w.capacity_hours:
        return FULL_FILL
    return OK_FILL


def _load_text(w: WeekLoad) -> str:
    if w.over_hours > 0:
        return f"OVER by {w.over_hours:g} h"
    if w.capacity_hours == 0:
        return "closed" if w.hours == 0 else "OVER"
    return f"{round(100 * w.hours / w.capacity_hours)}%"


def _week_key(column: int) -> Callable[[list[CellValue]], object | None]:
    def key_of(values: list[CellValue]) -> object | None:
        if column >= len(values):
            return None
        try:
            return parse_date(values[column])
        except CellError:
            return None

    return key_of


def tab_plan(plan: Plan, existing: Sequence[Sequence[CellValue]] | None) -> WritePlan:
    """The Plan tab: weeks already on it are rewritten in place (found by their date), new weeks added below.
    Columns the SENDCo added beside ours are never touched."""
    rows = tab_rows(plan)
    grid = existing or []
    found_header = _header_row(grid)
    known: set[date] = set()
    column = 0
    if found_header is not None:
        column = [normalise_header(c) for c in grid[found_header - 1]].index(normalise_header(WEEK_HEADER))
        key = _week_key(column)
        known = {k for r in grid[found_header:] if isinstance(k := key(list(r)), date)}
    state = {"column": column}

    def find_header_row(grid: list[list[CellValue]]) -> int | None:
        found = _header_row(grid)
        if found is not None:
            state["column"] = [normalise_header(c) for c in grid[found - 1]].index(normalise_header(WEEK_HEADER))
        return found

    def key_of(values: list[CellValue]) -> object | None:
        return _week_key(state["column"])(values)

    return WritePlan(
        sheet=PLAN_SHEET,
        headers=PLAN_HEADERS,
        find_header_row=find_header_row,
        key_of=key_of,
        rows={week: cells for week, cells in rows.items() if week in known},
        append_rows=[cells for week, cells in sorted(rows.items()) if week not in known],
        create_if_missing=True,
        header_key=normalise_header,
        # The Plan tab is the product's: its fills (load against capacity) are reset on every write.
        owned_headers=frozenset(PLAN_HEADERS),
        # Readable on first sight: dates fit, the lists of names have room (docs/register.md s5).
        column_widths={h: column_width(h, _PLAN_CHARS.get(h)) for h in PLAN_HEADERS},
    )


def _header_row(grid: Sequence[Sequence[CellValue]]) -> int | None:
    target = normalise_header(WEEK_HEADER)
    for number, row in enumerate(grid[:10], start=1):
        if any(normalise_header(c) == target for c in row):
            return number
    return None


def suggested_by_row(plan: Plan) -> dict[int, date]:
    return {s.row: s.suggested_meeting for s in plan.suggestions}


def accepted(suggestions: Sequence[Suggestion], choice: str | None, upns: dict[int, str | None]) -> dict[int, date]:
    """The suggestions `--accept ROW|UPN|all` selects (row -> date)."""
    if not choice:
        return {}
    wanted = choice.strip()
    if wanted.lower() == "all":
        return {s.row: s.suggested_meeting for s in suggestions}
    out = {}
    for s in suggestions:
        if (wanted.isdigit() and s.row == int(wanted)) or (upns.get(s.row) or "").upper() == wanted.upper().replace(
            " ", ""
        ):
            out[s.row] = s.suggested_meeting
    return out
