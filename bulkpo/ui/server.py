"""Runs the page under uvicorn on 127.0.0.1: in the foreground for ``bulkpo ui``, in a
thread for tests (:func:`running_ui`)."""

from __future__ import annotations

import secrets
import socket
import threading
import time
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn

from bulkpo.errors import UsageError
from bulkpo.ui.app import UiConfig, create_app

HOST = "127.0.0.1"


@dataclass
class UiServer:
    """A running page: its address and the token every request must carry."""

    base_url: str
    token: str = field(repr=False)

    @property
    def url(self) -> str:
        """The address to open: the token in it sets the page's cookie on the first visit."""
        return f"{self.base_url}/?token={self.token}"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"bulkpo ui cannot listen on {HOST}:{port}: {exc.strerror}; "
                         "pick another --port, or leave it out for a free one") from None
    sock.listen(64)
    return sock


def _server(config: UiConfig, log_level: str) -> uvicorn.Server:
    app = create_app(config)
    # log_config=None: leave the host process's logging alone; no access log, since
    # every first request's URL holds the token.
    return uvicorn.Server(uvicorn.Config(
        app, log_level=log_level, log_config=None, access_log=False, lifespan="off",
        timeout_graceful_shutdown=2,
    ))


@contextmanager
def running_ui(config: UiConfig, port: int = 0) -> Iterator[UiServer]:
    """The page in a background thread until the block ends."""
    sock = _listen(port)
    server = _server(config, "critical")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="bulkpo-ui", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the bulkpo ui server did not start")
            time.sleep(0.005)
        yield UiServer(f"http://{HOST}:{sock.getsockname()[1]}", config.token)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve(
    config: UiConfig,
    *,
    port: int = 0,
    open_browser: bool = True,
    on_ready: Callable[[UiServer], None] = lambda _s: None,
) -> None:
    """Serve in the foreground until interrupted; ``on_ready`` gets the address to print."""
    sock = _listen(port)
    ui = UiServer(f"http://{HOST}:{sock.getsockname()[1]}", config.token)
    on_ready(ui)
    if open_browser:
        # After a moment, so that the server answers the browser's first request.
        threading.Timer(0.5, webbrowser.open, args=(ui.url,)).start()
    try:
        _server(config, "warning").run(sockets=[sock])
    finally:
        sock.close()
