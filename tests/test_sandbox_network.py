"""The sandbox's network writes over real HTTP: POST company entities and locations."""

from __future__ import annotations

from typing import Any

import httpx

from bulkpo.sandbox import SandboxServer
from tests.sandbox_fixtures import company_entity_body, location_body, po_body, spoiled


def _client(server: SandboxServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=10, headers={
        "Authorization": f"Bearer {server.api_key}", "Flexport-Version": "2"})


def _data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_created_entity_and_location_are_listed_and_usable_by_a_po(
    sandbox: SandboxServer,
) -> None:
    with _client(sandbox) as api:
        entity = _data(api.post("/network/company_entities", json=company_entity_body()))
        assert entity["ref"] == "sup-dongguan-toys" and entity["_object"] == "/company_entity"
        assert entity["mailing_address"]["country_code"] == "CN"
        location = _data(api.post("/network/locations",
                                  json=location_body(str(entity["id"]))))
        assert location["ref"] == "loc-dongguan-factory"
        assert location["company"]["id"] == str(entity["id"])
        listed = _data(api.get("/network/locations", params={"f.ref": "loc-dongguan-factory"}))
        assert [item["ref"] for item in listed["data"]] == ["loc-dongguan-factory"]
        po = po_body("PO-NET-1", seller={"ref": "sup-dongguan-toys"},
                     origin_address_ref="loc-dongguan-factory")
        created = api.post("/purchase_orders", json=po,
                           headers={"Flexport-Version": "3"})
        assert created.status_code == 200, created.text


def test_invalid_bodies_and_taken_refs_are_refused(sandbox: SandboxServer) -> None:
    with _client(sandbox) as api:
        for body, code in (
            (spoiled(company_entity_body(), "name"), "missing_field"),
            (spoiled(company_entity_body(), "mailing_address.street_address"),
             "missing_field"),
            ({**company_entity_body(), "company_ref": None}, "missing_field"),
            (company_entity_body(mailing_address={"street_address": "x",
                                                  "country_code": "China"}),
             "invalid_field"),
            ([1, 2], "invalid_field"),
        ):
            answer = api.post("/network/company_entities", json=body)
            assert answer.status_code == 400, (body, answer.text)
            assert answer.json()["error"]["code"] == code
        answer = api.post("/network/company_entities",
                          json=company_entity_body("sup-shenzhen-lights"))
        assert answer.status_code == 409
        answer = api.post("/network/locations", json=location_body("999"))
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "unknown_company_id"
        # Nothing refused was stored.
        listed = _data(api.get("/network/company_entities",
                               params={"f.ref": "sup-dongguan-toys"}))
        assert listed["data"] == []
