"""Pydantic models of the objects the Flexport API sends back (the read models).

They follow the shapes of the working reference (§3, §7) and are deliberately
forgiving: Flexport adds fields and enum values without a version bump and
leaves nearly anything null, so unknown fields are kept (``extra="allow"``),
enums are plain strings (the known values are listed in the ``*_VALUES``
constants, for validation elsewhere and for docs), and almost every field is
optional. Request bodies are not modelled here; see ``payloads.py``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated, Any, Self, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

T = TypeVar("T")

# Known values of the enum-like fields. The server may send others; they are
# accepted as they come.
PO_STATUS_VALUES = frozenset({"open", "closed", "cancelled"})
INCOTERM_VALUES = frozenset(
    {"EXW", "FOB", "FAS", "FCA", "CPT", "CFR", "CIF", "CIP", "DAT", "DAP", "DDP", "DPU"}
)
TRANSPORTATION_MODE_VALUES = frozenset(
    {
        "ocean", "air", "truck", "rail", "unknown_transportation", "ocean_air",
        "truck_intl", "warehouse_storage", "barge",
    }
)  # fmt: skip
BOOKING_STATUS_VALUES = frozenset({"archived", "draft", "submitted", "booked", "shipment"})
SHIPMENT_STATUS_VALUES = frozenset(
    {
        "seller_location", "origin_stop_off", "in_transit_to_departure_port",
        "departure_port", "in_transit_to_intermediary_port", "intermediary_port",
        "in_transit_to_arrival_port", "arrival_port", "deconsolidation",
        "in_transit_to_final_destination", "destination_stop_off", "final_destination",
        "gated_out",
    }
)  # fmt: skip
FREIGHT_TYPE_VALUES = frozenset({"port_to_door", "port_to_port", "door_to_door", "door_to_port"})
PAYMENT_TERMS_VALUES = frozenset({"collect", "prepaid"})
UNIT_OF_MEASURE_VALUES = frozenset(
    {
        "BBL", "CAR", "CGM", "CKG", "CM", "CM2", "CTN", "CYK", "DPC", "DPR", "DS", "FBM",
        "G", "GBQ", "GR", "GRL", "HUN", "IRG", "JWL", "K", "KG", "KM", "KM3", "KWH", "L",
        "LNM", "M", "M2", "M3", "MBQ", "NO", "OSG", "PCS", "PDG", "PFL", "PK", "PRS",
        "PTG", "PX", "RHG", "RUG", "T", "TDWB", "W", "X",
    }
)  # fmt: skip
SHIPMENT_NODE_TAG_VALUES = frozenset(
    {
        "origin_address", "port_of_loading", "port_of_unloading", "customs_entry",
        "fmc_port_of_unloading", "destination_address", "deconsolidation", "consolidation",
        "place_of_delivery", "transshipment",
    }
)  # fmt: skip
# Real data says "/file/metadata", the 2020 spec says "/file_metadata".
FILE_METADATA_OBJECT_VALUES = frozenset({"/file/metadata", "/file_metadata"})


def _empty_if_null(value: Any) -> Any:
    return [] if value is None else value


def _date_part(value: Any) -> Any:
    # Some date fields arrive as date-times ("2024-07-01T10:00:00.000Z"); the
    # date as written is what the user means, whatever the time of day.
    if isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        return value[:10]
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def _metadata(value: Any) -> Any:
    # Accept the alternate [{"name": k, "value": [...]}] format, a bare string
    # value, and null, so that every caller sees one shape: {key: [str, ...]}.
    if value is None:
        return {}
    if isinstance(value, list):
        value = {
            item.get("name"): item.get("value")
            for item in value
            if isinstance(item, dict) and item.get("name") is not None
        }
    if isinstance(value, dict):
        return {
            str(key): [] if v is None else [v] if isinstance(v, str | int | float) else v
            for key, v in value.items()
        }
    return value


ListOrNull = Annotated[list[T], BeforeValidator(_empty_if_null)]
"""A list the server may send as null; null reads as []."""

Date = Annotated[datetime.date, BeforeValidator(_date_part)]
"""A calendar date, ``YYYY-MM-DD`` (a date-time is cut to its date)."""

Metadata = Annotated[dict[str, list[str]], BeforeValidator(_metadata)]
"""The ``metadata`` hash ("Tags" in the Flexport UI): {key: [value, ...]}."""


class FlexportObject(BaseModel):
    """Base of every API object: keeps unknown fields and the ``_object`` type tag."""

    # Numbers are accepted where strings are expected because the spec and the
    # data disagree on such types (port codes, zip codes).
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    object_type: str | None = Field(default=None, alias="_object")


class ObjectRef(FlexportObject):
    """A link to one object: ``/api/refs/object``."""

    ref_type: str | None = None
    link: str | None = None
    id: int | None = None


class NetworkObjectRef(FlexportObject):
    """A link to a network object (a company): its id is a string in the official
    examples (``abc123``), so the ref keeps whichever the API gives."""

    ref_type: str | None = None
    link: str | None = None
    id: int | str | None = None


class CollectionRef(FlexportObject):
    """A link to a list of objects: ``/api/refs/collection`` (it has no id)."""

    ref_type: str | None = None
    link: str | None = None


class Money(FlexportObject):
    """An amount of money; the API sends the amount as a decimal string."""

    amount: Decimal | None = None
    currency_code: str | None = None


class HsCode(FlexportObject):
    """An HS (or US HTS) code with its country: ``/hs_code``."""

    code: str | None = None
    description: str | None = None
    country_code: str | None = None


class Quantity(FlexportObject):
    """A weight, volume or length: ``/quantity/weight`` {value, unit}."""

    value: float | None = None
    unit: str | None = None


class Address(FlexportObject):
    """A postal address; ``ref`` is the network-location ref it came from."""

    street_address: str | None = None
    street_address2: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    country_code: str | None = None
    zip: str | None = None
    unlocode: str | None = None
    timezone: str | None = None
    ref: str | None = None


class PortDetail(FlexportObject):
    """One entry of a Place's ``details``: ``/ocean/port``, ``/air/port``..."""

    port_code: str | None = None
    iata_code: str | None = None
    icao_code: str | None = None
    country_code: str | None = None


