"""File safety for a register kept on disk (the school's system of record): is it a workbook at all, is it open in
Excel or LibreOffice, a timestamped backup before every write, and a save that goes to a temporary file, is re-opened
to check it, and only then replaces the register in one atomic step, provided nobody saved it meanwhile.

The temporary file never outlives its save: Ctrl-C or SIGTERM during the save abandons it (the temporary file removed,
the register untouched) unless the swap has begun, which then finishes first; a save killed outright (kill -9, power
cut) leaves one behind, which `remove_leftovers` clears when the register is next opened. Only the product's own
temporary names are ever removed (".<stem>.keeper-<host>-<pid>-<random><suffix>"), never a file the SENDCo made."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import FrameType

from connectors.base import RegisterError

BACKUPS_KEPT = 10
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
MACRO_SUFFIXES = {".xlsm", ".xltm"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted OOXML file is an OLE container holding an "EncryptionInfo" stream; its directory names are UTF-16.
ENCRYPTION_MARKER = "EncryptionInfo".encode("utf-16-le")


# A leftover whose writer cannot be checked (another computer on a shared drive, an older version's name) is removed
# only once it is this old: no save takes an hour, so by then its writer is surely gone.
LEFTOVER_AGE = 3600.0


class SavedMeanwhile(Exception):
    """The file changed on disk while the results were being saved: replacing it would lose that save."""


class SaveInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM arrived during a save. `saved`: whether the register was replaced before it was honoured (the
    swap is one step and is let finish); otherwise the register is exactly as it was. A KeyboardInterrupt, so no
    `except Exception` swallows it and the command line ends as on Ctrl-C."""

    def __init__(self, signum: int, saved: bool) -> None:
        super().__init__(signum, saved)
        self.signum = signum
        self.saved = saved


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM handler for the command line: stop as Ctrl-C does, so every `finally` (the sweep's lease, a save's
    temporary file) runs, instead of the process vanishing mid-step."""
    raise KeyboardInterrupt(signum)


def stop_on_sigterm() -> None:
    """Make SIGTERM behave as Ctrl-C in this process (the command line; never a server that handles it itself)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, raise_interrupt)


_STOPPABLE = (signal.SIG_DFL, signal.default_int_handler, raise_interrupt)


@contextlib.contextmanager
def _stoppable_save() -> Iterator[dict[str, int | bool | None]]:
    """While a save runs, Ctrl-C and SIGTERM raise SaveInterrupted, except during the swap (state["swapping"]), when
    the signal is held and raised once the swap is done. A handler someone else installed (a WSGI server's graceful
    shutdown, which lets the request finish) is left alone, as is any thread but the main one (only it gets signals)."""
    state: dict[str, int | bool | None] = {"swapping": False, "held": None}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if state["swapping"]:
            state["held"] = signum
            return
        raise SaveInterrupted(signum, saved=False)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    ours = [sig for sig, old in previous.items() if old in _STOPPABLE]
    for sig in ours:
        signal.signal(sig, handler)
    try:
        yield state
    finally:
        for sig in ours:
            signal.signal(sig, previous[sig])
    held = state["held"]
    if isinstance(held, int) and not isinstance(held, bool):
        raise SaveInterrupted(held, saved=True)


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def temp_prefix(destination: Path) -> str:
    """The start of a save's temporary name: who made it (host and process), so a leftover can be told from a live save."""
    return f".{destination.stem}.keeper-{_host_tag()}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or a pid this system will not say about: assume it is working
    return True


def remove_leftovers(destination: Path, *, now: Callable[[], float] = time.time) -> list[Path]:
    """Remove temporary files that earlier saves of `destination` left behind when killed. Only names this module makes
    are considered ("." + stem + ".keeper-" ... + suffix; mkstemp's random part is 8 of [a-z0-9_]); one from a process
    on this computer is removed once that process is gone, any other once it is LEFTOVER_AGE seconds old. A live save's
    file (its process still running) is never touched."""
    pattern = re.compile(
        rf"\.{re.escape(destination.stem)}\.keeper-(?:([0-9a-f]{{6}})-([0-9]{{1,10}})-)?[a-z0-9_]{{8}}"
        rf"{re.escape(destination.suffix)}"
    )
    removed: list[Path] = []
    try:
        entries = list(destination.parent.iterdir())
    except OSError:
        return removed
    here = _host_tag()
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_file() or entry.is_symlink():
            continue
        host, pid = match.group(1), match.group(2)
        try:
            old = now() - entry.stat().st_mtime >= LEFTOVER_AGE
        except OSError:
            continue
        gone = host == here and pid is not None and int(pid) != os.getpid() and not _alive(int(pid))
        if gone or (old and not (host == here and pid is not None and _alive(int(pid)))):
            with contextlib.suppress(OSError):
                entry.unlink()
                removed.append(entry)
    return removed


Signature = tuple[int, int, int, int]


def signature(path: Path) -> Signature:
    """(mtime_ns, size, inode, ctime_ns): a change means someone saved the file. The modification time alone misses a
    same-size save within the file system's time granularity (2 s on FAT, 10 ms on exFAT, a clock tick on Linux);
    a save that replaces the file gives it a new inode, and one in place moves the change time, which no program can
    set back."""
    stat = path.stat()
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_ctime_ns)


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
    atomically. `unchanged`: checked at the last moment; False raises SavedMeanwhile (the temporary file removed).
    Ctrl-C or SIGTERM meanwhile raises SaveInterrupted, the temporary file removed (see _stoppable_save)."""
    with _stoppable_save() as state:
        handle, temp_name = tempfile.mkstemp(
            prefix=temp_prefix(destination), suffix=destination.suffix, dir=destination.parent
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
            state["swapping"] = True
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
        except BaseException:
            # Ctrl-C, SIGTERM, SystemExit: the register is untouched (or already swapped); the temporary file goes.
            temp.unlink(missing_ok=True)
            raise


def _looks_like_text(head: bytes) -> bool:
    """Delimited text (a CSV saved with an Excel name): printable characters and a separator."""
    if not head or b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="replace")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * len(text) and any(sep in text for sep in (",", ";", "\t"))
