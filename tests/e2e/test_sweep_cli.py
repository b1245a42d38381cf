"""A whole sweep through `python main.py`, on workbooks written by openpyxl, as a SENDCo would run it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import PatternFill

from scripts.make_demo import write_demo_register
from tests.e2e.conftest import run_main, sweep_json

TODAY = "2025-10-01"
AR_PREFIX = "AR "
JSON_KEYS = {
    "row",
    "name",
    "upn",
    "status",
    "window_end",
    "meeting_latest",
    "meeting_target",
    "requests_from",
    "contributions_due",
    "invites_by",
    "nc_year_at_review",
    "pfa_required",
    "phase_transfer",
    "after_meeting",
    "errors",
    "warnings",
}


def _snapshot(path: Path) -> dict[tuple[str, str], tuple]:
    """Every cell that is not the product's: value, type, fill colour, number format."""
    wb = openpyxl.load_workbook(path)
    out: dict[tuple[str, str], tuple] = {}
    for ws in wb.worksheets:
        if ws.title == "Contributions":
            # The product fills Requested, Chasers and Last chased there and appends Parent/carer rows (docs/register.md
            # section 6); tests/e2e/test_emails_cli.py checks that tab, and that a date the SENDCo typed is kept.
            continue
        ar_cols = set()
        for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 15)):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(AR_PREFIX):
                    ar_cols.add(cell.column)
        for row in ws.iter_rows(min_row=1, min_col=1):
            for cell in row:
                if cell.column in ar_cols:
                    continue
                out[(ws.title, cell.coordinate)] = (
                    cell.value,
                    cell.data_type,
                    cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type else None,
                    cell.number_format,
                )
    return out


def _ar_columns(ws) -> dict[str, int]:
    found = {}
    for row in ws.iter_rows(min_row=1, max_row=15):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(AR_PREFIX):
                found[cell.value] = cell.column
    return found


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    out = tmp_path / "register.xlsx"
    proc = run_main("demo", "--out", str(out), "--today", TODAY)
    assert proc.returncode == 0, proc.stderr
    return out


def test_demo_covers_every_status_and_flag(demo: Path) -> None:
    result = sweep_json(demo, TODAY, "--dry-run")
    assert result["today"] == TODAY
    statuses = {p["status"] for p in result["pupils"]}
    assert statuses == {"OVERDUE", "DUE_SOON", "PREPARE", "ON_TRACK", "INVALID", "INACTIVE"}
    assert any(p["pfa_required"] for p in result["pupils"])
    transfers = [p["phase_transfer"] for p in result["pupils"] if p["phase_transfer"]]
    assert any(t["final_by"].endswith("-02-14") for t in transfers), transfers
    assert any(t["final_by"].endswith("-03-30") for t in transfers), transfers
    for pupil in result["pupils"]:
        assert set(pupil) == JSON_KEYS
        if pupil["status"] == "INVALID":
            assert pupil["errors"]
            assert pupil["window_end"] is None
        else:
            assert date.fromisoformat(pupil["meeting_target"]) <= date.fromisoformat(pupil["meeting_latest"])
        for message in pupil["errors"] + pupil["warnings"]:
            assert message.startswith(f"row {pupil['row']}: "), message


def test_dry_run_writes_nothing(demo: Path) -> None:
    before = demo.read_bytes()
    backups = sorted((demo.parent / ".keeper-backups").iterdir())  # the demo command itself swept once
    sweep_json(demo, TODAY, "--dry-run")
    assert demo.read_bytes() == before
    assert sorted((demo.parent / ".keeper-backups").iterdir()) == backups


def test_sweep_writes_only_ar_columns_and_keeps_everything_else(tmp_path: Path) -> None:
    demo = write_demo_register(tmp_path / "fresh.xlsx", today=date.fromisoformat(TODAY))  # never swept yet
    before = _snapshot(demo)
    wb0 = openpyxl.load_workbook(demo)
    ws0 = wb0["EHCP register"]
    merged0 = {str(r) for r in ws0.merged_cells.ranges}
    dv0 = [(dv.sqref, dv.formula1) for dv in ws0.data_validations.dataValidation]
    freeze0 = ws0.freeze_panes
    last_col0 = ws0.max_column

    dry = sweep_json(demo, TODAY, "--dry-run")
    proc = run_main("sweep", str(demo), "--today", TODAY)
    assert proc.returncode == 0, proc.stderr
    assert "Written:" in proc.stdout

    assert _snapshot(demo) == before
    wb = openpyxl.load_workbook(demo)
    ws = wb["EHCP register"]
    assert wb.sheetnames == wb0.sheetnames
    assert {str(r) for r in ws.merged_cells.ranges} == merged0
    assert [(dv.sqref, dv.formula1) for dv in ws.data_validations.dataValidation] == dv0
    assert ws.freeze_panes == freeze0
    ar = _ar_columns(ws)
    assert list(ar) == [
        "AR status",
        "AR hold meeting by",
        "AR window ends",
        "AR next action",
        "AR year 9+",
        "AR phase transfer",
        "AR after meeting",
        "AR outstanding",
        "AR issues",
        "AR checked",
    ]
    assert min(ar.values()) == last_col0 + 1

    # The cells say what the JSON says, on the pupil's own row.
    labels = {"OVERDUE": "OVERDUE", "DUE_SOON": "DUE SOON", "PREPARE": "PREPARE", "ON_TRACK": "ON TRACK",
              "INVALID": "INVALID", "INACTIVE": "INACTIVE"}  # fmt: skip
    for pupil in dry["pupils"]:
        r = pupil["row"]
        status_cell = ws.cell(row=r, column=ar["AR status"])
        assert status_cell.value == labels[pupil["status"]]
        assert status_cell.fill.fill_type == "solid"
        hold = ws.cell(row=r, column=ar["AR hold meeting by"])
        if pupil["meeting_target"]:
            assert isinstance(hold.value, datetime)
            assert hold.value.date().isoformat() == pupil["meeting_target"]
            assert hold.number_format == "dd/mm/yyyy"
        else:
            assert hold.value is None
        year9 = ws.cell(row=r, column=ar["AR year 9+"]).value
        assert (year9 == "PfA required") == bool(pupil["pfa_required"])
        if pupil["errors"]:
            assert ws.cell(row=r, column=ar["AR issues"]).value


