"""The async HTTP client of the Flexport API: auth, versions, envelope, errors, pages.

One call is one attempt: pacing, retries and reconciliation belong to the
submit engine. Every failure comes out as a :mod:`bulkpo.errors` ApiError with
the status, the server's code and message, and the request's method and URL,
never its headers (so never the key). A request that cannot be formed or sent
(a header h11 refuses) is a LocalRequestError: never retried, it stops the run.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata as importlib_metadata
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from bulkpo.config import ApiVersion, Settings
from bulkpo.errors import (
    ApiError,
    AuthError,
    ConflictError,
    LocalRequestError,
    NotFoundError,
    RateLimitError,
    RequestInfo,
    ServerError,
    TransportError,
    ValidationApiError,
)
from bulkpo.flexport.auth import TokenSource
from bulkpo.flexport.filters import (
    BOOKING_AMENDMENTS,
    BOOKING_LINE_ITEMS,
    BOOKINGS,
    COMPANY_ENTITIES,
    DOCUMENTS,
    LOCATIONS,
    PURCHASE_ORDER_LINE_ITEMS,
    PURCHASE_ORDERS,
    SHIPMENT_LEGS,
    SHIPMENTS,
    by_name,
    by_purchase_order,
    by_shipment,
    documents_of,
    download,
    one,
)
from bulkpo.flexport.models import (
    Booking,
    BookingAmendment,
    BookingLineItem,
    CompanyEntity,
    Document,
    Location,
    PurchaseOrder,
    PurchaseOrderLineItem,
    Shipment,
    ShipmentLeg,
)
from bulkpo.redact import redact

ModelT = TypeVar("ModelT", bound=BaseModel)

BODY_EXCERPT_CHARS = 200
# The ``_object`` of answers the document shows bare (outside an envelope).
BOOKING = "/booking"
BOOKING_LINE_ITEM = "/purchase_orders/booking_line_item"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Failures of bulkpo's side before anything is sent: a header h11 will not write,
# a URL scheme no transport serves, a header value that is not ASCII.
_UNSENDABLE = (httpx.LocalProtocolError, httpx.UnsupportedProtocol, UnicodeEncodeError)


def _user_agent() -> str:
    try:
        version = importlib_metadata.version("bulkpo")
    except importlib_metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"bulkpo/{version}"


USER_AGENT = _user_agent()


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list endpoint: its records and where the next page is."""

    items: list[dict[str, Any]]
    total_count: int | None
    page: int
    next_url: str | None


