"""One cleaning function per output format (issue 10 item 11): what each refuses, what each keeps."""

from __future__ import annotations

from email import message_from_bytes

import pytest

from functions.mailer import to_message
from functions.rendering import OutgoingEmail
from sheet_schema.output_text import EXCEL_CELL_LIMIT, docx_text, header_text, ics_text, xlsx_text

HOSTILE = "Ann\x07\x00\x1b[31m \ud800Smith\ufffe\uffff\x0b\x0c"


@pytest.mark.parametrize("clean", [xlsx_text, docx_text])
def test_xml_formats_keep_every_xml_character_and_drop_the_rest(clean) -> None:  # type: ignore[no-untyped-def]
    assert clean(HOSTILE) == "Ann[31m Smith"
    assert clean("tab\there\nline\r") == "tab\there\nline\r"
    assert clean("émoji 🎉 עברית \u202e") == "émoji 🎉 עברית \u202e"


def test_a_workbook_cell_is_cut_at_excels_limit() -> None:
    assert len(xlsx_text("x" * 40_000)) == EXCEL_CELL_LIMIT


def test_a_calendar_line_keeps_line_breaks_only() -> None:
    assert ics_text("a\x07b\r\nc\rd\te\x85") == "ab\nc\nde"


def test_an_email_header_is_one_line() -> None:
    assert header_text("Evie L.\r\nBcc: all@example.org\x07") == "Evie L. Bcc: all@example.org"


def test_a_subject_with_a_line_break_cannot_forge_a_header() -> None:
    email = OutgoingEmail(
        kind="request",
        to="ep@example.org",
        pupil_row=2,
        subject="Annual review for Ann\r\nBcc: everyone@example.org S.\x07",
        text="body",
        html="<p>body</p>",
        reply_to=None,
    )
    parsed = message_from_bytes(to_message(email, "Keeper <keeper@example.org>", "School\nX").as_bytes())
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Annual review for Ann Bcc: everyone@example.org S."
    assert parsed["From"] == "School X <keeper@example.org>"
