"""Stored rows -> the API's read models (POs, bookings, shipments, legs, documents...).

``base`` is the server's own URL (``http://127.0.0.1:53411``): every link points back
at the sandbox that answered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bulkpo.sandbox import lifecycle
from bulkpo.sandbox.network import address
from bulkpo.sandbox.ports import US_CBP_PORT_CODES, PortInfo, known_port
from bulkpo.sandbox.store import Row, Store

# The first CBP code listed for a port is its seaport's.
_CBP_BY_LOCODE: dict[str, str] = {}
for _cbp, _locode in US_CBP_PORT_CODES.items():
    _CBP_BY_LOCODE.setdefault(_locode, _cbp)


def object_ref(base: str, ref_type: str, path: str, object_id: int) -> dict[str, Any]:
    return {"_object": "/api/refs/object", "ref_type": ref_type,
            "link": f"{base}/{path}/{object_id}", "id": object_id}


def collection_ref(base: str, ref_type: str, link: str) -> dict[str, Any]:
    return {"_object": "/api/refs/collection", "ref_type": ref_type, "link": f"{base}/{link}"}


def port_place(port: PortInfo, *, iata: str | None = None, icao: str | None = None
               ) -> dict[str, Any]:
    """A port as a ``/place`` with one ``details`` entry per kind of port it is."""
    cbp = _CBP_BY_LOCODE.get(port.unlocode)
    details: list[dict[str, Any]] = []
    if port.is_airport:
        details.append({"_object": "/air/port", "port_code": cbp,
                        "iata_code": iata or port.iata_code, "icao_code": icao,
                        "country_code": port.country_code})
    if port.is_seaport or not details:
        details.append({"_object": "/ocean/port", "port_code": cbp})
    return {
        "_object": "/place",
        "name": port.name,
        "address": address(street=None, city=port.name, state=port.subdivision, zip=None,
                           country_code=port.country_code, unlocode=port.unlocode, ref=None),
        "details": details,
    }


def place_of(code: str | None) -> dict[str, Any] | None:
    port = known_port(code) if code else None
    return port_place(port) if port else None


def _booking_port(facts: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not facts:
        return None
    port = known_port(facts["unlocode"]) if facts.get("unlocode") else None
    if port is not None:
        return port_place(port, iata=facts.get("iata_code"), icao=facts.get("icao_code"))
    return {"_object": "/place", "name": facts.get("name"),
            "address": address(street=None, city=None, state=None, zip=None,
                               country_code=None, unlocode=None, ref=None),
            "details": [{"_object": "/air/port", "port_code": None, "iata_code": None,
                         "icao_code": facts.get("icao_code"), "country_code": None}]}


def location_address(store: Store, ref: str | None) -> dict[str, Any] | None:
    location = store.locations.get(ref) if ref else None
    return dict(location["address"]) if location else None


def company_entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    return {"_object": "/company_entity", "id": entity["id"], "name": entity["name"],
            "ref": entity["ref"], "mailing_address": entity["mailing_address"],
            "vat_numbers": entity["vat_numbers"]}


def network_location(base: str, store: Store, location: Mapping[str, Any]) -> dict[str, Any]:
    owner = store.entity(location["company_entity_ref"])
    # Location ids are strings in the official document ("f8Rq_...").
    return {"_object": "/network/location", "id": str(location["id"]),
            "name": location["name"],
            "ref": location["ref"], "address": location["address"],
            "company": ({"_object": "/network/company", "id": str(owner["id"]),
                         "ref": owner["ref"], "name": owner["name"]} if owner else None),
            # A ref, as in the official examples (the sandbox keeps no contacts).
            "contacts": collection_ref(base, "/network/contact",
                                       f"network/contacts?f.location.ref={location['ref']}"),
            "metadata": location["metadata"]}


def network_row(base: str, store: Store, table: str, row: Row) -> dict[str, Any]:
    body = {**json.loads(row["body"]), "id": row["id"]}
    return company_entity(body) if table == "company_entities" else network_location(
        base, store, body)


def purchase_order(base: str, store: Store, row: Row) -> dict[str, Any]:
    body = json.loads(row["body"])
    return {
        "_object": "/purchase_order",
        "id": row["id"],
        "name": body["name"],
        "status": body["status"],
        "priority": body.get("priority"),
        "order_class": body.get("order_class"),
        "buyer": _company(store, body.get("buyer")),
        "seller": _company(store, body.get("seller")),
        "incoterm": body.get("incoterm"),
        "transportation_mode": body.get("transportation_mode"),
        "cargo_ready_date": body.get("cargo_ready_date"),
        "must_arrive_date": body.get("must_arrive_date"),
        "origin_port": place_of(body.get("origin_port_loc_code")),
        "destination_port": place_of(body.get("destination_port_loc_code")),
        "origin_address": location_address(store, body.get("origin_address_ref")),
        "destination_address": location_address(store, body.get("destination_address_ref")),
        "memo": body.get("memo"),
        "archived_at": row["archived_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "line_items": collection_ref(base, "/purchase_orders/line_item",
                                     f"purchase_order_line_items?f.purchase_order.id={row['id']}"),
        "metadata": body.get("metadata") or {},
    }


def _company(store: Store, party: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not party:
        return None
    entity = store.entity(party["ref"]) if party.get("ref") else None
    # Company ids are strings in the official document ("f8Rq_..."), unlike entity ids.
    return {"_object": "/company", "id": str(entity["id"]) if entity else None,
            "name": party.get("name"), "ref": party.get("ref"),
            "country_code": party.get("country_code")}


def line_item(base: str, row: Row, po_body: Mapping[str, Any]) -> dict[str, Any]:
    """A PO line; incoterm, mode and must-arrive date fall back to the PO's."""
    body = json.loads(row["body"])
    cost = body.get("unit_cost")
    return {
        "_object": "/purchase_orders/line_item",
        "id": row["id"],
        "purchase_order": object_ref(base, "/purchase_order", "purchase_orders",
                                     row["purchase_order_id"]),
        "line_item_number": body["line_item_number"],
        "item_key": body["item_key"],
        "product": {"_object": "/product", **body["product"]},
        "units": body["units"],
        "unit_of_measure": body.get("unit_of_measure"),
        "unit_cost": {"_object": "/money", **cost} if cost else None,
        "hs_codes": [{"_object": "/hs_code", **code} for code in body.get("hs_codes", [])],
        "incoterm": body.get("incoterm") or po_body.get("incoterm"),
        "transportation_mode": body.get("transportation_mode")
        or po_body.get("transportation_mode"),
        "must_arrive_date": body.get("must_arrive_date") or po_body.get("must_arrive_date"),
        "booking_line_items": collection_ref(
            base, "/purchase_orders/booking_line_item",
            f"booking_line_items?f.purchase_order_line_item.id={row['id']}"),
        "metadata": body.get("metadata") or {},
    }


