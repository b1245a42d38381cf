"""Where each school's evidence goes (docs/register.md s8), built from typed settings (functions/bootstrap.py):
beside an Excel register, a folder and a queue; beside a Google Sheet, Google Drive (drive.file scope) and a queue
under the state directory. Nothing here reads the environment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from connectors.storage_base import EvidenceStore
from connectors.storage_folder import FolderEvidenceStore
from connectors.submission_queue import QUEUE_FOLDER, SubmissionQueue

from .adapters import is_graph, is_remote
from .advice_page import AdviceDesk
from .setting_tables import Runtime, SettingsError
from .settings import School

if TYPE_CHECKING:
    from .papers import PapersSigner

LONDON = ZoneInfo("Europe/London")


def london_now() -> datetime:
    """London's wall-clock time, naive: how the register's cells show it (Submitted at)."""
    return datetime.now(LONDON).replace(tzinfo=None)


def evidence_store(school: School, rt: Runtime) -> EvidenceStore:
    if not school.register_is_sheet:
        return FolderEvidenceStore.beside(Path(school.register))
    if is_graph(school.register):
        # A Microsoft 365 workbook: OneDrive storage is not built yet, so the evidence stays in this deployment's
        # lasting storage (KEEPER_STATE_DIR), never on a disk that is emptied after each run.
        return FolderEvidenceStore(rt.state_dir / (school.id or "school") / "evidence")
    emulator = rt.drive_emulator_host
    if rt.sheets_emulator_host and not emulator:
        # A Sheets look-alike (tests, demos) with no Drive look-alike: there are no Google credentials to reach the real
        # Drive with, so the evidence stays in this deployment's own storage, as for Microsoft 365.
        return FolderEvidenceStore(rt.state_dir / (school.id or "school") / "evidence")
    from connectors.storage_drive import GOOGLE_API, DriveEvidenceStore, drive_session

    session = drive_session(emulator=bool(emulator), credentials_file=rt.credentials_file or None)
    return DriveEvidenceStore(
        session,
        share_with=school.settings.sendco_email or None,
        base_url=f"http://{emulator}" if emulator else GOOGLE_API,
    )


def submission_queue(school: School, rt: Runtime) -> SubmissionQueue:
    if not school.register_is_sheet:
        return SubmissionQueue.beside(Path(school.register))
    return SubmissionQueue(rt.state_dir / (school.id or "school") / QUEUE_FOLDER)


def advice_desk(rt: Runtime, now: Callable[[], datetime] = london_now) -> AdviceDesk:
    stores: dict[str, EvidenceStore] = {}

    def store_for(school: School) -> EvidenceStore:
        # One store a school for the process: the Drive folder ids it found are remembered between requests.
        if school.id not in stores:
            stores[school.id] = evidence_store(school, rt)
        return stores[school.id]

    return AdviceDesk(store_for=store_for, queue_for=lambda s: submission_queue(s, rt), now=now)


def papers_signer(rt: Runtime, school: str | None = None) -> PapersSigner:
    """The papers' download links: signed with KEEPER_LINK_SECRET, pointing at KEEPER_BASE_URL."""
    from .papers import PapersSigner

    if not rt.link_secret or not rt.base_url:
        raise SettingsError(
            "Papers are sent as a download link: set KEEPER_LINK_SECRET and KEEPER_BASE_URL (where `serve` or the "
            "confirm function answers), then run again."
        )
    return PapersSigner(rt.link_secret, rt.base_url, rt.school_id if school is None else school)


def papers_folder(ref: str, rt: Runtime, school_id: str = "") -> Path:
    """Beside a workbook; for a Google Sheet, under the state directory (KEEPER_STATE_DIR)."""
    return rt.state_dir / (school_id or "school") if is_remote(ref) else Path(ref).resolve().parent


__all__ = ["advice_desk", "evidence_store", "london_now", "papers_folder", "papers_signer", "submission_queue"]
