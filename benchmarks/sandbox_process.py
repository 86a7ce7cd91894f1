"""A sandbox in a process of its own, so that a benchmark measures only bulkpo.

On this 2-core machine the sandbox then has a core to itself, and the client's
memory figures do not include the server's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

KEY = "bench-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def sandbox_process(db: Path) -> Iterator[str]:
    """``bulkpo sandbox serve`` on ``db``; yields its base URL (key: :data:`KEY`)."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bulkpo.cli", "sandbox", "serve", "--port", str(port),
         "--db", str(db)],
        env={**os.environ, "FLEXPORT_API_KEY": KEY},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            try:
                httpx.get(base_url + "/", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield base_url
    finally:
        server.terminate()
        server.wait()
