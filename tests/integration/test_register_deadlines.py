"""The contributor's page opens an online register with a short deadline (functions/bootstrap.py): a slow or
throttled Sheets or Graph answer must end in the queued page inside keeper-confirm's 60 s (scripts/deploy.sh), while
the sweep keeps its 120 s. Checked on the adapters the composition root builds (no request is made)."""

from __future__ import annotations

import re
from pathlib import Path

from connectors.graph_register import GraphRegister
from connectors.sheets import SheetsRegister
from functions import bootstrap

SHEET = "https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/edit"
GRAPH = "graph:b!drive-id/01ITEMID"


def _deadlines(ref: str, tmp_path: Path) -> tuple[float, float]:
    env = {"KEEPER_REGISTER": ref, "KEEPER_STATE_DIR": str(tmp_path), "SHEETS_EMULATOR_HOST": "127.0.0.1:9",
           "GRAPH_EMULATOR_HOST": "127.0.0.1:9"}  # fmt: skip
    dep = bootstrap.deployment(env=env)
    school = next(iter(dep.schools.values()))
    sweep, page = dep.open_register(school), dep.open_register_to_show(school)
    if isinstance(sweep, SheetsRegister):
        assert isinstance(page, SheetsRegister)
        return sweep.http.policy.deadline_s, page.http.policy.deadline_s
    assert isinstance(sweep, GraphRegister)
    assert isinstance(page, GraphRegister)
    return sweep.client.policy.deadline_s, page.client.policy.deadline_s


def test_the_page_gets_a_short_deadline_and_the_sweep_keeps_its_own(tmp_path: Path) -> None:
    assert _deadlines(SHEET, tmp_path / "s") == (120, bootstrap.CONTRIBUTOR_REGISTER_DEADLINE_S)
    assert _deadlines(GRAPH, tmp_path / "g") == (120, bootstrap.CONTRIBUTOR_REGISTER_DEADLINE_S)


def test_a_read_and_a_write_and_the_files_fit_inside_keeper_confirms_timeout() -> None:
    deploy = (Path(__file__).resolve().parents[2] / "scripts" / "deploy.sh").read_text(encoding="utf-8")
    confirm = re.search(r"deploy keeper-confirm .*?--timeout (\d+)s", deploy, re.S)
    assert confirm is not None
    from connectors.storage_onedrive import OneDrivePolicy

    files = OneDrivePolicy().deadline_s
    assert 2 * bootstrap.CONTRIBUTOR_REGISTER_DEADLINE_S + files < int(confirm.group(1))
