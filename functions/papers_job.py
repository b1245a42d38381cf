"""`main.py papers REGISTER --pupil ROW|UPN [--send]`: one pupil's papers pack (docs/rules.md s6; reg 20(4)).

The review record (as `records` makes it, evidence included) first, then each contributor's report in the order they
arrived; with `send`, a signed download link to every invitee with an address (functions/papers.py) and "Papers sent"
in the Contributions tab.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from connectors.base import Register, RegisterError
from connectors.storage_base import EvidenceStore, StorageError
from connectors.storage_folder import FolderEvidenceStore
from reports.papers import Part, build_papers
from reports.record import record_file_name
from sheet_schema.advice import pupil_key
from sheet_schema.contributions import CONTRIBUTIONS_SHEET, match_pupil, parse_contributions

from .evaluate import evaluate
from .evidence_records import evidence_by_row
from .mailer import Ledger
from .papers import PapersSigner, papers_emails, publish, record_papers_sent, send_papers
from .reporting import records_job, select_pupils
from .settings import Settings


@dataclass
class PapersOutcome:
    pack: Path
    pages: int
    left_out: list[str] = field(default_factory=list)
    sent_to: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sending:
    signer: PapersSigner
    transport: object  # connectors.mail_base.MailTransport
    ledger: Ledger
    register_folder: Path  # where the served copy lives (functions/papers.py served_copy)


def papers_job(
    register: Register,
    *,
    today: date,
    settings: Settings,
    pupil: str,
    out_dir: Path,
    store: EvidenceStore | None,
    profile: Path,
    sending: Sending | None = None,
) -> PapersOutcome:
    data = register.read()
    evaluation = evaluate(data, today=today, settings=settings)
    (chosen,) = select_pupils(evaluation.pupils, pupil)[:1]
    if chosen.clock is None:
        raise RegisterError(f"row {chosen.record.row} has problems to fix before papers can be made: see AR issues.")
    meeting = chosen.clock.meeting_date
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="keeper-papers-") as work:
        (record,) = records_job(register, today=today, settings=settings, out_dir=Path(work), pupil=str(pupil))
        compiled = evidence_by_row(data, evaluation.pupils, store).get(chosen.record.row)
        parts = [Part("Review record", record)]
        key = pupil_key_for(data, chosen)
        for number, report in enumerate(compiled.reports if compiled else (), start=1):
            title = f"{report.role} report (received {report.received:%d/%m/%Y})"
            try:
                path = _report_path(store, report.folder, report.name, Path(work), number)
            except StorageError:
                path = Path(work) / f"missing-{number}.pdf"  # build_papers names it as left out
            parts.append(Part(title, path))
        name = record_file_name(chosen).replace("review-record-", "papers-").replace(".docx", ".pdf")
        result = build_papers(parts, out_dir / name, profile=profile)
    outcome = PapersOutcome(result.path, result.pages, result.left_out)
    if sending is not None:
        signer = sending.signer
        pack = signer.pack_id(key, meeting)
        publish(result.path, sending.register_folder, pack)
        rows = next((s.rows for s in data.sheets if s.title == CONTRIBUTIONS_SHEET), [])
        contributions, _ = parse_contributions(rows)
        invitees = [c for c in contributions if c.email and match_pupil(c, evaluation.pupils) == chosen]
        emails = papers_emails(
            invitees,
            signer=signer,
            pack=pack,
            pupil_short_name=chosen.record.short_name,
            meeting=meeting,
            sender=getattr(sending.transport, "sender", ""),
            sendco_name=settings.sendco_name,
            reply_to=settings.sendco_email or None,
            school_name=settings.school_name,
        )
        went, failures = send_papers(emails, sending.transport, sending.ledger, today)  # type: ignore[arg-type]
        record_papers_sent(register, went, today)
        outcome.sent_to, outcome.failures = len(went), failures
    return outcome


def pupil_key_for(data: object, pupil: object) -> str:
    """The evidence folder of a pupil: as the Contributions rows name them (UPN, else name)."""
    record = pupil.record  # type: ignore[attr-defined]
    return pupil_key(record.upn or record.name)


def _report_path(store: EvidenceStore | None, key: str, name: str, work: Path, number: int) -> Path:
    if isinstance(store, FolderEvidenceStore):
        return store.path_of(key, name)
    if store is None:
        raise StorageError("no evidence store")
    target = work / f"report-{number}{Path(name).suffix}"
    target.write_bytes(store.read_file(key, name))
    return target


__all__ = ["PapersOutcome", "Sending", "papers_job"]
