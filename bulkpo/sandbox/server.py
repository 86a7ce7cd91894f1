"""Runs the sandbox app under uvicorn on loopback: in a background thread for tests and
``--sandbox`` runs (:func:`running_sandbox`), or in the foreground (:func:`serve`)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn

from bulkpo.config import is_loopback
from bulkpo.errors import UsageError
from bulkpo.sandbox.app import create_app
from bulkpo.sandbox.options import SandboxOptions
from bulkpo.sandbox.store import Store

log = logging.getLogger("bulkpo.sandbox")


@dataclass
class SandboxServer:
    """A running sandbox: where it listens and a key it accepts."""

    base_url: str
    api_key: str = field(repr=False)
    store: Store = field(repr=False)

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (the same as ``POST /_sandbox/advance``)."""
        self.store.advance(seconds)


def _listen(options: SandboxOptions) -> socket.socket:
    if not is_loopback(options.host):
        raise UsageError(f"the sandbox listens on loopback only, not on {options.host!r}")
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose
    # protocol says TCP, and without it every answer on a kept-alive connection
    # waits ~40 ms for the client's delayed ACK (Nagle's algorithm).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((options.host, options.port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"the sandbox cannot listen on {options.host}:{options.port}: "
                         f"{exc.strerror}") from None
    sock.listen(1024)
    return sock


def _url(options: SandboxOptions, sock: socket.socket) -> str:
    host = f"[{options.host}]" if ":" in options.host else options.host
    return f"http://{host}:{sock.getsockname()[1]}"


def _config(options: SandboxOptions, log_level: str) -> tuple[uvicorn.Config, Store]:
    app = create_app(options)
    # log_config=None: leave the host process's logging set-up alone.
    config = uvicorn.Config(app, log_level=log_level, log_config=None, access_log=False,
                            lifespan="off", timeout_graceful_shutdown=2)
    store: Store = app.state.store
    return config, store


@contextmanager
def running_sandbox(options: SandboxOptions) -> Iterator[SandboxServer]:
    """A sandbox in a background thread, accepting connections until the block ends."""
    sock = _listen(options)
    config, store = _config(options, "critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="bulkpo-sandbox", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.005)
        yield SandboxServer(_url(options, sock), options.api_keys[0], store)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()


def serve(options: SandboxOptions,
          on_ready: Callable[[SandboxServer], None] | None = None) -> None:
    """Serve in the foreground until interrupted (``bulkpo sandbox serve``).

    ``on_ready`` is called once the port is bound, e.g. to print the URL.
    """
    sock = _listen(options)
    config, store = _config(options, "warning")
    sandbox = SandboxServer(_url(options, sock), options.api_keys[0], store)
    log.info("bulkpo sandbox listening on %s (state in %s)", sandbox.base_url, options.db_path)
    if on_ready is not None:
        on_ready(sandbox)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        store.close()