def booking(base: str, store: Store, row: Row) -> dict[str, Any]:
    body = json.loads(row["body"])
    detail = body["detail"]
    mode_key = body["mode_key"]
    modes: dict[str, Any] = {"ocean_booking": None, "air_booking": None, "trucking_booking": None}
    if mode_key == "trucking_booking":
        modes[mode_key] = {"_object": "/trucking/booking", "is_ftl": not detail["is_ltl"],
                           **detail}
    else:
        rendered = {
            **detail,
            "origin_port": _booking_port(detail.get("origin_port")),
            "destination_port": _booking_port(detail.get("destination_port")),
            "product_descriptions": [_product_description(p)
                                     for p in detail["product_descriptions"]],
        }
        if mode_key == "ocean_booking":
            rendered = {"_object": "/ocean/booking", **rendered,
                        "container_counts": {"_object": "/container_counts",
                                             **detail["container_counts"]}}
        else:
            rendered = {"_object": "/air/booking", **rendered}
        modes[mode_key] = rendered
    shipper, consignee = store.entity(body["shipper_entity_ref"]), store.entity(
        body["consignee_entity_ref"])
    return {
        "_object": "/booking",
        "id": row["id"],
        "name": body["name"],
        "flex_id": f"FLEX-{row['id']}",
        "status": row["status"],
        "shipment": (object_ref(base, "/shipment", "shipments", row["shipment_id"])
                     if row["shipment_id"] else None),
        "shipper_entity": company_entity(shipper) if shipper else None,
        "consignee_entity": company_entity(consignee) if consignee else None,
        "notify_party": body.get("notify_party"),
        "transportation_mode": body["transportation_mode"],
        **modes,
        "origin_address": location_address(store, body["origin_address_ref"]),
        "destination_address": location_address(store, body.get("destination_address_ref")),
        "cargo_ready_date": body["cargo_ready_date"],
        "delivery_date": body.get("delivery_date"),
        "wants_export_customs_service": body["wants_export_customs_service"],
        "wants_import_customs_service": body.get("wants_import_customs_service"),
        "cargo": _cargo(body["cargo"]),
        "special_instructions": body.get("special_instructions"),
        "booking_line_items": collection_ref(base, "/purchase_orders/booking_line_item",
                                             f"booking_line_items?f.booking.id={row['id']}"),
        "created_at": row["created_at"],
        "metadata": body.get("metadata") or {},
    }


