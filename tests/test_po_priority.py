"""PO ``priority`` and ``order_class``: validated with their cells, sent, stored, compared,
revised and exported, over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkpo.config import Settings
from bulkpo.engine.exactly_once import OnExisting
from bulkpo.imports import load_purchase_orders
from bulkpo.purchase_orders.export import rows_for_po
from bulkpo.sandbox import SandboxServer
from tests.conftest import listing
from tests.factories import PO_KEYS, po_row, write_po_workbook
from tests.sandbox_fixtures import po_body
from tests.test_revisions import Recording, _import

KEYS = (*PO_KEYS, "priority", "order_class")


def _rows(**changes: Any) -> list[dict[str, Any]]:
    return [po_row(1, line, **changes) for line in (1, 2)]


def test_priority_and_order_class_errors_name_their_cells_and_suggest(tmp_path: Path) -> None:
    rows = [
        po_row(1, 1, priority="hgh", order_class="purchase_order"),
        po_row(2, 1, priority="Urgent", order_class="sales order"),
        po_row(3, 1, priority="HIGH", order_class="PO"),
    ]
    _table, result = load_purchase_orders(write_po_workbook(tmp_path / "p.xlsx", rows, KEYS))
    bad = {(i.code, str(i.ref)): i for i in result.issues if i.code == "bad_enum"}
    assert set(bad) == {("bad_enum", "Purchase Orders!V2"), ("bad_enum", "Purchase Orders!W3")}
    assert bad["bad_enum", "Purchase Orders!V2"].suggestion == "did you mean high?"
    assert "expected one of purchase_order" in bad["bad_enum", "Purchase Orders!W3"].message
    read_as = {i.message for i in result.issues if i.code == "read_as"}
    assert '"Urgent" read as high' in read_as and '"PO" read as purchase_order' in read_as
    (po,) = result.purchase_orders
    assert (po.name, po.priority, po.order_class) == ("PO-00003", "high", "purchase_order")


def test_priority_and_order_class_are_sent_stored_compared_revised_and_exported(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    first = Recording()
    created = _import(write_po_workbook(tmp_path / "a.xlsx", _rows(priority="standard",
                                        order_class="purchase_order"), KEYS),
                      sandbox_settings, first, journal=tmp_path / "j1.sqlite")
    assert [r.status for r in created.results] == ["created", "created"]
    [(_, _, body)] = [s for s in first.sent if s[0] == "POST"]
    assert (body["priority"], body["order_class"]) == ("standard", "purchase_order")
    [held] = listing(sandbox, "/purchase_orders")
    assert (held["priority"], held["order_class"]) == ("standard", "purchase_order")

    same = _import(write_po_workbook(tmp_path / "b.xlsx", _rows(priority="standard"), KEYS),
                   sandbox_settings, Recording(), journal=tmp_path / "j2.sqlite",
                   on_existing=OnExisting.UPDATE)
    assert [r.status for r in same.results] == ["unchanged", "unchanged"]

    high = write_po_workbook(tmp_path / "c.xlsx", _rows(priority="high"), KEYS)
    skipped = _import(high, sandbox_settings, Recording(), journal=tmp_path / "j3.sqlite")
    assert [r.status for r in skipped.results] == ["skipped", "skipped"]
    assert "priority" in skipped.results[0].message

    revised = Recording()
    updated = _import(high, sandbox_settings, revised, journal=tmp_path / "j4.sqlite",
                      on_existing=OnExisting.UPDATE)
    assert [r.status for r in updated.results] == ["updated", "updated"]
    [(_, path, body)] = [s for s in revised.sent if s[0] == "POST"]
    assert path == f"/purchase_orders/{held['id']}"
    # The whole PO goes: the class the sheet left blank keeps Flexport's value.
    assert (body["priority"], body["order_class"]) == ("high", "purchase_order")
    [after] = listing(sandbox, "/purchase_orders")
    assert after["priority"] == "high"
    lines = listing(sandbox, f"/purchase_order_line_items?f.purchase_order.id={after['id']}")
    exported = rows_for_po(after, lines)
    assert {(r["priority"], r["order_class"]) for r in exported} == {("high", "purchase_order")}


@pytest.mark.parametrize(("field", "value"), [("priority", "urgent"), ("order_class", "x"),
                                              ("priority", 3)])
def test_the_sandbox_refuses_a_priority_or_class_flexport_does_not_list(
    sandbox: SandboxServer, field: str, value: Any
) -> None:
    headers = {"Authorization": f"Bearer {sandbox.api_key}", "Flexport-Version": "3"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as api:
        answer = api.post("/purchase_orders", json={**po_body("PO-P"), field: value})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_field"
    assert field in answer.json()["error"]["message"]
