"""openpyxl without numpy, for a command-line sweep (issue 16).

openpyxl imports numpy whenever it is installed (pandas and OR-Tools bring it), only so that a cell may be given a numpy
number (`openpyxl.compat.numbers`). A sweep never gives one: every value it writes is a str, int, float, bool, date or
datetime (connectors/workbook_cells.py). Yet importing numpy costs about 0.17 s of CPU and 12 MB, a seventh of what a
bare openpyxl load and save of a 2,000-pupil register costs (`python -m scripts.bench_sweep`). So `python main.py sweep`
imports openpyxl with numpy hidden; numpy stays importable afterwards, for any code that wants it (none in a sweep).
Commands that write pandas or OR-Tools numbers into workbooks (`report`, `plan`, `la-figures`) import openpyxl as usual.
"""

from __future__ import annotations

import sys


def import_openpyxl_without_numpy() -> bool:
    """Import openpyxl as if numpy were not installed. Returns False (and does nothing) when openpyxl or numpy is already
    imported in this process: a test runner, a notebook or a server keeps openpyxl exactly as it found it."""
    if "openpyxl" in sys.modules or "numpy" in sys.modules:
        return False
    sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` now raises ImportError, as if absent
    try:
        import openpyxl  # noqa: F401
    finally:
        del sys.modules["numpy"]
    return True
