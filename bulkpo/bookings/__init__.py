"""Bookings: the rules that check booking rows, and their submission linked to POs."""

from bulkpo.bookings.pages import BookingPages, read_booking_pages
from bulkpo.bookings.rules import parse_po_items, validate_bookings
from bulkpo.bookings.submit import (
    KIND_BOOKING,
    KIND_LINK,
    BookingSubmitter,
    BookingUnit,
    PurchaseOrderLines,
    PurchaseOrderRefs,
    list_purchase_orders,
    look_up_purchase_orders,
    named_po_numbers,
    network_refs,
    plan_bookings,
    refs_of_file_po,
    validate_booking_sheet,
)

__all__ = [
    "KIND_BOOKING",
    "KIND_LINK",
    "BookingPages",
    "BookingSubmitter",
    "BookingUnit",
    "PurchaseOrderLines",
    "PurchaseOrderRefs",
    "list_purchase_orders",
    "look_up_purchase_orders",
    "named_po_numbers",
    "network_refs",
    "parse_po_items",
    "plan_bookings",
    "read_booking_pages",
    "refs_of_file_po",
    "validate_booking_sheet",
    "validate_bookings",
]
