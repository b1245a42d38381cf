"""Evidence beside a Microsoft 365 register: `evidence/<pupil key>/` in the folder that holds the workbook, in its own
drive (OneDrive for Business or a SharePoint library), through Microsoft Graph (docs/register.md s8): the Excel layout
(connectors/storage_folder.py) in the school's cloud, where the SENDCo finds the register.

Graph v1.0 driveItem requests: the register's item gives the drive and its folder's id; folders are found by path
(`GET .../items/{parent}:/{name}`) or made (`POST .../items/{parent}/children`, conflictBehavior `fail`: two
submissions at once never make "evidence 1"; the loser's 409 means "there now", and it looks again). A file up to 4 MB
goes in one `PUT .../items/{folder}:/{name}:/content` with conflictBehavior `fail` (Graph's PUT default is `replace`:
nothing kept is ever overwritten); above that, `createUploadSession` and the fragments (connectors/graph_upload.py).
Names are the product's (check_safe: date, role, SHA-256), never an upload's; the same name is the same content, so a
409 means kept already.

Every request has a (connect, read) timeout; 408, 429, 5xx, timeouts and dropped connections are tried again a bounded
number of times, never sooner than Retry-After, and not at all when Retry-After or the submission's deadline is longer
than a contributor can wait (the answers are then kept without the files, and the page says so). Folder ids are
remembered; a folder the SENDCo moved or deleted meanwhile is found (or made) again, once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from connectors.graph_codec import item_path
from connectors.graph_http import GRAPH_ROOT, GraphError
from connectors.graph_upload import FRAGMENT_BYTES, NameTaken, UploadFailed, body_of, upload_fragments
from connectors.http_retry import RETRY_STATUSES, retry_after, submission_deadline
from connectors.storage_base import KeptFile, StorageError, check_safe

log = logging.getLogger(__name__)

EVIDENCE_FOLDER = "evidence"
SIMPLE_UPLOAD_BYTES = 4 * 1024 * 1024  # Graph's simple upload (PUT .../content) takes files up to 4 MB


@dataclass(frozen=True)
class OneDrivePolicy:
    timeout_s: tuple[float, float] = (10.0, 30.0)  # connect, read (a 3,200 KiB fragment from a cloud region: seconds)
    attempts: int = 4
    backoff_s: float = 0.5
    backoff_cap_s: float = 8.0
    longest_wait_s: float = 10.0  # a Retry-After beyond this is an outage for a contributor waiting on the page
    # No request starts, and none runs on, later than this after a submission's first one: the contributor is waiting
    # on the page, and the cloud's confirm function is stopped at 60 s (scripts/deploy.sh), before the register is
    # written. Calls that follow each other within `quiet_s` (one submission's full text read back, its files and its
    # text) share the deadline; a read starts one of its own (connectors/http_retry.py Deadline).
    deadline_s: float = 20.0
    quiet_s: float = 2.0


class OneDriveRefused(StorageError):
    """Graph answered, and said no: trying again would not help."""


class OneDriveUnavailable(StorageError):
    """Graph did not answer usefully within the bounded retries."""


class _FolderGone(OneDriveRefused):
    """A folder remembered from an earlier submission is no longer there (moved or deleted by the SENDCo)."""

    def __init__(self) -> None:
        super().__init__("The pupil's evidence folder beside the register could not be found; nothing was kept there.")


_NO_ACCESS = (
    "Microsoft 365 refused the Review Keeper account access to the folder that holds the register: share that folder "
    "(not only the workbook) with the account (Can edit); a register in someone else's OneDrive or a SharePoint "
    "library may also need the Files.ReadWrite.All permission (DEPLOY.md, step 6.7)."
)


class OneDriveEvidenceStore:
    """The evidence port (connectors/storage_base.py) for a register in OneDrive or SharePoint."""

    def __init__(
        self,
        register_ref: str,
        tokens: Callable[..., str],
        *,
        graph_root: str = GRAPH_ROOT,
        session: requests.Session | None = None,
        policy: OneDrivePolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._register_path = item_path(register_ref)  # a link that is not OneDrive/SharePoint is refused here
        self.tokens = tokens
        self.root = graph_root.rstrip("/")
        self.session = session or requests.Session()
        self.policy = policy or OneDrivePolicy()
        self.sleep, self.clock = sleep, clock
        # One submission's requests share a deadline, none sent after it (connectors/http_retry.py).
        self.deadline, self._wait_before_retry = submission_deadline(
            self.policy, service="Microsoft 365 storage", clock=clock, sleep=sleep
        )
        self.requests_sent = 0
        self._drive: str | None = None
        self._evidence: str | None = None
        self._folders: dict[str, str] = {}

    # ------------------------------------------------------------------ HTTP with bounded retries

    def _send(self, method: str, url: str, *, auth: bool, refresh: bool = False, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if auth:
            try:
                headers["Authorization"] = f"Bearer {self.tokens(force_refresh=True) if refresh else self.tokens()}"
            except GraphError as err:  # no sign-in stored, or it was revoked: a sentence for the IT lead
                raise OneDriveRefused(str(err)) from None
        timeout = self.deadline.timeout(self.policy.timeout_s)  # DeadlinePassed (no answer): the deadline has passed
        self.requests_sent += 1
        return self.session.request(method, url, headers=headers, timeout=timeout, **kwargs)

    @contextlib.contextmanager
    def _operation(self, *, fresh: bool = False) -> Iterator[None]:
        """One use of the port, inside the submission's deadline (`fresh`: a read, which starts one of its own)."""
        with self.deadline.operation(fresh=fresh):
            try:
                try:
                    yield
                except (KeyError, TypeError, ValueError):  # an answer not shaped as Graph documents it: never a crash
                    raise OneDriveRefused(
                        "Microsoft Graph gave an answer the product cannot read; nothing was kept."
                    ) from None
                except requests.RequestException as err:  # e.g. too many redirects, a broken download
                    raise OneDriveUnavailable(
                        f"Microsoft 365 did not answer usefully ({type(err).__name__})."
                    ) from None
            except StorageError as err:
                # The contributor's page only says "attach them again later": the IT lead's fix is in the log (a
                # sentence of the product's own, never a pupil's or a file's name).
                log.warning("evidence storage (Microsoft 365): %s", err)
                raise

    def _request(
        self, method: str, url: str, *, accept: tuple[int, ...] = (), auth: bool = True, **kwargs: Any
    ) -> requests.Response:
        """A 2xx answer or one in `accept`; OneDriveRefused for a refusal, OneDriveUnavailable after the retries."""
        last, refreshed, refresh = "no answer", False, False
        for attempt in range(1, self.policy.attempts + 1):
            try:
                response = self._send(method, url, auth=auth, refresh=refresh, **kwargs)
                refresh = False
            except (requests.ConnectionError, requests.Timeout) as err:
                last, wait = type(err).__name__, None
            else:
                status = response.status_code
                if response.ok or status in accept:
                    return response
                if status == 401 and auth and not refreshed:
                    refreshed = refresh = True  # a token revoked early: one fresh token, then a clear sentence
                    continue
                if status in (401, 403):
                    raise OneDriveRefused(_NO_ACCESS)
                if status not in RETRY_STATUSES:
                    raise OneDriveRefused(f"Microsoft Graph answered HTTP {status}; nothing was kept there.")
                last, wait = f"HTTP {status}", retry_after(response)
            if attempt == self.policy.attempts or not self._wait_before_retry(attempt, wait):
                break
        raise OneDriveUnavailable(
            f"Microsoft 365 did not answer after {attempt} tries ({last}); the answers were kept and the files can be "
            "sent again later."
        )

    def _json(self, method: str, path: str, *, accept: tuple[int, ...] = (), **kwargs: Any) -> tuple[int, Any]:
        response = self._request(method, self.root + path, accept=accept, **kwargs)
        return response.status_code, body_of(response)

    # ------------------------------------------------------------------ folders

    def _items(self, item_id: str) -> str:
        assert self._drive is not None
        return f"/drives/{quote(self._drive, safe='!')}/items/{quote(item_id, safe='!')}"

    def _evidence_root(self) -> str:
        """The `evidence` folder beside the workbook: found, or made on first use."""
        if self._evidence is None:
            _status, item = self._json("GET", self._register_path)
            parent = item.get("parentReference") if isinstance(item, Mapping) else None
            if not isinstance(parent, Mapping) or not parent.get("driveId") or not parent.get("id"):
                raise OneDriveRefused(_NO_ACCESS)
            self._drive = str(parent["driveId"])
            found = self._child_folder(str(parent["id"]), EVIDENCE_FOLDER, create=True)
            assert found is not None
            self._evidence = found
        return self._evidence

    def _child_folder(self, parent: str, name: str, *, create: bool) -> str | None:
        for _ in range(2):
            status, item = self._json("GET", f"{self._items(parent)}:/{quote(name)}", accept=(404,))
            if status != 404:
                if "folder" not in item:
                    raise OneDriveRefused(
                        f"A file is in the way of the {'evidence' if name == EVIDENCE_FOLDER else 'pupil'} folder "
                        "beside the register: rename or move it, then the files can be sent again."
                    )
                return str(item["id"])
            if not create:
                return None
            body = {"name": name, "folder": {}, "@microsoft.graph.conflictBehavior": "fail"}
            status, item = self._json("POST", f"{self._items(parent)}/children", json=body, accept=(409,))
            if status != 409:
                return str(item["id"])
            # 409: made a moment ago by another submission (or by this one, its answer lost): look again.
        raise OneDriveUnavailable("The evidence folder could not be made in Microsoft 365; the answers were kept.")

    def _folder(self, pupil_key: str, *, create: bool) -> str | None:
        check_safe(pupil_key, "pupil's folder name")
        if pupil_key not in self._folders:
            found = self._child_folder(self._evidence_root(), pupil_key, create=create)
            if found is None:
                return None
            self._folders[pupil_key] = found
        return self._folders[pupil_key]

    # ------------------------------------------------------------------ uploads

    def _existing(self, folder: str, name: str) -> str | None:
        status, item = self._json("GET", f"{self._items(folder)}:/{quote(name)}", accept=(404,))
        return None if status == 404 else str(item["id"])

    def _simple_upload(self, folder: str, name: str, data: bytes, content_type: str) -> str:
        status, item = self._json(
            "PUT",
            f"{self._items(folder)}:/{quote(name)}:/content",
            accept=(404, 409),
            params={"@microsoft.graph.conflictBehavior": "fail"},
            data=data,
            headers={"Content-Type": content_type},
        )
        if status == 404:
            raise _FolderGone()
        if status == 409:  # kept already (a re-sent report, or a retry whose first answer was lost)
            return self._existing(folder, name) or ""
        return str(item["id"])

    def _session_upload(self, folder: str, name: str, data: bytes) -> str:
        body = {"item": {"@microsoft.graph.conflictBehavior": "fail", "name": name}}
        status, created = self._json(
            "POST", f"{self._items(folder)}:/{quote(name)}:/createUploadSession", json=body, accept=(404, 409)
        )
        if status == 404:
            raise _FolderGone()
        if status == 409:
            return self._existing(folder, name) or ""
        try:
            return upload_fragments(
                str(created["uploadUrl"]),
                data,
                send=lambda method, url, **kw: self._send(method, url, auth=False, **kw),
                wait=self._wait_before_retry,
                attempts=self.policy.attempts,
            )
        except NameTaken:
            return self._existing(folder, name) or ""
        except UploadFailed as err:
            raise (OneDriveUnavailable if err.transient else OneDriveRefused)(str(err)) from None

    # ------------------------------------------------------------------ the port

    def _forget(self) -> None:
        self._evidence = None
        self._folders.clear()

    def save_file(self, pupil_key: str, name: str, data: bytes, content_type: str) -> KeptFile:
        check_safe(name, "file name")
        with self._operation():
            return self._save_file(pupil_key, name, data, content_type)

    def _save_file(self, pupil_key: str, name: str, data: bytes, content_type: str) -> KeptFile:
        for last_try in (False, True):
            folder = self._folder(pupil_key, create=True)
            assert folder is not None
            try:
                if len(data) <= SIMPLE_UPLOAD_BYTES:
                    item_id = self._simple_upload(folder, name, data, content_type)
                else:
                    item_id = self._existing(folder, name) or self._session_upload(folder, name, data)
                return KeptFile(name, len(data), item_id)
            except _FolderGone:
                if last_try:
                    raise
                self._forget()  # moved or deleted since it was found: look for it (or make it) again, once
        raise AssertionError("unreachable")

    def save_text(self, pupil_key: str, submission_id: str, text: str) -> KeptFile:
        name = check_safe(f"advice-{submission_id}.json", "submission's name")
        return self.save_file(pupil_key, name, text.encode("utf-8"), "application/json")

    def _download(self, path: str) -> bytes | None:
        # Graph answers /content with a redirect to a short-lived download URL; requests follows it (and drops the
        # bearer token when the host changes).
        response = self._request("GET", self.root + path, accept=(404,))
        return None if response.status_code == 404 else response.content

    def _children(self, folder: str) -> list[Mapping[str, Any]]:
        entries: list[Mapping[str, Any]] = []
        url: str | None = self.root + f"{self._items(folder)}/children?$select=id,name,file&$top=200"
        pages = 0
        while url and pages < 100:  # 20,000 files for one pupil is far more than a review has
            response = self._request("GET", url, accept=(404,))
            if response.status_code == 404:
                raise _FolderGone()
            page = body_of(response)
            entries += [e for e in page.get("value", []) if isinstance(e, Mapping)]
            url, pages = page.get("@odata.nextLink"), pages + 1
        return entries

    def read_texts(self, pupil_key: str) -> list[str]:
        with self._operation(fresh=True):
            return self._read_texts(pupil_key)

    def _read_texts(self, pupil_key: str) -> list[str]:
        try:
            entries = self._pupil_entries(pupil_key)
        except _FolderGone:
            self._forget()
            entries = self._pupil_entries(pupil_key)
        texts = []
        for entry in sorted(entries, key=lambda e: str(e.get("name"))):
            name = str(entry.get("name"))
            if name.startswith("advice-") and name.endswith(".json") and "file" in entry:
                content = self._download(f"{self._items(str(entry['id']))}/content")
                if content is not None:
                    texts.append(content.decode("utf-8"))
        return texts

    def _pupil_entries(self, pupil_key: str) -> list[Mapping[str, Any]]:
        folder = self._folder(pupil_key, create=False)
        return [] if folder is None else self._children(folder)

    def read_file(self, pupil_key: str, name: str) -> bytes:
        check_safe(name, "file name")
        with self._operation(fresh=True):
            return self._read_file(pupil_key, name)

    def _read_file(self, pupil_key: str, name: str) -> bytes:
        remembered = pupil_key in self._folders
        folder = self._folder(pupil_key, create=False)
        content = None if folder is None else self._download(f"{self._items(folder)}:/{quote(name)}:/content")
        if content is None and remembered:  # the folder may have moved since: look for it again, once
            self._forget()
            folder = self._folder(pupil_key, create=False)
            content = None if folder is None else self._download(f"{self._items(folder)}:/{quote(name)}:/content")
        if content is None:
            raise StorageError("A kept file is no longer in the evidence folder beside the register.")
        return content


__all__ = ["EVIDENCE_FOLDER", "FRAGMENT_BYTES", "SIMPLE_UPLOAD_BYTES", "OneDriveEvidenceStore", "OneDrivePolicy",
           "OneDriveRefused", "OneDriveUnavailable"]  # fmt: skip
