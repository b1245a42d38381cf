"""File safety for a register kept on disk (the school's system of record): is it a workbook at all, is it open in
Excel or LibreOffice, a timestamped backup before every write, and a save that goes to a temporary file, is re-opened
to check it, and only then replaces the register in one atomic step, provided nobody saved it meanwhile."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from connectors.base import RegisterError

BACKUPS_KEPT = 10
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
MACRO_SUFFIXES = {".xlsm", ".xltm"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted OOXML file is an OLE container holding an "EncryptionInfo" stream; its directory names are UTF-16.
ENCRYPTION_MARKER = "EncryptionInfo".encode("utf-16-le")


class SavedMeanwhile(Exception):
    """The file changed on disk while the results were being saved: replacing it would lose that save."""


def signature(path: Path) -> tuple[int, int]:
    """(mtime_ns, size): a change means someone saved the file."""
    stat = path.stat()
    return (stat.st_mtime_ns, stat.st_size)


def check_is_workbook(path: Path) -> None:
    """Refuse, in one sentence naming the fix, a file that is not an .xlsx/.xlsm workbook openpyxl can open."""
    name = path.name
    if path.is_dir():
        raise RegisterError(f"{path} is a folder, not a workbook; give the path of the register file itself.")
    if not path.is_file():
        raise RegisterError(f"{path} was not found; check the register's path and run again.")
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        head = fh.read(4096)
    if suffix == ".csv" or (not head.startswith((b"PK", OLE_MAGIC)) and _looks_like_text(head)):
        raise RegisterError(
            f"{name} is a CSV file; open it in Excel and save it as an Excel workbook (.xlsx), then run again."
        )
    if head.startswith(OLE_MAGIC):
        with path.open("rb") as fh:
            whole = fh.read()
        if ENCRYPTION_MARKER in whole:
            raise RegisterError(
                f"{name} is protected with a password; in Excel choose File > Info > Protect Workbook > "
                "Encrypt with Password, clear the password, save, then run again."
            )
        raise RegisterError(
            f"{name} is an old-style Excel 97-2003 workbook (.xls); open it in Excel and save it as an Excel "
            "workbook (.xlsx), then run again."
        )
    if suffix == ".xls":
        raise RegisterError(f"{name} is not a readable .xls workbook; save it as an Excel workbook (.xlsx).")
    if suffix == ".ods":
        raise RegisterError(
            f"{name} is an OpenDocument spreadsheet; save it as an Excel workbook (.xlsx), then run again."
        )
    if suffix == ".xlsb":
        raise RegisterError(
            f"{name} is an Excel binary workbook (.xlsb); save it as an Excel workbook (.xlsx), then run again."
        )
    if suffix not in EXCEL_SUFFIXES:
        raise RegisterError(f"{name} is not an Excel workbook; save the register as .xlsx, then run again.")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as err:
        raise RegisterError(
            f"{name} is damaged or not really an Excel workbook; open it in Excel, save it again, then run again."
        ) from err
    if "[Content_Types].xml" not in names:
        raise RegisterError(
            f"{name} is damaged or not really an Excel workbook; open it in Excel, save it again, then run again."
        )


def refuse_if_open(path: Path) -> None:
    """Excel and LibreOffice leave a lock file beside a workbook they have open: saving under it would lose their work."""
    name = path.name
    # Excel's owner file is "~$" + the name, or "~$" replacing the first two characters for longer names;
    # LibreOffice writes ".~lock.<name>#".
    candidates = {f"~${name}", f"~${name[2:]}", f".~lock.{name}#"}
    if any((path.parent / lock).exists() for lock in candidates):
        raise RegisterError(f"{name} is open in Excel (or LibreOffice) on some computer; close it and run again.")


def backup(path: Path, backup_dir: Path, now: datetime, keep: int = BACKUPS_KEPT) -> Path:
    """A copy of `path` in `backup_dir` named by `now` (YYYYmmdd-HHMMSS); only the newest `keep` of its copies stay."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    stem, suffix = path.stem, path.suffix
    stamp = now.strftime("%Y%m%d-%H%M%S")
    target = backup_dir / f"{stem}-{stamp}{suffix}"
    counter = 2
    while target.exists():
        target = backup_dir / f"{stem}-{stamp}-{counter}{suffix}"
        counter += 1
    shutil.copy2(path, target)
    pattern = re.compile(rf"{re.escape(stem)}-(\d{{8}}-\d{{6}})(?:-(\d+))?{re.escape(suffix)}")
    backups = []
    for entry in backup_dir.iterdir():
        match = pattern.fullmatch(entry.name)
        if match:
            backups.append(((match.group(1), int(match.group(2) or 1)), entry))
    backups.sort()
    for _, old in backups[:-keep]:
        old.unlink(missing_ok=True)
    return target


def atomic_save(
    save: Callable[[Path], None],
    destination: Path,
    *,
    verify: Callable[[Path], None],
    mode_from: Path,
    unchanged: Callable[[], bool] | None = None,
) -> None:
    """`save` to a temporary file beside `destination`, `verify` it (raising RegisterError), then swap it in
    atomically. `unchanged`: checked at the last moment; False raises SavedMeanwhile (the temporary file removed)."""
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{destination.stem}.keeper-", suffix=destination.suffix, dir=destination.parent
    )
    os.close(handle)
    temp = Path(temp_name)
    try:
        save(temp)
        verify(temp)
        # mkstemp makes the file private (0600); keep the permissions the register has on a shared drive.
        shutil.copymode(destination if destination.exists() else mode_from, temp)
        # Checked again at the last moment: saving and verifying a large workbook takes seconds, and a SENDCo's
        # save in that time must not be replaced by a version built on what they had before.
        if unchanged is not None and not unchanged():
            raise SavedMeanwhile
        os.replace(temp, destination)
    except (RegisterError, SavedMeanwhile):
        temp.unlink(missing_ok=True)
        raise
    except Exception as err:
        temp.unlink(missing_ok=True)
        raise RegisterError(
            f"The results could not be saved to {destination.name} ({type(err).__name__}); "
            "your workbook was not changed."
        ) from err


def _looks_like_text(head: bytes) -> bool:
    """Delimited text (a CSV saved with an Excel name): printable characters and a separator."""
    if not head or b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * len(text) and any(sep in text for sep in (",", ";", "\t"))
