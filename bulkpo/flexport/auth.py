"""API credentials (OAuth 2.0 client credentials): access tokens cached on disk, 10 a day.

Flexport issues a token (a JWT valid 24 h) for ``POST /oauth/token`` with the
client id and secret, and allows at most 10 token requests a day per client. So
a token is kept in a file (mode 0600, one per client id and API) and reused by
every run until shortly before it expires; the file also holds the times of the
day's token requests, and an 11th is refused before it is sent. The secret and
every token are registered for redaction, and nothing here logs either.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bulkpo.errors import (
    ApiError,
    AuthError,
    ConfigError,
    ExitCode,
    RateLimitError,
    RequestInfo,
    ServerError,
    TransportError,
)
from bulkpo.redact import register

TOKEN_PATH = "/oauth/token"
AUDIENCE = "https://api.flexport.com"
TOKENS_PER_DAY = 10
DAY_S = 24 * 3600.0
DEFAULT_LIFETIME_S = DAY_S
# A token this close to its expiry is not used: a run must not start a request
# with a token that dies on the way.
RENEW_BEFORE_S = 600.0


class TokenLimitError(ApiError, ConfigError):
    """The day's token requests are used up: refused before the 11th is sent.

    A ConfigError (exit 2, one clear line) that also stops a run as a refused key
    does, so an import leaves its remaining rows pending for ``--resume``.
    """

    exit_code = ExitCode.BAD_INPUT
    stops_run = True

    def __init__(self, message: str) -> None:
        super().__init__(message, code="token_limit")


@dataclass
class _Cache:
    """What the cache file holds for one client id and API."""

    client_id: str
    base_url: str
    access_token: str | None = None
    expires_at: float = 0.0
    requests: list[float] = field(default_factory=list)  # times of token requests


def cache_file(directory: Path, base_url: str, client_id: str) -> Path:
    """The cache file of a client id on an API (named by a hash: ids stay out of paths)."""
    name = hashlib.sha256(f"{base_url.rstrip('/')}\0{client_id}".encode()).hexdigest()[:24]
    return directory / f"{name}.json"


class TokenSource:
    """Access tokens for one client id: from the cache file, else from ``/oauth/token``.

    Example::

        source = TokenSource(http, "https://api.flexport.com", "cid", "secret", Path("tokens"))
        token = await source.token()
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        client_id: str,
        client_secret: str,
        cache_dir: Path,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        register(client_secret)
        self.path = cache_file(cache_dir, self._base_url, client_id)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._current: str | None = None
        self._expires_at = 0.0
        self._issued_here: set[str] = set()  # tokens this process requested
        self.requested = 0  # token requests this process sent

    async def token(self) -> str:
        """A token valid for a while yet: the cached one, else a new one."""
        async with self._lock:
            # The token in hand needs no file access: a run makes thousands of requests.
            if self._current is not None and self._expires_at - RENEW_BEFORE_S > self._clock():
                return self._current
            with self._file_lock():
                cache = self._load()
                if cache.access_token and cache.expires_at - RENEW_BEFORE_S > self._clock():
                    self._use(cache.access_token, cache.expires_at)
                    return cache.access_token
                return await self._request(cache)

    async def renew(self, refused: str) -> str | None:
        """After a 401 to ``refused``: the token to try once more, or None to stop.

        A cached token may have been revoked or expired on the server's clock:
        one new token is fetched. A token this process was just issued and that
        is refused means the credentials are wrong; another would be too.
        """
        async with self._lock:
            if self._current is not None and self._current != refused:
                return self._current  # another request renewed it meanwhile
            if refused in self._issued_here:
                return None
            with self._file_lock():
                cache = self._load()
                if cache.access_token and cache.access_token != refused:
                    self._use(cache.access_token, cache.expires_at)  # another process renewed
                    return cache.access_token
                return await self._request(cache)

    # -- the request ------------------------------------------------------

    async def _request(self, cache: _Cache) -> str:
        now = self._clock()
        cache.requests = [t for t in cache.requests if now - t < DAY_S]
        if len(cache.requests) >= TOKENS_PER_DAY:
            next_at = time.strftime("%Y-%m-%d %H:%M UTC",
                                    time.gmtime(min(cache.requests) + DAY_S))  # fmt: skip
            raise TokenLimitError(
                f"bulkpo has requested {len(cache.requests)} access tokens for client id "
                f"{self.client_id} in the last 24 hours, and Flexport allows "
                f"{TOKENS_PER_DAY} a day; nothing was sent. The next token can be "
                f"requested at {next_at} (the cache is {self.path})"
            )
        # Counted before it is sent: a request whose answer is lost still counts.
        cache.requests.append(now)
        self._save(cache)
        self.requested += 1
        url = f"{self._base_url}{TOKEN_PATH}"
        info = RequestInfo("POST", url)
        body = {"client_id": self.client_id, "client_secret": self._secret,
                "audience": AUDIENCE, "grant_type": "client_credentials"}  # fmt: skip
        try:
            response = await self._http.post(url, json=body)
        except httpx.TransportError as exc:
            raise TransportError(
                f"no answer from {TOKEN_PATH}: {type(exc).__name__}", request=info
            ) from None
        token, lifetime = _token_of(response, info)
        register(token)
        cache.access_token = token
        cache.expires_at = now + lifetime
        self._save(cache)
        self._issued_here.add(token)
        self._use(token, cache.expires_at)
        return token

    def _use(self, token: str, expires_at: float) -> None:
        register(token)
        self._current = token
        self._expires_at = expires_at

    # -- the cache file ---------------------------------------------------

    def _load(self) -> _Cache:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return _Cache(self.client_id, self._base_url)  # absent or damaged: start afresh
        if not isinstance(raw, dict) or raw.get("client_id") != self.client_id:
            return _Cache(self.client_id, self._base_url)
        token = raw.get("access_token")
        expires = raw.get("expires_at")
        requests = raw.get("requests")
        return _Cache(
            self.client_id,
            self._base_url,
            token if isinstance(token, str) and token else None,
            float(expires) if isinstance(expires, int | float) else 0.0,
            [float(t) for t in requests if isinstance(t, int | float)]
            if isinstance(requests, list) else [],
        )  # fmt: skip

    def _save(self, cache: _Cache) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = json.dumps({"client_id": cache.client_id, "base_url": cache.base_url,
                           "access_token": cache.access_token, "expires_at": cache.expires_at,
                           "requests": cache.requests})  # fmt: skip
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        # Created 0600 from the start: the token is never readable by others, even briefly.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
            os.replace(temporary, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise ConfigError(
                f"cannot write the token cache {self.path}: {exc.strerror}"
            ) from None

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Hold the cache's lock file, so that two processes never both request a token."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = self.path.with_suffix(".lock")
        with open(lock, "a+b") as handle:
            _lock(handle)
            try:
                yield
            finally:
                _unlock(handle)


def _token_of(response: httpx.Response, info: RequestInfo) -> tuple[str, float]:
    """(access token, seconds it lives) from a token answer, or the error it is."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if 200 <= status < 300 and isinstance(body, dict):
        token = body.get("access_token")
        lifetime = body.get("expires_in")
        if isinstance(token, str) and token:
            seconds = float(lifetime) if isinstance(lifetime, int | float) else DEFAULT_LIFETIME_S
            return token, seconds
    detail = ""
    if isinstance(body, dict):
        detail = str(body.get("error_description") or body.get("error") or "")
    detail = detail or f"HTTP {status}"
    if status in (401, 403):
        raise AuthError(f"the API refused the client credentials ({detail})", status=status,
                        code="invalid_client", request=info)  # fmt: skip
    if status == 429:
        raise RateLimitError(f"token requests refused: {detail}", status=status, request=info)
    if status >= 500:
        raise ServerError(f"the token service failed: {detail}", status=status, request=info)
    raise AuthError(f"no access token in the answer ({detail})", status=status, request=info)


if sys.platform == "win32":  # pragma: no cover - the journal lock's Windows twin
    import msvcrt

    def _lock(handle: Any) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)

    def _unlock(handle: Any) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)

    def _unlock(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
