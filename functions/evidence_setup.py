"""Where each school's evidence goes (docs/register.md s8), built from typed settings (functions/bootstrap.py):
beside an Excel register, a folder and a queue; beside a Google Sheet, Google Drive (drive.file scope); beside a
Microsoft 365 workbook, an `evidence` folder in its OneDrive/SharePoint folder; for both online registers, a queue
under the state directory. Nothing here reads the environment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from connectors.storage_base import EvidenceStore, KeptFile, StorageError
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
        return onedrive_store(school, rt)
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


def onedrive_store(school: School, rt: Runtime) -> EvidenceStore:
    """A Microsoft 365 workbook: `evidence/<pupil key>/` beside it in its own drive, as the school account
    (connectors/storage_onedrive.py). Evidence an earlier version kept in this deployment's storage (KEEPER_STATE_DIR)
    is still read, so nothing sent before the upgrade goes missing from the form's prefill or the record."""
    from connectors.storage_onedrive import OneDriveEvidenceStore

    from .adapters import m365_for
    from .m365 import graph_client

    client = graph_client(m365_for(school.settings, rt))
    store = OneDriveEvidenceStore(school.register, client.tokens, graph_root=client.root)
    earlier = rt.state_dir / (school.id or "school") / "evidence"
    return _ReadsEarlier(store, FolderEvidenceStore(earlier)) if earlier.is_dir() else store


class _ReadsEarlier:
    """Writes go to the school's own storage; reads also look where an earlier version kept the evidence."""

    def __init__(self, store: EvidenceStore, earlier: FolderEvidenceStore) -> None:
        self.store, self.earlier = store, earlier

    def save_file(self, pupil_key: str, name: str, data: bytes, content_type: str) -> KeptFile:
        return self.store.save_file(pupil_key, name, data, content_type)

    def save_text(self, pupil_key: str, submission_id: str, text: str) -> KeptFile:
        return self.store.save_text(pupil_key, submission_id, text)

    def read_texts(self, pupil_key: str) -> list[str]:
        return self.earlier.read_texts(pupil_key) + self.store.read_texts(pupil_key)

    def read_file(self, pupil_key: str, name: str) -> bytes:
        try:
            return self.store.read_file(pupil_key, name)
        except StorageError:
            return self.earlier.read_file(pupil_key, name)


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
    """The papers' download links: signed with KEEPER_LINK_SECRET, pointing at KEEPER_PAPERS_URL (the cloud's
    keeper-papers function), else KEEPER_BASE_URL (`serve` answers both the form and the papers)."""
    from .papers import PapersSigner

    base = rt.papers_url or rt.base_url
    if not rt.link_secret or not base:
        raise SettingsError(
            "Papers are sent as a download link: set KEEPER_LINK_SECRET and KEEPER_PAPERS_URL (the keeper-papers "
            "function's address) or KEEPER_BASE_URL (where `serve` answers), then run again."
        )
    return PapersSigner(rt.link_secret, base, rt.school_id if school is None else school)


def papers_folder(ref: str, rt: Runtime, school_id: str = "") -> Path:
    """Beside a workbook; for a Google Sheet, under the state directory (KEEPER_STATE_DIR)."""
    return rt.state_dir / (school_id or "school") if is_remote(ref) else Path(ref).resolve().parent


__all__ = ["advice_desk", "evidence_store", "london_now", "papers_folder", "papers_signer", "submission_queue"]
