"""The papers pack: built for one pupil, and (with --send) a signed download link to each invitee (docs/rules.md s6:
papers go out at least two weeks before the meeting, reg 20(4)).

The pack holds the pupil's full name and every contributor's advice, so it is never attached to an email (an address
in the Contributions tab is the SENDCo's typing, not a verified one): each invitee gets a link that works until the
end of the meeting day, signed for that pack and that address. The link names the pack by an HMAC digest, never by
the pupil; the served copy sits beside the register under that digest. Each invitee's row gets "Papers sent" (the
date) in the Contributions tab in one write, so the register shows the two-week circulation happened. The sent-ledger
stops a second email for the same pack and meeting.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path

from itsdangerous import BadData

from connectors.base import CellWrite, Register, WritePlan
from connectors.mail_base import MailError, MailTransport
from sheet_schema.contributions import (
    CONTRIBUTIONS_SHEET,
    Contribution,
    find_contributions_header,
    key_of_row,
)
from sheet_schema.fields import normalise_header

from .download_signing import DownloadSigner
from .mailer import Ledger

log = logging.getLogger("review_keeper.papers")
PAPERS_SENT = "Papers sent"
PAPERS_FOLDER = "papers"
_SALT = "review-keeper.papers-link.v1"


class PapersLinkError(Exception):
    """A download link that cannot be used; `expired` when it was genuine but the meeting is over."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class PapersClaim:
    school: str
    pack: str
    email_digest: str
    expires: date


class PapersSigner(DownloadSigner):
    salt = _SALT

    def pack_id(self, pupil_key: str, meeting: date) -> str:
        return self._digest(f"pack:{pupil_key}:{meeting.isoformat()}")

    def link(self, pack: str, email: str, meeting: date) -> str:
        payload = {
            "v": 1,
            "s": self.school,
            "k": pack,
            "e": self._email_digest(email),
            "x": meeting.isoformat(),  # the last day it works: the meeting day itself
        }
        return f"{self.base_url}/papers?t={self._serializer.dumps(payload)}"

    def verify(self, token: str, *, today: date) -> PapersClaim:
        try:
            payload = self._serializer.loads(token.strip())
            claim = PapersClaim(
                str(payload["s"]), str(payload["k"]), str(payload["e"]), date.fromisoformat(payload["x"])
            )
        except (BadData, KeyError, TypeError, ValueError):
            raise PapersLinkError("This link does not work; use the link in your email.") from None
        if not all(c in "0123456789abcdef" for c in claim.pack) or len(claim.pack) != 32:
            raise PapersLinkError("This link does not work; use the link in your email.")
        if today > claim.expires:
            raise PapersLinkError("This link has expired: the meeting it was for is over.", expired=True)
        return claim


def served_copy(register_folder: Path, pack: str) -> Path:
    """Where the served copy of a pack lives: beside the register, named by its digest only."""
    return register_folder / PAPERS_FOLDER / f"{pack}.pdf"


def publish(pack_pdf: Path, register_folder: Path, pack: str) -> Path:
    target = served_copy(register_folder, pack)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(".tmp")
    shutil.copyfile(pack_pdf, temp)
    temp.replace(target)
    return target


def papers_sent_plan(keys: Sequence[tuple[str, str, str]], today: date) -> WritePlan:
    """ "Papers sent" (today) on each invitee's Contributions row, found by its key at write time."""
    state: dict[str, dict[str, int]] = {"columns": {}}

    def find_header_row(rows: list[list[object]]) -> int | None:
        found = find_contributions_header(rows)
        if found is None:
            return None
        state["columns"] = found[1]
        return found[0]

    return WritePlan(
        sheet=CONTRIBUTIONS_SHEET,
        headers=(PAPERS_SENT,),
        find_header_row=find_header_row,  # type: ignore[arg-type]
        key_of=lambda values: key_of_row(values, state["columns"]),
        rows={key: {PAPERS_SENT: CellWrite(today, "dd/mm/yyyy")} for key in keys},
        header_fill=None,
        header_key=normalise_header,
        first_match_only=True,
        owned_headers=frozenset({PAPERS_SENT}),
    )


@dataclass(frozen=True)
class PapersEmail:
    contribution: Contribution
    reason_key: str
    message: EmailMessage


