"""The `confirm` target through functions-framework's own app: what a contributor's browser (or a mail scanner) sees,
and what reaches the register. Independent checks: forged, replayed, expired and swapped links never write to another
row, and never write twice."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from connectors.workbook import WorkbookRegister
from functions.confirm import CSS, CSS_HASH, clean_note, received_plan
from sheet_schema.contributions import contribution_key
from tests.e2e.cloud_fixtures import SECRET, Deployment, app_client, contributions, digest, make_deployment

HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
# Demo Contributions rows (0-based data rows): 0 Freya's class teacher, 1 Freya's EP, 2 Leo's SALT, 4 Isla's class
# teacher (already received two days ago).
TEACHER, EP, SALT, RECEIVED_ROW = 0, 1, 2, 4


@pytest.fixture
def dep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    return make_deployment(tmp_path, monkeypatch)


@pytest.fixture
def client():
    return app_client("confirm")


def assert_secure(response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "form-action 'self'" in csp
    assert f"style-src '{CSS_HASH}'" in csp
    assert response.headers["Content-Type"].startswith("text/html")
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "<script" not in body.lower()


def row_of(path: Path, data_row: int) -> tuple:
    return contributions(path)[data_row + 1]


def test_get_shows_the_request_and_never_writes(dep: Deployment, client) -> None:
    oak = dep.registers["oak"]
    before = digest(oak)
    response = client.get(f"/confirm?t={dep.token(TEACHER)}")
    assert response.status_code == 200
    assert_secure(response)
    body = response.get_data(as_text=True)
    assert "Freya C." in body
    assert "Collins" not in body
    assert "D801200000005" not in body  # never the UPN
    assert "Class teacher" in body
    assert "I've sent it" in body
    assert 'method="post"' in body
    assert 'name="t"' in body
    assert '<label for="note">' in body
    assert "Oakfield Academy" in body
    assert "Ms Patel" in body
    assert f"<style>{CSS}</style>" in body  # the exact text the CSP hash allows
    # Mail scanners open every link: GET and HEAD, as often as they like, change nothing.
    for _ in range(3):
        client.get(f"/confirm?t={dep.token(TEACHER)}")
        client.head(f"/confirm?t={dep.token(TEACHER)}")
    assert digest(oak) == before
    assert not (oak.parent / ".keeper-backups").exists()


def test_post_writes_received_and_the_note_on_that_row_only(dep: Deployment, client) -> None:
    oak, elm = dep.registers["oak"], dep.registers["elm"]
    before, elm_before = contributions(oak), digest(elm)
    response = client.post("/confirm", data={"t": dep.token(TEACHER), "note": "Sent by post\r\non Tuesday <b>"})
    assert response.status_code == 200
    assert_secure(response)
    assert "Thank you" in response.get_data(as_text=True)
    after = contributions(oak)
    row = after[TEACHER + 1]
    assert row[5].date() == dep.today
    assert row[8] == f"Contributor's note ({dep.today:%d/%m/%Y}): Sent by post / on Tuesday <b>"
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [TEACHER + 1]
    assert digest(elm) == elm_before


def test_note_is_appended_to_what_the_sendco_wrote(dep: Deployment, client) -> None:
    response = client.post("/confirm", data={"t": dep.token(EP), "note": "Emailed it"})
    assert response.status_code == 200
    row = row_of(dep.registers["oak"], EP)
    assert row[8] == f"Via the LA EP team\nContributor's note ({dep.today:%d/%m/%Y}): Emailed it"


def test_replayed_post_writes_nothing_the_second_time(dep: Deployment, client) -> None:
    oak = dep.registers["oak"]
    token = dep.token(TEACHER)
    assert client.post("/confirm", data={"t": token}).status_code == 200
    once = digest(oak)
    for note in ("again", "", "and again"):
        response = client.post("/confirm", data={"t": token, "note": note})
        assert response.status_code == 200
        assert "Already marked as received" in response.get_data(as_text=True)
    assert digest(oak) == once
    # The link again shows the role's form, saying it is already received (answers may still be added).
    assert "Already marked as received on" in client.get(f"/confirm?t={token}").get_data(as_text=True)


def test_a_date_the_sendco_typed_wins(dep: Deployment, client) -> None:
    oak = dep.registers["oak"]
    before = digest(oak)
    response = client.post("/confirm", data={"t": dep.token(RECEIVED_ROW), "note": "hello"})
    assert response.status_code == 200
    assert "Already marked as received" in response.get_data(as_text=True)
    assert digest(oak) == before


def test_a_received_date_typed_between_read_and_write_is_kept(dep: Deployment) -> None:
    """The plan re-checks Received on the row as it is when the adapter writes."""
    oak = dep.registers["oak"]
    register = WorkbookRegister(oak)
    register.read()
    wb = openpyxl.load_workbook(oak)
    wb["Contributions"]["F2"] = "yes"
    wb.save(oak)
    key = contribution_key("D801200000005", "Class teacher", "j.patel@oakfield.example.org")
    result = register.write(received_plan(key, dep.today, "a note"))
    assert result.missing_keys == [key]
    row = row_of(oak, TEACHER)
    assert row[5] == "yes"
    assert row[8] is None


def test_a_moved_row_is_still_found_by_its_key(dep: Deployment, client) -> None:
    oak = dep.registers["oak"]
    wb = openpyxl.load_workbook(oak)
    ws = wb["Contributions"]
    ws.insert_rows(2, amount=3)  # the SENDCo inserted rows above it after the email went
    ws.move_range("A8:I8", rows=4)  # and moved another row further down
    wb.save(oak)
    before = contributions(oak)
    assert client.post("/confirm", data={"t": dep.token(TEACHER)}).status_code == 200
    after = contributions(oak)
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(changed) == 1
    assert after[changed[0]][2] == "Jo Patel"
    assert after[changed[0]][5].date() == dep.today


@pytest.mark.parametrize(
    ("make", "status", "phrase"),
    [
        (lambda d: d.token(TEACHER, secret="someone-elses-secret-123456"), 400, "This link does not work"),
        (lambda d: _edited(d.token(TEACHER), role="ep"), 400, "This link does not work"),
        (lambda d: d.token(TEACHER)[:-6], 400, "This link does not work"),
        (lambda d: "not-a-token", 400, "This link does not work"),
        (lambda d: d.token(TEACHER, meeting=d.today - timedelta(days=15)), 410, "This link has expired"),
        (lambda d: d.token(TEACHER, school="birch"), 404, "This link is not for this service"),
        (lambda d: d.token(TEACHER, school=""), 404, "This link is not for this service"),  # two schools: whose?
    ],
    ids=["other-secret", "payload-edited", "truncated", "garbage", "expired", "unknown-school", "no-school"],
)
def test_bad_links_get_a_friendly_page_and_write_nothing(dep: Deployment, client, make, status, phrase) -> None:
    before = {k: digest(p) for k, p in dep.registers.items()}
    token = make(dep)
    for response in (client.get(f"/confirm?t={token}"), client.post("/confirm", data={"t": token, "note": "x"})):
        assert response.status_code == status
        assert_secure(response)
        body = response.get_data(as_text=True)
        assert phrase in body
        assert "reply to the email" in body
    assert {k: digest(p) for k, p in dep.registers.items()} == before


def _edited(token: str, **changes: str) -> str:
    """The token with its payload changed and the old signature kept: what a forger without the secret can do."""
    payload, signature = token.rsplit(".", 1)
    raw = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload.lstrip(".")) % 4))
    data = json.loads(zlib.decompress(raw) if payload.startswith(".") else raw)  # a leading "." marks zlib
    data.update({"r" if k == "role" else k: v for k, v in changes.items()})
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{forged}.{signature}"


def test_swapped_links_each_write_only_their_own_row(dep: Deployment, client) -> None:
    """Contributor B holding A's link can only say A's part is sent; nobody's link reaches another row."""
    oak = dep.registers["oak"]
    before = contributions(oak)
    assert client.post("/confirm", data={"t": dep.token(SALT)}).status_code == 200
    middle = contributions(oak)
    assert [i for i, (a, b) in enumerate(zip(before, middle, strict=True)) if a != b] == [SALT + 1]
    assert client.post("/confirm", data={"t": dep.token(EP)}).status_code == 200
    after = contributions(oak)
    assert [i for i, (a, b) in enumerate(zip(middle, after, strict=True)) if a != b] == [EP + 1]


