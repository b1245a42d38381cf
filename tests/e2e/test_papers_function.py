"""The cloud's `papers` target (scripts/deploy.sh deploys it as keeper-papers): a pack published by `main.py papers
--send` for a trust's school on an online register, with KEEPER_PAPERS_URL set where it ran, is served by the function
from that school's folder under KEEPER_STATE_DIR; a link for another school, or an altered one, gets nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from functions import bootstrap
from functions.evaluate import london_today
from functions.papers import publish
from tests.e2e.cloud_fixtures import app_client

SECRET = "papers-function-secret-2b3c4d5e6f7a8b9c"
OAK = "https://oakfield.sharepoint.com/:x:/s/SEND/EOakOakOak?e=Oak1"
ELM = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
PAPERS_URL = "https://keeper-papers-abc123.europe-west2.run.app"
PDF = b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def trust(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    config = tmp_path / "keeper.toml"
    config.write_text(
        f'[mail]\ntransport = "outbox"\n\n[[schools]]\nid = "oak"\nregister = "{OAK}"\n\n'
        f'[[schools]]\nid = "elm"\nregister = "{ELM}"\n',
        encoding="utf-8",
    )
    env = {
        "KEEPER_CONFIG": str(config),
        "KEEPER_STATE_DIR": str(tmp_path / "state"),
        "KEEPER_LINK_SECRET": SECRET,
        "KEEPER_BASE_URL": "https://keeper-confirm-abc123.europe-west2.run.app",
    }
    for name in ("KEEPER_REGISTER", "KEEPER_SCHOOL_ID", "KEEPER_PAPERS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # the function's environment, as deploy.sh sets it
    return env


def test_a_pack_published_for_a_trust_school_is_served_by_the_papers_function(
    trust: dict[str, str], tmp_path: Path
) -> None:
    meeting = london_today() + timedelta(days=20)
    # The SENDCo's (or IT lead's) run of `main.py papers OAK-LINK --pupil ... --send`, with the deploy's hint set.
    here = bootstrap.local(OAK, trust["KEEPER_CONFIG"], env={**trust, "KEEPER_SCHOOL_ID": "oak",
                                                             "KEEPER_PAPERS_URL": PAPERS_URL})  # fmt: skip
    sending = here.papers_sending()
    assert sending.register_folder == tmp_path / "state" / "oak"  # the folder keeper-papers serves oak's links from
    pack = sending.signer.pack_id("B801200005001", meeting)
    (tmp_path / "pack.pdf").write_bytes(PDF)
    publish(tmp_path / "pack.pdf", sending.register_folder, pack)
    link = sending.signer.link(pack, "parent@example.org", meeting)
    assert link.startswith(f"{PAPERS_URL}/papers?t=")  # not the confirm page, which does not serve papers

    client = app_client("papers")
    token = link.split("?t=", 1)[1]
    response = client.get(f"/papers?t={token}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"].startswith("application/pdf")
    assert client.get(f"/papers?t={token[:-3]}xyz").status_code == 400  # altered
    # The same pack id signed for the other school is looked for in elm's folder only.
    elm = bootstrap.local(ELM, trust["KEEPER_CONFIG"], env={**trust, "KEEPER_SCHOOL_ID": "elm",
                                                            "KEEPER_PAPERS_URL": PAPERS_URL})  # fmt: skip
    other = elm.papers_sending().signer.link(pack, "parent@example.org", meeting).split("?t=", 1)[1]
    assert client.get(f"/papers?t={other}").status_code == 404


def test_a_papers_url_that_is_not_an_address_is_refused_on_load(trust: dict[str, str]) -> None:
    with pytest.raises(bootstrap.SettingsError, match="KEEPER_PAPERS_URL"):
        bootstrap.runtime({**trust, "KEEPER_PAPERS_URL": "keeper-papers"})
