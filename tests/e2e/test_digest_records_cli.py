"""The SENDCo's digest carries the review records of the meetings in the next four weeks (issue 6), through
`python main.py sweep` on a workbook, the outbox parsed with the `email` package and each record opened with
python-docx."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import docx
import openpyxl

from connectors.mail import OutboxTransport
from connectors.workbook import WorkbookRegister
from functions.digest_records import DOCX_TYPE
from functions.settings import load_settings
from functions.sweep import run_sweep
from tests.e2e.conftest import ROOT, run_main
from tests.e2e.test_emails_cli import CONTRIB_HEADERS, SENDCO, make_register, outbox_messages, sweep, text_of

HEADERS = [
    "Name",
    "UPN",
    "DOB",
    "EHCP issued",
    "Last review",
    "LA decision date",
    "Next review meeting",
    "Parent email",
    "Status",
]
MONDAY = "2025-10-13"  # the weekly digest
# name, UPN, DOB, EHCP issued, Last review, LA decision, planned meeting, status; on 13/10/2025:
PUPILS = [
    # hold by 11/11/2025: 29 days away, just outside the four weeks
    ("Ann Example", "B801200005001", date(2014, 3, 4), date(2024, 11, 20), date(2024, 12, 10), None, None),
    # hold by 22/05/2026: far off
    ("Ben Sample", "C801200005002", date(2013, 5, 6), date(2025, 6, 2), date(2025, 6, 20), None, None),
    # planned meeting 20/10/2025: in
    ("Cal Planned", "D801200005003", date(2015, 7, 8), date(2025, 2, 1), date(2025, 3, 1), date(2025, 10, 20), None),
    # no planned meeting, hold by 17/10/2025 (DUE SOON): in
    ("Dee Holdby", "E801200005004", date(2016, 1, 2), date(2024, 11, 1), date(2024, 11, 15), None, None),
    # left the school, meeting 21/10/2025: INACTIVE, no record
    ("Eve Leaver", "F801200005005", date(2016, 2, 2), date(2025, 2, 1), date(2025, 3, 1), date(2025, 10, 21), "Left"),
    # no date of birth: INVALID, no record
    ("Fay Nodob", "G801200005006", None, date(2025, 2, 1), date(2025, 3, 1), date(2025, 10, 22), None),
    # planned meeting 10/10/2025, already held: no record
    ("Gus Past", "H801200005007", date(2015, 9, 9), date(2025, 2, 1), date(2025, 3, 1), date(2025, 10, 10), None),
    # last reviewed 02/06/2024, no meeting since: OVERDUE (held by 02/06/2025 at the latest): in, listed first
    ("Hal Overdue", "J801200005008", date(2014, 4, 4), date(2024, 6, 2), date(2024, 6, 20), None, None),
]
EXPECTED = {"Cal Planned", "Dee Holdby", "Hal Overdue"}


def make_caseload(folder: Path, *, extra_settings: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.append(HEADERS)
    for name, upn, dob, last, decision, planned, status in PUPILS:
        ws.append([name, upn, dob, date(2021, 1, 1), last, decision, planned, None, status])
    tab = wb.create_sheet("Contributions")
    tab.append(CONTRIB_HEADERS)
    tab.append(["D801200005003", "EP", "Dr Sam Okafor", "ep@la.example.org", date(2025, 9, 1), None, 1, None, None])
    tab.append(
        ["Dee Holdby", "Class teacher", "Jo Patel", "jo@school.example.org", date(2025, 9, 1), date(2025, 9, 20)]
    )
    path = folder / "register.xlsx"
    wb.save(path)
    (folder / "keeper.toml").write_text(
        f'school_name = "Oakfield Primary"\nsendco_name = "Sam Taylor"\nsendco_email = "{SENDCO}"\n{extra_settings}',
        encoding="utf-8",
    )
    return path


def digest_of(folder: Path) -> EmailMessage:
    digests = [m for m in outbox_messages(folder / "outbox") if str(m["X-Review-Keeper-Kind"]) == "digest"]
    assert len(digests) == 1
    return digests[0]


def records_in(message: EmailMessage) -> dict[str, docx.document.Document]:
    """filename -> the opened Word document, for every .docx attachment."""
    out = {}
    for part in message.iter_attachments():
        filename = part.get_filename() or ""
        if filename.endswith(".docx"):
            assert part.get_content_type() == DOCX_TYPE
            out[filename] = docx.Document(io.BytesIO(part.get_payload(decode=True)))
    return out


def heading(document: docx.document.Document) -> str:
    return next(p.text for p in document.paragraphs if p.text.strip())


def test_digest_attaches_the_records_of_meetings_in_the_next_four_weeks(tmp_path: Path) -> None:
    path = make_caseload(tmp_path / "school")
    result = sweep(path, MONDAY)
    digest_json = [e for e in result["emails"] if e["kind"] == "digest"]
    assert [e["to"] for e in digest_json] == [SENDCO]
    assert set(digest_json[0]) == {"kind", "to", "pupil_row", "subject"}  # the JSON contract is unchanged

    digest = digest_of(path.parent)
    assert str(digest["To"]) == SENDCO
    records = records_in(digest)
    assert len(records) == len(EXPECTED) == len(list(digest.iter_attachments()))
    assert {heading(d) for d in records.values()} == {f"Annual review record: {name}" for name in EXPECTED}
    assert list(records) == [  # overdue first, then the soonest meeting
        "review-record-row009-Hal-O.docx",
        "review-record-row005-Dee-H.docx",
        "review-record-row004-Cal-P.docx",
    ]
    # The contributions are matched to the right record: the EP asked for Cal's review and chased once.
    cal = records["review-record-row004-Cal-P.docx"]
    cal_cells = {c.text for t in cal.tables for row in t.rows for c in row.cells}
    assert "Dr Sam Okafor" in cal_cells
    assert "Jo Patel" not in cal_cells

    # The body says what is attached but still names nobody in full and carries no DOB or UPN.
    body = text_of(digest)
    assert "Attached: the review record for 3 reviews that are overdue or whose meeting falls" in body
    for name, upn, dob, *_ in PUPILS:
        assert upn not in body
        assert name not in body
        if dob is not None:
            assert dob.isoformat() not in body
            assert f"{dob:%d/%m/%Y}" not in body

    # Other emails carry no records.
    for message in outbox_messages(path.parent / "outbox"):
        if str(message["X-Review-Keeper-Kind"]) != "digest":
            assert not any((p.get_filename() or "").endswith(".docx") for p in message.iter_attachments())


def test_attach_records_false_sends_the_digest_without_records(tmp_path: Path) -> None:
    path = make_caseload(tmp_path / "school", extra_settings="\n[digest]\nattach_records = false\n")
    result = sweep(path, MONDAY)
    assert [e["to"] for e in result["emails"] if e["kind"] == "digest"] == [SENDCO]
    digest = digest_of(path.parent)
    assert list(digest.iter_attachments()) == []
    assert "Attached:" not in text_of(digest)


def test_a_bad_attach_records_setting_is_one_clear_sentence(tmp_path: Path) -> None:
    path = make_caseload(tmp_path / "school", extra_settings='\n[digest]\nattach_records = "no"\n')
    proc = run_main("sweep", str(path), "--today", MONDAY, "--json")
    assert proc.returncode != 0
    assert "digest.attach_records must be true or false" in proc.stderr


def test_four_weeks_is_inclusive(tmp_path: Path) -> None:
    """Ann must be seen by 11/11/2025: on Monday 13/10 that is 29 days away (no record); on Tuesday 14/10, the day her
    review turns DUE SOON and a digest goes, exactly 28 (her record is attached)."""
    monday = make_register(tmp_path / "monday")
    sweep(monday, "2025-10-13")
    assert records_in(digest_of(monday.parent)) == {}

    tuesday = make_register(tmp_path / "tuesday")
    sweep(tuesday, "2025-10-14")
    records = records_in(digest_of(tuesday.parent))
    assert [heading(d) for d in records.values()] == ["Annual review record: Ann Example"]


def test_dry_run_makes_the_records_but_sends_and_writes_nothing(tmp_path: Path) -> None:
    path = make_caseload(tmp_path / "school")
    before = path.read_bytes()
    outbox = path.parent / "outbox"
    result = run_sweep(
        WorkbookRegister(path),
        today=date.fromisoformat(MONDAY),
        settings=load_settings(None, path),
        transport=OutboxTransport(outbox),
        dry_run=True,
    )
    assert result.mail is not None
    assert result.mail.records_attached == len(EXPECTED)
    assert "digest" in [e["kind"] for e in result.mail.sent]
    assert not outbox.exists()
    assert path.read_bytes() == before


LAZY = textwrap.dedent(
    """
    import json, sys
    from datetime import date
    from pathlib import Path
    from connectors.mail import OutboxTransport
    from connectors.workbook import WorkbookRegister
    from functions.settings import load_settings
    from functions.sweep import run_sweep

    path = Path(sys.argv[1])
    result = run_sweep(
        WorkbookRegister(path),
        today=date.fromisoformat(sys.argv[2]),
        settings=load_settings(None, path),
        transport=OutboxTransport(path.parent / "outbox"),
    )
    kinds = [e["kind"] for e in result.mail.sent]
    print(json.dumps({"kinds": kinds, "docx": "docx" in sys.modules}))
    """
)


def _lazy(path: Path, today: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", LAZY, str(path), today], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_python_docx_is_loaded_only_when_a_digest_carries_records(tmp_path: Path) -> None:
    quiet = _lazy(make_register(tmp_path / "tuesday"), "2025-09-30")  # requests only, no digest
    assert "digest" not in quiet["kinds"]
    assert quiet["docx"] is False
    busy = _lazy(make_caseload(tmp_path / "monday"), MONDAY)
    assert "digest" in busy["kinds"]
    assert busy["docx"] is True
