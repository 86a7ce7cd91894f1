"""What the engine's hooks call on the Flexport API, as a type: :class:`FlexportClient` is one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from bulkpo.flexport.models import (
    Booking,
    BookingAmendment,
    BookingLineItem,
    PurchaseOrder,
    PurchaseOrderLineItem,
)

if TYPE_CHECKING:
    from bulkpo.flexport.client import FlexportClient


class FlexportApi(Protocol):
    """Finding, reading, creating and changing POs, bookings and booking line items.

    Each method is one attempt that raises :class:`bulkpo.errors.ApiError` on
    failure; the engine paces and retries it.
    """

    async def get_purchase_order(self, id: int) -> PurchaseOrder: ...

    async def find_purchase_order_by_name(self, name: str) -> PurchaseOrder | None: ...

    async def purchase_order_line_items(self, po_id: int) -> list[PurchaseOrderLineItem]: ...

    async def create_purchase_order(self, body: Mapping[str, Any]) -> PurchaseOrder: ...

    async def update_purchase_order(self, id: int, body: Mapping[str, Any]) -> PurchaseOrder: ...

    async def create_booking(self, body: Mapping[str, Any]) -> Booking: ...

    async def get_booking(self, id: int) -> Booking: ...

    async def find_booking_by_name(self, name: str) -> Booking | None: ...

    async def create_booking_amendment(self, body: Mapping[str, Any]) -> BookingAmendment: ...

    async def create_booking_line_item(self, body: Mapping[str, Any]) -> BookingLineItem: ...

    async def booking_line_items(
        self, filters: Mapping[str, str | int] | None = None
    ) -> list[BookingLineItem]: ...


if TYPE_CHECKING:

    def _client_is_an_api(client: FlexportClient) -> FlexportApi:
        # mypy proves here that the real client keeps satisfying the protocol.
        return client
