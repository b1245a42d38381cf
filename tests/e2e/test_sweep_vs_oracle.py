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
    rnd = random.Random(today.toordinal())
    folder = Path(tempfile.mkdtemp(prefix="oracle-"))
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADERS)
    for i, f in enumerate(pupils):
        if f["recorded_year"] is not None and not -1 <= f["recorded_year"] <= 14:
            f["recorded_year"] = None
        year = None if f["recorded_year"] is None else _year_text(f["recorded_year"], rnd)
        decision = None if f["decision"] is None else f["decision"].capitalize()
        ws.append([f"Pupil {i}", f["dob"], f["plan_issued"], f["last_review"], year, f["planned_meeting"],
                   f["report_sent"], f["la_decision"], decision, f["amendment_notice"], f["final_plan"],
                   f["transfer_date"], "Left" if f["inactive"] else "On roll"])  # fmt: skip
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
    for row in result["pupils"]:
        facts = pupils[int(row["name"].split()[1])]
        expected = oracle_view({"today": today, "settings": rules, "facts": facts})
        differences = {k: (v, row.get(k)) for k, v in expected.items() if v != row.get(k)}
        assert not differences, (today, rules, facts, differences, row["errors"])
        assert row["errors"] == [], (facts, row["errors"])
