"""The sandbox's HTTP face: a Starlette app speaking the Flexport API's wire format.

:class:`Gate` does what happens before any endpoint (latency, auth, rate limit,
injected 5xx, dropped connections, the sandbox clock); the endpoints below it parse
the request, call the :class:`~bulkpo.sandbox.store.Store` and answer in the
``/api/response`` envelope.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import random
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bulkpo.sandbox import lifecycle, render
from bulkpo.sandbox.bookings import parse_amendment, parse_booking
from bulkpo.sandbox.fields import MAX_INTEGER, Refusal
from bulkpo.sandbox.network import parse_company_entity, parse_location, parse_network_patch
from bulkpo.sandbox.oauth import OAuthGate
from bulkpo.sandbox.options import SandboxOptions
from bulkpo.sandbox.ports import known_port
from bulkpo.sandbox.purchase_orders import parse_purchase_order
from bulkpo.sandbox.store import Filters, Page, Store, id_filter, not_found

PO_WRITE_VERSION = 3
_WRITES = ("POST", "PATCH")
_FAULT_STATUSES = (500, 502, 503)


class ConnectionDropped(Exception):
    """Raised after a write committed, so that uvicorn aborts the connection."""


class _HideDroppedConnections(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and record.exc_info[0] is ConnectionDropped)


def quiet_dropped_connections() -> None:
    """Keep uvicorn from logging a traceback for every deliberately dropped connection."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDroppedConnections) for f in logger.filters):
        logger.addFilter(_HideDroppedConnections())


def error_body(url: str, version: int, status: int, code: str, message: str) -> dict[str, Any]:
    return {"_object": "/api/response", "self": url, "version": version, "data": None,
            "error": {"_object": "/api/error", "status": status, "code": code,
                      "message": message}}