def test_second_sweep_changes_only_ar_cells_and_finds_moved_columns(demo: Path) -> None:
    assert run_main("sweep", str(demo), "--today", TODAY).returncode == 0
    # The SENDCo moves "AR status" to the far right and sorts nothing else.
    wb = openpyxl.load_workbook(demo)
    ws = wb["EHCP register"]
    ar = _ar_columns(ws)
    status_col = ar["AR status"]
    far = ws.max_column + 2
    for r in range(1, ws.max_row + 1):
        src = ws.cell(row=r, column=status_col)
        ws.cell(row=r, column=far, value=src.value)
        src.value = None
    wb.save(demo)
    before = _snapshot(demo)
    proc = run_main("sweep", str(demo), "--today", "2025-10-02")
    assert proc.returncode == 0, proc.stderr
    assert _snapshot(demo) == before
    ws2 = openpyxl.load_workbook(demo)["EHCP register"]
    ar2 = _ar_columns(ws2)
    assert ar2["AR status"] == far
    assert len(ar2) == 10
    assert ws2.cell(row=5, column=far).value in {"OVERDUE", "DUE SOON", "PREPARE", "ON TRACK", "INVALID", "INACTIVE"}


def _write(path: Path, rows: Sequence[Sequence[object]], title: str = "Register") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


HEADER = ["Name", "DOB", "EHCP issued", "Last review", "LA decision date", "Next review meeting", "UPN"]


def test_spec_worked_examples_through_the_whole_sweep(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "r.xlsx",
        [
            HEADER,
            # docs/rules.md s4: last meeting 2025-06-20, LA decision 2025-07-10.
            ["Ann Example", date(2017, 1, 10), date(2020, 1, 1), date(2025, 6, 20), date(2025, 7, 10), None, None],
            # docs/rules.md s4: plan issued 2025-03-10, no review yet.
            ["Ben Example", date(2016, 2, 10), date(2025, 3, 10), None, None, None, None],
        ],
    )
    ann, ben = sweep_json(path, TODAY, "--dry-run")["pupils"]
    assert (ann["window_end"], ann["meeting_latest"]) == ("2026-06-19", "2026-06-11")
    assert (ben["window_end"], ben["meeting_latest"]) == ("2026-03-09", "2026-02-09")
    assert (ann["row"], ben["row"]) == (2, 3)


def test_spec_phase_transfer_example_through_the_whole_sweep(tmp_path: Path) -> None:
    # docs/rules.md s5: Year 5 review held 2024-04-15, transfer 2025-09-01. Born 1 May 2014: aged 9 on
    # 31 Aug 2023, so Year 5 in 2023/24 and Year 6 in 2024/25.
    path = _write(
        tmp_path / "r.xlsx",
        [HEADER, ["Cat Example", date(2014, 5, 1), date(2020, 1, 1), date(2024, 4, 15), None, None, None]],
    )
    (cat,) = sweep_json(path, "2024-05-01", "--dry-run")["pupils"]
    assert cat["phase_transfer"] == {
        "transfer_date": "2025-09-01",
        "final_by": "2025-02-14",
        "meeting_latest": "2024-11-22",
    }
    assert cat["meeting_latest"] == "2024-11-22"
    assert cat["status"] == "ON_TRACK"


