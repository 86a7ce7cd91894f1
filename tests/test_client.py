"""The API client: exact error shapes (MockTransport) and real HTTP against the sandbox."""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkpo.config import Settings
from bulkpo.errors import (
    ApiError,
    AuthError,
    ConfigError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationApiError,
)
from bulkpo.flexport import FlexportClient, Page, PurchaseOrder, parse_retry_after
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox

KEY = "sk-test-5ecret-do-not-show"
BASE = "https://api.flexport.test"

Handler = Callable[[httpx.Request], httpx.Response]


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"api_key": KEY, "base_url": BASE, **overrides}
    return Settings.model_validate(values)


def envelope(data: Any, *, error: Any = None, status: int = 200, **extra: Any) -> httpx.Response:
    body = {"_object": "/api/response", "self": BASE, "version": 2, "data": data, "error": error}
    return httpx.Response(status, json=body, **extra)


def api_error(status: int, code: str, message: str, **extra: Any) -> httpx.Response:
    error = {"_object": "/api/error", "status": status, "code": code, "message": message}
    return envelope(None, error=error, status=status, **extra)


def client_for(handler: Handler, **overrides: Any) -> FlexportClient:
    return FlexportClient(settings(**overrides), transport=httpx.MockTransport(handler))


async def failure(handler: Handler, method: str = "GET", path: str = "/shipments/1") -> ApiError:
    async with client_for(handler) as api:
        with pytest.raises(ApiError) as caught:
            await api.request(method, path, json={} if method != "GET" else None)
    assert_no_key(caught.value)
    return caught.value


def assert_no_key(thing: object) -> None:
    assert KEY not in str(thing)
    assert KEY not in repr(thing)
    if isinstance(thing, BaseException):
        assert KEY not in repr(thing.args)
        assert KEY not in repr(vars(thing))


# -- construction ----------------------------------------------------------


def test_missing_key_is_a_config_error_before_any_request() -> None:
    with pytest.raises(ConfigError, match="FLEXPORT_API_KEY"):
        FlexportClient(Settings(base_url=BASE))


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        FlexportClient(settings(base_url="http://api.flexport.com"))


async def test_the_client_repr_hides_the_key() -> None:
    async with client_for(lambda r: envelope({})) as api:
        assert_no_key(api)
        assert_no_key(api._http.headers)
        assert "api.flexport.test" in repr(api)


def test_public_surface() -> None:
    import bulkpo.flexport as flexport

    assert sorted(flexport.__all__) == flexport.__all__
    assert {"FlexportClient", "Page", "PurchaseOrder", "PurchaseOrderLineItem", "Booking",
            "BookingLineItem", "Shipment", "ShipmentLeg", "Document", "CompanyEntity",
            "Location", "Money", "Metadata"} <= set(flexport.__all__)  # fmt: skip
    for name in flexport.__all__:
        assert getattr(flexport, name) is not None


# -- headers and versions --------------------------------------------------


async def test_headers_and_po_write_version() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return envelope({"_object": "/purchase_order", "id": 7, "name": "PO-1"})
        return envelope({"_object": "/purchase_order", "id": 7, "name": "PO-1", "memo": "x"})

    async with client_for(handler) as api:
        po = await api.get_purchase_order(7)
        created = await api.create_purchase_order({"name": "PO-1", "line_items": []})
        patched = await api.update_purchase_order(7, {"name": "PO-1", "memo": "x"})
    assert isinstance(po, PurchaseOrder) and po.name == "PO-1"
    assert created.id == 7 and patched.memo == "x"
    get, post, patch = seen
    assert get.headers["Flexport-Version"] == "2"
    assert post.headers["Flexport-Version"] == "3"
    assert patch.headers["Flexport-Version"] == "3"
    assert (post.method, post.url.path, patch.method, patch.url.path) == (
        "POST", "/purchase_orders", "POST", "/purchase_orders/7",
    )  # fmt: skip
    assert json.loads(post.content) == {"name": "PO-1", "line_items": []}
    for request in seen:
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        assert request.headers["Accept"] == "application/json"
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"].startswith("bulkpo/")


async def test_versions_follow_the_settings() -> None:
    versions: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        versions.append(request.headers["Flexport-Version"])
        return envelope({})

    async with client_for(handler, api_version=3, po_write_version=4) as api:
        await api.request("GET", "/bookings/1")
        await api.create_purchase_order({})
    assert versions == ["3", "4"]


