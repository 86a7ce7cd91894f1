"""The column specs: unique names, complete help, and a column for every domain field."""

from __future__ import annotations

import dataclasses

import pytest

from bulkpo import domain
from bulkpo.columns import (
    BOOKING_COLUMNS,
    COLUMN_SETS,
    NETWORK_COLUMNS,
    PURCHASE_ORDER_COLUMNS,
    Column,
    ColumnSet,
    ColumnType,
    Kind,
    fold_header,
    markdown_table,
    metadata_key,
)

ALL_SETS = list(COLUMN_SETS.values())

PURCHASE_ORDER_KEYS = [
    "po_number", "status", "buyer_name", "buyer_ref", "buyer_country", "seller_name",
    "seller_ref", "seller_country", "incoterm", "transportation_mode", "cargo_ready_date",
    "must_arrive_date", "origin_port", "destination_port", "origin_address_ref",
    "destination_address_ref", "memo", "priority", "order_class", "line_number", "sku",
    "product_name", "quantity",
    "unit_of_measure", "unit_cost", "currency", "hs_code"
]

BOOKING_KEYS = [
    "booking_name", "freight_type", "incoterm", "origin_port", "destination_port",
    "cargo_ready_date", "delivery_date", "po_numbers", "shipper_entity_ref",
    "consignee_entity_ref", "origin_location_ref", "destination_location_ref", "load_type",
    "containers_20", "containers_40", "containers_40hc", "containers_45hc", "wants_pickup",
    "wants_delivery", "export_customs", "import_customs", "product_description", "hs_code",
    "export_description_zh", "weight_kg", "volume_cbm", "unit_count", "unit_type",
    "atomic_count", "hazmat", "magnets", "other_dangerous_goods", "li_ion",
    "non_li_ion_battery", "li_ion_packing", "is_ltl", "payment_terms",
    "special_instructions"
]

# Which column feeds each field of the domain objects validation builds.
PURCHASE_ORDER_FIELDS = {
    "name": "po_number", "status": "status", "incoterm": "incoterm",
    "transportation_mode": "transportation_mode", "cargo_ready_date": "cargo_ready_date",
    "must_arrive_date": "must_arrive_date", "origin_port": "origin_port",
    "destination_port": "destination_port", "origin_address_ref": "origin_address_ref",
    "destination_address_ref": "destination_address_ref", "memo": "memo",
    "priority": "priority", "order_class": "order_class",
    "buyer.name": "buyer_name", "buyer.ref": "buyer_ref", "buyer.country": "buyer_country",
    "seller.name": "seller_name", "seller.ref": "seller_ref",
    "seller.country": "seller_country",
}
LINE_ITEM_FIELDS = {
    "line_number": "line_number", "sku": "sku", "quantity": "quantity",
    "product_name": "product_name", "unit_of_measure": "unit_of_measure",
    "unit_cost": "unit_cost", "currency": "currency", "hs_code": "hs_code",
    # A line's own date when the lines of one PO arrive on different dates.
    "must_arrive_date": "must_arrive_date",
}
BOOKING_FIELDS = {
    "name": "booking_name", "freight_type": "freight_type",
    "cargo_ready_date": "cargo_ready_date", "product_description": "product_description",
    "hs_code": "hs_code", "incoterm": "incoterm", "origin_port": "origin_port",
    "destination_port": "destination_port", "delivery_date": "delivery_date",
    "po_numbers": "po_numbers", "po_line_units": "po_numbers",
    "shipper_entity_ref": "shipper_entity_ref",
    "consignee_entity_ref": "consignee_entity_ref",
    "origin_location_ref": "origin_location_ref",
    "destination_location_ref": "destination_location_ref", "is_lcl": "load_type",
    "containers.twenty_ft": "containers_20", "containers.forty_ft": "containers_40",
    "containers.forty_ft_hc": "containers_40hc",
    "containers.forty_five_ft_hc": "containers_45hc",
    "wants_pickup": "wants_pickup", "wants_delivery": "wants_delivery",
    "wants_export_customs": "export_customs", "wants_import_customs": "import_customs",
    "export_description_zh": "export_description_zh", "weight_kg": "weight_kg",
    "volume_cbm": "volume_cbm", "shipping_units.count": "unit_count",
    "shipping_units.unit_type": "unit_type", "shipping_units.atomic_count": "atomic_count",
    "dangerous_goods.hazmat": "hazmat", "dangerous_goods.magnets": "magnets",
    "dangerous_goods.other_dangerous_goods": "other_dangerous_goods",
    "dangerous_goods.li_ion": "li_ion", "dangerous_goods.non_li_ion_battery":
    "non_li_ion_battery", "dangerous_goods.li_ion_packing": "li_ion_packing",
    "is_ltl": "is_ltl", "payment_terms": "payment_terms",
    "special_instructions": "special_instructions",
}
NESTED = {
    "buyer": domain.Party, "seller": domain.Party, "containers": domain.ContainerCounts,
    "shipping_units": domain.ShippingUnits, "dangerous_goods": domain.DangerousGoods,
}
NOT_FROM_A_COLUMN = {"row", "lines", "metadata"}  # positions, grouping, metadata.* columns


