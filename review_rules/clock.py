"""The annual review clock for one pupil (docs/rules.md s4-10).

Every date carries an explanation naming the rule and the anchor it came from, so the SENDCo (or a lawyer) can check it.
References: Children and Families Act 2014 (CFA) s44; SEND Regulations 2014 (SI 2014/1530) regs 18, 20, 21, 22;
SEND Code of Practice 2015 (CoP) 9.166-9.180; R (L, M and P) v Devon CC [2022] EWHC 493 (Admin).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from review_rules.dates import add_months_clamped, end_of_compulsory_school, format_date, window_end
from review_rules.model import (
    AfterMeeting,
    Anchor,
    Decision,
    Explanation,
    Period,
    ReviewClock,
    ReviewFacts,
    RuleSettings,
    Status,
)
from review_rules.periods import (
    CONTRIBUTIONS_BEFORE_INVITES_DAYS,
    DECISION_DAYS,
    DECISION_WEEKS_DAYS,
    DUE_SOON_DAYS,
    FINAL_AFTER_MEETING_DAYS,
    FINAL_AFTER_NOTICE_DAYS,
    INVITES_DAYS,
    PAPERS_DAYS,
    PFA_FROM_YEAR,
    POST16_MIDYEAR_MONTHS,
    REPORT_DAYS,
    REQUESTS_DAYS,
    REQUESTS_EXTENDED_DAYS,
    UNDER_FIVES_AGE,
    UNDER_FIVES_INTERIM_MONTHS,
)
from review_rules.school_days import SchoolCalendar, calendar_for
from review_rules.transfers import binding_transfer, twelve_months_before
from review_rules.year_groups import age_on, pupil_year

_SOURCE_WORDS = {"last_review": "the last review", "plan_issued": "the final plan first issued"}


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def compute_review(
    facts: ReviewFacts,
    today: date,
    settings: RuleSettings,
    calendar: SchoolCalendar | None = None,
) -> ReviewClock:
    """Compute the current review cycle of one pupil on `today`.

    The caller validates the row first (INVALID rows never reach here); a row must have a last review or a plan issue
    date. `calendar` defaults to one built from `settings.closures` and shared across calls.
    """
    cal = calendar if calendar is not None else calendar_for(settings.closures)
    return _compute(facts, today, settings, cal, None)


def explain_review(
    facts: ReviewFacts, today: date, settings: RuleSettings, calendar: SchoolCalendar | None = None
) -> dict[str, str]:
    """The sentence behind each date of `compute_review`'s clock (which rule, from which anchor): the same rules run
    again with the wording on, so the words always match the dates."""
    words: dict[str, str] = {}
    _compute(facts, today, settings, calendar if calendar is not None else calendar_for(settings.closures), words)
    return words


def _compute(
    facts: ReviewFacts, today: date, settings: RuleSettings, cal: SchoolCalendar, explain: dict[str, str] | None
) -> ReviewClock:
    """The clock; with `explain`, also the sentence for each date. A sweep of 10,000 pupils reads none of them and held
    them all (5 KB a pupil), so a clock carries them unworded and words them when first read (issue 16)."""
    fd = format_date

    # Section 4. CFA s44(1): the first review is within 12 months of the plan being made, each later one within 12
    # months of the previous review. An amended plan (even one ordered by the Tribunal) does not restart the clock.
    if facts.last_review is not None:
        meeting_anchor, anchor_source = facts.last_review, "last_review"
    elif facts.plan_issued is not None:
        meeting_anchor, anchor_source = facts.plan_issued, "plan_issued"
    else:
        raise ValueError("a review needs a last review date or a plan issue date")
    anchor_words = f"{_SOURCE_WORDS[anchor_source]} on {fd(meeting_anchor)}" if explain is not None else ""
    if explain is not None:
        explain["meeting_anchor"] = (
            f"The clock runs from {anchor_words}: a review restarts it, an amended plan does not (CFA 2014 s44(1))."
        )

    # The LA's decision on the last review (reg 20(10)), when recorded and not earlier than the meeting it decided.
    if anchor_source == "last_review" and facts.la_decision is not None and facts.la_decision >= meeting_anchor:
        decision_anchor = facts.la_decision
        if explain is not None:
            explain["decision_anchor"] = (
                f"The LA decided on the last review on {fd(decision_anchor)} (SEND Regs 2014 reg 20(10))."
            )
    else:
        decision_anchor = meeting_anchor
        if explain is not None:
            explain["decision_anchor"] = (
                f"No LA decision recorded for this cycle, so {anchor_words} is used (CoP 9.169)."
            )

    # CFA s44(1), CoP 9.169: the review must be held within the 12 months starting with the anchor.
    window = window_end(meeting_anchor, settings.period)
    if settings.period is Period.ANNIVERSARY:
        if explain is not None:
            explain["window_end"] = (
                f"12 months from {anchor_words}, counted to the anniversary as the LA does, end on {fd(window)} "
                "(CFA 2014 s44(1))."
            )
    else:
        if explain is not None:
            explain["window_end"] = f"12 months starting with {anchor_words} end on {fd(window)} (CFA 2014 s44(1))."

    if settings.anchor is Anchor.MEETING:
        meeting_latest = window
        if explain is not None:
            explain["meeting_latest"] = (
                f"The meeting must be held by the end of the 12 months, {fd(window)} (CFA 2014 s44(1); school setting: "
                "meeting anchor)."
            )
    else:
        # CoP 9.169: the LA's decision (4 weeks after the meeting, reg 20(10)) is also expected within the 12 months
        # starting with the decision anchor, so the meeting is held 28 days before that window ends.
        decision_window = window_end(decision_anchor, settings.period)
        meeting_latest = min(window, decision_window - _days(DECISION_WEEKS_DAYS))
        if meeting_latest == window:
            if explain is not None:
                explain["meeting_latest"] = (
                    f"The meeting must be held within 12 months of {anchor_words}, by {fd(window)} (CFA 2014 s44(1))."
                )
        else:
            if explain is not None:
                explain["meeting_latest"] = (
                    f"{fd(meeting_latest)} is 4 weeks before the 12 months from the LA decision anchor "
                    f"{fd(decision_anchor)} end on {fd(decision_window)}, leaving time for the LA's decision within "
                    "them (CoP 9.169; SEND Regs 2014 reg 20(10))."
                )

    # Section 5. Reg 18: a transfer within 12 months binds this cycle when no review falls in the 12 months before it.
    phase = binding_transfer(facts, today, meeting_anchor, meeting_latest, settings)
    if phase is not None:
        if explain is not None:
            deadline_words = "31 March" if phase.to_post16 else "15 February"
            deadline_words = ("by " if settings.phase_deadline_inclusive else "before ") + deadline_words
            if phase.final_by == phase.transfer_date - _days(1):
                deadline_words += f" and before the move itself on {fd(phase.transfer_date)}"
            elif phase.final_by == add_months_clamped(phase.transfer_date, -POST16_MIDYEAR_MONTHS) and phase.to_post16:
                deadline_words += f" and at least five months before the move on {fd(phase.transfer_date)} (reg 18(2))"
            explain["phase_transfer"] = (
                f"Transfer from Year {phase.from_year} on {fd(phase.transfer_date)}: its 12 months begin on "
                f"{fd(twelve_months_before(phase.transfer_date))}, after {anchor_words}, and this cycle's meeting falls "
                f"due in them, so the plan must be reviewed and amended {deadline_words}, final by {fd(phase.final_by)} "
                "(SEND Regs 2014 reg 18)."
            )
        if phase.meeting_latest < meeting_latest:
            meeting_latest = phase.meeting_latest
            if explain is not None:
                explain["meeting_latest"] = (
                    f"{fd(meeting_latest)} is 84 days (4 weeks for the LA decision with proposed amendments, then 8 weeks "
                    f"to the final plan) before the phase transfer deadline {fd(phase.final_by)} (SEND Regs 2014 regs 18, "
                    "20(10), 22(3); Devon [2022] EWHC 493 (Admin))."
                )

    # Section 6. Deadlines that fall outside school days move earlier, never later.
    meeting_target = cal.school_day_on_or_before(meeting_latest)
    if explain is not None:
        explain["meeting_target"] = (
            f"The last school day on or before the latest meeting date {fd(meeting_latest)} is {fd(meeting_target)}."
        )
    if facts.planned_meeting is not None:
        meeting_date, meeting_is_planned = facts.planned_meeting, True
        planned_after_deadline = facts.planned_meeting > meeting_latest
        if explain is not None:
            explain["meeting_date"] = f"The register records the meeting planned for {fd(meeting_date)}."
        if planned_after_deadline and explain is not None:
            explain["planned_after_deadline"] = (
                f"The planned meeting on {fd(meeting_date)} is after the deadline {fd(meeting_latest)}."
            )
    else:
        meeting_date, meeting_is_planned, planned_after_deadline = meeting_target, False, False
        if explain is not None:
            explain["meeting_date"] = (
                f"No meeting is planned, so the stages run from the target date {fd(meeting_target)}."
            )
    m_words = f"the meeting on {fd(meeting_date)}" if explain is not None else ""

    # Section 7. Reg 20(6), 21(6); CoP 8.9-8.12: the year group on the day of the meeting decides PfA. A review with
    # no meeting booked cannot now be held before today, so an overdue one is judged on today (docs/rules.md s7).
    review_day = meeting_date if meeting_is_planned else max(meeting_date, today)
    nc_year_at_review = pupil_year(facts.dob, facts.recorded_year, today, review_day)
    pfa_required = nc_year_at_review >= PFA_FROM_YEAR
    year_source = "as recorded in the register" if facts.recorded_year is not None else "from the date of birth"
    held_words = "" if review_day == meeting_date else ", the earliest the unbooked review can now be held"
    if explain is not None:
        explain["nc_year_at_review"] = (
            f"On {fd(review_day)}{held_words}, the pupil is in year {nc_year_at_review} ({year_source})."
        )
    if explain is not None:
        explain["pfa_required"] = (
            f"Year {nc_year_at_review} at the review: preparing for adulthood "
            f"{'is' if pfa_required else 'is not yet'} required from Year 9 (SEND Regs 2014 regs 20(6), 21(6); "
            "CoP 8.9-8.12)."
        )

    extended = pfa_required or phase is not None
    requests_days = REQUESTS_EXTENDED_DAYS if extended else REQUESTS_DAYS
    requests_from = cal.school_day_on_or_before(meeting_date - _days(requests_days))
    why_extended = " (Year 9+ or a phase transfer: more contributors)" if extended else ""
    if explain is not None:
        explain["requests_from"] = (
            f"Requests for advice go out from {fd(requests_from)}, {requests_days // 7} weeks before {m_words}"
            f"{why_extended}, moved to a school day."
        )
    invites_by = cal.school_day_on_or_before(meeting_date - _days(INVITES_DAYS))
    if explain is not None:
        explain["invites_by"] = (
            f"Invitations must go out by {fd(invites_by)}: at least 2 weeks' notice of {m_words} "
            "(SEND Regs 2014 reg 20(3))."
        )
    papers_by = cal.school_day_on_or_before(meeting_date - _days(PAPERS_DAYS))
    if explain is not None:
        explain["papers_by"] = (
            f"Advice must be circulated by {fd(papers_by)}: at least 2 weeks before {m_words} (SEND Regs 2014 reg 20(4))."
        )
    # Counted from invites_by after it has moved to a school day, so a closure or bank holiday that moves the papers
    # earlier still leaves a full week to compile the advice (docs/rules.md s6).
    contributions_due = cal.school_day_on_or_before(invites_by - _days(CONTRIBUTIONS_BEFORE_INVITES_DAYS))
    if explain is not None:
        explain["contributions_due"] = (
            f"Contributions are due {fd(contributions_due)}, a week before the invitations and papers go out on "
            f"{fd(invites_by)}, leaving a week to compile them (SEND Regs 2014 reg 20(4))."
        )

    # Section 8. The LA clock after the last meeting H.
    after_meeting = None
    if facts.last_review is not None:
        after_meeting = _after_meeting(facts, facts.last_review, today, explain)

    # Section 10. CoP 9.178: advisory only, never a red status.
    interim_review_by = None
    if age_on(facts.dob, meeting_anchor) < UNDER_FIVES_AGE:
        interim_review_by = add_months_clamped(meeting_anchor, UNDER_FIVES_INTERIM_MONTHS)
        if explain is not None:
            explain["interim_review_by"] = (
                f"Under 5 on {fd(meeting_anchor)}: an interim review is advised by {fd(interim_review_by)}, 6 months "
                "later (CoP 9.178; advisory)."
            )

    # Reg 20(6)-(7), CoP 8.12: from the end of compulsory school age the young person's own rights apply.
    compulsory_end = end_of_compulsory_school(facts.dob)
    if explain is not None:
        explain["end_of_compulsory_school"] = (
            f"Compulsory school age ends on {fd(compulsory_end)}, the last Friday in June of the school year in which "
            "the pupil turns 16 (Education Act 1996 s8)."
        )

    # Section 9, evaluated in order (INVALID is decided by the caller before this function is called).
    if facts.inactive:
        status = Status.INACTIVE
        if explain is not None:
            explain["status"] = "The register marks the pupil as left, ceased or transferred out."
    elif today > meeting_latest:
        status = Status.OVERDUE
        if explain is not None:
            explain["status"] = f"Today {fd(today)} is after the latest meeting date {fd(meeting_latest)}."
    elif today >= meeting_latest - _days(DUE_SOON_DAYS):
        status = Status.DUE_SOON
        if explain is not None:
            explain["status"] = f"The latest meeting date {fd(meeting_latest)} is within 4 weeks of today {fd(today)}."
    elif today >= requests_from:
        status = Status.PREPARE
        if explain is not None:
            explain["status"] = f"Requests for advice could go out from {fd(requests_from)}: preparation has begun."
    else:
        status = Status.ON_TRACK
        if explain is not None:
            explain["status"] = f"Nothing is due before requests for advice from {fd(requests_from)}."

    return ReviewClock(
        status=status,
        meeting_anchor=meeting_anchor,
        anchor_source=anchor_source,
        decision_anchor=decision_anchor,
        window_end=window,
        meeting_latest=meeting_latest,
        meeting_target=meeting_target,
        meeting_date=meeting_date,
        meeting_is_planned=meeting_is_planned,
        planned_after_deadline=planned_after_deadline,
        requests_from=requests_from,
        contributions_due=contributions_due,
        invites_by=invites_by,
        papers_by=papers_by,
        nc_year_at_review=nc_year_at_review,
        pfa_required=pfa_required,
        phase_transfer=phase,
        after_meeting=after_meeting,
        interim_review_by=interim_review_by,
        end_of_compulsory_school=compulsory_end,
        explain=explain if explain is not None else Explanation(partial(explain_review, facts, today, settings, cal)),
    )


def _this_cycle(recorded: date | None, held: date) -> date | None:
    """A recorded after-meeting date, or None when it is earlier than the last meeting: such a date belongs to the
    previous cycle and does not count for this one (docs/rules.md s8)."""
    return recorded if recorded is not None and recorded >= held else None


def _after_meeting(facts: ReviewFacts, held: date, today: date, explain: dict[str, str] | None) -> AfterMeeting:
    """Reg 20(7)-(10), reg 22(3), Devon: the report, the LA decision and any amended plan after the last meeting."""
    fd = format_date
    report_sent = _this_cycle(facts.report_sent, held)
    la_decision = _this_cycle(facts.la_decision, held)
    amendment_notice = _this_cycle(facts.amendment_notice, held)
    final_plan = _this_cycle(facts.final_plan, held)
    # An outcome whose decision date is earlier than the meeting is the previous cycle's outcome (docs/rules.md s8).
    decision = None if facts.la_decision is not None and la_decision is None else facts.decision

    report_due = held + _days(REPORT_DAYS)
    if explain is not None:
        explain["report_due"] = (
            f"The school's report is due {fd(report_due)}, 2 weeks after the review on {fd(held)} "
            "(SEND Regs 2014 reg 20(7)-(8))."
        )
    decision_due = held + _days(DECISION_DAYS)
    if explain is not None:
        explain["decision_due"] = (
            f"The LA's decision is due {fd(decision_due)}, 4 weeks after the review on {fd(held)} "
            "(SEND Regs 2014 reg 20(10))."
        )
    final_plan_due = None
    if decision is Decision.AMEND:
        by_meeting = held + _days(FINAL_AFTER_MEETING_DAYS)
        if amendment_notice is not None:
            by_notice = amendment_notice + _days(FINAL_AFTER_NOTICE_DAYS)
            final_plan_due = min(by_notice, by_meeting)
            if explain is not None:
                explain["final_plan_due"] = (
                    f"The amended plan is due {fd(final_plan_due)}: the earlier of 8 weeks after the amendment notice on "
                    f"{fd(amendment_notice)} and 12 weeks after the review on {fd(held)} "
                    "(SEND Regs 2014 reg 22(3); Devon [2022] EWHC 493 (Admin))."
                )
        else:
            final_plan_due = by_meeting
            if explain is not None:
                explain["final_plan_due"] = (
                    f"The amended plan is due {fd(final_plan_due)}, 12 weeks after the review on {fd(held)}: 4 weeks for "
                    "the decision then 8 weeks (SEND Regs 2014 regs 20(10), 22(3); Devon [2022] EWHC 493 (Admin))."
                )

    # A step is late once its date has passed with nothing recorded for it in this cycle; it stays late until
    # recorded. A step the register has no column for cannot be recorded, so it is never called late: it is listed
    # apart, for the SENDCo to add the column (docs/register.md s5).
    passed: list[str] = []
    if report_due < today and report_sent is None:
        passed.append("report_due")
    if decision_due < today and la_decision is None:
        passed.append("decision_due")
    if final_plan_due is not None and final_plan_due < today and final_plan is None:
        passed.append("final_plan_due")
    late = tuple(step for step in passed if step not in facts.no_column_for)
    without_column = tuple(step for step in passed if step in facts.no_column_for)
    if late and explain is not None:
        explain["late"] = "Passed with nothing recorded: " + ", ".join(name.replace("_", " ") for name in late) + "."
    if without_column and explain is not None:
        explain["due_without_column"] = (
            "Passed, with no column in the register to record it: "
            + ", ".join(name.replace("_", " ") for name in without_column)
            + "."
        )
    return AfterMeeting(
        meeting_held=held,
        report_due=report_due,
        decision_due=decision_due,
        final_plan_due=final_plan_due,
        late=late,
        due_without_column=without_column,
    )
