"""The review record the LA downloads (issue 14 item 3): `main.py submit --send` keeps a copy of what it sends, and
GET /record?t=TOKEN serves that copy to a genuine, unexpired link only (docs/la-clock.md, "The record's link").

What is kept: the Word review record as `records` compiles it at submit time and, when `papers --send` published a
papers pack for the same meeting, a copy of that PDF. Both sit in the folder the papers download already uses
(functions/papers.py `served_copy`), under `records/`, each named by an HMAC digest of the pupil and the meeting: the
file names, the links and the logs never carry a name, a UPN or a date of birth.

The link works until the LA's last statutory date for this review, the final amended plan's at the latest
(meeting + 12 weeks, reg 22(3); Devon [2022] EWHC 493 (Admin)), and for at least 4 weeks after the email (the time
reg 20(10) gives the LA for its decision), so a record sent late still reaches the LA. After that the same link, kept
or replayed, gets a page saying so and nothing else: the school sends the record again if the LA still needs it.
"""

from __future__ import annotations

import html
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from itsdangerous import BadData

from review_rules.periods import DECISION_DAYS, FINAL_AFTER_MEETING_DAYS
from sheet_schema.model import ReviewedPupil

from .download_signing import DownloadSigner
from .la_keys import pupil_key
from .page_style import CSS, SECURITY_HEADERS
from .papers import PAPERS_FOLDER

log = logging.getLogger("review_keeper.la_record")
RECORDS_FOLDER = "records"
_SALT = "review-keeper.la-record-link.v1"  # its own salt: a papers or contributor link never opens a record
# What each kept part is: file suffix, media type, the name the LA's browser saves it as (never the pupil's).
PARTS: dict[str, tuple[str, str, str]] = {
    "record": (
        ".docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "review-record.docx",
    ),
    "papers": (".pdf", "application/pdf", "review-papers.pdf"),
}


def record_expiry(meeting: date, sent: date) -> date:
    """The last day the LA's link works: the final amended plan's latest date (H + 84 days, reg 22(3)), or 28 days
    after the email (reg 20(10)'s four weeks) when that is later."""
    return max(meeting + timedelta(days=FINAL_AFTER_MEETING_DAYS), sent + timedelta(days=DECISION_DAYS))


