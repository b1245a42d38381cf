"""The wire bytes (connectors/mail_wire.py, issue 16) against the email package's own message (functions.mailer.
to_message), case by case: the same bytes apart from the MIME boundaries, Date and Message-ID, and the same message
once parsed back with `email.policy.default`, which is what a mail program shows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import format_datetime, formatdate, make_msgid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.mail_base import MESSAGE_POLICY, WireMessage, as_email, recipients_of
from connectors.mail_wire import header, wire_message
from functions.mailer import to_message, to_wire
from functions.rendering import Attachment, OutgoingEmail

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:x@keeper\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
INVITE = Attachment("invitation.ics", "text/calendar; method=REQUEST", ICS)
DOCX = Attachment(
    "Review record - Zoë Ł.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK" * 900
)
TEXT = (
    "Dear Ms Jones,\n\nPlease send your advice for Evie L. by Fri 24 Oct 2025.\n\nhttps://keeper.example.org/c?t=abc\n"
)
HTML = "<p>Dear Ms Jones,</p>\n<p>Please send your advice for Evie L. by Fri 24 Oct 2025.</p>\n"
LONG_SUBJECT = "Annual review for Maximilian-Alexander W.: your contribution, please, by Fri 24 Oct 2025"

# (case, email fields changed from the plain request, sender, sender name)
CASES: list[tuple[str, dict[str, object], str, str | None]] = [
    ("plain request", {}, "keeper@school.example", None),
    ("school name as sender", {}, "keeper@school.example", "Hillside School"),
    ("sender's own display name", {}, "Review Keeper <keeper@school.example>", None),
    ("display name needing quotes", {}, "keeper@school.example", "St. Mary's C of E (VA) School"),
    ("non-ASCII school name", {}, "keeper@school.example", "Ysgol Gymraeg Bro Ddyfi ŵ"),
    ("non-ASCII pupil in subject", {"subject": "Annual review for Zoë Ł.: your contribution, please"}, "k@s.example",
     None),
    ("long ASCII subject", {"subject": LONG_SUBJECT}, "keeper@school.example", None),
    ("subject past 998", {"subject": "Reminder " + "x" * 1200}, "keeper@school.example", None),
    ("subject that looks encoded", {"subject": "Review =?utf-8?q?Zo=C3=AB?= L."}, "keeper@school.example", None),
    ("subject with double spaces", {"subject": "Review  for  Ann  S. "}, "keeper@school.example", None),
    ("Cc and Reply-To", {"cc": ("sendco@school.example", "head@school.example"), "reply_to": "sendco@school.example"},
     "keeper@school.example", None),
    ("named recipient", {"to": "Dr Patel <ep@la.example>"}, "keeper@school.example", None),
    ("non-ASCII recipient name", {"to": "Zoë Ł <parent@example.org>"}, "keeper@school.example", None),
    ("non-ASCII body", {"text": TEXT + "Zoë Łukasz – “thanks”\n", "html": HTML + "<p>Zoë – “thanks”</p>\n"},
     "keeper@school.example", None),
    ("long ASCII line", {"html": HTML + "<p>" + "word " * 400 + "</p>\n"}, "keeper@school.example", None),
    ("long non-ASCII line", {"text": "é" * 700 + "\n"}, "keeper@school.example", None),
    ("long line, many lines", {"text": ("line\n" * 12) + "x" * 1500 + "\n"}, "keeper@school.example", None),
    ("CRLF and bare CR in text", {"text": "a\r\nb\rc\n\nd", "html": ""}, "keeper@school.example", None),
    ("empty bodies", {"text": "", "html": ""}, "keeper@school.example", None),
    ("a line that is a boundary", {"text": "--===============0000000000000000001==\n"}, "keeper@school.example", None),
    ("invitation with .ics", {"kind": "invitation", "attachments": (INVITE,)}, "keeper@school.example", "Hillside"),
    ("digest with records", {"kind": "digest", "attachments": (DOCX, INVITE)}, "keeper@school.example", None),
    ("empty attachment", {"attachments": (Attachment("a.txt", "text/plain", b""),)}, "keeper@school.example", None),
    ("big attachment", {"attachments": (Attachment("r.pdf", "application/pdf", bytes(range(256)) * 40),)},
     "keeper@school.example", None),
]  # fmt: skip

_BOUNDARY = re.compile(rb"={15}\d{19}==")
_PER_CALL = re.compile(rb"^(Date|Message-ID): .*$", re.MULTILINE)


def _email(**changes: object) -> OutgoingEmail:
    fields: dict[str, object] = {
        "kind": "request", "to": "teacher@school.example", "pupil_row": 7, "subject": "Annual review for Evie L.",
        "text": TEXT, "html": HTML, "reply_to": None, "reason_key": "request|2025|abc|2025-10-06",
    }  # fmt: skip
    fields.update(changes)
    return OutgoingEmail(**fields)  # type: ignore[arg-type]


def _normalised(data: bytes) -> bytes:
    """Boundaries numbered in order of appearance; Date and Message-ID (new for every message) blanked."""
    seen: dict[bytes, bytes] = {}
    data = _BOUNDARY.sub(lambda m: seen.setdefault(m.group(), b"BOUNDARY-%d" % len(seen)), data)
    return _PER_CALL.sub(rb"\1: (per message)", data)


def _shown(message: EmailMessage) -> dict[str, object]:
    """What a mail program shows: headers decoded, each body's text, each attachment's name, type and bytes."""
    parts = []
    for part in message.walk():
        if part.is_multipart():
            parts.append(("multipart", part.get_content_type()))
        elif part.get_content_disposition() == "attachment":
            parts.append((part.get_filename(), part.get_content_type(), dict(part["Content-Type"].params),
                          part.get_content()))  # fmt: skip
        else:
            parts.append((part.get_content_type(), part.get_content()))
    headers = [
        (k, re.sub(r"={15}\d{19}==", "B", str(v))) for k, v in message.items() if k not in ("Date", "Message-ID")
    ]
    return {"headers": headers, "parts": parts}


@pytest.mark.parametrize(("case", "changes", "sender", "name"), CASES, ids=[c[0] for c in CASES])
def test_the_wire_bytes_are_the_email_packages(case: str, changes: dict[str, object], sender: str, name: str | None):
    email = _email(**changes)
    old = to_message(email, sender, name).as_bytes()
    new = to_wire(email, sender, name)
    assert _normalised(new.data) == _normalised(old)
    parse = BytesParser(policy=default).parsebytes
    old_shown, new_shown = _shown(parse(old)), _shown(parse(new.data))  # type: ignore[arg-type]
    assert new_shown == old_shown
    # And against what went in: the text with its line ends made "\n", ending in one.
    assert ("text/plain", "\n".join(email.text.splitlines()) + "\n") in new_shown["parts"]  # type: ignore[operator]
    parsed = parse(new.data)
    assert parsed["Date"].datetime is not None
    assert parsed["Message-ID"].startswith("<")
    assert all(len(line) <= 998 for line in new.data.split(b"\n"))


def test_what_the_transports_read_back() -> None:
    """The API transports post the parts of `message` (the email package's own, same Date and Message-ID as the
    bytes); SMTP takes its envelope from `headers`; bytes alone are read back."""
    email = _email(cc=("sendco@school.example",), reply_to="sendco@school.example", attachments=(INVITE,))
    wire = to_wire(email, "Keeper <keeper@school.example>")
    assert isinstance(wire, WireMessage)
    assert wire.as_bytes() is wire.data
    assert recipients_of(wire) == ["teacher@school.example", "sendco@school.example"]
    message = as_email(wire)
    assert message.get_body(("plain",)).get_content() == TEXT  # type: ignore[union-attr]
    assert message.get_body(("html",)).get_content() == HTML  # type: ignore[union-attr]
    (ics,) = message.iter_attachments()
    assert ics.get_payload(decode=True) == ICS
    assert ics["Content-Type"].params == {"method": "REQUEST"}
    assert message["Message-ID"] == wire.headers["Message-ID"]
    assert message["Date"] == wire.headers["Date"]
    bare = WireMessage(wire.data)  # no source: the bytes are parsed
    assert bare.message.get_body(("plain",)).get_content() == TEXT  # type: ignore[union-attr]
    assert _shown(bare.message)["parts"] == _shown(message)["parts"]  # (message has no boundary until flattened)


def test_a_header_with_a_line_break_is_refused_as_before() -> None:
    with pytest.raises(ValueError, match="linefeed"):
        to_message(_email(to="a@b.example\nBcc: c@d.example"), "k@s.example")
    with pytest.raises(ValueError, match="linefeed"):
        to_wire(_email(to="a@b.example\nBcc: c@d.example"), "k@s.example")


def _policy_header(name: str, value: str) -> bytes:
    return MESSAGE_POLICY.fold_binary(name, MESSAGE_POLICY.header_store_parse(name, value)[1])


def _outcome(make: Callable[[str, str], bytes], name: str, value: str) -> bytes | type[BaseException]:
    """The header's bytes, or the exception the email package raised for it (the same for header(): it hands the
    value to the email package whenever it is not plainly safe)."""
    try:
        return make(name, value)
    except Exception as exc:
        return type(exc)


@pytest.mark.parametrize("size", [990, 996, 997, 998, 999, 1200])
def test_a_header_at_the_line_limit(size: int) -> None:
    value = ("Annual review " * 100)[: size - len("Subject: ")].strip() + "x"
    assert header("Subject", value) == _policy_header("Subject", value)


_ASCII = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=120)
_WORD = st.from_regex(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~()<>@,;:\\\"\[\] -]{1,12}", fullmatch=True)
_ADDR = st.from_regex(r"[a-z0-9][a-z0-9._+'-]{0,10}@[a-z0-9-]{1,8}(\.[a-z0-9-]{1,6}){0,2}", fullmatch=True)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(name=st.sampled_from(["Subject", "X-Review-Keeper-Kind", "From", "To", "Cc", "Reply-To", "Bcc", "X-Other"]),
       value=_ASCII)  # fmt: skip
def test_any_printable_header_matches_the_email_package(name: str, value: str) -> None:
    assert _outcome(header, name, value) == _outcome(_policy_header, name, value)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(names=st.lists(st.tuples(st.lists(_WORD, min_size=0, max_size=3), _ADDR), min_size=1, max_size=3))
def test_any_address_list_matches_the_email_package(names: list[tuple[list[str], str]]) -> None:
    value = ", ".join(f"{' '.join(words)} <{addr}>" if words else addr for words, addr in names)
    for field in ("To", "Cc", "From", "Reply-To"):
        assert _outcome(header, field, value) == _outcome(_policy_header, field, value)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(when=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
       offset=st.integers(min_value=-14 * 60, max_value=14 * 60), domain=st.sampled_from(["school.example", "a-b.c"]))  # fmt: skip
def test_dates_and_message_ids_match_the_email_package(when: datetime, offset: int, domain: str) -> None:
    for value in (
        formatdate(when.timestamp()),
        format_datetime(when.replace(tzinfo=timezone(timedelta(minutes=offset)))),
    ):
        assert header("Date", value) == _policy_header("Date", value)
    assert header("Date", format_datetime(when.replace(tzinfo=UTC))) == _policy_header(
        "Date", format_datetime(when.replace(tzinfo=UTC))
    )
    msgid = make_msgid(domain=domain)
    assert header("Message-ID", msgid) == _policy_header("Message-ID", msgid)


def test_wire_message_takes_headers_in_the_order_given() -> None:
    wire = wire_message([("To", "a@b.example"), ("Subject", "Hi")], "t", "<p>h</p>")
    assert wire.data.startswith(b"To: a@b.example\nSubject: Hi\nMIME-Version: 1.0\nContent-Type: multipart/alternative")


class _Server:
    """What _smtp_content asks of the server: whether it takes SMTPUTF8 (this one does)."""

    def has_extn(self, name: str) -> bool:
        return name == "smtputf8"


@pytest.mark.parametrize(("case", "changes", "sender", "name"), CASES, ids=[c[0] for c in CASES])
def test_every_transport_sends_what_it_sent_before(
    case: str, changes: dict[str, object], sender: str, name: str | None
) -> None:
    """SMTP's DATA, SendGrid's JSON and Graph's JSON from the wire bytes equal those from the EmailMessage."""
    from connectors.mail_graph import graph_message
    from connectors.mail_sendgrid import SendGridTransport
    from connectors.mail_smtp import _smtp_content

    email = _email(**changes)
    old, new = to_message(email, sender, name), to_wire(email, sender, name)
    server = _Server()
    rcpts = recipients_of(old)
    assert recipients_of(new) == rcpts
    old_data, old_options = _smtp_content(server, old, "keeper@school.example", rcpts)  # type: ignore[arg-type]
    new_data, new_options = _smtp_content(server, new, "keeper@school.example", rcpts)  # type: ignore[arg-type]
    assert _normalised(new_data) == _normalised(old_data)
    assert new_options == old_options
    sendgrid = SendGridTransport("SG.test", sender=sender)
    assert sendgrid.payload(new) == sendgrid.payload(old)
    assert graph_message(new) == graph_message(old)


def test_a_non_ascii_address_still_goes_by_smtputf8() -> None:
    from connectors.mail_smtp import _smtp_content

    email = _email(to="zoë@example.org")
    old, new = to_message(email, "keeper@school.example"), to_wire(email, "keeper@school.example")
    rcpts = recipients_of(new)
    assert rcpts == ["zoë@example.org"]
    old_data, old_options = _smtp_content(_Server(), old, "keeper@school.example", rcpts)  # type: ignore[arg-type]
    new_data, new_options = _smtp_content(_Server(), new, "keeper@school.example", rcpts)  # type: ignore[arg-type]
    assert new_options == old_options == ["SMTPUTF8", "BODY=8BITMIME"]
    assert _normalised(new_data) == _normalised(old_data)
    assert "To: zoë@example.org\r\n".encode() in new_data
