"""The Advice tab (docs/register.md s8): how one contributor's submission is kept as one row of the register. The
forms themselves (what each role is asked) are in forms.py. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from .cells import SERIAL_EPOCH, SERIAL_MAX, cell_text, is_blank
from .contributions import contribution_key
from .fields import normalise_header
from .forms import FORMS, Prompt, RoleForm, all_prompts, form_for, form_kind

ADVICE_SHEET = "Advice"
# Excel keeps at most 32,767 characters in a cell and Google 50,000; far less keeps a row readable. The full text is
# kept beside the files (docs/register.md s8).
CELL_LIMIT = 2000
CUT_NOTE = " … (cut: full text in the file)"
# One answer may be long (a professional's summary), but not a whole report pasted in: that belongs in a file.
ANSWER_LIMIT = 20_000


PUPIL = "Pupil"
ROLE = "Role"
NAME = "Name"
EMAIL = "Email"
SUBMITTED = "Submitted at"
NOTHING_NEW = "Nothing new to add"
FILES = "Files"
SUBMISSION = "Submission"
SUBMITTED_FORMAT = "dd/mm/yyyy hh:mm"

ADVICE_HEADERS: tuple[str, ...] = (
    PUPIL,
    ROLE,
    NAME,
    EMAIL,
    SUBMITTED,
    NOTHING_NEW,
    *(p.header for p in all_prompts()),
    FILES,
    SUBMISSION,
)
_KEY_BY_HEADER = {normalise_header(p.header): p.key for p in all_prompts()}
_UPN = re.compile(r"[A-Z][0-9]{11}[0-9A-Z]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class StoredFile:
    """A contributor's file as kept: the product's own name for it (never the uploaded name), its size and digest."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Submission:
    """One press of "Send": what a contributor said, once. Every submission is kept; the newest one counts."""

    id: str  # random, unique: the Submission column, the full-text file's name, and what stops a second append
    pupil_ref: str
    role: str
    name: str
    email: str
    submitted_at: datetime
    answers: Mapping[str, str] = field(default_factory=dict)  # prompt key -> text
    nothing_new: bool = False
    files: tuple[StoredFile, ...] = ()
    files_not_kept: int = 0  # attached but not stored (the storage did not answer): said in the Files cell

    @property
    def contribution_key(self) -> tuple[str, str, str]:
        return contribution_key(self.pupil_ref, self.role, self.email)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "pupil_ref": self.pupil_ref,
            "role": self.role,
            "name": self.name,
            "email": self.email,
            "submitted_at": self.submitted_at.isoformat(),
            "answers": dict(self.answers),
            "nothing_new": self.nothing_new,
            "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in self.files],
            "files_not_kept": self.files_not_kept,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Submission:
        answers = data.get("answers") or {}
        files = data.get("files") or []
        if not isinstance(answers, Mapping) or not isinstance(files, list):
            raise ValueError("not a submission")
        return cls(
            id=str(data["id"]),
            pupil_ref=str(data["pupil_ref"]),
            role=str(data["role"]),
            name=str(data.get("name") or ""),
            email=str(data.get("email") or ""),
            submitted_at=submitted_time(str(data["submitted_at"])),
            answers={str(k): str(v) for k, v in answers.items()},
            nothing_new=bool(data.get("nothing_new")),
            files=tuple(StoredFile(str(f["name"]), str(f["sha256"]), int(f["size"])) for f in files),
            files_not_kept=int(str(data.get("files_not_kept") or 0)),
        )


def pupil_key(pupil_ref: str) -> str:
    """The evidence folder's name for a pupil: the UPN as written, else the name as a slug ("freya-clarke").
    Made here from the Contributions row, never from anything a contributor sent."""
    text = " ".join(pupil_ref.split())
    if _UPN.fullmatch(text.replace(" ", "").upper()):
        return text.replace(" ", "").upper()
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:80] or "pupil"


def clean_answer(text: object) -> str:
    """An answer as plain text: control characters gone, Windows line ends made plain, outer space trimmed. HTML and
    `=cmd|...` stay as typed: they are escaped on every page and written as text, never as a formula (s5)."""
    raw = "" if text is None else str(text)
    return _CONTROL.sub(" ", raw.replace("\r\n", "\n").replace("\r", "\n")).strip()


def cut(text: str, limit: int = CELL_LIMIT) -> str:
    """Text for one cell: whole when it fits, else cut with a visible note saying where the rest is."""
    if len(text) <= limit:
        return text
    return text[: limit - len(CUT_NOTE)].rstrip() + CUT_NOTE


def is_cut(text: str) -> bool:
    return text.endswith(CUT_NOTE)


