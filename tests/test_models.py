"""The read models parse real-looking API objects and tolerate what the API may add."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from bulkpo.flexport import (
    Booking,
    BookingLineItem,
    CompanyEntity,
    Document,
    Location,
    PurchaseOrder,
    PurchaseOrderLineItem,
    Shipment,
    ShipmentLeg,
)
from bulkpo.flexport.models import (
    INCOTERM_VALUES,
    PO_STATUS_VALUES,
    TRANSPORTATION_MODE_VALUES,
    FlexportObject,
)

UTC = datetime.UTC


def port(name: str, unlocode: str, code: str | int | None) -> dict[str, Any]:
    return {
        "_object": "/place",
        "name": name,
        "address": {"_object": "/address", "unlocode": unlocode, "country_code": unlocode[:2],
                    "street_address": None, "city": None, "zip": None},
        "details": [{"_object": "/ocean/port", "port_code": code}],
    }  # fmt: skip


PURCHASE_ORDER: dict[str, Any] = {
    "_object": "/purchase_order",
    "id": 900001,
    "name": "PO-A-17",
    "status": "open",
    "buyer": {"_object": "/company", "id": 11, "name": "Acme Inc", "ref": "acme",
              "country_code": "US"},
    "seller": {"_object": "/company", "id": 12, "name": "Shenzhen Lamps", "ref": "sz-lamps",
               "country_code": "CN"},
    "incoterm": "FOB",
    "transportation_mode": "ocean",
    "cargo_ready_date": "2025-07-01",
    "must_arrive_date": "2025-08-15",
    "origin_port": port("Yantian", "CNYTN", None),
    "destination_port": port("Los Angeles", "USLAX", 2704),
    "origin_address": None,
    "destination_address": {"_object": "/address", "street_address": "1 Dock Rd",
                            "street_address2": "", "city": "Long Beach", "state": "CA",
                            "country": "United States", "country_code": "US", "zip": 90802,
                            "unlocode": None, "timezone": "America/Los_Angeles",
                            "ref": "loc-la-dc"},
    "memo": None,
    "archived_at": None,
    "created_at": "2025-06-01T08:15:30.123Z",
    "updated_at": "2025-06-02T10:00:00.000+08:00",
    "line_items": {"_object": "/api/refs/collection", "ref_type": "/purchase_orders/line_item",
                   "link": "https://api.flexport.com/purchase_order_line_items?f.purchase_order.id=900001"},
    "metadata": {"size": ["M"], "season": ["SS25", "core"]},
}  # fmt: skip

LINE_ITEM: dict[str, Any] = {
    "_object": "/purchase_orders/line_item",
    "id": 31,
    "purchase_order": {"_object": "/api/refs/object", "ref_type": "/purchase_order",
                       "link": "https://api.flexport.com/purchase_orders/900001", "id": 900001},
    "line_item_number": 1,
    "item_key": "PO-A-17-1",
    "product": {"_object": "/product", "sku": "00123", "name": "Desk lamp"},
    "units": 480,
    "unit_of_measure": "PCS",
    "unit_cost": {"_object": "/money", "amount": "121.10", "currency_code": "USD"},
    "hs_codes": [{"_object": "/hs_code", "code": "9405.20", "country_code": "US",
                  "description": None}],
    "incoterm": "FOB",
    "transportation_mode": "ocean",
    "must_arrive_date": "2025-08-15",
    "metadata": {},
}  # fmt: skip


def test_purchase_order_parses_the_read_model() -> None:
    po = PurchaseOrder.model_validate(PURCHASE_ORDER)
    assert po.object_type == "/purchase_order"
    assert (po.id, po.name, po.status, po.incoterm) == (900001, "PO-A-17", "open", "FOB")
    assert po.buyer is not None and po.buyer.ref == "acme" and po.buyer.country_code == "US"
    assert po.seller is not None and po.seller.name == "Shenzhen Lamps"
    assert po.cargo_ready_date == datetime.date(2025, 7, 1)
    assert po.created_at == datetime.datetime(2025, 6, 1, 8, 15, 30, 123000, tzinfo=UTC)
    assert po.updated_at is not None and po.updated_at.utcoffset() == datetime.timedelta(hours=8)
    assert po.origin_port is not None and po.origin_port.unlocode == "CNYTN"
    assert po.destination_port is not None
    assert po.destination_port.details[0].port_code == "2704"  # an int on the wire
    assert po.destination_address is not None and po.destination_address.zip == "90802"
    assert po.destination_address.ref == "loc-la-dc"
    assert po.origin_address is None
    assert po.line_items is not None and po.line_items.link is not None
    assert po.metadata == {"size": ["M"], "season": ["SS25", "core"]}


def test_line_item_keeps_money_exact_and_sku_as_text() -> None:
    line = PurchaseOrderLineItem.model_validate(LINE_ITEM)
    assert line.unit_cost is not None
    assert line.unit_cost.amount == Decimal("121.10")
    assert str(line.unit_cost.amount) == "121.10"
    assert line.product is not None and line.product.sku == "00123"
    assert line.purchase_order is not None and line.purchase_order.id == 900001
    assert [h.code for h in line.hs_codes] == ["9405.20"]
    assert line.units == 480


def test_unknown_fields_and_enum_values_are_kept() -> None:
    raw = {
        **PURCHASE_ORDER,
        "status": "on_hold",
        "incoterm": "XYZ",
        "transportation_mode": "hyperloop",
        "priority": "urgent",
        "parties": [{"role": "buyer", "external_ref": "acme"}],
    }
    po = PurchaseOrder.model_validate(raw)
    assert po.priority == "urgent"  # a value beyond the documented enum is kept too
    assert po.status == "on_hold" and po.status not in PO_STATUS_VALUES
    assert po.incoterm == "XYZ" and po.incoterm not in INCOTERM_VALUES
    assert po.transportation_mode not in TRANSPORTATION_MODE_VALUES
    assert po.model_extra == {"parties": raw["parties"]}


@pytest.mark.parametrize(
    "model",
    [PurchaseOrder, PurchaseOrderLineItem, Booking, BookingLineItem, Shipment, ShipmentLeg,
     Document, CompanyEntity, Location],
)  # fmt: skip
def test_nulls_everywhere(model: type[FlexportObject]) -> None:
    raw = {name: None for name in model.model_fields if name != "object_type"}
    parsed = model.model_validate({"_object": "/whatever", **raw})
    # Lists and metadata read as empty rather than None, so callers can iterate.
    for name, value in parsed:
        if name == "metadata":
            assert value == {}
        elif isinstance(value, list):
            assert value == []
        elif name != "object_type":
            assert value is None


def test_empty_object_parses() -> None:
    assert PurchaseOrder.model_validate({}).name is None


def test_metadata_in_name_value_format_and_bare_strings() -> None:
    po = PurchaseOrder.model_validate(
        {"metadata": [{"name": "size", "value": ["M", "L"]}, {"name": "lot", "value": "7"}]}
    )
    assert po.metadata == {"size": ["M", "L"], "lot": ["7"]}


def test_a_date_field_sent_as_a_date_time_reads_as_its_date() -> None:
    po = PurchaseOrder.model_validate({"cargo_ready_date": "2025-07-01T10:00:00.000Z"})
    assert po.cargo_ready_date == datetime.date(2025, 7, 1)


def test_booking_with_ocean_detail() -> None:
    booking = Booking.model_validate(
        {
            "_object": "/booking",
            "id": 2983,
            "name": "PO-A-17 / FCL",
            "flex_id": "FLEX-548651",
            "status": "submitted",
            "shipment": None,
            "shipper_entity": {"_object": "/company_entity", "id": 566428, "name": "SZ Lamps",
                               "ref": "id-566428", "mailing_address": None, "vat_numbers": []},
            "consignee_entity": {"_object": "/company_entity", "id": 1, "name": "Acme",
                                 "ref": "self", "vat_numbers": None},
            "transportation_mode": "ocean",
            "ocean_booking": {
                "_object": "/ocean/booking",
                "is_lcl": False,
                "container_counts": {"_object": "/container_counts", "twenty_ft": None,
                                     "forty_ft": None, "forty_ft_hc": 2, "forty_five_ft_hc": None},
                "incoterm": "FOB",
                "wants_pickup_service": False,
                "wants_delivery_service": True,
                "origin_port": port("Yantian", "CNYTN", "57078"),
                "destination_port": port("Los Angeles", "USLAX", "2704"),
                "product_descriptions": [{
                    "_object": "/bookings/product_description", "description": "Desk lamps",
                    "description_for_export_customs": "台灯",
                    "description_for_export_customs_locale": "zh_CN",
                    "hs_code": {"_object": "/hs_code", "code": "9405.20", "country_code": "US",
                                "description": None},
                }],
            },
            "air_booking": None,
            "trucking_booking": None,
            "cargo_ready_date": "2025-07-01",
            "delivery_date": None,
            "wants_export_customs_service": False,
            "wants_import_customs_service": True,
            "cargo": {"_object": "/cargo", "weight": {"value": 8200, "unit": "kg"},
                      "volume": {"value": 110.5, "unit": "cbm"},
                      "shipping_units": [{"count": 40, "unit_type": "pallet",
                                          "atomic_count": 480}],
                      "contains_hazmat": False, "lithium_batteries_packing_types": None},
            "booking_line_items": {"_object": "/api/refs/collection",
                                   "ref_type": "/purchase_orders/booking_line_item",
                                   "link": "https://api.flexport.com/booking_line_items?f.booking.id=2983"},
            "created_at": "2025-06-03T01:29:00.440Z",
            "metadata": {"purchase_order": ["PO-A-17"]},
        }
    )  # fmt: skip
    assert booking.id == 2983 and booking.flex_id == "FLEX-548651" and booking.shipment is None
    assert booking.ocean_booking is not None
    assert booking.ocean_booking.container_counts is not None
    assert booking.ocean_booking.container_counts.forty_ft_hc == 2
    description = booking.ocean_booking.product_descriptions[0]
    assert description.hs_code is not None and description.hs_code.code == "9405.20"
    assert booking.cargo is not None and booking.cargo.lithium_batteries_packing_types == []
    assert booking.cargo.shipping_units[0].atomic_count == 480
    assert booking.shipper_entity is not None and booking.shipper_entity.ref == "id-566428"


def test_product_description_hs_code_given_as_a_string() -> None:
    booking = Booking.model_validate(
        {"air_booking": {"product_descriptions": [{"description": "Watch", "hs_code": "9101.00"}]}}
    )
    assert booking.air_booking is not None
    hs_code = booking.air_booking.product_descriptions[0].hs_code
    assert hs_code is not None and hs_code.code == "9101.00"


def test_trucking_booking_keeps_is_ftl_and_is_ltl() -> None:
    booking = Booking.model_validate(
        {"trucking_booking": {"_object": "/trucking/booking", "is_ftl": False, "is_ltl": True,
                              "payment_terms": "prepaid"}}
    )  # fmt: skip
    assert booking.trucking_booking is not None
    assert (booking.trucking_booking.is_ftl, booking.trucking_booking.is_ltl) == (False, True)


def test_booking_line_item() -> None:
    item = BookingLineItem.model_validate(
        {"_object": "/purchase_orders/booking_line_item", "id": 5,
         "booking": {"_object": "/api/refs/object", "ref_type": "/booking", "id": 2983},
         "purchase_order_line_item": {"_object": "/api/refs/object", "id": 31}, "units": 480}
    )  # fmt: skip
    assert item.booking is not None and item.booking.id == 2983 and item.units == 480


@pytest.mark.parametrize("object_name", ["/file/metadata", "/file_metadata"])
def test_document_with_either_file_metadata_name(object_name: str) -> None:
    doc = Document.model_validate(
        {
            "_object": "/document",
            "id": "kBzGEuW3RgKVm2WPPflL1w",
            "file_name": "booking.pdf",
            "document_type": "booking_form_pdf",
            "memo": None,
            "file_link": "https://api.flexport.com/documents/kBzGEuW3RgKVm2WPPflL1w/download",
            "archived_at": None,
            "file_metadata": {"_object": object_name, "size": 20000,
                              "uploaded_at": "2019-05-30T01:29:00.440Z"},
            "shipment": {"_object": "/api/refs/object", "ref_type": "/shipment", "id": 523493},
        }
    )  # fmt: skip
    assert doc.id == "kBzGEuW3RgKVm2WPPflL1w"
    assert doc.file_metadata is not None and doc.file_metadata.object_type == object_name
    assert doc.file_metadata.size == 20000
    assert doc.file_metadata.uploaded_at == datetime.datetime(
        2019, 5, 30, 1, 29, 0, 440000, tzinfo=UTC
    )


def test_shipment_and_leg() -> None:
    shipment = Shipment.model_validate(
        {
            "_object": "/shipment", "id": 523493, "name": "Lamps", "status": "gated_out_v2",
            "transportation_mode": "ocean", "freight_type": "port_to_door", "incoterm": "FOB",
            "pieces": 40, "created_date": "2025-06-10T00:00:00.000Z",
            "calculated_weight": {"_object": "/quantity/weight", "value": 8200.0, "unit": "kg"},
            "booking": {"_object": "/api/refs/object", "ref_type": "/booking", "id": 2983},
            "ocean_shipment": {"_object": "/ocean/shipment", "is_lcl": False,
                               "master_bill_number": "MSKU123"},
            "air_shipment": None,
            "shippers": [{"_object": "/company_entity", "id": 566428, "name": "SZ Lamps"}],
            "consignees": None,
            "items": [{"_object": "/shipment_item", "id": 1, "total_units": 480,
                       "purchase_order_number": "PO-A-17", "product": {"sku": "00123"}}],
            "legs": {"_object": "/api/refs/collection", "ref_type": "/shipment_leg",
                     "link": "https://api.flexport.com/shipment_legs?f.shipment.id=523493"},
            "metadata": None,
        }
    )  # fmt: skip
    assert shipment.status == "gated_out_v2"
    assert shipment.booking is not None and shipment.booking.id == 2983
    assert shipment.consignees == [] and shipment.shippers[0].id == 566428
    assert shipment.items[0].purchase_order_number == "PO-A-17"
    leg = ShipmentLeg.model_validate(
        {
            "_object": "/shipment_leg", "id": 77,
            "shipment": {"_object": "/api/refs/object", "id": 523493},
            "origin": {"_object": "/shipment_node", "place": port("Yantian", "CNYTN", "57078"),
                       "terminal": None, "tags": ["port_of_loading", "brand_new_tag"]},
            "destination": {"_object": "/shipment_node", "place": None, "tags": None},
            "estimated_departure_date": "2018-02-02T12:00:00.000+08:00",
            "additional_dates": {"cargo_ready_date": "2018-01-30"},
            "ocean_leg": {"_object": "/ocean/shipment_leg", "vessel_name": "MSC Anna",
                          "voyage_number": "123W", "vessel_imo": 9000001},
            "air_leg": None,
        }
    )  # fmt: skip
    assert leg.origin is not None and leg.origin.tags == ["port_of_loading", "brand_new_tag"]
    assert leg.destination is not None and leg.destination.tags == []
    assert leg.ocean_leg is not None and leg.ocean_leg.vessel_imo == "9000001"


def test_company_entity_and_location() -> None:
    entity = CompanyEntity.model_validate(
        {"_object": "/company_entity", "id": 9281, "name": "Zoomit", "ref": "zoomit_ref",
         "mailing_address": {"_object": "/address", "city": "Albany", "country_code": "US"},
         "vat_numbers": [{"_object": "/company_entity/vat_number", "country_code": "DE",
                          "number": "DE123"}]}
    )  # fmt: skip
    assert entity.vat_numbers[0].number == "DE123"
    location = Location.model_validate(
        {"_object": "/network/location", "id": "42", "name": "LA DC", "ref": "loc-la-dc",
         "address": {"city": "Long Beach"}, "company": {"_object": "/network/company", "id": 1,
         "name": "Acme", "ref": "acme", "entities": []}, "contacts": [], "metadata": None}
    )  # fmt: skip
    # A string id stays a string (the document: f8Rq_ua5RRZQ_Rp41dPC9w).
    assert location.id == "42" and location.ref == "loc-la-dc"
    assert location.company is not None and location.company.ref == "acme"
