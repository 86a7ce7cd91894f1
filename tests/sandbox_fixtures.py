"""Request bodies the sandbox accepts, for tests to copy and spoil one field at a time."""

from __future__ import annotations

import copy
from typing import Any


def po_body(name: str = "PO-1001", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "status": "open",
        "buyer": {"name": "Acme Imports Inc", "ref": "acme-us", "country_code": "US"},
        "seller": {"name": "Shenzhen Bright Lights Co Ltd", "ref": "sup-shenzhen-lights",
                   "country_code": "CN"},
        "incoterm": "FOB",
        "transportation_mode": "ocean",
        "cargo_ready_date": "2026-03-01",
        "must_arrive_date": "2026-04-15",
        "origin_port_loc_code": "CNYTN",
        "destination_port_loc_code": "USLAX",
        "origin_address_ref": "loc-shenzhen-factory",
        "destination_address_ref": "loc-la-dc",
        "memo": "first order",
        "metadata": {"department": ["lighting"]},
        "line_items": [
            {"line_item_number": 1, "item_key": "LAMP-001",
             "product": {"sku": "LAMP-001", "name": "Desk lamp"},
             "units": 500, "unit_of_measure": "PCS",
             "unit_cost": {"amount": "12.50", "currency_code": "USD"},
             "hs_codes": [{"code": "9405.20", "country_code": "US"}]},
            {"line_item_number": 2, "item_key": "BULB-002",
             "product": {"sku": "BULB-002", "name": "LED bulb"},
             "units": 2000, "unit_of_measure": "PCS",
             "unit_cost": {"amount": "0.8", "currency_code": "USD"},
             "hs_codes": []},
        ],
    }
    body.update(changes)
    return body


def _cargo() -> dict[str, Any]:
    return {
        "weight": {"value": 8200, "unit": "kg"},
        "volume": {"value": 60, "unit": "cbm"},
        "shipping_units": [{"count": 20, "unit_type": "pallet", "atomic_count": 400}],
        "contains_hazmat": False, "contains_magnets": False,
        "contains_other_dangerous_goods": False, "contains_li_ion": False,
        "contains_non_li_ion_battery": False,
    }


_CHINESE_LAMPS = {"description": "Desk lamps", "hs_code": "9405.20",
                  "description_for_export_customs": "台灯",
                  "description_for_export_customs_locale": "zh_CN"}


def ocean_fcl_booking(name: str = "BK-FCL-1") -> dict[str, Any]:
    return {
        "name": name,
        "shipper_entity_ref": "sup-shenzhen-lights",
        "consignee_entity_ref": "acme-us",
        "origin_address_ref": "loc-shenzhen-factory",
        "destination_address_ref": "loc-la-dc",
        "cargo_ready_date": "2026-03-01",
        "wants_export_customs_service": False,
        "wants_import_customs_service": True,
        "ocean_booking": {
            "is_lcl": False,
            "container_counts": {"forty_ft_hc": 2},
            "incoterm": "FOB",
            "wants_pickup_service": False,
            "wants_delivery_service": True,
            "origin_port_loc_code": "CNYTN",
            "destination_port_loc_code": "USLAX",
            "product_descriptions": [dict(_CHINESE_LAMPS)],
        },
        "cargo": _cargo(),
        "metadata": {"purchase_order": ["PO-1001"]},
    }


def ocean_lcl_booking(name: str = "BK-LCL-1") -> dict[str, Any]:
    return {
        "name": name,
        "shipper_entity_ref": "sup-hcmc-apparel",
        "consignee_entity_ref": "self",
        "origin_address_ref": "loc-hcmc-factory",
        "cargo_ready_date": "2026-03-05",
        "wants_export_customs_service": True,
        "ocean_booking": {
            "is_lcl": True,
            "incoterm": "FCA",
            "wants_pickup_service": True,
            "product_descriptions": [{"description": "Cotton shirts", "hs_code": "6205.20"}],
        },
        "cargo": {**_cargo(), "shipping_units": [{"count": 40, "unit_type": "carton"}]},
    }


def air_booking(name: str = "BK-AIR-1") -> dict[str, Any]:
    return {
        "name": name,
        "shipper_entity_ref": "sup-chennai-textiles",
        "consignee_entity_ref": "acme-us",
        "origin_address_ref": "loc-chennai-mill",
        "destination_address_ref": "loc-chicago-dc",
        "cargo_ready_date": "2026-03-02",
        "wants_export_customs_service": False,
        "air_booking": {
            "incoterm": "EXW",
            "wants_pickup_service": True,
            "wants_delivery_service": True,
            "destination_port_iata_code": "ORD",
            "product_descriptions": [{"description": "Silk scarves", "hs_code": "6214.10"}],
        },
        "cargo": {
            **_cargo(),
            "weight": None, "volume": None,
            "shipping_units": [{"count": 3, "unit_type": "carton",
                                "weight": {"value": 40, "unit": "kg"},
                                "volume": {"value": 0.4, "unit": "cbm"}}],
        },
    }


def trucking_booking(name: str = "BK-TRUCK-1") -> dict[str, Any]:
    return {
        "name": name,
        "shipper_entity_ref": "acme-us",
        "consignee_entity_ref": "acme-us",
        "origin_address_ref": "loc-la-dc",
        "destination_address_ref": "loc-chicago-dc",
        "cargo_ready_date": "2026-03-03",
        "wants_export_customs_service": False,
        "trucking_booking": {"is_ltl": True, "payment_terms": "prepaid",
                             "description_of_products": "Desk lamps"},
        "cargo": _cargo(),
    }


def spoiled(body: dict[str, Any], path: str, value: Any = None, *, delete: bool = True
            ) -> dict[str, Any]:
    """A deep copy of ``body`` with the dotted ``path`` removed (or set to ``value``)."""
    out = copy.deepcopy(body)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if delete and value is None:
        if isinstance(node, list):
            del node[int(last)]
        else:
            node.pop(last, None)
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def company_entity_body(ref: str = "sup-dongguan-toys", **changes: Any) -> dict[str, Any]:
    """A ``CreateCompanyEntity`` body as Flexport's document shows it."""
    body: dict[str, Any] = {
        "name": "Dongguan Toys Co Ltd", "ref": ref, "company_ref": ref,
        "mailing_address": {"street_address": "8 Humen Rd", "city": "Dongguan",
                            "state": "GD", "zip": "523900", "country_code": "CN"},
        "vat_numbers": [{"country_code": "CN", "number": "CN 91441900"}],
    }
    return {**body, **changes}


def location_body(company_id: str, ref: str = "loc-dongguan-factory",
                  **changes: Any) -> dict[str, Any]:
    """A ``CreateLocation`` body for the entity with ``company_id``."""
    body: dict[str, Any] = {
        "name": "Dongguan Toys factory", "ref": ref, "company_id": company_id,
        "address": {"street_address": "12 Chang'an Industrial Park", "city": "Dongguan",
                    "country_code": "CN", "unlocode": "CNDGG"},
    }
    return {**body, **changes}
