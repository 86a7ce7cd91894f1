"""The sandbox over real HTTP: auth, envelope, paging, PO and booking rules, lifecycle, faults."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import bulkpo.sandbox
from bulkpo.sandbox import (
    DEFAULT_SANDBOX_KEY,
    HOSTILE_FILE_NAME_KEY,
    SEEDED_REFS,
    SandboxOptions,
    SandboxServer,
    running_sandbox,
)
from tests.sandbox_fixtures import (
    air_booking,
    ocean_fcl_booking,
    ocean_lcl_booking,
    po_body,
    spoiled,
    trucking_booking,
)

DAY = 86_400


def client(server: SandboxServer, version: int = 3) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=10, headers={
        "Authorization": f"Bearer {server.api_key}", "Flexport-Version": str(version)})


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    with running_sandbox(SandboxOptions(db_path=tmp_path / "sandbox.db", seed=7)) as server:
        yield server


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with client(sandbox) as c:
        yield c


def data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["data"]


def refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["data"] is None
    assert body["error"]["status"] == status
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    return message


def test_public_surface() -> None:
    assert set(bulkpo.sandbox.__all__) >= {
        "SandboxOptions", "SandboxServer", "create_app", "running_sandbox", "serve",
        "DEFAULT_SANDBOX_KEY"}
    assert DEFAULT_SANDBOX_KEY == "sandbox-key"
    assert "sandbox-key" not in repr(SandboxOptions(db_path=Path("x.db")))


# -- auth, envelope, routing ------------------------------------------------------


def test_bad_token_gets_legacy_errors_body(sandbox: SandboxServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "sandbox-key"}):
        r = httpx.get(f"{sandbox.base_url}/purchase_orders", headers=headers)
        assert r.status_code == 401
        assert r.json() == {"errors": [{"code": "bad_token", "message": "Bad Token"}]}


def test_envelope_echoes_version_and_url(sandbox: SandboxServer) -> None:
    with client(sandbox, version=2) as c:
        r = c.get("/network/company_entities?per=2")
    body = r.json()
    assert body["_object"] == "/api/response"
    assert body["self"] == f"{sandbox.base_url}/network/company_entities?per=2"
    assert body["version"] == 2
    assert body["error"] is None
    assert body["data"]["total_count"] == len(SEEDED_REFS["company_entities"])


def test_unknown_url_redirects_and_unknown_id_is_404(api: httpx.Client) -> None:
    r = api.get("/no/such/thing")
    assert r.status_code == 302
    assert r.headers["location"] == "/"
    assert "You are being redirected" in r.text
    refused(api.get("/purchase_orders/12345"), 404, "not_found")
    refused(api.get("/bookings/abc"), 404, "not_found")


def test_empty_list_is_empty_array(api: httpx.Client) -> None:
    page = data(api.get("/purchase_orders"))
    assert page == {"_object": "/api/collections/paginated", "prev": None, "next": None,
                    "total_count": 0, "data": []}


@pytest.mark.parametrize("query", ["per=0", "per=101", "page=0", "per=x"])
def test_bad_paging_is_400(api: httpx.Client, query: str) -> None:
    refused(api.get(f"/purchase_orders?{query}"), 400, "invalid_param")


# -- purchase orders ----------------------------------------------------------------


def test_pages_keep_filters(api: httpx.Client) -> None:
    for i in range(7):
        data(api.post("/purchase_orders", json=po_body(f"PO-{i}",
                                                       status="closed" if i % 2 else "open")))
    first = data(api.get("/purchase_orders?f.status=open&per=3"))
    assert first["total_count"] == 4
    assert first["prev"] is None
    assert first["next"].endswith("/purchase_orders?f.status=open&page=2&per=3")
    second = data(api.get(first["next"]))
    assert [po["name"] for po in first["data"] + second["data"]] == [
        "PO-0", "PO-2", "PO-4", "PO-6"]
    assert second["next"] is None
    assert second["prev"].endswith("?f.status=open&page=1&per=3")
    desc = data(api.get("/purchase_orders?direction=desc&per=2"))
    assert [po["name"] for po in desc["data"]] == ["PO-6", "PO-5"]


def test_po_write_needs_version_3(sandbox: SandboxServer) -> None:
    with client(sandbox, version=2) as c:
        r = c.post("/purchase_orders", json=po_body())
        assert r.status_code == 302
        assert r.text == c.get("/nowhere").text
        assert data(c.get("/purchase_orders"))["total_count"] == 0


def test_po_round_trip(api: httpx.Client) -> None:
    po = data(api.post("/purchase_orders", json=po_body()))
    assert po["_object"] == "/purchase_order"
    assert po["buyer"]["ref"] == "acme-us"
    assert po["destination_port"]["address"]["unlocode"] == "USLAX"
    assert po["origin_address"]["ref"] == "loc-shenzhen-factory"
    assert po["metadata"] == {"department": ["lighting"]}
    assert po["created_at"].endswith("Z") and len(po["created_at"]) == 24
    assert data(api.get(f"/purchase_orders/{po['id']}")) == po
    lines = data(api.get(po["line_items"]["link"]))["data"]
    # The docs' default direction of line items is desc: the last written comes first.
    assert [line["product"]["sku"] for line in lines] == ["BULB-002", "LAMP-001"]
    lines = data(api.get(po["line_items"]["link"] + "&direction=asc"))["data"]
    assert [line["product"]["sku"] for line in lines] == ["LAMP-001", "BULB-002"]
    assert lines[0]["unit_cost"] == {"_object": "/money", "amount": "12.50",
                                     "currency_code": "USD"}
    assert lines[1]["unit_cost"]["amount"] == "0.80"
    assert lines[0]["hs_codes"][0]["code"] == "9405.20"
    assert lines[0]["incoterm"] == "FOB"
    assert data(api.get(f"/purchase_order_line_items/{lines[0]['id']}")) == lines[0]


def test_po_duplicate_and_revision(api: httpx.Client) -> None:
    first = data(api.post("/purchase_orders", json=po_body("PO-A")))
    data(api.post("/purchase_orders", json=po_body("PO-B")))
    refused(api.post("/purchase_orders", json=po_body("PO-A")), 409, "duplicate_name")
    # A revision (POST /purchase_orders/{id}) replaces the whole PO.
    revised = data(api.post(f"/purchase_orders/{first['id']}",
                            json=po_body("PO-A", status="closed", memo=None, line_items=[
                                {"product": {"sku": "NEW-1"}, "units": 3}])))
    assert revised["status"] == "closed"
    assert revised["memo"] is None
    assert revised["updated_at"] >= first["updated_at"]
    lines = data(api.get(revised["line_items"]["link"]))["data"]
    assert [(line["product"]["sku"], line["units"]) for line in lines] == [("NEW-1", 3)]
    # A partial body is not a revision: the name (and the rest) must be there.
    refused(api.post(f"/purchase_orders/{first['id']}", json={"status": "open"}),
            400, "missing_field")
    refused(api.post(f"/purchase_orders/{first['id']}", json=po_body("PO-B")),
            409, "duplicate_name")
    refused(api.post("/purchase_orders/1", json=po_body("PO-C")), 404, "not_found")
    # Flexport documents no PATCH: it answers as an unknown route does.
    patch = api.patch(f"/purchase_orders/{first['id']}", json={"status": "open"})
    assert (patch.status_code, patch.headers["location"]) == (302, "/")
    assert data(api.get(f"/purchase_orders/{first['id']}"))["status"] == "closed"


@pytest.mark.parametrize(("change", "status", "code", "field"), [
    ({"name": None}, 400, "missing_field", "name"),
    ({"line_items": []}, 400, "missing_field", "line_items"),
    ({"line_items": [{"units": 1, "product": {}}]}, 400, "missing_field",
     "line_items[0].product.sku"),
    ({"line_items": [{"product": {"sku": "X"}}]}, 400, "missing_field", "line_items[0].units"),
    ({"line_items": [{"product": {"sku": "X"}, "units": 0}]}, 400, "invalid_field",
     "line_items[0].units"),
    ({"cargo_ready_date": "2026-13-01"}, 400, "invalid_field", "cargo_ready_date"),
    ({"incoterm": "FOB "}, 400, "invalid_field", "incoterm"),
    ({"buyer": {"ref": "nobody"}}, 400, "unknown_entity_ref", "buyer.ref"),
    ({"origin_address_ref": "loc-mars"}, 400, "unknown_location_ref", "origin_address_ref"),
    ({"origin_port_loc_code": "CNXXQ"}, 400, "invalid_port", "origin_port_loc_code"),
])
def test_po_refusals(api: httpx.Client, change: dict[str, Any], status: int, code: str,
                     field: str) -> None:
    message = refused(api.post("/purchase_orders", json=po_body(**change)), status, code)
    assert field in message


def test_po_filters(sandbox: SandboxServer, api: httpx.Client) -> None:
    mine = data(api.post("/purchase_orders", json=po_body("PO-MINE")))
    time.sleep(0.01)  # distinct created_at stamps
    sold = data(api.post("/purchase_orders", json=po_body(
        "PO-SOLD", status="closed",
        buyer={"name": "Someone Else", "ref": "sup-ningbo-housewares"},
        seller={"name": "Acme Imports Inc", "ref": "acme-us"})))
    archived = data(api.post("/purchase_orders", json=po_body("PO-OLD", seller={
        "name": "Saigon Apparel JSC", "ref": "sup-hcmc-apparel"})))
    archived = data(api.post(f"/_sandbox/archive_purchase_order/{archived['id']}"))
    assert archived["archived_at"] is not None

    def names(query: str) -> list[str]:
        return [po["name"] for po in data(api.get(f"/purchase_orders?{query}"))["data"]]

    assert names("") == ["PO-MINE", "PO-SOLD", "PO-OLD"]
    assert names("f.status=closed") == ["PO-SOLD"]
    assert names("f.name=PO-OLD") == ["PO-OLD"]
    assert names("f.archived_at.exists=true") == ["PO-OLD"]
    assert names("f.archived_at.exists=false") == ["PO-MINE", "PO-SOLD"]
    assert names("f.buyer_ref=sup-ningbo-housewares") == ["PO-SOLD"]
    assert names("f.seller_ref=sup-hcmc-apparel") == ["PO-OLD"]
    assert names("f.role=buyer") == ["PO-MINE", "PO-OLD"]
    assert names("f.role=seller") == ["PO-SOLD"]
    assert names("f.unknown=1&f.status=open") == ["PO-MINE", "PO-OLD"]
    after = sold["created_at"]
    assert names(f"f.created_at.gt={mine['created_at']}") == ["PO-SOLD", "PO-OLD"]
    assert names(f"f.created_at.lt={after}") == ["PO-MINE"]
    assert names("f.created_at.gt=2000-01-01") == ["PO-MINE", "PO-SOLD", "PO-OLD"]
    assert names("f.created_at.gt=2000-01-01T00:00:00") == ["PO-MINE", "PO-SOLD", "PO-OLD"]
    assert names("f.updated_at.gt=2000-01-01T00:00:00%2B08:00&f.updated_at.lt=2001-01-01") == []
    # Archiving touched PO-OLD last.
    assert names(f"f.updated_at.gt={sold['updated_at']}") == ["PO-OLD"]
    refused(api.get("/purchase_orders?f.created_at.gt=yesterday"), 400, "invalid_param")
    # f.shipment.id: book PO-MINE's first line and let the booking ship.
    booking = data(api.post("/bookings", json=ocean_fcl_booking()))
    line = data(api.get(mine["line_items"]["link"]))["data"][0]
    data(api.post("/booking_line_items", json={"purchase_order_line_item_id": line["id"],
                                               "booking_id": booking["id"], "units": 10}))
    sandbox.advance(31)
    shipment_id = data(api.get(f"/bookings/{booking['id']}"))["shipment"]["id"]
    assert names(f"f.shipment.id={shipment_id}") == ["PO-MINE"]


# -- bookings ------------------------------------------------------------------------


@pytest.mark.parametrize("make", [ocean_fcl_booking, ocean_lcl_booking, air_booking,
                                  trucking_booking])
def test_valid_bookings(api: httpx.Client, make: Any) -> None:
    body = make()
    booking = data(api.post("/bookings", json=body))
    assert booking["_object"] == "/booking"
    assert booking["status"] == "submitted"
    assert booking["shipment"] is None
    assert booking["name"] == body["name"]
    assert booking["origin_address"]["ref"] == body["origin_address_ref"]
    assert data(api.get(f"/bookings/{booking['id']}")) == booking
    if make is ocean_fcl_booking:
        detail = booking["ocean_booking"]
        assert detail["origin_port"]["address"]["unlocode"] == "CNYTN"
        assert detail["container_counts"]["forty_ft_hc"] == 2
        assert detail["product_descriptions"][0]["hs_code"]["code"] == "9405.20"
    if make is air_booking:
        assert booking["air_booking"]["destination_port"]["details"][0]["iata_code"] == "ORD"
    if make is trucking_booking:
        assert booking["trucking_booking"]["is_ftl"] is False
        assert booking["ocean_booking"] is None


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    (spoiled(ocean_fcl_booking(), "name"), 400, "missing_field", "name"),
    (spoiled(ocean_fcl_booking(), "shipper_entity_ref"), 400, "missing_field",
     "shipper_entity_ref"),
    (spoiled(ocean_fcl_booking(), "origin_address_ref"), 400, "missing_field",
     "origin_address_ref"),
    (spoiled(ocean_fcl_booking(), "cargo_ready_date"), 400, "missing_field", "cargo_ready_date"),
    (spoiled(ocean_fcl_booking(), "wants_export_customs_service"), 400, "missing_field",
     "wants_export_customs_service"),
    (spoiled(ocean_fcl_booking(), "cargo"), 400, "missing_field", "cargo"),
    (spoiled(ocean_fcl_booking(), "cargo.shipping_units"), 400, "missing_field",
     "cargo.shipping_units"),
    (spoiled(ocean_fcl_booking(), "cargo.contains_magnets"), 400, "missing_field",
     "cargo.contains_magnets"),
    (spoiled(ocean_fcl_booking(), "ocean_booking"), 400, "missing_field", "ocean_booking"),
    ({**ocean_fcl_booking(), "air_booking": air_booking()["air_booking"]}, 400,
     "invalid_field", "air_booking"),
    (spoiled(ocean_fcl_booking(), "ocean_booking.incoterm"), 400, "missing_field",
     "ocean_booking.incoterm"),
    (spoiled(ocean_fcl_booking(), "ocean_booking.container_counts"), 400, "missing_field",
     "ocean_booking.container_counts"),
    (spoiled(ocean_fcl_booking(), "ocean_booking.product_descriptions.0.hs_code"), 400,
     "missing_field", "product_descriptions[0].hs_code"),
    (spoiled(ocean_fcl_booking(), "ocean_booking.origin_port_loc_code"), 400, "missing_field",
     "origin_port_loc_code"),
    (spoiled(ocean_fcl_booking(), "destination_address_ref"), 400, "missing_field",
     "destination_address_ref"),
    (spoiled(trucking_booking(), "destination_address_ref"), 400, "missing_field",
     "destination_address_ref"),
    (spoiled(trucking_booking(), "trucking_booking.payment_terms"), 400, "missing_field",
     "trucking_booking.payment_terms"),
    (spoiled(ocean_fcl_booking(),
             "ocean_booking.product_descriptions.0.description_for_export_customs"),
     400, "missing_field", "description_for_export_customs"),
    (spoiled(ocean_fcl_booking(),
             "ocean_booking.product_descriptions.0.description_for_export_customs_locale",
             "en_US", delete=False), 400, "invalid_field", "locale"),
    (spoiled(ocean_fcl_booking(), "cargo.contains_li_ion", True, delete=False), 400,
     "missing_field", "lithium_batteries_packing_types"),
    (spoiled(ocean_fcl_booking(), "cargo.shipping_units.0.atomic_count"), 400,
     "missing_field", "cargo.shipping_units[0].atomic_count"),
    (spoiled(ocean_fcl_booking(), "cargo.weight"), 400, "missing_field", "cargo.weight"),
    (spoiled(ocean_fcl_booking(), "shipper_entity_ref", "nobody", delete=False), 400,
     "unknown_entity_ref", "shipper_entity_ref"),
    (spoiled(ocean_fcl_booking(), "origin_address_ref", "loc-mars", delete=False), 400,
     "unknown_location_ref", "origin_address_ref"),
    (spoiled(ocean_fcl_booking(), "ocean_booking.origin_port_loc_code", "CNXXQ",
             delete=False), 400, "invalid_port", "origin_port_loc_code"),
    (spoiled(air_booking(), "air_booking.destination_port_iata_code", "QQQ", delete=False),
     400, "invalid_port", "destination_port_iata_code"),
])
def test_booking_refusals(api: httpx.Client, body: dict[str, Any], status: int, code: str,
                          field: str) -> None:
    assert field in refused(api.post("/bookings", json=body), status, code)


def test_chinese_description_only_for_mainland_china(api: httpx.Client) -> None:
    no_chinese = spoiled(ocean_lcl_booking(), "ocean_booking.product_descriptions.0",
                         {"description": "Shirts", "hs_code": "6205.20"}, delete=False)
    data(api.post("/bookings", json=no_chinese))  # Vietnam: no Chinese text needed
    via_port = spoiled(no_chinese, "origin_address_ref", "loc-la-dc", delete=False)
    via_port["name"] = "BK-VIA-PORT"
    via_port["ocean_booking"]["wants_pickup_service"] = False
    via_port["ocean_booking"]["origin_port_loc_code"] = "CNNGB"
    refused(api.post("/bookings", json=via_port), 400, "missing_field")


def test_booking_names_may_repeat_by_default_and_are_listed(api: httpx.Client) -> None:
    # Nothing Flexport publishes says booking names are unique: the default accepts.
    first = data(api.post("/bookings", json=ocean_fcl_booking()))
    second = data(api.post("/bookings", json=ocean_fcl_booking()))
    assert first["id"] != second["id"]
    data(api.post("/bookings", json=air_booking()))
    listed = data(api.get("/bookings?f.shipper_entity_ref=sup-chennai-textiles"))
    assert [b["name"] for b in listed["data"]] == ["BK-AIR-1"]
    assert data(api.get("/bookings?f.name=BK-FCL-1"))["total_count"] == 2
    assert data(api.get("/bookings?f.status=submitted"))["total_count"] == 3
    assert data(api.get("/bookings?f.status=booked"))["total_count"] == 0


def test_booking_line_items(api: httpx.Client) -> None:
    po = data(api.post("/purchase_orders", json=po_body()))
    line = data(api.get(po["line_items"]["link"]))["data"][0]
    booking = data(api.post("/bookings", json=ocean_fcl_booking()))
    body = {"purchase_order_line_item_id": line["id"], "booking_id": booking["id"], "units": 5}
    item = data(api.post("/booking_line_items", json=body))
    assert item["_object"] == "/purchase_orders/booking_line_item"
    assert item["units"] == 5
    assert item["booking"]["id"] == booking["id"]
    for query in (f"f.booking.id={booking['id']}", f"f.purchase_order.id={po['id']}",
                  f"f.purchase_order_line_item.id={line['id']}"):
        assert [i["id"] for i in data(api.get(f"/booking_line_items?{query}"))["data"]] == [
            item["id"]]
    refused(api.post("/booking_line_items", json={**body, "units": 0}), 400, "invalid_field")
    refused(api.post("/booking_line_items", json={"booking_id": booking["id"], "units": 1}),
            400, "missing_field")
    refused(api.post("/booking_line_items", json={**body, "booking_id": 1}), 404, "not_found")
    refused(api.post("/booking_line_items", json={**body, "purchase_order_line_item_id": 1}),
            404, "not_found")


# -- lifecycle -----------------------------------------------------------------------


def test_booking_becomes_shipment_with_legs_and_documents(sandbox: SandboxServer,
                                                          api: httpx.Client) -> None:
    po = data(api.post("/purchase_orders", json=po_body()))
    line = data(api.get(po["line_items"]["link"]))["data"][-1]  # oldest: desc
    body = ocean_fcl_booking()
    body["metadata"][HOSTILE_FILE_NAME_KEY] = ["../../etc/passwd"]
    booking = data(api.post("/bookings", json=body))
    data(api.post("/booking_line_items", json={
        "purchase_order_line_item_id": line["id"], "booking_id": booking["id"], "units": 50}))
    assert data(api.get("/shipments"))["total_count"] == 0
    data(api.post("/_sandbox/advance", json={"seconds": 31}))
    booking = data(api.get(f"/bookings/{booking['id']}"))
    assert booking["status"] == "booked"
    shipment = data(api.get(booking["shipment"]["link"]))
    assert shipment["_object"] == "/shipment"
    assert shipment["status"] == "seller_location"
    assert shipment["booking"]["id"] == booking["id"]
    assert shipment["estimated_departure_date"] and shipment["actual_departure_date"] is None
    assert shipment["items"][0]["purchase_order_number"] == "PO-1001"

    sandbox.advance(3.5 * DAY)
    shipment = data(api.get(f"/shipments/{shipment['id']}"))
    assert shipment["status"] == "in_transit_to_arrival_port"
    assert shipment["actual_departure_date"] == shipment["estimated_departure_date"]
    assert shipment["actual_arrival_date"] is None
    legs = data(api.get(shipment["legs"]["link"]))["data"]
    main = [leg for leg in legs if leg["transportation_mode"] == "ocean"]
    assert len(main) == 1 and main[0]["ocean_leg"]["vessel_name"]
    assert main[0]["origin"]["place"]["address"]["unlocode"] == "CNYTN"
    assert [leg["transportation_mode"] for leg in legs] == ["ocean", "truck"]

    for query, expected in (("f.purchase_order=PO-1001", 1), ("f.sku=LAMP-001", 1),
                            ("f.sku=NOPE", 0), ("f.status=in_transit_to_arrival_port", 1),
                            ("f.transportation_mode=air", 0),
                            ("f.metadata.purchase_order=PO-1001", 1),
                            ("f.metadata.purchase_order=PO-9", 0)):
        assert data(api.get(f"/shipments?{query}"))["total_count"] == expected, query
    containers = data(api.get(shipment["ocean_shipment"]["containers"]["link"]))["data"]
    assert len(containers) == 2
    number = containers[0]["container_number"]
    assert data(api.get(f"/shipments?f.container_number={number}"))["total_count"] == 1

    documents = data(api.get(shipment["documents"]["link"]))["data"]
    assert {d["document_type"] for d in documents} == {
        "commercial_invoice", "packing_list", "flexport_bill_of_lading"}
    assert all(len(d["id"]) == 22 for d in documents)
    hostile = next(d for d in documents if d["document_type"] == "commercial_invoice")
    assert hostile["file_name"] == "../../etc/passwd"
    download = api.get(hostile["file_link"])
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF")
    assert int(download.headers["content-length"]) == hostile["file_metadata"]["size"]
    packing = data(api.get(f"/documents?f.shipment.id={shipment['id']}"
                           "&f.document_type=packing_list"))
    assert [d["document_type"] for d in packing["data"]] == ["packing_list"]
    # Flexport has no /shipments/{id}/documents: it answers as any unknown route does.
    unknown = api.get(f"/shipments/{shipment['id']}/documents")
    assert (unknown.status_code, unknown.headers["location"]) == (302, "/")
    # The shipment's refs lead to served lists (empty: the sandbox files no entries).
    for ref in ("customs_entries", "commercial_invoices"):
        served = data(api.get(shipment[ref]["link"]))
        assert served["_object"] == "/api/collections/paginated"
        assert served["total_count"] == 0 and served["data"] == []

    sandbox.advance(10 * DAY)
    assert data(api.get(f"/shipments/{shipment['id']}"))["status"] == "final_destination"


def test_network_and_ports(api: httpx.Client) -> None:
    locations = data(api.get("/network/locations?per=100"))["data"]
    assert {loc["ref"] for loc in locations} == set(SEEDED_REFS["locations"])
    la = next(loc for loc in locations if loc["ref"] == "loc-la-dc")
    assert la["address"]["city"] == "Los Angeles"
    assert data(api.get(f"/network/locations/{la['id']}"))["ref"] == "loc-la-dc"
    ports = data(api.get("/ports?f.unlocode=USLAX"))["data"]
    assert [p["address"]["unlocode"] for p in ports] == ["USLAX"]
    assert data(api.get("/ports?f.unlocode=USLAX&f.port_type=railport"))["total_count"] == 0


# -- misbehaviour --------------------------------------------------------------------


def test_rate_limit(tmp_path: Path) -> None:
    with running_sandbox(SandboxOptions(db_path=tmp_path / "s.db", rate_limit=2)) as server, \
            client(server) as c:
        statuses = [c.get("/purchase_orders").status_code for _ in range(5)]
        assert statuses[:2] == [200, 200]
        assert 429 in statuses
        r = c.get("/purchase_orders")
        refused(r, 429, "rate_limited")
        assert int(r.headers["retry-after"]) >= 1


def test_throttle_every_refuses_every_nth_request_whatever_the_pace(tmp_path: Path) -> None:
    options = SandboxOptions(db_path=tmp_path / "s.db", throttle_every=3)
    with running_sandbox(options) as server, client(server) as c:
        responses = []
        for _ in range(6):
            responses.append(c.get("/purchase_orders"))
            time.sleep(0.05)  # slow, evenly paced: no bucket would refuse these
        assert [r.status_code for r in responses] == [200, 200, 429, 200, 200, 429]
        refused(responses[2], 429, "rate_limited")
        assert responses[2].headers["retry-after"] == "1"
        # Control endpoints are never throttled, and do not count.
        assert c.post("/_sandbox/advance", json={"seconds": 1}).status_code == 200
        assert c.get("/purchase_orders").status_code == 200


def test_fault_rate_answers_5xx_without_effect(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with running_sandbox(SandboxOptions(db_path=db, fault_rate=1, seed=3)) as server, \
            client(server) as c:
        for _ in range(5):
            r = c.post("/purchase_orders", json=po_body())
            assert r.status_code in (500, 502, 503)
            assert r.json()["error"]["status"] == r.status_code
    with running_sandbox(SandboxOptions(db_path=db)) as server, client(server) as c:
        assert data(c.get("/purchase_orders"))["total_count"] == 0


def test_drop_rate_commits_then_drops(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with running_sandbox(SandboxOptions(db_path=db, drop_rate=1, seed=3)) as server, \
            client(server) as c:
        with pytest.raises(httpx.TransportError):
            c.post("/purchase_orders", json=po_body("PO-DROPPED"))
        assert data(c.get("/purchase_orders?f.name=PO-DROPPED"))["total_count"] == 1


def test_state_persists_across_servers(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with running_sandbox(SandboxOptions(db_path=db)) as server, client(server) as c:
        created = data(c.post("/purchase_orders", json=po_body()))
        server.advance(2 * DAY)
    with running_sandbox(SandboxOptions(db_path=db)) as server, client(server) as c:
        again = data(c.get(f"/purchase_orders/{created['id']}"))
        assert {**again, "line_items": None} == {**created, "line_items": None}
        refused(c.post("/purchase_orders", json=po_body()), 409, "duplicate_name")
        # The advanced clock persists too: a new PO is stamped two days later.
        later = data(c.post("/purchase_orders", json=po_body("PO-LATER")))
        assert later["created_at"][:10] > created["created_at"][:10]


def _fault_run(db: Path) -> tuple[list[int], list[str]]:
    with running_sandbox(SandboxOptions(db_path=db, seed=42, fault_rate=0.5,
                                        shipment_delay_s=0)) as server, client(server) as c:
        statuses = [c.get("/purchase_orders").status_code for _ in range(20)]
        clean = SandboxOptions(db_path=db, seed=42, shipment_delay_s=0)
    with running_sandbox(clean) as server, client(server) as c:
        booking = data(c.post("/bookings", json=ocean_fcl_booking()))
        shipment_id = data(c.get(f"/bookings/{booking['id']}"))["shipment"]["id"]
        docs = data(c.get(f"/documents?f.shipment.id={shipment_id}"))["data"]
        shipment = data(c.get(f"/shipments/{shipment_id}"))
        return statuses, [d["id"] for d in docs] + [shipment["ocean_shipment"][
            "master_bill_number"]]


def test_seeded_runs_are_identical(tmp_path: Path) -> None:
    first = _fault_run(tmp_path / "a.db")
    second = _fault_run(tmp_path / "b.db")
    assert first == second
    assert set(first[0]) - {200}


def test_latency_and_slow_pages(tmp_path: Path) -> None:
    options = SandboxOptions(db_path=tmp_path / "s.db", latency_ms=50, page_delay_ms=50)
    with running_sandbox(options) as server, client(server) as c:
        start = time.monotonic()
        data(c.get("/purchase_orders"))
        assert time.monotonic() - start >= 0.1


@pytest.mark.parametrize("mode", ["refuse", "accept"])
def test_duplicate_names_switch(tmp_path: Path, mode: Any) -> None:
    options = SandboxOptions(db_path=tmp_path / "s.db", duplicate_po_names=mode,
                             duplicate_booking_names=mode)
    with running_sandbox(options) as server, client(server) as c:
        first = data(c.post("/purchase_orders", json=po_body("PO-TWICE")))
        data(c.post("/bookings", json=ocean_fcl_booking("BK-TWICE")))
        again_po = c.post("/purchase_orders", json=po_body("PO-TWICE"))
        again_booking = c.post("/bookings", json=ocean_fcl_booking("BK-TWICE"))
        if mode == "refuse":
            assert str(first["id"]) in refused(again_po, 409, "duplicate_name")
            refused(again_booking, 409, "duplicate_name")
            expected = 1
        else:
            assert data(again_po)["id"] != first["id"]
            data(again_booking)
            expected = 2
        assert data(c.get("/purchase_orders?f.name=PO-TWICE"))["total_count"] == expected
        assert data(c.get("/bookings?f.name=BK-TWICE"))["total_count"] == expected


BIG = str(2**63)


@pytest.mark.parametrize("path", [
    f"/purchase_orders/{BIG}", f"/purchase_order_line_items/{BIG}", f"/bookings/{BIG}",
    f"/booking_line_items/{BIG}", f"/shipments/{BIG}", f"/shipment_legs/{BIG}",
    f"/network/company_entities/{BIG}", f"/network/locations/{BIG}",
    f"/purchase_orders/-{BIG}",
    f"/purchase_orders?page={BIG}", f"/bookings?page={2**63 // 100 + 1}&per=100",
    f"/shipments?per={BIG}",
    f"/purchase_orders?f.shipment.id={BIG}", f"/bookings?f.shipment.id={BIG}",
    f"/purchase_order_line_items?f.purchase_order.id={BIG}",
    f"/purchase_order_line_items?f.line_item_number={BIG}",
    f"/booking_line_items?f.booking.id={BIG}", f"/shipment_legs?f.shipment.id={BIG}",
    f"/documents?f.shipment.id={BIG}", f"/ocean/shipment_containers?f.shipment.id={BIG}",
])
def test_integers_beyond_64_bits_are_refused_not_crashed(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code in (400, 404), response.text
    assert response.json()["error"]["code"] in ("invalid_param", "not_found")


def test_integers_beyond_64_bits_in_bodies_are_refused(api: httpx.Client) -> None:
    big = 2**63
    refused(api.post("/booking_line_items", json={
        "purchase_order_line_item_id": big, "booking_id": 1, "units": 1}), 400, "invalid_field")
    refused(api.post("/purchase_orders", json=po_body(line_items=[
        {"product": {"sku": "X"}, "units": big}])), 400, "invalid_field")
    refused(api.post("/purchase_orders", json=po_body(line_items=[
        {"product": {"sku": "X"}, "units": 1, "line_item_number": big}])), 400, "invalid_field")
    refused(api.post("/_sandbox/advance", json={"seconds": big}), 400, "invalid_field")


def test_documented_date_filter_format_is_accepted(api: httpx.Client) -> None:
    po = data(api.post("/purchase_orders", json=po_body()))
    created = dt.datetime.fromisoformat(po["created_at"].replace("Z", "+00:00"))
    pacific = created.astimezone(dt.timezone(dt.timedelta(hours=-8)))
    before = (pacific - dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S PST")
    after = (pacific + dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S PST")
    # The zone is honoured: the same wall clock read as UTC is eight hours off.
    as_utc = (pacific + dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S UTC")
    for query, expected in ((f"f.created_at.gt={before}", 1), (f"f.created_at.lt={before}", 0),
                            (f"f.created_at.lt={after}", 1), (f"f.updated_at.gt={after}", 0),
                            (f"f.created_at.lt={as_utc}", 0)):
        assert data(api.get("/purchase_orders", params=dict([query.split("=")])))[
            "total_count"] == expected, query
    message = refused(api.get("/purchase_orders",
                              params={"f.created_at.gt": "2022-01-01 18:26:37 XYZ"}),
                      400, "invalid_param")
    assert "PST" in message


@pytest.mark.parametrize("query", [
    "/purchase_orders?f.status=bogus", "/purchase_orders?sort=name",
    "/purchase_orders?direction=up", "/purchase_orders?direction=ASC",
    "/purchase_orders?f.role=owner",
    "/bookings?f.status=bogus", "/bookings?sort=id", "/bookings?direction=sideways",
    "/purchase_order_line_items?sort=units", "/booking_line_items?sort=id",
    "/shipments?f.status=bogus", "/shipments?f.statuses.any=arrival_port,bogus",
    "/shipments?f.transportation_mode=teleport", "/shipments?sort=name",
    "/shipment_legs?f.transportation_mode=teleport",
])
def test_invalid_enum_values_in_filters_are_refused(api: httpx.Client, query: str) -> None:
    message = refused(api.get(query), 400, "invalid_param")
    assert "must be one of" in message or "asc or desc" in message


def test_default_directions_follow_the_docs(api: httpx.Client) -> None:
    for name in ("BK-1", "BK-2"):
        data(api.post("/bookings", json=ocean_fcl_booking(name)))
    for name in ("PO-1", "PO-2"):
        data(api.post("/purchase_orders", json=po_body(name)))

    def names(path: str, key: str = "name") -> list[Any]:
        return [item[key] for item in data(api.get(path))["data"]]

    assert names("/bookings") == ["BK-2", "BK-1"]
    assert names("/bookings?direction=asc") == ["BK-1", "BK-2"]
    assert names("/purchase_orders") == ["PO-1", "PO-2"]
    ids = names("/purchase_order_line_items", "id")
    assert ids == sorted(ids, reverse=True) and len(ids) == 4


def test_cached_list_pages_follow_every_write(sandbox: SandboxServer, api: httpx.Client
                                              ) -> None:
    """List pages come from a cache of rendered objects and of the list's order: a
    revision, an archive and a new PO show in the very next page read, deep pages too."""
    ids = [data(api.post("/purchase_orders", json=po_body(f"PO-C{i}")))["id"] for i in range(5)]

    def page(path: str, number: int) -> dict[str, Any]:
        result: dict[str, Any] = data(api.get(path, params={"page": number, "per": 2}))
        return result

    # Read twice: the second time every object comes from the cache.
    for _ in range(2):
        assert [po["name"] for po in page("/purchase_orders", 2)["data"]] == ["PO-C2", "PO-C3"]
    lines = page("/purchase_order_line_items", 2)["data"]
    data(api.post(f"/purchase_orders/{ids[2]}", json=po_body(
        "PO-C2", memo="revised", incoterm="EXW")))
    second = page("/purchase_orders", 2)["data"]
    assert second[0]["memo"] == "revised" and second[0]["incoterm"] == "EXW"
    # A line renders its PO's incoterm: the PO's revision reaches the cached lines too.
    by_id = {line["id"]: line for line in lines}
    for line in page("/purchase_order_line_items", 2)["data"]:
        if line["id"] in by_id and line["purchase_order"]["id"] != ids[2]:
            assert line == by_id[line["id"]]
    revised_lines = data(api.get("/purchase_order_line_items",
                                 params={"f.purchase_order.id": ids[2]}))["data"]
    assert {line["incoterm"] for line in revised_lines} == {"EXW"}
    sandbox.store.archive_purchase_order(ids[3], archived=True)
    assert page("/purchase_orders", 2)["data"][1]["archived_at"] is not None
    # A deep page keeps the order it was read in until the next write, then starts afresh.
    data(api.post("/purchase_orders", json=po_body("PO-C5")))
    third = page("/purchase_orders", 3)
    assert third["total_count"] == 6
    assert [po["name"] for po in third["data"]] == ["PO-C4", "PO-C5"]
    assert third["next"] is None
    assert page("/purchase_orders", 4)["data"] == []
