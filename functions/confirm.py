"""The contributor's confirmation page: a signed link from a request or chaser -> "I've sent it" -> Received on that
contribution's row of the Contributions tab.

GET only shows; only POST records. Mail scanners (Microsoft Safe Links, Mimecast, Proofpoint) open every link in every
email before the person does, so a GET that recorded anything would mark every request received the moment it was sent.
The signed token is the credential (it names one row and cannot be made without the secret), so the form needs no
CSRF token: a forged POST without a genuine token records nothing, and one with a genuine token can only do what its
holder could do anyway. The token travels in the POST body, never in a URL the browser would replay.

The row is found by the link's contribution key (pupil, role and email; functions/links.py), never by row number, and
at write time: the adapter calls `key_of` on the sheet as it is then, so a row the SENDCo moved is still found, and a
Received date the SENDCo typed meanwhile is never overwritten (docs/register.md s6: "a date the SENDCo typed always
wins"). A second POST finds Received filled and writes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from connectors.base import CellValue, CellWrite, Register, RegisterError, WritePlan
from review_rules.dates import format_date
from sheet_schema.ar_columns import DATE_FORMAT
from sheet_schema.cells import cell_text, is_blank
from sheet_schema.contributions import (
    CONTRIBUTIONS_SHEET,
    NOTES,
    RECEIVED,
    Contribution,
    find_contributions_header,
    find_contributions_tab,
    key_of_row,
    match_pupil,
    parse_contributions,
)
from sheet_schema.fields import normalise_header
from sheet_schema.pupil_index import looks_like_upn

from .evaluate import Evaluation, evaluate
from .links import (
    LinkClaim,
    LinkConfigError,
    LinkError,
    LinkExpired,
    LinkMalformed,
    LinkSigner,
    LinkTampered,
    LinkWrongSchool,
)
from .settings import DEFAULT_SENDCO_NAME, School, SettingsError
from .sweep import outstanding_plan

log = logging.getLogger("review_keeper.confirm")

PAGES = Path(__file__).parent / "pages"
NOTE_LIMIT = 1000  # characters: enough for "sent by post on Tuesday", short enough that a cell stays readable

# The page's only stylesheet; the Content-Security-Policy allows exactly this text by its hash, so no other style and
# no script can run even if something were injected.
CSS = """
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:1.125rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1b1b1b;background:#fff}
main{max-width:36rem;margin:0 auto;padding:1.25rem 1rem 3rem}
h1{font-size:1.6rem;line-height:1.25;margin:0.5rem 0 1rem}
p,dl{margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:0.25rem 1rem}
dt{font-weight:600}
dd{margin:0}
label{display:block;font-weight:600;margin:1.25rem 0 0.25rem}
.hint{display:block;font-weight:400;color:#3d3d3d;font-size:1rem}
textarea{width:100%;min-height:6rem;font:inherit;padding:0.5rem;border:2px solid #1b1b1b;border-radius:4px}
button{margin-top:1.25rem;min-height:3rem;width:100%;font:inherit;font-weight:700;color:#fff;background:#0b5a2b;border:2px solid #0b5a2b;border-radius:6px;padding:0.6rem 1rem;cursor:pointer}
button:hover{background:#084420}
textarea:focus,button:focus{outline:3px solid #fd0;outline-offset:2px;box-shadow:0 0 0 5px #1b1b1b}
.panel{border-left:6px solid #0b5a2b;padding:0.5rem 1rem;background:#eef6f0;margin:0 0 1rem}
.panel.problem{border-color:#a3161a;background:#fbeeee}
.school{color:#3d3d3d;font-size:1rem;margin:0}
@media (min-width:40rem){button{width:auto}}
""".strip()
CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")

# Sent with every page, good or bad.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Type": "text/html; charset=utf-8",
    # A shared or family computer must not show a contributor's page from the back button or a cache.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src '{CSS_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@cache
def _environment() -> jinja2.Environment:
    # autoescape=True outright: select_autoescape would not recognise the ".html.j2" names.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PAGES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class ConfirmPage:
    """One page to show: which one (`kind`), its HTTP status and what it says."""

    kind: str  # ask, thanks, already, expired, broken, wrong_school, not_found, unavailable
    status: int
    context: Mapping[str, Any] = field(default_factory=dict)
    wrote: bool = False

    def html(self) -> str:
        context = {"school_name": None, "sendco_name": None, "sendco_email": None, **self.context}
        return _environment().get_template("confirm.html.j2").render(kind=self.kind, css=CSS, **context)


def clean_note(text: str | None) -> str:
    """The contributor's note as one tidy line of plain text, at most NOTE_LIMIT characters."""
    if not text:
        return ""
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n"))
    text = " / ".join(line.strip() for line in text.split("\n") if line.strip())
    return " ".join(text.split())[:NOTE_LIMIT]


def _display_name(contribution: Contribution, pupils: list[Any] | None) -> str:
    """First name and surname initial, the most the page may show (ARCHITECTURE.md); never a UPN."""
    if pupils:
        pupil = match_pupil(contribution, pupils)
        if pupil is not None and pupil.record.short_name:
            return str(pupil.record.short_name)
    ref = contribution.pupil_ref.strip()
    if looks_like_upn(ref):
        return "the pupil"
    if "," in ref:  # "Surname, Forename"
        surname, _, forenames = ref.partition(",")
        parts = [*forenames.split()[:1], *surname.split()[-1:]]
    else:
        parts = ref.split()
    if not parts:
        return "the pupil"
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0].upper()}."


@dataclass
class _Located:
    school: School
    register: Register
    contribution: Contribution
    claim: LinkClaim
    pupils: list[Any] | None
    sheet: str = CONTRIBUTIONS_SHEET  # the tab's title as the SENDCo typed it ("contributions" is the same tab)
    evaluation: Evaluation | None = None  # None when the register could not be understood (the page still works)
    contributions: tuple[Contribution, ...] = ()


class _Problem(Exception):
    def __init__(self, page: ConfirmPage) -> None:
        super().__init__(page.kind)
        self.page = page


class _OneRowCells(Mapping[str, CellWrite]):
    """Received and Notes for the confirmed row, worked out from the row as `key_of` saw it at write time, so a note is
    appended to the Notes the SENDCo has now, not to what they had when the page was read."""

    def __init__(self, today: date, note: str, seen: dict[str, Any]) -> None:
        self._today = today
        self._note = note
        self._seen = seen

    def _cells(self) -> dict[str, CellWrite]:
        cells = {RECEIVED: CellWrite(self._today, DATE_FORMAT)}
        if self._note:
            line = f"Contributor's note ({self._today:%d/%m/%Y}): {self._note}"
            existing = cell_text(self._seen.get("notes")).strip()
            cells[NOTES] = CellWrite(f"{existing}\n{line}" if existing else line)
        return cells

    def __getitem__(self, key: str) -> CellWrite:
        return self._cells()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cells())

    def __len__(self) -> int:
        return len(self._cells())


def received_plan(
    target: tuple[str, str, str], today: date, note: str = "", *, sheet: str = CONTRIBUTIONS_SHEET
) -> WritePlan:
    """A plan that writes Received (and appends the note) on the first row whose key is `target` and whose Received
    cell is still blank when the adapter writes; any other row, or a row already received, is left alone."""
    state: dict[str, Any] = {"columns": {}, "matched": False}

    def find_header_row(rows: list[list[CellValue]]) -> int | None:
        found = find_contributions_header(rows)
        if found is None:
            return None
        state["columns"] = found[1]
        state["matched"] = False
        return found[0]

    def key_of(values: list[CellValue]) -> tuple[str, str, str] | None:
        if state["matched"] or key_of_row(values, state["columns"]) != target:
            return None
        # The first row with this key is the one the sweep emails (parse_contributions drops later duplicates), so
        # it is the only one a link can confirm, whether or not it is still blank.
        state["matched"] = True
        columns = state["columns"]

        def at(header: str) -> CellValue:
            col = columns.get(header)
            return values[col] if col is not None and col < len(values) else None

        if not is_blank(at(RECEIVED)):
            return None
        state["notes"] = at(NOTES)
        return target

    return WritePlan(
        sheet=sheet,
        headers=(RECEIVED, NOTES),
        find_header_row=find_header_row,
        key_of=key_of,
        rows={target: _OneRowCells(today, note, state)},
        header_fill=None,
        # Received and Notes found as parse_contributions finds them ("Received?" is Received): never a twin column.
        header_key=normalise_header,
        # The adapter's own guard too. key_of still remembers the first match itself: when that row is already
        # received it returns None, and the flag alone would then let a later duplicate take the confirmation.
        first_match_only=True,
    )


class Confirmations:
    """The confirm job. `schools` by id; `open_register` builds a school's register adapter; `today` is London's date."""

    def __init__(
        self,
        schools: Mapping[str, School],
        signer: LinkSigner,
        open_register: Callable[[School], Register],
        today: Callable[[], date],
    ) -> None:
        self.schools = schools
        # Verified without a school binding: the claim's own school picks the register, and an unknown one is refused.
        self.signer = signer
        self.open_register = open_register
        self.today = today

    # ------------------------------------------------------------------ pages

    def _school_context(self, school: School | None) -> dict[str, Any]:
        if school is None and len(self.schools) == 1:
            school = next(iter(self.schools.values()))  # one school: its SENDCo is who to reply to, whatever the link
        if school is None:
            return {"school_name": None, "sendco_name": None, "sendco_email": None}
        s = school.settings
        # No name set: the page says "the SENDCo" rather than "It tells SENDCo it is on its way".
        name = s.sendco_name if s.sendco_name.strip() != DEFAULT_SENDCO_NAME else None
        return {"school_name": s.school_name, "sendco_name": name, "sendco_email": s.sendco_email}

    def _problem(self, kind: str, status: int, school: School | None = None, **more: Any) -> _Problem:
        return _Problem(ConfirmPage(kind, status, {**self._school_context(school), **more}))

    def _row_context(self, located: _Located, token: str) -> dict[str, Any]:
        c = located.contribution
        due: date | None = None
        meeting = located.claim.meeting
        planned = False  # only a meeting booked in the register is shown: a hold-by date is not a meeting
        if located.pupils:
            pupil = match_pupil(c, located.pupils)
            if pupil is not None and pupil.clock is not None:
                due = pupil.clock.contributions_due
                planned = pupil.clock.meeting_is_planned
                meeting = pupil.clock.meeting_date if planned else meeting
        return {
            **self._school_context(located.school),
            "pupil": _display_name(c, located.pupils),
            "role": c.role,
            "due": format_date(due) if due else None,
            "meeting": format_date(meeting),
            "meeting_planned": planned,
            "received": format_date(c.received) if c.received else None,
            "token": token,
            "note_limit": NOTE_LIMIT,
        }

    # ------------------------------------------------------------------ finding the row

    def _school_for(self, claim: LinkClaim) -> School:
        school = self.schools.get(claim.school)
        if school is None and claim.school == "" and len(self.schools) == 1:
            school = next(iter(self.schools.values()))  # a one-school deployment's links may carry no school id
        if school is None:
            raise LinkWrongSchool("This link belongs to another school's register.")
        return school

    def _locate(self, token: str | None) -> _Located:
        if not token or not token.strip():
            raise self._problem("broken", 400)
        today = self.today()
        try:
            claim = self.signer.verify(token, now=today)
            school = self._school_for(claim)
        except LinkExpired:
            raise self._problem("expired", 410) from None
        except LinkWrongSchool:
            raise self._problem("wrong_school", 404) from None
        except (LinkTampered, LinkMalformed):
            raise self._problem("broken", 400) from None
        except LinkError:
            raise self._problem("unavailable", 503) from None
        register = self.open_register(school)
        data = register.read()
        sheet = find_contributions_tab(data.sheets)
        contributions, _ = parse_contributions(sheet.rows) if sheet is not None else ([], [])
        contribution = self.signer.find_row(claim, contributions)
        if contribution is None:
            raise self._problem("not_found", 404, school)
        try:
            evaluation: Evaluation | None = evaluate(data, today=today, settings=school.settings)
        except RegisterError:
            evaluation = None  # the page can still say who it is from the Contributions row alone
        pupils: list[Any] | None = evaluation.pupils if evaluation is not None else None
        title = sheet.title if sheet else CONTRIBUTIONS_SHEET
        return _Located(school, register, contribution, claim, pupils, title, evaluation, tuple(contributions))

    def _guarded(self, action: Callable[[], ConfirmPage], what: str) -> ConfirmPage:
        try:
            page = action()
        except _Problem as problem:
            page = problem.page
        except (RegisterError, SettingsError, LinkConfigError, OSError) as exc:
            # Never a stack trace for a contributor; the class name only in the log (the text may quote a cell).
            log.error("confirm %s failed", what, extra={"event": type(exc).__name__, "outcome": "unavailable"})
            page = ConfirmPage("unavailable", 503, self._school_context(None))
        log.info("confirm %s: %s", what, page.kind, extra={"outcome": page.kind, "status": page.status})
        return page

    def _outstanding(self, located: _Located, today: date) -> list[WritePlan]:
        """ "AR outstanding" with this contribution received, in the same write as Received (docs/register.md s6)."""
        if located.evaluation is None:
            return []
        key = located.contribution.key
        now = [replace(c, received=today) if c.key == key else c for c in located.contributions]
        plan = outstanding_plan(located.evaluation, now, today=today, settings=located.school.settings)
        return [plan] if plan is not None else []

    # ------------------------------------------------------------------ the two requests

    def show(self, token: str | None) -> ConfirmPage:
        """GET: what the link is for, and the button. Reads the register; never writes."""

        def action() -> ConfirmPage:
            located = self._locate(token)
            context = self._row_context(located, (token or "").strip())
            if located.contribution.is_received:
                return ConfirmPage("already", 200, context)
            return ConfirmPage("ask", 200, context)

        return self._guarded(action, "show")

    def record(self, token: str | None, note: str | None = None) -> ConfirmPage:
        """POST: write Received (today) and the note on the link's own row, once."""

        def action() -> ConfirmPage:
            located = self._locate(token)
            context = self._row_context(located, (token or "").strip())
            if located.contribution.is_received:
                return ConfirmPage("already", 200, context)
            today = self.today()
            plan = received_plan(located.contribution.key, today, clean_note(note), sheet=located.sheet)
            result = located.register.write(plan, *self._outstanding(located, today))
            if located.contribution.key in result.missing_keys:
                # Someone filled Received (or removed the row) between reading and writing: look again.
                again = self._locate(token)
                if again.contribution.is_received:
                    return ConfirmPage("already", 200, self._row_context(again, (token or "").strip()))
                raise self._problem("unavailable", 503, located.school)
            return ConfirmPage("thanks", 200, {**context, "received": format_date(today)}, wrote=True)

        return self._guarded(action, "record")


__all__ = ["CSS_HASH", "NOTE_LIMIT", "SECURITY_HEADERS", "ConfirmPage", "Confirmations", "clean_note", "received_plan"]
