"""THE column specs: one table per kind of input, read by everything else.

The template generator, the reader's header mapping, validation, the result
report, the export and the README tables all read :data:`PURCHASE_ORDER_COLUMNS`
and :data:`BOOKING_COLUMNS`; nothing else lists column names.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field


class ColumnType(enum.StrEnum):
    TEXT = "text"          # kept exactly as typed (SKU 00123 stays 00123)
    INTEGER = "integer"
    DECIMAL = "decimal"    # money, weights: kept as decimal.Decimal
    DATE = "date"
    BOOLEAN = "boolean"    # yes/no, true/false, y/n, 1/0, x
    ENUM = "enum"          # one of Column.enum_values
    COUNTRY = "country"    # ISO 3166-1 alpha-2
    CURRENCY = "currency"  # ISO 4217
    PORT = "port"          # UN/LOCODE (IATA accepted where the column says so)
    HS_CODE = "hs_code"
    LIST = "list"          # several values in one cell, split on , ; or newline


class Kind(enum.StrEnum):
    PURCHASE_ORDERS = "purchase-orders"
    BOOKINGS = "bookings"
    NETWORK = "network"


@dataclass(frozen=True)
class Column:
    """One input column: how it is named, typed, checked, explained and sent."""

    key: str                      # stable internal name, e.g. "po_number"
    header: str                   # canonical header, e.g. "PO Number"
    type: ColumnType
    help: str                     # one sentence for users (template hint, docs)
    example: str                  # example value, as typed in a cell
    api_field: str                # dotted path in the API body, "" if none
    required: bool = False
    aliases: tuple[str, ...] = ()  # other headers users write; folded before matching
    enum_values: tuple[str, ...] = ()  # ENUM: the one allowed; LIST: each item allowed
    po_level: bool = False        # PO-level column repeated on each line row
    accepts_iata: bool = False    # PORT columns that also accept IATA codes (air)
    width: int = 14               # template/export column width in characters
    default: str = ""             # value assumed when the cell is blank ("" = none)
    identifier: bool = False      # an id: a number here may have lost digits on the way
    positive: bool = False        # an amount that must be above 0 (other numbers: not below)
    api_required: bool = False    # the API refuses the object without it, whatever `required`


# Child-table decorations ERP exports put around a field label: Odoo's "Order Lines/Product"
# and "order_line/product_qty", ERPNext's "Item Code (Items)"; the field is what remains.
_DECORATION_RE = re.compile(
    r"^\s*(?:order[ _]?lines?|lines?|items?)\s*/\s*|\s*\((?:items?|lines?|order lines?)\)\s*$",
    re.IGNORECASE,
)


def strip_decoration(text: str) -> str:
    """A header without its child-table decoration (``Order Lines/Product`` -> ``Product``)."""
    stripped = _DECORATION_RE.sub("", text)
    return stripped if stripped.strip() else text


def fold_header(text: str) -> str:
    """Fold a header for matching: decoration, case, spaces and punctuation removed, # -> number."""
    text = strip_decoration(text).strip().lower().replace("#", " number ").replace("№", " number ")
    return re.sub(r"[^a-z0-9]+", "", text)


_DATA_LIKE = re.compile(r"^[\s$€£¥+-]*[\d][\d\s.,:/-]*(?:[ T][\d:.]+)?\s*[A-Za-z%]{0,3}$")

METADATA_PREFIX = "metadata."

HS_CODE_RULE = "4 to 10 digits, dots allowed"
"""What an HS code cell takes: said in the same words by the template and the error."""

# "metadata.size", "Metadata: size", "metadata size", "meta.size": the key keeps its case.
_METADATA_RE = re.compile(r"^\s*meta(?:data)?\s*[.:]\s*(?P<key>\S.*?)\s*$", re.IGNORECASE)


def metadata_key(header: str) -> str | None:
    """The metadata key a header names (``metadata.department`` -> ``department``), or None."""
    found = _METADATA_RE.match(header)
    return found.group("key") if found else None


