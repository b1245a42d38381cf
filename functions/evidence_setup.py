"""Where each school's evidence goes (docs/register.md s8), built from typed settings (functions/bootstrap.py):
beside an Excel register, a folder and a queue; beside a Google Sheet, Google Drive (drive.file scope) and a queue
under the state directory. Nothing here reads the environment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.storage_base import EvidenceStore
from connectors.storage_folder import FolderEvidenceStore
from connectors.submission_queue import QUEUE_FOLDER, SubmissionQueue

from .advice_page import AdviceDesk
from .setting_tables import Runtime
from .settings import School

LONDON = ZoneInfo("Europe/London")


def london_now() -> datetime:
    """London's wall-clock time, naive: how the register's cells show it (Submitted at)."""
    return datetime.now(LONDON).replace(tzinfo=None)


def evidence_store(school: School, rt: Runtime) -> EvidenceStore:
    if not school.register_is_sheet:
        return FolderEvidenceStore.beside(Path(school.register))
    from connectors.storage_drive import GOOGLE_API, DriveEvidenceStore, drive_session

    emulator = rt.drive_emulator_host
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


__all__ = ["advice_desk", "evidence_store", "london_now", "submission_queue"]
