"""What the papers links and the LA's record links share (functions/papers.py, functions/la_record.py): signing with
the link secret under each kind's own salt, so one kind of link never opens another, and keyed digests that name a
kept file or an addressee without saying who they are (docs/register.md s8)."""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import URLSafeSerializer


class DownloadSigner:
    """The link secret (KEEPER_LINK_SECRET) under `salt`; `base_url` is where the links point, `school` the trust's id
    for this school (empty for one school)."""

    salt = ""

    def __init__(self, secret: str, base_url: str = "", school: str = "") -> None:
        self._secret = secret.encode("utf-8")
        self._serializer = URLSafeSerializer(secret, salt=self.salt)
        self.base_url = base_url.rstrip("/")
        self.school = school

    def _digest(self, text: str) -> str:
        return hmac.new(self._secret, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def _email_digest(self, email: str) -> str:
        return self._digest("email:" + email.strip().casefold())


__all__ = ["DownloadSigner"]