class RecordLinkError(Exception):
    """A record link that cannot be used; `kind` is the page to show (broken, expired)."""

    def __init__(self, kind: str, expired_on: date | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.expired_on = expired_on


@dataclass(frozen=True)
class RecordClaim:
    school: str
    record: str  # the kept copy's digest
    part: str  # "record" or "papers"
    expires: date


class RecordSigner(DownloadSigner):
    """Signs and verifies the LA's record links with the link secret (KEEPER_LINK_SECRET), under its own salt."""

    salt = _SALT

    def record_id(self, pupil_key: str, meeting: date) -> str:
        return self._digest(f"la-record:{pupil_key}:{meeting.isoformat()}")

    def link(self, record: str, part: str, email: str, expires: date) -> str:
        payload = {
            "v": 1,
            "s": self.school,
            "k": record,
            "p": part,
            "e": self._email_digest(email),
            "x": expires.isoformat(),
        }
        return f"{self.base_url}/record?t={self._serializer.dumps(payload)}"

    def verify(self, token: str, *, today: date) -> RecordClaim:
        try:
            payload = self._serializer.loads(token.strip())
            claim = RecordClaim(
                str(payload["s"]), str(payload["k"]), str(payload["p"]), date.fromisoformat(payload["x"])
            )
        except (BadData, KeyError, TypeError, ValueError, AttributeError):
            raise RecordLinkError("broken") from None
        if claim.part not in PARTS or len(claim.record) != 32 or not all(c in "0123456789abcdef" for c in claim.record):
            raise RecordLinkError("broken")
        if today > claim.expires:
            raise RecordLinkError("expired", claim.expires)
        return claim


def kept_copy(folder: Path, record: str, part: str) -> Path:
    """Where a kept part lives: the papers folder's `records/`, named by its digest only."""
    return folder / PAPERS_FOLDER / RECORDS_FOLDER / f"{record}{PARTS[part][0]}"


def keep(source: Path, folder: Path, record: str, part: str, expires: date | None = None) -> Path:
    """Copy `source` into place whole (a temporary file, then a rename), so a download never sees half a file. Its
    modification time is set to the link's last day, so `purge_expired` knows when no link can open it any more."""
    target = kept_copy(folder, record, part)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(".tmp")
    shutil.copyfile(source, temp)
    if expires is not None:
        stamp = datetime.combine(expires, time()).timestamp()
        os.utime(temp, (stamp, stamp))
    temp.replace(target)
    return target


def purge_expired(folder: Path, today: date) -> int:
    """Delete the kept copies whose link has expired (their modification time is the link's last day): the record
    carries the pupil's full name, and nothing can serve it any more. A copy that cannot be removed stays for the next
    run. Returns how many went."""
    cutoff = datetime.combine(today, time()).timestamp()
    removed = 0
    for path in (folder / PAPERS_FOLDER / RECORDS_FOLDER).glob("*"):
        try:
            if path.is_file() and path.suffix in {s for s, _, _ in PARTS.values()} and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    if removed:
        log.info("expired LA records removed", extra={"removed": removed})
    return removed


_PAGES = {
    # kind: (status, title, what happened, what to do)
    "broken": (
        400,
        "This link does not work",
        "It may have been cut short or changed on its way to you, so no record is shown.",
        "Open it again from the school's email (or copy all of it). If it still does not work, reply to that email "
        "and the school will send the record another way.",
    ),
    "expired": (
        410,
        "This link has expired",
        "The review record was available from this link until {until}; it is no longer shown here.",
        "If your team still needs it, reply to the school's email and the school will send it again.",
    ),
    "not_found": (
        404,
        "This record is no longer here",
        "The school may have removed it from this service.",
        "Reply to the school's email to ask for a copy.",
    ),
    "unavailable": (
        503,
        "Sorry, this is not working right now",
        "The service is not set up to show review records.",
        "Please try again later, or reply to the school's email to ask for a copy.",
    ),
}


@dataclass(frozen=True)
class RecordKeeping:
    """What `submit --send` needs to keep the record and sign its links; built by functions/la_cli.py."""

    signer: RecordSigner
    folder: Path  # the register's papers folder (functions/papers.py): the kept copies go under it
    write_record: Callable[[int, Path], Path]  # (sheet row, a work folder) -> the .docx `records` compiles
    pack_for: Callable[[ReviewedPupil, date], Path | None]  # the papers pack published for that meeting, if any


@dataclass(frozen=True)
class RecordLinks:
    record_id: str
    record: str  # the link to the review record
    papers: str | None  # the link to the papers pack, when there is one
    pack: Path | None
    expires: date
    sent: date  # the day of the email


def record_links(keeping: RecordKeeping, pupil: ReviewedPupil, meeting: date, email: str, today: date) -> RecordLinks:
    """The links the LA's email carries (nothing is written yet: a dry run shows the same email)."""
    record_id = keeping.signer.record_id(pupil_key(pupil), meeting)
    expires = record_expiry(meeting, today)
    pack = keeping.pack_for(pupil, meeting)
    papers = keeping.signer.link(record_id, "papers", email, expires) if pack is not None else None
    return RecordLinks(
        record_id, keeping.signer.link(record_id, "record", email, expires), papers, pack, expires, today
    )


def keep_record(keeping: RecordKeeping, links: RecordLinks, row: int) -> None:
    """Before the email goes: the record compiled now, and the papers pack as it was circulated, kept for the links
    (and the copies whose links have expired removed). OSError when the folder cannot be written (the caller says so,
    and sends nothing)."""
    purge_expired(keeping.folder, links.sent)
    with tempfile.TemporaryDirectory(prefix="keeper-la-record-") as work:
        keep(keeping.write_record(row, Path(work)), keeping.folder, links.record_id, "record", links.expires)
    if links.pack is not None:
        keep(links.pack, keeping.folder, links.record_id, "papers", links.expires)


def record_page(kind: str, expired_on: date | None = None) -> tuple[bytes, int, dict[str, str]]:
    """The page for a link that shows no record: what happened and what to do, addressed to the LA's team."""
    status, title, happened, todo = _PAGES[kind]
    until = f"{expired_on:%-d %B %Y}" if expired_on else "the date in the email"
    body = (
        '<!doctype html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        f'<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main id="main">\n'
        f'<div class="panel problem">\n<h1>{html.escape(title)}</h1>\n'
        f"<p>{html.escape(happened.format(until=until))}</p>\n</div>\n<p>{html.escape(todo)}</p>\n"
        "</main>\n</body>\n</html>\n"
    )
    return body.encode("utf-8"), status, dict(SECURITY_HEADERS)


def record_download(
    token: str | None, *, signer: RecordSigner, folder_for: Mapping[str, Path], today: date
) -> tuple[bytes, int, dict[str, str]]:
    """GET /record?t=...: the kept part for a genuine, unexpired link; otherwise a page and nothing else. Only a copy
    `submit` kept can be served: the link names it by its digest and the folder is the school's own, never a path
    from the request. The log says what happened, never the token or whose record it was."""
    try:
        claim = signer.verify(token or "", today=today)
    except RecordLinkError as err:
        log.info("LA record link refused", extra={"outcome": err.kind})
        return record_page(err.kind, err.expired_on)
    folder = folder_for.get(claim.school)
    if folder is None and claim.school == "" and len(folder_for) == 1:
        folder = next(iter(folder_for.values()))  # a one-school install's links may carry no school id
    if folder is None:
        log.info("LA record link refused", extra={"outcome": "wrong_school"})
        return record_page("broken")
    try:
        body = kept_copy(folder, claim.record, claim.part).read_bytes()
    except OSError:
        log.info("LA record link refused", extra={"outcome": "not_found"})
        return record_page("not_found")
    log.info("LA record downloaded", extra={"outcome": "downloaded", "part": claim.part})
    _, media_type, file_name = PARTS[claim.part]
    headers = {
        **SECURITY_HEADERS,
        "Content-Type": media_type,
        "Content-Disposition": f'attachment; filename="{file_name}"',
    }
    return body, 200, headers


__all__ = [
    "PARTS",
    "RecordClaim",
    "RecordKeeping",
    "RecordLinkError",
    "RecordLinks",
    "RecordSigner",
    "keep",
    "keep_record",
    "kept_copy",
    "purge_expired",
    "record_download",
    "record_expiry",
    "record_links",
    "record_page",
]