class Place(FlexportObject):
    """A port or other named place: ``/place`` (ports carry ``address.unlocode``)."""

    name: str | None = None
    address: Address | None = None
    details: ListOrNull[PortDetail] = Field(default_factory=list)

    @property
    def unlocode(self) -> str | None:
        """The place's UN/LOCODE, when its address has one."""
        return self.address.unlocode if self.address is not None else None


class CompanyRef(FlexportObject):
    """The ``/company`` mini-object naming a PO's buyer or seller."""

    id: int | str | None = None
    name: str | None = None
    ref: str | None = None
    country_code: str | None = None


class VatNumber(FlexportObject):
    """``/company_entity/vat_number``."""

    country_code: str | None = None
    number: str | None = None


class CompanyEntity(FlexportObject):
    """A legal entity of a company (shipper, consignee...): ``/company_entity``."""

    id: int | str | None = None
    name: str | None = None
    ref: str | None = None
    mailing_address: Address | None = None
    vat_numbers: ListOrNull[VatNumber] = Field(default_factory=list)


def _ref_not_list(value: Any) -> Any:
    # bulkpo's sandbox used to inline contacts as a list; only the ref is documented.
    return None if isinstance(value, list) else value


class Location(FlexportObject):
    """A network location (warehouse, factory...): ``/network/location``.

    As documented: a string id (``f8Rq_ua5RRZQ_Rp41dPC9w``), ``company`` an object
    ref (``/api/refs/object``, string id) and ``contacts`` a collection ref.
    """

    id: int | str | None = None
    name: str | None = None
    ref: str | None = None
    address: Address | None = None
    editable: bool | None = None
    company: NetworkObjectRef | None = None
    contacts: Annotated[CollectionRef | None, BeforeValidator(_ref_not_list)] = None
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ref_from_address(self) -> Self:
        # The schema has a top-level ref, but the document's examples carry it only
        # as address.ref: either is the location's ref.
        if self.ref is None and self.address is not None and self.address.ref:
            self.ref = self.address.ref
        return self


