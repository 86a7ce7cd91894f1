"""Checks an official ``CreateBooking`` body and normalises it for storage.

Order of refusals: missing or mistyped fields and the conditional rules that need
no lookup (400), unknown entity or location refs (400), unknown ports (400), then
the mainland-China export description rule (400), which needs the resolved origin.
Sandbox choices: ``container_counts`` is required only for FCL (``is_lcl`` false);
``self`` names the account's own entity; the duplicate-name check (409) is the store's.
"""

from __future__ import annotations

from typing import Any

from bulkpo.sandbox import fields as f
from bulkpo.sandbox.fields import Refusal
from bulkpo.sandbox.network import NetworkRefs
from bulkpo.sandbox.ports import US_CBP_PORT_CODES, airport_by_iata, known_port

MODES = {"ocean_booking": "ocean", "air_booking": "air", "trucking_booking": "truck"}
UNIT_TYPES = ("bag", "bale", "barrel", "carton", "crate", "package", "pallet", "roll")
CONTAINS_FLAGS = (
    "contains_hazmat", "contains_magnets", "contains_other_dangerous_goods",
    "contains_li_ion", "contains_non_li_ion_battery",
)
LI_ION_PACKING = (
    "packed_loose", "packed_with_equipment", "contained_in_equipment",
    "contained_in_battery_powered_vehicle", "contained_in_battery_powered_vehicles",
)
CONTAINER_SIZES = ("twenty_ft", "forty_ft", "forty_ft_hc", "forty_five_ft_hc")
_PORT_SUFFIXES = ("loc_code", "us_cbp_port_code", "iata_code", "icao_code")


def parse_booking(body: object, refs: NetworkRefs) -> dict[str, Any]:
    """The stored form of a booking: the request's fields, checked, with ports resolved."""
    if not isinstance(body, dict):
        raise f.invalid("body", "a JSON object", type(body).__name__)
    out: dict[str, Any] = {
        "name": f.text(body, "name", "name", required=True),
        "shipper_entity_ref": f.text(body, "shipper_entity_ref", "shipper_entity_ref",
                                     required=True),
        "consignee_entity_ref": f.text(body, "consignee_entity_ref", "consignee_entity_ref",
                                       required=True),
        "origin_address_ref": f.text(body, "origin_address_ref", "origin_address_ref",
                                     required=True),
        "destination_address_ref": f.text(body, "destination_address_ref",
                                          "destination_address_ref", required=False),
        "cargo_ready_date": f.date(body, "cargo_ready_date", "cargo_ready_date", required=True),
        "delivery_date": f.date(body, "delivery_date", "delivery_date", required=False),
        "wants_export_customs_service": f.flag(body, "wants_export_customs_service",
                                               "wants_export_customs_service", required=True),
        "wants_import_customs_service": f.flag(body, "wants_import_customs_service",
                                               "wants_import_customs_service", required=False),
        "notify_party": f.text(body, "notify_party", "notify_party", required=False),
        "special_instructions": f.text(body, "special_instructions", "special_instructions",
                                       required=False),
        "metadata": f.metadata(body, "metadata", "metadata"),
    }
    cargo = f.obj(body, "cargo", "cargo", required=True)
    assert cargo is not None
    out["cargo"] = _cargo(cargo)

    given = [key for key in MODES if body.get(key) is not None]
    if not given:
        raise Refusal(400, "missing_field",
                      "ocean_booking is required (or air_booking or trucking_booking)")
    if len(given) > 1:
        raise f.invalid("ocean_booking/air_booking/trucking_booking", "exactly one",
                        ", ".join(given))
    mode_key = given[0]
    detail = f.obj(body, mode_key, mode_key, required=True)
    assert detail is not None
    out["mode_key"] = mode_key
    out["transportation_mode"] = MODES[mode_key]
    if mode_key == "trucking_booking":
        out["detail"] = _trucking(detail)
        if out["destination_address_ref"] is None:
            raise f.missing("destination_address_ref")
    else:
        out["detail"] = _freight(detail, mode_key)
        if out["detail"]["wants_delivery_service"] and out["destination_address_ref"] is None:
            raise f.missing("destination_address_ref")

    for key in ("shipper_entity_ref", "consignee_entity_ref"):
        if not refs.entity_exists(out[key]):
            raise Refusal(400, "unknown_entity_ref",
                          f"{key} {out[key]!r} is not a company entity ref")
    countries = {}
    for key in ("origin_address_ref", "destination_address_ref"):
        if out[key] is not None:
            countries[key] = refs.location_country(out[key])
            if countries[key] is None:
                raise Refusal(400, "unknown_location_ref",
                              f"{key} {out[key]!r} is not a location ref")

    if mode_key != "trucking_booking":
        origin = _resolve_port(detail, mode_key, "origin")
        destination = _resolve_port(detail, mode_key, "destination")
        out["detail"]["origin_port"] = origin
        out["detail"]["destination_port"] = destination
        origin_country = (origin or {}).get("country_code")
        if "CN" in (origin_country, countries.get("origin_address_ref")):
            _check_chinese_descriptions(out["detail"]["product_descriptions"], mode_key)
    return out