class FlexportClient:
    """Talks to the Flexport API (or the bulkpo sandbox) for one run.

    Example::

        async with FlexportClient(settings) as api:
            po = await api.find_purchase_order_by_name("PO-A-17")
    """

    def __init__(
        self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        # Both raise ConfigError, so a missing key or an unsafe URL stops the
        # run before any request is made.
        settings.check_transport()
        headers = {
            "Flexport-Version": str(settings.api_version),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        credentials = settings.credentials() if settings.uses_credentials() else None
        if credentials is None:
            headers["Authorization"] = f"Bearer {settings.key()}"
        self.settings = settings
        self._base = httpx.URL(settings.base_url)
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            headers=headers,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            limits=httpx.Limits(
                max_connections=settings.max_connections,
                max_keepalive_connections=settings.max_connections,
            ),
            follow_redirects=False,
            transport=transport,
        )
        # With API credentials each request carries a token from here (cached on disk).
        self.tokens: TokenSource | None = None
        if credentials is not None:
            client_id, secret = credentials
            self.tokens = TokenSource(
                self._http, settings.base_url, client_id, secret, settings.token_cache()
            )

    def __repr__(self) -> str:
        return (
            f"FlexportClient(base_url={self.settings.base_url!r}, "
            f"api_version={self.settings.api_version}, "
            f"po_write_version={self.settings.po_write_version})"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    # -- one request ------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        version: ApiVersion | None = None,
        bare: str | None = None,
    ) -> Any:
        """Send one request and return the envelope's ``data``; raise ApiError on failure.

        ``path`` is relative to the base URL (``/purchase_orders``) or a full
        URL on the same base (a ``next`` link). ``bare`` names the ``_object`` of
        an answer the document shows without an envelope: such an answer is the data.
        """
        version = self.settings.api_version if version is None else version
        url = httpx.URL(self._on_base(path))
        if params:
            # Added to the query the path may carry (httpx would replace it).
            url = url.copy_merge_params(dict(params))
        token = await self.tokens.token() if self.tokens is not None else None
        request = self._http.build_request(
            method.upper(),
            url,
            content=None if json is None else _encode_json(json),
            headers={"Flexport-Version": str(version), **_bearer(token)},
        )
        info = RequestInfo(request.method, _safe_url(request.url))
        try:
            response = await self._http.send(request)
            if response.status_code == 401 and self.tokens is not None and token is not None:
                # A refused request was not carried out: it may go again, once.
                renewed = await self.tokens.renew(token)
                if renewed is not None:
                    request.headers.update(_bearer(renewed))
                    response = await self._http.send(request)
        except (httpx.TransportError, UnicodeEncodeError) as exc:
            raise self._transport_error(exc, info) from None
        return _envelope_data(response, info, version, bare)

    # -- pages ------------------------------------------------------------

    async def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        per: int | None = None,
    ) -> AsyncGenerator[Page, None]:
        """Yield every page of a list endpoint, following its ``next`` links."""
        query: dict[str, Any] = dict(params or {})
        query["per"] = per or self.settings.per_page
        query.setdefault("page", 1)
        number = int(query["page"])
        url: str | None = path
        request_params: dict[str, Any] | None = query
        seen: set[str] = set()
        while url is not None:
            data = await self.request("GET", url, params=request_params)
            page = _page(data, number)
            yield page
            if page.next_url is None or not page.items:
                return
            if page.next_url in seen:  # a server bug must not loop forever
                raise ApiError(
                    f"the API sent the same next link twice: {page.next_url}",
                    request=RequestInfo("GET", page.next_url),
                )
            seen.add(page.next_url)
            url, request_params = self._next_request(page.next_url, query["per"])
            number = _page_number(page.next_url, number + 1)

    async def purchase_order_page(
        self, filters: Mapping[str, Any], page: int, *, per: int | None = None
    ) -> Page:
        """One page of ``GET /purchase_orders``, so that a retry repeats just that page."""
        return await self._one_page(PURCHASE_ORDERS, filters, page, per)

    async def shipment_page(
        self, filters: Mapping[str, Any], page: int, *, per: int | None = None
    ) -> Page:
        """One page of ``GET /shipments``, so that a retry repeats just that page."""
        return await self._one_page(SHIPMENTS, filters, page, per)

    async def purchase_order_line_item_page(
        self, filters: Mapping[str, Any], page: int, *, per: int | None = None
    ) -> Page:
        """One page of ``GET /purchase_order_line_items`` (every PO's lines when unfiltered)."""
        return await self._one_page(PURCHASE_ORDER_LINE_ITEMS, filters, page, per)

    async def booking_page(
        self, filters: Mapping[str, Any], page: int, *, per: int | None = None
    ) -> Page:
        """One page of ``GET /bookings``, so that a retry repeats just that page."""
        return await self._one_page(BOOKINGS, filters, page, per)

    async def booking_line_item_page(
        self, filters: Mapping[str, Any], page: int, *, per: int | None = None
    ) -> Page:
        """One page of ``GET /booking_line_items`` (every booking's links when unfiltered)."""
        return await self._one_page(BOOKING_LINE_ITEMS, filters, page, per)

    async def _one_page(
        self, path: str, filters: Mapping[str, Any], page: int, per: int | None
    ) -> Page:
        query = {**filters, "page": page, "per": per or self.settings.per_page}
        return _page(await self.request("GET", path, params=query), page)

    async def iter_items(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        per: int | None = None,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield every record of a list endpoint, page after page."""
        async for page in self.iter_pages(path, params, per=per):
            for item in page.items:
                yield item

    async def _all(
        self, model: type[ModelT], path: str, params: Mapping[str, Any] | None = None
    ) -> list[ModelT]:
        return [_read(model, item) async for item in self.iter_items(path, params)]

    async def _each(
        self, model: type[ModelT], path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncGenerator[ModelT, None]:
        async for item in self.iter_items(path, params):
            yield _read(model, item)

    async def _first_named(self, model: type[ModelT], path: str, name: str) -> ModelT | None:
        # The name filter may match loosely (prefix, case); only the exact name counts.
        async with aclosing(self.iter_items(path, by_name(name))) as items:
            async for item in items:
                if item.get("name") == name:
                    return _read(model, item)
        return None

    # -- purchase orders --------------------------------------------------

    async def get_purchase_order(self, id: int) -> PurchaseOrder:
        """The purchase order with this Flexport id."""
        return _read(PurchaseOrder, await self.request("GET", one(PURCHASE_ORDERS, id)))

    async def find_purchase_order_by_name(self, name: str) -> PurchaseOrder | None:
        """The purchase order with exactly this name (PO number), or None."""
        return await self._first_named(PurchaseOrder, PURCHASE_ORDERS, name)

    def list_purchase_orders(
        self, filters: Mapping[str, str] | None = None
    ) -> AsyncIterator[PurchaseOrder]:
        """Every purchase order matching the filters (``filters.purchase_order_filters``)."""
        return self._each(PurchaseOrder, PURCHASE_ORDERS, filters)

    async def purchase_order_line_items(self, po_id: int) -> list[PurchaseOrderLineItem]:
        """The line items of one purchase order."""
        return await self._all(
            PurchaseOrderLineItem, PURCHASE_ORDER_LINE_ITEMS, by_purchase_order(po_id)
        )

    async def create_purchase_order(self, body: Mapping[str, Any]) -> PurchaseOrder:
        """Create a purchase order (a PO write: sent at ``po_write_version``)."""
        data = await self.request(
            "POST", PURCHASE_ORDERS, json=body, version=self.settings.po_write_version
        )
        return _read(PurchaseOrder, data)

    async def update_purchase_order(self, id: int, body: Mapping[str, Any]) -> PurchaseOrder:
        """Revise a purchase order: ``POST /purchase_orders/{id}`` with the complete PO.

        The documented route (v3 changelog; there is no PATCH) at ``po_write_version``;
        the body replaces the whole PO, so it must be a complete write body
        (:func:`bulkpo.flexport.payloads.purchase_order_revision`).
        """
        data = await self.request(
            "POST", one(PURCHASE_ORDERS, id), json=body, version=self.settings.po_write_version
        )
        return _read(PurchaseOrder, data)

    # -- bookings ---------------------------------------------------------

    async def create_booking(self, body: Mapping[str, Any]) -> Booking:
        """Create one booking from a ``CreateBooking`` body."""
        # The document shows this answer both in an envelope and as the bare booking.
        return _read(Booking, await self.request("POST", BOOKINGS, json=body, bare=BOOKING))

    async def get_booking(self, id: int) -> Booking:
        """The booking with this Flexport id."""
        return _read(Booking, await self.request("GET", one(BOOKINGS, id)))

    async def find_booking_by_name(self, name: str) -> Booking | None:
        """The booking with exactly this name, or None."""
        return await self._first_named(Booking, BOOKINGS, name)

    def list_bookings(self, filters: Mapping[str, str] | None = None) -> AsyncIterator[Booking]:
        """Every booking matching the ``f.*`` filters."""
        return self._each(Booking, BOOKINGS, filters)

    async def create_booking_amendment(self, body: Mapping[str, Any]) -> BookingAmendment:
        """Ask Flexport to change a booking: a ``CreateBookingAmendment`` body."""
        return _read(BookingAmendment, await self.request("POST", BOOKING_AMENDMENTS, json=body))

    async def create_booking_line_item(self, body: Mapping[str, Any]) -> BookingLineItem:
        """Attach PO line units to a booking: {purchase_order_line_item_id, booking_id, units}."""
        # The document's example answer is the bare line item, with no envelope.
        data = await self.request("POST", BOOKING_LINE_ITEMS, json=body, bare=BOOKING_LINE_ITEM)
        return _read(BookingLineItem, data)

    async def booking_line_items(
        self, filters: Mapping[str, str | int] | None = None
    ) -> list[BookingLineItem]:
        """Booking line items matching the filters, e.g. ``filters.by_booking(12)``."""
        return await self._all(BookingLineItem, BOOKING_LINE_ITEMS, filters)

    # -- shipments and documents ------------------------------------------

    async def get_shipment(self, id: int) -> Shipment:
        """The shipment with this Flexport id."""
        return _read(Shipment, await self.request("GET", one(SHIPMENTS, id)))

    def list_shipments(self, filters: Mapping[str, str] | None = None) -> AsyncIterator[Shipment]:
        """Every shipment matching the ``f.*`` filters."""
        return self._each(Shipment, SHIPMENTS, filters)

    async def shipment_legs(self, shipment_id: int) -> list[ShipmentLeg]:
        """The legs of one shipment."""
        return await self._all(ShipmentLeg, SHIPMENT_LEGS, by_shipment(shipment_id))

    async def documents(self, shipment_id: int, document_type: str | None = None) -> list[Document]:
        """The documents of one shipment, optionally of one type only."""
        return await self._all(Document, DOCUMENTS, documents_of(shipment_id, document_type))

    async def download_document(self, id: str) -> AsyncIterator[bytes]:
        """The file of a document, as raw bytes in chunks (not an envelope)."""
        method, url = "GET", download(id)
        version = self.settings.api_version
        info = RequestInfo(method, _safe_url(self._http.build_request(method, url).url))
        token = await self.tokens.token() if self.tokens is not None else None
        try:
            async with self._http.stream(method, url, headers=_bearer(token)) as response:
                location = response.headers.get("Location")
                if (
                    response.status_code in _REDIRECTS
                    and location
                    and _leaves_base(self._base, response.url.join(location))
                ):
                    # Files are served from storage elsewhere; the key stays here.
                    target = response.url.join(location)
                    async with (
                        httpx.AsyncClient(timeout=self._http.timeout) as plain,
                        plain.stream(method, target) as stored,
                    ):
                        await _raise_for_download(stored, info, version)
                        async for chunk in stored.aiter_bytes():
                            yield chunk
                    return
                await _raise_for_download(response, info, version)
                async for chunk in response.aiter_bytes():
                    yield chunk
        except (httpx.TransportError, UnicodeEncodeError) as exc:
            raise self._transport_error(exc, info) from None

    # -- network ----------------------------------------------------------

    async def company_entities(self) -> list[CompanyEntity]:
        """Your company's legal entities (the shipper and consignee refs)."""
        return await self._all(CompanyEntity, COMPANY_ENTITIES)

    async def locations(self) -> list[Location]:
        """Your network locations (the origin and destination address refs)."""
        return await self._all(Location, LOCATIONS)

    async def create_company_entity(self, body: Mapping[str, Any]) -> CompanyEntity:
        """Create one company entity from a ``CreateCompanyEntity`` body."""
        return _read(CompanyEntity, await self.request("POST", COMPANY_ENTITIES, json=body))

    async def create_location(self, body: Mapping[str, Any]) -> Location:
        """Create one network location from a ``CreateLocation`` body."""
        return _read(Location, await self.request("POST", LOCATIONS, json=body))

    async def update_company_entity(
        self, entity_id: str, body: Mapping[str, Any]
    ) -> CompanyEntity:
        """Change one company entity (``PATCH``: name, mailing_address, ref, vat_numbers)."""
        return _read(CompanyEntity, await self.request(
            "PATCH", f"{COMPANY_ENTITIES}/{quote(entity_id, safe='')}", json=body))

    async def update_location(self, location_id: str, body: Mapping[str, Any]) -> Location:
        """Change one network location (``PATCH``: name, address, ref, metadata...)."""
        return _read(Location, await self.request(
            "PATCH", f"{LOCATIONS}/{quote(location_id, safe='')}", json=body))

    async def find_company_entity_by_ref(self, ref: str) -> CompanyEntity | None:
        """The company entity with exactly this ref (``f.ref``), or None."""
        return await self._first_with_ref(CompanyEntity, COMPANY_ENTITIES, ref)

    async def find_location_by_ref(self, ref: str) -> Location | None:
        """The network location with exactly this ref (``f.ref``), or None."""
        return await self._first_with_ref(Location, LOCATIONS, ref)

    async def _first_with_ref(self, model: type[ModelT], path: str, ref: str) -> ModelT | None:
        # The read model knows where the ref is (a documented location has it only in
        # its address); only the exact ref counts.
        async with aclosing(self.iter_items(path, {"f.ref": ref})) as items:
            async for item in items:
                found = _read(model, item)
                if getattr(found, "ref", None) == ref:
                    return found
        return None

    # -- helpers ----------------------------------------------------------

    def _on_base(self, path: str) -> str:
        """A path, or a link re-rooted on the base URL so that the key goes nowhere else."""
        url = httpx.URL(path)
        if not url.is_absolute_url or not _leaves_base(self._base, url):
            return path
        # A link naming another host or scheme (a proxy's, or a load balancer's
        # internal name) is followed on the configured base, never elsewhere.
        prefix = self._base.path.rstrip("/")
        relative = url.path.removeprefix(prefix) if prefix else url.path
        query = url.query.decode("ascii")
        return relative + (f"?{query}" if query else "")

    def _next_request(self, next_url: str, per: int) -> tuple[str, dict[str, Any] | None]:
        # The link carries the filters and the page; make sure it also carries per.
        return next_url, (None if "per" in httpx.URL(next_url).params else {"per": per})

    def _transport_error(
        self, exc: httpx.TransportError | UnicodeEncodeError, info: RequestInfo
    ) -> TransportError:
        host = self._base.host
        s = self.settings
        message: str
        if isinstance(exc, _UNSENDABLE):
            # Raised before anything was sent, and again on every attempt: a
            # retry would only repeat it (and its text, which may quote a header).
            return LocalRequestError(
                f"bulkpo could not send the request to {host}: {_reason(exc)}; nothing "
                "was sent (check the API key and the settings)",
                request=info,
            )
        if isinstance(exc, httpx.ConnectTimeout):
            message = f"cannot connect to {host}: timed out after {_secs(s.connect_timeout)}"
        elif isinstance(exc, httpx.PoolTimeout):
            message = f"no free connection to {host} within {_secs(s.timeout)}"
        elif isinstance(exc, httpx.TimeoutException):
            message = f"timed out after {_secs(s.timeout)} waiting for {host}"
        elif isinstance(exc, httpx.ConnectError):
            message = f"cannot connect to {host}: {_reason(exc)}"
        elif isinstance(exc, httpx.RemoteProtocolError):
            message = "connection dropped before the answer arrived"
        elif isinstance(exc, httpx.ReadError):
            message = "connection dropped while reading the answer"
        elif isinstance(exc, httpx.WriteError):
            message = "connection dropped while sending the request"
        else:
            message = f"network error talking to {host}: {_reason(exc)}"
        never_connected = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        return TransportError(message, request=info, reached_server=not never_connected)


# -- pure functions: envelope, errors, pages ------------------------------


def _bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def _envelope_data(
    response: httpx.Response, info: RequestInfo, version: ApiVersion, bare: str | None = None
) -> Any:
    status = response.status_code
    if status in _REDIRECTS:
        raise _redirect_error(response, info, version)
    body = _json_or_none(response)
    if 200 <= status < 300:
        if bare is not None and isinstance(body, dict) and body.get("_object") == bare:
            return body
        if not isinstance(body, dict) or "data" not in body:
            what = "is not JSON" if body is None else "is not an /api/response envelope"
            raise ApiError(
                f"the answer {what}: {_excerpt(response)}", status=status, request=info
            )
        if body.get("error"):
            code, message, err_status = _error_details(body)
            message = message or "the answer carries an error"
            raise _error_for(err_status or status, code, message, response, info)
        return body["data"]
    code, message, _ = _error_details(body)
    if message is None:
        message = (
            f"the answer is not JSON: {_excerpt(response)}"
            if body is None
            else f"the answer carries no error message: {_excerpt(response)}"
        )
    raise _error_for(status, code, message, response, info)


def _error_details(body: Any) -> tuple[str | None, str | None, int | None]:
    """(code, message, status) from the ``error`` object or the legacy ``errors`` array."""
    if not isinstance(body, dict):
        return None, None, None
    error = body.get("error")
    if isinstance(error, dict):
        status = error.get("status")
        return (
            _text(error.get("code")),
            _text(error.get("message")),
            status if isinstance(status, int) else None,
        )
    if isinstance(error, str) and error:
        return None, error, None
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, dict):
            message = _text(first.get("message"))
            if len(errors) > 1:
                more = [_text(e.get("message")) for e in errors[1:] if isinstance(e, dict)]
                message = "; ".join(m for m in [message, *more] if m)
            return _text(first.get("code")), message, None
        return None, "; ".join(str(e) for e in errors), None
    return None, None, None


