"""Signed links for contributors: each request and chaser carries one, bound to that contribution row and review cycle.

The token is an itsdangerous signed payload, not an encrypted one, so nothing personal goes in it in clear: the pupil
reference and the contributor's email are HMAC-SHA256 digests keyed with the link secret (an unkeyed hash of an email
address can be reversed by guessing). The row is identified by pupil + role + email, never by row number, so a row the
SENDCo moved still matches. The expiry is a field in the payload (two weeks after the meeting), checked on verify;
a URLSafeTimedSerializer would add a signing timestamp, making links differ between the request and its chasers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from itsdangerous import BadPayload, BadSignature, URLSafeSerializer

from sheet_schema.contributions import Contribution, contribution_key

SECRET_ENV = "KEEPER_LINK_SECRET"
BASE_URL_ENV = "KEEPER_BASE_URL"
LINK_VALID_AFTER_MEETING = timedelta(days=14)
# An overdue review is still chased after its (past) hold-by date: its links must work for a while from the email.
LINK_VALID_AFTER_SENDING = timedelta(days=28)
_SALT = "review-keeper.contribution-link.v1"
_VERSION = 1
_DIGEST_CHARS = 32  # 128 bits of HMAC-SHA256: collision-free for any register, short enough for a link


class LinkError(Exception):
    """A link that cannot be used. `str(err)` is a sentence a contributor can read."""


class LinkConfigError(LinkError):
    """The link secret or base URL is missing."""


class LinkMalformed(LinkError):
    """Not a link this product made (truncated, or mangled by an email client)."""


class LinkTampered(LinkError):
    """The signature does not match the contents: edited, or signed with another secret."""


class LinkExpired(LinkError):
    """The link was valid but its review cycle is over (two weeks after the meeting)."""


class LinkWrongSchool(LinkError):
    """A genuine link for another school's register."""


@dataclass(frozen=True)
class LinkClaim:
    """What a verified link says. Only digests identify the pupil and the contributor."""

    school: str
    pupil_digest: str
    role: str
    email_digest: str
    meeting: date  # the review cycle: the meeting date the link was made for
    expires: date  # the last day the link works


def _expiry(meeting: date, issued: date | None) -> date:
    after_meeting = meeting + LINK_VALID_AFTER_MEETING
    return after_meeting if issued is None else max(after_meeting, issued + LINK_VALID_AFTER_SENDING)


