"""Documents made from computed reviews: review records (`reports.record`, Word), the caseload overview
(`reports.overview`, Excel with a chart) and the deadlines calendar (`reports.calendar`, .ics).

Import the submodule you need: this package does not import them itself, so that a cloud function that never writes
a report does not load pandas, matplotlib or python-docx at start-up.
"""

from reports.common import ContributionLine

__all__ = ["ContributionLine"]