class TokenBucket:
    """``rate`` requests per second, bursts of at most ``max(1, rate)``."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0 when the request may go ahead, else the seconds until it could."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Gate:
    """Latency, auth, rate limit, injected faults and drops, in front of every endpoint.

    ``/_sandbox/*`` control endpoints need the key but skip latency, limits and faults,
    so a test can always move the clock.
    """

    def __init__(self, app: ASGIApp, options: SandboxOptions, store: Store) -> None:
        self.app = app
        self.options = options
        self.store = store
        self.rng = random.Random(options.seed)
        self.buckets: dict[str, TokenBucket] = {}
        self.arrivals = 0  # requests past the rate limit, for throttle_every

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        options = self.options
        control = scope["path"].startswith("/_sandbox/")
        if options.latency_ms and not control:
            await asyncio.sleep(options.latency_ms / 1000)
        headers = Headers(scope=scope)
        url = str(Request(scope).url)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in options.api_keys:
            body = {"errors": [{"code": "bad_token", "message": "Bad Token"}]}
            await JSONResponse(body, status_code=401)(scope, receive, send)
            return
        try:
            version = int(headers.get("flexport-version", "2"))
        except ValueError:
            version = 2
        scope.setdefault("state", {})["version"] = version

        async def refuse(status: int, code: str, message: str,
                         extra: dict[str, str] | None = None) -> None:
            response = JSONResponse(error_body(url, version, status, code, message),
                                    status_code=status, headers=extra)
            await response(scope, receive, send)

        if not control:
            if options.rate_limit is not None:
                bucket = self.buckets.setdefault(token, TokenBucket(options.rate_limit))
                wait = bucket.take()
                if wait:
                    seconds = max(1, math.ceil(wait))
                    await refuse(429, "rate_limited",
                                 f"rate limit exceeded; retry in {seconds} s",
                                 {"Retry-After": str(seconds)})
                    return
            self.arrivals += 1
            if options.throttle_every and self.arrivals % options.throttle_every == 0:
                # A 429 that needs no race against the clock: a loaded machine's
                # slow client may never outrun the bucket above.
                await refuse(429, "rate_limited", "rate limit exceeded; retry in 1 s",
                             {"Retry-After": "1"})
                return
            if options.fault_rate and self.rng.random() < options.fault_rate:
                status = self.rng.choice(_FAULT_STATUSES)
                await refuse(status, "server_error", "sandbox injected a server error")
                return
        self.store.refresh()
        drop = (not control and scope["method"] in _WRITES and options.drop_rate > 0
                and self.rng.random() < options.drop_rate)
        await self.app(scope, receive, _dropping(send) if drop else send)


class Recorder:
    """Appends every exchange to a JSON-lines file, so a test can check each request and
    answer against Flexport's published schemas (``SandboxOptions.record_path``)."""

    def __init__(self, app: ASGIApp, path: Path) -> None:
        self.app = app
        self.path = path
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent: list[bytes] = []
        received: list[bytes] = []
        answer: dict[str, Any] = {}

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received.append(message.get("body", b""))
            return message

        written = False

        def record() -> None:
            nonlocal written
            if not written:
                written = True
                self._write(scope, b"".join(received), answer, b"".join(sent))

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["type"] = Headers(raw=message.get("headers", [])).get("content-type", "")
            elif message["type"] == "http.response.body":
                sent.append(message.get("body", b""))
                if not message.get("more_body", False):
                    # Recorded before the client has its answer, so a caller that reads the
                    # record right after the response never sees a line half written.
                    record()
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            record()

    def _write(self, scope: Scope, request: bytes, answer: dict[str, Any], response: bytes
               ) -> None:
        def parsed(raw: bytes) -> Any:
            try:
                return json.loads(raw) if raw else None
            except ValueError:
                return None  # not JSON (a PDF) or cut off by a deliberate drop

        line = {
            "method": scope["method"], "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "status": answer.get("status"), "request": parsed(request),
            "response": parsed(response) if "json" in answer.get("type", "") else None,
        }
        with self.lock, self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


def _dropping(send: Send) -> Send:
    """A ``send`` that starts the response, sends half the body and gives up."""

    async def dropping_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            await send({"type": "http.response.body", "body": body[: len(body) // 2],
                        "more_body": True})
            raise ConnectionDropped("sandbox dropped the connection after the write")
        await send(message)

    return dropping_send


# -- envelope ------------------------------------------------------------------


def _version(request: Request) -> int:
    return int(request.state.version)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def envelope(request: Request, data: Any) -> JSONResponse:
    return JSONResponse({"_object": "/api/response", "self": str(request.url),
                         "version": _version(request), "data": data, "error": None})


def _filters(request: Request) -> Filters:
    params = request.query_params
    return {key: params.getlist(key) for key in params}


def _page(request: Request) -> Page:
    values = {}
    for name, default in (("page", 1), ("per", 20)):
        raw = request.query_params.get(name)
        try:
            values[name] = int(raw) if raw is not None else default
        except ValueError:
            values[name] = -1
    # The offset, not only the page, must fit SQLite's 64-bit integers.
    if not 1 <= values["page"] <= MAX_INTEGER // 100:
        raise Refusal(400, "invalid_param",
                      f"page must be an integer from 1 to {MAX_INTEGER // 100}")
    if not 1 <= values["per"] <= 100:
        raise Refusal(400, "invalid_param", "per must be an integer from 1 to 100")
    return Page(values["page"], values["per"])


def _links(request: Request, page: Page, total: int) -> dict[str, Any]:
    """The paginated collection around a page: prev/next keep every filter, set page and per."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "per")]
    base = _base(request) + request.url.path

    def link(number: int) -> str:
        return base + "?" + urlencode([*kept, ("page", str(number)), ("per", str(page.per))])

    last = max(1, math.ceil(total / page.per))
    return {
        "_object": "/api/collections/paginated",
        "prev": link(page.number - 1) if page.number > 1 else None,
        "next": link(page.number + 1) if page.number < last else None,
        "total_count": total,
    }


async def _page_delay(request: Request) -> None:
    delay = request.app.state.options.page_delay_ms
    if delay:
        await asyncio.sleep(delay / 1000)


async def listing(request: Request, page: Page, total: int, items: list[Any]) -> JSONResponse:
    """A paginated collection whose prev/next keep every filter and set page and per."""
    await _page_delay(request)
    return envelope(request, {**_links(request, page, total), "data": items})


def _dumps(value: Any) -> str:
    # As JSONResponse writes its bodies, so cached and fresh answers read the same.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


async def cached_listing(request: Request, page: Page, total: int, items: list[str]
                         ) -> Response:
    """:func:`listing` for items already rendered as JSON text (:class:`Rendered`)."""
    await _page_delay(request)
    head = _dumps({"_object": "/api/response", "self": str(request.url),
                   "version": _version(request)})
    links = _dumps(_links(request, page, total))
    body = (f'{head[:-1]},"data":{links[:-1]},"data":[{",".join(items)}]}},"error":null}}')
    return Response(body.encode("utf-8"), media_type="application/json")


class Rendered:
    """Objects' JSON as last rendered, keyed by id and by what they were rendered from.

    A real server answers list pages from a cache; so does the sandbox: a page of
    objects unchanged since they were last listed costs no JSON decoding, rendering
    or encoding. ``stamp`` is what the rendering depends on (the PO's ``updated_at``,
    which every write changes, and the base URL of the links), so a changed object
    is never served stale. Bounded: a full cache is emptied and refilled.
    """

    LIMIT = 200_000

    def __init__(self) -> None:
        self._items: dict[tuple[str, int], tuple[tuple[str, ...], str]] = {}

    def get(self, kind: str, object_id: int, stamp: tuple[str, ...],
            render: Callable[[], dict[str, Any]]) -> str:
        key = (kind, object_id)
        found = self._items.get(key)
        if found is not None and found[0] == stamp:
            return found[1]
        text = _dumps(render())
        if len(self._items) >= self.LIMIT:
            self._items.clear()
        self._items[key] = (stamp, text)
        return text


def _rendered(request: Request) -> Rendered:
    cache: Rendered = request.app.state.rendered
    return cache


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise Refusal(400, "invalid_json", "the request body is not valid JSON") from None


def _int_id(request: Request, kind: str, name: str = "id") -> int:
    raw = request.path_params[name]
    try:
        number = int(raw)
    except ValueError:
        number = -1
    if not 0 <= number <= MAX_INTEGER:
        raise not_found(kind, raw)
    return number


async def unknown_route(request: Request) -> Response:
    """What the real API does for a URL it does not know: a redirect to its home page."""
    if request.url.path == "/":
        return Response(status_code=404)
    return Response("<html><body>You are being redirected.</body></html>", status_code=302,
                    headers={"Location": "/"}, media_type="text/html")


async def on_refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    return JSONResponse(error_body(str(request.url), _version(request), exc.status, exc.code,
                                   exc.message),
                        status_code=exc.status, headers=exc.headers or None)


# -- purchase orders -------------------------------------------------------------


def _render_pos(request: Request, rows: list[Any]) -> list[str]:
    base, store, cache = _base(request), _store(request), _rendered(request)
    return [cache.get("purchase_order", row["id"], (row["updated_at"], base),
                      functools.partial(render.purchase_order, base, store, row))
            for row in rows]


async def list_purchase_orders(request: Request) -> Response:
    page = _page(request)
    total, rows = _store(request).list_purchase_orders(_filters(request), page)
    return await cached_listing(request, page, total, _render_pos(request, rows))


def _purchase_order(request: Request, po_id: int) -> Response:
    row = _store(request).purchase_order(po_id)
    if row is None:
        raise not_found("purchase_order", po_id)
    return envelope(request, render.purchase_order(_base(request), _store(request), row))


async def get_purchase_order(request: Request) -> Response:
    return _purchase_order(request, _int_id(request, "purchase_order"))


async def create_purchase_order(request: Request) -> Response:
    if _version(request) < PO_WRITE_VERSION:
        return await unknown_route(request)
    store = _store(request)
    write = parse_purchase_order(await _json_body(request), store.refs(), partial=False)
    return _purchase_order(request, store.create_purchase_order(write))


async def update_purchase_order(request: Request) -> Response:
    if _version(request) < PO_WRITE_VERSION:
        return await unknown_route(request)
    store = _store(request)
    po_id = _int_id(request, "purchase_order")
    if store.purchase_order(po_id) is None:
        raise not_found("purchase_order", po_id)
    write = parse_purchase_order(await _json_body(request), store.refs(), partial=False)
    store.update_purchase_order(po_id, write)
    return _purchase_order(request, po_id)


async def archive_purchase_order(request: Request) -> Response:
    po_id = _int_id(request, "purchase_order")
    _store(request).archive_purchase_order(po_id, archived=True)
    return _purchase_order(request, po_id)


async def unarchive_purchase_order(request: Request) -> Response:
    po_id = _int_id(request, "purchase_order")
    _store(request).archive_purchase_order(po_id, archived=False)
    return _purchase_order(request, po_id)


def _render_lines(request: Request, rows: list[Any]) -> list[str]:
    """Lines as JSON text; a line reads its PO's incoterm, mode and dates: its PO's
    ``updated_at`` is part of its stamp."""
    store, base, cache = _store(request), _base(request), _rendered(request)
    orders = store.purchase_orders_by_id({row["purchase_order_id"] for row in rows}) \
        if rows else {}
    bodies: dict[int, dict[str, Any]] = {}

    def render_line(row: Any) -> dict[str, Any]:
        po_id = row["purchase_order_id"]
        if po_id not in bodies:  # decoded once per page, not once per line
            bodies[po_id] = json.loads(orders[po_id]["body"])
        return render.line_item(base, row, bodies[po_id])

    return [cache.get("line_item", row["id"],
                      (orders[row["purchase_order_id"]]["updated_at"], base),
                      functools.partial(render_line, row))
            for row in rows]


async def list_line_items(request: Request) -> Response:
    page = _page(request)
    total, rows = _store(request).list_line_items(_filters(request), page)
    return await cached_listing(request, page, total, _render_lines(request, rows))


async def get_line_item(request: Request) -> Response:
    line_id = _int_id(request, "purchase_order_line_item")
    row = _store(request).line_item(line_id)
    if row is None:
        raise not_found("purchase_order_line_item", line_id)
    po = _store(request).purchase_orders_by_id({row["purchase_order_id"]})
    body = json.loads(po[row["purchase_order_id"]]["body"])
    return envelope(request, render.line_item(_base(request), row, body))


# -- bookings ----------------------------------------------------------------------


def _booking(request: Request, booking_id: int) -> Response:
    row = _store(request).booking(booking_id)
    if row is None:
        raise not_found("booking", booking_id)
    return envelope(request, render.booking(_base(request), _store(request), row))


async def list_bookings(request: Request) -> Response:
    page = _page(request)
    store = _store(request)
    total, rows = store.list_bookings(_filters(request), page)
    return await listing(request, page, total,
                         [render.booking(_base(request), store, row) for row in rows])


async def get_booking(request: Request) -> Response:
    return _booking(request, _int_id(request, "booking"))


async def create_booking(request: Request) -> Response:
    store = _store(request)
    booking = parse_booking(await _json_body(request), store.refs())
    return _booking(request, store.create_booking(booking))


async def create_booking_amendment(request: Request) -> Response:
    store = _store(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise Refusal(400, "invalid_field", "the body must be a JSON object")
    booking_id = body.get("booking_id")
    if booking_id is None:
        raise Refusal(400, "missing_field", "booking_id is required")
    if isinstance(booking_id, bool) or not isinstance(booking_id, int):
        raise Refusal(400, "invalid_field", f"booking_id must be an integer, got {booking_id!r}")
    if not 0 <= booking_id <= MAX_INTEGER:
        raise not_found("booking", booking_id)
    refs = store.refs()
    new_id, changes, pending = store.create_booking_amendment(
        booking_id, lambda booking: parse_amendment(body, refs, booking))
    return envelope(request, render.booking_amendment(store, new_id, booking_id, changes,
                                                      pending=pending))


async def create_booking_line_item(request: Request) -> Response:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise Refusal(400, "invalid_field", "the body must be a JSON object")
    values = {}
    for name in ("purchase_order_line_item_id", "booking_id", "units"):
        value = body.get(name)
        if value is None:
            raise Refusal(400, "missing_field", f"{name} is required")
        if isinstance(value, bool) or not isinstance(value, int) or not (
                1 <= value <= MAX_INTEGER):
            raise Refusal(400, "invalid_field", f"{name} must be an integer from 1 to "
                          f"{MAX_INTEGER}, got {value!r}")
        values[name] = value
    store = _store(request)
    new_id = store.create_booking_line_item(values["purchase_order_line_item_id"],
                                            values["booking_id"], values["units"])
    row = store.booking_line_item(new_id)
    assert row is not None
    return envelope(request, render.booking_line_item(_base(request), row))


async def list_booking_line_items(request: Request) -> Response:
    page = _page(request)
    total, rows = _store(request).list_booking_line_items(_filters(request), page)
    return await listing(request, page, total,
                         [render.booking_line_item(_base(request), row) for row in rows])


async def get_booking_line_item(request: Request) -> Response:
    item_id = _int_id(request, "booking_line_item")
    row = _store(request).booking_line_item(item_id)
    if row is None:
        raise not_found("booking_line_item", item_id)
    return envelope(request, render.booking_line_item(_base(request), row))


# -- shipments, legs, documents ------------------------------------------------------


def _render_shipment(request: Request, row: Any) -> dict[str, Any]:
    store = _store(request)
    booking = store.booking(row["booking_id"])
    assert booking is not None
    return render.shipment(_base(request), store, row, booking, store.now())


async def list_shipments(request: Request) -> Response:
    page = _page(request)
    total, rows = _store(request).list_shipments(_filters(request), page)
    return await listing(request, page, total, [_render_shipment(request, r) for r in rows])


def _shipment_row(request: Request) -> Any:
    shipment_id = _int_id(request, "shipment")
    row = _store(request).shipment(shipment_id)
    if row is None:
        raise not_found("shipment", shipment_id)
    return row


async def get_shipment(request: Request) -> Response:
    return envelope(request, _render_shipment(request, _shipment_row(request)))


async def list_containers(request: Request) -> Response:
    page = _page(request)
    store = _store(request)
    raw = request.query_params.get("f.shipment.id")
    if raw is None:
        raise Refusal(400, "missing_param", "f.shipment.id is required")
    row = store.shipment(id_filter(raw, "f.shipment.id"))
    items = render.containers(_base(request), row, store.now()) if row else []
    wanted = request.query_params.get("f.container_number")
    items = [c for c in items if wanted in (None, c["container_number"])]
    return await listing(request, page, len(items),
                         items[page.offset: page.offset + page.per])


def _render_legs(request: Request, rows: list[Any]) -> list[dict[str, Any]]:
    store = _store(request)
    out = []
    for row in rows:
        booking = store.booking(row["booking_id"])
        assert booking is not None
        out.append(render.leg(_base(request), store, row, json.loads(booking["body"]),
                              store.now()))
    return out


async def list_legs(request: Request) -> Response:
    page = _page(request)
    total, rows = _store(request).list_legs(_filters(request), page)
    return await listing(request, page, total, _render_legs(request, rows))


async def get_leg(request: Request) -> Response:
    leg_id = _int_id(request, "shipment_leg")
    row = _store(request).leg(leg_id)
    if row is None:
        raise not_found("shipment_leg", leg_id)
    return envelope(request, _render_legs(request, [row])[0])


async def list_documents(request: Request) -> Response:
    page = _page(request)
    total, rows = _store(request).list_documents(_filters(request), page)
    return await listing(request, page, total,
                         [render.document(_base(request), row) for row in rows])


async def list_unfiled(request: Request) -> Response:
    """Customs entries, commercial invoices, contacts: the sandbox files none, but refs to
    them must lead somewhere real, so the list is served (checked, empty)."""
    page = _page(request)
    if (raw := request.query_params.get("f.shipment.id")) is not None:
        id_filter(raw, "f.shipment.id")
    return await listing(request, page, 0, [])


async def get_document(request: Request) -> Response:
    document_id = request.path_params["id"]
    row = _store(request).document(document_id)
    if row is None:
        raise not_found("document", document_id)
    return envelope(request, render.document(_base(request), row))


async def download_document(request: Request) -> Response:
    document_id = request.path_params["id"]
    store = _store(request)
    row, content = store.document(document_id), store.document_content(document_id)
    if row is None or content is None:
        raise not_found("document", document_id)
    # The file name is the uploader's text, maybe hostile: percent-encode it.
    disposition = f"attachment; filename*=UTF-8''{quote(row['file_name'], safe='')}"
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": disposition})


# -- network and ports ---------------------------------------------------------------


def _network_list(table: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        page = _page(request)
        store = _store(request)
        total, rows = store.list_network(table, _filters(request), page)
        return await listing(request, page, total,
                             [render.network_row(_base(request), store, table, r) for r in rows])

    return endpoint


def _network_get(table: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        store = _store(request)
        object_id = _int_id(request, table.rstrip("s"))
        row = store.network_by_id(table, object_id)
        if row is None:
            raise not_found(table.rstrip("s"), object_id)
        return envelope(request, render.network_row(_base(request), store, table, row))

    return endpoint


async def create_company_entity(request: Request) -> Response:
    store = _store(request)
    body = parse_company_entity(await _json_body(request))
    object_id = store.create_network("company_entities", body)
    row = store.network_by_id("company_entities", object_id)
    assert row is not None
    return envelope(request, render.network_row(_base(request), store, "company_entities", row))


async def create_location(request: Request) -> Response:
    store = _store(request)
    body = parse_location(await _json_body(request), store.entity_ref_of_id)
    object_id = store.create_network("locations", body)
    row = store.network_by_id("locations", object_id)
    assert row is not None
    return envelope(request, render.network_row(_base(request), store, "locations", row))


def _network_patch(table: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        store = _store(request)
        object_id = _int_id(request, table.rstrip("s"))
        changes = parse_network_patch(table, await _json_body(request))
        if not store.update_network(table, object_id, changes):
            raise not_found(table.rstrip("s"), object_id)
        row = store.network_by_id(table, object_id)
        assert row is not None
        return envelope(request, render.network_row(_base(request), store, table, row))

    return endpoint


async def list_ports(request: Request) -> Response:
    """Ports by ``f.unlocode`` (required here: the sandbox does not list the world)."""
    page = _page(request)
    code = request.query_params.get("f.unlocode")
    if code is None:
        raise Refusal(400, "missing_param", "f.unlocode is required by the sandbox")
    port_type = request.query_params.get("f.port_type")
    port = known_port(code)
    matches = [port] if port and (port_type is None or port_type in port.port_types) else []
    items = [render.port_place(p) for p in matches[page.offset: page.offset + page.per]]
    return await listing(request, page, len(matches), items)


# -- sandbox control -----------------------------------------------------------------


async def advance_clock(request: Request) -> Response:
    body = await _json_body(request)
    seconds = body.get("seconds") if isinstance(body, dict) else None
    # A century at most: the sandbox clock must stay a date Python can print.
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
            0 <= seconds <= 100 * 365 * 86_400):
        raise Refusal(400, "invalid_field", "seconds must be a number from 0 to 100 years")
    store = _store(request)
    now = store.advance(float(seconds))
    return envelope(request, {"_object": "/sandbox/clock", "now": lifecycle.iso(now),
                              "advanced_s": float(seconds)})


def create_app(options: SandboxOptions) -> Starlette:
    """The sandbox as an ASGI app; its store is ``app.state.store`` (close it when done)."""
    store = Store(options.db_path, options.seed, options.shipment_delay_s,
                  refuse_duplicate_po_names=options.duplicate_po_names == "refuse",
                  refuse_duplicate_booking_names=options.duplicate_booking_names == "refuse",
                  amendment_review_s=options.amendment_review_s)
    routes = [
        Route("/purchase_orders", list_purchase_orders, methods=["GET"]),
        Route("/purchase_orders", create_purchase_order, methods=["POST"]),
        Route("/purchase_orders/{id}", get_purchase_order, methods=["GET"]),
        Route("/purchase_orders/{id}", update_purchase_order, methods=["POST"]),
        Route("/purchase_order_line_items", list_line_items, methods=["GET"]),
        Route("/purchase_order_line_items/{id}", get_line_item, methods=["GET"]),
        Route("/bookings", list_bookings, methods=["GET"]),
        Route("/bookings", create_booking, methods=["POST"]),
        Route("/bookings/{id}", get_booking, methods=["GET"]),
        Route("/booking_amendments", create_booking_amendment, methods=["POST"]),
        Route("/booking_line_items", list_booking_line_items, methods=["GET"]),
        Route("/booking_line_items", create_booking_line_item, methods=["POST"]),
        Route("/booking_line_items/{id}", get_booking_line_item, methods=["GET"]),
        Route("/shipments", list_shipments, methods=["GET"]),
        Route("/shipments/{id}", get_shipment, methods=["GET"]),
        Route("/shipment_legs", list_legs, methods=["GET"]),
        Route("/shipment_legs/{id}", get_leg, methods=["GET"]),
        Route("/ocean/shipment_containers", list_containers, methods=["GET"]),
        Route("/customs_entries", list_unfiled, methods=["GET"]),
        Route("/commercial_invoices", list_unfiled, methods=["GET"]),
        Route("/documents", list_documents, methods=["GET"]),
        Route("/documents/{id}", get_document, methods=["GET"]),
        Route("/documents/{id}/download", download_document, methods=["GET"]),
        Route("/network/company_entities", _network_list("company_entities"), methods=["GET"]),
        Route("/network/company_entities/{id}", _network_get("company_entities"),
              methods=["GET"]),
        Route("/network/company_entities", create_company_entity, methods=["POST"]),
        Route("/network/locations", _network_list("locations"), methods=["GET"]),
        Route("/network/locations", create_location, methods=["POST"]),
        Route("/network/contacts", list_unfiled, methods=["GET"]),
        Route("/network/locations/{id}", _network_get("locations"), methods=["GET"]),
        Route("/network/locations/{id}", _network_patch("locations"), methods=["PATCH"]),
        Route("/network/company_entities/{id}", _network_patch("company_entities"),
              methods=["PATCH"]),
        Route("/ports", list_ports, methods=["GET"]),
        Route("/_sandbox/advance", advance_clock, methods=["POST"]),
        Route("/_sandbox/archive_purchase_order/{id}", archive_purchase_order,
              methods=["POST"]),
        Route("/_sandbox/unarchive_purchase_order/{id}", unarchive_purchase_order,
              methods=["POST"]),
        Route("/{path:path}", unknown_route,
              methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    ]
    app = Starlette(routes=routes, exception_handlers={Refusal: on_refusal})
    app.add_middleware(Gate, options=options, store=store)
    app.add_middleware(OAuthGate, options=options, store=store)  # outside Gate: /oauth/token
    if options.record_path is not None:
        app.add_middleware(Recorder, path=options.record_path)
    app.state.store = store
    app.state.options = options
    app.state.rendered = Rendered()
    quiet_dropped_connections()
    return app
