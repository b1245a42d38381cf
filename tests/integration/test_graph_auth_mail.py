"""The Microsoft 365 sign-in (msal's real device-code flow and silent refresh against the fake identity endpoints,
with the token cache encrypted on disk) and the Graph mail transport's retry and in-doubt rules."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from connectors.base import RegisterError
from connectors.graph_http import GraphAuthError, GraphClient, GraphPolicy, MsalTokens, TokenCacheFile
from connectors.graph_register import GraphRegister
from connectors.mail import MailError
from connectors.mail_graph import GraphMailTransport
from tests.fakes.graph_api import FakeGraphServer, Fault
from tests.fakes.graph_login import ACCOUNT
from tests.integration.test_graph import LINK, load

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "school.example"
FAST = GraphPolicy(timeout_s=(1.0, 0.5), deadline_s=5.0, max_attempts=4, base_delay_s=0.05, max_delay_s=0.2)


@pytest.fixture
def server() -> Iterator[FakeGraphServer]:
    with FakeGraphServer() as fake:
        yield fake


@pytest.fixture
def key() -> str:
    return Fernet.generate_key().decode()


def tokens(server: FakeGraphServer, path: Path, key: str) -> MsalTokens:
    return MsalTokens(CLIENT_ID, TENANT, TokenCacheFile(path, key), emulator=server.host)


def signed_in(server: FakeGraphServer, path: Path, key: str) -> MsalTokens:
    shown: list[str] = []
    assert tokens(server, path, key).device_login(shown.append) == ACCOUNT
    assert "FAKE-CODE" in shown[0]
    return tokens(server, path, key)  # a later run: a new process reading the stored cache


# ---- sign-in ----


def test_device_login_stores_an_encrypted_cache_used_silently_later(server: FakeGraphServer, tmp_path: Path,
                                                                     key: str) -> None:  # fmt: skip
    path = tmp_path / "state" / "m365-tokens.bin"
    later = signed_in(server, path, key)
    raw = path.read_bytes()
    assert b"refresh" not in raw
    assert b"fake-access" not in raw
    assert path.stat().st_mode & 0o777 == 0o600
    assert later().startswith("fake-access-")
    assert server.tokens_issued == 1  # the access token was still good: no request at all


def test_an_expired_access_token_is_refreshed_silently_and_stored(server: FakeGraphServer, tmp_path: Path,
                                                                 key: str) -> None:  # fmt: skip
    server.token_lifetime = 1  # msal treats a token this close to expiry as expired
    path = tmp_path / "tokens.bin"
    later = signed_in(server, path, key)
    before = path.read_bytes()
    assert later().startswith("fake-access-")
    assert server.tokens_issued == 2
    assert path.read_bytes() != before  # the new refresh token was kept


def test_a_revoked_grant_is_one_sentence_naming_m365_login(server: FakeGraphServer, tmp_path: Path, key: str) -> None:
    server.token_lifetime = 1
    later = signed_in(server, tmp_path / "tokens.bin", key)
    server.refresh_allowed = False
    with pytest.raises(GraphAuthError, match=r"expired or was revoked; .*m365-login"):
        later()


def test_no_stored_sign_in_or_a_wrong_key_is_one_sentence(server: FakeGraphServer, tmp_path: Path, key: str) -> None:
    with pytest.raises(GraphAuthError, match="No Microsoft 365 sign-in is stored"):
        tokens(server, tmp_path / "none.bin", key)()
    signed_in(server, tmp_path / "tokens.bin", key)
    with pytest.raises(GraphAuthError, match="cannot be opened with KEEPER_TOKEN_KEY"):
        tokens(server, tmp_path / "tokens.bin", Fernet.generate_key().decode())()
    with pytest.raises(GraphAuthError, match="not a valid key"):
        TokenCacheFile(tmp_path / "x.bin", "not-a-key")


def test_a_sweep_with_a_revoked_grant_stops_with_one_sentence_and_writes_nothing(
    server: FakeGraphServer, tmp_path: Path, key: str
) -> None:
    load(server, 2)
    server.token_lifetime = 1
    later = signed_in(server, tmp_path / "tokens.bin", key)
    server.refresh_allowed = False
    register = GraphRegister(LINK, GraphClient(later, base_url=f"http://{server.host}", policy=FAST))
    with pytest.raises(RegisterError, match="m365-login") as caught:
        register.read()
    assert "\n" not in str(caught.value)
    assert server.graph_log == []


def test_a_token_refused_by_graph_is_refreshed_once(server: FakeGraphServer, tmp_path: Path, key: str) -> None:
    load(server, 2)
    later = signed_in(server, tmp_path / "tokens.bin", key)
    server.faults.append(Fault(401, code="InvalidAuthenticationToken", match="driveItem"))
    data = GraphRegister(LINK, GraphClient(later, base_url=f"http://{server.host}", policy=FAST)).read()
    assert data.sheets[0].title == "Register"
    assert server.tokens_issued == 2


# ---- mail ----


def message(to: str = "parent@example.org") -> EmailMessage:
    msg = EmailMessage()
    msg["To"] = f"Ann Parent <{to}>"
    msg["Subject"] = "Annual review: your views"
    msg["Reply-To"] = "Sam Taylor <sendco@school.example.org>"
    msg.set_content("Plain words")
    msg.add_alternative("<p>Plain words</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4 record", maintype="application", subtype="pdf", filename="record.pdf")
    return msg


def transport(server: FakeGraphServer) -> GraphMailTransport:
    client = GraphClient(lambda **_: "test-token", base_url=f"http://{server.host}", policy=FAST)
    return GraphMailTransport(client, sender=ACCOUNT)


def test_send_mail_goes_as_the_account_with_reply_to_the_sendco(server: FakeGraphServer) -> None:
    transport(server).send(message())
    (sent,) = server.sent_mail
    body = sent["message"]
    assert body["toRecipients"] == [{"emailAddress": {"address": "parent@example.org", "name": "Ann Parent"}}]
    assert body["replyTo"] == [{"emailAddress": {"address": "sendco@school.example.org", "name": "Sam Taylor"}}]
    assert body["body"] == {"contentType": "HTML", "content": "<p>Plain words</p>\n"}
    assert body["attachments"][0]["name"] == "record.pdf"
    assert "from" not in body
    assert sent["saveToSentItems"] is True


def test_429_is_retried_after_retry_after(server: FakeGraphServer) -> None:
    server.faults.append(Fault(429, retry_after=0.2, match="sendMail"))
    transport(server).send(message())
    assert len(server.sent_mail) == 1
    assert [r.status for r in server.graph_log] == [429, 202]


@pytest.mark.parametrize("fault", [Fault(503, match="sendMail"), Fault(202, delay=1.0, match="sendMail")],
                         ids=["503", "no-answer"])  # fmt: skip
def test_a_5xx_or_no_answer_is_in_doubt_and_never_resent(server: FakeGraphServer, fault: Fault) -> None:
    server.faults.append(fault)
    with pytest.raises(MailError) as caught:
        transport(server).send(message())
    assert caught.value.in_doubt
    assert caught.value.transient
    assert len(server.graph_log) == 1


def test_no_mail_send_permission_names_the_fix(server: FakeGraphServer) -> None:
    server.mail_send_allowed = False
    with pytest.raises(MailError, match=r"Mail\.Send") as caught:
        transport(server).send(message())
    assert not caught.value.transient
    assert not caught.value.in_doubt


def test_persistent_throttling_gives_up_without_doubt(server: FakeGraphServer) -> None:
    server.faults.extend(Fault(429, retry_after=0.05, match="sendMail") for _ in range(10))
    with pytest.raises(MailError, match="kept refusing") as caught:
        transport(server).send(message())
    assert caught.value.transient
    assert not caught.value.in_doubt
    assert server.sent_mail == []


# ---- the composition root's builders (functions/m365.py) ----


def test_m365_login_then_a_sweep_read_through_the_built_adapter(server: FakeGraphServer, tmp_path: Path,
                                                                 key: str) -> None:  # fmt: skip
    from functions.m365 import M365Settings, m365_login, open_graph_register

    load(server, 2)
    m365 = M365Settings(CLIENT_ID, TENANT, tmp_path / "m365-tokens.bin", key, emulator=server.host)
    shown: list[str] = []
    assert m365_login(m365, shown.append) == ACCOUNT
    assert "devicelogin" in shown[0]
    data = open_graph_register(LINK, m365).read()
    assert data.sheets[0].rows[2] == ["Name", "DOB", "Year", "Notes"]
    assert server.tokens_issued == 1


@pytest.mark.parametrize(("client_id", "with_key", "words"), [(CLIENT_ID, False, "KEEPER_TOKEN_KEY is not set"),
                                                              ("", True, "KEEPER_M365_CLIENT_ID")])  # fmt: skip
def test_missing_m365_settings_are_one_sentence_at_the_first_request(
    server: FakeGraphServer, tmp_path: Path, key: str, client_id: str, with_key: bool, words: str
) -> None:
    from functions.m365 import M365Settings, graph_mail, open_graph_register

    load(server, 1)
    m365 = M365Settings(client_id, TENANT if client_id else "", tmp_path / "t.bin", key if with_key else "",
                        emulator=None)  # fmt: skip
    register = open_graph_register(LINK, m365)  # wiring never fails
    with pytest.raises(RegisterError, match=words):
        register.read()
    with pytest.raises(MailError, match=words):
        graph_mail(m365, ACCOUNT).send(message())


# ---- the request loop's edges ----


def test_retry_after_as_an_http_date_and_error_bodies_that_are_not_json() -> None:
    from email.utils import formatdate

    from connectors.graph_http import error_code
    from connectors.http_retry import retry_after_seconds

    assert retry_after_seconds("2") == 2.0
    assert 0.0 <= (retry_after_seconds(formatdate(usegmt=True)) or 0.0) <= 1.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("") is None
    assert error_code("<html>") == ("", "", "")
    body = {"error": {"code": "notFound", "message": "m", "innerError": {"code": "invalidSessionReCreatable"}}}
    assert error_code(body) == ("notFound", "invalidSessionReCreatable", "m")


def test_nobody_listening_is_retried_then_one_sentence() -> None:
    import socket

    with socket.socket() as probe:  # a port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GraphClient(lambda **_: "t", base_url=f"http://127.0.0.1:{port}", policy=FAST)
    register = GraphRegister(LINK, client)
    with pytest.raises(RegisterError, match="kept failing"):
        register.read()
    assert client.requests_sent == FAST.max_attempts
    with pytest.raises(ValueError, match="a \\$batch holds"):
        client.batch([])


def test_a_tenant_that_does_not_exist_is_one_sentence(server: FakeGraphServer, tmp_path: Path, key: str) -> None:
    signed_in(server, tmp_path / "tokens.bin", key)
    lost = MsalTokens(
        CLIENT_ID, "no-such-school.example", TokenCacheFile(tmp_path / "tokens.bin", key), emulator=server.host
    )
    with pytest.raises(GraphAuthError, match="KEEPER_M365_TENANT"):
        lost()