class ProductProperty(FlexportObject):
    """A user-defined key-value pair describing a product."""

    type: str | None = None
    value: str | None = None


class Product(FlexportObject):
    """A product of the product library: ``/product`` (PO lines carry sku and name)."""

    id: int | None = None
    sku: str | None = None
    name: str | None = None
    description: str | None = None
    product_category: str | None = None
    country_of_origin: str | None = None
    archived_at: datetime.datetime | None = None
    product_properties: ListOrNull[ProductProperty] = Field(default_factory=list)
    hs_codes: ListOrNull[HsCode] = Field(default_factory=list)


class PurchaseOrder(FlexportObject):
    """A purchase order: ``/purchase_order``."""

    id: int | None = None
    name: str | None = None
    status: str | None = None  # PO_STATUS_VALUES
    priority: str | None = None  # standard | high
    order_class: str | None = None  # purchase_order (v3 tutorial; not in the v2 read model)
    buyer: CompanyRef | None = None
    seller: CompanyRef | None = None
    incoterm: str | None = None  # INCOTERM_VALUES
    transportation_mode: str | None = None  # TRANSPORTATION_MODE_VALUES
    cargo_ready_date: Date | None = None
    must_arrive_date: Date | None = None
    origin_port: Place | None = None
    destination_port: Place | None = None
    origin_address: Address | None = None
    destination_address: Address | None = None
    memo: str | None = None
    archived_at: datetime.datetime | None = None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    line_items: CollectionRef | None = None
    metadata: Metadata = Field(default_factory=dict)


class PurchaseOrderLineItem(FlexportObject):
    """One line of a purchase order: ``/purchase_orders/line_item``."""

    id: int | None = None
    purchase_order: ObjectRef | None = None
    line_item_number: int | None = None
    item_key: str | None = None
    product: Product | None = None
    units: int | float | None = None
    unit_of_measure: str | None = None  # UNIT_OF_MEASURE_VALUES
    unit_cost: Money | None = None
    hs_codes: ListOrNull[HsCode] = Field(default_factory=list)
    incoterm: str | None = None
    transportation_mode: str | None = None
    cargo_ready_date: Date | None = None
    must_arrive_date: Date | None = None
    origin_port: Place | None = None
    destination_port: Place | None = None
    origin_address: Address | None = None
    destination_address: Address | None = None
    booking_line_items: CollectionRef | None = None
    metadata: Metadata = Field(default_factory=dict)


def _hs_code_object(value: Any) -> Any:
    # Booking create takes the HS code as a string; reads send an object.
    return {"code": value} if isinstance(value, str | int) else value


class ProductDescription(FlexportObject):
    """A booked product and its HS code: ``/bookings/product_description``."""

    description: str | None = None
    description_for_export_customs: str | None = None
    description_for_export_customs_locale: str | None = None
    hs_code: Annotated[HsCode | None, BeforeValidator(_hs_code_object)] = None


class ContainerCounts(FlexportObject):
    """Containers asked for on an FCL ocean booking: ``/container_counts``."""

    twenty_ft: int | None = None
    forty_ft: int | None = None
    forty_ft_hc: int | None = None
    forty_five_ft_hc: int | None = None


class OceanBooking(FlexportObject):
    """The ocean part of a booking: ``/ocean/booking``."""

    is_lcl: bool | None = None
    container_counts: ContainerCounts | None = None
    incoterm: str | None = None
    wants_pickup_service: bool | None = None
    wants_delivery_service: bool | None = None
    origin_port: Place | None = None
    destination_port: Place | None = None
    product_descriptions: ListOrNull[ProductDescription] = Field(default_factory=list)


class AirBooking(FlexportObject):
    """The air part of a booking: ``/air/booking``."""

    incoterm: str | None = None
    wants_pickup_service: bool | None = None
    wants_delivery_service: bool | None = None
    origin_port: Place | None = None
    destination_port: Place | None = None
    product_descriptions: ListOrNull[ProductDescription] = Field(default_factory=list)