def _leaf_fields(cls: type) -> set[str]:
    leaves: set[str] = set()
    for f in dataclasses.fields(cls):
        if f.name in NOT_FROM_A_COLUMN:
            continue
        if f.name in NESTED:
            leaves |= {f"{f.name}.{sub.name}" for sub in dataclasses.fields(NESTED[f.name])}
        else:
            leaves.add(f.name)
    return leaves


def test_exact_keys_in_spec_order() -> None:
    assert list(PURCHASE_ORDER_COLUMNS.keys) == PURCHASE_ORDER_KEYS
    assert list(BOOKING_COLUMNS.keys) == BOOKING_KEYS
    assert COLUMN_SETS == {Kind.PURCHASE_ORDERS: PURCHASE_ORDER_COLUMNS,
                           Kind.BOOKINGS: BOOKING_COLUMNS, Kind.NETWORK: NETWORK_COLUMNS}
    assert PURCHASE_ORDER_COLUMNS.sheet_name == "Purchase Orders"
    assert BOOKING_COLUMNS.sheet_name == "Bookings"


@pytest.mark.parametrize(
    ("cls", "mapping", "column_set"),
    [
        (domain.PurchaseOrder, PURCHASE_ORDER_FIELDS, PURCHASE_ORDER_COLUMNS),
        (domain.LineItem, LINE_ITEM_FIELDS, PURCHASE_ORDER_COLUMNS),
        (domain.Booking, BOOKING_FIELDS, BOOKING_COLUMNS),
    ],
)
def test_every_domain_field_has_a_column(
    cls: type, mapping: dict[str, str], column_set: ColumnSet
) -> None:
    assert set(mapping) == _leaf_fields(cls)
    for key in mapping.values():
        column_set.by_key(key)


def test_every_column_feeds_a_domain_field() -> None:
    assert set(PURCHASE_ORDER_COLUMNS.keys) == (
        set(PURCHASE_ORDER_FIELDS.values()) | set(LINE_ITEM_FIELDS.values())
    )
    assert set(BOOKING_COLUMNS.keys) == set(BOOKING_FIELDS.values())


@pytest.mark.parametrize("column_set", ALL_SETS, ids=lambda s: s.kind.value)
def test_keys_headers_and_folded_aliases_are_unique(column_set: ColumnSet) -> None:
    keys = [col.key for col in column_set.columns]
    assert len(keys) == len(set(keys))
    owner: dict[str, str] = {}
    for col in column_set.columns:
        for name in (col.header, col.key, *col.aliases):
            folded = fold_header(name)
            assert folded, name
            assert owner.setdefault(folded, col.key) == col.key, (name, owner[folded])


def test_a_shared_alias_is_refused() -> None:
    a = Column("a", "Alpha", ColumnType.TEXT, "A.", "a", "", aliases=("Code",))
    b = Column("b", "Beta", ColumnType.TEXT, "B.", "b", "", aliases=("code",))
    with pytest.raises(ValueError, match="already taken by a"):
        ColumnSet(Kind.BOOKINGS, "X", (a, b))


@pytest.mark.parametrize("column_set", ALL_SETS, ids=lambda s: s.kind.value)
def test_every_column_is_documented(column_set: ColumnSet) -> None:
    for col in column_set.columns:
        assert col.help.endswith(".") and len(col.help) > 20, col.key
        assert col.example, col.key
        assert col.api_field, col.key
        assert 6 <= col.width <= 40, col.key
        if col.type is ColumnType.ENUM:
            assert col.enum_values, col.key
            assert col.example in col.enum_values, col.key
        else:
            assert col.type is ColumnType.LIST or not col.enum_values, col.key
        if col.default:
            assert col.type is ColumnType.BOOLEAN or col.default in col.enum_values


def test_required_columns() -> None:
    assert {c.key for c in PURCHASE_ORDER_COLUMNS.required} == {"po_number", "sku", "quantity"}
    assert {c.key for c in BOOKING_COLUMNS.required} == {
        "booking_name", "freight_type", "cargo_ready_date", "product_description", "hs_code",
    }


