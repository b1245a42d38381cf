"""The evidence for each pupil's review record (docs/register.md s8): the Advice tab's submissions matched to pupils,
their full text read back from the evidence store where a cell was cut, compiled by reports/evidence.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from connectors.base import RegisterData
from connectors.storage_base import EvidenceStore
from reports.evidence import CompiledEvidence, compile_evidence
from sheet_schema.advice import ADVICE_SHEET, Submission, parse_advice
from sheet_schema.contributions import CONTRIBUTIONS_SHEET, Contribution, match_pupil, parse_contributions
from sheet_schema.model import ReviewedPupil

from .submit import with_full_text


def _as_contribution(submission: Submission) -> Contribution:
    return Contribution(
        0, submission.pupil_ref, submission.role, submission.name, submission.email, None, None, 0, None, ""
    )


def evidence_by_row(
    data: RegisterData, pupils: Sequence[ReviewedPupil], store: EvidenceStore | None
) -> dict[int, CompiledEvidence]:
    """Compiled evidence by the pupil's register row, for every pupil with a clock (others get no record)."""
    sheets = {s.title: s.rows for s in data.sheets}
    contributions, _ = parse_contributions(sheets.get(CONTRIBUTIONS_SHEET, []))
    submissions = parse_advice(sheets.get(ADVICE_SHEET, []))
    subs_by_row: dict[int, list[Submission]] = defaultdict(list)
    for submission in submissions:
        pupil = match_pupil(_as_contribution(submission), pupils)
        if pupil is not None:
            subs_by_row[pupil.record.row].append(submission)
    contributions_by_row: dict[int, list[Contribution]] = defaultdict(list)
    for contribution in contributions:
        pupil = match_pupil(contribution, pupils)
        if pupil is not None:
            contributions_by_row[pupil.record.row].append(contribution)
    out: dict[int, CompiledEvidence] = {}
    for pupil in pupils:
        if pupil.clock is None:
            continue
        row = pupil.record.row
        mine = [with_full_text(s, store) for s in subs_by_row.get(row, [])]
        out[row] = compile_evidence(mine, contributions_by_row.get(row, []), pfa_required=pupil.clock.pfa_required)
    return out


__all__ = ["evidence_by_row"]