class TruckingBooking(FlexportObject):
    """The trucking part of a booking: ``/trucking/booking``.

    Reads say ``is_ftl`` while the create body says ``is_ltl`` (a known
    inconsistency of the API); both are kept when sent.
    """

    is_ftl: bool | None = None
    is_ltl: bool | None = None
    payment_terms: str | None = None  # PAYMENT_TERMS_VALUES
    description_of_products: str | None = None


class ShippingUnit(FlexportObject):
    """Pallets, cartons... of a booking's cargo."""

    name: str | None = None
    count: int | None = None
    atomic_count: int | None = None
    unit_type: str | None = None
    volume: Quantity | None = None
    weight: Quantity | None = None
    height: Quantity | None = None
    length: Quantity | None = None
    width: Quantity | None = None


class Cargo(FlexportObject):
    """What a booking carries: ``/cargo``."""

    volume: Quantity | None = None
    weight: Quantity | None = None
    marks_and_numbers: str | None = None
    shipping_units: ListOrNull[ShippingUnit] = Field(default_factory=list)
    contains_hazmat: bool | None = None
    contains_magnets: bool | None = None
    contains_other_dangerous_goods: bool | None = None
    contains_li_ion: bool | None = None
    contains_non_li_ion_battery: bool | None = None
    lithium_batteries_packing_types: ListOrNull[str] = Field(default_factory=list)


class Booking(FlexportObject):
    """A freight booking: ``/booking``. Its shipment is null until it is confirmed."""

    id: int | None = None
    name: str | None = None
    flex_id: str | None = None
    status: str | None = None  # BOOKING_STATUS_VALUES
    shipment: ObjectRef | None = None
    shipper_entity: CompanyEntity | None = None
    consignee_entity: CompanyEntity | None = None
    notify_party: str | None = None
    transportation_mode: str | None = None
    ocean_booking: OceanBooking | None = None
    air_booking: AirBooking | None = None
    trucking_booking: TruckingBooking | None = None
    origin_address: Address | None = None
    destination_address: Address | None = None
    cargo_ready_date: Date | None = None
    delivery_date: Date | None = None
    wants_export_customs_service: bool | None = None
    wants_import_customs_service: bool | None = None
    cargo: Cargo | None = None
    special_instructions: str | None = None
    booking_line_items: CollectionRef | None = None
    created_at: datetime.datetime | None = None
    metadata: Metadata = Field(default_factory=dict)


class BookingAmendment(FlexportObject):
    """A requested change of a booking: ``/booking_amendment``.

    ``is_pending`` is true while Flexport reviews it; the v2 document has no route
    reading amendments back, so this answer is the only sight of one.
    """

    id: int | None = None
    booking_id: int | None = None
    is_pending: bool | None = None


class BookingLineItem(FlexportObject):
    """Units of a PO line booked on a booking: ``/purchase_orders/booking_line_item``."""

    id: int | None = None
    booking: ObjectRef | None = None
    purchase_order_line_item: ObjectRef | None = None
    purchase_order: ObjectRef | None = None
    units: int | float | None = None


class Terminal(FlexportObject):
    """``/shipment_node/terminal``."""

    name: str | None = None
    address: Address | None = None


class ShipmentNode(FlexportObject):
    """A stop on a shipment's route: ``/shipment_node``; ``tags`` say its roles."""

    place: Place | None = None
    terminal: Terminal | None = None
    tags: ListOrNull[str] = Field(default_factory=list)  # SHIPMENT_NODE_TAG_VALUES


class LegDetail(FlexportObject):
    """The mode-specific part of a leg (``/ocean/shipment_leg``, ``/air/...``...)."""

    scac_code: str | None = None
    vessel_name: str | None = None
    vessel_imo: str | None = None
    voyage_number: str | None = None
    iata_code: str | None = None
    icao_code: str | None = None
    flight_number: str | None = None
    tracking_number: str | None = None
    service_type: str | None = None
    pieces: int | None = None
    container_legs: CollectionRef | None = None


