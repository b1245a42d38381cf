"""Keeping a contributor's advice (docs/register.md s8): the form's answers and files in, one Advice row and the
Contributions row's Received out, in one write of the register; files and the full text in the evidence store first.

Order matters, so nothing is lost or duplicated:
1. files, then the full text, go to the evidence store (names carry the digest / the submission id: a retry re-writes
   the same names, never a second copy);
2. the register gets the Advice row and Received in ONE write (one save / one batchUpdate: both or neither);
3. when the register cannot be written (open in Excel, Google unavailable) the submission waits in the queue beside it
   and the next sweep applies it (`apply_queued`). An Advice row already holding the submission's id is never added
   again, so a queued submission applied twice still makes one row.
No answer text or file name is ever logged: only counts and outcomes.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from connectors.base import CellWrite, Register, RegisterData, RegisterError, WritePlan
from connectors.storage_base import EvidenceStore, StorageError
from connectors.submission_queue import SubmissionQueue
from sheet_schema.advice import (
    ADVICE_HEADERS,
    ADVICE_SHEET,
    ANSWER_LIMIT,
    SUBMITTED,
    SUBMITTED_FORMAT,
    RoleForm,
    StoredFile,
    Submission,
    advice_row,
    clean_answer,
    find_advice_header,
    is_cut,
    parse_advice,
    pupil_key,
)
from sheet_schema.contributions import Contribution
from sheet_schema.fields import normalise_header

from .uploads import MAX_FILES, CheckedFile, RejectedFile, check_file

log = logging.getLogger("review_keeper.submit")
NOTHING_NEW_FIELD = "nothing_new"
# One writer at a time in this process: two contributors pressing Send together are written one after the other
# (the workbook adapter also starts again from a save it did not make: connectors/files.py).
_WRITE_LOCK = threading.Lock()


@dataclass(frozen=True)
class FormAnswers:
    answers: dict[str, str]
    nothing_new: bool
    problems: list[str] = field(default_factory=list)  # sentences naming the question and the fix


def read_answers(form: RoleForm, year9: bool, fields: Mapping[str, str]) -> FormAnswers:
    """The answers to this role's questions from the posted fields; anything else posted is ignored."""
    answers: dict[str, str] = {}
    problems: list[str] = []
    for prompt in form.prompts_for(year9):
        text = clean_answer(fields.get(prompt.key))
        if not text:
            continue
        if prompt.choices and text not in prompt.choices:
            problems.append(f'"{prompt.label}": choose one of the answers given.')
            continue
        if len(text) > ANSWER_LIMIT:
            problems.append(
                f'"{prompt.label}" is {len(text):,} characters long and the limit is {ANSWER_LIMIT:,}: shorten it, '
                "or put the full text in a file and attach it."
                if form.takes_files
                else f'"{prompt.label}" is {len(text):,} characters long and the limit is {ANSWER_LIMIT:,}: please '
                "shorten it."
            )
        answers[prompt.key] = text
    nothing_new = clean_answer(fields.get(NOTHING_NEW_FIELD)) in {"yes", "on", "1", "true"}
    return FormAnswers(answers, nothing_new, problems)


def check_files(
    uploads: Sequence[bytes], role: str, today: date
) -> tuple[list[CheckedFile], list[RejectedFile], list[str]]:
    """Each chosen file checked by content; problems as sentences ("File 2: it is not a PDF ...")."""
    checked: list[CheckedFile] = []
    rejected: list[RejectedFile] = []
    chosen = [data for data in uploads if data]
    if len(chosen) > MAX_FILES:
        return [], [], [f"Please attach at most {MAX_FILES} files at a time."]
    for number, data in enumerate(chosen, start=1):
        verdict = check_file(number, data, role, today)
        (checked if isinstance(verdict, CheckedFile) else rejected).append(verdict)  # type: ignore[arg-type]
    problems = [f"File {r.number}: {r.reason}" for r in rejected]
    return checked, rejected, problems


def new_submission(
    contribution: Contribution,
    answers: FormAnswers,
    files: Sequence[CheckedFile],
    now: datetime,
    earlier_files: Sequence[StoredFile] = (),
) -> Submission:
    """A submission for the link's own Contributions row; files kept from the contributor's earlier submission stay
    listed (a re-sent form does not make them re-attach the report)."""
    kept = {f.name: StoredFile(f.name, f.sha256, f.size) for f in earlier_files}
    kept.update({f.name: StoredFile(f.name, f.sha256, f.size) for f in files})
    return Submission(
        id=secrets.token_hex(12),
        pupil_ref=contribution.pupil_ref,
        role=contribution.role,
        name=contribution.name,
        email=contribution.email or "",
        submitted_at=now,
        answers=answers.answers,
        nothing_new=answers.nothing_new,
        files=tuple(kept.values()),
    )


def advice_plan(submission: Submission) -> WritePlan:
    """Appends the submission's Advice row (creating the tab with its headers if missing)."""

    def find_header_row(rows: list[list[object]]) -> int | None:
        found = find_advice_header(rows)
        return found[0] if found else None

    cells: dict[str, CellWrite] = {}
    for header, value in advice_row(submission).items():
        if isinstance(value, datetime):
            cells[header] = CellWrite(value, SUBMITTED_FORMAT)
        elif value:
            cells[header] = CellWrite(value)
    return WritePlan(
        sheet=ADVICE_SHEET,
        headers=ADVICE_HEADERS,
        find_header_row=find_header_row,  # type: ignore[arg-type]
        key_of=lambda values: None,
        rows={},
        append_rows=(cells,),
        create_if_missing=True,
        header_key=normalise_header,
    )


