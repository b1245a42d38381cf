"""What keeps a sweep close to a bare openpyxl load and save (issue 16), held as behaviour: the imports a sweep does
not use stay unloaded, the explain sentences are worded when read (and read as before), the bank holidays come from
the holidays package's UK module alone, and the AR write plan finds the rows it read without re-working their keys."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from connectors.base import RegisterData, SheetData
from functions.ar_writes import write_plan
from functions.evaluate import evaluate
from functions.settings import Settings
from review_rules.clock import compute_review, explain_review
from review_rules.model import Explanation, ReviewFacts, RuleSettings

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2025, 10, 1)  # a Wednesday in term


def _fresh_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_sweep_process_does_not_import_what_only_other_commands_use() -> None:
    loaded = _fresh_python(
        "import sys, main\n"
        "heavy = ('docx', 'ortools', 'pandas', 'requests', 'werkzeug', 'connectors.graph_http', 'holidays.countries')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    assert loaded == "[]"


def test_bank_holidays_are_the_packages_without_importing_every_country() -> None:
    out = _fresh_python(
        "import sys\n"
        "from datetime import date\n"
        "from review_rules.school_days import bank_holidays\n"
        "ours = {y: bank_holidays(y) for y in range(2020, 2031)}\n"
        "alone = 'holidays.countries' not in sys.modules\n"
        "import holidays\n"
        "theirs = {y: frozenset(holidays.country_holidays('GB', subdiv='ENG', years=y)) for y in range(2020, 2031)}\n"
        "print(alone, ours == theirs, date(2026, 12, 28) in ours[2026])"
    )
    # Mon 28 Dec 2026: Boxing Day (a Saturday) observed, from the package's substitute-day rules.
    assert out == "True True True"


def test_explain_is_worded_when_first_read_and_reads_as_before() -> None:
    facts = ReviewFacts(dob=date(2014, 3, 2), plan_issued=date(2021, 5, 4), last_review=date(2024, 11, 12))
    clock = compute_review(facts, TODAY, RuleSettings())
    assert isinstance(clock.explain, Explanation)
    assert clock.explain._words is None  # nothing worded yet
    assert clock.explain["meeting_anchor"] == (
        "The clock runs from the last review on Tue 12 Nov 2024: a review restarts it, an amended plan does not "
        "(CFA 2014 s44(1))."
    )
    assert clock.explain == explain_review(facts, TODAY, RuleSettings())
    assert dict(clock.explain) == explain_review(facts, TODAY, RuleSettings())
    assert clock == compute_review(facts, TODAY, RuleSettings())


HEADER = ["Name", "UPN", "Date of birth", "EHCP issued", "Last annual review"]
ROWS: list[list[object]] = [
    ["Ann Able", "A801200000001", date(2014, 3, 2), date(2021, 5, 4), date(2024, 11, 12)],
    ["Ben Best", None, date(2013, 9, 9), date(2020, 1, 6), date(2025, 1, 20)],
]


def test_the_write_plan_keys_rows_read_afresh_as_it_keyed_the_rows_it_read() -> None:
    grid = [list(HEADER), *(list(r) for r in ROWS)]
    evaluation = evaluate(RegisterData("test", [SheetData("EHCP", grid)]), today=TODAY, settings=Settings())
    plan = write_plan(evaluation, today=TODAY, checked_at=datetime(2025, 10, 1, 7, 0), settings=Settings())
    assert plan.find_header_row(grid) == 1
    read = [plan.key_of(row) for row in grid[1:]]
    assert read == [("upn", "A801200000001"), ("name", "ben best", "2013-09-09")]
    assert set(read) == set(plan.rows)
    # The SENDCo saved meanwhile: the rows are new lists, sorted the other way round, and keyed from their cells.
    again = [list(HEADER), *(list(r) for r in reversed(ROWS))]
    assert plan.find_header_row(again) == 1
    assert [plan.key_of(row) for row in again[1:]] == list(reversed(read))
    # A column moved: the header differs, so even the rows as read are keyed afresh from where their cells now are.
    moved = [[r[1], r[0], *r[2:]] for r in grid]
    assert plan.find_header_row(moved) == 1
    assert [plan.key_of(row) for row in moved[1:]] == read