def _product_description(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"_object": "/bookings/product_description", "description": item["description"],
            "description_for_export_customs": item["description_for_export_customs"],
            "description_for_export_customs_locale": item["description_for_export_customs_locale"],
            "hs_code": {"_object": "/hs_code", "description": None, "code": item["hs_code"],
                        "country_code": None}}


def _quantity(value: Mapping[str, Any] | None, kind: str) -> dict[str, Any] | None:
    return {"_object": f"/quantity/{kind}", **value} if value else None


def _cargo(cargo: Mapping[str, Any]) -> dict[str, Any]:
    units = [
        {"_object": "/shipping_unit", **unit,
         "weight": _quantity(unit["weight"], "weight"),
         "volume": _quantity(unit["volume"], "volume"),
         **{side: _quantity(unit[side], "length") for side in ("height", "length", "width")}}
        for unit in cargo["shipping_units"]
    ]
    return {"_object": "/cargo", **cargo, "weight": _quantity(cargo["weight"], "weight"),
            "volume": _quantity(cargo["volume"], "volume"), "shipping_units": units}


def booking_amendment(store: Store, amendment_id: int, booking_id: int,
                      changes: Mapping[str, Any], *, pending: bool) -> dict[str, Any]:
    """``/booking_amendment``: the changes asked, in the read model's names."""
    out: dict[str, Any] = {"_object": "/booking_amendment", "id": amendment_id,
                           "booking_id": booking_id, "is_pending": pending}
    for key, value in changes.items():
        if key == "container_counts":
            out["new_container_counts"] = {"_object": "/container_counts", **value}
        elif key == "origin_address_ref":
            out["new_origin_address"] = location_address(store, value)
        elif key in ("origin_port", "destination_port"):
            side = "loading" if key == "origin_port" else "unloading"
            out[f"new_port_of_{side}"] = _booking_port(value)
        elif key == "product_descriptions":
            out["new_product_descriptions"] = [
                {"_object": "/booking_amendment_product_description",
                 "description": item["description"],
                 "description_for_export_customs": item["description_for_export_customs"]}
                for item in value]
        elif key == "cargo":
            out["new_cargo"] = _cargo(value)
        else:
            out[f"new_{key}"] = value
    return out


def booking_line_item(base: str, row: Row) -> dict[str, Any]:
    return {"_object": "/purchase_orders/booking_line_item", "id": row["id"],
            "booking": object_ref(base, "/booking", "bookings", row["booking_id"]),
            "purchase_order_line_item": object_ref(
                base, "/purchase_orders/line_item", "purchase_order_line_items",
                row["po_line_item_id"]),
            "purchase_order": object_ref(base, "/purchase_order", "purchase_orders",
                                         row["purchase_order_id"]),
            "units": row["units"]}


