"""PO revisions over real HTTP: ``POST /purchase_orders/{id}`` with the complete revised PO."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from bulkpo.config import Settings
from bulkpo.engine.exactly_once import OnExisting
from bulkpo.imports import ImportOptions, Workbook, import_workbook, load_purchase_orders
from bulkpo.sandbox import SandboxServer
from tests.conftest import listing
from tests.factories import po_rows, write_po_workbook


class Recording(httpx.AsyncHTTPTransport):
    """The real HTTP transport, noting each request's method, path and body."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))
        return await super().handle_async_request(request)


def _import(path: Path, settings: Settings, transport: Recording, **options: Any) -> Any:
    table, validation = load_purchase_orders(path)
    workbook = Workbook(path, purchase_orders=(table, validation))
    return asyncio.run(import_workbook(workbook, settings, ImportOptions(**options),
                                       transport=transport))


def test_update_revises_the_whole_po_with_post(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    first = Recording()
    _import(write_po_workbook(tmp_path / "a.xlsx", po_rows(1)), sandbox_settings, first,
            journal=tmp_path / "j1.sqlite")
    [created] = listing(sandbox, "/purchase_orders")

    changed = po_rows(1)
    for row in changed:
        row["incoterm"] = "EXW"
        row["destination_port"] = None  # left empty: Flexport's value must survive
    revised = Recording()
    result = _import(write_po_workbook(tmp_path / "b.xlsx", changed), sandbox_settings,
                     revised, journal=tmp_path / "j2.sqlite", on_existing=OnExisting.UPDATE)
    assert [r.status for r in result.results] == ["updated", "updated"]

    writes = [(m, p, b) for m, p, b in revised.sent if m != "GET"]
    assert [(m, p) for m, p, _ in writes] == [("POST", f"/purchase_orders/{created['id']}")]
    body = writes[0][2]
    [create_body] = [b for m, p, b in first.sent if m == "POST"]
    # Every field of the created PO is sent again, the changed one with its new value.
    assert set(create_body) <= set(body)
    assert body["incoterm"] == "EXW"
    assert body["destination_port_loc_code"] == create_body["destination_port_loc_code"]
    assert body["buyer"] == create_body["buyer"] and body["line_items"] == create_body[
        "line_items"]
    assert not any(m == "PATCH" for m, _, _ in revised.sent)

    [after] = listing(sandbox, "/purchase_orders")
    assert after["incoterm"] == "EXW"
    assert after["destination_port"]["address"]["unlocode"] == "USLAX"
    assert after["id"] == created["id"]
