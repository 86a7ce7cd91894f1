"""The committed sample inputs: headers that map, realistic and consistent content."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pytest

from bulkpo.columns import (
    BOOKING_COLUMNS,
    PURCHASE_ORDER_COLUMNS,
    ColumnSet,
    fold_header,
    metadata_key,
)
from bulkpo.mapping import ROLE_OF
from bulkpo.ports import Want, lookup, lookup_iata
from bulkpo.sandbox.network import SEEDED_REFS
from bulkpo.sheets import read_table

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
PO_XLSX = SAMPLES / "purchase-orders.xlsx"
BOOKINGS_XLSX = SAMPLES / "bookings.xlsx"
ERP_CSV = SAMPLES / "erp-export.csv"

Record = dict[str, Any]


def records(path: Path, column_set: ColumnSet) -> list[Record]:
    """The sample's data rows by column key (metadata as ``metadata.<key>``)."""
    ws = openpyxl.load_workbook(path)[column_set.sheet_name]
    rows = list(ws.iter_rows(values_only=True))
    keys = [_key(str(h), column_set) for h in rows[0]]
    return [dict(zip(keys, row, strict=True)) for row in rows[1:]]


def _key(header: str, column_set: ColumnSet) -> str:
    col = column_set.match(header)
    if col is not None:
        return col.key
    role = ROLE_OF.get(fold_header(header))
    if role is not None:
        return role  # e.g. Vendor Code: an ERP column kept for a mapping, never sent on its own
    meta = metadata_key(header)
    assert meta is not None, f"header {header!r} maps to no column"
    return "metadata." + meta


def erp_rows() -> list[list[str]]:
    text = ERP_CSV.read_bytes().decode("cp1252")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


@pytest.fixture(scope="module")
def purchase_orders() -> list[Record]:
    return records(PO_XLSX, PURCHASE_ORDER_COLUMNS)


@pytest.fixture(scope="module")
def bookings() -> list[Record]:
    return records(BOOKINGS_XLSX, BOOKING_COLUMNS)


@pytest.mark.parametrize(
    ("path", "column_set"),
    [(PO_XLSX, PURCHASE_ORDER_COLUMNS), (BOOKINGS_XLSX, BOOKING_COLUMNS)],
)
def test_every_workbook_header_maps_to_a_column(path: Path, column_set: ColumnSet) -> None:
    ws = openpyxl.load_workbook(path)[column_set.sheet_name]
    headers = [str(c.value) for c in ws[1]]
    for header in headers:
        assert column_set.match(header) is not None or metadata_key(header) is not None, header
    assert column_set.score(headers) == 1.0


def test_every_erp_header_maps_through_an_alias() -> None:
    headers = erp_rows()[0]
    keys = [_key(h, PURCHASE_ORDER_COLUMNS) for h in headers]
    assert len(set(keys)) == len(keys)
    assert {"po_number", "seller_name", "sku", "product_name", "quantity", "unit_of_measure",
            "unit_cost", "currency", "origin_port", "destination_port",
            "cargo_ready_date"} <= set(keys)
    # None of them is spelt the canonical way: the file tests the aliases.
    canonical = {col.header for col in PURCHASE_ORDER_COLUMNS.columns}
    assert not canonical & set(headers)


def test_erp_export_is_a_semicolon_cp1252_file() -> None:
    data = ERP_CSV.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rows = erp_rows()
    assert 25 <= len(rows) - 1 <= 35
    assert all(len(row) == len(rows[0]) for row in rows)
    assert any("–" in cell or "é" in cell for row in rows for cell in row)


def test_purchase_order_counts(purchase_orders: list[Record]) -> None:
    assert len({r["po_number"] for r in purchase_orders}) == 50
    assert 100 <= len(purchase_orders) <= 200


def test_po_level_values_agree_within_each_po(purchase_orders: list[Record]) -> None:
    po_level = [c.key for c in PURCHASE_ORDER_COLUMNS.columns if c.po_level]
    by_po: dict[str, list[Record]] = defaultdict(list)
    for r in purchase_orders:
        by_po[r["po_number"]].append(r)
    for lines in by_po.values():
        for key in [*po_level, "metadata.department"]:
            assert len({line[key] for line in lines}) == 1, key
        assert [line["line_number"] for line in lines] == list(range(1, len(lines) + 1))
        assert len({line["sku"] for line in lines}) == len(lines)


