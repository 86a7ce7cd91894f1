"""The sandbox's API credentials: ``POST /oauth/token`` and the bearer tokens it issues.

As Flexport documents it: client id and secret, ``audience=https://api.flexport.com``,
``grant_type=client_credentials``; the answer is a JWT valid 24 h (here on the
sandbox clock) and a client id gets at most 10 tokens in any 24 h (429 after).
A request carrying an issued token passes on to the API as the sandbox key would;
an expired, forged or unknown token is a 401 like a wrong key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bulkpo.sandbox.options import SandboxOptions
from bulkpo.sandbox.store import Store

TOKEN_PATH = "/oauth/token"
AUDIENCE = "https://api.flexport.com"
_DAY_S = 24 * 3600.0
_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(key: bytes, client_id: str, now: float, lifetime_s: float) -> str:
    """A signed JWT for ``client_id``, valid ``lifetime_s`` from ``now``."""
    claims = {"iss": "bulkpo-sandbox", "sub": client_id, "aud": AUDIENCE, "iat": int(now),
              "exp": math.ceil(now + lifetime_s), "jti": secrets.token_hex(8)}
    signed = f"{_b64(json.dumps(_HEADER).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()
    return f"{signed}.{_b64(signature)}"


def verify(key: bytes, token: str, now: float) -> str | None:
    """Why ``token`` is refused ("expired", "bad signature"...), or None when it is valid."""
    parts = token.split(".")
    if len(parts) != 3:
        return "not a token"
    signed = f"{parts[0]}.{parts[1]}"
    expected = hmac.new(key, signed.encode("ascii"), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            return "unknown token"
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        return "not a token"
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(exp, int) or exp <= now:
        return "token expired"
    return None


class OAuthGate:
    """Serves ``/oauth/token`` and lets issued tokens through to the API.

    It sits in front of the sandbox's own gate: a request with a valid token
    reaches it carrying the sandbox key, so latency, limits and faults apply to
    it as to any other.
    """

    def __init__(self, app: ASGIApp, options: SandboxOptions, store: Store) -> None:
        self.app = app
        self.options = options
        self.store = store
        self.clients = dict(options.clients)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == TOKEN_PATH and scope["method"] == "POST":
            response = self._token(await _body(receive), Headers(scope=scope))
            await response(scope, receive, send)
            return
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or token.count(".") != 2:
            await self.app(scope, receive, send)  # a key, or nothing: the gate decides
            return
        refused = verify(self.store.signing_key(), token, self.store.now())
        if refused is not None:
            body = {"errors": [{"code": "bad_token", "message": f"Bad Token ({refused})"}]}
            await JSONResponse(body, status_code=401)(scope, receive, send)
            return
        key = self.options.api_keys[0].encode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        scope = {**scope, "headers": [*headers, (b"authorization", b"Bearer " + key)]}
        await self.app(scope, receive, send)

    def _token(self, raw: bytes, headers: Headers) -> JSONResponse:
        form = _form(raw, headers.get("content-type", ""))
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type",
                                "grant_type must be client_credentials")
        client_id = form.get("client_id")
        secret = self.clients.get(client_id) if isinstance(client_id, str) else None
        given = form.get("client_secret")
        if secret is None or not isinstance(given, str) or not hmac.compare_digest(
                secret.encode(), given.encode()):
            return _oauth_error(401, "access_denied", "Unauthorized")
        if form.get("audience") != AUDIENCE:
            return _oauth_error(403, "access_denied",
                                f"Service not found: {form.get('audience')!r}")
        assert isinstance(client_id, str)
        now = self.store.now()
        made = self.store.count_token_request(client_id, now - _DAY_S,
                                              self.options.tokens_per_day)
        if made is None:
            return _oauth_error(429, "too_many_requests",
                                f"at most {self.options.tokens_per_day} token requests "
                                "a day per client id")
        lifetime = self.options.token_lifetime_s
        token = issue(self.store.signing_key(), client_id, now, lifetime)
        return JSONResponse({"access_token": token, "scope": "", "expires_in": int(lifetime),
                             "token_type": "Bearer"})


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _form(raw: bytes, content_type: str) -> dict[str, Any]:
    """The token request's fields, sent as JSON or as a form."""
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode("utf-8", "replace")))
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message: Message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)
