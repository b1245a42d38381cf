"""What a sweep did, for people and machines: the SweepResult, its JSON (docs/register.md s7) and the summary the
command line prints."""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO

from connectors.base import WriteResult
from review_rules.model import Status
from sheet_schema.ar_columns import STATUS_LABELS, after_meeting_text, next_action, uk_date
from sheet_schema.model import ReviewedPupil
from sheet_schema.validate import not_pupils_note

from .evaluate import Evaluation
from .links import LinkSigner
from .settings import Settings

_ROW_PREFIX = re.compile(r"^row \d+: ")

# The order a SENDCo wants to read them in: what is late first, what needs nothing last.
URGENCY: tuple[Status, ...] = (
    Status.OVERDUE,
    Status.DUE_SOON,
    Status.INVALID,
    Status.PREPARE,
    Status.ON_TRACK,
    Status.INACTIVE,
)


EMAIL_KEYS = ("kind", "to", "pupil_row", "subject")


@dataclass
class MailReport:
    """What the email step did, for the summary and the JSON."""

    sent: list[dict[str, Any]]  # {"kind", "to", "pupil_row", "subject"}: sent, or would be with --dry-run
    failures: list[dict[str, Any]]  # the same keys plus "error": not sent; the next sweep tries them again
    notes: list[str]  # Contributions tab problems and other sentences for the SENDCo
    outbox: str | None  # the outbox folder when emails go there (KEEPER_MAIL=outbox)
    transport: str  # "outbox" | "smtp" | "sendgrid" | the class name
    appended_rows: int = 0  # Parent/carer rows added to the Contributions tab
    created_tab: bool = False
    records_attached: int = 0  # review records on the digest (issue 6); sent, or would be with --dry-run
    # The same keys plus "error": handed over with no answer, so they may have gone; counted as sent, never resent.
    unconfirmed: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SweepResult:
    today: date
    evaluation: Evaluation
    dry_run: bool
    write: WriteResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    mail: MailReport | None = None  # None: the sweep ran without the email step (no transport given)

    @property
    def pupils(self) -> list[ReviewedPupil]:
        return self.evaluation.pupils

    def counts(self) -> Counter[Status]:
        return Counter(p.status for p in self.pupils)

    def to_json(self) -> dict[str, Any]:
        """docs/register.md s7, exactly."""
        out: dict[str, Any] = {"today": self.today.isoformat(), "pupils": [pupil_json(p) for p in self.pupils]}
        out["not_pupils"] = list(self.evaluation.not_pupils)
        if self.mail is not None:
            out["emails"] = self.mail.sent
            out["email_failures"] = self.mail.failures
            out["email_unconfirmed"] = self.mail.unconfirmed
        out.update(self.extra)
        return out


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def pupil_json(pupil: ReviewedPupil) -> dict[str, Any]:
    clock = pupil.clock
    record = pupil.record
    out: dict[str, Any] = {
        "row": record.row,
        "name": record.name,
        "upn": record.upn,
        "status": pupil.status.value,
        "window_end": None,
        "meeting_latest": None,
        "meeting_target": None,
        "requests_from": None,
        "contributions_due": None,
        "invites_by": None,
        "nc_year_at_review": None,
        "pfa_required": None,
        "phase_transfer": None,
        "after_meeting": None,
        "errors": list(pupil.errors),
        "warnings": list(pupil.warnings),
    }
    if clock is None:
        return out
    out.update(
        {
            "window_end": _iso(clock.window_end),
            "meeting_latest": _iso(clock.meeting_latest),
            "meeting_target": _iso(clock.meeting_target),
            "requests_from": _iso(clock.requests_from),
            "contributions_due": _iso(clock.contributions_due),
            "invites_by": _iso(clock.invites_by),
            "nc_year_at_review": clock.nc_year_at_review,
            "pfa_required": clock.pfa_required,
        }
    )
    if clock.phase_transfer is not None:
        t = clock.phase_transfer
        out["phase_transfer"] = {
            "transfer_date": _iso(t.transfer_date),
            "final_by": _iso(t.final_by),
            "meeting_latest": _iso(t.meeting_latest),
        }
    if clock.after_meeting is not None:
        a = clock.after_meeting
        out["after_meeting"] = {
            "report_due": _iso(a.report_due),
            "decision_due": _iso(a.decision_due),
            "final_plan_due": _iso(a.final_plan_due),
            "late": list(a.late),
        }
    return out


def ordered_by_urgency(pupils: Sequence[ReviewedPupil]) -> list[ReviewedPupil]:
    rank = {s: i for i, s in enumerate(URGENCY)}

    def sort_key(p: ReviewedPupil) -> tuple[int, date, int]:
        latest = p.clock.meeting_latest if p.clock else date.max
        return (rank[p.status], latest, p.record.row)

    return sorted(pupils, key=sort_key)