def test_purchase_order_values_are_valid(purchase_orders: list[Record]) -> None:
    suppliers = {"sup-shenzhen-lights", "sup-ningbo-housewares", "sup-hcmc-apparel",
                 "sup-chennai-textiles"}
    assert {r["seller_ref"] for r in purchase_orders} == suppliers
    assert {r["seller_country"] for r in purchase_orders} == {"CN", "VN", "IN"}
    assert suppliers <= set(SEEDED_REFS["company_entities"])
    for r in purchase_orders:
        for col in PURCHASE_ORDER_COLUMNS.columns:
            if col.required:
                assert r[col.key] not in (None, ""), col.key
            if col.enum_values and r[col.key] is not None:
                assert r[col.key] in col.enum_values, col.key
        assert (r["buyer_name"], r["buyer_ref"], r["buyer_country"]) == (
            "Acme Imports Inc", "acme-us", "US")
        assert r["incoterm"] in {"FOB", "EXW", "CIF"}
        want: Want = "airport" if r["transportation_mode"] == "air" else "seaport"
        for key in ("origin_port", "destination_port"):
            port = lookup(r[key])
            assert port is not None and port.is_a(want), (r["po_number"], r[key])
        ready, arrive = r["cargo_ready_date"], r["must_arrive_date"]
        assert dt.datetime(2026, 12, 1) <= ready <= dt.datetime(2027, 3, 31)
        assert 30 <= (arrive - ready).days <= 60
        assert isinstance(r["sku"], str) and isinstance(r["hs_code"], str)
        assert isinstance(r["quantity"], int) and r["quantity"] > 0
        assert r["currency"] == "USD" and r["unit_cost"] > 0
        assert r["metadata.department"]
    assert any(r["sku"].startswith("0") for r in purchase_orders)


def test_bookings_name_sample_pos_and_seeded_refs(
    bookings: list[Record], purchase_orders: list[Record]
) -> None:
    assert 10 <= len(bookings) <= 15
    assert len({b["booking_name"] for b in bookings}) == len(bookings)
    known_pos = {r["po_number"] for r in purchase_orders}
    named = [po.strip() for b in bookings for po in b["po_numbers"].split(",")]
    assert set(named) <= known_pos and len(named) == len(set(named))
    for b in bookings:
        for col in BOOKING_COLUMNS.columns:
            if col.required:
                assert b[col.key] not in (None, ""), col.key
            if col.type.value == "enum" and b[col.key] is not None:
                assert b[col.key] in col.enum_values, col.key
        assert b["shipper_entity_ref"] in SEEDED_REFS["company_entities"]
        assert b["consignee_entity_ref"] == "acme-us"
        assert b["origin_location_ref"] in SEEDED_REFS["locations"]
        assert b["destination_location_ref"] in SEEDED_REFS["locations"]
        if b["unit_type"] == "pallet":
            assert b["atomic_count"]
        if b["li_ion"] == "yes":
            assert b["li_ion_packing"]


def test_bookings_cover_every_mode(bookings: list[Record]) -> None:
    kinds = {(b["freight_type"], b["load_type"]) for b in bookings}
    assert {("ocean", "FCL"), ("ocean", "LCL"), ("air", None), ("trucking", None)} <= kinds
    for b in bookings:
        if b["freight_type"] == "ocean":
            origin, destination = lookup(b["origin_port"]), lookup(b["destination_port"])
            assert origin is not None and origin.is_seaport
            assert destination is not None and destination.is_seaport
            containers = sum(b[k] or 0 for k in (
                "containers_20", "containers_40", "containers_40hc", "containers_45hc"))
            assert (containers > 0) == (b["load_type"] == "FCL")
        elif b["freight_type"] == "air":
            for key in ("origin_port", "destination_port"):
                port = lookup(b[key]) or lookup_iata(b[key])
                assert port is not None and port.is_airport, b[key]
        else:
            assert b["is_ltl"] and b["payment_terms"] and b["destination_location_ref"]
    air_codes = [b["origin_port"] for b in bookings if b["freight_type"] == "air"]
    assert any(len(c) == 3 for c in air_codes) and any(len(c) == 5 for c in air_codes)


def test_goods_leaving_china_have_a_chinese_description(bookings: list[Record]) -> None:
    for b in bookings:
        origin = b["origin_port"]
        port = (lookup(origin) or lookup_iata(origin)) if origin else None
        if port is not None and port.country == "CN":
            assert b["export_description_zh"], b["booking_name"]


@pytest.mark.parametrize(
    ("path", "column_set"),
    [(PO_XLSX, PURCHASE_ORDER_COLUMNS), (BOOKINGS_XLSX, BOOKING_COLUMNS)],
)
def test_the_reader_finds_the_data_sheet(path: Path, column_set: ColumnSet) -> None:
    table = read_table(path, score_headers=column_set.score)
    assert table.sheet == column_set.sheet_name
    assert table.header_row == 1
    assert len(table) == len(records(path, column_set))


def _load_script(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the script runs.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_committed_samples_match_the_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _load_script(monkeypatch).make_samples(tmp_path)
    assert [p.name for p in written] == [PO_XLSX.name, BOOKINGS_XLSX.name, ERP_CSV.name]
    for fresh in written:
        assert fresh.read_bytes() == (SAMPLES / fresh.name).read_bytes(), (
            f"{fresh.name} is stale: run python samples/make_samples.py"
        )
