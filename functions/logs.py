"""Logs as one JSON object per line, the shape Cloud Logging reads from a function's standard error: `severity` and
`message`, plus any counts passed with `extra={"counts": {...}}` (or other plain keys listed in FIELDS).

Personal data (ARCHITECTURE.md): the product never puts names, dates of birth, UPNs or emails into a log message; this
formatter is the second line of defence and blanks anything that looks like an email address, a UPN or a date, so one
careless message cannot leak a pupil's date of birth into a log retained for 30 days.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

# Cloud Logging's names for Python's levels (https://cloud.google.com/logging/docs/structured-logging).
_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
# Keys a job may attach with `extra=`: each a count, an id or a label, never a person.
FIELDS = ("counts", "school", "job", "event", "status", "written_rows", "emails", "outcome", "attempt", "previous")

# The lookbehind lets a match start only where a word starts, so a long text without "@" is scanned once, not once
# from every character (quadratic: a 20,000-character message took seconds).
_EMAIL = re.compile(r"(?<![^@\s<>\"',;:()])[^@\s<>\"',;:()]+@[^@\s<>\"',;:()]+")
_UPN = re.compile(r"\b[A-Za-z][0-9]{11}[0-9A-Za-z]\b")
# 2011-05-04, 04/05/2011, 4.5.11, 4 May 2011: dates of birth in any of the forms registers hold.
_DATE = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{2,4}\b",
    re.IGNORECASE,
)


def scrub(text: str) -> str:
    """`text` with email addresses, UPNs and dates replaced by placeholders."""
    text = _EMAIL.sub("[email]", text)
    text = _UPN.sub("[upn]", text)
    return _DATE.sub("[date]", text)


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub(str(value))


class CloudJsonFormatter(logging.Formatter):
    """One JSON line per record: severity, message, logger, and the FIELDS the record carries."""

    def format(self, record: logging.LogRecord) -> str:
        message = scrub(record.getMessage())
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's class only: its text may quote a cell (a name, a date) from the register.
            message = f"{message} ({record.exc_info[0].__name__})"
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, record.levelname),
            "message": message,
            "logger": record.name,
        }
        for key in FIELDS:
            if key in record.__dict__:
                entry[key] = _plain(record.__dict__[key])
        return json.dumps(entry, ensure_ascii=False, sort_keys=False)


_HANDLER_NAME = "review-keeper-json"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted (as logging.lastResort does), so a replaced stream
    (a test's capture, a reconfigured runtime) still gets the lines."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def use_cloud_logging(level: int = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """Send the root logger's records to `stream` (standard error) as JSON lines. Safe to call on every request: the
    handler is installed once."""
    root = logging.getLogger()
    for handler in root.handlers:
        if handler.get_name() == _HANDLER_NAME:
            return handler
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(CloudJsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    return handler


__all__ = ["FIELDS", "CloudJsonFormatter", "scrub", "use_cloud_logging"]
