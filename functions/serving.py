"""The jobs behind two command-line behaviours that are not a register job: `serve` (the confirmation page on this
computer, on connectors/web_server.py's threaded server) and what a run says when Ctrl-C or SIGTERM stops it."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from connectors.files import SaveInterrupted, stop_on_sigterm
from connectors.web_server import build_server

from .advice_page import REQUEST_LIMIT_BYTES

Reply = tuple[str, int, dict[str, str]]
_SIGNAL_NAMES = {2: "Ctrl-C", 15: "SIGTERM"}


def wsgi_app(reply: Callable[[Any], Reply]) -> Callable[..., Any]:
    """`reply(request)` as a WSGI app. Pages are shown side by side; a POST (which writes the register) waits for the
    one before it, because a workbook on disk has one writer. Its form is read before it waits: the server already
    holds the body in memory (connectors/web_server.py), so a slow upload never holds the lock."""
    from werkzeug.wrappers import Request, Response

    one_writer = threading.Lock()

    @Request.application
    def app(request: Request) -> Response:
        if request.method == "POST":
            # Held as bytes, not parsed: the page parses it with its own limits (functions/advice_page.py), so text
            # over the form's limit gets the product's "too large" page, not werkzeug's bare 413.
            request.get_data()
            with one_writer:
                body, status, headers = reply(request)
        else:
            body, status, headers = reply(request)
        return Response(body, status=status, headers=headers)

    return app


def serve(
    app: Callable[..., Any],
    host: str,
    port: int,
    *,
    error_headers: Mapping[str, str],
    announce: Callable[[int], None],
) -> None:
    """Serve `app` until Ctrl-C or SIGTERM. `announce(port)` once listening (port 0 picks a free one)."""
    # The advice form carries its files (up to REQUEST_LIMIT_BYTES): refused above that before a byte is read.
    server = build_server(app, host, port, error_headers=error_headers, max_body=REQUEST_LIMIT_BYTES)
    logging.getLogger("review_keeper.serve").setLevel(logging.INFO)  # "GET 200, a signed link": never the token
    announce(server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # a page being written finishes its save or abandons it whole (connectors/files.py)
        print("Review Keeper: the confirmation page has stopped.", file=sys.stderr)
    finally:
        server.server_close()


def stopped_message(exc: KeyboardInterrupt) -> tuple[str, int]:
    """Ctrl-C or SIGTERM: one sentence on what happened to the register (and any emails, from the exception's notes),
    and the exit code (128 + the signal, as a shell reports it)."""
    signum = exc.signum if isinstance(exc, SaveInterrupted) else (exc.args[0] if exc.args else 2)
    signum = signum if isinstance(signum, int) else 2
    saved = isinstance(exc, SaveInterrupted) and exc.saved
    what = (
        "just after the results were saved" if saved else "before any results were saved; the register was not changed"
    )
    notes = " ".join(getattr(exc, "__notes__", ()))
    return f"stopped by {_SIGNAL_NAMES.get(signum, 'a signal')} {what}. {notes}".strip(), 128 + signum


__all__ = ["serve", "stop_on_sigterm", "stopped_message", "wsgi_app"]
