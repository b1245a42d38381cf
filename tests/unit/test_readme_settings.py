"""README's keeper.toml example is what a SENDCo copies first: it must load as written."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from functions.settings import SettingsError, settings_from_mapping

README = Path(__file__).resolve().parents[2] / "README.md"


def toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_settings_example_loads_as_written() -> None:
    first = toml_blocks()[0]
    settings = settings_from_mapping(tomllib.loads(first), "README.md")
    assert settings.school_name == "Oakfield Academy"
    assert len(settings.rules.closures) > 0


@pytest.mark.parametrize("block", toml_blocks()[1:])
def test_every_other_readme_settings_block_loads(block: str) -> None:
    settings_from_mapping(tomllib.loads(block), "README.md")


def test_closures_typed_under_rules_says_where_they_belong() -> None:
    raw = tomllib.loads("[rules]\nanchor = 'decision'\nclosures = [{from = 2026-10-26, to = 2026-10-30}]\n")
    with pytest.raises(SettingsError, match=r"move `closures = \[\.\.\.\]` to the top of the file, above \[rules\]"):
        settings_from_mapping(raw, "keeper.toml")
