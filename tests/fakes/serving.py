"""Serving a fake Google API on a real socket (port 0, a thread), for the fakes that are plain WSGI apps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from werkzeug.serving import make_server


class _HostedApp(Protocol):
    host: str

    def __call__(self, environ: Any, start_response: Any) -> Any: ...


App = TypeVar("App", bound=_HostedApp)


@contextmanager
def on_a_socket(fake: App) -> Iterator[App]:
    """Serve `fake` on 127.0.0.1 at a free port until the block ends; `fake.host` is set to "127.0.0.1:PORT"."""
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    fake.host = f"127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        thread.join(timeout=10)
