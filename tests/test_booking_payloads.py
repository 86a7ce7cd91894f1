"""Booking bodies: the official CreateBooking shape, checked against the OpenAPI schemas."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from bulkpo.config import BookingDefaults
from bulkpo.domain import Booking, ContainerCounts, DangerousGoods, ShippingUnits
from bulkpo.flexport.payloads import booking_body
from bulkpo.imports import load_workbook
from tests.conftest import SAMPLES
from tests.openapi_spec import openapi, schema, validator

DEFAULTS = BookingDefaults(consignee_entity_ref="acme-us")


def validate(body: dict[str, Any]) -> None:
    validator(openapi(), schema("CreateBooking")).validate(body)
    detail = next(body[k] for k in ("ocean_booking", "air_booking", "trucking_booking")
                  if k in body)
    if "trucking_booking" in body or detail.get("wants_delivery_service"):
        assert body.get("destination_address_ref"), "destination ref required here"
    if not detail.get("wants_pickup_service", True):
        assert any(k.startswith("origin_port_") for k in detail), "no pickup needs a port"


def booking(**changes: Any) -> Booking:
    base = Booking(
        row=2, name="BK-1", freight_type="ocean", cargo_ready_date=dt.date(2026, 12, 1),
        product_description="LED lamps", hs_code="9405.20", incoterm="FOB",
        origin_port="CNYTN", destination_port="USLAX",
        shipper_entity_ref="sup-shenzhen-lights", origin_location_ref="loc-shenzhen-factory",
        destination_location_ref="loc-la-dc",
        containers=ContainerCounts(forty_ft_hc=2), wants_delivery=True,
        export_description_zh="台灯", weight_kg=Decimal("5760"), volume_cbm=Decimal("38.4"),
        shipping_units=ShippingUnits(24, "pallet", 24),
    )
    return dataclasses.replace(base, **changes)


KINDS = {
    "ocean FCL": booking(),
    "ocean LCL": booking(is_lcl=True, containers=ContainerCounts(), origin_port="VNSGN",
                         export_description_zh=None, wants_delivery=False,
                         destination_location_ref=None),
    "air": booking(freight_type="air", origin_port="SZX", destination_port="LAX",
                   dangerous_goods=DangerousGoods(li_ion=True,
                                                  li_ion_packing=("contained_in_equipment",))),
    "trucking": booking(freight_type="trucking", origin_port=None, destination_port=None,
                        payment_terms="collect", is_ltl=False, export_description_zh=None),
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_validates_against_the_openapi_schema(kind: str) -> None:
    validate(booking_body(KINDS[kind], DEFAULTS))


def test_sample_bookings_validate_against_the_schema() -> None:
    workbook = load_workbook(SAMPLES / "bookings.xlsx")
    assert workbook.bookings is not None
    _table, validation = workbook.bookings
    assert len(validation.bookings) == 12 and not validation.invalid_rows
    for b in validation.bookings:
        validate(booking_body(b, DEFAULTS))


def test_ocean_fcl_body_in_full() -> None:
    assert booking_body(KINDS["ocean FCL"], DEFAULTS) == {
        "name": "BK-1",
        "shipper_entity_ref": "sup-shenzhen-lights",
        "consignee_entity_ref": "acme-us",  # from [bookings]
        "origin_address_ref": "loc-shenzhen-factory",
        "destination_address_ref": "loc-la-dc",
        "cargo_ready_date": "2026-12-01",
        "wants_export_customs_service": False,
        "wants_import_customs_service": False,
        "ocean_booking": {
            "is_lcl": False,
            "container_counts": {"twenty_ft": 0, "forty_ft": 0, "forty_ft_hc": 2,
                                 "forty_five_ft_hc": 0},
            "incoterm": "FOB",
            "wants_pickup_service": False,
            "wants_delivery_service": True,
            "origin_port_loc_code": "CNYTN",
            "destination_port_loc_code": "USLAX",
            "product_descriptions": [{
                "description": "LED lamps", "hs_code": "9405.20",
                "description_for_export_customs": "台灯",
                "description_for_export_customs_locale": "zh_CN",
            }],
        },
        "cargo": {
            "weight": {"value": 5760, "unit": "kg"},
            "volume": {"value": 38.4, "unit": "cbm"},
            "shipping_units": [{"count": 24, "unit_type": "pallet", "atomic_count": 24}],
            "contains_hazmat": False, "contains_magnets": False,
            "contains_other_dangerous_goods": False, "contains_li_ion": False,
            "contains_non_li_ion_battery": False,
        },
    }


def test_air_takes_iata_codes_and_lithium_packing() -> None:
    body = booking_body(KINDS["air"], DEFAULTS)
    detail = body["air_booking"]
    assert detail["origin_port_iata_code"] == "SZX"
    assert detail["destination_port_iata_code"] == "LAX"
    assert "origin_port_loc_code" not in detail and "is_lcl" not in detail
    assert body["cargo"]["lithium_batteries_packing_types"] == ["contained_in_equipment"]
    # a UN/LOCODE on an air row stays a loc code
    unlocode = booking_body(booking(freight_type="air", origin_port="CNSZX"), DEFAULTS)
    assert unlocode["air_booking"]["origin_port_loc_code"] == "CNSZX"


def test_trucking_has_no_ports_and_takes_payment_terms_from_defaults() -> None:
    body = booking_body(booking(freight_type="trucking", payment_terms=None), DEFAULTS)
    assert body["trucking_booking"] == {
        "is_ltl": True, "payment_terms": "prepaid", "description_of_products": "LED lamps",
    }
    assert "ocean_booking" not in body


def test_refs_and_customs_come_from_defaults_when_the_row_is_blank() -> None:
    defaults = BookingDefaults(
        shipper_entity_ref="s", consignee_entity_ref="c", origin_address_ref="o",
        destination_address_ref="d", wants_export_customs_service=True,
        wants_import_customs_service=True,
    )
    blank = booking(shipper_entity_ref=None, origin_location_ref=None,
                    destination_location_ref=None, wants_import_customs=False)
    body = booking_body(blank, defaults)
    assert (body["shipper_entity_ref"], body["consignee_entity_ref"],
            body["origin_address_ref"], body["destination_address_ref"]) == ("s", "c", "o", "d")
    assert body["wants_export_customs_service"] is True
    assert body["wants_import_customs_service"] is False  # the row's own "no" wins


def test_the_schema_check_catches_a_missing_required_field() -> None:
    # corrections.yaml touches read models only (Shipment, refs, ids); none of these schemas.
    body = booking_body(KINDS["ocean FCL"], DEFAULTS)
    del body["ocean_booking"]["is_lcl"]
    with pytest.raises(jsonschema.ValidationError, match="is_lcl"):
        validate(body)
