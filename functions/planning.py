"""Which emails are due today: requests, chasers, invitations and the SENDCo's digest (issue 4). Pure planning.

`plan_emails` reads only its arguments (and the package's own templates): no sheet, no network, no clock, no ledger
file. It returns the emails to send and the Contributions cells to write once each email has gone.

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

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import icalendar
import jinja2

from connectors.base import CellValue, CellWrite, WritePlan
from review_rules.dates import format_date
from review_rules.model import Status
from review_rules.school_days import SchoolCalendar, calendar_for
from sheet_schema.ar_columns import STATUS_LABELS, transfer_label
from sheet_schema.contributions import (
    CHASERS,
    CONTRIBUTION_HEADERS,
    CONTRIBUTIONS_SHEET,
    INVITED_FOR,
    LAST_CHASED,
    PARENT,
    REQUESTED,
    Contribution,
    find_contributions_header,
    in_cycle,
    key_of_row,
    outstanding_by_pupil,
    pupil_matches,
    seed_parent_rows,
)
from sheet_schema.fields import normalise_header
from sheet_schema.model import ReviewedPupil

from .links import LinkError, LinkSigner

Kind = Literal["request", "chaser", "invitation", "digest"]
ContributionKey = tuple[str, str, str]

TEMPLATES = Path(__file__).parent / "templates"
DATE_FORMAT = "dd/mm/yyyy"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Statuses that mean the SENDCo must act; the digest goes out on the day a review turns into one of them.
_URGENT = (Status.OVERDUE, Status.DUE_SOON)


@dataclass(frozen=True)
class MailPlanSettings:
    school_name: str = "Your school"
    sendco_name: str = "SENDCo"
    sendco_email: str | None = None
    chaser_every_days: int = 7
    max_chasers: int = 3
    digest_weekday: int | None = 0  # Monday; None: no weekly digest (the event digests still go)
    # reg 20(3): invitations at least two weeks before the meeting.
    notice_days: int = 14
    # "Year 9+ and phase-transfer reviews starting soon": contribution requests due within this many days.
    starting_soon_days: int = 28
    closures: tuple[tuple[date, date], ...] | None = None
    signer: LinkSigner | None = None  # None: emails ask for a reply instead of carrying a link

    @property
    def calendar(self) -> SchoolCalendar:
        return calendar_for(self.closures)


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


@dataclass(frozen=True)
class CellUpdate:
    """Cells to write on one Contributions row, once the email `reason_key` has gone (None: write regardless, e.g. a
    date recovered from the sent-ledger after a crash)."""

    key: ContributionKey
    row: int  # as read; 0 for a seeded row not yet on the sheet
    values: Mapping[str, date | int]
    reason_key: str | None


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
# Settings


def mail_plan_settings(settings: Any, signer: LinkSigner | None = None) -> MailPlanSettings:
    """From functions.settings.Settings: [chasers] every_days / max, [digest] day, plus the school and SENDCo."""
    extra = getattr(settings, "extra", {}) or {}
    chasers = extra.get("chasers", {}) or {}
    digest = extra.get("digest", {}) or {}
    day_text = str(digest.get("day", "monday")).strip().casefold()
    if day_text in ("", "none", "off", "never"):
        weekday: int | None = None
    elif day_text[:3] in {d[:3] for d in _WEEKDAYS}:
        weekday = [d[:3] for d in _WEEKDAYS].index(day_text[:3])
    else:
        raise ValueError(f'digest.day is "{digest.get("day")}"; use a day of the week such as "monday", or "never".')
    every = chasers.get("every_days", 7)
    most = chasers.get("max", 3)
    if not isinstance(every, int) or every < 1:
        raise ValueError("chasers.every_days must be a whole number of days, at least 1 (the default is 7).")
    if not isinstance(most, int) or most < 0:
        raise ValueError("chasers.max must be a whole number, 0 or more (the default is 3).")
    return MailPlanSettings(
        school_name=settings.school_name,
        sendco_name=settings.sendco_name,
        sendco_email=settings.sendco_email,
        chaser_every_days=every,
        max_chasers=most,
        digest_weekday=weekday,
        closures=settings.rules.closures,
        signer=signer,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Templates


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        # Names and notes come from a spreadsheet anyone may type into: HTML is always escaped.
        autoescape=lambda name: name is not None and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **context: Any) -> tuple[str, str]:
    env = _environment()
    context.setdefault("fmt", format_date)
    return env.get_template(f"{name}.txt.j2").render(**context), env.get_template(f"{name}.html.j2").render(**context)


# ---------------------------------------------------------------------------------------------------------------------
# Keys


def _hash(key: ContributionKey) -> str:
    # The ledger file never holds names or addresses: only this digest of the row key.
    return hashlib.sha256("\x1f".join(key).encode("utf-8")).hexdigest()[:16]


def request_key(cycle: date, key: ContributionKey) -> str:
    return f"request|{cycle.isoformat()}|{_hash(key)}"


def chaser_key(cycle: date, key: ContributionKey, number: int) -> str:
    return f"chaser|{cycle.isoformat()}|{_hash(key)}|{number}"


def invitation_key(cycle: date, key: ContributionKey, meeting: date) -> str:
    return f"invitation|{cycle.isoformat()}|{_hash(key)}|{meeting.isoformat()}"


def _invitations_sent(sent: Mapping[str, date], cycle: date, key: ContributionKey) -> int:
    prefix = f"invitation|{cycle.isoformat()}|{_hash(key)}|"
    return sum(1 for k in sent if k.startswith(prefix))


def digest_key(today: date) -> str:
    return f"digest|{today.isoformat()}"


# ---------------------------------------------------------------------------------------------------------------------
# Calendar invitation


def invitation_ics(
    *,
    uid: str,
    meeting: date,
    sequence: int,
    summary: str,
    school_name: str,
    organiser_email: str | None,
    organiser_name: str,
    attendee_email: str,
    stamp: date,
) -> bytes:
    """An all-day VEVENT (the register holds the meeting's date, not its time) with a stable UID per contributor and
    cycle, so a rescheduled invitation (higher SEQUENCE) moves the event in the contributor's calendar."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Review Keeper//EHCP annual reviews//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", datetime.combine(stamp, time(0, 0), tzinfo=UTC))
    event.add("dtstart", meeting)
    event.add("dtend", meeting + timedelta(days=1))
    event.add("sequence", sequence)
    event.add("summary", summary)
    event.add("location", school_name)
    event.add("description", f"Annual review meeting at {school_name}. {organiser_name} will confirm the time.")
    if organiser_email:
        organizer = icalendar.vCalAddress(f"mailto:{organiser_email}")
        organizer.params["cn"] = icalendar.vText(organiser_name)
        event.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{attendee_email}")
    attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = icalendar.vText("TRUE")
    event.add("attendee", attendee)
    cal.add_component(event)
    return cal.to_ical()


# ---------------------------------------------------------------------------------------------------------------------
# Planning


def _status_of(value: Status | CellValue) -> Status | None:
    if value is None or isinstance(value, Status):
        return value
    text = " ".join(str(value).split()).upper().replace("_", " ")
    for status, label in STATUS_LABELS.items():
        if label == text:
            return status
    return None


def _turned_today(pupil: ReviewedPupil, today: date, previous: Mapping[int, Status | CellValue] | None) -> bool:
    """Did this review become OVERDUE or DUE SOON today? With the AR status the register held before this sweep, a
    change into an urgent status (a first sweep counts: nothing was shown before). Without it, the day the status
    starts: meeting_latest - 28 days (DUE SOON) or the day after meeting_latest (OVERDUE)."""
    if pupil.status not in _URGENT or pupil.clock is None:
        return False
    if previous is not None:
        return _status_of(previous.get(pupil.record.row)) is not pupil.status
    latest = pupil.clock.meeting_latest
    starts = latest + timedelta(days=1) if pupil.status is Status.OVERDUE else latest - timedelta(days=28)
    return today == starts


@dataclass
class _Row:
    """A contribution as the plan sees it, after reconciling with the sent-ledger."""

    contribution: Contribution
    pupil: ReviewedPupil
    requested: date | None
    chasers: int
    last_chased: date | None
    invited_for: date | None
    updates: dict[str, date | int] = field(default_factory=dict)


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
) -> EmailPlan:
    """Decide today's emails.

    `sent_log`: reason_key -> day sent, from the sent-ledger (functions.mailer.FileLedger.sent_log()).
    `previous_status`: pupil row -> the AR status cell as read before this sweep ("DUE SOON" or a Status); None when
    unknown, and the digest falls back to the dates on which statuses start.
    `contribution_issues`: the messages from parse_contributions, shown in the digest.
    """
    sent = dict(sent_log or {})
    calendar = settings.calendar
    notes: list[str] = list(contribution_issues)
    emails: list[OutgoingEmail] = []
    updates: list[CellUpdate] = []

    new_rows = tuple(seed_parent_rows(pupils, contributions)) if seed_parents else ()
    rows: list[_Row] = []
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
            continue  # INVALID rows get no chasers (register.md section 4); nobody reviews a plan for a leaver
        if not in_cycle(c, pupil.clock):
            continue
        rows.append(_Row(c, pupil, c.requested, c.chasers, c.last_chased, c.invited_for))

    short_notice: list[str] = []
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
        context = _email_context(r, settings, today)

        # Request: from requests_from, asking by contributions_due; not once a planned meeting has passed.
        if (
            r.requested is None
            and not c.is_received
            and today >= clock.requests_from
            and not (planned and today > meeting)
            and rk not in sent
        ):
            emails.append(_contributor_email("request", r, context, settings, rk, today))
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
                context["chaser_number"] = number
                emails.append(_contributor_email("chaser", r, context, settings, ck, today))
                cells: dict[str, date | int] = {CHASERS: number}
                if c.last_chased is None or today > c.last_chased:
                    cells[LAST_CHASED] = today
                updates.append(CellUpdate(key, c.row, cells, ck))

        # Invitation: once a planned meeting is recorded, to every contributor; again, as "rescheduled", when it moves.
        if planned and meeting > today and r.invited_for != meeting:
            ik = invitation_key(cycle, key, meeting)
            if ik not in sent:
                rescheduled = r.invited_for is not None and r.invited_for >= cycle
                context["rescheduled"] = rescheduled
                context["previous_meeting"] = r.invited_for if rescheduled else None
                email = _contributor_email("invitation", r, context, settings, ik, today)
                uid = f"{_hash(key)}-{cycle.isoformat()}@review-keeper"
                ics = invitation_ics(
                    uid=uid,
                    meeting=meeting,
                    # SEQUENCE must rise with each revision for calendars to replace the event (RFC 5545 3.8.7.4).
                    sequence=max(_invitations_sent(sent, cycle, key), 1 if rescheduled else 0),
                    summary=f"Annual review meeting: {r.pupil.record.short_name}",
                    school_name=settings.school_name,
                    organiser_email=settings.sendco_email,
                    organiser_name=settings.sendco_name,
                    attendee_email=c.email,
                    stamp=today,
                )
                email = replace(
                    email,
                    attachments=(Attachment("invitation.ics", "text/calendar; method=REQUEST", ics),),
                )
                emails.append(email)
                updates.append(CellUpdate(key, c.row, {INVITED_FOR: meeting}, ik))
                if (meeting - today).days < settings.notice_days:
                    label = f"row {r.pupil.record.row} ({r.pupil.record.short_name})"
                    if label not in short_notice:
                        short_notice.append(label)

    for label in short_notice:
        notes.append(
            f"{label}: invitations went out with less than {settings.notice_days} days' notice of the meeting "
            "(reg 20(3) asks for at least two weeks); check everyone can still come."
        )

    # Ledger recoveries count, today's emails not yet (they have not gone): what a dry run shows.
    outstanding = outstanding_by_pupil(
        (*contributions, *new_rows), pupils, {r.contribution.key: r.updates for r in rows}
    )
    digest = _digest(
        pupils,
        rows,
        today=today,
        settings=settings,
        sent=sent,
        previous_status=previous_status,
        notes=notes,
        todays=emails,
        short_notice=bool(short_notice),
    )
    if digest is not None:
        emails.append(digest)
    elif settings.sendco_email is None:
        notes.append("No SENDCo email is set, so no digest was sent; set sendco_email in keeper.toml.")
    return EmailPlan(today, tuple(emails), tuple(updates), new_rows, tuple(notes), outstanding)


