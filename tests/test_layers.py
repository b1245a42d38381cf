"""The house rules that keep the layout honest, read from the source tree (ARCHITECTURE.md, CONTRIBUTING.md).

1. Imports point down the layers, never up: review_rules <- sheet_schema <- connectors / reports <- functions <- main.
2. Only the composition root (functions/bootstrap.py) reads the environment.
3. Nothing the product ships (code, templates, README and the docs) cites a path outside the repository: someone who
   clones it must be able to read every rule the code cites (docs/rules.md, docs/register.md).
4. Product files have one job each and stay under about 400 lines: none over 450.

Each failure names the file and line. The checks parse the source with `ast`; nothing is imported or run.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The product's layers, bottom first. A layer may import the standard library, the layers named in its `may_import`,
# its own package, and the third-party packages in `third_party` (None: any third-party package).
PRODUCT_PACKAGES = ("review_rules", "sheet_schema", "connectors", "reports", "functions")
PRODUCT_TOP = ("main",)  # main.py, the entry points
NOT_PRODUCT = ("scripts", "tests")  # the demo, benchmarks and tests sit beside main: nothing below main imports them
FIRST_PARTY = PRODUCT_PACKAGES + PRODUCT_TOP + NOT_PRODUCT


@dataclass(frozen=True)
class Layer:
    may_import: frozenset[str]
    third_party: frozenset[str] | None  # None: any third-party package (an adapter brings its own library)


LAYERS: dict[str, Layer] = {
    # The statutory clock: pure functions over dates (DESIGN: stdlib, holidays, dateutil).
    "review_rules": Layer(frozenset(), frozenset({"holidays", "dateutil"})),
    # The register's contract: pure, knows nothing of openpyxl or gspread.
    "sheet_schema": Layer(frozenset({"review_rules"}), frozenset({"holidays", "dateutil"})),
    # Adapters to the outside: each brings its own library; they never reach up into the jobs or the reports.
    "connectors": Layer(frozenset({"review_rules", "sheet_schema"}), None),
    # Documents made from computed reviews: tables, charts, Word, calendar files.
    "reports": Layer(
        frozenset({"review_rules", "sheet_schema"}),
        frozenset({"holidays", "dateutil", "pandas", "numpy", "matplotlib", "docx", "openpyxl", "icalendar"}),
    ),
    # The jobs: everything below them, never the entry points.
    "functions": Layer(frozenset({"review_rules", "sheet_schema", "connectors", "reports"}), None),
    # The entry points: anything.
    "main": Layer(frozenset(FIRST_PARTY), None),
}

# The composition root is the only code that reads the environment (issue 11 item 1).
COMPOSITION_ROOT = "functions/bootstrap.py"

# Environment reads that predate the composition root. Tolerated for now, one line each with the reason; the list is
# emptied when functions/bootstrap.py lands and builds the settings and adapters for everyone. An entry that no longer
# reads the environment fails too, so the list only shrinks.
ENVIRONMENT_READERS_TOLERATED: dict[str, str] = {}

# Citations of the team's working spec, which lives outside the repository. In the product, cite docs/ instead.
OUTSIDE_PATHS = re.compile(r"\.\./shared|shared/spec")
# Bare names of those spec files ("review-rules.md s5", "register.md section 7", "DESIGN.md") also point outside:
# the repository's own are docs/rules.md and docs/register.md.
BARE_SPEC_NAMES = re.compile(r"(?<![\w/.-])(?:review-rules\.md|register\.md|DESIGN\.md)")

# Files that still cite the spec by its bare name, written before docs/ existed. Tolerated for now; the coordinator
# rewrites these citations to `docs/rules.md sN` / `docs/register.md sN` and empties the list. A listed file that no
# longer cites one fails, so the list only shrinks.
BARE_SPEC_CITATIONS_TOLERATED: frozenset[str] = frozenset()


# One job a file: about 400 lines at most, and never over this.
MAX_LINES = 450

# Files over MAX_LINES written before the split into one-job files (issue 11 item 3). Tolerated for now; the list is
# emptied as they are split. A listed file that is short enough (or gone) fails, so the list only shrinks.
LONG_FILES_TOLERATED: frozenset[str] = frozenset()


def product_modules() -> list[Path]:
    files = [REPO / "main.py"]
    for package in PRODUCT_PACKAGES:
        files.extend(sorted((REPO / package).rglob("*.py")))
    return [f for f in files if f.exists()]


def shipped_text_files() -> list[Path]:
    """Everything a newcomer reads: product code, templates, README, the docs and the guides."""
    files = product_modules()
    for package in PRODUCT_PACKAGES:
        files.extend(sorted(p for p in (REPO / package).rglob("*") if p.suffix in {".j2", ".html", ".txt", ".md"}))
    files.extend(REPO / name for name in ("README.md", "ARCHITECTURE.md", "CONTRIBUTING.md", "DEPLOY.md"))
    files.extend(sorted((REPO / "docs").rglob("*.md")))
    return [f for f in files if f.exists()]


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def layer_of(path: Path) -> str:
    name = rel(path)
    return "main" if name == "main.py" else name.split("/", 1)[0]


def _package_of_relative(path: Path, node: ast.ImportFrom) -> str:
    # `from .x import y` inside a package stays inside it; `from .. import` would climb out of a top-level package.
    parts = rel(path).split("/")[:-1]
    if node.level > len(parts):
        return "<outside the repository>"
    base = parts[: len(parts) - node.level + 1]
    return base[0] if base else (node.module or "").split(".")[0]


@dataclass(frozen=True)
class Import:
    line: int
    top: str  # the top-level package or module imported
    text: str


def imports_of(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):  # imports inside functions and TYPE_CHECKING blocks count too
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(node.lineno, alias.name.split(".")[0], f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            top = _package_of_relative(path, node) if node.level else (node.module or "").split(".")[0]
            yield Import(node.lineno, top, f"from {'.' * node.level}{node.module or ''} import ...")


def layer_violations(path: Path) -> list[str]:
    layer = layer_of(path)
    rules = LAYERS[layer]
    problems = []
    for imp in imports_of(path):
        if imp.top in sys.stdlib_module_names or imp.top == "__future__" or imp.top == layer:
            continue
        if imp.top in FIRST_PARTY or imp.top.startswith("<"):
            allowed = imp.top in rules.may_import
            why = f"{layer} may import only {', '.join(sorted(rules.may_import)) or 'no other product package'}"
        else:
            allowed = rules.third_party is None or imp.top in rules.third_party
            why = f"{layer} may use only {', '.join(sorted(rules.third_party or ()))} besides the standard library"
        if not allowed:
            problems.append(f"{rel(path)}:{imp.line}: `{imp.text}` points up the layers ({why}); see ARCHITECTURE.md")
    return problems


def environment_reads(path: Path) -> list[int]:
    """Lines that touch os.environ / os.getenv (reading, passing on, or writing the process environment)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
        ) or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in {"environ", "environb", "getenv", "getenvb"} for a in node.names)
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


