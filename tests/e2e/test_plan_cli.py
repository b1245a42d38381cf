"""`python main.py plan` end to end on an openpyxl register with known deadlines: the JSON checked by the independent
checker's rules (tests/unit/test_capacity_checker.py), the workbook re-opened, --accept, and bad settings."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl

from tests.e2e.conftest import run_main
from tests.unit.test_capacity_checker import monday, on_or_before, school_day

TODAY = date(2026, 9, 7)
HEADERS = ["Name", "Date of birth", "Last annual review", "Next review meeting", "Family", "Notes"]
Y3, Y9 = datetime(2018, 10, 1), datetime(2012, 10, 1)  # Year 3 and Year 9 in 2026/27 (age on 31 August)
ROWS = [
    # name, dob, last review, planned meeting, family; the expected meeting_target (docs/rules.md s4: the window's
    # last day less 28 days, on or before a school day).
    ("Amy Adams", Y3, datetime(2025, 11, 20), None, None),  # 4: target Thu 22 Oct 2026
    ("Bea Brown", Y3, datetime(2025, 12, 10), None, None),  # 5: Wed 11 Nov 2026
    ("Cal Cole", Y3, datetime(2026, 2, 2), None, None),  # 6: Mon 4 Jan 2027
    ("Dan Dale", Y3, datetime(2025, 9, 1), None, None),  # 7: 3 Aug 2026 is in the summer closure -> Mon 20 Jul: past
    ("Eve Evans", Y9, datetime(2026, 3, 10), None, None),  # 8: Tue 9 Feb 2027, Year 9 (PfA)
    ("Fay Ford", Y3, datetime(2025, 11, 1), datetime(2026, 10, 15), None),  # 9: booked
    ("Gus Khan", Y3, datetime(2026, 1, 15), None, "Khan"),  # 10: Thu 17 Dec 2026
    ("Hana Khan", Y3, datetime(2026, 3, 20), None, "Khan"),  # 11: Fri 19 Feb 2027
]
TARGETS = {
    4: date(2026, 10, 22),
    5: date(2026, 11, 11),
    6: date(2027, 1, 4),
    8: date(2027, 2, 9),
    10: date(2026, 12, 17),
    11: date(2027, 2, 19),
}
CAPACITY = """
[capacity]
meetings_per_day = 1
meetings_per_week = 2
weekly_hours = 6
days = ["monday", "tuesday", "wednesday", "thursday"]
time_limit_seconds = 3
"""


def _register(folder: Path, capacity: str = CAPACITY, extra: tuple[tuple, ...] = ()) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "EHCP register"
    ws.append(["Oakfield EHCP register 2026/27"])
    ws.append([])
    ws.append(HEADERS)
    for name, dob, last, planned, family in ROWS + list(extra):
        ws.append([name, dob, last, planned, family, "keep me"])
    path = folder / "register.xlsx"
    wb.save(path)
    (folder / "keeper.toml").write_text('school_name = "Oakfield"\n' + capacity, encoding="utf-8")
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_plan_json_keeps_every_hard_constraint_and_writes_the_register(tmp_path: Path) -> None:
    path = _register(tmp_path)
    proc = run_main("plan", str(path), "--today", TODAY.isoformat(), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"today", "suggestions", "weeks", "unschedulable", "solver"} <= out.keys()
    assert out["today"] == "2026-09-07"
    assert out["solver"]["status"] in ("OPTIMAL", "FEASIBLE")
    assert {"status", "seconds", "gap"} <= out["solver"].keys()
    suggestions = {s["row"]: s for s in out["suggestions"]}
    # Dan (row 7) is past his deadline: listed as unschedulable and still given the soonest lawful date, flagged.
    assert set(suggestions) == set(TARGETS) | {7}
    assert [row for row, s in suggestions.items() if s["overdue"]] == [7]
    assert suggestions[7]["suggested_meeting"] == "2026-09-21"
    assert out["unschedulable"] == [
        {
            "row": 7,
            "name": "Dan D.",
            "reason": out["unschedulable"][0]["reason"],
            "earliest_lawful": "2026-09-21",
            "meeting_target": "2026-07-20",
        }
    ]
    per_day: Counter[date] = Counter({date(2026, 10, 15): 1})  # Fay's booked meeting
    per_week: Counter[date] = Counter({monday(date(2026, 10, 15)): 1})
    for row, s in suggestions.items():
        assert set(s) >= {"row", "name", "suggested_meeting", "meeting_target", "requests_from", "invites_by"}
        assert set(s) >= {"papers_by", "hours"}
        m = date.fromisoformat(s["suggested_meeting"])
        assert school_day(m)
        assert m.weekday() in (0, 1, 2, 3)
        if row == 7:
            assert date(2026, 9, 21) <= m  # the earliest lawful day: two weeks' notice from today
        else:
            assert date.fromisoformat(s["meeting_target"]) == TARGETS[row]
            assert TODAY <= m <= TARGETS[row]
        notice = on_or_before(m - timedelta(days=14))
        assert date.fromisoformat(s["invites_by"]) == notice >= TODAY
        assert date.fromisoformat(s["papers_by"]) == notice
        lead = 70 if row == 8 else 42  # Year 9: the longer lead (docs/rules.md s6)
        assert date.fromisoformat(s["requests_from"]) == on_or_before(m - timedelta(days=lead))
        per_day[m] += 1
        per_week[monday(m)] += 1
    assert max(per_day.values()) <= 1
    assert max(per_week.values()) <= 2
    for w in out["weeks"]:
        assert (
            w["hours"] <= w["capacity_hours"] + 0.01
            or w["week_start"] in " ".join(out["explanation"])
            or any(f"{w['hours'] - w['capacity_hours']:g} h over" in line for line in out["explanation"])
        )
    assert abs((monday(date.fromisoformat(suggestions[10]["suggested_meeting"])) - monday(
        date.fromisoformat(suggestions[11]["suggested_meeting"]))).days) <= 7  # fmt: skip

    wb = openpyxl.load_workbook(path)
    ws = wb["EHCP register"]
    header = [c.value for c in ws[3]]
    column = header.index("AR suggested meeting") + 1
    for row in range(4, 12):
        cell = ws.cell(row=row, column=column)
        if row in suggestions:
            assert cell.value == datetime.fromisoformat(suggestions[row]["suggested_meeting"])
            assert cell.number_format == "dd/mm/yyyy"
        else:
            assert cell.value is None
        assert ws.cell(row=row, column=6).value == "keep me"
    assert ws.cell(row=9, column=4).value == datetime(2026, 10, 15)
    plan_tab = wb["Plan"]
    assert plan_tab["A1"].value == "Week beginning"
    assert plan_tab["A2"].value == datetime(2026, 9, 7)
    # Hours coloured against capacity: green, amber from 90%, red over (the Plan tab is the product's own).
    fills = {plan_tab.cell(row=r, column=6).fill.start_color.rgb[-6:] for r in range(2, plan_tab.max_row + 1)}
    assert fills <= {"C6E0B4", "F8CBAD", "F4B6B6"}
    assert "C6E0B4" in fills
    assert list((tmp_path / ".keeper-backups").iterdir())

    # The plan feeds the reports: tentative meetings in the calendar, weekly hours against capacity in the overview.
    ics = tmp_path / "reviews.ics"
    assert run_main("calendar", str(path), "--today", TODAY.isoformat(), "--out", str(ics)).returncode == 0
    text = ics.read_text(encoding="utf-8")
    assert text.count("STATUS:TENTATIVE") == len(suggestions)
    assert "Suggested review meeting (tentative): Amy A." in text
    overview = tmp_path / "report.xlsx"
    assert run_main("report", str(path), "--today", TODAY.isoformat(), "--out", str(overview)).returncode == 0
    load = openpyxl.load_workbook(overview)["Weekly load"]
    assert load["A3"].value == datetime(2026, 9, 7)
    assert load["D3"].value == out["weeks"][0]["capacity_hours"]
    assert load["C3"].value == out["weeks"][0]["hours"]

    # Planning again keeps the suggestions the SENDCo may have pencilled in (the last plan settles ties).
    replan = json.loads(run_main("plan", str(path), "--today", TODAY.isoformat(), "--json", "--dry-run").stdout)
    assert {s["row"]: s["suggested_meeting"] for s in replan["suggestions"]} == {
        row: s["suggested_meeting"] for row, s in suggestions.items()
    }

    # --accept all copies every suggestion into the SENDCo's own column, then nothing is left to suggest.
    accepted = run_main("plan", str(path), "--today", TODAY.isoformat(), "--json", "--accept", "all")
    assert accepted.returncode == 0, accepted.stderr
    ws = openpyxl.load_workbook(path)["EHCP register"]
    for row, s in suggestions.items():
        assert ws.cell(row=row, column=4).value == datetime.fromisoformat(s["suggested_meeting"])
    again = json.loads(run_main("plan", str(path), "--today", TODAY.isoformat(), "--json").stdout)
    assert again["suggestions"] == []
    wb = openpyxl.load_workbook(path)
    ws = wb["EHCP register"]
    assert all(ws.cell(row=row, column=column).value is None for row in range(4, 12))
    # Three runs, one row per week on the Plan tab: weeks already there are rewritten in place.
    weeks = [r[0] for r in wb["Plan"].iter_rows(min_row=2, values_only=True) if r[0] is not None]
    assert len(weeks) == len(set(weeks)) > 20


def test_booked_meetings_after_the_deadline_or_on_a_closed_day_are_warned(tmp_path: Path) -> None:
    """Booked meetings are counted but not moved; one that breaks the deadline or falls on a closed day is named."""
    extra = (
        # Deadline Thu 22 Oct 2026 (as Amy's); Sat 24 Oct 2026: after it, and a weekend.
        ("Ida Inns", Y3, datetime(2025, 11, 20), datetime(2026, 10, 24), None),
        # Deadline Mon 4 Jan 2027 (as Cal's); Tue 22 Dec 2026 is in the Christmas closure (docs/rules.md s2).
        ("Jon Jones", Y3, datetime(2026, 2, 2), datetime(2026, 12, 22), None),
        # Deadline Wed 11 Nov 2026 (as Bea's); Fri 20 Nov 2026 is a school day, but late.
        ("Kit King", Y3, datetime(2025, 12, 10), datetime(2026, 11, 20), None),
    )
    path = _register(tmp_path, extra=extra)
    out = json.loads(run_main("plan", str(path), "--today", TODAY.isoformat(), "--json", "--dry-run").stdout)
    booked = [w for w in out["warnings"] if "the planned meeting" in w]
    assert booked == [
        # Fay's own booking, Thu 15 Oct 2026, is after her deadline too (last review 1 Nov 2025: docs/rules.md s4).
        "row 9: Fay F.: the planned meeting on Thu 15 Oct 2026 is after the review's deadline (Fri 2 Oct 2026); "
        "choose a school day on or before Fri 2 Oct 2026.",
        "row 12: Ida I.: the planned meeting on Sat 24 Oct 2026 is after the review's deadline (Thu 22 Oct 2026) and "
        "on a day the school is closed (a weekend, bank holiday or closure); choose a school day on or before "
        "Thu 22 Oct 2026.",
        "row 13: Jon J.: the planned meeting on Tue 22 Dec 2026 is on a day the school is closed (a weekend, bank "
        "holiday or closure); choose a school day on or before Mon 4 Jan 2027.",
        "row 14: Kit K.: the planned meeting on Fri 20 Nov 2026 is after the review's deadline (Wed 11 Nov 2026); "
        "choose a school day on or before Wed 11 Nov 2026.",
    ]
    text = run_main("plan", str(path), "--today", TODAY.isoformat(), "--dry-run").stdout
    assert "  ! row 13: Jon J.: the planned meeting on Tue 22 Dec 2026 is on a day the school is closed" in text


def test_the_text_output_lists_suggestions_weeks_and_the_unschedulable(tmp_path: Path) -> None:
    path = _register(tmp_path)
    proc = run_main("plan", str(path), "--today", TODAY.isoformat())
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # Each suggestion: row, first name and initial, the date, the hold-by date, flags; the overdue one first.
    first = lines.index("Suggested meetings (type the date into your planned meeting column, or use --accept):")
    assert lines[first + 1] == (
        "  row 7: Dan D. Mon 21 Sep 2026 (hold by Mon 20 Jul 2026)  [OVERDUE: past its deadline, book first; "
        "short lead: request advice at once]"
    )
    assert sum(1 for line in lines if line.startswith("  row ") and "(hold by " in line) == 7
    assert any(line.startswith("  row 4: Amy A. ") and "(hold by Thu 22 Oct 2026)" in line for line in lines)
    unschedulable = lines.index("Cannot be held in time:")
    assert lines[unschedulable + 1].startswith("  row 7: Dan D.: past its deadline (Mon 20 Jul 2026)")
    assert lines[unschedulable + 1].endswith("Suggested: Mon 21 Sep 2026.")
    # The weeks with work, each once; the register's path at the end.
    load = lines[lines.index("Weekly load:") + 1 :]
    weeks = [line for line in load if line.startswith("  week of ")]
    assert weeks[0].startswith("  week of Mon 7 Sep 2026: ")
    assert len(weeks) == len(set(weeks)) <= 12
    assert sum(1 for line in lines if "Mon 7 Sep 2026: " in line) == 1
    assert lines[-2] == f"Written: AR suggested meeting and the Plan tab in {path}."


def test_impossible_settings_exit_2_and_write_nothing(tmp_path: Path) -> None:
    path = _register(tmp_path, "[capacity]\ndays = []\n")
    before = _digest(path)
    proc = run_main("plan", str(path), "--today", TODAY.isoformat(), "--json")
    assert proc.returncode == 2
    assert "capacity.days lists no day" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert proc.stdout == ""
    assert _digest(path) == before


def test_la_list_in_an_unknown_layout_exits_2(tmp_path: Path) -> None:
    path = _register(tmp_path)
    la = tmp_path / "la.csv"
    la.write_text("Ref,School\nA1,Oakfield\n", encoding="utf-8")
    before = _digest(path)
    proc = run_main("plan", str(path), "--today", TODAY.isoformat(), "--la-list", str(la))
    assert proc.returncode == 2
    assert "la.csv: no header row found" in proc.stderr
    assert _digest(path) == before


def test_la_list_warnings_in_the_json(tmp_path: Path) -> None:
    path = _register(tmp_path)
    la = tmp_path / "autumn.csv"
    la.write_text(
        "Child name,Date of birth,Review due\n"
        "ADAMS Amy,01/10/2018,20/11/2026\n"  # the anniversary of her last review: agrees
        "Brown Bea,01/10/2018,01/03/2027\n"  # disagrees with hold by Wed 11 Nov 2026
        "ZED Zoe,05/05/2018,01/12/2026\n",  # not on the register
        encoding="utf-8",
    )
    proc = run_main("plan", str(path), "--today", TODAY.isoformat(), "--json", "--dry-run", "--la-list", str(la))
    assert proc.returncode == 0, proc.stderr
    warnings = json.loads(proc.stdout)["warnings"]
    assert any(w.startswith("row 5: Bea B.: the LA's list gives the review as due Mon 1 Mar 2027") for w in warnings)
    assert any(w.startswith("autumn.csv row 4: Zoe Z. is on the LA's list but not") for w in warnings)
    # Due inside the list's term (20 Nov 2026 - 1 Mar 2027) but not on it: Cal (4 Jan), Eve (9 Feb), Gus (17 Dec) ...
    assert any(w.startswith("row 6: Cal C. is due for review by Mon 4 Jan 2027") for w in warnings)
    assert not any("Amy A." in w for w in warnings)


def test_the_digest_shows_next_weeks_load_and_pending_suggestions(tmp_path: Path) -> None:
    from tests.e2e.test_emails_cli import outbox_messages, text_of

    path = _register(tmp_path)
    toml = tmp_path / "keeper.toml"
    toml.write_text('sendco_email = "senco@oakfield.example"\n' + toml.read_text(encoding="utf-8"), encoding="utf-8")
    assert run_main("plan", str(path), "--today", TODAY.isoformat()).returncode == 0
    monday = "2026-09-14"  # the weekly digest goes on Mondays
    proc = run_main("sweep", str(path), "--today", monday, "--json")
    assert proc.returncode == 0, proc.stderr
    [digest] = [m for m in outbox_messages(tmp_path / "outbox") if m["To"] == "senco@oakfield.example"]
    text = " ".join(text_of(digest).split())
    assert "Next week (from Mon 21 Sep 2026): 1 review meeting(s)" in text
    # Dan, past his deadline, is booked first: on the earliest lawful day (docs/rules.md s11).
    assert "Suggested meetings not yet accepted: Dan D. Mon 21 Sep 2026" in text


def test_no_active_pupils_is_one_sentence_and_nothing_written(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Name", "Date of birth", "Last annual review", "Status"])
    ws.append(["Amy Adams", datetime(2018, 10, 1), datetime(2025, 11, 20), "Left"])
    ws.append(["Bea Brown", datetime(2018, 10, 1), datetime(2025, 12, 10), "Ceased"])
    path = tmp_path / "register.xlsx"
    wb.save(path)
    before = _digest(path)
    proc = run_main("plan", str(path), "--today", TODAY.isoformat(), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["warnings"] == ["The register has no active pupils to plan: every row is left, ceased or has errors."]
    assert out["suggestions"] == []
    assert out["written"] is None
    assert _digest(path) == before


def test_weeks_out_of_range_exits_2(tmp_path: Path) -> None:
    path = _register(tmp_path)
    proc = run_main("plan", str(path), "--today", TODAY.isoformat(), "--weeks", "0")
    assert proc.returncode == 2
    assert "--weeks 0: give a number of school weeks from 1 to 52." in proc.stderr