def _dates(booked: float, now: float, **steps: int) -> dict[str, str | None]:
    """``estimated_X`` and ``actual_X`` for each named step of the schedule."""
    out: dict[str, str | None] = {}
    for name, step in steps.items():
        moment = lifecycle.step_time(booked, step)
        out[f"estimated_{name}"] = lifecycle.iso(moment)
        out[f"actual_{name}"] = lifecycle.iso(moment) if moment <= now else None
    return out


def shipment(base: str, store: Store, row: Row, booking_row: Row, now: float
             ) -> dict[str, Any]:
    facts = json.loads(row["body"])
    body = json.loads(booking_row["body"])
    detail = body["detail"]
    mode = row["transportation_mode"]
    sid = row["id"]
    cargo = body["cargo"]
    shipper, consignee = store.entity(body["shipper_entity_ref"]), store.entity(
        body["consignee_entity_ref"])
    items = [
        {"_object": "/shipment_item", "id": item["id"], "total_units": item["units"],
         "total_weight": None, "total_volume": None, "purchase_order_number": item["po_name"],
         "product": {"_object": "/product", **json.loads(item["line_body"])["product"]}}
        for item in store.shipment_items(booking_row["id"])
    ]
    dates = _dates(row["booked_s"], now, departure_date=lifecycle.DEPARTED_STEP,
                   arrival_date=lifecycle.ARRIVED_STEP,
                   picked_up_in_full_date=lifecycle.PICKED_UP_STEP,
                   delivered_in_full_date=lifecycle.DELIVERED_STEP)
    return {
        "_object": "/shipment",
        "id": sid,
        "name": body["name"],
        "metadata": body.get("metadata") or {},
        "booking": object_ref(base, "/booking", "bookings", booking_row["id"]),
        "transportation_mode": mode,
        "freight_type": facts["freight_type"],
        "incoterm": detail.get("incoterm"),
        "calculated_weight": _quantity(cargo["weight"], "weight"),
        "calculated_volume": _quantity(cargo["volume"], "volume"),
        "pieces": sum(unit["count"] for unit in cargo["shipping_units"]),
        "it_number": None,
        "created_date": row["created_at"],
        "updated_at": row["updated_at"],
        "archived_at": None,
        "status": row["status"],
        "priority": "standard",
        **dates,
        "cargo_ready_date": body["cargo_ready_date"],
        "wants_export_customs_service": body["wants_export_customs_service"],
        "wants_import_customs_service": bool(body.get("wants_import_customs_service")),
        "wants_freight_management_bco": False,
        "wants_flexport_freight": True,
        "wants_pickup_service": bool(detail.get("wants_pickup_service")),
        "wants_delivery_service": bool(detail.get("wants_delivery_service")),
        "ocean_shipment": {
            "_object": "/ocean/shipment", "is_lcl": detail["is_lcl"],
            "house_bill_number": facts["house_bill_number"],
            "master_bill_number": facts["master_bill_number"],
            "carrier_booking_number": facts["carrier_booking_number"],
            "containers": collection_ref(base, "/ocean/shipment_container",
                                         f"ocean/shipment_containers?f.shipment.id={sid}"),
        } if mode == "ocean" else None,
        "air_shipment": {
            "_object": "/air/shipment", "house_airway_bill": facts["house_bill_number"],
            "master_airway_bill": facts["master_bill_number"], "chargeable_weight": None,
            "chargeable_volume": None,
        } if mode == "air" else None,
        "shippers": [company_entity(shipper)] if shipper else [],
        "consignees": [company_entity(consignee)] if consignee else [],
        "buyers": [company_entity(consignee)] if consignee else [],
        "sellers": [company_entity(shipper)] if shipper else [],
        "importers_of_record": [company_entity(consignee)] if consignee else [],
        "items": items,
        "legs": collection_ref(base, "/shipment_leg", f"shipment_legs?f.shipment.id={sid}"),
        "customs_entries": collection_ref(base, "/customs_entry",
                                          f"customs_entries?f.shipment.id={sid}"),
        "commercial_invoices": collection_ref(base, "/commercial_invoice",
                                              f"commercial_invoices?f.shipment.id={sid}"),
        "documents": collection_ref(base, "/document", f"documents?f.shipment.id={sid}"),
    }


