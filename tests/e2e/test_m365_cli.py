"""Microsoft 365 schools from the command line, as an IT lead and a SENDCo run it, against the Graph fake over a real
socket (GRAPH_EMULATOR_HOST): `m365-login` with msal's device code, a sweep of a SharePoint link, a revoked sign-in,
and a trust whose [[schools]] mix a Graph register with a workbook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from cryptography.fernet import Fernet

from functions import bootstrap
from functions.evaluate import evaluate
from tests.e2e.conftest import run_main
from tests.fakes.graph_api import FakeGraphServer
from tests.integration.test_sheets_parity import TODAY, write_register

LINK = "https://oakfield.sharepoint.com/:x:/s/SEND/ECliCliCli?e=Cli123"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def graph() -> Iterator[FakeGraphServer]:
    with FakeGraphServer() as fake:
        yield fake


def test_a_sweep_of_a_sharepoint_link_writes_the_ar_columns(tmp_path: Path, graph: FakeGraphServer) -> None:
    item = graph.add_file(write_register(tmp_path / "register.xlsx", 30), sharing_url=LINK)
    proc = run_main("sweep", LINK, "--today", TODAY.isoformat(), "--json", cwd=tmp_path,
                    env={"GRAPH_EMULATOR_HOST": graph.host})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert len(result["pupils"]) >= 25
    assert len(graph.graph_log) == 9
    ws = graph.saved(item)["EHCP register"]
    header = next(r for r in ws.iter_rows(values_only=True) if "AR status" in r)
    assert header[-10:][0] == "AR status"


def test_m365_login_then_a_sweep_and_a_revoked_grant_is_exit_2(tmp_path: Path, graph: FakeGraphServer) -> None:
    graph.add_file(write_register(tmp_path / "register.xlsx", 10), sharing_url=LINK)
    (tmp_path / "keeper.toml").write_text(f'[m365]\nclient_id = "{CLIENT_ID}"\ntenant = "school.example"\n')
    new_key = run_main("m365-login", "--new-key", cwd=tmp_path)
    key = new_key.stdout.splitlines()[0]
    Fernet(key.encode())  # a valid key
    env = {"GRAPH_EMULATOR_HOST": graph.host, "KEEPER_TOKEN_KEY": key, "KEEPER_STATE_DIR": str(tmp_path / "state")}
    graph.token_lifetime = 1  # every later run finds the access token expired and refreshes it silently
    login = run_main("m365-login", cwd=tmp_path, env=env)
    assert login.returncode == 0, login.stderr
    assert "FAKE-CODE" in login.stdout
    assert "Signed in as review-keeper@school.example" in login.stdout
    cache = tmp_path / "state" / "m365-tokens.bin"
    assert cache.is_file()
    assert b"refresh" not in cache.read_bytes()
    sweep = run_main("sweep", LINK, "--today", TODAY.isoformat(), cwd=tmp_path, env=env)  # keeper.toml found here
    assert sweep.returncode == 0, sweep.stderr
    assert graph.tokens_issued > 1  # refreshed silently from the stored sign-in (a 1 s token: at every request)
    graph.refresh_allowed = False  # the IT lead's tenant revokes the account's sessions
    revoked = run_main("sweep", LINK, "--config", "keeper.toml", "--today", TODAY.isoformat(), cwd=tmp_path, env=env)
    assert revoked.returncode == 2
    lines = revoked.stderr.strip().splitlines()
    assert lines == ["Review Keeper: The Microsoft 365 sign-in has expired or was revoked; the IT lead signs the "
                     "account in again with `python main.py m365-login`."]  # fmt: skip
    assert "Traceback" not in revoked.stderr


def test_a_trust_mixes_a_graph_register_with_a_workbook(tmp_path: Path, graph: FakeGraphServer) -> None:
    item = graph.add_file(write_register(tmp_path / "oak.xlsx", 12), sharing_url=LINK)
    write_register(tmp_path / "elm.xlsx", 8)
    config = tmp_path / "keeper.toml"
    config.write_text(
        '[mail]\ntransport = "none"\n\n'
        f'[[schools]]\nid = "oak"\nname = "Oakfield"\nregister = "{LINK}"\n\n'
        '[[schools]]\nid = "elm"\nname = "Elm Park"\nregister = "elm.xlsx"\n'
    )
    dep = bootstrap.deployment({"KEEPER_CONFIG": str(config), "GRAPH_EMULATOR_HOST": graph.host})
    oak, elm = dep.schools["oak"], dep.schools["elm"]
    assert oak.register == LINK
    data = dep.open_register(oak).read()
    assert evaluate(data, today=TODAY, settings=oak.settings).pupils
    assert dep.open_register(elm).read().sheets[0].title == "EHCP register"
    assert item.name == "oak.xlsx"
    assert openpyxl.load_workbook(tmp_path / "elm.xlsx").worksheets[0].title == "EHCP register"


def test_m365_settings_are_checked_in_keeper_toml(tmp_path: Path) -> None:
    from functions.settings import SettingsError

    config = tmp_path / "keeper.toml"
    config.write_text('[m365]\nclient_id = "x"\ntoken = "secret"\n')
    with pytest.raises(SettingsError, match=r"m365\.token"):
        bootstrap.load_settings(config, None, {})
    config.write_text('[mail]\ntransport = "graph"\n[m365]\nclient_id = "x"\ntenant = "t"\ncache_file = "/s/t.bin"\n')
    settings = bootstrap.load_settings(config, None, {"KEEPER_M365_TENANT": "env-tenant"})
    assert settings.mail.kind == "graph"
    m365 = bootstrap.m365_for(
        settings, bootstrap.runtime({"KEEPER_M365_TENANT": "env-tenant", "KEEPER_TOKEN_KEY": "SECRET-KEY-VALUE"})
    )
    assert (m365.client_id, m365.tenant, str(m365.token_cache)) == ("x", "env-tenant", "/s/t.bin")
    assert "SECRET-KEY-VALUE" not in repr(m365)


def test_a_trust_school_without_its_sign_in_fails_alone_with_one_logged_kind(
    tmp_path: Path, graph: FakeGraphServer, caplog: pytest.LogCaptureFixture
) -> None:
    from cryptography.fernet import Fernet as _Fernet

    from functions.cloud import sweep_schools
    from functions.sweep import run_sweep

    graph.add_file(write_register(tmp_path / "oak.xlsx", 12), sharing_url=LINK)
    write_register(tmp_path / "elm.xlsx", 8)
    config = tmp_path / "keeper.toml"
    config.write_text(
        f'[mail]\ntransport = "none"\n[m365]\nclient_id = "{CLIENT_ID}"\ntenant = "school.example"\n\n'
        f'[[schools]]\nid = "oak"\nname = "Oakfield"\nregister = "{LINK}"\n\n'
        '[[schools]]\nid = "elm"\nname = "Elm Park"\nregister = "elm.xlsx"\n'
    )
    env = {"KEEPER_CONFIG": str(config), "GRAPH_EMULATOR_HOST": graph.host, "KEEPER_TOKEN_KEY":
           _Fernet.generate_key().decode(), "KEEPER_STATE_DIR": str(tmp_path / "state")}  # fmt: skip
    dep = bootstrap.deployment(env)
    result = sweep_schools(
        dep.schools, ["oak", "elm"], today=TODAY, open_register=dep.open_register,
        runner=lambda school, register, today, dry_run: run_sweep(register, today=today, settings=school.settings),
    )  # fmt: skip
    oak, elm = result["schools"]
    assert not oak["ok"]
    assert oak["error"] == ("No Microsoft 365 sign-in is stored yet; the IT lead signs the account in again with "
                            "`python main.py m365-login`.")  # fmt: skip
    assert elm["ok"]
    assert [r.event for r in caplog.records if getattr(r, "school", "") == "oak"] == ["SignInError"]  # type: ignore[attr-defined]
    assert graph.graph_log == []  # nothing was asked of the register, so nothing was written