@dataclass(frozen=True)
class ColumnSet:
    """The columns of one kind, with header lookup by folded name or alias."""

    kind: Kind
    sheet_name: str
    columns: tuple[Column, ...]
    _by_folded: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for col in self.columns:
            for name in (col.header, col.key, *col.aliases):
                folded = fold_header(name)
                owner = self._by_folded.setdefault(folded, col)
                # An alias two columns share would silently send a value to the wrong field.
                if not folded or owner is not col:
                    raise ValueError(
                        f"{self.sheet_name}: header {name!r} of {col.key} folds to "
                        f"{folded!r}, already taken by {owner.key}"
                    )

    def match(self, header: str) -> Column | None:
        """The column a user's header means, or None (metadata.* is handled apart)."""
        folded = fold_header(header)
        return self._by_folded.get(folded) if folded else None

    def by_key(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(col.key for col in self.columns)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(col for col in self.columns if col.required)

    def score(self, headers: Iterable[object]) -> float:
        """How much a row looks like this kind's header row, from 0.0 to 1.0.

        The share of the row's non-empty cells that name a column (or a metadata
        key), weighted by the share of required columns found, so a data row
        whose values happen to equal an alias scores low and the real header
        row, with PO Number, SKU and Quantity, scores high.
        """
        cells = [str(cell).strip() for cell in headers if cell is not None]
        cells = [cell for cell in cells if cell]
        # A title ("Purchase Order") or a note is not a header row, nor is a row of data:
        # most of a header's cells are words, not numbers or dates.
        if len(cells) < 3 or sum(1 for c in cells if _DATA_LIKE.match(c)) * 2 > len(cells):
            return 0.0
        found: set[str] = set()
        matched = 0
        for cell in cells:
            col = self.match(cell)
            if col is not None:
                found.add(col.key)
                matched += 1
            elif metadata_key(cell) is not None:
                matched += 1
        required = {col.key for col in self.required}
        required_share = len(found & required) / len(required) if required else 1.0
        return (matched / len(cells)) * (0.25 + 0.75 * required_share)


T = ColumnType

_INCOTERMS = ("EXW", "FOB", "FAS", "FCA", "CPT", "CFR", "CIF", "CIP", "DAT", "DAP", "DDP", "DPU")

UNITS_OF_MEASURE = (
    "BBL", "CAR", "CGM", "CKG", "CM", "CM2", "CTN", "CYK", "DPC", "DPR", "DS", "FBM", "G",
    "GBQ", "GR", "GRL", "HUN", "IRG", "JWL", "K", "KG", "KM", "KM3", "KWH", "L", "LNM", "M",
    "M2", "M3", "MBQ", "NO", "OSG", "PCS", "PDG", "PFL", "PK", "PRS", "PTG", "PX", "RHG",
    "RUG", "T", "TDWB", "W", "X",
)
"""Flexport's PurchaseOrderLineItem.unit_of_measure values (reference §7.2)."""

# Labels real exports use, from the systems' published field labels (tests/erp_corpus/SOURCES.md):
# SAP ALV short texts and table fields, Odoo and ERPNext field labels and technical names,
# Dynamics 365 data-entity fields, Oracle EBS columns, public procurement datasets.
_PO_NUMBER_ALIASES = (
    "PO #", "PO No", "PO No.", "PO", "Purchase Order", "Purchase Order Number",
    "Purchase Order No.", "po_name", "PO Name", "Order Number", "Order No",
    "Order Reference", "Purch.Doc.", "Purchasing Document", "EBELN", "PO / SO #",
    "Einkaufsbeleg", "PURCHASEORDERNUMBER", "Document Number", "PO Num", "SEGMENT1",
    "Document No.", "Bestellnummer",
)

# The PO priority of the v2 read model; the order class of the v3 PO tutorial, whose one
# published value is purchase_order.
PO_PRIORITIES = ("standard", "high")
PO_ORDER_CLASSES = ("purchase_order",)

PURCHASE_ORDER_COLUMNS = ColumnSet(
    kind=Kind.PURCHASE_ORDERS,
    sheet_name="Purchase Orders",
    columns=(
        Column(
            "po_number", "PO Number", T.TEXT,
            "Your purchase order number; every line of the same PO repeats it.",
            "PO-2026-1001", "name", required=True, aliases=_PO_NUMBER_ALIASES,
            po_level=True, width=16, identifier=True,
        ),
        Column(
            "status", "Status", T.ENUM,
            "Whether the PO is open, closed or cancelled; blank means open.",
            "open", "status", aliases=(
                "PO Status", "Order Status", "AUTHORIZATION_STATUS",
                "DOCUMENT STATUS DESCRIPTION", "Document Status",
            ),
            enum_values=("open", "closed", "cancelled"), po_level=True, width=11,
            default="open",
        ),
        Column(
            "buyer_name", "Buyer", T.TEXT,
            "The company that buys the goods, as its name appears in Flexport.",
            "Acme Imports Inc", "buyer.name", aliases=("Buyer Name",), po_level=True, width=20,
        ),
        Column(
            "buyer_ref", "Buyer Entity Ref", T.TEXT,
            "The buyer's legal-entity reference in your Flexport network.",
            "acme-us", "buyer.ref", aliases=("Buyer Ref", "Buyer Code", "Buyer Entity"),
            po_level=True, width=16,
        ),
        Column(
            "buyer_country", "Buyer Country", T.COUNTRY,
            "The buyer's country as a two-letter ISO code.",
            "US", "buyer.address.country_code", aliases=("Buyer Country Code",),
            po_level=True, width=10,
        ),
        Column(
            "seller_name", "Seller", T.TEXT,
            "The supplier who sells and ships the goods.",
            "Shenzhen Bright Lights Co Ltd", "seller.name",
            aliases=(
                "Seller Name", "Supplier", "Vendor", "Supplier Name", "Vendor Name",
                "partner_id", "VENDOR_NAME", "VENDOR NAME 1", "PURCHASEORDERNAME",
                "Lieferant", "Supplier/Supplying Plant", "Lieferant/Lieferwerk",
            ),
            po_level=True, width=28,
        ),
        Column(
            "seller_ref", "Seller Entity Ref", T.TEXT,
            "The supplier's legal-entity reference in your Flexport network.",
            "sup-shenzhen-lights", "seller.ref",
            # Not "Vendor Code"/"Vendor Number"/LIFNR: an ERP's vendor number is not a
            # Flexport entity ref, and only a mapping (or a value table) may say otherwise.
            aliases=("Seller Ref", "Seller Entity", "seller_entity_ref"),
            po_level=True, width=20,
        ),
        Column(
            "seller_country", "Seller Country", T.COUNTRY,
            "The supplier's country as a two-letter ISO code.",
            "CN", "seller.address.country_code",
            aliases=("Seller Country Code", "Supplier Country", "Vendor Country"),
            po_level=True, width=10,
        ),
        Column(
            "incoterm", "Incoterm", T.ENUM,
            "The Incoterms rule agreed with the supplier, such as FOB or EXW.",
            "FOB", "incoterm",
            aliases=(
                "Incoterms", "Delivery Terms", "Terms of Delivery", "incoterm_id", "INCO1",
                "DELIVERYTERMSID", "Vendor INCO Term", "Incoterms (Part 1)",
            ),
            enum_values=_INCOTERMS, po_level=True, width=10,
        ),
        Column(
            "transportation_mode", "Transportation Mode", T.ENUM,
            "How the goods are planned to travel: ocean, air, truck or rail.",
            "ocean", "transportation_mode",
            aliases=(
                "Mode", "Transport Mode", "Ship Mode", "Shipping Mode", "Ship Via",
                "DELIVERYMODEID", "Shipment Mode", "Mode of Delivery",
            ),
            enum_values=("ocean", "air", "truck", "rail"), po_level=True, width=12,
        ),
        Column(
            "cargo_ready_date", "Cargo Ready Date", T.DATE,
            "The date the supplier will have the goods ready to collect.",
            "2026-12-15", "cargo_ready_date",
            aliases=(
                "CRD", "Ready Date", "Cargo Ready", "Cargo Ready Date (CRD)", "Ex-Factory Date",
                "ETD",
            ),
            po_level=True, width=13,
        ),
        Column(
            "must_arrive_date", "Must Arrive Date", T.DATE,
            "The latest date the goods may arrive at their destination.",
            "2027-01-30", "must_arrive_date",
            aliases=(
                "Must Arrive By", "MAD", "Required Delivery Date", "Need By Date",
                "In DC Date", "Required By", "Expected Arrival", "Delivery Date",
                "Requested Delivery Date", "REQUESTEDDELIVERYDATE", "Deliv. Date",
                "date_planned", "schedule_date", "Expected Receipt Date", "NEED_BY_DATE",
                "Scheduled Delivery Date", "Lieferdatum",
            ),
            po_level=True, width=13,
        ),
        Column(
            "origin_port", "Origin Port", T.PORT,
            "The port of loading as a five-letter UN/LOCODE, such as CNYTN for Yantian.",
            "CNYTN", "origin_port.address.unlocode",
            aliases=("POL", "Port of Loading", "Loading Port", "Origin Port Code", "origin_port"),
            po_level=True, width=11,
        ),
        Column(
            "destination_port", "Destination Port", T.PORT,
            "The port of discharge as a five-letter UN/LOCODE, such as USLAX for Los Angeles.",
            "USLAX", "destination_port.address.unlocode",
            aliases=(
                "POD", "Port of Discharge", "Discharge Port", "Destination Port Code",
                "destination_port",
            ),
            po_level=True, width=11,
        ),
        Column(
            "origin_address_ref", "Origin Location Ref", T.TEXT,
            "The reference of the pickup location in your Flexport network, if not a port.",
            "loc-shenzhen-factory", "origin_address.ref",
            aliases=("Origin Address Ref", "Origin Location", "Ship From Location"),
            po_level=True, width=20,
        ),
        Column(
            "destination_address_ref", "Destination Location Ref", T.TEXT,
            "The reference of the delivery location in your Flexport network, if not a port.",
            "loc-la-dc", "destination_address.ref",
            aliases=("Destination Address Ref", "Destination Location", "Ship To Location"),
            po_level=True, width=20,
        ),
        Column(
            "memo", "Memo", T.TEXT,
            "A free-text note kept with the PO.",
            "Spring collection", "memo", aliases=("Notes", "Comments", "Remarks"),
            po_level=True, width=24,
        ),
        Column(
            "priority", "Priority", T.ENUM,
            "How much attention Flexport should give the PO: standard or high; blank "
            "leaves it to Flexport.",
            "standard", "priority",
            aliases=("PO Priority", "Order Priority", "Urgency", "Priority Level"),
            enum_values=PO_PRIORITIES, po_level=True, width=11,
        ),
        Column(
            "order_class", "Order Class", T.ENUM,
            "What kind of order this is; Flexport publishes one class, purchase_order.",
            "purchase_order", "order_class",
            aliases=("PO Class", "Order Kind"),
            enum_values=PO_ORDER_CLASSES, po_level=True, width=16,
        ),
        Column(
            "line_number", "Line Number", T.INTEGER,
            "The line's number within the PO; blank lines are numbered 1, 2, 3 in order.",
            "1", "line_items[].line_item_number",
            aliases=(
                "Line", "Line #", "Line No", "Line Item", "Line Item Number", "PO Line",
                "line_item_number", "EBELP", "Position", "LINENUMBER", "LINE_NUM", "Line No.",
            ),
            width=8, positive=True,
        ),
        Column(
            "sku", "SKU", T.TEXT,
            "Your item or part number, kept exactly as typed, leading zeros included.",
            "004512-BLK", "line_items[].product.sku", required=True,
            aliases=(
                "Item", "Item Number", "Item No", "Item Code", "Part Number", "Part No",
                "Material", "Material Number", "Article", "Article Number", "Product Code",
                "MATNR", "ITEMNUMBER", "ITEM_NUMBER", "Internal Reference", "default_code",
                "Artikel", "No.",
            ),
            width=14, identifier=True,
        ),
        Column(
            "product_name", "Product Name", T.TEXT,
            "A short description of the item; needed the first time a SKU is used.",
            "LED desk lamp, black", "line_items[].product.name",
            aliases=(
                "Description", "Item Description", "Product", "Product Description",
                "Material Description", "Short Text", "TXZ01", "Item Name", "LINEDESCRIPTION",
                "ITEM_DESCRIPTION", "product_id", "Kurztext", "Bezeichnung",
            ),
            width=28,
        ),
        Column(
            "quantity", "Quantity", T.INTEGER,
            "How many units of the item are ordered on this line, as a whole number.",
            "1200", "line_items[].units", required=True,
            aliases=(
                "Qty", "Order Qty", "Order Quantity", "Ordered Qty", "Ordered Quantity",
                "Qty Ordered", "PO Quantity", "Line Item Quantity", "OrderedPurchaseQuantity",
                "MENGE", "product_qty", "ITEM QUANTITY", "Bestellmenge", "Menge",
            ),
            width=10, positive=True,
        ),
        Column(
            "unit_of_measure", "Unit of Measure", T.ENUM,
            "The unit the quantity counts, such as PCS for pieces; blank means PCS.",
            "PCS", "line_items[].unit_of_measure",
            aliases=(
                "UOM", "Unit", "Unit of Measurement", "Order Unit", "MEINS",
                "PURCHASEUNITSYMBOL", "UNIT_MEAS_LOOKUP_CODE", "product_uom_id", "product_uom",
                "ITEM UNIT OF MEASURE", "Bestellmengeneinheit", "Unit of Measure Code",
            ),
            enum_values=UNITS_OF_MEASURE, width=10, default="PCS",
        ),
        Column(
            "unit_cost", "Unit Cost", T.DECIMAL,
            "The price of one unit, without a currency symbol.",
            "4.25", "line_items[].unit_cost.amount",
            aliases=(
                "Price", "Unit Price", "Cost", "Net Price", "Rate", "Purchase Price",
                "price_unit", "NETPR", "PURCHASEPRICE", "UNIT_PRICE", "ITEM UNIT COST",
                "Direct Unit Cost Excl. VAT", "Nettopreis", "Preis", "Pack Price",
            ),
            width=10,
        ),
        Column(
            "currency", "Currency", T.CURRENCY,
            "The three-letter currency code of the unit cost, such as USD.",
            "USD", "line_items[].unit_cost.currency_code",
            aliases=(
                "Currency Code", "Curr", "Crcy", "WAERS", "currency_id", "CURRENCYCODE",
                "currency_code", "Währung",
            ),
            width=9,
        ),
        Column(
            "hs_code", "HS Code", T.HS_CODE,
            f"The item's customs tariff code: {HS_CODE_RULE}, such as 9405.20.",
            "9405.20", "line_items[].hs_codes[].code",
            aliases=("HS", "HTS", "HTS Code", "Tariff Code", "HS Tariff", "Commodity Code"),
            width=11,
        ),
    ),
)

_BOOKING_DETAIL = "{ocean,air}_booking"
_PRODUCT = f"{_BOOKING_DETAIL}.product_descriptions[]"

BOOKING_COLUMNS = ColumnSet(
    kind=Kind.BOOKINGS,
    sheet_name="Bookings",
    columns=(
        Column(
            "booking_name", "Booking Name", T.TEXT,
            "A name you choose for the booking; it must be unique and identifies it later.",
            "BK-2026-001", "name", required=True,
            aliases=("Booking", "Booking Ref", "Booking Reference", "Booking #", "Shipment Name"),
            width=16, identifier=True,
        ),
        Column(
            "freight_type", "Freight Type", T.ENUM,
            "How the goods travel: ocean, air or trucking.",
            "ocean", "{ocean,air,trucking}_booking", required=True,
            aliases=("Mode", "Freight Mode", "Transport Mode", "Transportation Mode"),
            enum_values=("ocean", "air", "trucking"), width=11,
        ),
        Column(
            "incoterm", "Incoterm", T.ENUM,
            "The Incoterms rule of the shipment, such as FOB; needed for ocean and air.",
            "FOB", f"{_BOOKING_DETAIL}.incoterm", aliases=("Incoterms", "Terms of Sale"),
            enum_values=_INCOTERMS, width=10,
        ),
        Column(
            "origin_port", "Origin Port", T.PORT,
            "The port or airport of departure as a UN/LOCODE (CNYTN); air also takes IATA (SZX).",
            "CNYTN", f"{_BOOKING_DETAIL}.origin_port_loc_code",
            aliases=("POL", "Port of Loading", "Origin", "Origin Airport", "Airport of Departure"),
            accepts_iata=True, width=11,
        ),
        Column(
            "destination_port", "Destination Port", T.PORT,
            "The port or airport of arrival as a UN/LOCODE (USLAX); air also takes IATA (LAX).",
            "USLAX", f"{_BOOKING_DETAIL}.destination_port_loc_code",
            aliases=(
                "POD", "Port of Discharge", "Destination", "Destination Airport",
                "Airport of Destination",
            ),
            accepts_iata=True, width=11,
        ),
        Column(
            "cargo_ready_date", "Cargo Ready Date", T.DATE,
            "The date the goods are ready to be picked up or delivered to the port.",
            "2026-12-15", "cargo_ready_date", required=True,
            aliases=("CRD", "Ready Date", "Cargo Ready"), width=13,
        ),
        Column(
            "delivery_date", "Delivery Date", T.DATE,
            "The date you need the goods delivered, if you have one.",
            "2027-01-20", "delivery_date",
            aliases=("Deliver By", "Required Delivery Date", "Target Delivery Date"), width=13,
        ),
        Column(
            "po_numbers", "PO Numbers", T.LIST,
            "The purchase orders shipped in this booking, separated by commas; each is booked "
            "whole, or write PO:SKU=units to book part of one (PO-2026-1001:LAMP-001=200).",
            "PO-2026-1001, PO-2026-1004", "booking_line_items[].purchase_order_line_item_id",
            aliases=("POs", "PO #s", "Purchase Orders", "PO Number", "PO List"), width=26,
            identifier=True,
        ),
        Column(
            "shipper_entity_ref", "Shipper Entity Ref", T.TEXT,
            "The legal-entity reference of the shipper (usually the supplier) in Flexport.",
            "sup-shenzhen-lights", "shipper_entity_ref",
            aliases=("Shipper", "Shipper Ref", "Shipper Code", "Shipper Entity"), width=20,
            api_required=True,
        ),
        Column(
            "consignee_entity_ref", "Consignee Entity Ref", T.TEXT,
            "The legal-entity reference of the consignee (usually your company) in Flexport.",
            "acme-us", "consignee_entity_ref",
            aliases=("Consignee", "Consignee Ref", "Consignee Code", "Consignee Entity"),
            width=20, api_required=True,
        ),
        Column(
            "origin_location_ref", "Origin Location Ref", T.TEXT,
            "The reference of the pickup location in your Flexport network.",
            "loc-shenzhen-factory", "origin_address_ref",
            aliases=("Origin Location", "Pickup Location", "Ship From", "Origin Address Ref"),
            width=20, api_required=True,
        ),
        Column(
            "destination_location_ref", "Destination Location Ref", T.TEXT,
            "The reference of the delivery location; needed for trucking and for door delivery.",
            "loc-la-dc", "destination_address_ref",
            aliases=(
                "Destination Location", "Delivery Location", "Ship To",
                "Destination Address Ref",
            ),
            width=20,
        ),
        Column(
            "load_type", "Load Type", T.ENUM,
            "For ocean: FCL for full containers or LCL for shared container space.",
            "FCL", "ocean_booking.is_lcl", aliases=("FCL/LCL", "Container Load"),
            enum_values=("FCL", "LCL"), width=9,
        ),
        Column(
            "containers_20", "20' Containers", T.INTEGER,
            "For ocean FCL: how many 20-foot containers.",
            "0", "ocean_booking.container_counts.twenty_ft",
            aliases=("20ft", "20 ft Containers", "20GP", "20' Container", "Containers 20"),
            width=9,
        ),
        Column(
            "containers_40", "40' Containers", T.INTEGER,
            "For ocean FCL: how many standard 40-foot containers.",
            "0", "ocean_booking.container_counts.forty_ft",
            aliases=("40ft", "40 ft Containers", "40GP", "40' Container", "Containers 40"),
            width=9,
        ),
        Column(
            "containers_40hc", "40' HC Containers", T.INTEGER,
            "For ocean FCL: how many 40-foot high-cube containers.",
            "2", "ocean_booking.container_counts.forty_ft_hc",
            aliases=("40HC", "40 HC", "40HQ", "40ft HC", "40' HC Container", "Containers 40HC"),
            width=9,
        ),
        Column(
            "containers_45hc", "45' HC Containers", T.INTEGER,
            "For ocean FCL: how many 45-foot high-cube containers.",
            "0", "ocean_booking.container_counts.forty_five_ft_hc",
            aliases=("45HC", "45 HC", "45HQ", "45ft HC", "45' HC Container", "Containers 45HC"),
            width=9,
        ),
        Column(
            "wants_pickup", "Wants Pickup", T.BOOLEAN,
            "Yes if Flexport should collect the goods at the origin location.",
            "no", f"{_BOOKING_DETAIL}.wants_pickup_service",
            aliases=("Pickup", "Pickup Service", "Origin Pickup"), width=9,
        ),
        Column(
            "wants_delivery", "Wants Delivery", T.BOOLEAN,
            "Yes if Flexport should deliver the goods to the destination location.",
            "yes", f"{_BOOKING_DETAIL}.wants_delivery_service",
            aliases=("Delivery Service", "Door Delivery", "Final Delivery"), width=9,
        ),
        Column(
            "export_customs", "Export Customs", T.BOOLEAN,
            "Yes if Flexport should clear export customs at origin.",
            "no", "wants_export_customs_service",
            aliases=("Export Clearance", "Wants Export Customs", "Export Customs Service"),
            width=9,
        ),
        Column(
            "import_customs", "Import Customs", T.BOOLEAN,
            "Yes if Flexport should clear import customs at destination.",
            "yes", "wants_import_customs_service",
            aliases=("Import Clearance", "Wants Import Customs", "Import Customs Service"),
            width=9,
        ),
        Column(
            "product_description", "Product Description", T.TEXT,
            "A plain English description of the goods, as customs should read it.",
            "LED desk lamps", f"{_PRODUCT}.description", required=True,
            aliases=("Goods Description", "Description", "Commodity", "Cargo Description"),
            width=26,
        ),
        Column(
            "hs_code", "HS Code", T.HS_CODE,
            f"The goods' customs tariff code: {HS_CODE_RULE}, such as 9405.20.",
            "9405.20", f"{_PRODUCT}.hs_code", required=True,
            aliases=("HS", "HTS", "HTS Code", "Tariff Code", "Commodity Code"), width=11,
        ),
        Column(
            "export_description_zh", "Export Description (Chinese)", T.TEXT,
            "The goods' description in Chinese, required when they leave mainland China.",
            "台灯", f"{_PRODUCT}.description_for_export_customs",
            aliases=(
                "Chinese Description", "Description (Chinese)", "Export Customs Description",
                "description_for_export_customs",
            ),
            width=18,
        ),
        Column(
            "weight_kg", "Weight (kg)", T.DECIMAL,
            "The total gross weight of the goods in kilograms.",
            "8200", "cargo.weight.value",
            aliases=("Weight", "Gross Weight", "Gross Weight (kg)", "GW (kg)", "Weight kg"),
            width=10, positive=True,
        ),
        Column(
            "volume_cbm", "Volume (cbm)", T.DECIMAL,
            "The total volume of the goods in cubic metres.",
            "110", "cargo.volume.value",
            aliases=("Volume", "CBM", "Volume (m3)", "M3", "Volume cbm"), width=10, positive=True,
        ),
        Column(
            "unit_count", "Shipping Units", T.INTEGER,
            "How many pallets, cartons or other packages the goods are packed in.",
            "40", "cargo.shipping_units[].count",
            aliases=("Unit Count", "Packages", "Package Count", "No. of Packages", "Pkgs"),
            width=9, positive=True,
        ),
        Column(
            "unit_type", "Unit Type", T.ENUM,
            "The kind of package counted in Shipping Units, such as pallet or carton.",
            "pallet", "cargo.shipping_units[].unit_type",
            aliases=("Package Type", "Packaging", "Shipping Unit Type"),
            enum_values=("bag", "bale", "barrel", "carton", "crate", "package", "pallet", "roll"),
            width=10,
        ),
        Column(
            "atomic_count", "Items per Pallet", T.INTEGER,
            "How many cartons or pieces each pallet holds; required when Unit Type is pallet.",
            "12", "cargo.shipping_units[].atomic_count",
            aliases=("Atomic Count", "Cartons per Pallet", "Pieces per Pallet"), width=9,
            positive=True,
        ),
        Column(
            "hazmat", "Hazmat", T.BOOLEAN,
            "Yes if the goods include hazardous materials.",
            "no", "cargo.contains_hazmat",
            aliases=("Hazardous", "Dangerous Goods", "DG", "Contains Hazmat"), width=8,
        ),
        Column(
            "magnets", "Magnets", T.BOOLEAN,
            "Yes if the goods contain magnets.",
            "no", "cargo.contains_magnets", aliases=("Contains Magnets",), width=8,
        ),
        Column(
            "other_dangerous_goods", "Other Dangerous Goods", T.BOOLEAN,
            "Yes if the goods include any other dangerous goods not listed in these columns.",
            "no", "cargo.contains_other_dangerous_goods",
            aliases=("Other DG", "Contains Other Dangerous Goods"), width=9,
        ),
        Column(
            "li_ion", "Lithium-Ion Batteries", T.BOOLEAN,
            "Yes if the goods contain or include lithium-ion batteries.",
            "no", "cargo.contains_li_ion",
            aliases=("Li-ion", "Lithium Batteries", "Contains Li-ion", "Li-ion Batteries"),
            width=9,
        ),
        Column(
            "non_li_ion_battery", "Non-Lithium-Ion Batteries", T.BOOLEAN,
            "Yes if the goods contain batteries other than lithium-ion.",
            "no", "cargo.contains_non_li_ion_battery",
            aliases=("Other Batteries", "Non Li-ion Battery", "Contains Non Li-ion Battery"),
            width=9,
        ),
        Column(
            "li_ion_packing", "Lithium Battery Packing", T.LIST,
            "How the lithium-ion batteries are packed; required when there are any.",
            "contained_in_equipment", "cargo.lithium_batteries_packing_types",
            aliases=("Li-ion Packing", "Battery Packing", "Lithium Batteries Packing Types"),
            enum_values=("packed_loose", "packed_with_equipment", "contained_in_equipment"),
            width=22,
        ),
        Column(
            "is_ltl", "LTL", T.BOOLEAN,
            "For trucking: yes for a less-than-truckload shipment, no for a full truck.",
            "yes", "trucking_booking.is_ltl",
            aliases=("Is LTL", "Less Than Truckload"), width=7, default="yes",
        ),
        Column(
            "payment_terms", "Payment Terms", T.ENUM,
            "For trucking: prepaid if the shipper pays the freight, collect if the consignee does.",
            "prepaid", "trucking_booking.payment_terms", aliases=("Freight Terms",),
            enum_values=("prepaid", "collect"), width=10,
        ),
        Column(
            "special_instructions", "Special Instructions", T.TEXT,
            "Anything the Flexport team should know about this booking.",
            "Fragile: do not stack more than two pallets high", "special_instructions",
            aliases=("Instructions", "Notes", "Remarks", "Comments"), width=30,
        ),
    ),
)

NETWORK_TYPES = ("entity", "location")
"""A network row creates a company entity (a supplier's legal entity) or a location."""

NETWORK_SHEET_NAMES = ("Network", "Suppliers", "Company Entities", "Entities", "Locations",
                       "Vendors")
"""Sheet names that say a sheet is the network sheet, whatever its headers score."""

NETWORK_COLUMNS = ColumnSet(
    kind=Kind.NETWORK,
    sheet_name="Network",
    columns=(
        Column(
            "network_type", "Type", T.ENUM,
            "entity for a company entity (the legal entity POs name as buyer or seller), "
            "location for a network location (origin or destination); blank: entity, or "
            "location on a sheet named Locations.",
            "entity", "POST /network/company_entities or POST /network/locations",
            aliases=("Record Type", "Object", "Network Type"),
            enum_values=NETWORK_TYPES, width=10,
        ),
        Column(
            "ref", "Ref", T.TEXT,
            "The ref POs and bookings will name (buyer/seller ref, origin/destination ref); "
            "unique per type. A ref the account has already is left as it is.",
            "sup-dongguan-toys", "ref", required=True,
            aliases=("Entity Ref", "Location Ref", "Supplier Ref", "Supplier Code",
                     "Vendor Code", "Reference"),
            width=22, identifier=True,
        ),
        Column(
            "name", "Name", T.TEXT,
            "The legal name of the entity, or the name of the location.",
            "Dongguan Toys Co Ltd", "name", required=True,
            aliases=("Legal Name", "Supplier Name", "Vendor Name", "Location Name",
                     "Company Name"),
            width=28,
        ),
        Column(
            "company_ref", "Company Ref", T.TEXT,
            "Entities: the ref of the entity's parent company in your network (blank: the "
            "entity's own ref).",
            "dongguan-toys", "company_ref", aliases=("Parent Company", "Parent Company Ref"),
            width=18,
        ),
        Column(
            "owner_ref", "Owner Entity Ref", T.TEXT,
            "Locations: the ref of the company entity the location belongs to, in this "
            "sheet or already in your network; required for a location.",
            "sup-dongguan-toys", "company_id (the owner's id)",
            aliases=("Owner", "Owner Ref", "Owner Entity", "Belongs To"), width=20,
        ),
        Column(
            "street", "Street", T.TEXT,
            "The street address (the mailing address of an entity).",
            "8 Humen Rd", "mailing_address.street_address / address.street_address",
            required=True, aliases=("Street Address", "Address", "Address Line 1", "Address 1"),
            width=24,
        ),
        Column(
            "street2", "Street 2", T.TEXT,
            "A second address line, if any.",
            "Building 3", "street_address2",
            aliases=("Address Line 2", "Address 2", "Street Address 2", "Suite"), width=14,
        ),
        Column(
            "city", "City", T.TEXT, "The city or town of the address.", "Dongguan", "city",
            aliases=("Town",), width=14,
        ),
        Column(
            "state", "State", T.TEXT, "The state or province, if the country has them.",
            "GD", "state", aliases=("Province", "Region", "State/Province"), width=8,
        ),
        Column(
            "zip", "Postal Code", T.TEXT, "The postal or ZIP code of the address.", "523900", "zip",
            aliases=("Zip", "ZIP Code", "Postcode", "Post Code"), width=11, identifier=True,
        ),
        Column(
            "country", "Country", T.COUNTRY, "The country, as an ISO two-letter code.",
            "CN", "country_code", required=True, aliases=("Country Code",), width=9,
        ),
        Column(
            "unlocode", "UN/LOCODE", T.PORT,
            "The UN/LOCODE of the place, if you know it.",
            "CNDGG", "unlocode", aliases=("Locode", "UN Locode"), width=11,
        ),
        Column(
            "vat_number", "VAT Number", T.TEXT,
            "Entities: the VAT number, registered in the row's country.",
            "CN 91441900", "vat_numbers[].number", aliases=("VAT", "VAT No", "Tax Number"),
            width=16,
        ),
    ),
)

COLUMN_SETS: dict[Kind, ColumnSet] = {
    Kind.PURCHASE_ORDERS: PURCHASE_ORDER_COLUMNS,
    Kind.BOOKINGS: BOOKING_COLUMNS,
    Kind.NETWORK: NETWORK_COLUMNS,
}


def allowed_values(col: Column) -> str:
    """The values a column accepts, in words for people (template hints, docs)."""
    if col.enum_values:
        return ", ".join(col.enum_values)
    return _TYPE_WORDS[col.type] + (" or IATA airport code" if col.accepts_iata else "")


_TYPE_WORDS: dict[ColumnType, str] = {
    T.TEXT: "any text",
    T.INTEGER: "whole number",
    T.DECIMAL: "number",
    T.DATE: "date (YYYY-MM-DD)",
    T.BOOLEAN: "yes or no",
    T.ENUM: "",
    T.COUNTRY: "ISO country code (US, CN)",
    T.CURRENCY: "ISO currency code (USD)",
    T.PORT: "UN/LOCODE",
    T.HS_CODE: f"HS code ({HS_CODE_RULE})",
    T.LIST: "comma-separated list",
}


def markdown_table(kind: Kind) -> str:
    """The column reference of one kind as a Markdown table, for the README."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "| Column | Required | Accepts | Also recognised as | Description | Example |",
        "|---|---|---|---|---|---|",
    ]
    for col in COLUMN_SETS[kind].columns:
        aliases = ", ".join(f"`{alias}`" for alias in col.aliases)
        lines.append(
            "| " + " | ".join((
                f"**{cell(col.header)}**",
                "yes" if col.required else "",
                cell(allowed_values(col)),
                cell(aliases),
                cell(col.help),
                f"`{cell(col.example)}`",
            )) + " |"
        )
    lines.append(
        "| `metadata.<key>` | | any text | `Metadata: <key>` | "
        "Kept with the object in Flexport as metadata under `<key>`. | `Lighting` |"
    )
    return "\n".join(lines) + "\n"
