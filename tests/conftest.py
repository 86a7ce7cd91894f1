"""Shared fixtures: a real sandbox server on loopback, settings that reach it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkpo.config import Settings, load_settings
from bulkpo.redact import forget
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BULKPO_SHARED") or REPO.parent / "shared")
SAMPLES = REPO / "samples"


def shared_path(*parts: str) -> Path:
    """A file or folder of ../shared (the spec, the corpus); a clear failure when absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"tests need ../shared beside the repo (or BULKPO_SHARED): {path} not found",
            pytrace=False,
        )
    return path


# No Flexport document says names are unique: exactly-once must hold whether a
# duplicate create is refused (409) or accepted.
DUPLICATE_NAMES = ("refuse", "accept")


def names_mode(mode: str) -> dict[str, Any]:
    """SandboxOptions fields making PO and booking names refused or accepted twice."""
    return {"duplicate_po_names": mode, "duplicate_booking_names": mode}


def settings_for(server: SandboxServer, **overrides: object) -> Settings:
    """Settings reaching ``server`` with its key, from a clean environment."""
    return load_settings(
        env={}, base_url=server.base_url, api_key=server.api_key, **overrides
    )


def listing(server: SandboxServer, path: str) -> list[dict[str, Any]]:
    """Every item of a sandbox list endpoint, read page by page over HTTP."""
    headers = {"Authorization": f"Bearer {server.api_key}", "Flexport-Version": "2"}
    items: list[dict[str, Any]] = []
    url: str | None = f"{server.base_url}{path}{'&' if '?' in path else '?'}per=100&page=1"
    with httpx.Client(headers=headers) as http:
        while url:
            data = http.get(url).raise_for_status().json()["data"]
            items.extend(data["data"])
            url = data["next"]
    return items


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    """A fresh, well-behaved sandbox for one test."""
    with running_sandbox(SandboxOptions(db_path=tmp_path / "sandbox.sqlite", seed=1)) as server:
        yield server


@pytest.fixture
def sandbox_settings(sandbox: SandboxServer) -> Settings:
    return settings_for(sandbox, rate=500.0, concurrency=8)


@pytest.fixture(autouse=True)
def _no_real_flexport(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may reach a real API or read a developer's config by accident."""
    for var in list(os.environ):
        if var.startswith("FLEXPORT_") or var == "BULKPO_CONFIG":
            monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def _no_secrets_from_other_tests() -> Iterator[None]:
    """Keys registered for redaction by one test must not hide text in the next."""
    yield
    forget()
