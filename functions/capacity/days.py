"""The calendar side of the plan: which days a meeting may be held, the preparation dates that follow from a meeting,
and which school week each falls in (docs/rules.md s2, s6). Weeks start on Monday."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from functions.capacity_settings import CapacitySettings
from review_rules.periods import INVITES_DAYS, PAPERS_DAYS, REPORT_DAYS, REQUESTS_DAYS, REQUESTS_EXTENDED_DAYS

from .model import StageDates

ONE_DAY = timedelta(days=1)
MAX_WEEKS = 52
# Weekdays in a full school week, for scaling the hours available in a week with closures or days away.
DAYS_IN_SCHOOL_WEEK = 5


def monday_of(d: date) -> date:
    return d - timedelta(days=d.weekday())


def academic_year(d: date) -> int:
    """The year the academic year containing `d` starts in (1 September, docs/rules.md s3)."""
    return d.year if d.month >= 9 else d.year - 1


class PlanCalendar:
    """School days (from the school's calendar) combined with the SENDCo's availability, from `today`."""

    def __init__(
        self,
        is_school_day: Callable[[date], bool],
        on_or_before: Callable[[date], date],
        settings: CapacitySettings,
        today: date,
        weeks: int | None = None,
    ) -> None:
        self.is_school_day = is_school_day
        self.on_or_before = on_or_before
        self.settings = settings
        self.today = today
        self.first_meeting_day = max(today, settings.earliest or today)
        self.first_monday = monday_of(today)
        # The first school day from today: when anything "at once" happens (today may be a Saturday).
        self.asap = next(
            (today + timedelta(days=n) for n in range(MAX_WEEKS * 7) if is_school_day(today + timedelta(days=n))), today
        )
        self.horizon_end = self._horizon_end(MAX_WEEKS if weeks is None else max(1, min(weeks, MAX_WEEKS)))
        self._stage_cache: dict[tuple[date, bool], StageDates] = {}

    def _horizon_end(self, school_weeks: int) -> date:
        """The Sunday ending the `school_weeks`-th week (from this one) that has a school day: holidays don't count."""
        monday, counted = self.first_monday, 0
        for _ in range(MAX_WEEKS * 2):
            if any(self.is_school_day(monday + timedelta(days=i)) for i in range(DAYS_IN_SCHOOL_WEEK)):
                counted += 1
                if counted >= school_weeks:
                    break
            monday += timedelta(weeks=1)
        return monday + timedelta(days=6)

    def school_weeks_before(self, d: date, weeks: int) -> date:
        """`d` moved back `weeks` school weeks: weeks with no school day (holidays) are not counted."""
        monday, counted = monday_of(d), 0
        for _ in range(MAX_WEEKS * 2):
            if counted >= weeks:
                break
            monday -= timedelta(weeks=1)
            if any(self.is_school_day(monday + timedelta(days=i)) for i in range(DAYS_IN_SCHOOL_WEEK)):
                counted += 1
        return d - (monday_of(d) - monday)

    def school_weeks_after(self, d: date, weeks: int) -> date:
        """The last day of the `weeks`-th school week from `d`'s own week (which counts): holidays are not counted."""
        monday, counted = monday_of(d), 0
        for _ in range(MAX_WEEKS * 2):
            if any(self.is_school_day(monday + timedelta(days=i)) for i in range(DAYS_IN_SCHOOL_WEEK)):
                counted += 1
                if counted >= weeks:
                    break
            monday += timedelta(weeks=1)
        return monday + timedelta(days=6)

    def week_index(self, d: date) -> int:
        return (monday_of(d) - self.first_monday).days // 7

    def week_start(self, index: int) -> date:
        return self.first_monday + timedelta(weeks=index)

    def stages(self, meeting: date, heavy: bool) -> StageDates:
        """The preparation dates for a meeting on `meeting`, each moved back to a school day (docs/rules.md s6)."""
        key = (meeting, heavy)
        cached = self._stage_cache.get(key)
        if cached is None:
            lead = REQUESTS_EXTENDED_DAYS if heavy else REQUESTS_DAYS
            cached = StageDates(
                meeting=meeting,
                requests_from=self.on_or_before(meeting - timedelta(days=lead)),
                # Reg 20(3): two weeks' notice of the meeting; reg 20(4): advice circulated two weeks before.
                invites_by=self.on_or_before(meeting - timedelta(days=INVITES_DAYS)),
                papers_by=self.on_or_before(meeting - timedelta(days=PAPERS_DAYS)),
                # Reg 20(7)-(8): the school's report within two weeks of the meeting; the work lands in the week of
                # that deadline, as every other stage's does.
                report_due=self.on_or_before(meeting + timedelta(days=REPORT_DAYS)),
            )
            self._stage_cache[key] = cached
        return cached

    def can_meet(self, d: date) -> bool:
        return self.is_school_day(d) and self.settings.available(d)

    def lawful(self, d: date) -> bool:
        """A meeting on `d` can still be held lawfully: an available school day, not before today (or `earliest`),
        with the invitations and papers dates not yet passed (reg 20(3), 20(4))."""
        if d < self.first_meeting_day or not self.can_meet(d):
            return False
        stages = self.stages(d, False)
        return stages.invites_by >= self.today and stages.papers_by >= self.today

    def earliest_lawful(self, limit: date | None = None) -> date | None:
        """The first day any review can now be held lawfully (the same for every review: notice is counted from
        today). None when there is no such day up to `limit` (default: the horizon)."""
        last = limit or self.horizon_end
        d = self.first_meeting_day
        while d <= last:
            if self.lawful(d):
                return d
            d += ONE_DAY
        return None

    def meeting_days(self, first: date, last: date) -> list[date]:
        """Every day from `first` to `last` on which a meeting may be held lawfully."""
        out: list[date] = []
        d = first
        while d <= last:
            if self.lawful(d):
                out.append(d)
            d += ONE_DAY
        return out

    def school_day_numbers(self, last: date) -> dict[date, int]:
        """Each day up to `last` counted in school days from this week's Monday: Friday and the next Monday are
        adjacent (used for "same or adjacent days")."""
        numbers: dict[date, int] = {}
        count, day = 0, self.first_monday
        while day <= last:
            if self.is_school_day(day):
                count += 1
            numbers[day] = count
            day += ONE_DAY
        return numbers

    def capacity_minutes(self, week: int, weekly_minutes: int) -> int:
        """Hours available in a week, in proportion to its school days the SENDCo is in (a bank holiday, a closure,
        days away) and, this week, to the days left."""
        monday = self.week_start(week)
        days = 0
        for i in range(DAYS_IN_SCHOOL_WEEK):
            d = monday + timedelta(days=i)
            if d >= self.today and self.is_school_day(d) and not self.settings.is_away(d):
                days += 1
        return weekly_minutes * days // DAYS_IN_SCHOOL_WEEK