def print_summary(result: SweepResult, settings: Settings, out: TextIO = sys.stdout) -> None:
    ev = result.evaluation
    counts = result.counts()
    print(
        f'Review Keeper: {settings.school_name}: {ev.source}, sheet "{ev.header.sheet}", '
        f"{len(result.pupils)} pupils, computed for {uk_date(result.today)}",
        file=out,
    )
    order = [
        s for s in (Status.OVERDUE, Status.DUE_SOON, Status.INVALID, Status.PREPARE, Status.ON_TRACK, Status.INACTIVE)
    ]
    print("  " + " | ".join(f"{STATUS_LABELS[s]} {counts.get(s, 0)}" for s in order), file=out)
    current: Status | None = None
    for pupil in ordered_by_urgency(result.pupils):
        if pupil.status is Status.INACTIVE:
            continue
        if pupil.status is not current:
            current = pupil.status
            print(f"\n{STATUS_LABELS[current]}", file=out)
        record, clock = pupil.record, pupil.clock
        who = f"row {record.row:<4} {record.short_name or '(no name)':<16}"
        if clock is None or record.facts is None:
            # The line already starts with the row, as the AR issues column does.
            first = _ROW_PREFIX.sub("", pupil.errors[0]) if pupil.errors else ""
            print(f"  {who} {first}", file=out)
            continue
        flags = []
        if clock.pfa_required:
            flags.append("PfA")
        if clock.phase_transfer:
            flags.append(f"transfer: final by {uk_date(clock.phase_transfer.final_by)}")
        if clock.after_meeting is not None and clock.after_meeting.late:
            # reg 20(7)-(10), reg 22(3): a late step after the meeting needs chasing whatever the next review's status.
            flags.append(after_meeting_text(clock, record.facts, result.today))
        flag_text = f"  [{'; '.join(flags)}]" if flags else ""
        print(
            f"  {who} hold by {uk_date(clock.meeting_target)}: {next_action(clock, record.facts, result.today)}{flag_text}",
            file=out,
        )
    issues = sum(1 for p in result.pupils if p.warnings and p.status is not Status.INVALID)
    if issues:
        rows_have = "row has" if issues == 1 else "rows have"
        print(f"\n{issues} other {rows_have} warnings: see the AR issues column.", file=out)
    if result.evaluation.not_pupils:
        print(f"\n{not_pupils_note(result.evaluation.not_pupils)}", file=out)
    for note in ev.notes:
        print(f"\n{note}", file=out)
    if result.dry_run:
        print("\nDry run: nothing was written.", file=out)
    elif result.write is not None:
        print(f"\nWritten: {result.write.destination}", file=out)
        if result.write.backup:
            print(f"Backup of your file before this run: {result.write.backup}", file=out)
        for note in result.write.notes:
            print(note, file=out)
        if result.write.missing_keys:
            print(
                f"{len(result.write.missing_keys)} pupils were no longer in the register when writing; "
                "run again to include them.",
                file=out,
            )
    mail = result.mail
    if mail is not None:
        kinds = ("request", "chaser", "invitation", "digest")
        tally = {k: sum(e["kind"] == k for e in mail.sent) for k in kinds}
        kind_counts = ", ".join(f"{n} {k}{'' if n == 1 else 's'}" for k, n in tally.items())
        for k, label in (("la_chaser", "LA chaser"), ("status", "status email")):  # issue 14, only when any went
            n = sum(e["kind"] == k for e in mail.sent)
            kind_counts += f", {n} {label}{'' if n == 1 else 's'}" if n else ""
        verb = "would be sent" if result.dry_run else "sent"
        where = f" into the outbox folder {mail.outbox}" if mail.outbox else f" by {mail.transport}"
        print(f"\nEmails {verb}: {len(mail.sent)} ({kind_counts}){where}.", file=out)
        if mail.failures:
            print(f"{len(mail.failures)} emails could not be sent; the next sweep tries them again.", file=out)
        if mail.appended_rows:
            rows = (
                "1 Parent/carer row was" if mail.appended_rows == 1 else f"{mail.appended_rows} Parent/carer rows were"
            )
            print(f"{rows} added to Contributions from the register's parent emails.", file=out)
        for note in mail.notes:
            print(f"  {note}", file=out)


def links_note(signer: LinkSigner | None, result: SweepResult) -> str | None:
    """One line when KEEPER_LINK_SECRET is set but KEEPER_BASE_URL is not: the links cannot be made, so the emails ask
    for a reply instead, and the SENDCo would otherwise never know why."""
    if signer is None or signer.base_url or result.mail is None:
        return None
    if any("KEEPER_BASE_URL" in note for note in result.mail.notes):
        return None  # the email step already said so
    return (
        "KEEPER_LINK_SECRET is set but KEEPER_BASE_URL is not, so the emails carry no confirmation link (they ask for "
        "a reply instead); set KEEPER_BASE_URL to the confirmation page's address, e.g. https://keeper.example.org."
    )


def emails_gone_note(result: SweepResult) -> str:
    """Emails went but the register could not be written (issue 10 item 14): how many, and why the next run is safe."""
    if result.mail is None:
        return ""
    gone = len(result.mail.sent) + len(result.mail.unconfirmed)
    if not gone:
        return ""
    one = gone == 1
    return (
        f"{gone} email{'' if one else 's'} had already gone before this; the sent-ledger records "
        f"{'it' if one else 'them'}, so the next run will not send {'it' if one else 'them'} again and will write "
        f"{'its' if one else 'their'} cells (Requested, Chasers, Last chased, new Parent/carer rows) from it."
    )


__all__ = [
    "EMAIL_KEYS",
    "URGENCY",
    "MailReport",
    "SweepResult",
    "emails_gone_note",
    "links_note",
    "ordered_by_urgency",
    "print_summary",
    "pupil_json",
]