def test_po_level_columns_come_before_line_columns() -> None:
    flags = [col.po_level for col in PURCHASE_ORDER_COLUMNS.columns]
    assert flags == sorted(flags, reverse=True)
    assert PURCHASE_ORDER_COLUMNS.by_key("memo").po_level
    assert not PURCHASE_ORDER_COLUMNS.by_key("line_number").po_level
    assert not any(col.po_level for col in BOOKING_COLUMNS.columns)


def test_enums_follow_the_api() -> None:
    po = PURCHASE_ORDER_COLUMNS
    assert po.by_key("status").enum_values == ("open", "closed", "cancelled")
    assert po.by_key("incoterm").enum_values == BOOKING_COLUMNS.by_key("incoterm").enum_values
    assert "DPU" in po.by_key("incoterm").enum_values
    assert po.by_key("transportation_mode").enum_values == ("ocean", "air", "truck", "rail")
    uom = po.by_key("unit_of_measure")
    assert uom.default == "PCS" and {"PCS", "KG", "CTN", "PRS"} <= set(uom.enum_values)
    assert BOOKING_COLUMNS.by_key("freight_type").enum_values == ("ocean", "air", "trucking")
    assert BOOKING_COLUMNS.by_key("li_ion_packing").type is ColumnType.LIST
    assert BOOKING_COLUMNS.by_key("origin_port").accepts_iata
    assert not po.by_key("origin_port").accepts_iata


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("po #", "po_number"), ("PO_NUMBER", "po_number"), (" Po Number ", "po_number"),
        ("P.O. No.", "po_number"), ("Purchase Order No.", "po_number"),
        ("po_name", "po_number"), ("Vendor Name", "seller_name"), ("QTY", "quantity"),
        ("Item Number", "sku"), ("u.o.m.", "unit_of_measure"), ("HTS Code", "hs_code"),
        ("Cargo-Ready Date", "cargo_ready_date"), ("POL", "origin_port"),
        ("Line #", "line_number"),
    ],
)
def test_match_folds_case_space_and_punctuation(header: str, key: str) -> None:
    col = PURCHASE_ORDER_COLUMNS.match(header)
    assert col is not None and col.key == key


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("PO #s", "po_numbers"), ("Purchase Orders", "po_numbers"), ("40HC", "containers_40hc"),
        ("40' HC Containers", "containers_40hc"), ("20' Containers", "containers_20"),
        ("Items per Pallet", "atomic_count"), ("Mode", "freight_type"),
        ("Export Description (Chinese)", "export_description_zh"), ("CBM", "volume_cbm"),
    ],
)
def test_booking_aliases(header: str, key: str) -> None:
    col = BOOKING_COLUMNS.match(header)
    assert col is not None and col.key == key


@pytest.mark.parametrize("header", ["", "  ", "#?", "Colour", "metadata.department", "台灯"])
def test_unknown_headers_match_nothing(header: str) -> None:
    assert PURCHASE_ORDER_COLUMNS.match(header) is None


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("metadata.department", "department"), ("Metadata: Cost Center", "Cost Center"),
        (" metadata . size ", "size"), ("META:season", "season"), ("metadata", None),
        ("metadata.", None), ("Memo", None), ("metadata_department", None),
    ],
)
def test_metadata_key(header: str, key: str | None) -> None:
    assert metadata_key(header) == key


def test_score_prefers_the_header_row() -> None:
    po = PURCHASE_ORDER_COLUMNS
    header = ["PO Number", "Supplier", "Item", "Qty", "metadata.department"]
    assert po.score(header) == 1.0
    assert po.score(["PO-1", "Acme", "00123", 5, None]) == 0.0
    assert po.score([]) == 0.0
    # A title row with one matching word loses to the real header row.
    assert po.score(["Purchase Order", "export", "2026"]) < po.score(header) / 2
    # Without the required columns a row of known headers scores lower.
    assert po.score(["Supplier", "Incoterm", "Memo"]) < po.score(header)
    assert BOOKING_COLUMNS.score(header) < po.score(header)
    assert 0.0 <= BOOKING_COLUMNS.score(["Booking Name", "SKU"]) < 1.0


@pytest.mark.parametrize("kind", list(Kind))
def test_markdown_table(kind: Kind) -> None:
    table = markdown_table(kind)
    lines = table.splitlines()
    column_set = COLUMN_SETS[kind]
    assert len(lines) == 2 + len(column_set.columns) + 1
    assert all(line.startswith("|") and line.endswith("|") for line in lines)
    for col in column_set.columns:
        assert f"**{col.header}**" in table
    assert "`metadata.<key>`" in lines[-1]