def _error_for(
    status: int,
    code: str | None,
    message: str,
    response: httpx.Response,
    info: RequestInfo,
) -> ApiError:
    if status == 401:
        return AuthError(f"the API refused the key ({message})", status=status, code=code,
                         request=info)  # fmt: skip
    if status == 403:
        return AuthError(f"the key is not allowed to do this ({message})", status=status,
                         code=code, request=info)  # fmt: skip
    if status == 404:
        return NotFoundError(message, status=status, code=code, request=info)
    if status == 409:
        return ConflictError(message, status=status, code=code, request=info)
    if status in (400, 422):
        return ValidationApiError(message, status=status, code=code, request=info)
    if status == 429:
        return RateLimitError(
            message,
            status=status,
            code=code,
            request=info,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status >= 500:
        return ServerError(message, status=status, code=code, request=info)
    return ApiError(message, status=status, code=code, request=info)


def _redirect_error(
    response: httpx.Response, info: RequestInfo, version: ApiVersion
) -> NotFoundError:
    # The API answers an unknown route with a redirect to "/" (and PO writes
    # are unknown routes before version 3).
    message = f"{info.method} {response.request.url.path} does not exist at API version {version}"
    if response.request.url.path.startswith(PURCHASE_ORDERS) and info.method != "GET":
        message += (
            "; purchase order writes need Flexport-Version 3: set po_write_version = 3 "
            "in bulkpo.toml or FLEXPORT_PO_WRITE_VERSION=3"
        )
    return NotFoundError(message, status=response.status_code, request=info)


async def _raise_for_download(
    response: httpx.Response, info: RequestInfo, version: ApiVersion
) -> None:
    if 200 <= response.status_code < 300:
        return
    if response.status_code in _REDIRECTS:
        raise _redirect_error(response, info, version)
    await response.aread()  # streamed: the error body must be read to be parsed
    _envelope_data(response, info, version)


def _read(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'the object'}: {err['msg']}"
            for err in exc.errors()[:3]
        )
        raise ApiError(f"the API sent a {model.__name__} bulkpo cannot read: {problems}") from None


