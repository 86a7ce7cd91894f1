"""Each ERP export of tests/erp_corpus imports through the library exactly as a person reads it.

One test per file: the POs, lines, SKUs, quantities and unit prices of
expected/<file>.json, the rows that are not lines (totals, deleted, header rows)
skipped with a reason, or, for a question file, no PO and the one clear question; a
partial file imports its other POs exactly while the rows holding a value with no one
Flexport meaning (a case unit, a draft status) stop, each with its question.
Where a file needs a mapping, only the mapping :func:`bulkpo.imports.map_file`
writes on its own is used.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bulkpo.domain import PurchaseOrder
from bulkpo.imports import load_purchase_orders, map_file, validation_row_results

CORPUS = Path(__file__).resolve().parent / "erp_corpus"
FILES = CORPUS / "files"
EXPECTED = {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted((CORPUS / "expected").glob("*.json"))}

# The words that show the question was asked about the right thing.
QUESTION_WORDS = {
    "q_item_is_line_number": ("line numbers", "Item"),
    "q_day_or_month_first": ("03/04/2027", "no date in the sheet tells the order"),
    "q_thousands_or_decimal_comma": ("1,200",),
    "d365_purchase_order_headers_v2": ("only PO headers",),
    "sap_se16n_ekko": ("only PO headers",),
}


def _po(po: PurchaseOrder) -> dict[str, Any]:
    # A must-arrive date is compared on each line: the PO's, or the line's own when the
    # lines of one PO differ (D365 split deliveries).
    got: dict[str, Any] = {"name": po.name}
    for key, value in (
        ("seller_name", po.seller.name), ("seller_entity_ref", po.seller.ref),
        ("incoterm", po.incoterm), ("origin_port", po.origin_port),
        ("destination_port", po.destination_port),
        ("cargo_ready_date", po.cargo_ready_date),
    ):
        if value is not None:
            got[key] = value.isoformat() if isinstance(value, dt.date) else value
    got["lines"] = [
        {"line": li.line_number, "sku": li.sku, "product_name": li.product_name,
         "quantity": li.quantity,
         "unit_price": None if li.unit_cost is None else li.unit_cost.normalize(),
         "currency": li.currency,
         "must_arrive_date": (li.must_arrive_date or po.must_arrive_date or "") and
         (li.must_arrive_date or po.must_arrive_date).isoformat()}  # type: ignore[union-attr]
        for li in po.lines
    ]
    return got


def _expected_po(po: dict[str, Any]) -> dict[str, Any]:
    # As written words (status, mode, unit) and the incoterm place are compared by the
    # values half's tests; the place has no Flexport field of its own here.
    want = {k: v for k, v in po.items() if k in {
        "name", "seller_name", "seller_entity_ref", "incoterm", "origin_port",
        "destination_port", "cargo_ready_date"}}
    want["lines"] = [
        {"line": li["line"], "sku": li["sku"], "product_name": li["product_name"],
         "quantity": li["quantity"],
         "unit_price": None if li["unit_price"] is None
         else Decimal(str(li["unit_price"])).normalize(),
         "currency": li["currency"],
         "must_arrive_date": li.get("must_arrive_date", po.get("must_arrive_date", ""))}
        for li in po["lines"]
    ]
    return want


def _load(stem: str, tmp_path: Path) -> tuple[Any, Any]:
    expected = EXPECTED[stem]
    path = FILES / expected["file"]
    headers = FILES / expected["headers_file"] if "headers_file" in expected else None
    mapping = None
    if expected.get("needs_mapping"):
        mapping = tmp_path / "mapping.toml"
        mapping.write_text(map_file(path), encoding="utf-8")
    return load_purchase_orders(path, headers=headers, mapping=mapping)


def _assert_stopped(expected: dict[str, Any], validation: Any) -> None:
    # Every error is one stopped row's question: it names the value and offers each
    # candidate; no other row has an error and no stopped PO is imported.
    stopped = {(s["row"], s["column"]): s for s in expected["stopped_rows"]}
    asked = set()
    for issue in validation.errors:
        assert issue.ref is not None, str(issue)
        key = (issue.ref.row, issue.header)
        assert key in stopped, str(issue)
        want = stopped[key]
        assert f'"{want["value"]}"' in issue.message, str(issue)
        for candidate in want["candidates"]:
            assert candidate in issue.message, str(issue)
        asked.add(key)
    assert asked == set(stopped)
    names = {po.name for po in validation.purchase_orders}
    assert names.isdisjoint(s["po"] for s in expected["stopped_rows"])


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_corpus_file(stem: str, tmp_path: Path) -> None:
    expected = EXPECTED[stem]
    table, validation = _load(stem, tmp_path)
    if expected["outcome"] == "question":
        assert validation.purchase_orders == []
        errors = " | ".join(i.message for i in validation.errors)
        # the question is the only kind of error, not one among misread cells
        assert len({i.code for i in validation.errors}) == 1, errors
        for word in QUESTION_WORDS[stem]:
            assert word in errors, errors
        return
    if expected["outcome"] == "partial":
        _assert_stopped(expected, validation)
    got = [_po(po) for po in validation.purchase_orders]
    want = [_expected_po(po) for po in expected["purchase_orders"]]
    assert [p["name"] for p in got] == [p["name"] for p in want], [
        str(i) for i in validation.errors[:5]]
    for mine, theirs in zip(got, want, strict=True):
        assert mine == theirs
    skipped = {r.row for r in validation_row_results(table, validation)
               if r.status == "skipped"}
    # PO header rows (record types) and the label rows of an export's notes block are
    # layout, not data the corpus lists.
    header_rows = {n for n, why in validation.header_map.skipped_rows.items()
                   if why.startswith(("a PO header row", "a label"))}
    assert skipped - header_rows == {r["row"] for r in expected.get("skipped_rows", [])}
