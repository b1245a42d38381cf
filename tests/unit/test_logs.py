"""The JSON log lines: Cloud Logging's fields, and nothing personal even when a message is careless."""

from __future__ import annotations

import io
import json
import logging

from functions.logs import CloudJsonFormatter, scrub, use_cloud_logging


def test_scrub_blanks_emails_upns_and_dates() -> None:
    text = "a.b@example.org B801200005001 2012-03-04 04/03/2012 4.3.12 4 March 2012 row 7 has 3 chasers"
    assert scrub(text) == "[email] [upn] [date] [date] [date] [date] row 7 has 3 chasers"


def test_a_record_is_one_json_line_with_severity_message_and_counts() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(CloudJsonFormatter())
    logger = logging.getLogger("test.logs.one")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.warning("sent to %s", "parent@example.org", extra={"counts": {"emails": 3}, "school": "oak"})
    try:
        raise ValueError("Amelia Rowe 14/03/2018")
    except ValueError:
        logger.exception("failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first == {
        "severity": "WARNING",
        "message": "sent to [email]",
        "logger": "test.logs.one",
        "counts": {"emails": 3},
        "school": "oak",
    }
    assert second["severity"] == "ERROR"
    assert second["message"] == "failed (ValueError)"
    assert "Amelia" not in stream.getvalue()


def test_installing_twice_adds_one_handler() -> None:
    root = logging.getLogger()
    first = use_cloud_logging()
    second = use_cloud_logging()
    assert first is second
    assert sum(1 for h in root.handlers if h is first) == 1
