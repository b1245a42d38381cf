"""[las."Name"] profiles (functions/la_profiles.py): checked on load, one sentence naming the key; matching by alias;
warnings for unknown LA names and profiles no pupil has; status emails off by default; the young person seeded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from functions import bootstrap
from functions.la_profiles import match, profile_warnings, profiles_from, status_emails_on
from functions.settings import SettingsError


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[las."Kent"]\nemail = "kent at council"', 'las."Kent".email is "kent at council", which is not an email'),
        ('[las."Kent"]\nemial = "a@b.example"', 'las."Kent".emial is not a setting'),
        ('[las."Kent"]\naliases = ["KCC"]\n[las."Kent CC"]\naliases = ["kcc"]', 'claims "kcc", which las."Kent"'),
        ('[las."Kent"]\nchase = "yes"', "chase must be true or false"),
        ('[las."Kent"]\nchase = true', "no email"),
        ('[las."Kent"]\nemail = "a@b.example"\nsubmit = "fax"', 'submit is "fax"'),
        ('[las."Kent"]\nrequests_weeks = 0', "requests_weeks must be a whole number of weeks"),
        ('status_emails = "on"', "status_emails must be true or false"),
    ],
)
def test_bad_profile_is_one_sentence_naming_the_key(tmp_path: Path, toml: str, says: str) -> None:
    config = tmp_path / "keeper.toml"
    config.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        bootstrap.load_settings(config, env={})
    assert says in str(err.value)
    assert str(err.value).count(". ") <= 1  # one sentence (a "; " may join its halves)


def test_good_profiles_and_matching() -> None:
    raw = {
        "las": {
            "Kent": {"email": "sen@kent.example", "aliases": ["Kent CC", "KCC"], "chase": True, "submit": "email",
                     "requests_weeks": 12, "form": "Kent AR form"},
            "Medway": {"email": "sen@medway.example", "submit": "portal", "portal_url": "https://p.example"},
        }
    }  # fmt: skip
    kent, medway = profiles_from(raw)
    assert kent.chase
    assert not medway.chase  # off when absent
    assert match("kent c.c.", [kent, medway]) is kent
    assert match("KCC", [kent, medway]) is kent
    assert match("Surrey", [kent, medway]) is None
    assert "requests 12 weeks before the meeting" in kent.describe()
    assert status_emails_on({}) is False
    warnings = profile_warnings(["Kent CC", "Surrey"], [kent, medway])
    assert any('"Surrey"' in w and "known: Kent, Medway" in w for w in warnings)
    assert any('las."Medway" matches no pupil' in w for w in warnings)


def test_young_person_seeded_only_past_compulsory_school_age() -> None:
    from functions.status_emails import seed_young_person_rows
    from review_rules.clock import compute_review
    from review_rules.model import ReviewFacts, RuleSettings
    from review_rules.school_days import calendar_for
    from sheet_schema.model import PupilRecord, ReviewedPupil

    def pupil(dob: date, today: date) -> ReviewedPupil:
        facts = ReviewFacts(dob=dob, plan_issued=date(2020, 1, 10), last_review=date(2025, 3, 1))
        clock = compute_review(facts, today, RuleSettings(), calendar_for(None))
        record = PupilRecord(2, "Gus Grey", "Gus", "G.", None, facts, young_person_email="gus@f.example")
        return ReviewedPupil(record, clock, clock.status)

    # Born 1 May 2009: turns 16 in Y11 (2024/25); compulsory school age ends Fri 27 Jun 2025 (docs/rules.md s7).
    assert seed_young_person_rows([pupil(date(2009, 5, 1), date(2025, 6, 26))], [], date(2025, 6, 26)) == []
    (row,) = seed_young_person_rows([pupil(date(2009, 5, 1), date(2025, 6, 27))], [], date(2025, 6, 27))
    assert (row.role, row.email) == ("Young person", "gus@f.example")


@pytest.mark.parametrize(
    ("lead", "stage", "expected"),
    [
        # M Mon 9 Feb 2026 (docs/rules.md s6's worked example): requests_from is Fri 19 Dec 2025 by default.
        (("requests_weeks", 12), "requests_from", date(2025, 11, 17)),  # M - 84 days, a Monday
        (("requests_weeks", 4), "requests_from", date(2025, 12, 19)),  # later than the default: the default stays
        (("papers_weeks", 3), "papers_by", date(2026, 1, 19)),  # M - 21; contributions_due then a week before it
    ],
)
def test_an_las_lead_times_only_make_stages_earlier(lead: tuple[str, int], stage: str, expected: date) -> None:
    from functions.la_lead_times import with_la_lead_times
    from functions.la_profiles import LAProfile
    from review_rules.clock import compute_review
    from review_rules.model import ReviewFacts, RuleSettings
    from review_rules.school_days import calendar_for
    from sheet_schema.model import PupilRecord, ReviewedPupil

    cal = calendar_for(None)
    facts = ReviewFacts(dob=date(2016, 3, 4), plan_issued=date(2020, 1, 10), last_review=date(2025, 2, 20),
                        planned_meeting=date(2026, 2, 9), recorded_year=4)  # fmt: skip
    clock = compute_review(facts, date(2025, 10, 1), RuleSettings(), cal)
    assert clock.requests_from == date(2025, 12, 19)
    pupil = ReviewedPupil(PupilRecord(2, "A B", "A", "B.", None, facts, la="Kent CC"), clock, clock.status)
    kent = LAProfile("Kent", aliases=("Kent CC",), lead_weeks=(lead,))
    (moved,) = with_la_lead_times([pupil], [kent], cal)
    assert moved.clock is not None
    assert getattr(moved.clock, stage) == expected
    assert moved.clock.contributions_due <= moved.clock.papers_by
    if lead == ("papers_weeks", 3):
        assert moved.clock.contributions_due == date(2026, 1, 12)