class ShipmentLeg(FlexportObject):
    """One leg of a shipment (a voyage, a flight, a truck run): ``/shipment_leg``."""

    id: int | None = None
    shipment: ObjectRef | None = None
    origin: ShipmentNode | None = None
    destination: ShipmentNode | None = None
    transportation_mode: str | None = None
    carrier_name: str | None = None
    estimated_departure_date: datetime.datetime | None = None
    actual_departure_date: datetime.datetime | None = None
    estimated_arrival_date: datetime.datetime | None = None
    actual_arrival_date: datetime.datetime | None = None
    cargo_ready_date: Date | None = None
    additional_dates: dict[str, Any] | None = None
    ocean_leg: LegDetail | None = None
    air_leg: LegDetail | None = None
    trucking_leg: LegDetail | None = None
    rail_leg: LegDetail | None = None


class ShipmentItem(FlexportObject):
    """A product line on a shipment: ``/shipment_item``."""

    id: int | None = None
    total_units: int | float | None = None
    total_weight: Quantity | None = None
    total_volume: Quantity | None = None
    purchase_order_number: str | None = None
    product: Product | None = None


class OceanShipment(FlexportObject):
    """``/ocean/shipment``: bills of lading and containers."""

    is_lcl: bool | None = None
    house_bill_number: str | None = None
    master_bill_number: str | None = None
    carrier_booking_number: str | None = None
    containers: CollectionRef | None = None


class AirShipment(FlexportObject):
    """``/air/shipment``: airway bills and chargeable weight."""

    house_airway_bill: str | None = None
    master_airway_bill: str | None = None
    chargeable_weight: Quantity | None = None
    chargeable_volume: Quantity | None = None


class Shipment(FlexportObject):
    """A shipment, created by Flexport from a confirmed booking: ``/shipment``."""

    id: int | None = None
    name: str | None = None
    booking: ObjectRef | None = None
    status: str | None = None  # SHIPMENT_STATUS_VALUES
    priority: str | None = None
    transportation_mode: str | None = None
    freight_type: str | None = None  # FREIGHT_TYPE_VALUES
    incoterm: str | None = None
    calculated_weight: Quantity | None = None
    calculated_volume: Quantity | None = None
    pieces: int | None = None
    it_number: str | None = None
    created_date: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
    archived_at: datetime.datetime | None = None
    cargo_ready_date: Date | None = None
    estimated_departure_date: datetime.datetime | None = None
    actual_departure_date: datetime.datetime | None = None
    estimated_arrival_date: datetime.datetime | None = None
    actual_arrival_date: datetime.datetime | None = None
    estimated_picked_up_in_full_date: datetime.datetime | None = None
    actual_picked_up_in_full_date: datetime.datetime | None = None
    estimated_delivered_in_full_date: datetime.datetime | None = None
    actual_delivered_in_full_date: datetime.datetime | None = None
    wants_export_customs_service: bool | None = None
    wants_import_customs_service: bool | None = None
    wants_freight_management_bco: bool | None = None
    wants_flexport_freight: bool | None = None
    wants_pickup_service: bool | None = None
    wants_delivery_service: bool | None = None
    ocean_shipment: OceanShipment | None = None
    air_shipment: AirShipment | None = None
    shippers: ListOrNull[CompanyEntity] = Field(default_factory=list)
    consignees: ListOrNull[CompanyEntity] = Field(default_factory=list)
    buyers: ListOrNull[CompanyEntity] = Field(default_factory=list)
    sellers: ListOrNull[CompanyEntity] = Field(default_factory=list)
    importers_of_record: ListOrNull[CompanyEntity] = Field(default_factory=list)
    items: ListOrNull[ShipmentItem] = Field(default_factory=list)
    legs: CollectionRef | None = None
    customs_entries: CollectionRef | None = None
    commercial_invoices: CollectionRef | None = None
    documents: CollectionRef | None = None
    metadata: Metadata = Field(default_factory=dict)


class FileMetadata(FlexportObject):
    """Size and upload time of a document's file (``/file/metadata``)."""

    size: int | None = None
    uploaded_at: datetime.datetime | None = None


class Document(FlexportObject):
    """A document on a shipment: ``/document``. Its id is a string."""

    id: str | None = None
    file_name: str | None = None
    document_type: str | None = None
    memo: str | None = None
    file_link: str | None = None
    archived_at: datetime.datetime | None = None
    file_metadata: FileMetadata | None = None
    shipment: ObjectRef | None = None
