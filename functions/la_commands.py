"""`main.py las` and `main.py submit` (issue 14 items 1 and 3). The register, transport, ledger and signer come in as
arguments, built by functions/bootstrap.py.

`las`: the LAs the register names, how many pupils each (counts, never names) and what keeper.toml configures.
`submit`: the review record to the LA's SEN inbox (where its profile says submit = "email") as a signed download link,
never an attachment: the record (and the papers pack, if one was circulated) is kept on the school's side and served to
that link only until it expires (functions/la_record.py). What went is recorded in the product's own `LA chasers` tab
only; the SENDCo types the date into their own "Report sent" column (nothing the SENDCo typed is ever written by the
product, docs/register.md s5).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from connectors.base import Register, RegisterError
from connectors.mail_base import MailTransport
from sheet_schema.model import PupilRecord

from .evaluate import evaluate
from .la_chasing import initials, pupil_key
from .la_profiles import la_aliases, match, profile_warnings, profiles_for
from .la_record import RecordKeeping, keep_record, record_links
from .la_sweep import STEP_LABELS, tab_write_plan
from .links import LinkConfigError
from .mailer import Ledger, send_all
from .plan_model import DueEmail
from .rendering import EmailPlan, render_email
from .reporting import OutputError, select_pupils
from .settings import School, Settings, SettingsError


def las_lines(register: Register, *, today: date, settings: Settings) -> list[str]:
    """What `main.py las` prints: one line per LA (a profile's name and aliases together, as the LA figures count
    them), then the names no profile matches, then the warnings."""
    evaluation = evaluate(register.read(), today=today, settings=settings)
    profiles = profiles_for(settings)
    counts = Counter((p.record.la or "").strip() for p in evaluation.pupils)
    by_profile: dict[str, Counter[str]] = {}
    unmatched: Counter[str] = Counter()
    for la, n in counts.items():
        profile = match(la, profiles)
        if profile is None:
            unmatched[la] += n
        else:
            by_profile.setdefault(profile.name, Counter())[la] += n
    n_las = len(by_profile) + len(unmatched)
    lines = [f"{n_las} LA{'' if n_las == 1 else 's'} in the register:"]
    rows: list[tuple[int, str, str]] = []
    for profile in profiles:
        written = by_profile.get(profile.name)
        if written is None:
            continue
        total = sum(written.values())
        also = ""
        if set(written) != {profile.name}:
            also = " (written " + ", ".join(f'"{w}" {k}' for w, k in sorted(written.items(), key=lambda x: -x[1])) + ")"
        rows.append((total, profile.name, f"{_pupils(total)}{also}; {profile.describe()}"))
    for la, n in unmatched.items():
        rows.append((n, la or "(no LA given)", f"{_pupils(n)}; no profile in keeper.toml"))
    lines += [f"  {name}: {text}" for _, name, text in sorted(rows, key=lambda r: (-r[0], r[1]))]
    lines += [f"  Warning: {w}" for w in profile_warnings(counts, profiles)]
    named = sorted((la for la in unmatched if la), key=lambda la: -unmatched[la])
    if not profiles and named:
        lines.append(
            f'No LA has a profile in keeper.toml yet: add one for each, e.g. [las."{named[0]}"] with its email, '
            'chase = true and submit = "email" (README, "The LA\'s clock").'
        )
    return lines


def _pupils(n: int) -> str:
    return f"{n} pupil{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Submission:
    lines: tuple[str, ...]  # what to tell the SENDCo
    sent: bool


def _submit_key(meeting: date, pkey: str) -> str:
    return f"submit|{meeting.isoformat()}|{pkey}"


def submit_record(
    register: Register,
    *,
    pupil: str,
    today: date,
    settings: Settings,
    transport: MailTransport | None,
    ledger: Ledger,
    keeping: RecordKeeping | None,
    send: bool,
) -> Submission:
    evaluation = evaluate(register.read(), today=today, settings=settings)
    (chosen,) = select_pupils(evaluation.pupils, pupil)[:1]
    r = chosen.record
    clock = chosen.clock
    if clock is None:
        raise RegisterError(f"row {r.row} has problems to fix first: see its AR issues column.")
    if clock.after_meeting is None:
        raise RegisterError(f"row {r.row} has no review meeting recorded yet; record the meeting date first.")
    profiles = profiles_for(settings)
    profile = match(r.la, profiles)
    if profile is None:
        known = ", ".join(p.name for p in profiles) or "none"
        raise SettingsError(
            f'row {r.row}: the LA "{r.la or ""}" has no profile in keeper.toml (known: {known}); add '
            f'[las."{r.la}"] with its email and submit = "email", or add "{r.la}" to an LA\'s aliases.'
            if r.la
            else f"row {r.row} has no LA in the register's LA column; type the LA's name there first."
        )
    if profile.submit != "email" or profile.email is None:
        how = {"portal": f"through its portal{f' ({profile.portal_url})' if profile.portal_url else ''}"}.get(
            profile.submit or "", "by post" if profile.submit == "post" else "as it asks (no submit way is set)"
        )
        typed = r.facts.report_sent if r.facts else None
        recorded = typed is not None and typed >= clock.after_meeting.meeting_held
        return Submission(
            (
                f"{profile.name} takes the review record {how}; nothing was emailed.",
                *(
                    ()
                    if recorded
                    else (f'Once it has gone, type the date into your "Report sent" column for row {r.row}.',)
                ),
            ),
            False,
        )
    if keeping is None or not keeping.signer.base_url:
        raise LinkConfigError(
            "The record goes as a signed link: set KEEPER_LINK_SECRET and KEEPER_PAPERS_URL (the keeper-papers "
            "function's address) or KEEPER_BASE_URL (where `main.py serve` answers), then run again."
        )
    after = clock.after_meeting
    pkey = pupil_key(chosen)
    key = _submit_key(after.meeting_held, pkey)
    already = ledger.sent_log().get(key)
    if already is not None:
        return Submission(
            (f"Row {r.row}'s review record already went to {profile.name} on {already:%d/%m/%Y}.",), False
        )
    links = record_links(keeping, chosen, after.meeting_held, profile.email, today)
    who = initials(chosen)
    context: dict[str, Any] = {
        "subject": f"Annual review record for {who}{f' (ref {r.la_ref})' if r.la_ref else ''}, "
        f"meeting {after.meeting_held:%d/%m/%Y}",
        "la": profile.name,
        "initials": who,
        "la_ref": r.la_ref,
        "meeting": after.meeting_held,
        "decision_due": after.decision_due,
        "today": today,
        "link": links.record,
        "papers_link": links.papers,
        "expires": links.expires,
        "form": profile.form,
        "school_name": settings.school_name,
        "sendco_name": settings.sendco_name,
        "sendco_email": settings.sendco_email,
    }
    due = DueEmail(
        kind="submit",
        to=profile.email,
        pupil_row=r.row,
        reason_key=key,
        context=context,
        reply_to=settings.sendco_email,
        cc=(settings.sendco_email,) if settings.sendco_email else (),
    )
    email = render_email(due)
    what = "review record and the papers pack" if links.papers else "review record"
    if not send or transport is None:
        return Submission(
            (f"Would email a link to the {what} for row {r.row} to {profile.email} ({email.subject}); add --send.",),
            False,
        )
    try:
        keep_record(keeping, links, r.row)
    except OSError as exc:
        raise OutputError(
            f"could not keep the review record for the LA's link in {keeping.folder} "
            f"({exc.strerror or type(exc).__name__}); nothing was emailed. Check the folder and run again."
        ) from None
    (outcome,) = send_all(EmailPlan(today, (email,), (), (), (), {}), transport, ledger)
    if not outcome.went:
        return Submission((f"The email to {profile.email} did not go ({outcome.error}); try again later.",), False)
    row = {
        "Pupil": r.upn or r.short_name,
        "LA": r.la,
        "Meeting": after.meeting_held,
        "Step": STEP_LABELS["report"],
        "Chaser": None,
        "Sent": today,
        "To": profile.email,
        "Key": key,
    }
    register.write(tab_write_plan([row]))
    return Submission(
        (
            f"Sent a link to the {what} for row {r.row} to {profile.email} (it works until "
            f"{links.expires:%d/%m/%Y}); recorded in the LA chasers tab.",
            _report_sent_line(r, after.meeting_held, today),
        ),
        True,
    )


def _report_sent_line(r: PupilRecord, meeting: date, today: date) -> str:
    """What to do with the SENDCo's own "Report sent" cell, which the product never writes (docs/register.md s5)."""
    typed = r.facts.report_sent if r.facts else None
    if r.facts is not None and "report_due" in r.facts.no_column_for:
        # Without the column the LA's decision can never be chased (docs/la-clock.md): say which column to add.
        return (
            f'Add a "Report sent" column to the register and type {today:%d/%m/%Y} into it for row {r.row}: the '
            "product never writes there, and chases the LA's decision only once it shows the report went."
        )
    if typed is not None and typed >= meeting:
        # Already recorded for this meeting: never suggest overwriting what the SENDCo typed.
        return (
            f'Your "Report sent" column already shows {typed:%d/%m/%Y} for row {r.row}; leave it, unless this email '
            "is the report you meant to record there."
        )
    return f'Type {today:%d/%m/%Y} into your "Report sent" column for row {r.row}: the product never writes there.'


def trust_la_figures(
    schools: Mapping[str, School], open_register: Callable[[School], Register], *, today: date, out: Path
) -> Path:
    """Item 5 for a trust: each school's register evaluated with its own settings, then the LA figures per school and
    per LA across the trust (reports/la_figures.py)."""
    from reports.la_figures import write_trust_workbook

    per_school = []
    aliases = {}  # each school's own profiles name its LAs ("KCC" is Kent's where keeper.toml says so)
    for school in schools.values():
        evaluation = evaluate(open_register(school).read(), today=today, settings=school.settings)
        per_school.append((school.settings.school_name, evaluation.pupils))
        aliases[school.settings.school_name] = la_aliases(profiles_for(school.settings))
    return write_trust_workbook(per_school, today=today, out=out, aliases_by_school=aliases)


__all__ = ["Submission", "las_lines", "submit_record", "trust_la_figures"]
