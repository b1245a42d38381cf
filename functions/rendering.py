"""Turning the planner's decisions into emails: the Jinja templates, the subjects, and the `.ics` invitation.

functions/planning.py decides which emails are due and hands over plain data (`DueEmail`); this module is the only
place that knows how they read. No sheet, no network, no clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.base import CellValue
from review_rules.dates import format_date
from review_rules.model import Status
from sheet_schema.contributions import Contribution
from sheet_schema.model import ReviewedPupil

from .invitation_ics import invitation_ics
from .plan_model import CellUpdate, ContributionKey, DueEmail, EmailDecisions, InvitationEvent, Kind, MailPlanSettings
from .planning import plan_decisions

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    data: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    kind: Kind
    to: str
    pupil_row: int | None
    subject: str
    text: str
    html: str
    reply_to: str | None
    attachments: tuple[Attachment, ...] = ()
    contribution_row: int | None = None
    reason_key: str = ""
    contribution_key: ContributionKey | None = None
    cc: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmailPlan:
    today: date
    emails: tuple[OutgoingEmail, ...]
    updates: tuple[CellUpdate, ...]
    new_rows: tuple[Contribution, ...]  # Parent/carer rows seeded from the register, to append
    notes: tuple[str, ...]  # sentences for the SENDCo (also in the digest)
    outstanding: Mapping[int, str]  # pupil row -> the AR outstanding cell, e.g. "EP, Class teacher (2 chasers)"

    def emails_json(self) -> list[dict[str, Any]]:
        """The sweep JSON's "emails" list (what would be sent)."""
        return [{"kind": e.kind, "to": e.to, "pupil_row": e.pupil_row, "subject": e.subject} for e in self.emails]


# ---------------------------------------------------------------------------------------------------------------------
# Templates


# Jinja's cache keys a template by its name and file and checks its source, not the Environment's options: this tag
# keeps another configuration's compiled code from being used here (bump it when the options below change).
_OPTIONS_TAG = "v1-strict-trim-lstrip-keepnl"


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # only when an email is rendered: a sweep with mail off never needs it

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        # Names and notes come from a spreadsheet anyone may type into: HTML is always escaped.
        autoescape=lambda name: name is not None and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates ship with the code and never change while it runs: no stat of every template (and of each
        # include) before each of a first sweep's thousand-odd emails to see whether it was edited (issue 16).
        auto_reload=False,
        # Each process compiled every template again (about 50 ms of a sweep that sends anything); Jinja's own cache
        # keeps the compiled code in a private (0700) folder in the temp directory, checked against each template's
        # source, so an edited template is compiled afresh. The name is the product's and its options' own.
        bytecode_cache=_bytecode_cache(jinja2),
    )


def _bytecode_cache(jinja2: Any) -> jinja2.BytecodeCache | None:
    """Jinja's file cache, or none where the temp directory cannot hold one: a cache is only ever a saving, so a
    read-only or full disk makes rendering slower, never fail."""

    class QuietCache(jinja2.FileSystemBytecodeCache):  # type: ignore[misc, name-defined]
        def dump_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    try:
        return QuietCache(pattern=f"review-keeper-{_OPTIONS_TAG}-%s.cache")
    except (OSError, RuntimeError):  # Jinja refuses a temp folder it cannot make private to this user
        return None


@cache
def _templates(name: str) -> tuple[jinja2.Template, jinja2.Template]:
    env = _environment()
    return env.get_template(f"{name}.txt.j2"), env.get_template(f"{name}.html.j2")


def render(name: str, **context: Any) -> tuple[str, str]:
    text, html = _templates(name)
    context.setdefault("fmt", format_date)
    return text.render(**context), html.render(**context)


def subject(kind: Kind, context: Mapping[str, Any]) -> str:
    if "subject" in context:  # the LA and family emails (functions/la_sweep.py) carry their own
        return str(context["subject"])
    if kind == "digest":
        headline = f"{len(context['urgent'])} need you" if context["urgent"] else "nothing urgent"
        return f"Annual reviews at {context['school_name']}, {format_date(context['today'])}: {headline}"
    pupil = context["pupil"]
    if kind == "request":
        # Never ask "by" a date already gone (an overdue review is still asked for its advice).
        when = "as soon as you can" if context["due_passed"] else f"by {format_date(context['due'])}"
        return f"Annual review for {pupil}: your contribution, please, {when}"
    if kind == "chaser":
        return f"Reminder: annual review for {pupil}, your contribution"
    if context["rescheduled"]:
        return f"Rescheduled: annual review meeting for {pupil}, now {format_date(context['meeting'])}"
    return f"Invitation: annual review meeting for {pupil}, {format_date(context['meeting'])}"


# ---------------------------------------------------------------------------------------------------------------------
# Calendar invitation


def _attachment(event: InvitationEvent) -> Attachment:
    ics = invitation_ics(
        uid=event.uid,
        meeting=event.meeting,
        sequence=event.sequence,
        summary=event.summary,
        school_name=event.school_name,
        organiser_email=event.organiser_email,
        organiser_name=event.organiser_name,
        attendee_email=event.attendee_email,
        stamp=event.stamp,
    )
    return Attachment("invitation.ics", "text/calendar; method=REQUEST", ics)


# ---------------------------------------------------------------------------------------------------------------------
# Emails


def render_email(due: DueEmail) -> OutgoingEmail:
    text, html = render(due.kind, **due.context)
    return OutgoingEmail(
        kind=due.kind,
        to=due.to,
        pupil_row=due.pupil_row,
        subject=subject(due.kind, due.context),
        text=text,
        html=html,
        reply_to=due.reply_to,
        attachments=(_attachment(due.invitation),) if due.invitation is not None else (),
        contribution_row=due.contribution_row,
        reason_key=due.reason_key,
        contribution_key=due.contribution_key,
        cc=due.cc,
    )


def render_plan(decisions: EmailDecisions) -> EmailPlan:
    """The decided emails, written out; the cell updates, seeded rows, notes and AR outstanding pass through."""
    return EmailPlan(
        today=decisions.today,
        emails=tuple(render_email(due) for due in decisions.due),
        updates=decisions.updates,
        new_rows=decisions.new_rows,
        notes=decisions.notes,
        outstanding=decisions.outstanding,
    )


def plan_emails(
    pupils: Sequence[ReviewedPupil],
    contributions: Sequence[Contribution],
    *,
    today: date,
    settings: MailPlanSettings,
    sent_log: Mapping[str, date] | None = None,
    previous_status: Mapping[int, Status | CellValue] | None = None,
    contribution_issues: Sequence[str] = (),
    seed_parents: bool = True,
    la_notes: Sequence[str] = (),
    la_prompt: bool = False,
) -> EmailPlan:
    """Today's emails, decided (functions.planning.plan_decisions: the arguments are described there) and written."""
    decisions = plan_decisions(
        pupils,
        contributions,
        today=today,
        settings=settings,
        sent_log=sent_log,
        previous_status=previous_status,
        contribution_issues=contribution_issues,
        seed_parents=seed_parents,
        la_notes=la_notes,
        la_prompt=la_prompt,
    )
    return render_plan(decisions)


__all__ = [
    "Attachment",
    "EmailPlan",
    "OutgoingEmail",
    "invitation_ics",
    "plan_emails",
    "render",
    "render_email",
    "render_plan",
    "subject",
]