# -- error shapes ----------------------------------------------------------


async def test_error_object() -> None:
    err = await failure(lambda r: api_error(400, "invalid_request", "shipper_entity_ref unknown"))
    assert isinstance(err, ValidationApiError)
    assert (err.status, err.code, err.api_message) == (
        400, "invalid_request", "shipper_entity_ref unknown",
    )  # fmt: skip
    assert err.request is not None
    assert (err.request.method, err.request.url) == ("GET", f"{BASE}/shipments/1")
    assert str(err) == (
        f"HTTP 400 invalid_request: shipper_entity_ref unknown (GET {BASE}/shipments/1)"
    )


async def test_legacy_errors_array_is_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422, json={"errors": [{"code": "missing", "message": "name is required"}]}
        )

    err = await failure(handler, "POST", "/bookings")
    assert isinstance(err, ValidationApiError)
    assert (err.status, err.code, err.api_message) == (422, "missing", "name is required")


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failures_say_how_to_set_the_key(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"errors": [{"code": "bad_token", "message": "Bad Token"}]}
        return httpx.Response(status, json=body)

    err = await failure(handler)
    assert isinstance(err, AuthError)
    assert err.status == status and err.code == "bad_token"
    assert "FLEXPORT_API_KEY" in str(err) and "Bad Token" in str(err)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(404, NotFoundError), (409, ConflictError), (422, ValidationApiError), (418, ApiError),
     (500, ServerError), (503, ServerError)],
)  # fmt: skip
async def test_status_maps_to_an_exception(status: int, kind: type[ApiError]) -> None:
    err = await failure(lambda r: api_error(status, "some_code", "it went wrong"), "POST")
    assert type(err) is kind
    assert (err.status, err.code, err.api_message) == (status, "some_code", "it went wrong")


async def test_duplicate_po_name_is_a_conflict() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return api_error(409, "duplicate_name", "a purchase order named PO-1 exists")

    async with client_for(handler) as api:
        with pytest.raises(ConflictError, match="PO-1 exists"):
            await api.create_purchase_order({"name": "PO-1"})


async def test_429_with_retry_after_seconds() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return api_error(429, "rate_limited", "slow down", headers={"Retry-After": "7"})

    err = await failure(handler)
    assert isinstance(err, RateLimitError) and err.retryable
    assert err.retry_after == 7.0 and err.status == 429


async def test_429_with_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, text="Too Many Requests", headers={"Retry-After": when})

    err = await failure(handler)
    assert isinstance(err, RateLimitError)
    assert err.retry_after is not None and 25 <= err.retry_after <= 31


def test_parse_retry_after() -> None:
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_a_5xx_html_page_is_a_server_error_with_an_excerpt() -> None:
    page = "<html><body>Bad gateway" + "x" * 500 + "</body></html>"
    err = await failure(lambda r: httpx.Response(502, text=page, headers={"X-Secret": "hdr"}))
    assert isinstance(err, ServerError) and err.status == 502
    assert "not JSON" in str(err) and "Bad gateway" in str(err)
    assert "x" * 300 not in str(err) and "hdr" not in str(err)


async def test_a_2xx_that_is_not_json_is_an_api_error() -> None:
    err = await failure(lambda r: httpx.Response(200, text="<html>maintenance</html>"))
    assert type(err) is ApiError and err.status == 200
    assert "not JSON" in str(err) and "maintenance" in str(err)


async def test_a_2xx_without_an_envelope_is_an_api_error() -> None:
    err = await failure(lambda r: httpx.Response(200, json={"records": []}))
    assert type(err) is ApiError and "envelope" in str(err)


async def test_an_empty_error_body() -> None:
    err = await failure(lambda r: httpx.Response(500))
    assert isinstance(err, ServerError) and "empty body" in str(err)


async def test_a_redirect_to_root_on_a_po_write_says_to_use_version_3() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Flexport-Version"] == "2"
        return httpx.Response(302, headers={"Location": "/"}, text="You are being redirected")

    async with client_for(handler, po_write_version=2) as api:
        with pytest.raises(NotFoundError) as caught:
            await api.create_purchase_order({"name": "PO-1"})
    message = str(caught.value)
    assert "does not exist at API version 2" in message
    assert "FLEXPORT_PO_WRITE_VERSION" in message and "po_write_version" in message
    assert caught.value.status == 302


