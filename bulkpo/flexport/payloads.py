"""Domain objects -> request bodies, and read models -> the same shape for comparing.

The PO write body follows bulkpo's contract for ``POST /purchase_orders`` at
``Flexport-Version: 3`` (Flexport publishes only part of it): name, status,
priority and order_class (the tutorial's first fields), buyer/seller
``{name, ref, country_code}``, incoterm, transportation mode, dates,
``*_port_loc_code``, ``*_address_ref``, memo, metadata and line items.
It is built here and only here, so it can follow the API as Flexport publishes it.

The booking body is the official v2 ``CreateBooking`` (reference §7.4): one of
``ocean_booking`` / ``air_booking`` / ``trucking_booking``, ``cargo``, product
descriptions and the entity and location refs, with the ``[bookings]`` defaults
filling what the row leaves empty.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bulkpo.config import BookingDefaults
from bulkpo.domain import Booking, LineItem, Party, PurchaseOrder

_DECIMAL = re.compile(r"-?\d+(\.\d+)?\Z")

PO_FIELDS = (
    "name",
    "status",
    "priority",
    "order_class",
    "buyer",
    "seller",
    "incoterm",
    "transportation_mode",
    "cargo_ready_date",
    "must_arrive_date",
    "origin_port_loc_code",
    "destination_port_loc_code",
    "origin_address_ref",
    "destination_address_ref",
    "memo",
    "metadata",
    "line_items",
)


# ASSUMPTION (bulkpo's, not Flexport's): the party shape of a PO write. The v3
# tutorial shows a body starting {"name", "status", "priority", "order_class",
# "parties": ...} and publishes no more; bulkpo sends buyer and seller as
# {name, ref, country_code}, the shape of the v2 read model. When Flexport publishes
# the write shape (likely parties: [{role, external_ref}]), change _party and
# _party_from_read, and nothing else.
def _party(party: Party) -> dict[str, Any] | None:
    if party.name is None and party.ref is None and party.country is None:
        return None
    return {"name": party.name, "ref": party.ref, "country_code": party.country}


def _line(line: LineItem, repeated: set[str], own_dates: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "line_item_number": line.line_number,
        # item_key is unique within the PO: a SKU on two lines, or a line with no SKU,
        # is told apart by its line number.
        "item_key": _item_key(line, repeated),
        "product": {k: v for k, v in (("sku", line.sku), ("name", line.product_name)) if v},
        "units": line.quantity,
        "unit_of_measure": line.unit_of_measure,
    }
    if line.unit_cost is not None:
        body["unit_cost"] = {
            "amount": _amount(line.unit_cost),
            "currency_code": line.currency or "USD",
        }
    if own_dates and line.must_arrive_date is not None:
        body["must_arrive_date"] = line.must_arrive_date.isoformat()
    if line.hs_code:
        body["hs_codes"] = [{"code": line.hs_code, "country_code": "US"}]
    return body


def _item_key(line: LineItem, repeated: set[str]) -> str:
    if line.sku is None:
        return str(line.line_number)
    return f"{line.sku}-{line.line_number}" if line.sku in repeated else line.sku


def _amount(value: Decimal) -> str:
    """Money as the API writes it: a decimal string with at least two decimals."""
    text = format(value, "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def purchase_order_body(po: PurchaseOrder) -> dict[str, Any]:
    """The ``POST /purchase_orders`` body for a validated PO (nulls left out)."""
    repeated = _repeated_skus(po)
    body: dict[str, Any] = {
        "name": po.name,
        "status": po.status,
        "priority": po.priority,
        "order_class": po.order_class,
        "buyer": _party(po.buyer),
        "seller": _party(po.seller),
        "incoterm": po.incoterm,
        "transportation_mode": po.transportation_mode,
        "cargo_ready_date": po.cargo_ready_date.isoformat() if po.cargo_ready_date else None,
        "must_arrive_date": po.must_arrive_date.isoformat() if po.must_arrive_date else None,
        "origin_port_loc_code": po.origin_port,
        "destination_port_loc_code": po.destination_port,
        "origin_address_ref": po.origin_address_ref,
        "destination_address_ref": po.destination_address_ref,
        "memo": po.memo,
        "metadata": po.metadata or None,
        "line_items": [
            _line(line, repeated, po.must_arrive_date is None) for line in po.lines
        ],
    }
    return {key: value for key, value in body.items() if value is not None}


def _repeated_skus(po: PurchaseOrder) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for line in po.lines:
        if line.sku is not None:
            (repeated if line.sku in seen else seen).add(line.sku)
    return repeated


def _place_code(place: Any) -> str | None:
    if not isinstance(place, Mapping):
        return None
    address = place.get("address")
    if isinstance(address, Mapping) and address.get("unlocode"):
        return str(address["unlocode"])
    code = place.get("unlocode") or place.get("code")
    return str(code) if code else None


def _address_ref(address: Any) -> str | None:
    if isinstance(address, Mapping) and address.get("ref"):
        return str(address["ref"])
    return None


def _party_from_read(company: Any) -> dict[str, Any] | None:
    """A read model's buyer or seller in the write shape :func:`_party` assumes."""
    if not isinstance(company, Mapping):
        return None
    return {
        "name": company.get("name"),
        "ref": company.get("ref"),
        "country_code": company.get("country_code"),
    }


