"""Evidence in Google Drive, beside a Google Sheet register (docs/register.md s8).

Scope `drive.file`: the product sees only what it made itself. It creates one folder on first use ("Review Keeper
evidence"), shares it with the SENDCo as a writer, and keeps one sub-folder a pupil under it. A folder the school
names itself would need the wider `drive` scope (every file the account can see): the README sets out the trade-off.

Every request has a (connect, read) timeout; 408, 429, 5xx, timeouts and dropped connections are tried again a bounded
number of times (connectors/http_retry.py), never sooner than Retry-After, and within one submission's deadline: the
contributor waits on the page and the cloud's confirm function is stopped at 60 s, so a submission's requests share
20 s, no request starts after it and none waits past it (the answers are then kept without the files, and the page
and the Advice row say so: docs/register.md s8). Creating a file is not idempotent by itself, so each create carries an id generated
beforehand (`files.generateIds`): a retry of a create that did arrive (its answer lost, or a slow server finishing
after the timeout) is refused with 409 and counts as done, so a file is never kept twice. Names also carry the
content's digest (functions/uploads.py), so the same report sent again is found and not uploaded again. Files go up
with one multipart `files.create` each (reports are at most 10 MB).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from connectors.http_retry import submission_deadline, with_retries
from connectors.storage_base import KeptFile, StorageError, check_safe

log = logging.getLogger(__name__)

DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.file"
GOOGLE_API = "https://www.googleapis.com"
FOLDER_MIME = "application/vnd.google-apps.folder"
ROOT_FOLDER_NAME = "Review Keeper evidence"


@dataclass(frozen=True)
class DrivePolicy:
    timeout_s: tuple[float, float] = (10.0, 60.0)  # connect, read
    attempts: int = 4
    backoff_s: float = 0.5
    backoff_cap_s: float = 8.0
    longest_wait_s: float = 10.0  # a Retry-After beyond this is an outage for a contributor waiting on the page
    # One submission's requests (its full text read back, its files, its text) take at most this long together: the
    # contributor is waiting, and keeper-confirm is stopped at 60 s (scripts/deploy.sh), register read and write too.
    deadline_s: float = 20.0
    quiet_s: float = 2.0  # requests closer together than this belong to the same submission


class DriveRefused(StorageError):
    """Drive answered, and said no: trying again would not help."""


class DriveUnavailable(StorageError):
    """Drive did not answer usefully within the bounded retries."""


class DriveEvidenceStore:
    def __init__(
        self,
        session: requests.Session,
        *,
        share_with: str | None,
        base_url: str = GOOGLE_API,
        root_name: str = ROOT_FOLDER_NAME,
        policy: DrivePolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.share_with = share_with
        self.base_url = base_url.rstrip("/")
        self.root_name = root_name
        self.policy = policy or DrivePolicy()
        self.sleep = sleep
        self.deadline, self._wait = submission_deadline(
            self.policy, service="Google Drive storage", clock=clock, sleep=sleep
        )
        self._root: str | None = None
        self._folders: dict[str, str] = {}

    # ------------------------------------------------------------------ HTTP with bounded retries

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        tries = 0

        def call() -> requests.Response:
            nonlocal tries
            tries += 1
            timeout = self.deadline.timeout(self.policy.timeout_s)  # DeadlinePassed: not sent, the deadline has passed
            return self.session.request(method, self.base_url + path, timeout=timeout, **kwargs)

        response, problem = with_retries(
            call, attempts=self.policy.attempts, sleep=self.sleep, service="Google Drive", wait=self._wait
        )
        if response is None:
            raise DriveUnavailable(
                f"Google Drive did not answer after {tries} {'try' if tries == 1 else 'tries'} within the {self.policy.deadline_s:g} s a "
                f"contributor can wait ({problem}); the answers were kept and the files can be sent again later."
            )
        if response.status_code == 409 and tries > 1:
            return response  # a create with a generated id that an earlier try already made (see above)
        if response.status_code in (401, 403):
            raise DriveRefused(
                "Google Drive refused the product's account (check that the Google Drive API is enabled for the "
                "project and the account has the drive.file scope)."
            )
        if response.status_code >= 400:
            raise DriveRefused(f"Google Drive answered HTTP {response.status_code}; nothing was kept there.")
        return response

    @contextmanager
    def _operation(self, *, fresh: bool) -> Iterator[None]:
        """One use of the port, inside the submission's deadline (`fresh`: a read, which starts one of its own)."""
        with self.deadline.operation(fresh=fresh):
            try:
                yield
            except (KeyError, TypeError, ValueError):  # an answer not shaped as Drive documents it: never a crash
                raise DriveRefused("Google Drive gave an answer the product cannot read; nothing was kept.") from None
            except requests.RequestException as err:  # e.g. too many redirects, a broken download
                raise DriveUnavailable(f"Google Drive did not answer usefully ({type(err).__name__}).") from None
            except StorageError as err:
                # The contributor's page only says "attach them again later": the IT lead's reason is in the log (a
                # sentence of the product's own, never a pupil's or a file's name).
                log.warning("evidence storage (Google Drive): %s", err)
                raise

    def _find(self, name: str, parent: str | None, folder: bool) -> str | None:
        clauses = [f"name = '{name}'", "trashed = false"]
        clauses.append(f"mimeType {'=' if folder else '!='} '{FOLDER_MIME}'")
        if parent:
            clauses.append(f"'{parent}' in parents")
        response = self._call(
            "GET",
            "/drive/v3/files",
            params={"q": " and ".join(clauses), "fields": "files(id,name)", "spaces": "drive", "pageSize": "10"},
        )
        files = response.json().get("files") or []
        return str(files[0]["id"]) if files else None

    def _create_folder(self, name: str, parent: str | None) -> str:
        found = self._find(name, parent, folder=True)
        if found:
            return found
        body: dict[str, Any] = {"id": self._new_id(), "name": name, "mimeType": FOLDER_MIME}
        if parent:
            body["parents"] = [parent]
        self._call("POST", "/drive/v3/files", params={"fields": "id"}, json=body)
        return str(body["id"])

    def _new_id(self) -> str:
        response = self._call("GET", "/drive/v3/files/generateIds", params={"count": "1", "space": "drive"})
        return str(response.json()["ids"][0])

    def root(self) -> str:
        """The product's own folder: found or made, and shared with the SENDCo the first time."""
        with self._operation(fresh=False):
            return self._root_folder()

    def _root_folder(self) -> str:
        if self._root is None:
            existing = self._find(self.root_name, None, folder=True)
            self._root = existing or self._create_folder(self.root_name, None)
            if existing is None and self.share_with:
                self._call(
                    "POST",
                    f"/drive/v3/files/{self._root}/permissions",
                    params={"sendNotificationEmail": "false", "fields": "id"},
                    json={"type": "user", "role": "writer", "emailAddress": self.share_with},
                )
        return self._root

    def _folder(self, pupil_key: str) -> str:
        check_safe(pupil_key, "pupil's folder name")
        if pupil_key not in self._folders:
            self._folders[pupil_key] = self._create_folder(pupil_key, self._root_folder())
        return self._folders[pupil_key]

    # ------------------------------------------------------------------ the port

    def save_file(self, pupil_key: str, name: str, data: bytes, content_type: str) -> KeptFile:
        check_safe(name, "file name")
        with self._operation(fresh=False):
            return self._save_file(pupil_key, name, data, content_type)

    def _save_file(self, pupil_key: str, name: str, data: bytes, content_type: str) -> KeptFile:
        folder = self._folder(pupil_key)
        existing = self._find(name, folder, folder=False)
        if existing:
            return KeptFile(name, len(data), existing)
        file_id = self._new_id()
        boundary = "keeper-" + secrets.token_hex(12)
        metadata = {"id": file_id, "name": name, "parents": [folder], "mimeType": content_type}
        body = b"".join(
            [
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
                json.dumps(metadata).encode("utf-8"),
                f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode(),
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        self._call(
            "POST",
            "/upload/drive/v3/files",
            params={"uploadType": "multipart", "fields": "id,name,size"},
            data=body,
            headers={"Content-Type": f"multipart/related; boundary={boundary}"},
        )
        return KeptFile(name, len(data), file_id)

    def save_text(self, pupil_key: str, submission_id: str, text: str) -> KeptFile:
        name = check_safe(f"advice-{submission_id}.json", "submission's name")
        return self.save_file(pupil_key, name, text.encode("utf-8"), "application/json")

    def _list(self, folder: str) -> list[Mapping[str, Any]]:
        response = self._call(
            "GET",
            "/drive/v3/files",
            params={"q": f"'{folder}' in parents and trashed = false", "fields": "files(id,name)", "pageSize": "1000"},
        )
        return list(response.json().get("files") or [])

    def read_texts(self, pupil_key: str) -> list[str]:
        with self._operation(fresh=True):
            return self._read_texts(pupil_key)

    def _read_texts(self, pupil_key: str) -> list[str]:
        folder = self._folder(pupil_key)
        texts = []
        for entry in sorted(self._list(folder), key=lambda f: str(f["name"])):
            if str(entry["name"]).startswith("advice-") and str(entry["name"]).endswith(".json"):
                texts.append(self._call("GET", f"/drive/v3/files/{entry['id']}", params={"alt": "media"}).text)
        return texts

    def read_file(self, pupil_key: str, name: str) -> bytes:
        with self._operation(fresh=True):
            return self._read_file(pupil_key, check_safe(name, "file name"))

    def _read_file(self, pupil_key: str, name: str) -> bytes:
        file_id = self._find(name, self._folder(pupil_key), folder=False)
        if file_id is None:
            raise StorageError("A kept file is no longer in the product's Drive folder.")
        return self._call("GET", f"/drive/v3/files/{file_id}", params={"alt": "media"}).content


def drive_session(*, emulator: bool, credentials_file: str | None = None) -> requests.Session:
    """An authorised session with the drive.file scope; an anonymous one for a local emulator (tests, demos)."""
    if emulator:
        return requests.Session()
    import google.auth
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    if credentials_file:
        credentials = service_account.Credentials.from_service_account_file(credentials_file, scopes=[DRIVE_SCOPE])
    else:
        credentials, _ = google.auth.default(scopes=[DRIVE_SCOPE])
    return AuthorizedSession(credentials)


__all__ = [
    "DRIVE_SCOPE",
    "ROOT_FOLDER_NAME",
    "DriveEvidenceStore",
    "DrivePolicy",
    "DriveRefused",
    "DriveUnavailable",
    "drive_session",
]