def test_a_link_for_one_school_never_writes_to_another(dep: Deployment, client) -> None:
    """Both demo registers hold the same contributor; the signed school id picks the register."""
    oak, elm = dep.registers["oak"], dep.registers["elm"]
    oak_before = digest(oak)
    assert client.post("/confirm", data={"t": dep.token(TEACHER, school="elm")}).status_code == 200
    assert digest(oak) == oak_before
    assert row_of(elm, TEACHER)[5].date() == dep.today


def test_a_link_for_a_row_that_is_gone(dep: Deployment, client) -> None:
    oak = dep.registers["oak"]
    wb = openpyxl.load_workbook(oak)
    wb["Contributions"].delete_rows(2)
    wb.save(oak)
    before = digest(oak)
    response = client.post("/confirm", data={"t": dep.token(TEACHER)})
    assert response.status_code == 404
    assert "We could not find this request" in response.get_data(as_text=True)
    assert digest(oak) == before


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {},  # no body at all
        {"data": {"note": "no token"}},
        {"query_string": {"t": "TOKEN"}},  # the token only in the URL: POST must carry it in the body
        {"json": {"t": "TOKEN"}},  # not a form
    ],
    ids=["no-body", "no-token", "token-in-url-only", "json-body"],
)
def test_posts_without_a_token_in_the_form_write_nothing(dep: Deployment, client, request_kwargs) -> None:
    before = digest(dep.registers["oak"])
    token = dep.token(TEACHER)
    kwargs = json.loads(json.dumps(request_kwargs).replace("TOKEN", token))
    response = client.post("/confirm", **kwargs)
    assert response.status_code == 400
    assert_secure(response)
    assert "This link does not work" in response.get_data(as_text=True)
    assert digest(dep.registers["oak"]) == before