LINE_READ_FIELDS = (
    "line_item_number",
    "item_key",
    "product",
    "units",
    "unit_of_measure",
    "unit_cost",
    "hs_codes",
)
"""The fields of a line item read model that :func:`purchase_order_from_read` uses."""


def _line_from_read(line: Mapping[str, Any]) -> dict[str, Any]:
    product = line.get("product") or {}
    body: dict[str, Any] = {
        "line_item_number": line.get("line_item_number"),
        "item_key": line.get("item_key"),
        "product": {"sku": product.get("sku"), "name": product.get("name")},
        "units": line.get("units"),
        "unit_of_measure": line.get("unit_of_measure"),
    }
    cost = line.get("unit_cost")
    if isinstance(cost, Mapping) and cost.get("amount") is not None:
        body["unit_cost"] = {
            "amount": str(cost["amount"]),
            "currency_code": cost.get("currency_code"),
        }
    codes = line.get("hs_codes") or []
    if codes and isinstance(codes[0], Mapping) and codes[0].get("code"):
        body["hs_codes"] = [
            {"code": codes[0]["code"], "country_code": codes[0].get("country_code") or "US"}
        ]
    return body


PO_READ_FIELDS = (
    "name",
    "status",
    "priority",
    "order_class",
    "buyer",
    "seller",
    "incoterm",
    "transportation_mode",
    "cargo_ready_date",
    "must_arrive_date",
    "origin_port",
    "destination_port",
    "origin_address",
    "destination_address",
    "memo",
    "metadata",
)
"""The fields of a PO read model that :func:`purchase_order_from_read` uses."""