def containers(base: str, row: Row, now: float) -> list[dict[str, Any]]:
    facts = json.loads(row["body"])
    dates = _dates(row["booked_s"], now, departure_date=lifecycle.DEPARTED_STEP,
                   arrival_date=lifecycle.ARRIVED_STEP)
    return [
        {"_object": "/ocean/shipment_container", "id": row["id"] * 100 + i, **container,
         **dates, "metadata": {},
         "shipment": object_ref(base, "/shipment", "shipments", row["id"])}
        for i, container in enumerate(facts["containers"])
    ]


def leg(base: str, store: Store, row: Row, booking_body: Mapping[str, Any], now: float
        ) -> dict[str, Any]:
    stored = json.loads(row["body"])
    detail = dict(stored["detail"])
    carrier = detail.pop("carrier_name", None)
    mode = row["transportation_mode"]
    dates = _dates(row["booked_s"], now, departure_date=stored["departs_step"],
                   arrival_date=stored["arrives_step"])
    kinds = {"ocean": "ocean_leg", "air": "air_leg", "truck": "trucking_leg"}
    leg_detail: dict[str, dict[str, Any]] = {
        "ocean": {"_object": "/ocean/shipment_leg", "vessel_imo": None, **detail,
                  "container_legs": None},
        "air": {"_object": "/air/shipment_leg", "icao_code": None, **detail, "pieces": None},
        "truck": {"_object": "/trucking/shipment_leg", "tracking_number": None,
                  "service_type": "ftl", "pieces": None, "container_legs": None},
    }
    return {
        "_object": "/shipment_leg",
        "id": row["id"],
        "shipment": object_ref(base, "/shipment", "shipments", row["shipment_id"]),
        **dates,
        "cargo_ready_date": booking_body["cargo_ready_date"],
        "additional_dates": {"cargo_ready_date": booking_body["cargo_ready_date"]},
        "origin": _node(store, booking_body, stored["origin"]),
        "destination": _node(store, booking_body, stored["destination"]),
        "transportation_mode": mode,
        "carrier_name": carrier,
        "ocean_leg": None, "air_leg": None, "trucking_leg": None, "rail_leg": None,
        kinds[mode]: leg_detail[mode],
    }


_NODE_TAGS = {"origin_address": ["origin_address"], "origin_port": ["port_of_loading"],
              "destination_port": ["port_of_unloading"],
              "destination_address": ["destination_address"]}


def _node(store: Store, booking_body: Mapping[str, Any], where: str) -> dict[str, Any]:
    place: dict[str, Any] | None
    if where.endswith("_port"):
        place = _booking_port(booking_body["detail"].get(where))
    else:
        ref = booking_body.get(f"{where}_ref")
        location = store.locations.get(ref) if ref else None
        place = ({"_object": "/place", "name": location["name"],
                  "address": location["address"], "details": []} if location else None)
    return {"_object": "/shipment_node", "place": place, "terminal": None,
            "tags": _NODE_TAGS[where]}


def document(base: str, row: Row) -> dict[str, Any]:
    return {
        "_object": "/document",
        "id": row["id"],
        "file_name": row["file_name"],
        "document_type": row["document_type"],
        "memo": None,
        "file_link": f"{base}/documents/{row['id']}/download",
        "archived_at": None,
        "file_metadata": {"_object": "/file/metadata", "size": row["size"],
                          "uploaded_at": row["uploaded_at"]},
        "shipment": object_ref(base, "/shipment", "shipments", row["shipment_id"]),
    }
