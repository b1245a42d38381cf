"""One email's bytes, made once (issue 16): the fixed shape the product sends (text + HTML as multipart/alternative,
attachments beside them in multipart/mixed) written straight to RFC 5322 / MIME bytes, instead of building an
`email.message.EmailMessage` (which parses every header into a tree) and flattening it again in each transport.

The bytes are the ones `EmailMessage` with `MESSAGE_POLICY` would write, byte for byte, apart from the values that are
new for every message anyway (the MIME boundaries; Date and Message-ID are given by the caller). That is how it is
kept honest: tests/unit/test_mail_wire.py builds each case both ways and compares the bytes, and parses both with
`email.policy.default`. Anything outside the plain cases the fast path knows (a non-ASCII or very long header, a
quoted display name, a text line over 998 bytes, an unusual attachment name) is handed to the `email` package itself,
header by header or part by part, so it comes out exactly as before: RFC 2047 encoded words, folding, RFC 2231
file names, quoted-printable or base64.
"""

from __future__ import annotations

import binascii
import io
import random
import re
import sys
from collections.abc import Sequence
from email.generator import BytesGenerator
from email.message import EmailMessage, MIMEPart
from functools import partial

from connectors.mail_base import MESSAGE_POLICY, WireMessage

# Values the email package writes back exactly as given (tests/unit/test_mail_wire.py checks each kind against it).
# Each is anchored at both ends (\A ... \Z), so it stays linear however it is called (tests/unit/test_regex_linear.py).
# The atoms are RFC 5322 atext less "=" and "?" (together they may open an RFC 2047 encoded word, which the email
# package would decode); a mailbox is "addr-spec" or "Display Name <addr-spec>", an address list is split on ", ".
_PLAIN: dict[str, re.Pattern[str]] = {
    "addr-spec": re.compile(
        r"\A[A-Za-z0-9!#$%&'*+/^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/^_`{|}~-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z"
    ),
    "name-addr": re.compile(
        r"\A[A-Za-z0-9!#$%&'*+/^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/^_`{|}~-]+)* "
        r"<[A-Za-z0-9!#$%&'*+/^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/^_`{|}~-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>\Z"
    ),
    "date": re.compile(
        r"\A(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
        r"\d\d:\d\d:\d\d [+-]\d{4}\Z"
    ),
    "msgid": re.compile(
        r"\A<[A-Za-z0-9!#$%&'*+/^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/^_`{|}~-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>\Z"
    ),
    # Printable ASCII, no space at either end, no two spaces together, no "=?".
    "text": re.compile(r"\A(?!.*=\?)(?!.*  )[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?\Z", re.DOTALL),
}
# The headers the product sets, by the kind of value each takes; any other header goes to the email package.
_KINDS = {"from": "address", "to": "address", "cc": "address", "reply-to": "address", "date": "date"}
_KINDS.update({"message-id": "msgid", "subject": "text", "x-review-keeper-kind": "text"})
_TOKEN = re.compile(r"\A[a-z0-9][a-z0-9.+-]*\Z")
_PARAM = re.compile(r"\A[A-Za-z0-9-]+\Z")
_FILENAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_LIMIT = 998  # MESSAGE_POLICY.max_line_length: RFC 5322 2.1.1's limit on a line
_B64_CHUNK = _LIMIT // 4 * 3  # bytes per base64 line, as email.contentmanager cuts them


def _plain(kind: str, value: str) -> bool:
    if kind != "address":
        return _PLAIN[kind].match(value) is not None
    addr_spec, name_addr = _PLAIN["addr-spec"], _PLAIN["name-addr"]
    return all(addr_spec.match(part) or name_addr.match(part) for part in value.split(", "))


def header(name: str, value: str) -> bytes:
    """`Name: value` and its line end, as `EmailMessage` would write it with MESSAGE_POLICY."""
    kind = _KINDS.get(name.lower())
    if kind is not None and len(name) + 2 + len(value) <= _LIMIT and _plain(kind, value):
        return f"{name}: {value}\n".encode("ascii")
    # The email package's own parse and fold: encoded words for non-ASCII, folding past 998, ValueError on a CR/LF.
    return MESSAGE_POLICY.fold_binary(name, MESSAGE_POLICY.header_store_parse(name, value)[1])