def purchase_order_from_read(
    po: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A PO read model (and its line items) in the shape of a write body."""
    body: dict[str, Any] = {
        "name": po.get("name"),
        "status": po.get("status"),
        "priority": po.get("priority"),
        "order_class": po.get("order_class"),
        "buyer": _party_from_read(po.get("buyer")),
        "seller": _party_from_read(po.get("seller")),
        "incoterm": po.get("incoterm"),
        "transportation_mode": po.get("transportation_mode"),
        "cargo_ready_date": _text(po.get("cargo_ready_date")),
        "must_arrive_date": _text(po.get("must_arrive_date")),
        "origin_port_loc_code": _place_code(po.get("origin_port")),
        "destination_port_loc_code": _place_code(po.get("destination_port")),
        "origin_address_ref": _address_ref(po.get("origin_address")),
        "destination_address_ref": _address_ref(po.get("destination_address")),
        "memo": po.get("memo"),
        "metadata": po.get("metadata") or None,
        "line_items": sorted(
            (_line_from_read(line) for line in lines),
            key=lambda item: item.get("line_item_number") or 0,
        ),
    }
    return body


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _same(desired: Any, current: Any) -> bool:
    """Equal for the user's purposes: a value left empty in the sheet matches anything."""
    if desired is None:
        return True
    if isinstance(desired, Mapping):
        if not isinstance(current, Mapping):
            return all(value is None for value in desired.values())
        return all(_same(value, current.get(key)) for key, value in desired.items())
    if isinstance(desired, list):
        if not isinstance(current, list) or len(desired) != len(current):
            return False
        return all(_same(d, c) for d, c in zip(desired, current, strict=True))
    if (
        isinstance(desired, str)
        and isinstance(current, str)
        and _DECIMAL.match(desired)
        and _DECIMAL.match(current)
    ):
        # "12.5" and "12.50" are the same money
        return Decimal(desired) == Decimal(current)
    return bool(desired == current)


def purchase_order_changes(
    desired: Mapping[str, Any], current: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields of ``desired`` that differ from ``current`` ({} = equal).

    Line items are compared as a whole list (by line number).
    """
    changes: dict[str, Any] = {}
    for key in PO_FIELDS:
        if key == "name" or key not in desired:
            continue
        want = desired[key]
        if key == "line_items":
            want = sorted(want, key=lambda item: item.get("line_item_number") or 0)
        if not _same(want, current.get(key)):
            changes[key] = desired[key]
    return changes


def _revised(desired: Any, current: Any) -> Any:
    """``desired`` with what it leaves empty taken from ``current`` (dicts merged key by key)."""
    if desired is None:
        return current
    if isinstance(desired, Mapping) and isinstance(current, Mapping):
        merged = {
            key: _revised(desired.get(key), current.get(key))
            for key in dict.fromkeys([*current, *desired])
        }
        return {key: value for key, value in merged.items() if value is not None}
    return desired


def purchase_order_revision(
    desired: Mapping[str, Any], current: Mapping[str, Any]
) -> dict[str, Any]:
    """The complete revised PO for ``POST /purchase_orders/{id}`` (nulls left out).

    A revision replaces the whole PO (the v3 changelog documents no partial
    update), so it carries every field: the sheet's values, and Flexport's current
    ones where the sheet leaves a cell empty, which a partial body would erase.
    Line items go as the sheet has them: the revised PO has exactly those lines.
    """
    body = {key: _revised(desired.get(key), current.get(key)) for key in PO_FIELDS}
    body["name"] = desired["name"]
    body["line_items"] = list(desired.get("line_items") or current.get("line_items") or [])
    return {key: value for key, value in body.items() if value is not None}


def body_digest(body: Mapping[str, Any]) -> str:
    """A stable fingerprint of a request body (for the journal)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- bookings

MAINLAND_CHINA = "CN"  # Hong Kong (HK), Macau (MO) and Taiwan (TW) have their own codes
EXPORT_CUSTOMS_LOCALE = "zh_CN"


def _number(value: Decimal) -> int | float:
    """A JSON number: the schema's ``value`` is a number, not a string."""
    return int(value) if value == value.to_integral_value() else float(value)


def _port_fields(side: str, code: str | None, *, air: bool) -> dict[str, str]:
    """``{side}_port_loc_code``, or ``{side}_port_iata_code`` for a 3-letter airport code."""
    if not code:
        return {}
    code = code.strip().upper()
    if air and len(code) == 3:
        return {f"{side}_port_iata_code": code}
    return {f"{side}_port_loc_code": code}


def origin_country(booking: Booking) -> str | None:
    """The country of the origin port (UN/LOCODE prefix, or the IATA airport's country)."""
    code = (booking.origin_port or "").strip().upper()
    if len(code) == 5:
        return code[:2]
    if len(code) == 3:
        from bulkpo import ports  # the port list loads on first use only

        port = ports.lookup_iata(code)
        return port.country if port else None
    return None


def _product_descriptions(booking: Booking) -> list[dict[str, Any]]:
    item: dict[str, Any] = {
        "description": booking.product_description,
        "hs_code": booking.hs_code,
    }
    # Flexport wants the Chinese text for goods leaving mainland China; it may also
    # know the origin location is there when the port is not, so any text given goes.
    if booking.export_description_zh:
        item["description_for_export_customs"] = booking.export_description_zh
        item["description_for_export_customs_locale"] = EXPORT_CUSTOMS_LOCALE
    return [item]


def _cargo(booking: Booking) -> dict[str, Any]:
    cargo: dict[str, Any] = {}
    if booking.weight_kg is not None:
        cargo["weight"] = {"value": _number(booking.weight_kg), "unit": "kg"}
    if booking.volume_cbm is not None:
        cargo["volume"] = {"value": _number(booking.volume_cbm), "unit": "cbm"}
    units = booking.shipping_units
    if units is not None:
        unit: dict[str, Any] = {"count": units.count, "unit_type": units.unit_type}
        if units.atomic_count is not None:
            unit["atomic_count"] = units.atomic_count
        cargo["shipping_units"] = [unit]
    goods = booking.dangerous_goods
    cargo.update(
        contains_hazmat=goods.hazmat,
        contains_magnets=goods.magnets,
        contains_other_dangerous_goods=goods.other_dangerous_goods,
        contains_li_ion=goods.li_ion,
        contains_non_li_ion_battery=goods.non_li_ion_battery,
    )
    if goods.li_ion:
        cargo["lithium_batteries_packing_types"] = list(goods.li_ion_packing)
    return cargo


def _freight_detail(booking: Booking) -> dict[str, Any]:
    """``ocean_booking`` or ``air_booking``."""
    air = booking.freight_type == "air"
    detail: dict[str, Any] = {}
    if not air:
        counts = booking.containers
        # The schema requires container_counts even for LCL, where they are all zero.
        detail["is_lcl"] = booking.is_lcl
        detail["container_counts"] = {
            "twenty_ft": counts.twenty_ft,
            "forty_ft": counts.forty_ft,
            "forty_ft_hc": counts.forty_ft_hc,
            "forty_five_ft_hc": counts.forty_five_ft_hc,
        }
    detail["incoterm"] = booking.incoterm
    detail["wants_pickup_service"] = booking.wants_pickup
    detail["wants_delivery_service"] = booking.wants_delivery
    detail.update(_port_fields("origin", booking.origin_port, air=air))
    detail.update(_port_fields("destination", booking.destination_port, air=air))
    detail["product_descriptions"] = _product_descriptions(booking)
    return detail


def booking_body(booking: Booking, defaults: BookingDefaults) -> dict[str, Any]:
    """The ``POST /bookings`` body (``CreateBooking``) for a validated booking row.

    Refs and customs choices the row leaves empty come from ``defaults``; refs
    taken from the booking's POs are filled into ``booking`` before this is called.
    """

    def export_customs() -> bool:
        if booking.wants_export_customs is not None:
            return booking.wants_export_customs
        return defaults.wants_export_customs_service

    def import_customs() -> bool:
        if booking.wants_import_customs is not None:
            return booking.wants_import_customs
        return defaults.wants_import_customs_service

    body: dict[str, Any] = {
        "name": booking.name,
        "shipper_entity_ref": booking.shipper_entity_ref or defaults.shipper_entity_ref,
        "consignee_entity_ref": booking.consignee_entity_ref or defaults.consignee_entity_ref,
        "origin_address_ref": booking.origin_location_ref or defaults.origin_address_ref,
        "destination_address_ref": (
            booking.destination_location_ref or defaults.destination_address_ref
        ),
        "cargo_ready_date": booking.cargo_ready_date.isoformat(),
        "delivery_date": booking.delivery_date.isoformat() if booking.delivery_date else None,
        "wants_export_customs_service": export_customs(),
        "wants_import_customs_service": import_customs(),
        "cargo": _cargo(booking),
        "special_instructions": booking.special_instructions,
        "metadata": booking.metadata or None,
    }
    if booking.freight_type == "trucking":
        body["trucking_booking"] = {
            "is_ltl": booking.is_ltl,
            "payment_terms": booking.payment_terms or defaults.payment_terms,
            "description_of_products": booking.product_description,
        }
    else:
        body[f"{booking.freight_type}_booking"] = _freight_detail(booking)
    return {key: value for key, value in body.items() if value is not None}


# ---------------------------------------------------------------- booking amendments

_FREIGHT_KEYS = ("ocean_booking", "air_booking", "trucking_booking")

# What a CreateBookingAmendment (v2 document) can change: booking field -> new_* field.
_AMENDABLE = {
    "cargo_ready_date": "new_cargo_ready_date",
    "origin_address_ref": "new_origin_address_ref",
    "cargo": "new_cargo",
    "metadata": "new_metadata",
}
# ... and inside ocean_booking / air_booking.
_AMENDABLE_FREIGHT = {
    "container_counts": "new_container_counts",
    "wants_pickup_service": "new_wants_pickup_service",
    "origin_port_loc_code": "new_origin_port_loc_code",
    "destination_port_loc_code": "new_destination_port_loc_code",
    "product_descriptions": "new_product_descriptions",
}


def _ref_of(value: Any) -> str | None:
    return str(value["ref"]) if isinstance(value, Mapping) and value.get("ref") else None


def _port_codes(side: str, place: Any) -> dict[str, str | None]:
    """A read model's port as the create body names it (UN/LOCODE and IATA code)."""
    details = place.get("details") if isinstance(place, Mapping) else None
    iata = next((d.get("iata_code") for d in details or [] if isinstance(d, Mapping)
                 and d.get("iata_code")), None)
    return {f"{side}_port_loc_code": _place_code(place), f"{side}_port_iata_code": iata}


def _quantity_from_read(value: Any) -> Any:
    if not isinstance(value, Mapping) or value.get("value") is None:
        return value
    return {**value, "value": float(value["value"])}


def _cargo_from_read(cargo: Any) -> Any:
    if not isinstance(cargo, Mapping):
        return cargo
    units = [
        {**unit, "weight": _quantity_from_read(unit.get("weight")),
         "volume": _quantity_from_read(unit.get("volume"))}
        for unit in cargo.get("shipping_units") or [] if isinstance(unit, Mapping)
    ]
    return {**cargo, "weight": _quantity_from_read(cargo.get("weight")),
            "volume": _quantity_from_read(cargo.get("volume")), "shipping_units": units}


def _freight_from_read(key: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    if key == "trucking_booking":
        # Reads say is_ftl where the create body says is_ltl.
        is_ltl = detail.get("is_ltl")
        if is_ltl is None and detail.get("is_ftl") is not None:
            is_ltl = not detail["is_ftl"]
        return {"is_ltl": is_ltl, "payment_terms": detail.get("payment_terms"),
                "description_of_products": detail.get("description_of_products")}
    descriptions = []
    for item in detail.get("product_descriptions") or []:
        hs_code = item.get("hs_code")
        descriptions.append({
            "description": item.get("description"),
            "hs_code": hs_code.get("code") if isinstance(hs_code, Mapping) else hs_code,
            "description_for_export_customs": item.get("description_for_export_customs"),
            "description_for_export_customs_locale":
                item.get("description_for_export_customs_locale"),
        })
    counts = detail.get("container_counts")
    return {
        "is_lcl": detail.get("is_lcl"),
        "container_counts": (
            {size: counts.get(size) or 0 for size in
             ("twenty_ft", "forty_ft", "forty_ft_hc", "forty_five_ft_hc")}
            if isinstance(counts, Mapping) else None
        ),
        "incoterm": detail.get("incoterm"),
        "wants_pickup_service": detail.get("wants_pickup_service"),
        "wants_delivery_service": detail.get("wants_delivery_service"),
        **_port_codes("origin", detail.get("origin_port")),
        **_port_codes("destination", detail.get("destination_port")),
        "product_descriptions": descriptions,
    }


def booking_from_read(booking: Mapping[str, Any]) -> dict[str, Any]:
    """A booking read model in the shape :func:`booking_body` writes, for comparing."""
    body: dict[str, Any] = {
        "name": booking.get("name"),
        "shipper_entity_ref": _ref_of(booking.get("shipper_entity")),
        "consignee_entity_ref": _ref_of(booking.get("consignee_entity")),
        "origin_address_ref": _address_ref(booking.get("origin_address")),
        "destination_address_ref": _address_ref(booking.get("destination_address")),
        "cargo_ready_date": _text(booking.get("cargo_ready_date")),
        "delivery_date": _text(booking.get("delivery_date")),
        "wants_export_customs_service": booking.get("wants_export_customs_service"),
        "wants_import_customs_service": booking.get("wants_import_customs_service"),
        "cargo": _cargo_from_read(booking.get("cargo")),
        "special_instructions": booking.get("special_instructions"),
        "metadata": booking.get("metadata") or None,
    }
    for key in _FREIGHT_KEYS:
        detail = booking.get(key)
        if isinstance(detail, Mapping):
            body[key] = _freight_from_read(key, detail)
    return body


def _amendment_value(field: str, value: Any) -> Any:
    if field == "new_product_descriptions":
        # CreateBookingAmendmentHsCode has no locale: Chinese is the only one Flexport takes.
        return [
            {k: v for k, v in item.items() if k != "description_for_export_customs_locale"}
            for item in value
        ]
    return value


def booking_amendment(
    desired: Mapping[str, Any], current: Mapping[str, Any], booking_id: int
) -> tuple[dict[str, Any], list[str]]:
    """What ``desired`` (a :func:`booking_body`) changes of ``current`` (a
    :func:`booking_from_read`), as one ``CreateBookingAmendment`` body ({} = nothing an
    amendment can change), and the fields that differ but no amendment can change.

    Only the changed ``new_*`` fields go; the name is the booking's key, never changed.
    """
    amendment: dict[str, Any] = {}
    fixed: list[str] = []
    for key, want in desired.items():
        if key == "name" or key in _FREIGHT_KEYS or _same(want, current.get(key)):
            continue
        if key in _AMENDABLE:
            amendment[_AMENDABLE[key]] = _amendment_value(_AMENDABLE[key], want)
        else:
            fixed.append(key)
    mode = next((key for key in _FREIGHT_KEYS if key in desired), None)
    if mode is not None:
        held = current.get(mode)
        if not isinstance(held, Mapping):
            fixed.append(mode)  # the freight type
        else:
            for key, want in desired[mode].items():
                if _same(want, held.get(key)):
                    continue
                if key in _AMENDABLE_FREIGHT and mode != "trucking_booking":
                    field = _AMENDABLE_FREIGHT[key]
                    amendment[field] = _amendment_value(field, want)
                else:
                    fixed.append(f"{mode}.{key}")
    return ({"booking_id": booking_id, **amendment} if amendment else {}), fixed