def advice_row(submission: Submission) -> dict[str, str | datetime]:
    """The Advice tab's cells for one submission, by header; text cut to CELL_LIMIT."""
    row: dict[str, str | datetime] = {
        PUPIL: submission.pupil_ref,
        ROLE: submission.role,
        NAME: submission.name,
        EMAIL: submission.email,
        SUBMITTED: submission.submitted_at.replace(tzinfo=None),
        NOTHING_NEW: "Yes" if submission.nothing_new else "",
        FILES: cut(", ".join([*(f.name for f in submission.files), *_not_kept_note(submission.files_not_kept)])),
        SUBMISSION: submission.id,
    }
    for prompt in all_prompts():
        answer = submission.answers.get(prompt.key, "")
        if answer:
            row[prompt.header] = cut(answer)
    return row


def _not_kept_note(count: int) -> list[str]:
    """What the SENDCo reads in the Files cell when attached files could not be stored (docs/register.md s8): the
    contributor's page asked them to send the files again. In brackets, so it is never read back as a file name."""
    if count <= 0:
        return []
    files = "1 file" if count == 1 else f"{count} files"
    return [f"({files} attached but not stored: the storage did not answer; the contributor was asked to send again)"]


_NEVER = datetime(1900, 1, 1)  # noqa: DTZ001 - London wall-clock times throughout, like the register's cells


def submitted_time(value: object) -> datetime:
    """Submitted at as a London wall-clock time: a date-time cell, a spreadsheet serial (Google Sheets), or text the
    SENDCo typed (dd/mm/yyyy hh:mm or ISO). Unreadable: the earliest time, so that row never wins as the newest."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < SERIAL_MAX:
        return datetime.combine(SERIAL_EPOCH, time()) + timedelta(days=float(value))
    text = cell_text(value).strip()
    for pattern in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern)  # noqa: DTZ007 - wall-clock time, as above
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        return _NEVER


def find_advice_header(rows: Sequence[Sequence[object]]) -> tuple[int, dict[str, int]] | None:
    """The 1-based header row and header -> 0-based column (headers as in ADVICE_HEADERS), in the first 15 rows."""
    wanted = {normalise_header(h): h for h in ADVICE_HEADERS}
    for index, row in enumerate(rows[:15]):
        columns: dict[str, int] = {}
        for col, value in enumerate(row):
            header = wanted.get(normalise_header(value))
            if header is not None and header not in columns:
                columns[header] = col
        if {PUPIL, ROLE, SUBMISSION} <= columns.keys():
            return index + 1, columns
    return None


def parse_advice(rows: Sequence[Sequence[object]]) -> list[Submission]:
    """Every submission on the Advice tab, in sheet order. Cut answers stay cut here: the full text is beside the
    files, read by whoever needs it (functions/evidence.py). A row without a pupil or submission id is skipped."""
    found = find_advice_header(rows)
    if found is None:
        return []
    header_row, columns = found
    out: list[Submission] = []
    for values in rows[header_row:]:

        def at(header: str, values: Sequence[object] = values) -> object:
            col = columns.get(header)
            return values[col] if col is not None and col < len(values) else None

        if is_blank(at(PUPIL)) or is_blank(at(SUBMISSION)):
            continue
        answers: dict[str, str] = {}
        for header, col in columns.items():
            key = _KEY_BY_HEADER.get(normalise_header(header))
            if key and col < len(values) and not is_blank(values[col]):
                answers[key] = cell_text(values[col])
        names = [n.strip() for n in cell_text(at(FILES)).split(",")]
        files = tuple(StoredFile(n, "", 0) for n in names if n and not n.startswith("("))
        out.append(
            Submission(
                id=cell_text(at(SUBMISSION)).strip(),
                pupil_ref=cell_text(at(PUPIL)).strip(),
                role=cell_text(at(ROLE)).strip(),
                name=cell_text(at(NAME)).strip(),
                email=cell_text(at(EMAIL)).strip(),
                submitted_at=submitted_time(at(SUBMITTED)),
                answers=answers,
                nothing_new=cell_text(at(NOTHING_NEW)).strip().casefold() in {"yes", "y", "true", "x"},
                files=files,
            )
        )
    return out


def newest_per_contributor(submissions: Sequence[Submission]) -> list[Submission]:
    """Each contributor's newest submission (by time, then by place on the sheet): the one the record uses."""
    newest: dict[tuple[str, str, str], Submission] = {}
    for submission in submissions:
        key = submission.contribution_key
        held = newest.get(key)
        if held is None or submission.submitted_at >= held.submitted_at:
            newest[key] = submission
    return sorted(newest.values(), key=lambda s: s.submitted_at)


__all__ = [
    "ADVICE_HEADERS",
    "ADVICE_SHEET",
    "ANSWER_LIMIT",
    "CELL_LIMIT",
    "CUT_NOTE",
    "FORMS",
    "Prompt",
    "RoleForm",
    "StoredFile",
    "Submission",
    "advice_row",
    "all_prompts",
    "clean_answer",
    "cut",
    "find_advice_header",
    "form_for",
    "form_kind",
    "is_cut",
    "newest_per_contributor",
    "parse_advice",
    "pupil_key",
]
