"""The review records attached to the SENDCo's digest (issue 6): one Word document per review whose meeting falls in
the next four weeks, so the SENDCo has the paperwork in hand before each meeting (SEND Regulations 2014 reg 20).

planning.py stays pure: it decides that a digest goes. This step, run by the sweep after planning and before sending,
makes the records in a temporary folder, reads them into bytes and puts them on the digest.

Data protection: a record carries the pupil's full name (reports/record.py never writes a date of birth or UPN), so
records are attached only to the digest, which goes only to the SENDCo's own address (`sendco_email`). A digest
addressed anywhere else gets no attachments.

python-docx is imported only when there is a digest to attach records to, so a sweep without one never loads it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from html import escape
from pathlib import Path
from typing import Any

from reports.common import contribution_lines as records_lines
from review_rules.model import Status
from review_rules.periods import DUE_SOON_DAYS
from sheet_schema.contributions import Contribution
from sheet_schema.model import ReviewedPupil

from .contribution_writes import updates_to_write
from .rendering import Attachment, EmailPlan, OutgoingEmail
from .settings import Settings, SettingsError

log = logging.getLogger("review_keeper.digest_records")

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# "Reviews within the next four weeks": the meeting (planned, else hold-by) from today to the end of the DUE SOON
# window (docs/rules.md s9), so every review the SENDCo is about to hold has its record in hand.
RECORD_WINDOW_DAYS = DUE_SOON_DAYS


@dataclass(frozen=True)
class RecordsOutcome:
    """What attaching did: the plan to send, how many records went on the digest, and sentences for the SENDCo."""

    plan: EmailPlan
    attached: int
    notes: tuple[str, ...]


def attach_records_enabled(settings: Settings) -> bool:
    """`[digest] attach_records` in keeper.toml (default true)."""
    digest = (settings.extra or {}).get("digest", {}) or {}
    value = digest.get("attach_records", True)
    if not isinstance(value, bool):
        raise SettingsError(f"{settings.source}: digest.attach_records must be true or false (the default is true).")
    return value


def meetings_soon(pupils: Sequence[ReviewedPupil], today: date, days: int = RECORD_WINDOW_DAYS) -> list[ReviewedPupil]:
    """Tracked pupils (not INVALID or INACTIVE) whose review is OVERDUE (its meeting date has passed and no meeting
    is recorded: the record is wanted most of all), then those whose meeting date (planned, else hold-by) is within
    `days` of today, soonest first."""
    end = today + timedelta(days=days)
    tracked = [p for p in pupils if p.clock is not None and p.status not in (Status.INVALID, Status.INACTIVE)]
    overdue = [p for p in tracked if p.status == Status.OVERDUE]
    soon = [p for p in tracked if p.status != Status.OVERDUE and today <= p.clock.meeting_date <= end]  # type: ignore[union-attr]
    return [
        *sorted(overdue, key=lambda p: (p.clock.meeting_date, p.record.row)),  # type: ignore[union-attr]
        *sorted(soon, key=lambda p: (p.clock.meeting_date, p.record.row)),  # type: ignore[union-attr]
    ]


def contribution_lines(
    contributions: Iterable[Contribution], pupils: Sequence[ReviewedPupil], plan: EmailPlan | None = None
) -> dict[int, list[Any]]:
    """pupil row -> ContributionLine list, as `main.py records` lists them (reports.common.contribution_lines). With
    `plan`, the Parent/carer rows it seeds are included and Requested / Chasers show today's emails as sent: the record
    then matches the sheet as it will be after this sweep."""
    if plan is None:
        return records_lines(contributions, pupils)
    return records_lines((*contributions, *plan.new_rows), pupils, updates_to_write(plan))


def _with_sentence(email: OutgoingEmail, count: int) -> OutgoingEmail:
    """One sentence saying what is attached (counts only: the names are in the records, not the body)."""
    reviews = "1 review" if count == 1 else f"{count} reviews"
    sentence = (
        f"Attached: the review record for {reviews} that are overdue or whose meeting falls in the next four weeks. "
        "Records carry the pupil's full name: keep them within the school."
    )
    text = f"{email.text.rstrip()}\n\n{sentence}\n"
    paragraph = f"<p>{escape(sentence)}</p>\n"
    html = (
        email.html.replace("</body>", paragraph + "</body>", 1) if "</body>" in email.html else email.html + paragraph
    )
    return replace(email, text=text, html=html)


def attach_review_records(
    plan: EmailPlan,
    pupils: Sequence[ReviewedPupil],
    contributions: Mapping[int, Sequence[Any]],
    *,
    today: date,
    settings: Settings,
) -> RecordsOutcome:
    """The plan with its digest replaced by one carrying the review record (.docx) of every pupil whose review is
    overdue or whose meeting falls in the next four weeks. Unchanged when there is no digest, `[digest] attach_records = false`, the digest is not
    addressed to `sendco_email`, or no meeting falls in the window. A record that cannot be made is left off with a
    note; the digest still goes."""
    if not attach_records_enabled(settings):
        return RecordsOutcome(plan, 0, ())
    index = next((i for i, e in enumerate(plan.emails) if e.kind == "digest"), None)
    if index is None:
        return RecordsOutcome(plan, 0, ())
    digest = plan.emails[index]
    if settings.sendco_email is None or digest.to.strip().casefold() != settings.sendco_email.strip().casefold():
        return RecordsOutcome(plan, 0, ())  # full names go to the SENDCo's own address only
    chosen = meetings_soon(pupils, today)
    if not chosen:
        return RecordsOutcome(plan, 0, ())

    from reports.record import write_review_record  # python-docx: loaded only when records are made

    attachments: list[Attachment] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="keeper-records-") as folder:
        for pupil in chosen:
            try:
                path = write_review_record(
                    pupil,
                    today=today,
                    school_name=settings.school_name,
                    settings=settings.rules,
                    out_dir=Path(folder),
                    contributions=contributions.get(pupil.record.row, ()),
                )
                attachments.append(Attachment(path.name, DOCX_TYPE, path.read_bytes()))
            except Exception as exc:  # one record must not stop the digest or the other records
                log.warning("the review record for row %s could not be made: %s", pupil.record.row, type(exc).__name__)
                notes.append(
                    f"row {pupil.record.row}: its review record could not be attached to the digest; make it with "
                    "`python main.py records`."
                )
    if not attachments:
        return RecordsOutcome(plan, 0, tuple(notes))
    updated = _with_sentence(replace(digest, attachments=(*digest.attachments, *attachments)), len(attachments))
    emails = (*plan.emails[:index], updated, *plan.emails[index + 1 :])
    log.info("attached %d review records to the digest", len(attachments))
    return RecordsOutcome(replace(plan, emails=emails), len(attachments), tuple(notes))


__all__ = [
    "DOCX_TYPE",
    "RECORD_WINDOW_DAYS",
    "RecordsOutcome",
    "attach_records_enabled",
    "attach_review_records",
    "contribution_lines",
    "meetings_soon",
]