async def test_a_redirect_on_a_read_is_not_found() -> None:
    err = await failure(lambda r: httpx.Response(302, headers={"Location": "/"}))
    assert isinstance(err, NotFoundError) and "does not exist" in str(err)
    assert "PO_WRITE" not in str(err)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx.ReadTimeout("read timed out"), "timed out after 30s"),
        (httpx.ConnectTimeout("connect timed out"), "cannot connect to api.flexport.test"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "cannot connect to"),
        (httpx.RemoteProtocolError("Server disconnected"), "connection dropped before the answer"),
        (httpx.ReadError("reset"), "connection dropped"),
    ],
)
async def test_no_answer_is_a_transport_error(exc: httpx.TransportError, expected: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    err = await failure(handler, "POST", "/bookings")
    assert isinstance(err, TransportError) and err.retryable
    assert expected in str(err)
    assert err.status is None
    assert err.request is not None and err.request.url == f"{BASE}/bookings"


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: RawHandler) -> AsyncIterator[str]:
    """A TCP server on loopback that misbehaves exactly as ``handler`` says."""
    done: list[asyncio.Task[None]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        done.append(task)
        try:
            await handler(reader, writer)
        finally:
            writer.close()
            await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()
        await asyncio.gather(*done, return_exceptions=True)


async def test_real_connection_refused() -> None:
    async with raw_server(lambda r, w: asyncio.sleep(0)) as base:
        pass  # the port is closed again: nothing listens there now
    async with FlexportClient(settings(base_url=base)) as api:
        with pytest.raises(TransportError, match=r"cannot connect to 127\.0\.0\.1") as caught:
            await api.request("GET", "/shipments")
    assert_no_key(caught.value)


async def test_real_connection_dropped_before_the_answer() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")

    async with raw_server(hang_up) as base, FlexportClient(settings(base_url=base)) as api:
        with pytest.raises(TransportError, match="connection dropped before the answer"):
            await api.request("POST", "/bookings", json={"name": "B-1"})


async def test_real_timeout() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes

    async with (
        raw_server(never_answer) as base,
        FlexportClient(settings(base_url=base, timeout=0.2)) as api,
    ):
        with pytest.raises(TransportError, match=r"timed out after 0\.2s waiting for 127"):
            await api.request("GET", "/shipments")


# -- pages -----------------------------------------------------------------


def paged(records: list[dict[str, Any]], seen: list[httpx.Request]) -> Handler:
    """A list endpoint that pages like the real API: next links keep the filters."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        params = request.url.params
        page, per = int(params["page"]), int(params["per"])
        chunk = records[(page - 1) * per : page * per]
        more = page * per < len(records)
        nxt = request.url.copy_merge_params({"page": str(page + 1)}) if more else None
        return envelope(
            {"_object": "/api/collections/paginated", "prev": None,
             "next": str(nxt) if nxt else None, "total_count": len(records), "data": chunk}
        )  # fmt: skip

    return handler


async def test_pages_always_send_per_and_follow_next() -> None:
    records = [{"_object": "/purchase_order", "id": i, "name": f"PO-{i}"} for i in range(1, 8)]
    seen: list[httpx.Request] = []
    async with client_for(paged(records, seen)) as api:
        pages = [p async for p in api.iter_pages("/purchase_orders", {"f.status": "open"}, per=3)]
        names = [po.name async for po in api.list_purchase_orders({"f.status": "open"})]
    assert [p.page for p in pages] == [1, 2, 3]
    assert [len(p.items) for p in pages] == [3, 3, 1]
    assert all(isinstance(p, Page) and p.total_count == 7 for p in pages)
    assert pages[-1].next_url is None
    assert names == [f"PO-{i}" for i in range(1, 8)]
    for request in seen:
        assert request.url.params["f.status"] == "open"
        assert "per" in request.url.params and "page" in request.url.params
    assert [r.url.params["per"] for r in seen[3:]] == ["100"]  # the default per_page


async def test_a_next_link_without_per_gets_it_added() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        first = request.url.params["page"] == "1"
        nxt = f"{BASE}/shipments?page=2" if first else None
        return envelope({"next": nxt, "total_count": 2, "data": [{"id": len(seen)}]})

    async with client_for(handler) as api:
        ids = [item["id"] async for item in api.iter_items("/shipments", per=1)]
    assert ids == [1, 2]
    assert [dict(r.url.params) for r in seen] == [
        {"per": "1", "page": "1"},
        {"page": "2", "per": "1"},
    ]


async def test_null_data_is_an_empty_page() -> None:
    async with client_for(lambda r: envelope({"next": None, "data": None})) as api:
        pages = [p async for p in api.iter_pages("/bookings")]
    assert pages == [Page(items=[], total_count=None, page=1, next_url=None)]


async def test_a_next_link_to_another_host_is_followed_on_the_base() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        nxt = (
            "http://internal-lb:8080/shipments?f.status=x&page=2&per=5" if len(seen) == 1 else None
        )
        return envelope({"next": nxt, "data": [{"id": len(seen)}]})

    async with client_for(handler) as api:
        ids = [item["id"] async for item in api.iter_items("/shipments", {"f.status": "x"}, per=5)]
    assert ids == [1, 2]
    assert str(seen[1].url) == f"{BASE}/shipments?f.status=x&page=2&per=5"


async def test_repeated_filters_survive_the_next_link() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        nxt = f"{BASE}/shipments?f.metadata.po=A&f.metadata.po=B&page=2" if len(seen) == 1 else None
        return envelope({"next": nxt, "data": [{"id": len(seen)}]})

    async with client_for(handler) as api:
        [i async for i in api.iter_items("/shipments", {"f.metadata.po": ["A", "B"]}, per=5)]
    for request in seen:
        assert request.url.params.get_list("f.metadata.po") == ["A", "B"]
        assert request.url.params["per"] == "5"


async def test_find_by_name_wants_the_exact_name() -> None:
    seen: list[httpx.Request] = []
    records = [{"id": 1, "name": "PO-10"}, {"id": 2, "name": "PO-1"}]
    async with client_for(paged(records, seen)) as api:
        found = await api.find_purchase_order_by_name("PO-1")
        missing = await api.find_booking_by_name("PO-1 ")
    assert found is not None and found.id == 2
    assert missing is None
    assert seen[0].url.params["f.name"] == "PO-1"
    assert seen[1].url.path == "/bookings"


async def test_download_streams_raw_bytes() -> None:
    blob = b"%PDF-1.4 \x00\x01" * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/documents/kBzGEuW3RgKVm2WPPflL1w/download"
        return httpx.Response(200, content=blob, headers={"Content-Type": "application/pdf"})

    async with client_for(handler) as api:
        got = b"".join([c async for c in api.download_document("kBzGEuW3RgKVm2WPPflL1w")])
    assert got == blob


async def test_download_of_a_missing_document() -> None:
    async with client_for(lambda r: api_error(404, "not_found", "no such document")) as api:
        with pytest.raises(NotFoundError, match="no such document"):
            [c async for c in api.download_document("nope")]


async def test_typed_helpers_use_the_documented_filters() -> None:
    seen: list[httpx.Request] = []
    async with client_for(paged([], seen)) as api:
        await api.purchase_order_line_items(5)
        await api.booking_line_items({"f.booking.id": "9"})
        await api.shipment_legs(6)
        await api.documents(6, "commercial_invoice")
        await api.company_entities()
        await api.locations()
        [s async for s in api.list_shipments({"f.status": "arrival_port"})]
        [b async for b in api.list_bookings({"f.status": "booked"})]
    got = [(r.url.path, {k: v for k, v in r.url.params.items() if k.startswith("f.")})
           for r in seen]  # fmt: skip
    assert got == [
        ("/purchase_order_line_items", {"f.purchase_order.id": "5"}),
        ("/booking_line_items", {"f.booking.id": "9"}),
        ("/shipment_legs", {"f.shipment.id": "6"}),
        ("/documents", {"f.shipment.id": "6", "f.document_type": "commercial_invoice"}),
        ("/network/company_entities", {}),
        ("/network/locations", {}),
        ("/shipments", {"f.status": "arrival_port"}),
        ("/bookings", {"f.status": "booked"}),
    ]


# -- real HTTP against the sandbox -------------------------------------------


# The ``sandbox`` fixture (a fresh sandbox server per test) comes from conftest.py.


def settings_on(server: SandboxServer, **overrides: Any) -> Settings:
    values = {"api_key": server.api_key, "base_url": server.base_url, **overrides}
    return Settings.model_validate(values)


def po_body(name: str, *, status: str = "open", lines: int = 1) -> dict[str, Any]:
    return {
        "name": name,
        "status": status,
        "buyer": {"name": "Acme Imports Inc", "ref": "acme-us", "country_code": "US"},
        "seller": {"name": "Shenzhen Bright Lights Co Ltd", "ref": "sup-shenzhen-lights",
                   "country_code": "CN"},
        "incoterm": "FOB",
        "transportation_mode": "ocean",
        "cargo_ready_date": "2025-07-01",
        "must_arrive_date": "2025-08-15",
        "origin_port_loc_code": "CNYTN",
        "destination_port_loc_code": "USLAX",
        "destination_address_ref": "loc-la-dc",
        "memo": "desk lamps",
        "metadata": {"season": ["SS25"]},
        "line_items": [
            {
                "line_item_number": n,
                "item_key": f"{name}-{n}",
                "product": {"sku": f"00{n}23", "name": "Desk lamp"},
                "units": 100 * n,
                "unit_of_measure": "PCS",
                "unit_cost": {"amount": "12.10", "currency_code": "USD"},
                "hs_codes": [{"code": "9405.20", "country_code": "US"}],
            }
            for n in range(1, lines + 1)
        ],
    }  # fmt: skip


async def test_sandbox_po_create_find_revise(sandbox: SandboxServer) -> None:
    async with FlexportClient(settings_on(sandbox)) as api:
        created = await api.create_purchase_order(po_body("PO-RT-1", lines=2))
        assert created.id is not None and created.name == "PO-RT-1"
        assert created.buyer is not None and created.buyer.ref == "acme-us"
        assert created.destination_port is not None
        assert created.destination_port.unlocode == "USLAX"
        assert created.metadata == {"season": ["SS25"]}

        found = await api.find_purchase_order_by_name("PO-RT-1")
        assert found is not None and found.id == created.id
        assert await api.find_purchase_order_by_name("PO-RT") is None

        lines = await api.purchase_order_line_items(created.id)
        assert sorted(line.line_item_number or 0 for line in lines) == [1, 2]
        line = next(line for line in lines if line.line_item_number == 1)
        assert line.product is not None and line.product.sku == "00123"
        assert line.unit_cost is not None and line.unit_cost.amount == Decimal("12.10")

        patched = await api.update_purchase_order(
            created.id, {**po_body("PO-RT-1", lines=2), "memo": "now with shades"}
        )
        assert patched.memo == "now with shades" and patched.name == "PO-RT-1"
        again = await api.get_purchase_order(created.id)
        assert again.memo == "now with shades"

        with pytest.raises(ConflictError) as caught:
            await api.create_purchase_order(po_body("PO-RT-1"))
        assert_no_key(caught.value)


BOOKING: dict[str, Any] = {
    "name": "BK-1",
    "shipper_entity_ref": "sup-shenzhen-lights",
    "consignee_entity_ref": "self",
    "origin_address_ref": "loc-shenzhen-factory",
    "destination_address_ref": "loc-la-dc",
    "cargo_ready_date": "2025-07-01",
    "wants_export_customs_service": False,
    "wants_import_customs_service": True,
    "ocean_booking": {
        "is_lcl": False, "container_counts": {"forty_ft_hc": 1}, "incoterm": "FOB",
        "wants_pickup_service": False, "wants_delivery_service": True,
        "origin_port_loc_code": "CNYTN", "destination_port_loc_code": "USLAX",
        "product_descriptions": [
            {"description": "Desk lamps", "hs_code": "9405.20",
             "description_for_export_customs": "台灯",
             "description_for_export_customs_locale": "zh_CN"},
        ],
    },
    "cargo": {
        "weight": {"value": 8200, "unit": "kg"}, "volume": {"value": 60, "unit": "cbm"},
        "shipping_units": [{"count": 20, "unit_type": "pallet", "atomic_count": 200}],
        "contains_hazmat": False, "contains_magnets": False,
        "contains_other_dangerous_goods": False, "contains_li_ion": False,
        "contains_non_li_ion_battery": False,
    },
}  # fmt: skip


async def test_sandbox_booking_to_shipment_and_documents(sandbox: SandboxServer) -> None:
    async with FlexportClient(settings_on(sandbox)) as api:
        po = await api.create_purchase_order(po_body("PO-B"))
        assert po.id is not None
        [line] = await api.purchase_order_line_items(po.id)
        booking = await api.create_booking(BOOKING)
        assert booking.id is not None and booking.status == "submitted"
        assert booking.shipment is None
        assert booking.ocean_booking is not None
        assert booking.ocean_booking.product_descriptions[0].hs_code is not None
        found = await api.find_booking_by_name("BK-1")
        assert found is not None and found.id == booking.id
        body = {"purchase_order_line_item_id": line.id, "booking_id": booking.id, "units": 50}
        attached = await api.create_booking_line_item(body)
        assert attached.units == 50
        assert await api.booking_line_items({"f.booking.id": str(booking.id)}) == [attached]

        sandbox.advance(3 * 24 * 3600)
        booked = await api.get_booking(booking.id)
        assert booked.shipment is not None and booked.shipment.id is not None
        shipment = await api.get_shipment(booked.shipment.id)
        assert shipment.id == booked.shipment.id
        assert [s.id async for s in api.list_shipments({})] == [shipment.id]
        legs = await api.shipment_legs(shipment.id)
        assert legs and all(leg.shipment and leg.shipment.id == shipment.id for leg in legs)
        documents = await api.documents(shipment.id)
        assert documents and all(isinstance(d.id, str) for d in documents)
        first = documents[0]
        assert first.id is not None and first.document_type is not None
        only = await api.documents(shipment.id, first.document_type)
        assert [d.id for d in only] == [first.id]
        blob = b"".join([chunk async for chunk in api.download_document(first.id)])
        assert first.file_metadata is not None and len(blob) == first.file_metadata.size

        assert "acme-us" in {e.ref for e in await api.company_entities()}
        assert "loc-la-dc" in {loc.ref for loc in await api.locations()}


async def test_sandbox_pages_with_a_filter(sandbox: SandboxServer) -> None:
    async with FlexportClient(settings_on(sandbox, per_page=2)) as api:
        for i in range(7):
            await api.create_purchase_order(
                po_body(f"PO-P-{i}", status="closed" if i % 3 else "open")
            )
        pages = [p async for p in api.iter_pages("/purchase_orders", {"f.status": "closed"})]
        closed = [po async for po in api.list_purchase_orders({"f.status": "closed"})]
    assert [len(p.items) for p in pages] == [2, 2]
    assert pages[0].next_url is not None and pages[-1].next_url is None
    assert {p.total_count for p in pages} == {4}
    assert [p.page for p in pages] == list(range(1, len(pages) + 1))
    assert sorted(po.name or "" for po in closed) == ["PO-P-1", "PO-P-2", "PO-P-4", "PO-P-5"]
    assert all(po.status == "closed" for po in closed)


async def test_sandbox_wrong_key(sandbox: SandboxServer) -> None:
    wrong = "not-the-sandbox-key-123"
    async with FlexportClient(settings_on(sandbox, api_key=wrong)) as api:
        with pytest.raises(AuthError) as caught:
            await api.request("GET", "/purchase_orders", params={"per": 1})
    assert caught.value.status == 401
    assert "FLEXPORT_API_KEY" in str(caught.value)
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)


async def test_sandbox_po_write_at_version_2_is_refused(sandbox: SandboxServer) -> None:
    async with FlexportClient(settings_on(sandbox, po_write_version=2)) as api:
        with pytest.raises(NotFoundError, match="FLEXPORT_PO_WRITE_VERSION"):
            await api.create_purchase_order(po_body("PO-V2"))
        assert await api.find_purchase_order_by_name("PO-V2") is None


async def test_sandbox_rate_limit(tmp_path: Path) -> None:
    options = SandboxOptions(db_path=tmp_path / "s.sqlite", rate_limit=2.0)
    with running_sandbox(options) as server:
        async with FlexportClient(settings_on(server)) as api:
            with pytest.raises(RateLimitError) as caught:
                for _ in range(50):
                    await api.request("GET", "/purchase_orders", params={"per": 1})
    assert caught.value.status == 429
    assert caught.value.retry_after is not None and caught.value.retry_after > 0


async def test_json_that_orjson_refuses_is_still_read() -> None:
    # NaN and a 70-bit integer are JSON Python reads; orjson refuses both.
    body = b'{"_object": "/api/response", "data": {"id": 1180591620717411303424, "x": NaN}}'

    async with client_for(lambda r: httpx.Response(200, content=body)) as api:
        data = await api.request("GET", "/shipments/1")
    assert data["id"] == 2**70 and math.isnan(data["x"])