@pytest.mark.parametrize("path", product_modules(), ids=rel)
def test_imports_point_down_the_layers(path: Path) -> None:
    problems = layer_violations(path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", product_modules(), ids=rel)
def test_only_the_composition_root_reads_the_environment(path: Path) -> None:
    name = rel(path)
    lines = environment_reads(path)
    if name == COMPOSITION_ROOT:
        return
    if name in ENVIRONMENT_READERS_TOLERATED:
        assert lines, (
            f"{name} no longer reads the environment: remove it from ENVIRONMENT_READERS_TOLERATED in tests/test_layers.py"
        )
        return
    assert not lines, "\n".join(
        f"{name}:{line}: reads the environment; only {COMPOSITION_ROOT} may (take the setting as an argument)"
        for line in lines
    )


def test_the_tolerated_environment_readers_exist() -> None:
    missing = [name for name in ENVIRONMENT_READERS_TOLERATED if not (REPO / name).exists()]
    assert not missing, f"remove from ENVIRONMENT_READERS_TOLERATED in tests/test_layers.py (no such file): {missing}"


@pytest.mark.parametrize("path", shipped_text_files(), ids=rel)
def test_nothing_cites_a_path_outside_the_repository(path: Path) -> None:
    problems = [
        f"{rel(path)}:{number}: cites a path outside the repository ({match.group(0)!r}); cite docs/rules.md sN or "
        f"docs/register.md sN instead"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for match in [OUTSIDE_PATHS.search(line)]
        if match
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", shipped_text_files(), ids=rel)
def test_spec_files_are_cited_by_their_docs_names(path: Path) -> None:
    name = rel(path)
    problems = [
        f"{name}:{number}: cites {match.group(0)!r}, which is not in the repository; cite docs/rules.md sN (rules) "
        f"or docs/register.md sN (the register) instead"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for match in [BARE_SPEC_NAMES.search(line)]
        if match
    ]
    if name in BARE_SPEC_CITATIONS_TOLERATED:
        assert problems, f"{name} cites docs/ now: remove it from BARE_SPEC_CITATIONS_TOLERATED in tests/test_layers.py"
        return
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", product_modules(), ids=rel)
def test_product_files_stay_short(path: Path) -> None:
    name = rel(path)
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if name in LONG_FILES_TOLERATED:
        assert lines > MAX_LINES, (
            f"{name} has {lines} lines now: remove it from LONG_FILES_TOLERATED in tests/test_layers.py"
        )
        return
    assert lines <= MAX_LINES, (
        f"{name}:{MAX_LINES + 1}: the file has {lines} lines (at most {MAX_LINES}); split it by job"
    )


def test_the_tolerated_long_files_exist() -> None:
    missing = sorted(name for name in LONG_FILES_TOLERATED if not (REPO / name).exists())
    assert not missing, f"remove from LONG_FILES_TOLERATED in tests/test_layers.py (no such file): {missing}"


def test_the_tolerated_citation_files_exist() -> None:
    missing = sorted(name for name in BARE_SPEC_CITATIONS_TOLERATED if not (REPO / name).exists())
    assert not missing, f"remove from BARE_SPEC_CITATIONS_TOLERATED in tests/test_layers.py (no such file): {missing}"


# The checks themselves must be able to fail: each is run on a small file with the mistake in it.


def test_the_layer_check_catches_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_repo = tmp_path
    (fake_repo / "review_rules").mkdir()
    bad = fake_repo / "review_rules" / "clock.py"
    bad.write_text("import datetime\n\nfrom sheet_schema.cells import parse_date\nimport openpyxl\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", fake_repo)
    problems = layer_violations(bad)
    assert [p.split(": ", 1)[0] for p in problems] == ["review_rules/clock.py:3", "review_rules/clock.py:4"]


def test_the_layer_check_lets_connectors_use_the_schema_but_not_the_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "connectors").mkdir()
    adapter = tmp_path / "connectors" / "sheets.py"
    adapter.write_text(
        "import requests\nfrom sheet_schema.ar_columns import AR_PREFIX\nfrom .base import Register\n"
        "from functions.sweep import run_sweep\nfrom reports import record\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    assert [p.split(": ", 1)[0] for p in layer_violations(adapter)] == [
        "connectors/sheets.py:4",
        "connectors/sheets.py:5",
    ]


def test_the_environment_check_sees_every_spelling(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom os import getenv\n\na = os.environ['X']\nb = os.getenv('Y')\nc = dict(os.environ)\nd = 1\n"
    )
    assert environment_reads(module) == [2, 4, 5, 6]


def test_the_citation_checks_see_outside_paths() -> None:
    assert OUTSIDE_PATHS.search("see ../shared/spec/review-rules.md section 4")
    assert BARE_SPEC_NAMES.search("# review-rules.md s5: final_by")
    assert BARE_SPEC_NAMES.search("(register.md section 7)")
    assert not BARE_SPEC_NAMES.search("# docs/rules.md s5 and docs/register.md s7")
