"""An LA's own lead times (issue 14 item 1: `requests_weeks`, `contributions_weeks`, `papers_weeks` in its profile),
applied to its pupils' preparation stages. Pure.

They only ever make a stage earlier: the school's defaults (docs/rules.md s6) stay the latest a stage may be, since
they carry the statutory two weeks' notice (reg 20(3)-(4)). Each moved date goes to the last school day on or before
it, as every stage does (docs/rules.md s2), and its explanation names the LA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

from review_rules.dates import format_date
from review_rules.school_days import SchoolCalendar
from sheet_schema.model import ReviewedPupil

from .la_profiles import LAProfile, match

_STAGE = {"requests_weeks": "requests_from", "contributions_weeks": "contributions_due", "papers_weeks": "papers_by"}
_WORDS = {"requests_from": "Requests for advice from", "contributions_due": "Contributions due",
          "papers_by": "Papers circulated by"}  # fmt: skip
# A week to compile the advice before the papers go (docs/rules.md s6).
_COMPILE_DAYS = 7


def with_la_lead_times(
    pupils: Sequence[ReviewedPupil], profiles: Sequence[LAProfile], calendar: SchoolCalendar
) -> list[ReviewedPupil]:
    if not any(p.lead_weeks for p in profiles):
        return list(pupils)
    out: list[ReviewedPupil] = []
    for pupil in pupils:
        profile = match(pupil.record.la, profiles)
        clock = pupil.clock
        if clock is None or profile is None or not profile.lead_weeks:
            out.append(pupil)
            continue
        changes: dict[str, date] = {}
        explain = dict(clock.explain)
        for key, weeks in profile.lead_weeks:
            stage = _STAGE[key]
            earlier = calendar.school_day_on_or_before(clock.meeting_date - timedelta(weeks=weeks))
            if earlier < getattr(clock, stage):
                changes[stage] = earlier
                explain[stage] = (
                    f"{_WORDS[stage]} {format_date(earlier)}: {profile.name} asks for {weeks} weeks before the "
                    "meeting (its profile in keeper.toml)."
                )
        if "papers_by" in changes:  # earlier papers keep their week to compile the advice
            latest = calendar.school_day_on_or_before(changes["papers_by"] - timedelta(days=_COMPILE_DAYS))
            if latest < changes.get("contributions_due", clock.contributions_due):
                changes["contributions_due"] = latest
        if changes:
            clock = replace(clock, **changes, explain=explain)  # type: ignore[arg-type]
        out.append(replace(pupil, clock=clock))
    return out


__all__ = ["with_la_lead_times"]