def test_formula_like_name_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(['=HYPERLINK("http://x","y")', date(2015, 1, 10), date(2024, 1, 1), None, None, None, None])
    ws["A2"].data_type = "s"
    ws["A2"].fill = PatternFill("solid", fgColor="FFFF00")
    wb.save(path)
    proc = run_main("sweep", str(path), "--today", TODAY)
    assert proc.returncode == 0, proc.stderr
    ws2 = openpyxl.load_workbook(path).active
    assert ws2["A2"].value == '=HYPERLINK("http://x","y")'
    assert ws2["A2"].data_type == "s"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        ("empty", "empty"),
        ("no_header", "no row of column headers"),
        ("corrupt", ""),
        ("csv", "CSV"),
        ("open_in_excel", "open"),
    ],
)
def test_whole_register_problems_are_one_sentence_and_write_nothing(tmp_path: Path, make: str, expected: str) -> None:
    if make == "empty":
        path = _write(tmp_path / "empty.xlsx", [])
    elif make == "no_header":
        path = _write(tmp_path / "noheader.xlsx", [["Shopping"], ["eggs", 12], ["milk", 2]])
    elif make == "corrupt":
        path = tmp_path / "corrupt.xlsx"
        path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    elif make == "csv":
        path = tmp_path / "register.csv"
        path.write_text("Name,DOB,Last review\nAnn,01/01/2015,01/02/2025\n")
    else:
        path = _write(tmp_path / "register.xlsx", [HEADER, ["Ann Example", date(2015, 1, 10), date(2024, 1, 1)]])
        (tmp_path / "~$register.xlsx").write_bytes(b"lock")
    before = path.read_bytes()
    proc = run_main("sweep", str(path), "--today", TODAY)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    message = proc.stderr.strip()
    assert message.startswith("Review Keeper: ")
    assert "Traceback" not in message
    assert len(message.splitlines()) == 1
    assert expected in message
    assert path.read_bytes() == before
    assert not (tmp_path / ".keeper-backups").exists()


def test_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.xlsx", [HEADER, ["Ann Example", date(2015, 1, 10), date(2024, 1, 1)]])
    (tmp_path / "keeper.toml").write_text('[rules]\nanchor = "meting"\n')
    proc = run_main("sweep", str(path), "--today", TODAY)
    assert proc.returncode == 2
    assert 'rules.anchor is "meting"' in proc.stderr


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ('[mail]\ndeadline = "soon"\n', {}, 'keeper.toml [mail] deadline is "soon"; give the seconds'),
        ("", {"KEEPER_MAIL": "pigeon"}, 'KEEPER_MAIL is "pigeon"; use outbox'),
        ('sendco_name = "Ms Patel\\nBcc: all@example.org"\n', {}, "sendco_name has a line break"),
    ],
    ids=["toml-deadline", "env-transport", "newline-in-name"],
)
def test_a_bad_setting_stops_the_command_before_the_register_is_read(
    tmp_path: Path, toml: str, env: dict[str, str], expected: str
) -> None:
    """The settings are checked on load: a register that does not exist is never reached, and one that does is left
    byte for byte as it was."""
    (tmp_path / "keeper.toml").write_text(toml, encoding="utf-8")
    missing = run_main("sweep", str(tmp_path / "no-such-register.xlsx"), "--today", TODAY, env=env)
    assert missing.returncode == 2
    assert expected in missing.stderr
    assert "no-such-register" not in missing.stderr
    path = _write(tmp_path / "r.xlsx", [HEADER, ["Ann Example", date(2015, 1, 10), date(2024, 1, 1)]])
    before = path.read_bytes()
    for command in ("sweep", "report"):
        proc = run_main(command, str(path), "--today", TODAY, env=env, cwd=tmp_path)
        assert proc.returncode == 2, proc.stdout
        assert len(proc.stderr.strip().splitlines()) == 1
        assert expected in proc.stderr
    assert path.read_bytes() == before
    assert not (tmp_path / "outbox").exists()
    assert not (tmp_path / "report.xlsx").exists()


def test_settings_change_the_clock(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "r.xlsx",
        [HEADER, ["Ann Example", date(2017, 1, 10), date(2020, 1, 1), date(2025, 6, 20), date(2025, 7, 10)]],
    )
    default = sweep_json(path, TODAY, "--dry-run")["pupils"][0]
    (tmp_path / "keeper.toml").write_text('school_name = "Test School"\n[rules]\nanchor = "meeting"\n')
    meeting = sweep_json(path, TODAY, "--dry-run")["pupils"][0]
    assert default["meeting_latest"] == "2026-06-11"
    assert meeting["meeting_latest"] == "2026-06-19"


def test_json_is_parseable_and_summary_is_ordered(demo: Path) -> None:
    proc = run_main("sweep", str(demo), "--today", TODAY, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.index("OVERDUE\n") < text.index("DUE SOON\n") < text.index("ON TRACK\n")
    assert "Dry run: nothing was written." in text
    json.loads(run_main("sweep", str(demo), "--today", TODAY, "--dry-run", "--json").stdout)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sweep", "{tmp}"], "is a folder, not a workbook"),
        (["sweep", "{tmp}/missing.xlsx"], "was not found"),
        (["sweep", "{tmp}/r.xlsx", "--today", "2025-13-01"], '--today "2025-13-01" is not a date'),
    ],
)
def test_command_line_mistakes_are_one_sentence(tmp_path: Path, args: list[str], expected: str) -> None:
    _write(tmp_path / "r.xlsx", [HEADER, ["Ann Example", date(2017, 1, 10), date(2024, 1, 1)]])
    proc = run_main(*[a.format(tmp=tmp_path) for a in args])
    assert proc.returncode == 2
    assert proc.stderr.startswith("Review Keeper: ")
    assert expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
