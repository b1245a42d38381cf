"""The register's contract (docs/register.md): fields and header aliases, cell parsing, finding the table, and row
validation into typed records. Pure: imports only review_rules and the standard library."""

from .cells import (
    CellError,
    cell_text,
    is_blank,
    parse_date,
    parse_decision,
    parse_flag,
    parse_on_roll,
    parse_upn,
    parse_year,
    show_value,
    upn_check_letter,
)
from .fields import ALIASES, FIELD_LABELS, field_for_header, fold_header, normalise_header
from .header import check_required, choose_register, find_header
from .model import DATE_FIELDS, Field, HeaderMatch, PupilRecord
from .validate import row_key, validate_rows

__all__ = [
    "ALIASES",
    "DATE_FIELDS",
    "FIELD_LABELS",
    "CellError",
    "Field",
    "HeaderMatch",
    "PupilRecord",
    "cell_text",
    "check_required",
    "choose_register",
    "field_for_header",
    "find_header",
    "fold_header",
    "is_blank",
    "normalise_header",
    "parse_date",
    "parse_decision",
    "parse_flag",
    "parse_on_roll",
    "parse_upn",
    "parse_year",
    "row_key",
    "show_value",
    "upn_check_letter",
    "validate_rows",
]
