"""Microsoft Graph's resumable upload (an upload session), for a file above the 4 MB a simple PUT takes, up to the
product's 10 MB limit (docs/register.md s8). After `createUploadSession`, the bytes go in order in fragments of 3,200
KiB (Graph requires multiples of 320 KiB, all but the last) with `Content-Range: bytes first-last/total`, to the
session's own URL, which is pre-authenticated: a bearer token there may be refused, so none is sent. Graph answers 202
with `nextExpectedRanges` until the last byte, then 200/201 with the item. A fragment that failed, or whose answer was
lost, is not sent blindly again: the session is asked where to go on (GET on its URL), so nothing is kept twice. After
the bounded tries the session is cancelled (DELETE), so nothing half-made is kept."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from typing import Any

import requests

from connectors.http_retry import RETRY_STATUSES, Wait, retry_after

FRAGMENT_BYTES = 10 * 320 * 1024
_NEXT = re.compile(r"(\d+)-")

Send = Callable[..., requests.Response]  # (method, url, data=..., headers=...): one request, no bearer token


class UploadFailed(Exception):
    """`transient`: Graph did not take the file within the tries (worth sending again later); else it refused."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class NameTaken(Exception):
    """The name is in the folder already (a conflictBehavior `fail` answered 409 on the last byte)."""


def body_of(response: requests.Response) -> Any:
    try:
        return response.json() if response.content else {}
    except ValueError:
        return {}


def upload_fragments(url: str, data: bytes, *, send: Send, wait: Wait, attempts: int) -> str:
    """The file through the session at `url`; returns the new item's id."""
    total, offset, failures = len(data), 0, 0
    while True:
        end = min(offset + FRAGMENT_BYTES, total) - 1
        headers = {"Content-Range": f"bytes {offset}-{end}/{total}"}
        try:
            response: requests.Response | None = send("PUT", url, data=data[offset : end + 1], headers=headers)
        except (requests.ConnectionError, requests.Timeout):
            response = None
        status = response.status_code if response is not None else 0
        if response is not None and status in (200, 201):
            return str(body_of(response)["id"])
        if response is not None and status == 202:
            offset = next_offset(body_of(response), end + 1)
            continue
        if status == 409:
            raise NameTaken()
        if status and status not in RETRY_STATUSES and status != 416:
            # 404: the session expired or was cancelled; anything else is a refusal.
            raise UploadFailed(
                f"Microsoft Graph answered HTTP {status} to an upload; nothing was kept.", transient=False
            )
        failures += 1
        if failures >= attempts or not wait(failures, retry_after(response)):
            with contextlib.suppress(requests.RequestException):  # an abandoned session also expires by itself
                send("DELETE", url)
            raise UploadFailed(
                f"Microsoft 365 did not take the file after {failures} tries; the answers were kept and the files can "
                "be sent again later.",
                transient=True,
            )
        offset = _resume_at(url, offset, send)


def _resume_at(url: str, offset: int, send: Send) -> int:
    """Where to go on. When the session cannot say, the same fragment goes again (one already received: 416)."""
    try:
        state = send("GET", url)
    except (requests.ConnectionError, requests.Timeout):
        return offset
    if state.status_code == 404:
        raise UploadFailed("The upload session ended before the file was complete; nothing was kept.", transient=False)
    return next_offset(body_of(state), offset) if state.ok else offset


def next_offset(state: Any, fallback: int) -> int:
    """The first byte Graph still wants ("26-" or "26-127" in nextExpectedRanges)."""
    ranges = state.get("nextExpectedRanges") if isinstance(state, Mapping) else None
    if isinstance(ranges, list) and ranges:
        match = _NEXT.match(str(ranges[0]))
        if match:
            return int(match.group(1))
    return fallback


__all__ = ["FRAGMENT_BYTES", "NameTaken", "UploadFailed", "body_of", "next_offset", "upload_fragments"]