def _freight(detail: dict[str, Any], key: str) -> dict[str, Any]:
    """``ocean_booking`` or ``air_booking``."""
    out: dict[str, Any] = {}
    if key == "ocean_booking":
        out["is_lcl"] = f.flag(detail, "is_lcl", f"{key}.is_lcl", required=True)
        counts = f.obj(detail, "container_counts", f"{key}.container_counts",
                       required=not out["is_lcl"])
        out["container_counts"] = {
            size: f.count(counts or {}, size, f"{key}.container_counts.{size}", required=False,
                          minimum=0)
            for size in CONTAINER_SIZES
        }
        if not out["is_lcl"] and not any(out["container_counts"].values()):
            raise f.invalid(f"{key}.container_counts", "at least one container for FCL", counts)
    out["incoterm"] = f.choice(detail, "incoterm", f"{key}.incoterm", f.INCOTERMS, required=True)
    out["wants_pickup_service"] = f.flag(detail, "wants_pickup_service",
                                         f"{key}.wants_pickup_service", required=True)
    out["wants_delivery_service"] = f.flag(detail, "wants_delivery_service",
                                           f"{key}.wants_delivery_service", required=False)
    descriptions = detail.get("product_descriptions")
    if not descriptions:
        raise f.missing(f"{key}.product_descriptions")
    if not isinstance(descriptions, list):
        raise f.invalid(f"{key}.product_descriptions", "a list", descriptions)
    out["product_descriptions"] = [
        _product_description(item, f"{key}.product_descriptions[{i}]")
        for i, item in enumerate(descriptions)
    ]
    if not out["wants_pickup_service"] and not any(
        detail.get(f"origin_port_{suffix}") for suffix in _PORT_SUFFIXES
    ):
        raise Refusal(400, "missing_field",
                      f"{key}.origin_port_loc_code is required when wants_pickup_service "
                      "is false")
    return out


