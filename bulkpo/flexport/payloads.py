"""Domain objects -> request bodies, and read models -> the same shape for comparing.

The PO write body follows bulkpo's contract for ``POST /purchase_orders`` at
``Flexport-Version: 3`` (Flexport publishes only part of it): name, status,
buyer/seller ``{name, ref, country_code}``, incoterm, transportation mode,
dates, ``*_port_loc_code``, ``*_address_ref``, memo, metadata and line items.
It is built here and only here, so it can follow the API as Flexport publishes it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from bulkpo.domain import LineItem, Party, PurchaseOrder

_DECIMAL = re.compile(r"-?\d+(\.\d+)?\Z")

PO_FIELDS = (
    "name",
    "status",
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


def _party(party: Party) -> dict[str, Any] | None:
    if party.name is None and party.ref is None and party.country is None:
        return None
    return {"name": party.name, "ref": party.ref, "country_code": party.country}


def _line(line: LineItem) -> dict[str, Any]:
    body: dict[str, Any] = {
        "line_item_number": line.line_number,
        "item_key": line.sku,
        "product": {"sku": line.sku, "name": line.product_name},
        "units": line.quantity,
        "unit_of_measure": line.unit_of_measure,
    }
    if line.unit_cost is not None:
        body["unit_cost"] = {
            "amount": _amount(line.unit_cost),
            "currency_code": line.currency or "USD",
        }
    if line.hs_code:
        body["hs_codes"] = [{"code": line.hs_code, "country_code": "US"}]
    return body


def _amount(value: Decimal) -> str:
    """Money as the API writes it: a decimal string with at least two decimals."""
    text = format(value, "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def purchase_order_body(po: PurchaseOrder) -> dict[str, Any]:
    """The ``POST /purchase_orders`` body for a validated PO (nulls left out)."""
    body: dict[str, Any] = {
        "name": po.name,
        "status": po.status,
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
        "line_items": [_line(line) for line in po.lines],
    }
    return {key: value for key, value in body.items() if value is not None}


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
    if not isinstance(company, Mapping):
        return None
    return {
        "name": company.get("name"),
        "ref": company.get("ref"),
        "country_code": company.get("country_code"),
    }


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


def purchase_order_from_read(
    po: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A PO read model (and its line items) in the shape of a write body."""
    body: dict[str, Any] = {
        "name": po.get("name"),
        "status": po.get("status"),
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
    """The fields of ``desired`` that differ from ``current``: the PATCH body ({} = equal).

    Line items are compared as a whole list (by line number) and sent whole.
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


def body_digest(body: Mapping[str, Any]) -> str:
    """A stable fingerprint of a request body (for the journal)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
