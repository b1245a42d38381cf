"""The test tiers. `pytest -m "not slow"` runs the unit and integration tiers in under a minute while you work;
plain `pytest` (README, CI) runs everything.

Slow, by where the test lives or what it needs, so that a new test in those places is slow without anyone
remembering to mark it:
- every end-to-end test (tests/e2e/: whole CLI runs in subprocesses, functions-framework, Chromium);
- every test marked `libreoffice` (it starts soffice for a conversion);
- the property-based searches that run hundreds of hypothesis examples (listed below);
- the scale cases of a parametrized test (300 pupils or more); its small case stays in the fast tier.
Anything else that takes seconds gets `@pytest.mark.slow` where it is defined.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _replayed_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests compute as of fixed dates (tables of literal dates, 2025 and 2026): `--today` more than a year from the real
    date is otherwise a typo (exit 2). KEEPER_TODAY_ANCHOR=any keeps only the 2000-2099 check; a test of the typo
    check sets its own anchor."""
    import os

    if "KEEPER_TODAY_ANCHOR" not in os.environ:
        monkeypatch.setenv("KEEPER_TODAY_ANCHOR", "any")


SLOW_FOLDERS = ("e2e",)
# Hypothesis-heavy modules: each runs hundreds of generated registers (about 30 s and 4 s on the 2-core machine).
SLOW_MODULES = ("unit/test_schema_properties.py", "unit/test_oracle_differential.py")
# Markers whose tests are slow by nature.
SLOW_MARKERS = ("libreoffice",)
# Parameters that give a register's size, and the size from which a case is a scale case.
SIZE_PARAMETERS = ("pupils", "count", "rows")
SCALE_FROM = 300


def _is_scale_case(item: pytest.Item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return any(isinstance(params.get(name), int) and params[name] >= SCALE_FROM for name in SIZE_PARAMETERS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            where = item.path.resolve().relative_to(TESTS).as_posix()
        except ValueError:
            continue
        if (
            where.split("/", 1)[0] in SLOW_FOLDERS
            or where in SLOW_MODULES
            or any(item.get_closest_marker(name) for name in SLOW_MARKERS)
            or _is_scale_case(item)
        ):
            item.add_marker(pytest.mark.slow)
