"""The HTTP server behind `main.py serve` (issue 10 items 8 and 13): werkzeug's threaded WSGI server, hardened so one
idle or slow client cannot hold the page up for everyone else, and so a signed link never reaches a log.

- One thread per connection (at most MAX_CONNECTIONS at once; more are closed at once rather than queued behind them),
  and a per-connection socket timeout: a client that sends nothing for IDLE_TIMEOUT seconds is dropped.
- Limits checked before anything is read past the headers: a request line over MAX_REQUEST_LINE bytes is 414, a body
  over MAX_BODY bytes (by its Content-Length) is 413, a body without a length (chunked) is 411. A body within the limit
  is read whole before the application runs, so a slow upload never holds the application's lock.
- Every page the server makes itself (413, 414, 411, 400, 431...) carries the same security headers as the application's.
- The request log says what happened ("GET 200, a signed link"), never the path or query: the link's token is the
  contributor's credential. werkzeug's own request and error logs, which quote the request line, are replaced.
"""

from __future__ import annotations

import html
import io
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

log = logging.getLogger("review_keeper.serve")

IDLE_TIMEOUT = 10.0  # seconds a connection may stay silent (between requests, or mid-request) before it is closed
MAX_REQUEST_LINE = 8192  # bytes: a link is a few hundred characters
MAX_BODY = 64 * 1024  # bytes by default; the link page passes its own cap (the advice form carries files)
MAX_CONNECTIONS = 64  # connections served at once; beyond this a new one is closed straight away
_REASONS = {400: "Bad request", 411: "Length required", 413: "Request too large", 414: "Address too long"}
# What a person can do about it (WCAG 3.3.3): a form with too many files meets 413 before a byte of it is read.
_ADVICE = {
    413: "Nothing has been sent. Go back to the form (your answers are still there) and send fewer or smaller files "
    "at a time: you can open the link again and add more afterwards."
}


class _Handler(WSGIRequestHandler):
    timeout = IDLE_TIMEOUT  # socketserver.StreamRequestHandler.setup applies it to the connection's socket
    error_headers: Mapping[str, str] = {}
    max_body = MAX_BODY
    max_request_line = MAX_REQUEST_LINE

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(self.max_request_line + 1)
        if len(self.raw_requestline) > self.max_request_line:
            self.requestline, self.request_version, self.command = "", "HTTP/1.0", ""
            self.send_error(414)
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():  # it sent its own error (400, 431, 505) through send_error below
            return
        if self.headers.get("Transfer-Encoding", "").strip():
            self.send_error(411)
            return
        length_text = (self.headers.get("Content-Length") or "0").strip()
        if not length_text.isdigit():
            self.send_error(400)
            return
        length = int(length_text)
        if length > self.max_body:
            self.send_error(413)
            return
        if length:
            body = self.rfile.read(length)  # bounded by max_body and, per read, by the socket timeout
            if len(body) < length:
                self.close_connection = True
                return
            # The body is in memory; this connection ends after the answer (its stream is no longer the socket's).
            self.rfile = io.BytesIO(body)
            self.close_connection = True
        self.run_wsgi()
        self.wfile.flush()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        reason = _REASONS.get(code) or message or "Error"
        body = (
            f'<!doctype html><html lang="en-GB"><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'  # readable on a phone (WCAG 1.4.10)
            f"<title>{code} {html.escape(reason)}</title>"
            f"<p>{html.escape(reason)}. {_ADVICE.get(code, 'Open the link from your email again.')}</p></html>"
        ).encode()
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            # An unreadable request line leaves the default 0.9, for which no status line or headers would be sent.
            self.request_version = "HTTP/1.0"
        self.send_response(code, reason)
        headers = {"Content-Type": "text/html; charset=utf-8", **self.error_headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        query = getattr(self, "path", "").partition("?")[2]
        link = ", a signed link" if any(p.startswith("t=") for p in query.split("&")) else ""
        log.info("%s %s%s", getattr(self, "command", "") or "-", code, link)

    def log_error(self, format: str, *args: Any) -> None:
        # BaseHTTPRequestHandler quotes the request line in its messages ("Bad request syntax ('GET /?t=...')").
        log.warning("refused a request the server could not read")

    def log_message(self, format: str, *args: Any) -> None:
        log.info("server: %s", format.split("%", 1)[0].strip() or "message")


class _Server(ThreadedWSGIServer):
    def __init__(self, *args: Any, max_connections: int = MAX_CONNECTIONS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # full: closed now, so the listening loop stays free for the others
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def log(self, type: str, message: str, *args: Any) -> None:
        log.info("server: %s", type)


def build_server(
    app: Callable[..., Any],
    host: str,
    port: int,
    *,
    error_headers: Mapping[str, str],
    idle_timeout: float = IDLE_TIMEOUT,
    max_body: int = MAX_BODY,
    max_request_line: int = MAX_REQUEST_LINE,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadedWSGIServer:
    """A bound server (port 0: any free port, see `.server_port`); run it with `.serve_forever()`."""
    handler = type(
        "Handler",
        (_Handler,),
        {
            "timeout": idle_timeout,
            "error_headers": dict(error_headers),
            "max_body": max_body,
            "max_request_line": max_request_line,
            "protocol_version": "HTTP/1.1",
        },
    )
    server = _Server(host, port, app, handler, max_connections=max_connections)
    return server


__all__ = ["IDLE_TIMEOUT", "MAX_BODY", "MAX_CONNECTIONS", "MAX_REQUEST_LINE", "build_server"]
