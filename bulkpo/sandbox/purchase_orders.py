"""Checks a PO write body (bulkpo's v3 PO contract) and normalises it for storage.

Order of refusals: missing or mistyped fields (400), unknown entity or location
refs (400), unknown ports (400). The duplicate-name check (409) needs the database
and is the store's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bulkpo.sandbox import fields as f
from bulkpo.sandbox.fields import Refusal
from bulkpo.sandbox.network import NetworkRefs
from bulkpo.sandbox.ports import known_port

PO_STATUSES = ("open", "closed", "cancelled")
PO_PRIORITIES = ("standard", "high")  # the v2 read model's enum
PO_ORDER_CLASSES = ("purchase_order",)  # the one value the v3 tutorial shows
_PORT_KEYS = ("origin_port_loc_code", "destination_port_loc_code")
_ADDRESS_KEYS = ("origin_address_ref", "destination_address_ref")


@dataclass
class PurchaseOrderWrite:
    """The PO-level fields a write sets, and the lines it replaces (None: keep them)."""

    fields: dict[str, Any]
    line_items: list[dict[str, Any]] | None


def parse_purchase_order(body: object, refs: NetworkRefs, *, partial: bool) -> PurchaseOrderWrite:
    """A create body (``partial=False``) or a PATCH body (only the present keys change)."""
    if not isinstance(body, dict):
        raise f.invalid("body", "a JSON object", type(body).__name__)
    out: dict[str, Any] = {}

    def present(key: str) -> bool:
        return not partial or key in body

    if present("name"):
        out["name"] = f.text(body, "name", "name", required=True)
    if present("status"):
        out["status"] = f.choice(body, "status", "status", PO_STATUSES, required=False) or "open"
    if present("priority"):
        out["priority"] = f.choice(body, "priority", "priority", PO_PRIORITIES, required=False)
    if present("order_class"):
        out["order_class"] = f.choice(body, "order_class", "order_class", PO_ORDER_CLASSES,
                                      required=False)
    for role in ("buyer", "seller"):
        if present(role):
            out[role] = _party(body, role, refs)
    if present("incoterm"):
        out["incoterm"] = f.choice(body, "incoterm", "incoterm", f.INCOTERMS, required=False)
    if present("transportation_mode"):
        out["transportation_mode"] = f.choice(
            body, "transportation_mode", "transportation_mode", f.TRANSPORTATION_MODES,
            required=False,
        )
    for key in ("cargo_ready_date", "must_arrive_date"):
        if present(key):
            out[key] = f.date(body, key, key, required=False)
    if present("memo"):
        out["memo"] = f.text(body, "memo", "memo", required=False)
    if present("metadata"):
        out["metadata"] = f.metadata(body, "metadata", "metadata")
    for key in _ADDRESS_KEYS:
        if present(key):
            out[key] = f.text(body, key, key, required=False)
    for key in _PORT_KEYS:
        if present(key):
            code = f.text(body, key, key, required=False)
            out[key] = code.replace(" ", "").upper() if code else None

    lines = _line_items(body) if present("line_items") else None

    for role in ("buyer", "seller"):
        party = out.get(role)
        if party and party["ref"] is not None and not refs.entity_exists(party["ref"]):
            raise Refusal(400, "unknown_entity_ref",
                          f"{role}.ref {party['ref']!r} is not a company entity ref")
    for key in _ADDRESS_KEYS:
        ref = out.get(key)
        if ref is not None and refs.location_country(ref) is None:
            raise Refusal(400, "unknown_location_ref", f"{key} {ref!r} is not a location ref")
    for key in _PORT_KEYS:
        code = out.get(key)
        if code is not None and known_port(code) is None:
            raise Refusal(400, "invalid_port", f"{key} {code!r} is not a known UN/LOCODE "
                          "(five characters: country and place, such as CNSHA)")
    return PurchaseOrderWrite(out, lines)


def _party(body: dict[str, Any], role: str, refs: NetworkRefs) -> dict[str, Any] | None:
    party = f.obj(body, role, role, required=False)
    if party is None:
        return None
    name = f.text(party, "name", f"{role}.name", required=False)
    ref = f.text(party, "ref", f"{role}.ref", required=False)
    if not name and not ref:
        raise f.missing(f"{role}.name")
    return {"name": name, "ref": ref, "country_code": f.country(party, "country_code",
                                                                f"{role}.country_code")}


def _line_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    lines = body.get("line_items")
    if lines is None or lines == []:
        raise f.missing("line_items")
    if not isinstance(lines, list):
        raise f.invalid("line_items", "a list", lines)
    return [_line_item(line, f"line_items[{i}]", i + 1) for i, line in enumerate(lines)]


def _line_item(line: object, path: str, position: int) -> dict[str, Any]:
    if not isinstance(line, dict):
        raise f.invalid(path, "an object", line)
    product = f.obj(line, "product", f"{path}.product", required=True)
    assert product is not None
    # The product library takes a SKU or a name (a known SKU alone, or a new product).
    sku = f.text(product, "sku", f"{path}.product.sku", required=False)
    if sku is None and f.text(product, "name", f"{path}.product.name", required=False) is None:
        raise f.missing(f"{path}.product.sku")
    units = f.count(line, "units", f"{path}.units", required=True)
    cost = f.obj(line, "unit_cost", f"{path}.unit_cost", required=False)
    unit_cost = None
    if cost is not None:
        if cost.get("amount") is None:
            raise f.missing(f"{path}.unit_cost.amount")
        currency = f.text(cost, "currency_code", f"{path}.unit_cost.currency_code", required=True)
        assert currency is not None
        if len(currency) != 3 or not currency.isalpha():
            raise f.invalid(f"{path}.unit_cost.currency_code", "an ISO 4217 code", currency)
        unit_cost = {"amount": f.amount(cost["amount"], f"{path}.unit_cost.amount"),
                     "currency_code": currency.upper()}
    hs_codes = line.get("hs_codes") or []
    if not isinstance(hs_codes, list):
        raise f.invalid(f"{path}.hs_codes", "a list", hs_codes)
    codes = []
    for j, item in enumerate(hs_codes):
        where = f"{path}.hs_codes[{j}]"
        if not isinstance(item, dict):
            raise f.invalid(where, "an object", item)
        codes.append({
            "code": f.text(item, "code", f"{where}.code", required=True),
            "country_code": f.country(item, "country_code", f"{where}.country_code"),
            "description": f.text(item, "description", f"{where}.description", required=False),
        })
    return {
        "line_item_number": f.count(line, "line_item_number", f"{path}.line_item_number",
                                    required=False) or position,
        "item_key": f.text(line, "item_key", f"{path}.item_key", required=False) or sku,
        "product": {"sku": sku,
                    "name": f.text(product, "name", f"{path}.product.name", required=False)},
        "units": units,
        "unit_of_measure": f.text(line, "unit_of_measure", f"{path}.unit_of_measure",
                                  required=False),
        "unit_cost": unit_cost,
        "hs_codes": codes,
        "incoterm": f.choice(line, "incoterm", f"{path}.incoterm", f.INCOTERMS, required=False),
        "transportation_mode": f.choice(line, "transportation_mode",
                                        f"{path}.transportation_mode", f.TRANSPORTATION_MODES,
                                        required=False),
        "must_arrive_date": f.date(line, "must_arrive_date", f"{path}.must_arrive_date",
                                   required=False),
        "metadata": f.metadata(line, "metadata", f"{path}.metadata"),
    }
