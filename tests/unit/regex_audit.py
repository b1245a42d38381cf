"""Every regular expression in the product, run on long adversarial text (issue 10 item 3). Run as a child process by
tests/unit/test_regex_linear.py, so a pattern that backtracks exponentially is killed by a timeout, not left to hang.

The patterns are collected by walking the product's source (so a new one is covered the day it is written): each
module-level compiled pattern (imported, so patterns built by concatenation are exact) and each `re.<function>(...)`
call with a literal pattern. For each, the methods the product calls on it (`.fullmatch`, `.search`, `re.sub`...) are
found by name in the same walk; a pattern whose use cannot be seen is run with `search`, the most demanding.

Each pattern meets text made of every character it names and a few others, one repeated or two alternating, at 5,000
and 20,000 characters. Linear matching takes about 4 times longer at the larger size; quadratic backtracking 16 times.
A pattern fails when the larger input takes over 0.25 s and more than 8 times the smaller.

Prints one JSON line per pattern: {"where", "pattern", "method", "input", "small", "large"} for each slow one, and
"start <where>" before each pattern, so a timeout names the pattern that hung.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("review_rules", "sheet_schema", "connectors", "functions", "reports")
RE_FUNCTIONS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
PATTERN_METHODS = RE_FUNCTIONS - {"compile"}
# Where each re function takes its flags positionally: re.compile(p, flags), re.search(p, s, flags), ...
FLAGS_POSITION = {"compile": 1, "split": 3, "sub": 4, "subn": 4}
SMALL, LARGE = 5_000, 20_000
SLOW_S, RATIO = 0.25, 8.0
# Patterns built at run time, which the walk cannot compile, each with why it cannot backtrack.
DYNAMIC_PATTERNS = {
    "connectors/files.py": "backup names: re.escape(the register's name), then fixed digit counts; fullmatch only",
}
CORE = ["a", "Z", "1", " ", "-", ".", "@", "'", "/", ":", "\t", "é", "\u2212", "_", ","]


@dataclass
class Found:
    where: str
    pattern: re.Pattern
    methods: set[str] = field(default_factory=set)


def product_files() -> Iterator[Path]:
    yield ROOT / "main.py"
    for package in PRODUCT_PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _flags(call: ast.Call, position: int) -> int:
    """The flags argument of an re call, when written as re.X | re.Y (the only way the product writes them)."""
    node = call.args[position] if len(call.args) > position else None
    for keyword in call.keywords:
        if keyword.arg == "flags":
            node = keyword.value
    if node is None:
        return 0
    return int(eval(compile(ast.Expression(node), "<flags>", "eval"), {"re": re}))


def _imports(tree: ast.Module, module: str) -> dict[str, tuple[str, str]]:
    """Names this module imports from another product module: local name -> (that module, its name there)."""
    out: dict[str, tuple[str, str]] = {}
    package = module.rsplit(".", 1)[0] if "." in module else ""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if package else []
                source = ".".join([*base, source] if source else base)
            for alias in node.names:
                out[alias.asname or alias.name] = (source, alias.name)
    return out


def collect() -> tuple[list[Found], list[str]]:
    """Every pattern, and the places whose pattern could not be resolved (the test fails on those)."""
    found: dict[tuple[str, int], Found] = {}
    unresolved: list[str] = []
    uses: dict[tuple[str, str], set[str]] = {}  # (module, pattern name) -> the methods the product calls on it
    named: list[tuple[tuple[str, str], Found]] = []
    for path in product_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = _module_name(path)
        module = importlib.import_module(name)
        imported = _imports(tree, name)
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                is_compile = isinstance(func, ast.Attribute) and func.attr == "compile"
                for target in node.targets:
                    if is_compile and isinstance(target, ast.Name):
                        value = getattr(module, target.id, None)
                        if isinstance(value, re.Pattern):
                            item = Found(f"{rel}:{node.lineno} {target.id}", value)
                            found[(rel, node.lineno)] = item
                            named.append(((name, target.id), item))
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            func = node.func
            if isinstance(func.value, ast.Name) and func.value.id == "re" and func.attr in RE_FUNCTIONS:
                key = (rel, node.lineno)
                arg = node.args[0] if node.args else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str | bytes):
                    pattern = re.compile(arg.value, _flags(node, FLAGS_POSITION.get(func.attr, 2)))
                    item = found.setdefault(key, Found(f"{rel}:{node.lineno}", pattern))
                    if func.attr != "compile":
                        item.methods.add(func.attr)
                elif key not in found and rel not in DYNAMIC_PATTERNS:
                    unresolved.append(f"{rel}:{node.lineno}")
            elif isinstance(func.value, ast.Name) and func.attr in PATTERN_METHODS:
                owner = imported.get(func.value.id, (name, func.value.id))
                uses.setdefault(owner, set()).add(func.attr)
    for key, item in named:
        item.methods |= uses.get(key, set())
    unresolved = [u for u in unresolved if not any(u == f"{r}:{n}" for r, n in found)]
    for item in found.values():
        if not item.methods:
            item.methods.add("search")  # its use is not visible here: the most demanding one
    return list(found.values()), unresolved


def inputs(pattern: re.Pattern, size: int) -> Iterator[tuple[str, str | bytes]]:
    if isinstance(pattern.pattern, bytes):
        for label, text in inputs(re.compile(pattern.pattern.decode("latin-1")), size):
            yield label, str(text).encode("utf-8")
        return
    source = pattern.pattern
    literal = sorted({ch for ch in source if ch.isprintable() and not ch.isalnum()} | set(CORE))
    letters = sorted({ch for ch in source if ch.isalpha()})[:12]
    alphabet = sorted(set(literal) | set(letters))
    for ch in alphabet:
        yield f"{ch!r} * n", ch * size
        yield f"'Y' + {ch!r} * n", "Y" + ch * size
        yield f"{ch!r} * n + '!'", ch * size + "!"
    for a, b in product(CORE[:8], repeat=2):
        if a != b:
            yield f"({a + b!r}) * n", (a + b) * (size // 2)
    yield "'x@' + 'a.' * n + ' '", "x@" + "a." * (size // 2) + " "
    yield "'1 ' * n + 'x'", "1 " * (size // 2) + "x"


def _runner(pattern: re.Pattern, method: str) -> Callable[[str | bytes], object]:
    if method in ("sub", "subn"):
        return lambda text: getattr(pattern, method)(text[:0], text)
    if method in ("findall", "split"):
        return lambda text: getattr(pattern, method)(text)
    if method == "finditer":
        return lambda text: list(pattern.finditer(text))
    return lambda text: getattr(pattern, method)(text)


def _timed(run: Callable[[str | bytes], object], text: str | bytes) -> float:
    start = time.perf_counter()
    run(text)
    return time.perf_counter() - start


def main() -> int:
    sys.path.insert(0, str(ROOT))
    patterns, unresolved = collect()
    for where in unresolved:
        print(json.dumps({"unresolved": where}), flush=True)
    print(json.dumps({"patterns": len(patterns)}), flush=True)
    for item in patterns:
        print(f"start {item.where}", flush=True)
        for method in sorted(item.methods):
            run = _runner(item.pattern, method)
            large_inputs = dict(inputs(item.pattern, LARGE))
            for label, small_text in inputs(item.pattern, SMALL):
                small = _timed(run, small_text)
                if small < SLOW_S / RATIO / 4:  # too fast at 5,000 to be slow at 20,000 unless worse than quadratic
                    continue
                large = _timed(run, large_inputs[label])
                if large > SLOW_S and large > RATIO * small:
                    record = {"where": item.where, "pattern": item.pattern.pattern, "method": method, "input": label}
                    print(json.dumps({**record, "small": round(small, 4), "large": round(large, 4)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
