"""SmtpTransport against a real local SMTP server (aiosmtpd) over real sockets: STARTTLS with a self-signed
certificate made here, LOGIN, XOAUTH2, plain, retries on 4xx, and one refused email not stopping the others."""

from __future__ import annotations

import base64
import datetime as dt
import email
import ipaddress
import socket
import ssl
import sys
from datetime import date
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from connectors.mail import MailError, SmtpTransport, transport_from_env  # noqa: E402
from functions.mailer import FileLedger, send_all  # noqa: E402
from functions.planning import plan_emails  # noqa: E402
from tests.mail_fixtures import UPN, contribution, pupil, settings  # noqa: E402

USER, PASSWORD, TOKEN = "sendco@hillside.example", "app-password-123", "ya29.token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class Handler:
    def __init__(self, fail_first: int = 0, refuse: str | None = None) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []
        self.fail_first = fail_first
        self.refuse = refuse
        self.logins: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_first > 0:
            self.fail_first -= 1
            return "451 4.3.0 Try again later"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    async def auth_XOAUTH2(self, server, args):
        # AUTH XOAUTH2 <base64 "user=..\x01auth=Bearer ..\x01\x01">
        decoded = base64.b64decode(args[1]).decode()
        ok = decoded == f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01"
        if ok:
            self.logins.append("xoauth2")
        return AuthResult(success=ok, handled=False)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def start(handler: Handler, cert: tuple[Path, Path] | None, **kwargs) -> Controller:
    tls = None
    if cert is not None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(str(cert[0]), str(cert[1]))
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), tls_context=tls, require_starttls=tls is not None, **kwargs
    )
    controller.start()
    return controller


def client_context(cert: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert[0]))


def one_plan(today: date = date(2025, 10, 7)):
    rows = [
        contribution(2, "Class teacher", "teacher@school.example", name="Ms Jones"),
        contribution(3, "EP", "ep@la.example", name="Dr Patel"),
    ]
    return plan_emails([pupil()], rows, today=today, settings=settings())


def test_starttls_with_login_delivers_the_plan(cert, tmp_path: Path) -> None:
    handler = Handler()
    server = start(handler, cert, authenticator=authenticator, auth_required=True)
    try:
        transport = SmtpTransport(
            "127.0.0.1",
            server.port,
            security="starttls",
            user=USER,
            password=PASSWORD,
            sender="Hillside SEN <keeper@hillside.example>",
            timeout=5,
            ssl_context=client_context(cert),
        )
        outcomes = send_all(one_plan(), transport, FileLedger(tmp_path / "ledger.jsonl"))
    finally:
        server.stop()
    assert [o.status for o in outcomes] == ["sent"] * 3
    recipients = sorted(r for _, rcpts, _ in handler.envelopes for r in rcpts)
    assert recipients == ["ep@la.example", "parent.khan@example.org", "teacher@school.example"]
    for mail_from, _, content in handler.envelopes:
        assert mail_from == "keeper@hillside.example"
        message = email.message_from_bytes(content, policy=policy.default)
        assert message["Reply-To"] == "sendco@hillside.example"
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert "Amira K." in text
        assert "Mrs Rachel Okafor" in text
        assert UPN not in content.decode()
        assert "Khan" not in text
        assert "2012" not in content.decode()


def test_starttls_refuses_an_untrusted_certificate(cert) -> None:
    server = start(Handler(), cert)
    try:
        transport = SmtpTransport(
            "127.0.0.1", server.port, security="starttls", sender="k@h.example", timeout=5, retries=0
        )
        with pytest.raises(MailError, match="secure connection"):
            transport.send(next(iter(_messages())))
    finally:
        server.stop()


def test_wrong_password_is_one_clear_error(cert) -> None:
    server = start(Handler(), cert, authenticator=authenticator, auth_required=True)
    try:
        transport = SmtpTransport(
            "127.0.0.1",
            server.port,
            user=USER,
            password="wrong",
            sender="k@h.example",
            timeout=5,
            ssl_context=client_context(cert),
        )
        with pytest.raises(MailError, match="refused the login"):
            transport.send(next(iter(_messages())))
    finally:
        server.stop()


def test_xoauth2_when_a_token_is_supplied(cert) -> None:
    handler = Handler()
    server = start(handler, cert, auth_required=True)
    try:
        transport = SmtpTransport(
            "127.0.0.1",
            server.port,
            user=USER,
            oauth_token=TOKEN,
            sender=USER,
            timeout=5,
            ssl_context=client_context(cert),
        )
        transport.send(next(iter(_messages())))
    finally:
        server.stop()
    assert handler.logins == ["xoauth2"]
    assert len(handler.envelopes) == 1


def _messages():
    from functions.mailer import to_message

    return [to_message(e, "keeper@hillside.example") for e in one_plan().emails]


def test_plain_smtp_retries_4xx_and_one_refusal_does_not_stop_the_rest(tmp_path: Path) -> None:
    handler = Handler(fail_first=1, refuse="ep@la.example")
    server = start(handler, None)
    waits: list[float] = []
    try:
        transport = transport_from_env(
            {
                "KEEPER_MAIL": "smtp",
                "KEEPER_SMTP_HOST": "127.0.0.1",
                "KEEPER_SMTP_PORT": str(server.port),
                "KEEPER_SMTP_SECURITY": "none",
                "KEEPER_MAIL_FROM": "keeper@hillside.example",
            },
            {"smtp_host": "ignored.example", "smtp_security": "tls"},
            tmp_path,
        )
        assert isinstance(transport, SmtpTransport)
        transport._sleep = waits.append
        ledger = FileLedger(tmp_path / "ledger.jsonl")
        plan = one_plan()
        outcomes = send_all(plan, transport, ledger)
    finally:
        server.stop()
    by_to = {o.email.to: o for o in outcomes}
    assert by_to["ep@la.example"].status == "failed"
    assert "refused the recipient (550)" in (by_to["ep@la.example"].error or "")
    assert by_to["teacher@school.example"].status == "sent"
    assert by_to["parent.khan@example.org"].status == "sent"
    assert len(waits) == 1  # the first DATA got 451 and was retried once
    assert len(handler.envelopes) == 2
    # The failed one is not in the sent log: tomorrow's plan asks again; the others are never sent twice.
    sent = ledger.sent_log()
    assert by_to["ep@la.example"].email.reason_key not in sent
    assert by_to["teacher@school.example"].email.reason_key in sent
