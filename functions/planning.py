"""Which emails are due today: requests, chasers, invitations and the SENDCo's digest (issue 4). Pure planning.

`plan_decisions` reads only its arguments: no sheet, no network, no clock, no ledger file, no templates. It returns
plain data: the emails due (functions/rendering.py writes them), the Contributions cells to write once each email has
gone (functions/contribution_writes.py turns them into a write plan) and the AR outstanding text.

Idempotency, in two layers:
- the sheet: Requested, Chasers, Last chased and "AR invited for" record what went out, so a rerun after the write
  finds nothing due;
- the sent-ledger (`sent_log`: reason_key -> the day it was sent, see functions/mailer.py), written *before* each send.
  When the sweep crashes between sending and writing the sheet, the next plan finds the email in the ledger, sends
  nothing, and re-issues the cell update from the ledger's date. An email whose send began but never confirmed is
  counted as sent (at most once): the worst case is one lost email, caught by the next chaser 7 days later, never a
  duplicate in a contributor's inbox.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache, partial
from typing import Any

from connectors.base import CellValue
from review_rules.model import Status
from sheet_schema.contributions import (
    CHASERS,
    CONTRIBUTIONS_SHEET,
    INVITED_FOR,
    LAST_CHASED,
    PARENT,
    REQUESTED,
    Contribution,
    in_cycle,
    outstanding_by_pupil,
    pupil_matches,
    seed_parent_rows,
)
from sheet_schema.model import ReviewedPupil

from .digest_planning import plan_digest
from .links import LinkError
from .plan_model import (
    CellUpdate,
    ContributionKey,
    DueEmail,
    EmailDecisions,
    InvitationEvent,
    Kind,
    MailPlanSettings,
    PlannedRow,
    chaser_key,
    digest_key,
    invitation_key,
    invitations_sent,
    key_hash,
    mail_plan_settings,
    request_key,
)
from .status_emails import seed_young_person_rows


def plan_decisions(
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
) -> EmailDecisions:
    """Decide today's emails, as plain data (functions/rendering.py writes them).

    `sent_log`: reason_key -> day sent, from the sent-ledger (functions.mailer.FileLedger.sent_log()).
    `previous_status`: pupil row -> the AR status cell as read before this sweep ("DUE SOON" or a Status); None when
    unknown, and the digest falls back to the dates on which statuses start.
    `contribution_issues`: the messages from parse_contributions, shown in the digest.
    """
    sent = dict(sent_log or {})
    calendar = settings.calendar
    notes: list[str] = list(contribution_issues)
    emails: list[DueEmail] = []
    updates: list[CellUpdate] = []

    new_rows = (
        # The young person past compulsory school age is seeded too (docs/rules.md s7, functions/status_emails.py).
        (*seed_parent_rows(pupils, contributions), *seed_young_person_rows(pupils, contributions, today))
        if seed_parents
        else ()
    )
    rows: list[PlannedRow] = []
    for c in (*contributions, *new_rows):
        found = pupil_matches(c, pupils)
        if len(found) != 1:
            where = f"{CONTRIBUTIONS_SHEET} row {c.row}" if c.row else "A seeded row"
            if not found:
                notes.append(f"{where}: the Pupil cell matches no pupil in the register; write their UPN or full name.")
            else:
                notes.append(f"{where}: the Pupil cell matches {len(found)} pupils; write the pupil's UPN instead.")
            continue
        pupil = found[0]
        if pupil.clock is None or pupil.status in (Status.INVALID, Status.INACTIVE):
            continue  # INVALID rows get no chasers (docs/register.md s4); nobody reviews a plan for a leaver
        if not in_cycle(c, pupil.clock):
            continue
        rows.append(PlannedRow(c, pupil, c.requested, c.chasers, c.last_chased, c.invited_for))

    short_notice: list[str] = []
    held_back: list[str] = []  # reviews whose planned meeting is not a school day: no invitations until it moves
    for r in rows:
        c, clock = r.contribution, r.pupil.clock
        assert clock is not None
        cycle = clock.meeting_anchor
        key = c.key
        meeting = clock.meeting_date
        planned = clock.meeting_is_planned

        # Crash recovery: what the ledger says went out but the sheet does not show yet.
        rk = request_key(cycle, key)
        if r.requested is None and rk in sent:
            r.requested = sent[rk]
            r.updates[REQUESTED] = sent[rk]
        while chaser_key(cycle, key, r.chasers + 1) in sent:
            r.chasers += 1
            r.last_chased = sent[chaser_key(cycle, key, r.chasers)]
            r.updates[CHASERS] = r.chasers
            r.updates[LAST_CHASED] = r.last_chased
        if planned and r.invited_for != meeting and invitation_key(cycle, key, meeting) in sent:
            r.invited_for = meeting
            r.updates[INVITED_FOR] = meeting
        if r.updates:
            updates.append(CellUpdate(key, c.row, dict(r.updates), None))

        if c.email is None:
            continue
        # The wording's facts, worked out only for a row that gets an email today (a few in thousands, most days).
        context = cache(partial(_email_context, r, settings, today))  # one dict per row, made on first use

        # Request: from requests_from, asking by contributions_due; not once a planned meeting has passed.
        if (
            r.requested is None
            and not c.is_received
            and today >= clock.requests_from
            and not (planned and today > meeting)
            and rk not in sent
        ):
            emails.append(_contributor_email("request", r, context(), settings, rk))
            updates.append(CellUpdate(key, c.row, {REQUESTED: today}, rk))
        # Chaser: not received, every `chaser_every_days` since the request or last chase, at most `max_chasers`,
        # on school days only (nobody reads a chaser sent in the holidays), and never once the planned meeting is here.
        elif (
            r.requested is not None
            and not c.is_received
            and r.chasers < settings.max_chasers
            and calendar.is_school_day(today)
            and not (planned and today >= meeting)
            and (today - max(r.requested, r.last_chased or r.requested)).days >= settings.chaser_every_days
        ):
            number = r.chasers + 1
            ck = chaser_key(cycle, key, number)
            if ck not in sent:
                context()["chaser_number"] = number
                emails.append(_contributor_email("chaser", r, context(), settings, ck))
                cells: dict[str, date | int] = {CHASERS: number}
                if c.last_chased is None or today > c.last_chased:
                    cells[LAST_CHASED] = today
                updates.append(CellUpdate(key, c.row, cells, ck))

        # Invitation: once a planned meeting is recorded, to every contributor; again, as "rescheduled", when it moves.
        # Never for a date the school is closed (a weekend, bank holiday or closure: AR issues already says so):
        # contributors would put a wrong date in their diaries. The digest says which reviews wait for a new date.
        if planned and meeting > today and r.invited_for != meeting and not calendar.is_school_day(meeting):
            label = f"row {r.pupil.record.row} ({r.pupil.record.short_name})"
            if label not in held_back:
                held_back.append(label)
        elif planned and meeting > today and r.invited_for != meeting:
            ik = invitation_key(cycle, key, meeting)
            if ik not in sent:
                rescheduled = r.invited_for is not None and r.invited_for >= cycle
                context()["rescheduled"] = rescheduled
                context()["previous_meeting"] = r.invited_for if rescheduled else None
                event = InvitationEvent(
                    uid=f"{key_hash(key)}-{cycle.isoformat()}@review-keeper",
                    meeting=meeting,
                    # SEQUENCE must rise with each revision for calendars to replace the event (RFC 5545 3.8.7.4).
                    sequence=max(invitations_sent(sent, cycle, key), 1 if rescheduled else 0),
                    summary=f"Annual review meeting: {r.pupil.record.short_name}",
                    school_name=settings.school_name,
                    organiser_email=settings.sendco_email,
                    organiser_name=settings.sendco_name,
                    attendee_email=c.email,
                    stamp=today,
                )
                emails.append(_contributor_email("invitation", r, context(), settings, ik, event))
                updates.append(CellUpdate(key, c.row, {INVITED_FOR: meeting}, ik))
                if (meeting - today).days < settings.notice_days:
                    label = f"row {r.pupil.record.row} ({r.pupil.record.short_name})"
                    if label not in short_notice:
                        short_notice.append(label)

    for label in held_back:
        notes.append(
            f"{label}: no invitations sent: the planned meeting is not a school day; change the date in the register "
            "and the invitations go on the next sweep."
        )
    for label in short_notice:
        notes.append(
            f"{label}: invitations went out with less than {settings.notice_days} days' notice of the meeting "
            "(reg 20(3) asks for at least two weeks); check everyone can still come."
        )

    # Ledger recoveries count, today's emails not yet (they have not gone): what a dry run shows.
    outstanding = outstanding_by_pupil(
        (*contributions, *new_rows), pupils, {r.contribution.key: r.updates for r in rows}
    )
    digest = plan_digest(
        pupils,
        rows,
        today=today,
        settings=settings,
        sent=sent,
        previous_status=previous_status,
        notes=notes,
        todays=emails,
        short_notice=bool(short_notice),
        la_notes=la_notes,  # the LA's clock (functions/la_sweep.py), shown in the digest
        la_prompt=la_prompt,
    )
    if digest is not None:
        emails.append(digest)
    elif settings.sendco_email is None:
        notes.append("No SENDCo email is set, so no digest was sent; set sendco_email in keeper.toml.")
    return EmailDecisions(today, tuple(emails), tuple(updates), new_rows, tuple(notes), outstanding)


def _email_context(r: PlannedRow, settings: MailPlanSettings, today: date) -> dict[str, Any]:
    c, clock = r.contribution, r.pupil.clock
    assert clock is not None
    link: str | None = None
    if settings.signer is not None and c.email:
        try:
            link = settings.signer.link_for(c, clock.meeting_date, issued=today)
        except LinkError:
            link = None
    return {
        "pupil": r.pupil.record.short_name,
        "first_name": r.pupil.record.first_name,
        "greeting": c.name.split()[0] if c.name and c.role == PARENT else (c.name or ""),
        "role": c.role,
        "is_parent": c.role == PARENT,
        "is_young_person": c.role == "Young person",
        "due": clock.contributions_due,
        "due_passed": today > clock.contributions_due,
        "meeting": clock.meeting_date,
        "meeting_planned": clock.meeting_is_planned,
        "link": link,
        "school_name": settings.school_name,
        "sendco_name": settings.sendco_name,
        "sendco_email": settings.sendco_email,
        "chaser_number": 0,
        "max_chasers": settings.max_chasers,
        "rescheduled": False,
        "previous_meeting": None,
    }


def _contributor_email(
    kind: Kind,
    r: PlannedRow,
    context: dict[str, Any],
    settings: MailPlanSettings,
    reason_key: str,
    invitation: InvitationEvent | None = None,
) -> DueEmail:
    assert r.contribution.email is not None
    return DueEmail(
        kind=kind,
        to=r.contribution.email,
        pupil_row=r.pupil.record.row,
        reason_key=reason_key,
        # A copy: the caller goes on to fill the next kind's context from the same dict.
        context=dict(context),
        reply_to=settings.sendco_email,
        contribution_row=r.contribution.row or None,
        contribution_key=r.contribution.key,
        invitation=invitation,
    )


# Names that lived here before the planner was split (issue 11), still importable from here so code written against
# the old layout keeps working; new code imports them from their homes.
_MOVED = {
    "DATE_FORMAT": "sheet_schema.ar_columns",
    "Attachment": "functions.rendering",
    "EmailPlan": "functions.rendering",
    "OutgoingEmail": "functions.rendering",
    "invitation_ics": "functions.rendering",
    "plan_emails": "functions.rendering",
    "render": "functions.rendering",
    "contributions_write_plan": "functions.contribution_writes",
    "rows_to_append": "functions.contribution_writes",
    "updates_to_write": "functions.contribution_writes",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CellUpdate",
    "ContributionKey",
    "DueEmail",
    "EmailDecisions",
    "InvitationEvent",
    "Kind",
    "MailPlanSettings",
    "chaser_key",
    "digest_key",
    "invitation_key",
    "mail_plan_settings",
    "plan_decisions",
    "request_key",
]
