"""Types of the register's contract: the fields the product understands, where they sit, and a validated row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cached_property

from review_rules.model import Decision, ReviewClock, ReviewFacts, Status


class Field(StrEnum):
    """A register column the product understands (docs/register.md s2)."""

    NAME = "name"
    FORENAME = "forename"
    SURNAME = "surname"
    DOB = "dob"
    PLAN_ISSUED = "plan_issued"
    LAST_REVIEW = "last_review"
    UPN = "upn"
    YEAR = "year"
    PLANNED_MEETING = "planned_meeting"
    REPORT_SENT = "report_sent"
    LA_DECISION = "la_decision"
    DECISION = "decision"
    AMENDMENT_NOTICE = "amendment_notice"
    FINAL_PLAN = "final_plan"
    TRANSFER_DATE = "transfer_date"
    LA = "la"
    ON_ROLL = "on_roll"
    LOOKED_AFTER = "looked_after"
    PARENT_EMAIL = "parent_email"
    LA_REF = "la_ref"  # the LA's own reference for the plan, quoted in chasers to the LA (issue 14)
    YOUNG_PERSON_EMAIL = "young_person_email"  # their own address, from the end of compulsory school age (rules s7)


DATE_FIELDS: frozenset[Field] = frozenset(
    {
        Field.DOB,
        Field.PLAN_ISSUED,
        Field.LAST_REVIEW,
        Field.PLANNED_MEETING,
        Field.REPORT_SENT,
        Field.LA_DECISION,
        Field.AMENDMENT_NOTICE,
        Field.FINAL_PLAN,
        Field.TRANSFER_DATE,
    }
)


@dataclass(frozen=True)
class HeaderMatch:
    """Where the register's table is. Columns are 0-based indexes into a row; rows are the sheet's 1-based numbers."""

    sheet: str
    header_row: int
    columns: dict[Field, int]  # field -> column index
    header_text: dict[Field, str]  # field -> the header as the SENDCo wrote it (for messages)
    ar_columns: dict[str, int] = field(default_factory=dict)  # product header ("AR status") -> column index
    ignored: dict[int, str] = field(default_factory=dict)  # columns the product does not know: kept, never touched

    @cached_property
    def row_sets(self) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
        """(the product's AR columns, the name columns, every known column), worked out once per header: the row
        checks ask for them for every row, several times a sweep (docs/register.md s1)."""
        names = frozenset(self.columns[f] for f in (Field.NAME, Field.FORENAME, Field.SURNAME) if f in self.columns)
        return frozenset(self.ar_columns.values()), names, frozenset(self.columns.values())

    @cached_property
    def name_and_field_columns(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(the name columns, the other known columns), neither holding a product column, in sheet order: what decides
        that a row is a pupil's, looked at first without going through every cell of the row."""
        product, names, known = self.row_sets
        return tuple(sorted(names - product)), tuple(sorted(known - names - product))


@dataclass(frozen=True)
class PupilRecord:
    """One register row after parsing and validation. When `errors` is non-empty the row is INVALID and `facts` may be
    None; everything else about the row is still reported."""

    row: int  # the sheet's own 1-based row number
    name: str  # as written (full name, or forename + " " + surname)
    first_name: str  # for emails: first name only
    surname_initial: str  # for emails: "S." style initial, "" if unknown
    upn: str | None
    facts: ReviewFacts | None
    la: str | None = None
    parent_email: str | None = None
    looked_after: bool = False
    la_ref: str | None = None
    young_person_email: str | None = None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors and self.facts is not None

    @property
    def short_name(self) -> str:
        """First name and surname initial: the most an email or log may carry."""
        return f"{self.first_name} {self.surname_initial}".strip()


@dataclass(frozen=True)
class ReviewedPupil:
    """A register row with its computed clock: what the sweep, the reports and the emails all work from."""

    record: PupilRecord
    clock: ReviewClock | None  # None for INVALID rows
    status: Status
    errors: tuple[str, ...] = ()  # as record.errors
    warnings: tuple[str, ...] = ()  # record.warnings plus those that need the clock (planned meeting after deadline)


__all__ = ["DATE_FIELDS", "Decision", "Field", "HeaderMatch", "PupilRecord", "date"]
