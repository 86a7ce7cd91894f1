"""Every sandbox answer and every client request of a representative run, checked
against Flexport's official v2 OpenAPI schemas (corrections applied, nulls allowed)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

from bulkpo.cli import main
from bulkpo.sandbox import SandboxOptions, running_sandbox
from tests.conftest import SAMPLES
from tests.factories import (
    NEW_ENTITY,
    NEW_LOCATION,
    OWN_LOCATION,
    network_pos,
    po_rows,
    workbook_with_network,
    write_po_workbook,
)
from tests.openapi_spec import openapi, operation, response_spec, validator

DAY = 86_400
# Routes Flexport documents outside the 2020 v2 document: the PO writes of the v3
# changelog (POST /purchase_orders, POST /purchase_orders/{id}) and the token endpoint
# of API credentials (POST /oauth/token).
UNPUBLISHED = {("POST", "/purchase_orders"), ("POST", "/purchase_orders/{id}"),
               ("POST", "/oauth/token")}


def _template(path: str) -> str:
    parts = path.split("/")
    return "/".join("{id}" if part.isdigit() else part for part in parts)


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Import POs (and update one), import bookings with links, let them sail, track,
    download documents, export with filters, list refs, follow every ref link."""
    tmp = tmp_path_factory.mktemp("conformance")
    log = tmp / "record.jsonl"
    options = SandboxOptions(db_path=tmp / "sandbox.sqlite", seed=3, record_path=log)
    with running_sandbox(options) as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLEXPORT_BASE_URL", server.base_url)
        mp.setenv("FLEXPORT_API_KEY", server.api_key)
        mp.chdir(tmp)
        for name in ("purchase-orders.xlsx", "bookings.xlsx"):
            (tmp / name).write_bytes((SAMPLES / name).read_bytes())
        (tmp / "bulkpo.toml").write_text("rate = 500.0\nconcurrency = 8\n", encoding="utf-8")
        fast = ["--rate", "500"]
        assert main(["import", "purchase-orders.xlsx", *fast]) == 0
        rows = po_rows(2)
        write_po_workbook(tmp / "small.xlsx", rows)
        assert main(["import", "small.xlsx", *fast]) == 0
        rows[0]["quantity"] = 999
        write_po_workbook(tmp / "changed.xlsx", rows)
        assert main(["import", "changed.xlsx", "--on-existing", "update", *fast]) == 0
        assert main(["import", "bookings.xlsx", *fast]) == 0
        _amend_first_booking(tmp / "bookings.xlsx", tmp / "amended.xlsx")
        assert main(["import", "amended.xlsx", "--on-existing", "update", *fast]) == 0
        workbook_with_network(tmp / "network.xlsx", [NEW_ENTITY, NEW_LOCATION, OWN_LOCATION],
                         network_pos())
        assert main(["import", "network.xlsx", *fast]) == 0
        server.advance(30 + 4 * DAY)
        assert main(["track", "bookings.xlsx", "-o", "track.jsonl"]) == 0
        assert main(["documents", "--from", "track.jsonl", "-d", "docs"]) == 0
        assert main(["export", "purchase-orders", "--status", "open", "--role", "buyer",
                     "--created-after", "2000-01-01", "--direction", "desc", "-o",
                     "pos.xlsx"]) == 0
        assert main(["export", "shipments", "--status", "arrival_port", "-o",
                     "shipments.xlsx"]) == 0
        assert main(["refs"]) == 0
        _follow_links(server.base_url, server.api_key)
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def _amend_first_booking(source: Path, target: Path) -> None:
    """The sample bookings with the first one's date, containers and weight changed."""
    book = openpyxl.load_workbook(source)
    sheet = book["Bookings"]
    headers = [cell.value for cell in sheet[1]]
    for header, value in (("Cargo Ready Date", dt.datetime(2027, 2, 26)),
                          ("40' HC Containers", 3), ("Weight (kg)", 6000)):
        sheet.cell(2, headers.index(header) + 1, value)
    book.save(target)


def _follow_links(base: str, key: str) -> None:
    """Every object one step from a shipment, a booking and a PO, by its own links."""
    headers = {"Authorization": f"Bearer {key}", "Flexport-Version": "2"}
    with httpx.Client(base_url=base, headers=headers) as http:
        seen: set[str] = set()
        todo = [f"{base}/shipments?per=2", f"{base}/bookings?per=2",
                f"{base}/purchase_orders?per=2", f"{base}/ports?f.unlocode=CNSHA",
                f"{base}/network/locations?per=1", f"{base}/network/company_entities?per=1",
                f"{base}/shipment_legs?per=1", f"{base}/documents?per=1"]
        while todo and len(seen) < 150:
            url = todo.pop()
            if url in seen or "/download" in url:
                continue
            seen.add(url)
            answer = http.get(url)
            if "json" not in answer.headers.get("content-type", ""):
                continue
            body = answer.json()
            todo.extend(_links(body, base))
            items = (body.get("data") or {}).get("data")
            if isinstance(items, list) and items and "id" in items[0]:
                # A list's first object through its own route, too.
                todo.append(f"{url.split('?')[0]}/{items[0]['id']}")