def test_get_without_a_token(dep: Deployment, client) -> None:
    response = client.get("/confirm")
    assert response.status_code == 400
    assert_secure(response)


def test_other_methods_are_refused(dep: Deployment, client) -> None:
    for method in ("put", "delete", "patch"):
        response = getattr(client, method)("/confirm", data={"t": dep.token(TEACHER)})
        assert response.status_code == 405
        assert response.headers["X-Frame-Options"] == "DENY"
    assert row_of(dep.registers["oak"], TEACHER)[5] is None


def test_without_a_link_secret_the_page_says_so_kindly(dep: Deployment, client, monkeypatch) -> None:
    token = dep.token(TEACHER)
    monkeypatch.delenv("KEEPER_LINK_SECRET")
    response = client.post("/confirm", data={"t": token})
    assert response.status_code == 503
    assert_secure(response)
    assert "not working right now" in response.get_data(as_text=True)
    assert row_of(dep.registers["oak"], TEACHER)[5] is None


def test_a_missing_register_is_a_kind_page_not_a_stack_trace(dep: Deployment, client) -> None:
    dep.registers["oak"].unlink()
    response = client.get(f"/confirm?t={dep.token(TEACHER)}")
    assert response.status_code == 503
    assert_secure(response)
    assert "not working right now" in response.get_data(as_text=True)


def test_single_school_deployment_accepts_links_without_a_school(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client
) -> None:
    dep = make_deployment(tmp_path, monkeypatch)
    monkeypatch.delenv("KEEPER_CONFIG")
    monkeypatch.setenv("KEEPER_REGISTER", str(dep.registers["oak"]))
    monkeypatch.chdir(tmp_path / "oak")
    assert client.post("/confirm", data={"t": dep.token(TEACHER, school="")}).status_code == 200
    assert row_of(dep.registers["oak"], TEACHER)[5].date() == dep.today
    # ...and a link made for a named school still is not for this one.
    assert client.post("/confirm", data={"t": dep.token(EP, school="elm")}).status_code == 404


def test_clean_note() -> None:
    assert clean_note(None) == ""
    assert clean_note("  a\r\n\r\n b\x00c\t ") == "a / b c"
    assert len(clean_note("x" * 5000)) == 1000
    assert SECRET  # the deployment's secret is what signs the tokens above


def test_the_cloud_confirm_takes_the_form_with_a_report(dep: Deployment, client) -> None:
    """The functions-framework `confirm` target: a multipart POST of the EP's form with a PDF writes the Advice row and
    Received in one save, and keeps the file in the evidence folder beside the register."""
    import io

    oak = dep.registers["oak"]
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    response = client.post(
        "/confirm",
        data={"t": dep.token(EP), "summary": "Cloud summary", "files": (io.BytesIO(pdf), "report.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert_secure(response)
    assert "The school now has your contribution" in response.get_data(as_text=True)
    wb = openpyxl.load_workbook(oak)
    advice = list(wb["Advice"].iter_rows(values_only=True))
    wb.close()
    assert advice[1][1] == "EP"
    assert row_of(oak, EP)[5] is not None
    kept = list((oak.parent / "evidence").rglob("*.pdf"))
    assert [k.read_bytes() for k in kept] == [pdf]
    # The other school's register is untouched.
    assert not (dep.registers["elm"].parent / "evidence").exists()
