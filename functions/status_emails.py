"""Parents' and young people's status emails (issue 14 item 4). Pure: which short status emails are due today.

After each stage of the review the parent/carer (and, from the end of compulsory school age, the young person in
their own right: reg 2, CoP 8.13, docs/rules.md s7, when the register has their email) gets a short plain-English
email saying where the review stands: dates and stages only. Off by default: `status_emails = true` in keeper.toml.

Each stage goes once per review cycle (the sent-ledger key names the meeting), only the latest stage reached, and only
within STAGE_FRESH_DAYS of it happening, so turning the setting on does not send a year of history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from review_rules.model import Decision, Status
from sheet_schema.contributions import Contribution, pupil_matches
from sheet_schema.model import ReviewedPupil

from .la_keys import pupil_key

if TYPE_CHECKING:  # la_profiles loads the settings, which load this module through the planner: imported when used
    from .la_profiles import LAProfile

STAGE_FRESH_DAYS = 14

STAGES = ("invited", "meeting_held", "report_sent", "decision_made", "decision_late", "final_plan_late")


@dataclass(frozen=True)
class StatusEmail:
    pupil: ReviewedPupil
    to: str
    young_person: bool  # written to the young person themselves
    stage: str
    context: Mapping[str, object]
    reason_key: str


def status_key(cycle: date, pkey: str, stage: str, to_young_person: bool) -> str:
    return f"status|{cycle.isoformat()}|{pkey}|{stage}|{'yp' if to_young_person else 'parent'}"


def _stages(pupil: ReviewedPupil, today: date) -> list[tuple[str, date, date, dict[str, object]]]:
    """(stage, cycle, the day it happened, dates for the email) for each stage reached."""
    clock = pupil.clock
    facts = pupil.record.facts
    assert clock is not None
    assert facts is not None
    out: list[tuple[str, date, date, dict[str, object]]] = []
    if clock.meeting_is_planned and clock.meeting_date >= today:
        out.append(("invited", clock.meeting_date, today, {"meeting": clock.meeting_date}))
    after = clock.after_meeting
    if after is None:
        return out
    held = after.meeting_held
    dates: dict[str, object] = {
        "meeting": held,
        "report_due": after.report_due,
        "decision_due": after.decision_due,
        "final_plan_due": after.final_plan_due,
    }
    out.append(("meeting_held", held, held, dates))
    if facts.report_sent is not None and facts.report_sent >= held:
        out.append(("report_sent", held, facts.report_sent, {**dates, "report_sent": facts.report_sent}))
    if facts.la_decision is not None and facts.la_decision >= held:
        decision = facts.decision.value if isinstance(facts.decision, Decision) else None
        out.append(("decision_made", held, facts.la_decision, {**dates, "decision": decision}))
    if "decision_due" in after.late:
        out.append(("decision_late", held, after.decision_due + timedelta(days=1), dates))
    if "final_plan_due" in after.late and after.final_plan_due is not None:
        out.append(("final_plan_late", held, after.final_plan_due + timedelta(days=1), dates))
    return out


def _chased(pupil: ReviewedPupil, stage: str, profiles: Sequence[LAProfile]) -> bool:
    """Whether the LA is being chased for this late step (functions/la_chasing.py): its profile has chase on, and for
    the decision the register shows the report sent since the meeting. Only then may the email say the school is
    chasing it: with chasers off (the default) the family is never told of a chase that is not happening."""
    from .la_profiles import match

    profile = match(pupil.record.la, profiles)
    if profile is None or not profile.chase:
        return False
    if stage != "decision_late":
        return True
    facts, after = pupil.record.facts, pupil.clock.after_meeting if pupil.clock else None
    return (
        facts is not None
        and after is not None
        and facts.report_sent is not None
        and (facts.report_sent >= after.meeting_held)
    )


def decide_status_emails(
    pupils: Sequence[ReviewedPupil],
    *,
    today: date,
    sent: Mapping[str, date],
    enabled: bool,
    profiles: Sequence[LAProfile] = (),
) -> tuple[StatusEmail, ...]:
    if not enabled:
        return ()
    out: list[StatusEmail] = []
    for pupil in pupils:
        if pupil.clock is None or pupil.record.facts is None or pupil.status in (Status.INVALID, Status.INACTIVE):
            continue
        r = pupil.record
        recipients = [(r.parent_email, False)]
        # From the end of compulsory school age the young person is told in their own right (docs/rules.md s7).
        if today >= pupil.clock.end_of_compulsory_school:
            recipients.append((r.young_person_email, True))
        pkey = pupil_key(pupil)
        stages = _stages(pupil, today)
        # Only where the review stands now: the latest stage reached. A first sweep (or a week of missed sweeps)
        # never sends a stage the family has already moved past.
        for stage, cycle, happened, dates in sorted(stages, key=lambda s: (s[2], STAGES.index(s[0])))[-1:]:
            if not 0 <= (today - happened).days <= STAGE_FRESH_DAYS:
                continue
            for to, yp in recipients:
                if not to:
                    continue
                key = status_key(cycle, pkey, stage, yp)
                if key in sent:
                    continue
                context = {**dates, "stage": stage, "young_person": yp, "first_name": r.first_name, "la": r.la,
                           "chased": _chased(pupil, stage, profiles)}  # fmt: skip
                out.append(StatusEmail(pupil, to, yp, stage, context, key))
    return tuple(out)


__all__ = ["STAGES", "STAGE_FRESH_DAYS", "StatusEmail", "decide_status_emails", "seed_young_person_rows", "status_key"]


YOUNG_PERSON = "Young person"


def seed_young_person_rows(
    pupils: Sequence[ReviewedPupil], contributions: Sequence[Contribution], today: date
) -> list[Contribution]:
    """Item 6 / docs/rules.md s7: from the end of compulsory school age the young person is asked, invited and told in
    their own right. A "Young person" Contributions row is seeded (as the Parent/carer row is) when the register has
    their own email and the Contributions tab has no Young person row for them; the review record then lists them."""
    has_row = {pupil.record.row for c in contributions if c.role == YOUNG_PERSON for pupil in pupil_matches(c, pupils)}
    out: list[Contribution] = []
    for pupil in pupils:
        r = pupil.record
        if pupil.clock is None or pupil.status in (Status.INACTIVE, Status.INVALID) or r.row in has_row:
            continue
        if not r.young_person_email or today < pupil.clock.end_of_compulsory_school or not (r.upn or r.name.strip()):
            continue
        out.append(
            Contribution(
                row=0,
                pupil_ref=r.upn or r.name,
                role=YOUNG_PERSON,
                name="",
                email=r.young_person_email.strip(),
                requested=None,
                received=None,
                chasers=0,
                last_chased=None,
                notes="Added from the register's young person email: past compulsory school age, invited in their own right",
            )
        )
    return out
