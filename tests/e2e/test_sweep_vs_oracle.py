"""The whole pipeline against the independent oracle (tests/oracle, written from the spec alone): registers written by
openpyxl, with year groups typed the ways SENDCos type them and settings in keeper.toml, are swept through
`python main.py sweep --json --dry-run`, and every pupil's JSON must equal the oracle's, field by field."""

from __future__ import annotations

import json
import random
import tempfile
from datetime import date
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import run_main
from tests.oracle.spec_oracle import OracleSettings
from tests.unit.test_oracle_differential import EDGE_DATES, TRANSFER_YEAR_VARIANTS, cases, oracle_view

HEADERS = ["Name", "DOB", "EHCP issued", "Last review", "Year", "Next review meeting", "Report sent",
           "LA decision date", "Decision", "Proposed amendments", "Final amended plan", "Transfer date", "Status"]  # fmt: skip
PUPILS_PER_REGISTER = 25
# The register column that records each after-meeting step -> the oracle's name for that field.
STEP_HEADERS = {"Report sent": "report_sent", "LA decision date": "la_decision", "Final amended plan": "final_plan"}


def _year_text(year: int, rnd: random.Random) -> object:
    if year == 0:
        return rnd.choice([0, "R", "Reception"])
    if year == -1:
        return rnd.choice([-1, "N2", "Nursery"])
    return rnd.choice([year, f"Y{year}", f"Year {year}", str(year)])


@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_sweep_json_equals_the_independent_oracle(data: st.DataObject) -> None:
    today = data.draw(st.one_of(st.dates(date(2016, 1, 1), date(2030, 12, 31)), st.sampled_from(EDGE_DATES)))
    rules = OracleSettings(
        anchor=data.draw(st.sampled_from(["decision", "meeting"])),
        period=data.draw(st.sampled_from(["twelve_months", "anniversary"])),
        transfer_after_years=data.draw(st.sampled_from(TRANSFER_YEAR_VARIANTS)),
        phase_deadline_inclusive=data.draw(st.booleans()),
    )
    pupils = [data.draw(cases(today=today, rule_settings=rules))["facts"] for _ in range(PUPILS_PER_REGISTER)]
    # Registers without some after-meeting columns: those steps are never late (register.md s5).
    missing = data.draw(st.sets(st.sampled_from(sorted(STEP_HEADERS)), max_size=2))
    columns_missing = tuple(STEP_HEADERS[h] for h in sorted(missing))
    rnd = random.Random(today.toordinal())
    folder = Path(tempfile.mkdtemp(prefix="oracle-"))
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    kept = [i for i, h in enumerate(HEADERS) if h not in missing]
    ws.append([HEADERS[i] for i in kept])
    ws.append(["Year 7"])  # a section heading inside the table: not a pupil (register.md s1)
    for i, f in enumerate(pupils):
        if f["recorded_year"] is not None and not -1 <= f["recorded_year"] <= 14:
            f["recorded_year"] = None
        for field in columns_missing:
            f[field] = None
        year = None if f["recorded_year"] is None else _year_text(f["recorded_year"], rnd)
        decision = None if f["decision"] is None else f["decision"].capitalize()
        # register.md s3: a placeholder in a date column reads as blank (with a warning).
        planned = f["planned_meeting"] if f["planned_meeting"] is not None else rnd.choice([None, "TBC", " tba. "])
        cells = [f"Pupil {i}", f["dob"], f["plan_issued"], f["last_review"], year, planned,
                 f["report_sent"], f["la_decision"], decision, f["amendment_notice"], f["final_plan"],
                 f["transfer_date"], "Left" if f["inactive"] else "On roll"]  # fmt: skip
        ws.append([cells[c] for c in kept])
    ws.append([])
    ws.append(["Key: red = overdue, amber = due soon"])  # a footnote below the table: not a pupil
    wb.save(folder / "register.xlsx")
    years = ", ".join(str(k) for k in rules.transfer_after_years)
    (folder / "keeper.toml").write_text(
        f'[rules]\nanchor = "{rules.anchor}"\nperiod = "{rules.period}"\ntransfer_after_years = [{years}]\n'
        f"phase_deadline_inclusive = {str(rules.phase_deadline_inclusive).lower()}\n",
        encoding="utf-8",
    )
    proc = run_main("sweep", str(folder / "register.xlsx"), "--today", today.isoformat(), "--json", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert len(result["pupils"]) == len(pupils)
    assert result["not_pupils"] == [2, PUPILS_PER_REGISTER + 4]
    for row in result["pupils"]:
        facts = pupils[int(row["name"].split()[1])]
        case = {"today": today, "settings": rules, "facts": facts, "columns_missing": columns_missing}
        expected = oracle_view(case)
        differences = {k: (v, row.get(k)) for k, v in expected.items() if v != row.get(k)}
        assert not differences, (today, rules, facts, differences, row["errors"])
        assert row["errors"] == [], (facts, row["errors"])