def _product_description(item: object, path: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise f.invalid(path, "an object", item)
    hs_code = item.get("hs_code")
    if isinstance(hs_code, int) and not isinstance(hs_code, bool):
        hs_code = str(hs_code)
        item = {**item, "hs_code": hs_code}
    return {
        "description": f.text(item, "description", f"{path}.description", required=True),
        "hs_code": f.text(item, "hs_code", f"{path}.hs_code", required=True),
        "description_for_export_customs": f.text(
            item, "description_for_export_customs", f"{path}.description_for_export_customs",
            required=False),
        "description_for_export_customs_locale": f.text(
            item, "description_for_export_customs_locale",
            f"{path}.description_for_export_customs_locale", required=False),
    }


def _check_chinese_descriptions(descriptions: list[dict[str, Any]], key: str) -> None:
    for i, item in enumerate(descriptions):
        path = f"{key}.product_descriptions[{i}]"
        if not item["description_for_export_customs"]:
            raise Refusal(400, "missing_field",
                          f"{path}.description_for_export_customs is required when the origin "
                          "is in mainland China")
        locale = item["description_for_export_customs_locale"]
        if locale is None:
            raise Refusal(400, "missing_field",
                          f"{path}.description_for_export_customs_locale is required when the "
                          "origin is in mainland China")
        if locale != "zh_CN":
            raise f.invalid(f"{path}.description_for_export_customs_locale", "zh_CN", locale)


def _trucking(detail: dict[str, Any]) -> dict[str, Any]:
    key = "trucking_booking"
    return {
        "is_ltl": f.flag(detail, "is_ltl", f"{key}.is_ltl", required=True),
        "payment_terms": f.choice(detail, "payment_terms", f"{key}.payment_terms",
                                  ("collect", "prepaid"), required=True),
        "description_of_products": f.text(detail, "description_of_products",
                                          f"{key}.description_of_products", required=False),
    }


def _cargo(cargo: dict[str, Any]) -> dict[str, Any]:
    units = cargo.get("shipping_units")
    if not units:
        raise f.missing("cargo.shipping_units")
    if not isinstance(units, list):
        raise f.invalid("cargo.shipping_units", "a list", units)
    out: dict[str, Any] = {
        "weight": _quantity(cargo, "weight", "cargo.weight", ("kg", "lbs")),
        "volume": _quantity(cargo, "volume", "cargo.volume", ("cbm", "cbft")),
        "marks_and_numbers": f.text(cargo, "marks_and_numbers", "cargo.marks_and_numbers",
                                    required=False),
        "shipping_units": [_shipping_unit(u, f"cargo.shipping_units[{i}]")
                           for i, u in enumerate(units)],
    }
    for name in CONTAINS_FLAGS:
        out[name] = f.flag(cargo, name, f"cargo.{name}", required=True)
    packing = cargo.get("lithium_batteries_packing_types")
    if out["contains_li_ion"]:
        if not packing:
            raise Refusal(400, "missing_field", "cargo.lithium_batteries_packing_types is "
                          "required when contains_li_ion is true")
        if not isinstance(packing, list) or any(p not in LI_ION_PACKING for p in packing):
            raise f.invalid("cargo.lithium_batteries_packing_types",
                            "a list of " + ", ".join(LI_ION_PACKING), packing)
    out["lithium_batteries_packing_types"] = packing if out["contains_li_ion"] else None
    # Detailed cargo may carry weight and volume per unit instead of on the cargo.
    for quantity in ("weight", "volume"):
        if out[quantity] is None and any(u[quantity] is None for u in out["shipping_units"]):
            raise Refusal(400, "missing_field",
                          f"cargo.{quantity} is required (on the cargo or on every shipping "
                          "unit)")
    return out


def _shipping_unit(unit: object, path: str) -> dict[str, Any]:
    if not isinstance(unit, dict):
        raise f.invalid(path, "an object", unit)
    unit_type = f.choice(unit, "unit_type", f"{path}.unit_type", UNIT_TYPES, required=True)
    return {
        "name": f.text(unit, "name", f"{path}.name", required=False),
        "count": f.count(unit, "count", f"{path}.count", required=True),
        "atomic_count": f.count(unit, "atomic_count", f"{path}.atomic_count",
                                required=unit_type == "pallet"),
        "unit_type": unit_type,
        "weight": _quantity(unit, "weight", f"{path}.weight", ("kg", "lbs")),
        "volume": _quantity(unit, "volume", f"{path}.volume", ("cbm", "cbft")),
        **{side: _quantity(unit, side, f"{path}.{side}", ("cm", "in"))
           for side in ("height", "length", "width")},
    }


def _quantity(body: dict[str, Any], key: str, path: str, units: tuple[str, ...]
              ) -> dict[str, Any] | None:
    value = f.obj(body, key, path, required=False)
    if value is None:
        return None
    return {
        "value": f.number(value, "value", f"{path}.value", required=True),
        "unit": f.choice(value, "unit", f"{path}.unit", units, required=True),
    }


def _resolve_port(detail: dict[str, Any], key: str, side: str) -> dict[str, Any] | None:
    """The port named by one of the ``{side}_port_*`` fields, as stored port facts."""
    for suffix in _PORT_SUFFIXES:
        field = f"{side}_port_{suffix}"
        code = f.text(detail, field, f"{key}.{field}", required=False)
        if not code:
            continue
        code = code.strip().upper()
        port = None
        if suffix == "loc_code":
            port = known_port(code)
        elif suffix == "us_cbp_port_code":
            unlocode = US_CBP_PORT_CODES.get(code)
            port = known_port(unlocode) if unlocode else None
        elif suffix == "iata_code":
            port = airport_by_iata(code) if key == "air_booking" else None
        else:
            # No ICAO list is available offline: a four-letter code is taken on trust.
            if len(code) == 4 and code.isalpha():
                return {"unlocode": None, "name": code, "country_code": None,
                        "icao_code": code, "iata_code": None, "us_cbp_port_code": None}
        if port is None:
            raise Refusal(400, "invalid_port", f"{key}.{field} {code!r} is not a known port "
                          "(expected a UN/LOCODE such as CNSHA, or the code its field names)")
        return {
            "unlocode": port.unlocode,
            "name": port.name,
            "country_code": port.country_code,
            "iata_code": code if suffix == "iata_code" else port.iata_code,
            "icao_code": None,
            "us_cbp_port_code": code if suffix == "us_cbp_port_code" else None,
        }
    return None


# -- booking amendments (POST /booking_amendments, v2 CreateBookingAmendment) --------

AMENDMENT_FIELDS = (
    "new_name", "new_container_counts", "new_wants_pickup_service", "new_origin_address_ref",
    "new_origin_port_us_cbp_port_code", "new_origin_port_loc_code",
    "new_destination_port_us_cbp_port_code", "new_destination_port_loc_code",
    "new_cargo_ready_date", "new_product_descriptions", "new_cargo", "new_metadata",
)


def parse_amendment(body: object, refs: NetworkRefs, booking: dict[str, Any]) -> dict[str, Any]:
    """The changes a ``CreateBookingAmendment`` body asks of ``booking`` (its stored form).

    Sandbox choices: a field the v2 document does not list, or a body asking no
    change, is a 400 (a client sending more would otherwise be silently ignored);
    a field that does not apply to the booking's mode (containers of an air booking)
    is a 400 as well.
    """
    if not isinstance(body, dict):
        raise f.invalid("body", "a JSON object", type(body).__name__)
    unknown = sorted(set(body) - {"booking_id", *AMENDMENT_FIELDS})
    if unknown:
        raise Refusal(400, "invalid_field",
                      f"{', '.join(unknown)}: not a field of a booking amendment")
    changes: dict[str, Any] = {}
    mode_key = booking["mode_key"]
    if (name := f.text(body, "new_name", "new_name", required=False)) is not None:
        changes["name"] = name
    counts = f.obj(body, "new_container_counts", "new_container_counts", required=False)
    if counts is not None:
        if mode_key != "ocean_booking":
            raise f.invalid("new_container_counts", "an ocean booking", mode_key)
        changes["container_counts"] = {
            size: f.count(counts, size, f"new_container_counts.{size}", required=False,
                          minimum=0)
            for size in CONTAINER_SIZES
        }
    pickup = f.flag(body, "new_wants_pickup_service", "new_wants_pickup_service",
                    required=False)
    if pickup is not None:
        if mode_key == "trucking_booking":
            raise f.invalid("new_wants_pickup_service", "an ocean or air booking", mode_key)
        changes["wants_pickup_service"] = pickup
    ref = f.text(body, "new_origin_address_ref", "new_origin_address_ref", required=False)
    if ref is not None:
        if refs.location_country(ref) is None:
            raise Refusal(400, "unknown_location_ref",
                          f"new_origin_address_ref {ref!r} is not a location ref")
        changes["origin_address_ref"] = ref
    for side in ("origin", "destination"):
        given = {suffix: body.get(f"new_{side}_port_{suffix}")
                 for suffix in ("loc_code", "us_cbp_port_code")
                 if body.get(f"new_{side}_port_{suffix}") is not None}
        if not given:
            continue
        if len(given) > 1:
            raise f.invalid(f"new_{side}_port_loc_code/new_{side}_port_us_cbp_port_code",
                            "at most one", ", ".join(given))
        if mode_key == "trucking_booking":
            raise f.invalid(f"new_{side}_port_*", "an ocean or air booking", mode_key)
        detail = {f"{side}_port_{suffix}": value for suffix, value in given.items()}
        changes[f"{side}_port"] = _resolve_port(detail, mode_key, side)
    date = f.date(body, "new_cargo_ready_date", "new_cargo_ready_date", required=False)
    if date is not None:
        changes["cargo_ready_date"] = date
    descriptions = body.get("new_product_descriptions")
    if descriptions is not None:
        if not isinstance(descriptions, list) or not descriptions:
            raise f.invalid("new_product_descriptions", "a non-empty list", descriptions)
        if mode_key == "trucking_booking":
            raise f.invalid("new_product_descriptions", "an ocean or air booking", mode_key)
        changes["product_descriptions"] = [
            _product_description(item, f"new_product_descriptions[{i}]")
            for i, item in enumerate(descriptions)
        ]
    cargo = f.obj(body, "new_cargo", "new_cargo", required=False)
    if cargo is not None:
        changes["cargo"] = _cargo(cargo)
    if body.get("new_metadata") is not None:
        changes["metadata"] = f.metadata(body, "new_metadata", "new_metadata")
    if not changes:
        raise Refusal(400, "missing_field",
                      "a booking amendment asks at least one change (new_name, new_cargo...)")
    return changes


def apply_amendment(booking: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``booking`` (its stored form) with an amendment's changes applied."""
    out = {**booking, "detail": dict(booking["detail"])}
    for key, value in changes.items():
        if key in ("container_counts", "wants_pickup_service", "origin_port",
                   "destination_port", "product_descriptions"):
            out["detail"][key] = value
        else:
            out[key] = value
    return out
