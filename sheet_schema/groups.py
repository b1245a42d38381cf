"""Which reviews belong together (docs/register.md s5): siblings, and pupils seen by the same professional, read from
columns the register may have. The year's plan puts their meetings on the same or adjacent days.

The columns are optional and never validated as errors: a blank cell means no group. Recognised headers (matched as
every header is, ignoring case, punctuation and spacing): a family column ("Family", "Siblings", "Sibling group",
"Family group") and professional columns ("EP", "Educational psychologist", "SALT", "Speech and language therapist",
"OT", "Occupational therapist"). A cell may name several people, separated by commas or semicolons.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .cells import cell_text
from .fields import normalise_header
from .model import HeaderMatch

# normalised header -> the group kind it names
GROUP_HEADERS: dict[str, str] = {
    **dict.fromkeys(("family", "siblings", "sibling", "siblinggroup", "familygroup", "familyid", "family"), "family"),
    **dict.fromkeys(("ep", "educationalpsychologist", "epname", "namedep", "psychologist"), "ep"),
    **dict.fromkeys(("salt", "speechandlanguagetherapist", "speechandlanguage", "saltname", "slt"), "salt"),
    **dict.fromkeys(("ot", "occupationaltherapist", "otname"), "ot"),
}
_SPLIT = re.compile(r"[;,/]+")
_NOBODY = frozenset({"", "-", "n/a", "na", "none", "no", "nil"})


def group_columns(header: HeaderMatch) -> dict[int, str]:
    """column index -> group kind, among the columns the register's contract does not otherwise read."""
    return {
        index: GROUP_HEADERS[normalise_header(text)]
        for index, text in header.ignored.items()
        if normalise_header(text) in GROUP_HEADERS
    }


def groups_of(values: Sequence[object], columns: dict[int, str]) -> tuple[str, ...]:
    """The row's group keys, e.g. ("family:khan", "ep:dr okafor"): compared ignoring case and spacing."""
    keys: list[str] = []
    for index, kind in sorted(columns.items()):
        text = cell_text(values[index]) if index < len(values) else ""
        if " ".join(text.split()).casefold() in _NOBODY:
            continue
        for part in _SPLIT.split(text):
            name = " ".join(part.split()).casefold()
            if name and name not in _NOBODY:
                keys.append(f"{kind}:{name}")
    return tuple(dict.fromkeys(keys))
