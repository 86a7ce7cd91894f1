"""Answers exactly as Flexport's OpenAPI document shows them are read.

The fixtures are the document's own example responses (../shared/spec), served
through an httpx transport: the sandbox's shapes are tested elsewhere, these are
the shapes a real account answers with.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bulkpo.bookings import network_refs
from bulkpo.config import load_settings
from bulkpo.engine.pacing import caller_for
from bulkpo.errors import ApiError, ConfigError
from bulkpo.flexport.client import FlexportClient
from bulkpo.flexport.models import Location
from bulkpo.sandbox import SandboxServer
from tests.conftest import shared_path

BASE = "https://api.flexport.com"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    path: Path = shared_path("spec", "flexport-v2-openapi.yaml")
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def example(document: dict[str, Any], path: str, method: str) -> Any:
    """The first example answer of an operation, as the document writes it."""
    content = document["paths"][path][method]["responses"]["200"]["content"]
    examples = content["application/json"]["examples"]
    return copy.deepcopy(next(iter(examples.values()))["value"])


def serving(answers: dict[tuple[str, str], Any]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers[(request.method, request.url.path)])

    return httpx.MockTransport(handle)


def client(transport: httpx.MockTransport, **overrides: Any) -> FlexportClient:
    settings = load_settings(env={}, base_url=BASE, api_key="doc-key", **overrides)
    return FlexportClient(settings, transport=transport)


async def test_refs_reads_the_documents_network_examples(document: dict[str, Any]) -> None:
    entities = example(document, "/network/company_entities", "get")
    locations = example(document, "/network/locations", "get")
    # The document's own shapes: string ids, company and contacts as refs.
    [location] = locations["data"]["data"]
    assert isinstance(location["id"], str) and location["company"]["_object"] == "/api/refs/object"
    transport = serving({("GET", "/network/company_entities"): entities,
                         ("GET", "/network/locations"): locations})
    async with client(transport) as api:
        refs = await network_refs(api, caller_for(api.settings))
        [read] = await api.locations()
    assert [(r.kind, r.ref, r.name, r.city, r.country) for r in refs] == [
        ("company_entity", "zoomit_ref", "Zoomit", "Albany", "US"),
        ("location", "wayne_enterprises_ref", "Wayne Enterprises", "Albany", "US"),
    ]
    assert read.id == "f8Rq_ua5RRZQ_Rp41dPC9w"
    assert read.company is not None and read.company.id == "abc123"
    assert read.contacts is not None and read.contacts.ref_type == "/network/contacts"


async def test_refs_reads_the_created_location_example(document: dict[str, Any]) -> None:
    data = example(document, "/network/locations", "post")["data"]
    location = Location.model_validate(data)
    assert (location.id, location.ref) == ("f8Rq_ua5RRZQ_Rp41dPC9w", "zoomit-management-co")
    assert location.company is not None and location.company.id == "xyz_13_zbc"


async def test_bare_created_objects_are_read_when_their_object_matches(
    document: dict[str, Any]
) -> None:
    line = example(document, "/booking_line_items", "post")
    booking = example(document, "/bookings", "post")
    assert "data" not in line and "data" in booking  # as the document shows them
    transport = serving({("POST", "/booking_line_items"): line,
                         ("POST", "/bookings"): booking["data"]})
    async with client(transport) as api:
        created = await api.create_booking_line_item(
            {"purchase_order_line_item_id": 112358, "booking_id": 9876, "units": 200})
        made = await api.create_booking({"name": "PO 123"})
    assert (created.id, created.units) == (123456, 200)
    assert created.booking is not None and created.booking.id == 9876
    assert (made.id, made.name) == (2983, "PO 123")


async def test_a_bare_object_of_another_kind_is_refused(document: dict[str, Any]) -> None:
    line = example(document, "/booking_line_items", "post")
    transport = serving({("POST", "/bookings"): line})
    async with client(transport) as api:
        with pytest.raises(ApiError, match="not an /api/response envelope"):
            await api.create_booking({"name": "PO 123"})


async def test_date_versions_are_accepted_and_sent(sandbox: SandboxServer) -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Flexport-Version"])
        body = {"_object": "/api/response", "data": {"_object": "/shipment", "id": 1}}
        return httpx.Response(200, content=json.dumps(body))

    async with client(httpx.MockTransport(handle), api_version="2023-07-01") as api:
        await api.get_shipment(1)
    assert seen == ["2023-07-01"]
    settings = load_settings(env={"FLEXPORT_VERSION": " 3 "})
    assert settings.api_version == 3
    with pytest.raises(ConfigError, match="a version is a number"):
        load_settings(env={"FLEXPORT_VERSION": "2023-7-1"})


async def test_network_creates_read_the_documents_example_answers(
    document: dict[str, Any]
) -> None:
    entity = example(document, "/network/company_entities", "post")
    location = example(document, "/network/locations", "post")
    listed = example(document, "/network/locations", "get")
    transport = serving({("POST", "/network/company_entities"): entity,
                         ("POST", "/network/locations"): location,
                         ("GET", "/network/locations"): listed})
    async with client(transport) as api:
        made = await api.create_company_entity({"name": "Zoomit", "company_ref": "Zoomit",
                                                "mailing_address": {"street_address": "x"}})
        placed = await api.create_location({"name": "Zoomit", "company_id": "9281",
                                            "address": {"street_address": "x"}})
        found = await api.find_location_by_ref("wayne_enterprises_ref")
        missing = await api.find_location_by_ref("wayne")  # a loose filter match is not it
    assert (made.id, made.ref) == (9281, "my-zoomit-ref")
    assert (placed.id, placed.ref) == ("f8Rq_ua5RRZQ_Rp41dPC9w", "zoomit-management-co")
    assert found is not None and found.id == "f8Rq_ua5RRZQ_Rp41dPC9w"
    assert missing is None