def _page(data: Any, number: int) -> Page:
    if isinstance(data, list):  # an endpoint that is not paginated
        return Page(items=_records(data), total_count=len(data), page=number, next_url=None)
    if not isinstance(data, dict):
        return Page(items=[], total_count=None, page=number, next_url=None)
    total = data.get("total_count")
    next_url = data.get("next")
    return Page(
        items=_records(data.get("data")),
        total_count=total if isinstance(total, int) else None,
        page=number,
        next_url=next_url if isinstance(next_url, str) and next_url else None,
    )


def _records(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):  # null reads as an empty page
        return []
    return [item for item in items if isinstance(item, dict)]


def _page_number(url: str, default: int) -> int:
    try:
        return int(httpx.URL(url).params.get("page", default))
    except ValueError:
        return default


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        # orjson: a list page decodes in half the time; what it refuses
        # (another charset, NaN, integers past 64 bits) goes to the standard decoder.
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return response.json()
    except ValueError:
        return None


def _excerpt(response: httpx.Response) -> str:
    # Redacted before it is cut, so that a cut cannot leave half a key showing.
    text = redact(response.text.strip())
    if not text:
        return "(empty body)"
    short = text[:BODY_EXCERPT_CHARS]
    return repr(short) + ("..." if len(text) > BODY_EXCERPT_CHARS else "")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _secs(value: float) -> str:
    return f"{value:g}s"


def _leaves_base(base: httpx.URL, url: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port)


def _safe_url(url: httpx.URL) -> str:
    """The URL as shown in errors: without any user:password part."""
    return str(url.copy_with(username=None, password=None)) if url.userinfo else str(url)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def _encode_json(body: Any) -> bytes:
    return jsonlib.dumps(body, default=_json_default, ensure_ascii=False).encode("utf-8")
