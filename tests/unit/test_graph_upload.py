"""Where an upload session goes on (connectors/graph_upload.py): the first byte of `nextExpectedRanges`. The answers are
those printed in Microsoft Graph's documentation of driveItem: createUploadSession (v1.0)."""

from __future__ import annotations

import pytest

from connectors.graph_upload import FRAGMENT_BYTES, next_offset


@pytest.mark.parametrize(
    ("answer", "fallback", "expected"),
    [
        ({"expirationDateTime": "2015-01-29T09:21:55.523Z", "nextExpectedRanges": ["26-"]}, 0, 26),  # after 0-25/128
        ({"nextExpectedRanges": ["12345-55232", "77829-99375"]}, 0, 12345),  # several gaps: the first
        ({"nextExpectedRanges": ["0-"]}, 99, 0),  # a new session wants everything
        ({"nextExpectedRanges": []}, 7, 7),  # nothing said: carry on from where the client was
        ({"nextExpectedRanges": ["12345"]}, 7, 7),  # the Outlook-attachment shape: not a drive's
        ({}, 7, 7),
        (None, 7, 7),
    ],
)
def test_next_offset(answer: object, fallback: int, expected: int) -> None:
    assert next_offset(answer, fallback) == expected


def test_fragments_are_multiples_of_320_kib_below_graphs_request_limit() -> None:
    assert FRAGMENT_BYTES % (320 * 1024) == 0
    assert FRAGMENT_BYTES < 4 * 1024 * 1024
