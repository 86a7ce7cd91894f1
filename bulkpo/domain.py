"""What a validated input means: purchase orders with their lines, and bookings.

Validation turns table rows into these objects; payload builders turn them into
request bodies. Every object remembers the sheet rows it came from, so results
can be written back on the right rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

Metadata = dict[str, list[str]]


@dataclass(frozen=True)
class Party:
    """A buyer or seller as the sheet names it: a name, an entity ref, or both."""

    name: str | None = None
    ref: str | None = None
    country: str | None = None


@dataclass(slots=True)  # one per input line: a million of them in a large migration
class LineItem:
    """One PO line; ``row`` is the 1-based sheet row it came from."""

    row: int
    line_number: int
    sku: str | None  # None: a service or public-sector line known by its product name
    quantity: int
    product_name: str | None = None
    unit_of_measure: str = "PCS"
    unit_cost: Decimal | None = None
    currency: str | None = None
    hs_code: str | None = None
    must_arrive_date: dt.date | None = None  # sent on the line when the PO's lines differ


@dataclass
class PurchaseOrder:
    """A PO assembled from the rows sharing its PO number."""

    name: str
    lines: list[LineItem]
    status: str = "open"
    buyer: Party = field(default_factory=Party)
    seller: Party = field(default_factory=Party)
    incoterm: str | None = None
    transportation_mode: str | None = None
    cargo_ready_date: dt.date | None = None
    must_arrive_date: dt.date | None = None
    origin_port: str | None = None
    destination_port: str | None = None
    origin_address_ref: str | None = None
    destination_address_ref: str | None = None
    memo: str | None = None
    metadata: Metadata = field(default_factory=dict)
    priority: str | None = None  # standard | high
    order_class: str | None = None  # purchase_order

    @property
    def rows(self) -> list[int]:
        return [line.row for line in self.lines]


@dataclass
class ShippingUnits:
    count: int
    unit_type: str
    atomic_count: int | None = None


@dataclass
class DangerousGoods:
    hazmat: bool = False
    magnets: bool = False
    other_dangerous_goods: bool = False
    li_ion: bool = False
    non_li_ion_battery: bool = False
    li_ion_packing: tuple[str, ...] = ()


@dataclass
class ContainerCounts:
    twenty_ft: int = 0
    forty_ft: int = 0
    forty_ft_hc: int = 0
    forty_five_ft_hc: int = 0

    def total(self) -> int:
        return self.twenty_ft + self.forty_ft + self.forty_ft_hc + self.forty_five_ft_hc


@dataclass
class Booking:
    """One booking row, in the simple terms users write (payloads map it to CreateBooking)."""

    row: int
    name: str
    freight_type: str  # ocean | air | trucking
    cargo_ready_date: dt.date
    product_description: str
    hs_code: str
    incoterm: str | None = None
    origin_port: str | None = None  # UN/LOCODE, or IATA code for air
    destination_port: str | None = None
    delivery_date: dt.date | None = None
    po_numbers: tuple[str, ...] = ()
    # PO number -> {SKU: units} for POs booked in part; a PO absent here is
    # booked whole (every line, its full quantity).
    po_line_units: dict[str, dict[str, int]] = field(default_factory=dict)
    shipper_entity_ref: str | None = None
    consignee_entity_ref: str | None = None
    origin_location_ref: str | None = None
    destination_location_ref: str | None = None
    is_lcl: bool = False
    containers: ContainerCounts = field(default_factory=ContainerCounts)
    wants_pickup: bool = False
    wants_delivery: bool = False
    wants_export_customs: bool | None = None
    wants_import_customs: bool | None = None
    export_description_zh: str | None = None
    weight_kg: Decimal | None = None
    volume_cbm: Decimal | None = None
    shipping_units: ShippingUnits | None = None
    dangerous_goods: DangerousGoods = field(default_factory=DangerousGoods)
    is_ltl: bool = True
    payment_terms: str | None = None  # prepaid | collect (trucking)
    special_instructions: str | None = None
    metadata: Metadata = field(default_factory=dict)
