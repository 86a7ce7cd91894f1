"""API credentials over real HTTP: one token per day's life, 10 a day, one renewal, no leaks."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkpo.config import Settings, load_settings
from bulkpo.engine.journal import account_fingerprint
from bulkpo.errors import AuthError, ConfigError
from bulkpo.flexport import FlexportClient
from bulkpo.flexport.auth import TOKENS_PER_DAY, TokenLimitError, cache_file
from bulkpo.imports import ImportOptions, Workbook, import_workbook, load_purchase_orders
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from tests.factories import po_rows, write_po_workbook

CLIENT_ID = "cid-acme-prod"
SECRET = "cs-5ecret-Hq72-never-print"
DAY = 24 * 3600.0


def options(tmp_path: Path, **overrides: Any) -> SandboxOptions:
    return SandboxOptions(db_path=tmp_path / "sandbox.sqlite", seed=1,
                          clients=((CLIENT_ID, SECRET),), **overrides)


@pytest.fixture
def oauth_sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    with running_sandbox(options(tmp_path)) as server:
        yield server


def credentials(server: SandboxServer, cache: Path, **overrides: Any) -> Settings:
    return load_settings(env={"FLEXPORT_CLIENT_ID": CLIENT_ID, "FLEXPORT_CLIENT_SECRET": SECRET,
                              "BULKPO_TOKEN_CACHE_DIR": str(cache)},
                         base_url=server.base_url, **overrides)  # fmt: skip


def cached(server: SandboxServer, cache: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        cache_file(cache, server.base_url, CLIENT_ID).read_text(encoding="utf-8"))
    return loaded


def cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FLEXPORT_")}
    return subprocess.run([sys.executable, "-m", "bulkpo", *args], cwd=cwd,
                          env={**clean, **env}, capture_output=True, text=True, timeout=60)


def test_a_token_serves_two_processes_and_never_leaks(
    tmp_path: Path, oauth_sandbox: SandboxServer
) -> None:
    cache = tmp_path / "tokens"
    env = {"FLEXPORT_CLIENT_ID": CLIENT_ID, "FLEXPORT_CLIENT_SECRET": SECRET,
           "FLEXPORT_BASE_URL": oauth_sandbox.base_url, "BULKPO_TOKEN_CACHE_DIR": str(cache)}
    first = cli(["refs", "--format", "json"], tmp_path, **env)
    assert first.returncode == 0, first.stderr
    assert oauth_sandbox.store.token_requests(CLIENT_ID) == 1
    token = cached(oauth_sandbox, cache)["access_token"]
    path = cache_file(cache, oauth_sandbox.base_url, CLIENT_ID)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    second = cli(["refs", "--format", "json"], tmp_path, **env)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)
    assert any(r["ref"] == "acme-us" for r in json.loads(second.stdout))
    # The second process used the first one's token: still one request in all.
    assert oauth_sandbox.store.token_requests(CLIENT_ID) == 1
    assert cached(oauth_sandbox, cache)["access_token"] == token
    for run in (first, second):
        for text in (run.stdout, run.stderr):
            assert SECRET not in text and token not in text

    wrong = cli(["refs"], tmp_path, **{**env, "FLEXPORT_CLIENT_SECRET": "cs-wrong-" + SECRET,
                                       "BULKPO_TOKEN_CACHE_DIR": str(tmp_path / "other")})
    assert wrong.returncode == 3
    assert "refused the client credentials" in wrong.stderr
    assert SECRET not in wrong.stdout + wrong.stderr


def test_the_eleventh_token_request_of_a_day_is_refused_before_it_is_sent(
    tmp_path: Path,
) -> None:
    # Tokens that die within bulkpo's renewal margin (10 min) are never reused:
    # every client instance (a run) needs one.
    with running_sandbox(options(tmp_path, token_lifetime_s=60)) as server:
        cache = tmp_path / "tokens"

        async def one_run() -> None:
            async with FlexportClient(credentials(server, cache)) as api:
                await api.company_entities()

        for _ in range(TOKENS_PER_DAY):
            asyncio.run(one_run())
        assert server.store.token_requests(CLIENT_ID) == TOKENS_PER_DAY
        with pytest.raises(ConfigError) as refused:
            asyncio.run(one_run())
        assert isinstance(refused.value, TokenLimitError)
        assert "10 access tokens for client id cid-acme-prod" in str(refused.value)
        assert server.store.token_requests(CLIENT_ID) == TOKENS_PER_DAY  # nothing sent

        # The sandbox holds the same cap, for a client that does not count.
        body = {"client_id": CLIENT_ID, "client_secret": SECRET,
                "audience": "https://api.flexport.com", "grant_type": "client_credentials"}
        answer = httpx.post(f"{server.base_url}/oauth/token", json=body)
        assert answer.status_code == 429 and answer.json()["error"] == "too_many_requests"
        # A day later (on both clocks) a token may be requested again.
        server.advance(DAY)
        later = httpx.post(f"{server.base_url}/oauth/token", json=body)
        assert later.status_code == 200 and later.json()["expires_in"] == 60


def test_a_refused_cached_token_is_renewed_once(
    tmp_path: Path, oauth_sandbox: SandboxServer
) -> None:
    cache = tmp_path / "tokens"

    async def entities() -> int:
        async with FlexportClient(credentials(oauth_sandbox, cache)) as api:
            return len(await api.company_entities())

    assert asyncio.run(entities()) > 0
    old = cached(oauth_sandbox, cache)["access_token"]
    # On the sandbox's clock the token has expired; bulkpo's clock still trusts it.
    oauth_sandbox.advance(DAY + 60)
    expired = httpx.get(f"{oauth_sandbox.base_url}/network/company_entities",
                        headers={"Authorization": f"Bearer {old}"})
    assert expired.status_code == 401
    assert asyncio.run(entities()) > 0
    assert oauth_sandbox.store.token_requests(CLIENT_ID) == 2
    assert cached(oauth_sandbox, cache)["access_token"] != old


async def test_a_renewed_token_refused_too_stops(tmp_path: Path) -> None:
    """A fake forcing the exact sequence: every API request is refused."""
    base = "https://api.flexport.test"
    sent: list[tuple[str, str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, request.headers.get("Authorization", "")))
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "tok-new.a.b", "expires_in": DAY})
        return httpx.Response(401, json={"errors": [{"code": "bad_token",
                                                     "message": "Bad Token"}]})

    cache = tmp_path / "tokens"
    settings = load_settings(env={}, base_url=base, client_id=CLIENT_ID, client_secret=SECRET,
                             token_cache_dir=cache)
    path = cache_file(cache, base, CLIENT_ID)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"client_id": CLIENT_ID, "access_token": "tok-old.a.b",
                                "expires_at": 4e9, "requests": []}))
    async with FlexportClient(settings, transport=httpx.MockTransport(handle)) as api:
        with pytest.raises(AuthError) as caught:
            await api.company_entities()
    assert sent == [("/network/company_entities", "Bearer tok-old.a.b"),
                    ("/oauth/token", ""),
                    ("/network/company_entities", "Bearer tok-new.a.b")]
    assert "tok-new" not in str(caught.value) and SECRET not in str(caught.value)


def test_an_import_with_credentials_keeps_secret_and_token_out_of_its_files(
    tmp_path: Path, oauth_sandbox: SandboxServer
) -> None:
    cache = tmp_path / "tokens"
    settings = credentials(oauth_sandbox, cache, rate=200.0)
    path = write_po_workbook(tmp_path / "orders.xlsx", po_rows(2))
    table, validation = load_purchase_orders(path)
    journal = tmp_path / "run.journal.sqlite"
    result = asyncio.run(import_workbook(Workbook(path, purchase_orders=(table, validation)),
                                         settings, ImportOptions(journal=journal)))
    assert [r.status for r in result.results] == ["created"] * 4
    token = cached(oauth_sandbox, cache)["access_token"]
    stored = journal.read_bytes()
    assert SECRET.encode() not in stored and token.encode() not in stored
    # The journal's account is the client id's, never the secret's or the token's.
    account = account_fingerprint(oauth_sandbox.base_url, "oauth-client\0" + CLIENT_ID)
    assert account.encode() in stored
    assert account_fingerprint(oauth_sandbox.base_url, SECRET).encode() not in stored
    assert SECRET not in repr(settings) and SECRET not in json.dumps(settings.safe_dict())


def test_incomplete_credentials_and_credentials_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no client secret"):
        load_settings(env={"FLEXPORT_CLIENT_ID": CLIENT_ID}).check_auth()
    file = tmp_path / "flexport-credentials.toml"
    file.write_text(f'client_id = "{CLIENT_ID}"\nclient_secret = "{SECRET}"\n')
    settings = load_settings(env={"FLEXPORT_CREDENTIALS_FILE": str(file)})
    assert settings.credentials() == (CLIENT_ID, SECRET)
    assert settings.account() == "oauth-client\0" + CLIENT_ID
    config = tmp_path / "bulkpo.toml"
    config.write_text(f'client_secret = "{SECRET}"\n')
    with pytest.raises(ConfigError, match="do not store the client secret") as caught:
        load_settings(config, env={})
    assert SECRET not in str(caught.value)
