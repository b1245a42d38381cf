"""The roles on the Contributions tab (docs/register.md s6) and the words SENDCos write for them."""

from __future__ import annotations

from .fields import normalise_header

PARENT = "Parent/carer"
ROLES: tuple[str, ...] = (
    PARENT,
    "Class teacher",
    "Subject teacher",
    "Teaching assistant",
    "EP",
    "SALT",
    "OT",
    "Social worker",
    "Health",
    "Young person",
    "Other",
)

# Words SENDCos write for the same roles; matched after normalise_header (letters and digits only).
_ROLE_ALIASES: dict[str, str] = {
    "parent": PARENT,
    "carer": PARENT,
    "parentcarer": PARENT,
    "parentsandcarers": PARENT,
    "parents": PARENT,
    "mum": PARENT,
    "dad": PARENT,
    "teacher": "Class teacher",
    "formtutor": "Class teacher",
    "tutor": "Class teacher",
    # Support staff give the class teacher's kind of advice (the teacher/TA form, docs/register.md s8): one canonical
    # role, so "TA" on one row and "Teaching assistant" on the next are the same contributor's key.
    "ta": "Teaching assistant",
    "tas": "Teaching assistant",
    "lsa": "Teaching assistant",
    "hlta": "Teaching assistant",
    "learningsupportassistant": "Teaching assistant",
    "higherlevelteachingassistant": "Teaching assistant",
    "supportassistant": "Teaching assistant",
    "classroomassistant": "Teaching assistant",
    "teachingassistants": "Teaching assistant",
    "educationalpsychologist": "EP",
    "psychologist": "EP",
    "speechandlanguage": "SALT",
    "speechandlanguagetherapist": "SALT",
    "slt": "SALT",
    "occupationaltherapist": "OT",
    "occupationaltherapy": "OT",
    "socialcare": "Social worker",
    "sw": "Social worker",
    "nhs": "Health",
    "schoolnurse": "Health",
    "paediatrician": "Health",
    "pupil": "Young person",
    "child": "Young person",
    "student": "Young person",
    "yp": "Young person",
}
_ROLE_INDEX: dict[str, str] = {normalise_header(r): r for r in ROLES} | _ROLE_ALIASES


def canonical_role(text: object) -> str | None:
    """The role as listed in ROLES, or None when not recognised."""
    return _ROLE_INDEX.get(normalise_header(text))


__all__ = ["PARENT", "ROLES", "canonical_role"]