def _links(value: Any, base: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("link", "self") and isinstance(item, str) and item.startswith(base):
                yield item
            elif key not in ("prev", "next"):
                yield from _links(item, base)
    elif isinstance(value, list):
        for item in value[:2]:
            yield from _links(item, base)


def _problems(validator_: Any, instance: Any, where: str) -> list[str]:
    """One line per error, at the deepest failing field (nulls wrap fields in anyOf)."""
    out = []
    for error in validator_.iter_errors(instance):
        leaf = error
        while leaf.context:
            # The null branch of a field's anyOf always fails for a non-null value.
            real = [e for e in leaf.context if e.validator_value != "null"]
            leaf = best_match(real or leaf.context)
        out.append(f"{where}: {'/'.join(map(str, leaf.absolute_path))}: {leaf.message[:160]}")
    return out


def test_every_answer_validates_against_the_official_schemas(
    record: list[dict[str, Any]]
) -> None:
    spec = response_spec()
    problems: list[str] = []
    checked: set[str] = set()
    for item in record:
        method, path, status, body = item["method"], item["path"], item["status"], item["response"]
        where = f"{status} {method} {path}?{item['query']}"
        if path.startswith("/_sandbox/"):
            continue
        if status >= 300 or body is None:
            # The documented error envelope: no data, an /api/error with its status
            # (401 answers with the legacy ``errors`` body, as the real API does).
            error = body.get("error") if isinstance(body, dict) else None
            if isinstance(body, dict) and status != 401 and (
                    body.get("data") is not None or (error or {}).get("status") != status):
                problems.append(f"{where}: not the error envelope: {body}")
            continue
        found = operation(spec, method, path)
        if found is None:
            if (method, _template(path)) not in UNPUBLISHED:
                problems.append(f"{where}: a route the official document does not have")
            continue
        schema = found["responses"]["200"]["content"]["application/json"]["schema"]
        # Write operations show the bare object; every answer is the /api/response
        # envelope, so its data is what that schema describes.
        instance = body if "data" in schema.get("properties", {}) else body["data"]
        problems += _problems(validator(spec, schema), instance, where)
        checked.add(f"{method} {_template(path)}")
    assert not problems, "\n".join(sorted(set(problems))[:60])
    # The run covers what bulkpo reads and writes, so no part can drift unchecked.
    assert checked >= {
        "GET /purchase_orders", "GET /purchase_orders/{id}", "GET /purchase_order_line_items",
        "GET /purchase_order_line_items/{id}", "GET /bookings", "GET /bookings/{id}",
        "POST /bookings", "POST /booking_line_items", "GET /booking_line_items",
        "POST /booking_amendments",
        "GET /shipments", "GET /shipments/{id}", "GET /shipment_legs",
        "GET /shipment_legs/{id}", "GET /documents", "GET /ocean/shipment_containers",
        "GET /customs_entries", "GET /commercial_invoices", "GET /network/locations",
        "GET /network/company_entities", "GET /network/locations/{id}",
        "GET /network/company_entities/{id}", "GET /ports",
        "POST /network/company_entities", "POST /network/locations",
    }, sorted(checked)


def test_every_request_body_validates_against_the_official_schemas(
    record: list[dict[str, Any]]
) -> None:
    spec = openapi()
    problems: list[str] = []
    checked: set[str] = set()
    for item in record:
        if item["request"] is None or item["path"].startswith("/_sandbox/"):
            continue
        found = operation(spec, item["method"], item["path"])
        body_schema = ((found or {}).get("requestBody", {}).get("content", {})
                       .get("application/json", {}).get("schema"))
        if body_schema is None:
            continue  # no published request schema (the PO writes of v3)
        where = f"{item['method']} {item['path']}"
        problems += _problems(validator(spec, body_schema), item["request"], where)
        checked.add(f"{item['method']} {_template(item['path'])}")
    assert not problems, "\n".join(sorted(set(problems))[:60])
    assert checked >= {"POST /bookings", "POST /booking_line_items",
                       "POST /booking_amendments",
                       "POST /network/company_entities", "POST /network/locations"}, sorted(checked)


def test_a_field_of_the_wrong_type_fails_the_check() -> None:
    spec = response_spec()
    found = operation(spec, "GET", "/bookings/1")
    assert found is not None
    check = validator(spec, found["responses"]["200"]["content"]["application/json"]["schema"])
    good = {"_object": "/api/response", "data": {"_object": "/booking", "id": 1, "name": "B"}}
    assert not list(check.iter_errors(good))
    assert list(check.iter_errors({**good, "data": {**good["data"], "id": "one"}}))
    assert not list(check.iter_errors({**good, "data": {**good["data"], "name": None}}))
