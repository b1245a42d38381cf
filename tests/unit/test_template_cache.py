"""Compiled templates kept between runs (functions/rendering.py, issue 16): Jinja's own file cache, private to the
user, named for the product; a temp folder that cannot hold it makes rendering slower, never fail."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import jinja2
import pytest

from functions.rendering import _bytecode_cache


def _env(cache: jinja2.BytecodeCache | None) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.DictLoader({"a.txt.j2": "Dear {{ name }}"}), bytecode_cache=cache)


def test_compiled_templates_are_kept_under_the_products_own_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cache = _bytecode_cache(jinja2)
    assert isinstance(cache, jinja2.FileSystemBytecodeCache)
    assert _env(cache).get_template("a.txt.j2").render(name="Sam") == "Dear Sam"
    kept = list(Path(cache.directory).iterdir())
    assert len(kept) == 1
    assert kept[0].name.startswith("review-keeper-v1-")
    assert Path(cache.directory).stat().st_mode & 0o077 == 0  # private to this user
    # A second run reads the compiled code instead of compiling again, and renders the same.
    assert _env(cache).get_template("a.txt.j2").render(name="Sam") == "Dear Sam"


def test_a_temp_folder_that_cannot_hold_a_cache_only_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))
    assert _bytecode_cache(jinja2) is None


def test_a_cache_folder_that_vanished_still_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cache = _bytecode_cache(jinja2)
    assert isinstance(cache, jinja2.FileSystemBytecodeCache)
    shutil.rmtree(cache.directory)  # e.g. a temp cleaner between runs: the compiled code cannot be written
    assert _env(cache).get_template("a.txt.j2").render(name="Sam") == "Dear Sam"
