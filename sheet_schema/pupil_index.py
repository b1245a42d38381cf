"""The register's pupils indexed by UPN and by the forms of their name, so that every Contributions row finds its pupil
through a dict, not a scan of every pupil (docs/register.md s6). Pure."""

from __future__ import annotations

import re

from .cells import cell_text
from .model import ReviewedPupil

_UPN = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")


def _fold(text: object) -> str:
    return " ".join(cell_text(text).split()).casefold()


def looks_like_upn(text: str) -> bool:
    return bool(_UPN.match(text.replace(" ", "").upper()))


def _name_forms(pupil: ReviewedPupil) -> set[str]:
    record = pupil.record
    forms = {_fold(record.name)}
    # "Surname, Forename" is how many MIS exports write names.
    parts = record.name.split()
    if len(parts) >= 2:
        forms.add(_fold(f"{parts[-1]}, {' '.join(parts[:-1])}"))
        forms.add(_fold(f"{parts[-1]} {' '.join(parts[:-1])}"))
    return forms


class PupilIndex(list[ReviewedPupil]):
    """The register's pupils, in order (a list, read-only by convention), that find a pupil by UPN or name form through
    a dict. A sweep matches every Contributions row to its pupil, several times over; scanning every pupil per row made
    it quadratic in the register's size (issue 16). The dicts are built on the first look-up, and again if the list's
    length has changed since."""

    _by_upn: dict[str, list[ReviewedPupil]]
    _by_name: dict[str, list[ReviewedPupil]]
    _refs: dict[str, tuple[ReviewedPupil, ...]]  # a Pupil cell's text -> its matches (contributions.pupils_for_ref)
    _indexed = -1  # the length the dicts were built for

    def _index(self) -> None:
        if self._indexed == len(self):
            return
        self._by_upn, self._by_name, self._refs = {}, {}, {}
        for pupil in self:
            if pupil.record.upn:
                self._by_upn.setdefault(pupil.record.upn.upper(), []).append(pupil)
            for form in _name_forms(pupil):
                self._by_name.setdefault(form, []).append(pupil)
        self._indexed = len(self)

    def by_upn(self, upn: str) -> list[ReviewedPupil]:
        self._index()
        return list(self._by_upn.get(upn, ()))

    def by_name(self, folded: str) -> list[ReviewedPupil]:
        self._index()
        return list(self._by_name.get(folded, ()))

    def ref_cache(self) -> dict[str, tuple[ReviewedPupil, ...]]:
        """Matches already worked out, by the Pupil cell's text: a sweep matches each Contributions row four or five
        times (seeding, planning, outstanding, the LA step); each text is folded and looked up once."""
        self._index()
        return self._refs
