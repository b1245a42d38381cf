"""The pupil's key in the sent-ledger and the LA chasers tab (issue 14): shared by functions/la_chasing.py and
functions/status_emails.py, and kept apart so the planner can import it without the settings (an import cycle)."""

from __future__ import annotations

import hashlib

from sheet_schema.model import ReviewedPupil


def pupil_key(pupil: ReviewedPupil) -> str:
    # The ledger and the LA chasers tab never hold names: a digest of the UPN (or the name and row when none).
    r = pupil.record
    basis = r.upn or f"{r.name}\x1f{r.row}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


__all__ = ["pupil_key"]