def papers_emails(
    invitees: Sequence[Contribution],
    *,
    signer: PapersSigner,
    pack: str,
    pupil_short_name: str,
    meeting: date,
    sender: str,
    sendco_name: str,
    reply_to: str | None,
    school_name: str,
) -> list[PapersEmail]:
    """One email a invitee with an address: the link, the meeting, who to reply to. Never the pack itself."""
    out = []
    name, address = parseaddr(sender)
    for contribution in invitees:
        if not contribution.email:
            continue
        link = signer.link(pack, contribution.email, meeting)
        message = EmailMessage()
        message["From"] = formataddr((name, address)) if name else address
        message["To"] = contribution.email
        message["Subject"] = f"Papers for {pupil_short_name}'s annual review on {meeting:%a %-d %b %Y}"
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or None)
        message["X-Review-Keeper-Kind"] = "papers"
        if reply_to:
            message["Reply-To"] = reply_to
        greeting = f"Dear {contribution.name}," if contribution.name else "Hello,"
        message.set_content(
            f"{greeting}\n\nThe papers for {pupil_short_name}'s annual review meeting on {meeting:%A %-d %B %Y} are "
            f"ready. Download them here (the link works until the end of the meeting day):\n\n{link}\n\n"
            "Please keep them private and delete your copy after the review.\n\n"
            f"{sendco_name}\n{school_name}\n"
        )
        digest = hashlib.sha256(f"{contribution.key}".encode()).hexdigest()[:16]
        out.append(PapersEmail(contribution, f"papers:{pack}:{digest}:{meeting.isoformat()}", message))
    return out


def send_papers(
    emails: Sequence[PapersEmail], transport: MailTransport, ledger: Ledger, today: date
) -> tuple[list[PapersEmail], list[str]]:
    """Send each at most once (the ledger's reason keys); returns what went and one sentence per failure."""
    went: list[PapersEmail] = []
    failures: list[str] = []
    for email in emails:
        if email.reason_key in ledger.sent_log():
            went.append(email)
            continue
        ledger.begin(email.reason_key, today)
        try:
            transport.send(email.message)
        except MailError as err:
            if err.in_doubt:
                ledger.unconfirmed(email.reason_key, today, str(err))
                went.append(email)
            else:
                ledger.failed(email.reason_key, today, str(err))
                failures.append(f"{email.contribution.role}: the email could not be sent ({err}).")
            continue
        ledger.done(email.reason_key, today)
        went.append(email)
    log.info("papers emails", extra={"sent": len(went), "failed": len(failures)})
    return went, failures


def record_papers_sent(register: Register, went: Sequence[PapersEmail], today: date) -> None:
    if went:
        register.write(papers_sent_plan([e.contribution.key for e in went], today))


def download(
    token: str | None, *, signer: PapersSigner, folder_for: Mapping[str, Path], today: date
) -> tuple[bytes, int, dict[str, str]]:
    """GET /papers?t=...: the pack as an attachment for a genuine, unexpired link; otherwise a page saying what to do.
    Only a pack the product published can be served: the link names it by its digest, and the folder is the school's
    own (never a path from the request)."""
    from .confirm import SECURITY_HEADERS, ConfirmPage

    try:
        claim = signer.verify(token or "", today=today)
        folder = folder_for.get(claim.school)
        if folder is None and claim.school == "" and len(folder_for) == 1:
            folder = next(iter(folder_for.values()))  # a one-school install's links may carry no school id
        if folder is None:
            raise PapersLinkError("This link is not for this service.")
        path = served_copy(folder, claim.pack)
        body = path.read_bytes()
    except PapersLinkError as err:
        page = ConfirmPage("expired" if err.expired else "broken", 410 if err.expired else 400)
        return page.html().encode("utf-8"), page.status, dict(SECURITY_HEADERS)
    except OSError:
        page = ConfirmPage("not_found", 404)
        return page.html().encode("utf-8"), page.status, dict(SECURITY_HEADERS)
    log.info("papers downloaded", extra={"outcome": "downloaded"})
    headers = {
        **SECURITY_HEADERS,
        "Content-Type": "application/pdf",
        "Content-Disposition": 'attachment; filename="review-papers.pdf"',
    }
    return body, 200, headers


__all__ = [
    "PAPERS_SENT",
    "PapersClaim",
    "PapersEmail",
    "PapersLinkError",
    "PapersSigner",
    "download",
    "papers_emails",
    "papers_sent_plan",
    "publish",
    "record_papers_sent",
    "send_papers",
    "served_copy",
]
