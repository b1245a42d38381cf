"""Signed contributor links: verify, tamper, expire, swap between contributors, no personal data in clear."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta

import pytest

from functions.links import (
    LinkConfigError,
    LinkExpired,
    LinkMalformed,
    LinkSigner,
    LinkTampered,
    LinkWrongSchool,
    make_link,
    verify_link,
)
from tests.mail_fixtures import BASE_URL, SECRET, UPN, contribution

MEETING = date(2025, 11, 7)
signer = LinkSigner(SECRET, BASE_URL, school="hillside")
ep = contribution(3, "EP", "ep@la.example", name="Dr Patel")
teacher = contribution(2, "Class teacher", "teacher@school.example")


def test_link_verifies_and_binds_its_row() -> None:
    link = signer.link_for(ep, MEETING)
    assert link.startswith(BASE_URL + "/confirm?t=")
    claim = signer.verify(link, now=datetime(2025, 11, 21, 23, 59))  # last day: meeting + 14 days
    assert (claim.school, claim.role, claim.meeting, claim.expires) == ("hillside", "ep", MEETING, date(2025, 11, 21))
    assert signer.matches(claim, ep)
    assert not signer.matches(claim, teacher)
    moved = contribution(12, "ep", "EP@LA.example ", pupil_ref=UPN.lower())  # the SENDCo sorted and retyped
    assert signer.find_row(claim, [teacher, moved]) is moved


def test_no_personal_data_in_clear() -> None:
    token = signer.token(pupil_ref=UPN, role="EP", email="ep@la.example", meeting=MEETING)
    payload = token.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    for secret_bit in (UPN, UPN.lower(), "ep@la.example", "la.example", "Amira"):
        assert secret_bit not in token
        assert secret_bit not in decoded


def test_expired() -> None:
    with pytest.raises(LinkExpired):
        signer.verify(signer.link_for(ep, MEETING), now=date(2025, 11, 22))


def test_tampered_and_swapped() -> None:
    a = signer.token(pupil_ref=UPN, role="EP", email="ep@la.example", meeting=MEETING)
    b = signer.token(pupil_ref=UPN, role="Class teacher", email="teacher@school.example", meeting=MEETING)
    pa, sa = a.rsplit(".", 1)
    _pb, sb = b.rsplit(".", 1)
    with pytest.raises(LinkTampered):
        signer.verify(f"{pa}.{sb}", now=MEETING)  # A's payload with B's signature
    with pytest.raises(LinkTampered):
        signer.verify(pa[:-2] + ("A" if pa[-2] != "A" else "B") + pa[-1] + "." + sa, now=MEETING)
    with pytest.raises(LinkTampered):
        LinkSigner("another-secret", BASE_URL, "hillside").verify(a, now=MEETING)
    # B's genuine link does not open A's row.
    claim_b = signer.verify(b, now=MEETING)
    assert not signer.matches(claim_b, ep)


def test_malformed_wrong_school_and_config() -> None:
    with pytest.raises(LinkMalformed):
        signer.verify("not-a-token", now=MEETING)
    with pytest.raises(LinkMalformed):
        signer.verify(BASE_URL + "/confirm", now=MEETING)
    other = LinkSigner(SECRET, BASE_URL, school="riverside")
    with pytest.raises(LinkWrongSchool):
        other.verify(signer.link_for(ep, MEETING), now=MEETING)
    with pytest.raises(LinkConfigError):
        LinkSigner("")


def test_env_functions() -> None:
    env = {"KEEPER_LINK_SECRET": SECRET, "KEEPER_BASE_URL": BASE_URL + "/"}
    link = make_link(pupil_ref=UPN, role="EP", email="ep@la.example", meeting=MEETING, school="hillside", env=env)
    assert link.startswith(BASE_URL + "/confirm?t=")
    claim = verify_link(link, now=MEETING, school="hillside", env=env)
    assert signer.matches(claim, ep)
    with pytest.raises(LinkConfigError):
        verify_link(link, now=MEETING, env={})


def test_a_chaser_for_an_overdue_review_carries_a_link_that_works() -> None:
    # The hold-by date passed weeks ago and the review is still being chased: the link lasts 4 weeks from the email.
    overdue_meeting, sent = date(2025, 6, 2), date(2025, 10, 1)
    link = signer.link_for(ep, overdue_meeting, issued=sent)
    assert signer.verify(link, now=date(2025, 10, 29)).meeting == overdue_meeting
    with pytest.raises(LinkExpired):
        signer.verify(link, now=date(2025, 10, 30))
    # A review still to come keeps the two weeks after its meeting.
    assert signer.verify(signer.link_for(ep, MEETING, issued=sent), now=MEETING + timedelta(days=14))