def _email_context(r: _Row, settings: MailPlanSettings, today: date) -> dict[str, Any]:
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


def _subject(kind: Kind, context: Mapping[str, Any]) -> str:
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


def _contributor_email(
    kind: Kind, r: _Row, context: dict[str, Any], settings: MailPlanSettings, reason_key: str, today: date
) -> OutgoingEmail:
    text, html = render(kind, **context)
    assert r.contribution.email is not None
    return OutgoingEmail(
        kind=kind,
        to=r.contribution.email,
        pupil_row=r.pupil.record.row,
        subject=_subject(kind, context),
        text=text,
        html=html,
        reply_to=settings.sendco_email,
        contribution_row=r.contribution.row or None,
        reason_key=reason_key,
        contribution_key=r.contribution.key,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Digest


def _label(pupil: ReviewedPupil) -> str:
    name = pupil.record.short_name
    return f"row {pupil.record.row} ({name})" if name else f"row {pupil.record.row}"


def _digest(
    pupils: Sequence[ReviewedPupil],
    rows: Sequence[_Row],
    *,
    today: date,
    settings: MailPlanSettings,
    sent: Mapping[str, date],
    previous_status: Mapping[int, Status | CellValue] | None,
    notes: Sequence[str],
    todays: Sequence[OutgoingEmail],
    short_notice: bool,
) -> OutgoingEmail | None:
    if settings.sendco_email is None or digest_key(today) in sent:
        return None
    turned = [p for p in pupils if _turned_today(p, today, previous_status)]
    weekly = settings.digest_weekday is not None and today.weekday() == settings.digest_weekday
    if not (weekly or turned or short_notice):
        return None

    active = [p for p in pupils if p.clock is not None and p.status not in (Status.INVALID, Status.INACTIVE)]
    urgent = [
        {
            "label": _label(p),
            "status": STATUS_LABELS[p.status],
            "meeting_latest": p.clock.meeting_latest,
            "meeting_target": p.clock.meeting_target,
            "new": p in turned,
        }
        for p in sorted(active, key=lambda p: (p.status is not Status.OVERDUE, p.clock.meeting_latest))  # type: ignore[union-attr]
        if p.status in _URGENT and p.clock is not None
    ]
    week_end = today + timedelta(days=6)
    actions: list[dict[str, Any]] = []
    for p in active:
        clock = p.clock
        assert clock is not None
        steps = [
            (clock.requests_from, "ask for contributions"),
            (clock.contributions_due, "contributions due"),
            (clock.invites_by, "send invitations"),
            (clock.papers_by, "circulate the papers"),
            (clock.meeting_date, "review meeting" if clock.meeting_is_planned else "hold the meeting by"),
        ]
        if clock.after_meeting is not None:
            steps += [
                (clock.after_meeting.report_due, "send the review report to the LA"),
                (clock.after_meeting.decision_due, "LA decision due"),
            ]
        for when, what in steps:
            if today <= when <= week_end:
                actions.append({"when": when, "label": _label(p), "what": what})
    actions.sort(key=lambda a: (a["when"], a["label"]))

    awaited: list[dict[str, Any]] = []
    unanswered: list[dict[str, Any]] = []
    for r in rows:
        if r.contribution.is_received or r.requested is None:
            continue
        item = {
            "label": _label(r.pupil),
            "role": r.contribution.role,
            "name": r.contribution.name,
            "requested": r.requested,
            "chasers": r.chasers,
        }
        awaited.append(item)
        if r.chasers >= settings.max_chasers:
            unanswered.append(item)

    soon: list[dict[str, Any]] = []
    for p in active:
        clock = p.clock
        assert clock is not None
        if not (clock.pfa_required or clock.phase_transfer):
            continue
        if today - timedelta(days=7) <= clock.requests_from <= today + timedelta(days=settings.starting_soon_days):
            why = []
            if clock.pfa_required:
                why.append(f"Year {clock.nc_year_at_review}: preparing for adulthood")
            if clock.phase_transfer is not None:
                t = clock.phase_transfer
                why.append(f"{transfer_label(t.from_year, t.to_post16)}: plan final by {format_date(t.final_by)}")
            soon.append({"label": _label(p), "starts": clock.requests_from, "why": "; ".join(why)})

    late = [
        {"label": _label(p), "steps": [_LATE_WORDS.get(s, s) for s in p.clock.after_meeting.late]}  # type: ignore[union-attr]
        for p in active
        if p.clock is not None and p.clock.after_meeting is not None and p.clock.after_meeting.late
    ]
    # Never copy a row's messages into an email: they can quote a date of birth. Say where to look instead.
    issues = [
        {"label": _label(p), "what": "cannot be checked until it is fixed" if p.status is Status.INVALID else ""}
        for p in pupils
        if p.status is Status.INVALID or p.warnings
    ]
    counts = {k: sum(1 for e in todays if e.kind == k) for k in ("request", "chaser", "invitation")}
    reasons = []
    if turned:
        reasons.append(f"{len(turned)} review{'s' if len(turned) != 1 else ''} became overdue or due soon today")
    if short_notice:
        reasons.append("an invitation went out with short notice")
    if weekly:
        reasons.append("your weekly summary")
    context = {
        "today": today,
        "school_name": settings.school_name,
        "sendco_name": settings.sendco_name,
        "reasons": reasons,
        "urgent": urgent,
        "actions": actions,
        "awaited": awaited,
        "unanswered": unanswered,
        "max_chasers": settings.max_chasers,
        "soon": soon,
        "late": late,
        "issues": issues,
        "notes": list(notes),
        "counts": counts,
    }
    text, html = render("digest", **context)
    headline = f"{len(urgent)} need you" if urgent else "nothing urgent"
    return OutgoingEmail(
        kind="digest",
        to=settings.sendco_email,
        pupil_row=None,
        subject=f"Annual reviews at {settings.school_name}, {format_date(today)}: {headline}",
        text=text,
        html=html,
        reply_to=None,
        reason_key=digest_key(today),
    )


_LATE_WORDS = {
    "report_due": "review report to the LA",
    "decision_due": "LA decision",
    "final_plan_due": "final amended plan",
}


# ---------------------------------------------------------------------------------------------------------------------
# Writing back


def updates_to_write(plan: EmailPlan, sent_keys: Iterable[str] | None = None) -> dict[ContributionKey, dict[str, Any]]:
    """Cells per row for the emails that went (`sent_keys`: reason keys sent or already in the ledger; None: all, as in
    a dry run), plus the ledger recoveries. Later updates to the same row merge into earlier ones."""
    allowed = None if sent_keys is None else set(sent_keys)
    out: dict[ContributionKey, dict[str, Any]] = {}
    for update in plan.updates:
        if update.reason_key is not None and allowed is not None and update.reason_key not in allowed:
            continue
        out.setdefault(update.key, {}).update(update.values)
    return out


def rows_to_append(plan: EmailPlan, sent_keys: Iterable[str] | None = None) -> list[list[CellValue]]:
    """Seeded Parent/carer rows, with whatever was sent to them today, in CONTRIBUTION_HEADERS order (then "AR invited
    for")."""
    cells = updates_to_write(plan, sent_keys)
    out: list[list[CellValue]] = []
    for c in plan.new_rows:
        done = cells.get(c.key, {})
        out.append(
            [
                c.pupil_ref,
                c.role,
                c.name,
                c.email or "",
                done.get(REQUESTED),
                None,
                done.get(CHASERS),
                done.get(LAST_CHASED),
                c.notes,
                done.get(INVITED_FOR),
            ]
        )
    return out


def contributions_write_plan(plan: EmailPlan, sent_keys: Iterable[str] | None = None) -> WritePlan:
    """The Contributions cells for the register adapter's write (rows on the sheet only; see rows_to_append)."""
    cells = updates_to_write(plan, sent_keys)
    seeded = {c.key for c in plan.new_rows}
    current: dict[str, dict[str, int]] = {"columns": {}}

    def find_header_row(rows: list[list[CellValue]]) -> int | None:
        found = find_contributions_header(rows)
        if found is None:
            return None
        current["columns"] = found[1]
        return found[0]

    def key_of(values: list[CellValue]) -> ContributionKey | None:
        return key_of_row(values, current["columns"])

    def cell(value: Any) -> CellWrite:
        return CellWrite(value, DATE_FORMAT) if isinstance(value, date) else CellWrite(value)

    return WritePlan(
        sheet=CONTRIBUTIONS_SHEET,
        headers=(*CONTRIBUTION_HEADERS, INVITED_FOR),
        find_header_row=find_header_row,
        key_of=key_of,
        rows={k: {h: cell(v) for h, v in values.items()} for k, values in cells.items() if k not in seeded},
        # Columns as parse_contributions finds them ("Received?" is Received, "E-mail" is Email), and only the first
        # of duplicate rows: it is the one parse_contributions emails, so the only one whose Requested/Chasers moved.
        header_key=normalise_header,
        first_match_only=True,
    )


__all__ = [
    "Attachment",
    "CellUpdate",
    "EmailPlan",
    "MailPlanSettings",
    "OutgoingEmail",
    "contributions_write_plan",
    "invitation_ics",
    "mail_plan_settings",
    "plan_emails",
    "render",
    "rows_to_append",
    "updates_to_write",
]
