"""What register text may go into each output the product writes: one cleaning function per format.

A register cell can hold anything a keyboard, a paste or a Google Sheet lets through (a BEL character, a lone
surrogate from a broken export, 40,000 characters, text starting with "="). Each output format refuses some of it
and a library raises when it meets it (openpyxl's IllegalCharacterError, python-docx's ValueError), which stopped a
whole report for one odd character. So every text the product writes goes through the function for its format:

- `xlsx_text`: a workbook cell (the register's AR columns, the overview); written as a string cell, never a formula
  (docs/register.md s5), so the caller must also set the cell's type to text (see `connectors/workbook_cells.py` and
  `reports/overview.py`);
- `docx_text`: a Word document (review records): XML 1.0 characters only;
- `ics_text`: a calendar property (RFC 5545 3.3.11 allows no control characters other than the escaped line break);
- `header_text`: an email header (subject, display name): one line, no control characters (RFC 5322 2.2).

Pure and cheap: each is one regular expression without nested repetition (linear in the text).
"""

from __future__ import annotations

import re

# Excel keeps at most 32,767 characters in a cell and cuts or refuses longer text on open.
EXCEL_CELL_LIMIT = 32_767

# XML 1.0 (the format of .xlsx and .docx parts) allows tab, line feed, carriage return and everything from U+0020
# except the surrogates and U+FFFE/U+FFFF. openpyxl's own ILLEGAL_CHARACTERS_RE covers only the C0 controls.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# In a calendar or a header line no control character at all: C0, DEL and C1, surrogates, U+FFFE/U+FFFF.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CONTROL_KEEP_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")


def xlsx_text(value: str) -> str:
    """Text for a workbook cell: XML characters only, at most Excel's 32,767."""
    return _NOT_XML.sub("", value)[:EXCEL_CELL_LIMIT]


def docx_text(value: str) -> str:
    """Text for a Word document run or table cell: XML characters only."""
    return _NOT_XML.sub("", value)


def ics_text(value: str) -> str:
    """Text for a calendar property (SUMMARY, DESCRIPTION...): line breaks kept (the library escapes them), every
    other control character dropped."""
    return _CONTROL_KEEP_NEWLINE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def header_text(value: str) -> str:
    """Text for an email header: a line break or tab becomes a space, other control characters go, and spaces are
    collapsed, so a name can never start a second header line."""
    return _SPACES.sub(" ", _CONTROL.sub(lambda m: " " if m.group().isspace() else "", value)).strip()


__all__ = ["EXCEL_CELL_LIMIT", "docx_text", "header_text", "ics_text", "xlsx_text"]
