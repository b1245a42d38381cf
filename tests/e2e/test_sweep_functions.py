"""sweep_http, sweep_event and dispatch through functions-framework's app, against demo registers on disk and a local
Pub/Sub endpoint: every good request, every bad one, re-runs, and what the logs may carry."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from connectors.pubsub import PublishError, PubSubPublisher
from functions.cloud import MAIL_OFF, OUTBOX_IN_CLOUD
from functions.links import LinkSigner
from scripts.make_demo import _rows, contribution_rows
from tests.e2e.cloud_fixtures import (
    SECRET,
    Deployment,
    SmtpInbox,
    app_client,
    cloud_event_headers,
    contributions,
    digest,
    make_deployment,
    pubsub_body,
    smtp_server,
    use_smtp,
)
from tests.fakes.pubsub_api import fake_pubsub


@pytest.fixture
def smtp() -> Iterator[SmtpInbox]:
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def dep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpInbox) -> Deployment:
    """Two schools whose emails go by SMTP to a real local server, as a deployment with --mail smtp sends them."""
    deployment = make_deployment(tmp_path, monkeypatch)
    use_smtp(monkeypatch, smtp)
    return deployment


def ar_status_cells(path: Path) -> list:
    wb = openpyxl.load_workbook(path)
    try:
        ws = wb["EHCP register"]
        header = [c.value for c in ws[4]]
        col = header.index("AR status") + 1
        return [ws.cell(row=r, column=col).value for r in range(5, ws.max_row + 1)]
    finally:
        wb.close()


def b64(payload: object) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


# ------------------------------------------------------------------------------------------------------- sweep_http


def test_empty_body_sweeps_every_school(dep: Deployment) -> None:
    response = app_client("sweep_http").post("/", data=b"")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    result = response.get_json()
    assert result["ok"] is True
    assert result["today"] == dep.today.isoformat()
    assert [s["school"] for s in result["schools"]] == ["oak", "elm"]
    for summary in result["schools"]:
        assert summary["pupils"] == len(_rows(dep.today))
        assert sum(summary["counts"].values()) == summary["pupils"]
        assert summary["written_rows"] > 0
    for path in dep.registers.values():
        assert any(ar_status_cells(path))
    # Counts only: nothing in the reply names a pupil.
    assert "Amelia" not in response.get_data(as_text=True)


def test_one_school_by_id_leaves_the_others_alone(dep: Deployment) -> None:
    elm_before = digest(dep.registers["elm"])
    response = app_client("sweep_http").post("/", json={"school": "oak"})
    assert response.status_code == 200
    assert [s["school"] for s in response.get_json()["schools"]] == ["oak"]
    assert digest(dep.registers["elm"]) == elm_before
    assert any(ar_status_cells(dep.registers["oak"]))


def test_dry_run_writes_nothing(dep: Deployment) -> None:
    before = digest(dep.registers["oak"])
    response = app_client("sweep_http").post("/", json={"school": "oak", "dry_run": True})
    assert response.status_code == 200
    assert response.get_json()["schools"][0]["dry_run"] is True
    assert digest(dep.registers["oak"]) == before


def test_a_rerun_is_harmless(dep: Deployment) -> None:
    client = app_client("sweep_http")
    first = client.post("/", json={"school": "oak"}).get_json()
    statuses = ar_status_cells(dep.registers["oak"])
    second = client.post("/", json={"school": "oak"}).get_json()
    assert first["schools"][0]["counts"] == second["schools"][0]["counts"]
    assert ar_status_cells(dep.registers["oak"]) == statuses


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        (b"{not json", "not JSON"),
        (b'["oak"]', "JSON object"),
        (b'{"school": "birch"}', "No school with the id 'birch'"),
        (b'{"school": 7}', "school id in quotes"),
        (b'{"school": "oak", "today": "2020-01-01"}', "Unknown field 'today'"),
        (b'{"dry_run": "yes"}', "dry_run must be true or false"),
    ],
    ids=["bad-json", "not-object", "wrong-school", "school-not-text", "unknown-field", "dry-run-not-bool"],
)
def test_bad_requests_get_400_and_a_json_error(dep: Deployment, body: bytes, phrase: str) -> None:
    before = {k: digest(p) for k, p in dep.registers.items()}
    response = app_client("sweep_http").post("/", data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()
    assert error["ok"] is False
    assert phrase in error["error"]
    assert {k: digest(p) for k, p in dep.registers.items()} == before


def test_get_is_refused(dep: Deployment) -> None:
    response = app_client("sweep_http").get("/")
    assert response.status_code == 405
    assert response.get_json()["ok"] is False


def test_one_broken_register_does_not_stop_the_others(dep: Deployment) -> None:
    dep.registers["oak"].write_text("not a workbook", encoding="utf-8")
    response = app_client("sweep_http").post("/")
    assert response.status_code == 500
    oak, elm = response.get_json()["schools"]
    assert oak["ok"] is False
    assert oak["error"]
    assert elm["ok"] is True
    assert any(ar_status_cells(dep.registers["elm"]))


def test_bad_settings_are_a_500_with_the_reason(dep: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = dep.root / "bad.toml"
    bad.write_text('[[schools]]\nid = "Oak Academy"\nregister = "x.xlsx"\n', encoding="utf-8")
    monkeypatch.setenv("KEEPER_CONFIG", str(bad))
    response = app_client("sweep_http").post("/")
    assert response.status_code == 500
    assert "id" in response.get_json()["error"]


def test_logs_are_json_lines_without_names_dobs_or_emails(dep: Deployment, capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    app_client("sweep_http").post("/", data=b"")
    app_client("confirm").post("/confirm", data={"t": dep.token(0), "note": "sent"})
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(e.get("school") == "oak" and e.get("counts", {}).get("pupils") for e in lines)
    assert all(e["severity"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"} and e["message"] for e in lines)
    forbidden: set[str] = set()
    for row in _rows(dep.today):
        name, upn, dob, email = row[0], row[1], row[2], row[12]
        forbidden |= {str(v) for v in (name, *str(name).split(), upn, email) if v}
        if isinstance(dob, date):
            forbidden |= {dob.isoformat(), f"{dob:%d/%m/%Y}"}
    for row in contribution_rows(dep.today):
        forbidden |= {str(row[2]), str(row[3])}
    forbidden = {f for f in forbidden if len(f) > 2}
    leaked = sorted(f for f in forbidden if f in err)
    assert leaked == []


# ------------------------------------------------------------------------------------------------------ sweep_event


def test_a_pubsub_message_sweeps_its_school(dep: Deployment) -> None:
    elm_before = digest(dep.registers["elm"])
    client = app_client("sweep_event")
    response = client.post("/", data=pubsub_body(b64({"school": "oak"})), headers=cloud_event_headers())
    assert response.status_code == 200
    assert any(ar_status_cells(dep.registers["oak"]))
    assert digest(dep.registers["elm"]) == elm_before
    statuses = ar_status_cells(dep.registers["oak"])
    # Pub/Sub redelivers at least once: the same message again changes nothing a SENDCo would see.
    again = client.post("/", data=pubsub_body(b64({"school": "oak"})), headers=cloud_event_headers())
    assert again.status_code == 200
    assert ar_status_cells(dep.registers["oak"]) == statuses


def test_a_school_attribute_is_enough(dep: Deployment) -> None:
    response = app_client("sweep_event").post(
        "/", data=pubsub_body(None, {"school": "elm"}), headers=cloud_event_headers()
    )
    assert response.status_code == 200
    assert any(ar_status_cells(dep.registers["elm"]))


@pytest.mark.parametrize(
    "body",
    [
        pubsub_body("%%% not base64 %%%"),
        pubsub_body(base64.b64encode(b"{not json").decode()),
        pubsub_body(b64(["oak"])),
        pubsub_body(b64({"school": "birch"})),
        pubsub_body(None),
        json.dumps({"no": "message"}),
    ],
    ids=["not-base64", "not-json", "not-object", "unknown-school", "no-school", "not-pubsub"],
)
def test_bad_messages_are_acknowledged_logged_and_write_nothing(
    dep: Deployment, body: str, capsys: pytest.CaptureFixture
) -> None:
    before = {k: digest(p) for k, p in dep.registers.items()}
    capsys.readouterr()
    response = app_client("sweep_event").post("/", data=body, headers=cloud_event_headers())
    # Acknowledged on purpose: redelivering a message that can never work would loop for a week.
    assert response.status_code == 200
    assert {k: digest(p) for k, p in dep.registers.items()} == before
    errors = [json.loads(x) for x in capsys.readouterr().err.splitlines() if '"ERROR"' in x]
    assert errors
    assert errors[0]["event"] == "BadRequest"


def test_a_request_that_is_not_a_cloudevent_is_refused(dep: Deployment) -> None:
    before = digest(dep.registers["oak"])
    client = app_client("sweep_event")
    # (A Pub/Sub push body without CloudEvent headers is accepted: functions-framework converts that legacy shape.)
    assert client.post("/", data='{"school": "oak"}', content_type="application/json").status_code == 400
    assert client.post("/", data="oak", content_type="text/plain").status_code in (400, 415)
    headers = cloud_event_headers()
    del headers["ce-id"]
    assert client.post("/", data='{"school": "oak"}', headers=headers).status_code == 400
    assert digest(dep.registers["oak"]) == before


def test_a_failed_sweep_is_an_error_so_it_can_be_retried(dep: Deployment) -> None:
    dep.registers["oak"].write_text("not a workbook", encoding="utf-8")
    response = app_client("sweep_event").post(
        "/", data=pubsub_body(b64({"school": "oak"})), headers=cloud_event_headers()
    )
    assert response.status_code == 500


# --------------------------------------------------------------------------------------------------------- dispatch


def test_dispatch_publishes_one_message_per_school_and_each_sweeps(
    dep: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_pubsub("projects/trust-project/topics/keeper-sweep") as fake:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", fake.host)
        monkeypatch.setenv("KEEPER_PROJECT", "trust-project")
        response = app_client("dispatch").post("/")
        assert response.status_code == 200
        assert response.get_json() == {"ok": True, "published": 2, "schools": ["oak", "elm"]}
        assert fake.payloads() == [{"school": "oak"}, {"school": "elm"}]
        messages = list(fake.published)
    # Deliver each message as Eventarc would: every school gets swept.
    client = app_client("sweep_event")
    for n, message in enumerate(messages):
        body = pubsub_body(message["data"], message.get("attributes"))
        assert client.post("/", data=body, headers=cloud_event_headers(str(n))).status_code == 200
    for path in dep.registers.values():
        assert any(ar_status_cells(path))


def test_dispatch_to_a_missing_topic_is_a_502_with_the_fix(dep: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_pubsub("projects/trust-project/topics/other") as fake:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", fake.host)
        monkeypatch.setenv("KEEPER_PROJECT", "trust-project")
        response = app_client("dispatch").post("/")
    assert response.status_code == 502
    assert "does not exist" in response.get_json()["error"]


def test_publisher_retries_a_bounded_number_of_times() -> None:
    waits: list[float] = []
    with fake_pubsub("projects/p/topics/t") as fake:
        fake.fail_next = 2
        publisher = PubSubPublisher.connect("p", "t", emulator_host=fake.host, sleep=waits.append)
        assert publisher.publish([b"a", b"b"]) == ["1", "2"]
        assert fake.calls == 3
        assert len(waits) == 2
        fake.fail_next = 10
        with pytest.raises(PublishError, match="after 4 tries"):
            publisher.publish([b"c"])
        assert fake.calls == 7
    assert [base64.b64decode(m["data"]) for m in fake.published] == [b"a", b"b"]


def test_publisher_without_a_project_says_what_to_set() -> None:
    with pytest.raises(PublishError, match="GOOGLE_CLOUD_PROJECT"):
        PubSubPublisher("", "t")


def confirm_links(inbox: SmtpInbox) -> list[str]:
    links = []
    for message in inbox.messages():
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        links += [word for word in body.get_content().split() if word.startswith("http://localhost/confirm?t=")]
    return links


def test_cloud_sweep_sends_each_schools_emails_once_with_links_for_that_school(
    dep: Deployment, smtp: SmtpInbox
) -> None:
    reply = app_client("sweep_http").post("/", json={"school": "oak"})
    assert reply.status_code == 200
    sent = list(smtp.received)
    assert sent, "the cloud sweep sent nothing"
    assert reply.get_json()["schools"][0]["emails"] == len(sent)
    assert (dep.root / "state" / "oak" / "review-keeper-sent.jsonl").is_file()  # the ledger on "lasting storage"
    assert not (dep.root / "state" / "elm").exists()  # only the school asked for
    assert not list(dep.root.rglob("*.eml"))  # nothing goes into an outbox in the cloud
    links = confirm_links(smtp)
    assert links, "requests and chasers carry the contributor's link"
    for link in links:
        assert LinkSigner(SECRET, "http://localhost", "oak").verify(link, now=dep.today).school == "oak"
    # Pub/Sub redelivers and schedulers retry: a second sweep the same day sends nothing more.
    again = app_client("sweep_http").post("/", json={"school": "oak"})
    assert again.status_code == 200
    assert again.get_json()["schools"][0]["emails"] == 0
    assert smtp.received == sent


def error_lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("mail", ["outbox", "", "OUTBOX "], ids=["outbox", "unset", "outbox-spelt-loosely"])
def test_an_outbox_in_the_cloud_sends_and_records_nothing_but_writes_the_ar_columns(
    dep: Deployment, smtp: SmtpInbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, mail: str
) -> None:
    """The outbox's .eml files would vanish with the function's disk while the sheet and the ledger recorded them as
    sent: so the cloud plans no email at all, says so once in the log, and still writes the AR columns."""
    if mail:
        monkeypatch.setenv("KEEPER_MAIL", mail)
    else:
        monkeypatch.delenv("KEEPER_MAIL")
    requests_before = contributions(dep.registers["oak"])
    capsys.readouterr()
    for dry_run in (True, False):
        reply = app_client("sweep_http").post("/", json={"school": "oak", "dry_run": dry_run})
        assert reply.status_code == 200
        (summary,) = reply.get_json()["schools"]
        assert summary["ok"] is True
        assert summary["emails"] == 0
        assert summary["mail_off"] == OUTBOX_IN_CLOUD
    assert any(ar_status_cells(dep.registers["oak"]))  # the register's AR columns are still written
    assert contributions(dep.registers["oak"]) == requests_before  # no Requested, Chasers or Parent/carer rows
    # No outbox, no ledger (the school's folder may hold the sweep lease's place, released: no file left).
    assert not [p for p in (dep.root / "state").rglob("*") if p.is_file()]
    assert not list(dep.root.rglob("*.eml"))
    warnings = [e for e in error_lines(capsys.readouterr().err) if e.get("event") == "OutboxInCloud"]
    assert len(warnings) == 2  # one per sweep (the dry run and the real one)
    assert warnings[0]["severity"] == "WARNING"
    assert warnings[0]["school"] == "oak"
    assert warnings[0]["message"] == OUTBOX_IN_CLOUD
    assert "--mail smtp, sendgrid, graph or none" in OUTBOX_IN_CLOUD

    # Switching to a real transport later sends the requests the outbox days never recorded.
    use_smtp(monkeypatch, smtp)
    assert app_client("sweep_http").post("/", json={"school": "oak"}).status_code == 200
    assert smtp.received
    assert contributions(dep.registers["oak"]) != requests_before


def test_mail_none_writes_the_ar_columns_and_sends_nothing(
    dep: Deployment, smtp: SmtpInbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("KEEPER_MAIL", "none")
    before = {k: contributions(p) for k, p in dep.registers.items()}
    capsys.readouterr()
    reply = app_client("sweep_http").post("/")
    assert reply.status_code == 200
    for summary in reply.get_json()["schools"]:
        assert summary["written_rows"] > 0
        assert summary["emails"] == 0
        assert summary["mail_off"] == MAIL_OFF
    for path in dep.registers.values():
        assert any(ar_status_cells(path))
    assert {k: contributions(p) for k, p in dep.registers.items()} == before
    assert smtp.received == []
    assert not [p for p in (dep.root / "state").rglob("*") if p.is_file()]  # no ledger, no outbox; the lease freed
    # Chosen on purpose (deploy.sh --mail none): no warning, unlike an outbox.
    assert not [e for e in error_lines(capsys.readouterr().err) if e["severity"] in ("WARNING", "ERROR")]


def test_mail_none_in_keeper_toml_is_honoured_when_keeper_mail_is_unset(
    dep: Deployment, smtp: SmtpInbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Path(str(dep.root / "keeper.toml"))
    config.write_text('[mail]\ntransport = "none"\n\n' + config.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.delenv("KEEPER_MAIL")
    reply = app_client("sweep_http").post("/", json={"school": "elm"})
    assert reply.status_code == 200
    assert reply.get_json()["schools"][0]["mail_off"] == MAIL_OFF
    assert smtp.received == []