def _text(content: str, subtype: str) -> bytes:
    """A text part: headers and body, as EmailMessage.set_content(content, subtype=...) makes it."""
    lines = content.encode("utf-8").splitlines()
    if max((len(line) for line in lines), default=0) <= _LIMIT:
        body = b"\n".join(lines) + b"\n"
        cte = "7bit" if body.isascii() else "8bit"  # MESSAGE_POLICY.cte_type is 8bit, like policy.default
    else:  # a line too long for SMTP: quoted-printable or base64, whichever the email package picks
        part = MIMEPart(policy=MESSAGE_POLICY)
        part.set_content(content, subtype=subtype)
        cte, body = str(part["Content-Transfer-Encoding"]), str(part.get_payload()).encode("ascii")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\nContent-Transfer-Encoding: {cte}\n'.encode()
        + (b"MIME-Version: 1.0\n\n" if subtype == "html" else b"\n")
        + body
    )


def attachment_type(content_type: str) -> tuple[str, str, dict[str, str] | None]:
    """ "text/calendar; method=REQUEST" -> ("text", "calendar", {"method": "REQUEST"}): the parameter Outlook needs to
    offer "Accept / Decline" on an invitation."""
    maintype, _, rest = content_type.partition("/")
    subtype, _, params = rest.partition(";")
    method = {"method": params.split("method=", 1)[1].strip()} if "method=" in params else None
    return maintype, subtype.strip(), method


def _attachment(filename: str, content_type: str, data: bytes) -> bytes:
    """An attachment part as EmailMessage.add_attachment(data, ...) makes it: base64 in lines of 996."""
    maintype, subtype, params = attachment_type(content_type)
    plain = _TOKEN.match(maintype) and _TOKEN.match(subtype) and _FILENAME.match(filename)
    if not plain or (params is not None and not _PARAM.match(params["method"])):
        part = EmailMessage(policy=MESSAGE_POLICY)
        part.set_content(data, maintype=maintype, subtype=subtype, filename=filename, params=params,
                         disposition="attachment")  # fmt: skip
        return _flatten(part)
    b64 = b"".join(binascii.b2a_base64(data[i : i + _B64_CHUNK]) for i in range(0, len(data), _B64_CHUNK))
    ctype = f"Content-Type: {maintype}/{subtype}" + (f'; method="{params["method"]}"' if params else "") + "\n"
    head = "Content-Transfer-Encoding: base64\n" + f'Content-Disposition: attachment; filename="{filename}"\n'
    # set_param moves Content-Type after the others when there is a parameter (the email package's order, kept).
    head = head + ctype if params else ctype + head
    return (head + "MIME-Version: 1.0\n\n").encode("ascii") + b64


def _flatten(part: EmailMessage) -> bytes:
    out = io.BytesIO()
    BytesGenerator(out, policy=MESSAGE_POLICY).flatten(part, linesep="\n")
    return out.getvalue()


def _boundary(*parts: bytes) -> str:
    """The email package's boundary shape ("=" x 15, 19 random digits, "=="), never one a part happens to contain."""
    while True:
        boundary = f"==============={random.randrange(sys.maxsize):019d}=="
        mark = b"--" + boundary.encode("ascii")
        if not any(mark in part for part in parts):
            return boundary


def _multipart(subtype: str, parts: Sequence[bytes]) -> bytes:
    """Content-Type line, blank line and body of a multipart: the generator's layout (no preamble, no epilogue)."""
    boundary = _boundary(*parts)
    between = f"\n--{boundary}\n".encode("ascii")
    return (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n--{boundary}\n'.encode("ascii")
        + between.join(parts)
        + f"\n--{boundary}--\n".encode("ascii")
    )


def email_message(
    headers: Sequence[tuple[str, str]], text: str, html: str, attachments: Sequence[tuple[str, str, bytes]] = ()
) -> EmailMessage:
    """The same email built by the email package itself: the reference the bytes are checked against, and what
    WireMessage.source gives the transports that need an EmailMessage."""
    message = EmailMessage(policy=MESSAGE_POLICY)
    for name, value in headers:
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for filename, content_type, data in attachments:
        maintype, subtype, params = attachment_type(content_type)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename, params=params)
    return message


def wire_message(
    headers: Sequence[tuple[str, str]], text: str, html: str, attachments: Sequence[tuple[str, str, bytes]] = ()
) -> WireMessage:
    """The email's bytes: `headers` in order (as they would be set on an EmailMessage), MIME-Version, then the text
    and HTML alternatives, then each (filename, content type, data) attachment. ValueError for a header value the
    email package refuses (a line break), as setting it on an EmailMessage would."""
    head = b"".join(header(name, value) for name, value in headers) + b"MIME-Version: 1.0\n"
    body = _multipart("alternative", [_text(text, "plain"), _text(html, "html")])
    if attachments:
        body = _multipart("mixed", [body, *(_attachment(*item) for item in attachments)])
    return WireMessage(head + body, partial(email_message, tuple(headers), text, html, tuple(attachments)))


__all__ = ["attachment_type", "email_message", "header", "wire_message"]
