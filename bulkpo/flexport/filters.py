"""The API's list filters and routes by name: the only place that spells ``f.*`` parameters.

Workflows describe what they want (a status, a time window, a booking id) and
these functions turn it into the query parameters of the list endpoints, so a
filter Flexport renames changes here alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

PURCHASE_ORDERS = "/purchase_orders"
PURCHASE_ORDER_LINE_ITEMS = "/purchase_order_line_items"
BOOKINGS = "/bookings"
BOOKING_LINE_ITEMS = "/booking_line_items"
BOOKING_AMENDMENTS = "/booking_amendments"
SHIPMENTS = "/shipments"
SHIPMENT_LEGS = "/shipment_legs"
DOCUMENTS = "/documents"
COMPANY_ENTITIES = "/network/company_entities"
LOCATIONS = "/network/locations"

Params = dict[str, str | list[str]]


def one(route: str, id: int | str) -> str:
    """The route of one object of a list route: ``one(BOOKINGS, 12)`` is ``/bookings/12``."""
    return f"{route}/{id}"


def download(document_id: int | str) -> str:
    """The route of a document's file."""
    return f"{one(DOCUMENTS, document_id)}/download"


def iso(moment: dt.datetime) -> str:
    """ISO 8601 with the offset, to the millisecond only when there are any."""
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")


def _set(params: Params, pairs: Sequence[tuple[str, str | None]]) -> None:
    for key, value in pairs:
        if value is not None:
            params[key] = value


def _window(
    params: Params, field: str, after: dt.datetime | None, before: dt.datetime | None
) -> None:
    for op, moment in (("gt", after), ("lt", before)):
        if moment is not None:
            params[f"f.{field}.{op}"] = iso(moment)


def purchase_order_filters(
    *,
    status: str | None = None,
    archived: bool | None = None,
    buyer_ref: str | None = None,
    seller_ref: str | None = None,
    role: str | None = None,
    shipment_id: int | None = None,
    name: str | None = None,
    created_after: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
    updated_after: dt.datetime | None = None,
    updated_before: dt.datetime | None = None,
    direction: str | None = None,
) -> dict[str, str]:
    """The query parameters of ``GET /purchase_orders`` (without page and per)."""
    params: Params = {}
    _set(params, [
        ("f.status", status),
        ("f.buyer_ref", buyer_ref),
        ("f.seller_ref", seller_ref),
        ("f.role", role),
        ("f.name", name),
        ("f.archived_at.exists", None if archived is None else str(archived).lower()),
        ("f.shipment.id", None if shipment_id is None else str(shipment_id)),
    ])  # fmt: skip
    _window(params, "created_at", created_after, created_before)
    _window(params, "updated_at", updated_after, updated_before)
    if direction is not None:
        params["sort"] = "id"
        params["direction"] = direction
    return {key: value for key, value in params.items() if isinstance(value, str)}


def shipment_filters(
    *,
    status: str | None = None,
    transportation_mode: str | None = None,
    purchase_order: str | None = None,
    sku: str | None = None,
    container_number: str | None = None,
    updated_after: dt.datetime | None = None,
    updated_before: dt.datetime | None = None,
    metadata: Sequence[tuple[str, str]] = (),
) -> Params:
    """The query parameters of ``GET /shipments``; a repeated metadata key matches any value."""
    params: Params = {}
    _set(params, [
        ("f.status", status),
        ("f.transportation_mode", transportation_mode),
        ("f.purchase_order", purchase_order),
        ("f.sku", sku),
        ("f.container_number", container_number),
    ])  # fmt: skip
    _window(params, "updated_at", updated_after, updated_before)
    for key, value in metadata:
        values = params.setdefault(f"f.metadata.{key}", [])
        assert isinstance(values, list)
        values.append(value)
    return params


# The docs give desc as the shipments' default and the API was seen answering asc:
# paging asks for one order itself, oldest first, so it rests on neither.
SHIPMENTS_OLDEST_FIRST = {"sort": "id", "direction": "asc"}


def booking_filters(*, created_after: dt.datetime | None = None) -> Params:
    """The query of ``GET /bookings`` in creation order, oldest first (bookings carry no
    ``updated_at``: ``f.created_at`` is their only documented time filter)."""
    params: Params = {"sort": "created_at", "direction": "asc"}
    _window(params, "created_at", created_after, None)
    return params


def by_name(name: str) -> dict[str, str]:
    """A list filter for the object named ``name`` (POs, bookings)."""
    return {"f.name": name}


# Line item lists default to desc in the docs (and the real API may differ): bulkpo
# asks for creation order itself, so line order and paging never rest on a default.
_OLDEST_FIRST = {"direction": "asc"}


def by_booking(booking_id: int | str) -> dict[str, str]:
    """The booking line items of one booking, oldest first."""
    return {"f.booking.id": str(booking_id), **_OLDEST_FIRST}


def by_purchase_order(po_id: int | str) -> dict[str, str]:
    """The line items of one purchase order (or its booking links), oldest first."""
    return {"f.purchase_order.id": str(po_id), **_OLDEST_FIRST}


def by_shipment(shipment_id: int | str) -> dict[str, str]:
    """The legs (or documents) of one shipment."""
    return {"f.shipment.id": str(shipment_id)}


def documents_of(shipment_id: int | str, document_type: str | None = None) -> dict[str, str]:
    """The documents of one shipment, optionally of one type only."""
    params = by_shipment(shipment_id)
    if document_type is not None:
        params["f.document_type"] = document_type
    return params