class LinkSigner:
    """Makes and verifies links with one secret. `school` binds links to one register."""

    def __init__(self, secret: str, base_url: str = "", school: str = "") -> None:
        if not secret:
            raise LinkConfigError(f"No link secret: set {SECRET_ENV} to a long random string.")
        self._secret = secret.encode("utf-8")
        self._serializer = URLSafeSerializer(secret, salt=_SALT)
        self.base_url = base_url.rstrip("/")
        self.school = school

    @classmethod
    def from_env(cls, env: Mapping[str, str], school: str = "") -> LinkSigner:
        """From a mapping of KEEPER_LINK_SECRET and KEEPER_BASE_URL. The product's own signer is built by
        functions/bootstrap.py; the process environment is never read here."""
        return cls(env.get(SECRET_ENV, ""), env.get(BASE_URL_ENV, ""), school)

    def digest(self, text: str) -> str:
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()[:_DIGEST_CHARS]

    def token(self, *, pupil_ref: str, role: str, email: str, meeting: date, issued: date | None = None) -> str:
        """Expires two weeks after the meeting, or four weeks after the email for a review already past its date."""
        pupil_key, role_key, email_key = contribution_key(pupil_ref, role, email)
        payload = {
            "v": _VERSION,
            "s": self.school,
            "p": self.digest("pupil:" + pupil_key),
            "r": role_key,
            "e": self.digest("email:" + email_key),
            "m": meeting.isoformat(),
            "x": _expiry(meeting, issued).isoformat(),
        }
        return str(self._serializer.dumps(payload))

    def make_link(self, *, pupil_ref: str, role: str, email: str, meeting: date, issued: date | None = None) -> str:
        if not self.base_url:
            raise LinkConfigError(f"No base URL for links: set {BASE_URL_ENV}, e.g. https://keeper.example.org.")
        token = self.token(pupil_ref=pupil_ref, role=role, email=email, meeting=meeting, issued=issued)
        return f"{self.base_url}/confirm?t={token}"

    def link_for(self, contribution: Contribution, meeting: date, issued: date | None = None) -> str:
        return self.make_link(
            pupil_ref=contribution.pupil_ref,
            role=contribution.role,
            email=contribution.email or "",
            meeting=meeting,
            issued=issued,
        )

    def verify(self, token_or_link: str, *, now: date | datetime) -> LinkClaim:
        token = _token_from(token_or_link)
        try:
            payload = self._serializer.loads(token)
        except BadPayload:
            raise LinkMalformed("This link is incomplete; open it again from your email, or copy all of it.") from None
        except BadSignature:
            if "." not in token:
                raise LinkMalformed(
                    "This link is incomplete; open it again from your email, or copy all of it."
                ) from None
            raise LinkTampered("This link has been changed or is not genuine; use the link in your email.") from None
        if not isinstance(payload, dict) or payload.get("v") != _VERSION:
            raise LinkMalformed("This link is not one this service made; use the link in your email.")
        try:
            claim = LinkClaim(
                school=str(payload["s"]),
                pupil_digest=str(payload["p"]),
                role=str(payload["r"]),
                email_digest=str(payload["e"]),
                meeting=date.fromisoformat(payload["m"]),
                expires=date.fromisoformat(payload["x"]),
            )
        except (KeyError, TypeError, ValueError):
            raise LinkMalformed("This link is not one this service made; use the link in your email.") from None
        if self.school and claim.school != self.school:
            raise LinkWrongSchool("This link belongs to another school's register.")
        today = now.date() if isinstance(now, datetime) else now
        if today > claim.expires:
            raise LinkExpired(
                "This link has expired: the review it was for is over. Please contact the school's SENDCo."
            )
        return claim

    def matches(self, claim: LinkClaim, contribution: Contribution) -> bool:
        """True when the claim was made for this row (same pupil, role and email), wherever the row now sits."""
        pupil_key, role_key, email_key = contribution.key
        # The claim's role as the row's key would spell it today: a link signed before a spelling became a known role
        # ("TA" before "Teaching assistant", docs/register.md s6) still finds its row.
        claim_role = contribution_key("", claim.role, "")[1]
        return (
            hmac.compare_digest(claim.pupil_digest, self.digest("pupil:" + pupil_key))
            and claim_role == role_key
            and hmac.compare_digest(claim.email_digest, self.digest("email:" + email_key))
        )

    def find_row(self, claim: LinkClaim, contributions: Iterable[Contribution]) -> Contribution | None:
        return next((c for c in contributions if self.matches(claim, c)), None)


def _token_from(token_or_link: str) -> str:
    text = token_or_link.strip()
    if "://" in text or text.startswith("/"):
        query = parse_qs(urlsplit(text).query)
        values = query.get("t")
        if not values:
            raise LinkMalformed("This link is incomplete; open it again from your email, or copy all of it.")
        return values[0]
    return text


def make_link(*, pupil_ref: str, role: str, email: str, meeting: date, school: str = "", env: Mapping[str, str]) -> str:
    """A contributor's link, with the secret and base URL from KEEPER_LINK_SECRET and KEEPER_BASE_URL."""
    return LinkSigner.from_env(env, school).make_link(pupil_ref=pupil_ref, role=role, email=email, meeting=meeting)


def verify_link(token: str, *, now: date | datetime, school: str = "", env: Mapping[str, str]) -> LinkClaim:
    """Check a link or its token with the secret from KEEPER_LINK_SECRET. Raises LinkExpired, LinkTampered,
    LinkMalformed, LinkWrongSchool (all LinkError)."""
    return LinkSigner.from_env(env, school).verify(token, now=now)


__all__ = [
    "LinkClaim",
    "LinkConfigError",
    "LinkError",
    "LinkExpired",
    "LinkMalformed",
    "LinkSigner",
    "LinkTampered",
    "LinkWrongSchool",
    "make_link",
    "verify_link",
]
