"""A sandbox in a process of its own, so that a benchmark measures only bulkpo.

On this 2-core machine the sandbox then has a core to itself, and the client's
memory figures do not include the server's. With ``counted`` it also counts the
requests it answers by method and route (read back with :func:`request_counts`),
so a benchmark can say what a run cost in requests without trusting the client.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

KEY = "bench-key"
COUNTS_PATH = "/_bench/requests"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def sandbox_process(
    db: Path, *, rate_limit: float | None = None, counted: bool = False
) -> Iterator[str]:
    """``bulkpo sandbox serve`` on ``db``; yields its base URL (key: :data:`KEY`)."""
    port = _free_port()
    limit = [] if rate_limit is None else ["--rate-limit", str(rate_limit)]
    if counted:
        command = [sys.executable, "-m", "benchmarks.sandbox_process", "--port", str(port),
                   "--db", str(db), *limit]  # fmt: skip
    else:
        command = [sys.executable, "-m", "bulkpo.cli", "sandbox", "serve", "--port", str(port),
                   "--db", str(db), *limit]  # fmt: skip
    server = subprocess.Popen(
        command,
        env={**os.environ, "FLEXPORT_API_KEY": KEY},
        cwd=Path(__file__).resolve().parents[1],
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


def request_counts(base_url: str) -> dict[str, int]:
    """Requests a ``counted`` sandbox answered so far, by ``METHOD /route``."""
    answer = httpx.get(base_url + COUNTS_PATH, timeout=10)
    answer.raise_for_status()
    counts: dict[str, int] = answer.json()
    return counts


def _route(path: str) -> str:
    # /purchase_orders/900123 -> /purchase_orders/{id}: one figure per endpoint.
    return "/".join("{id}" if part.isdigit() else part for part in path.split("/"))


class _Counting:
    """Counts every request before the sandbox sees it; answers COUNTS_PATH itself."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.counts: collections.Counter[str] = collections.Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == COUNTS_PATH:
            body = json.dumps(dict(self.counts)).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "http":
            self.counts[f"{scope['method']} {_route(scope['path'])}"] += 1
        await self.app(scope, receive, send)


def main() -> None:
    import uvicorn

    from bulkpo.sandbox import SandboxOptions
    from bulkpo.sandbox.app import create_app

    parser = argparse.ArgumentParser(description="a sandbox that counts its requests")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--rate-limit", type=float)
    args = parser.parse_args()
    options = SandboxOptions(
        db_path=args.db, port=args.port, api_keys=(os.environ["FLEXPORT_API_KEY"],),
        rate_limit=args.rate_limit,
    )  # fmt: skip
    app = create_app(options)
    uvicorn.run(_Counting(app), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False, lifespan="off")  # fmt: skip


if __name__ == "__main__":
    main()
