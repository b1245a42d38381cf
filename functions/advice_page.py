"""The role's form behind a contributor's link (docs/register.md s8): what GET shows, what POST keeps.

GET shows the form for the link's role, filled in from the contributor's newest submission, so a refresh or a second
visit never loses what they sent. POST reads the form (the request's size is checked BEFORE anything is parsed: a
request over REQUEST_LIMIT_BYTES is refused from its Content-Length, and werkzeug stops reading at the same limit
when there is none), checks every answer and file, and keeps the submission through functions.submit. Answers may be
changed until the contributions deadline; each submission is kept and the newest counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from connectors.base import Register, RegisterData
from connectors.storage_base import EvidenceStore
from connectors.submission_queue import SubmissionQueue
from review_rules.dates import format_date
from sheet_schema.advice import ANSWER_LIMIT, RoleForm, Submission, form_for
from sheet_schema.contributions import Contribution
from sheet_schema.model import ReviewedPupil

from .submit import (
    check_files,
    keep_submission,
    latest_submission,
    new_submission,
    read_answers,
)
from .uploads import MAX_FILE_BYTES

if (
    TYPE_CHECKING
):  # werkzeug is the page's, loaded with a request: a sweep that builds the desk never needs it (issue 16)
    from werkzeug.wrappers import Request

    from .confirm import Confirmations, ConfirmPage

# Cloud Functions (Cloud Run) refuses requests over 32 MiB; three 10 MB reports and the text fit under this.
REQUEST_LIMIT_BYTES = 30 * 1024 * 1024
FORM_TEXT_LIMIT = 1024 * 1024  # every text field together (the answers' own limit is ANSWER_LIMIT each)


@dataclass(frozen=True)
class Posted:
    fields: dict[str, str]
    uploads: list[bytes]


class TooLarge(Exception):
    """The request is over REQUEST_LIMIT_BYTES: refused unread."""


def read_post(request: Request) -> Posted:
    """The posted form's text fields and files' bytes, refusing an oversized request before parsing it."""
    from werkzeug.exceptions import RequestEntityTooLarge

    length = request.content_length
    if length is not None and length > REQUEST_LIMIT_BYTES:
        raise TooLarge
    request.max_content_length = REQUEST_LIMIT_BYTES
    request.max_form_memory_size = FORM_TEXT_LIMIT
    try:
        fields = {key: request.form.get(key, "") for key in request.form}
        uploads = []
        for storage in request.files.getlist("files"):
            data = storage.stream.read(MAX_FILE_BYTES + 1)  # one byte over is enough to say "too big"
            if data:
                uploads.append(data)
    except RequestEntityTooLarge as err:
        raise TooLarge from err
    return Posted(fields, uploads)


@dataclass(frozen=True)
class Outcome:
    kind: str  # form, advice_thanks, advice_queued, closed
    status: int
    context: dict[str, Any] = field(default_factory=dict)
    wrote: bool = False


@dataclass
class AdviceDesk:
    """The form's job. `store_for` / `queue_for` give a school's evidence store and queue; `now` London's clock."""

    store_for: Callable[[Any], EvidenceStore]
    queue_for: Callable[[Any], SubmissionQueue]
    now: Callable[[], datetime]

    def _editable(self, latest: Submission | None, due: date | None, today: date) -> bool:
        # First answers are taken while the link is valid (late advice is still advice); changes until the deadline.
        return latest is None or due is None or today <= due

    def _context(
        self,
        form: RoleForm,
        year9: bool,
        latest: Submission | None,
        *,
        due: date | None,
        today: date,
        answers: Mapping[str, str] | None = None,
        nothing_new: bool | None = None,
        problems: Sequence[dict[str, str]] = (),
    ) -> dict[str, Any]:
        shown = dict(latest.answers) if latest and answers is None else dict(answers or {})
        return {
            "form": form,
            "prompts": form.prompts_for(year9),
            "answers": shown,
            "nothing_new": (latest.nothing_new if latest else False) if nothing_new is None else nothing_new,
            "problems": list(problems),
            "sent_at": f"{latest.submitted_at:%d/%m/%Y at %H:%M}" if latest else None,
            "editable": self._editable(latest, due, today),
            "kept_files": [f.name for f in latest.files] if latest else [],
            "answer_limit": ANSWER_LIMIT,
            "request_limit_mb": REQUEST_LIMIT_BYTES // (1024 * 1024),
        }

    def view(self, school: Any, contribution: Contribution, data: RegisterData, pupil: ReviewedPupil | None) -> Outcome:
        """GET: the form, prefilled from the newest submission; read-only once the deadline has passed."""
        form = form_for(contribution.role)
        year9 = bool(pupil and pupil.clock and pupil.clock.pfa_required)
        due = pupil.clock.contributions_due if pupil and pupil.clock else None
        today = self.now().date()
        latest = latest_submission(data, contribution.key, self.store_for(school))
        context = self._context(form, year9, latest, due=due, today=today)
        if not context["editable"]:
            return Outcome("closed", 200, context)
        return Outcome("form", 200, context)

    def take(
        self,
        school: Any,
        register: Register,
        contribution: Contribution,
        data: RegisterData,
        pupil: ReviewedPupil | None,
        posted: Posted,
    ) -> Outcome:
        """POST: check, then keep (files, full text, one register write) or show the form again with the problems."""
        form = form_for(contribution.role)
        year9 = bool(pupil and pupil.clock and pupil.clock.pfa_required)
        due = pupil.clock.contributions_due if pupil and pupil.clock else None
        now = self.now()
        store = self.store_for(school)
        latest = latest_submission(data, contribution.key, store)
        if not self._editable(latest, due, now.date()):
            return Outcome("closed", 409, self._context(form, year9, latest, due=due, today=now.date()))
        answers = read_answers(form, year9, posted.fields)
        problems = [{"field": _field_of(form, text), "text": text} for text in answers.problems]
        files: list[Any] = []
        if posted.uploads and not form.takes_files:
            problems.append({"field": "nothing_new", "text": "This form does not take files: please leave them out."})
        elif posted.uploads:
            files, _, file_problems = check_files(posted.uploads, contribution.role, now.date())
            problems += [{"field": "files", "text": text} for text in file_problems]
        if not problems and not answers.answers and not answers.nothing_new and not files:
            problems.append(
                {
                    "field": "nothing_new",
                    "text": "Answer at least one question, or tick \u201cI have nothing new to add\u201d.",
                }
            )
        if problems:
            context = self._context(
                form,
                year9,
                latest,
                due=due,
                today=now.date(),
                answers=answers.answers,
                nothing_new=answers.nothing_new,
                problems=problems,
            )
            return Outcome("form", 400, context)
        context = {
            "files_kept": len(files),
            "storage_failed": False,
            "editable_until": format_date(due) if due and now.date() <= due else None,
        }
        same = latest is not None and dict(latest.answers) == answers.answers
        if same and latest is not None and not files and latest.nothing_new == answers.nothing_new:
            # The same form again (a double tap, the browser's resend): kept already, nothing new to write.
            return Outcome("advice_thanks", 200, {**context, "sent_at": f"{latest.submitted_at:%d/%m/%Y at %H:%M}"})
        submission = new_submission(
            contribution, answers, files, now.replace(tzinfo=None), latest.files if latest else ()
        )
        kept = keep_submission(
            submission,
            files,
            register=register,
            store=store,
            queue=self.queue_for(school),
            received_on=now.date(),
        )
        context = {
            **context,
            "sent_at": f"{submission.submitted_at:%d/%m/%Y at %H:%M}",
            "files_kept": kept.files_kept,
            "storage_failed": kept.storage_failed,
        }
        return Outcome("advice_queued" if kept.outcome == "queued" else "advice_thanks", 200, context, wrote=True)


def answer(request: Request, service: Confirmations) -> ConfirmPage:
    """The link page's HTTP side: GET shows; a multipart POST is the role's form; any other POST is "I've sent it
    another way" (the plain form, also what links from before the forms still post)."""
    if request.method != "POST":
        return service.show(request.args.get("t"))
    if request.mimetype == "multipart/form-data":
        try:
            posted: Posted | None = read_post(request)
        except TooLarge:
            posted = None
        return service.submit(posted.fields.get("t") if posted else None, posted)
    return service.record(request.form.get("t"), request.form.get("note"))


def _field_of(form: RoleForm, problem: str) -> str:
    """The id of the question a problem sentence names (its label is quoted first), for the problem list's link."""
    for prompt in form.prompts:
        if problem.startswith(f'"{prompt.label}"'):
            return prompt.key
    return "nothing_new"


__all__ = [
    "FORM_TEXT_LIMIT",
    "REQUEST_LIMIT_BYTES",
    "AdviceDesk",
    "Outcome",
    "Posted",
    "TooLarge",
    "answer",
    "read_post",
]