@dataclass(frozen=True)
class Kept:
    outcome: str  # "recorded": in the register; "queued": waiting beside it for the next sweep
    files_kept: int
    storage_failed: bool = False  # the files could not be kept (storage down): the answers still were


def _has_submission(data: RegisterData, submission_id: str) -> bool:
    sheet = next((s for s in data.sheets if s.title == ADVICE_SHEET), None)
    return sheet is not None and any(s.id == submission_id for s in parse_advice(sheet.rows))


def _received_plan(submission: Submission, received_on: date | None) -> WritePlan | None:
    if received_on is None:
        return None
    from .confirm import received_plan  # confirm imports this module: imported when first needed

    return received_plan(submission.contribution_key, received_on)


WRITE_ATTEMPTS = 3


def _write(register: Register, submission: Submission, received_on: date | None) -> None:
    """Append the row unless the tab holds it already, then read it back: two contributors sending at the same moment
    from two cloud instances can both append to the same empty row of a Google Sheet (the later write wins), so a row
    that is not there afterwards is written again, a bounded number of times (never twice: the id is checked first).
    The workbook adapter cannot lose a row this way (it starts again from a save it did not make); the check costs it
    one read."""
    with _WRITE_LOCK:
        for _ in range(WRITE_ATTEMPTS):
            if _has_submission(register.read(), submission.id):
                return  # there (written just now, or applied already from the queue)
            received = _received_plan(submission, received_on)
            register.write(advice_plan(submission), *([received] if received is not None else []))
        if not _has_submission(register.read(), submission.id):
            raise RegisterError("The advice could not be written to the register; it is kept for the next sweep.")


def keep_submission(
    submission: Submission,
    files: Sequence[CheckedFile],
    *,
    register: Register,
    store: EvidenceStore,
    queue: SubmissionQueue,
    received_on: date | None,
) -> Kept:
    """Store files and full text, then write the register once; queue the submission when the register is busy."""
    key = pupil_key(submission.pupil_ref)
    storage_failed = False
    try:
        for checked in files:
            store.save_file(key, checked.name, checked.data, checked.content_type)
        store.save_text(key, submission.id, json.dumps(submission.to_json(), ensure_ascii=False, indent=1))
    except StorageError:
        storage_failed = True
        # The answers still go to the register and the queue; the files are dropped from this submission so the row
        # never lists a file that was not kept. The page asks the contributor to attach them again later.
        kept_names = {c.name for c in files}
        submission = replace(
            submission,
            files=tuple(f for f in submission.files if f.name not in kept_names),
            files_not_kept=len(files),
        )
        log.warning("evidence storage failed", extra={"event": "StorageError", "outcome": "answers kept"})
    try:
        _write(register, submission, received_on)
        outcome = "recorded"
    except RegisterError:
        received = received_on.isoformat() if received_on else None
        queue.put(submission.id, {"submission": submission.to_json(), "received_on": received})
        outcome = "queued"
        log.warning("register busy: submission queued", extra={"event": "RegisterError", "outcome": "queued"})
    log.info("advice kept", extra={"outcome": outcome, "files": 0 if storage_failed else len(files)})
    return Kept(outcome, 0 if storage_failed else len(files), storage_failed)


def apply_queued(register: Register, queue: SubmissionQueue) -> tuple[int, int]:
    """The sweep's first step: every waiting submission into the register, oldest first. Returns (applied, still
    waiting). A queue entry is removed only once the register holds its row."""
    applied = waiting = 0
    for path, payload in queue.pending():
        raw = payload.get("submission")
        if not isinstance(raw, Mapping):
            continue
        submission = Submission.from_json(raw)
        received = payload.get("received_on")
        try:
            _write(register, submission, date.fromisoformat(received) if isinstance(received, str) else None)
        except RegisterError:
            waiting += 1
            continue
        queue.done(path)
        applied += 1
    return applied, waiting


def latest_submission(
    data: RegisterData, contribution_key: tuple[str, str, str], store: EvidenceStore | None
) -> Submission | None:
    """The contributor's newest submission, with the full text of any answer cut in its cell (for the form's
    prefill and the record). Falls back to the cell text when the full text cannot be read."""
    sheet = next((s for s in data.sheets if s.title == ADVICE_SHEET), None)
    if sheet is None:
        return None
    mine = [s for s in parse_advice(sheet.rows) if s.contribution_key == contribution_key]
    if not mine:
        return None
    newest = max(enumerate(mine), key=lambda item: (item[1].submitted_at, item[0]))[1]
    return with_full_text(newest, store)


def with_full_text(submission: Submission, store: EvidenceStore | None) -> Submission:
    if store is None:
        return submission
    try:
        texts = store.read_texts(pupil_key(submission.pupil_ref))
    except StorageError:
        return submission
    for text in texts:
        try:
            full = json.loads(text)
        except ValueError:
            continue
        if isinstance(full, dict) and full.get("id") == submission.id:
            kept = Submission.from_json(full)
            # The register is the system of record: a cell the SENDCo edited wins unless it was cut by the product.
            answers = {k: (kept.answers.get(k, v) if is_cut(v) else v) for k, v in submission.answers.items()}
            return replace(submission, answers=answers, files=kept.files)
    return submission


__all__ = [
    "NOTHING_NEW_FIELD",
    "SUBMITTED",
    "FormAnswers",
    "Kept",
    "advice_plan",
    "apply_queued",
    "check_files",
    "keep_submission",
    "latest_submission",
    "new_submission",
    "read_answers",
    "with_full_text",
]
