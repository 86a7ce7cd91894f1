"""Cell types: each reads and writes its cells, and reads the column facts from the spec."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from bulkpo import cells
from bulkpo.columns import Column, ColumnSet, ColumnType, Kind
from bulkpo.mapping import map_headers
from bulkpo.purchase_orders import validate_purchase_orders
from bulkpo.table import CellValue, Row, Table

T = ColumnType


def test_every_column_type_has_a_cell_type() -> None:
    assert set(cells.CELL_TYPES) == set(ColumnType)


@pytest.mark.parametrize(("type_", "value", "written"), [
    (T.DATE, "2026-03-01T10:00:00Z", dt.date(2026, 3, 1)),
    (T.DATE, dt.date(2026, 3, 2), dt.date(2026, 3, 2)),
    (T.DATE, "soon", "soon"),
    (T.INTEGER, "12", 12),
    (T.INTEGER, 3.0, 3),
    (T.INTEGER, "twelve", "twelve"),
    (T.DECIMAL, "1.50", Decimal("1.50")),
    (T.DECIMAL, 2.5, Decimal("2.5")),
    (T.DECIMAL, "n/a", "n/a"),
    (T.TEXT, 5, "5"),
    (T.TEXT, "00123", "00123"),
    (T.COUNTRY, "US", "US"),
    (T.LIST, "a, b", "a, b"),
    (T.DATE, None, None),
    (T.DECIMAL, "", None),
])
def test_write_gives_what_the_cell_holds(type_: ColumnType, value: Any, written: Any) -> None:
    col = Column("k", "K", type_, "", "", "")
    got = cells.write(col, value)
    assert got == written and type(got) is type(written)


def sheet(columns: ColumnSet, *rows: list[CellValue]) -> Table:
    headers = [c.header for c in columns.columns]
    return Table("t.csv", "S", 1, headers, [Row(n, list(r)) for n, r in enumerate(rows, 2)])


def small_set(**facts: bool) -> ColumnSet:
    return ColumnSet(Kind.PURCHASE_ORDERS, "S", (
        Column("po_number", "PO", T.TEXT, "", "", "", required=True, po_level=True),
        Column("sku", "SKU", T.TEXT, "", "", "", required=True),
        Column("quantity", "Qty", T.INTEGER, "", "", "", required=True),
        Column("code", "Code", T.TEXT, "", "", "", identifier=facts.get("identifier", False)),
        Column("count", "Count", T.INTEGER, "", "", "", positive=facts.get("positive", False)),
    ))


def codes(columns: ColumnSet, *rows: list[CellValue]) -> list[str]:
    return [i.code for i in validate_purchase_orders(sheet(columns, *rows), columns).issues]


def test_identifier_comes_from_the_column_not_its_key() -> None:
    row = ["P", "A", 1, 123456789012, 1]
    assert codes(small_set(identifier=True), row) == ["damaged_number"]
    assert codes(small_set(), row) == []


def test_positive_comes_from_the_column_not_its_key() -> None:
    row = ["P", "A", 1, "c", 0]
    assert codes(small_set(positive=True), row) == ["not_positive"]
    assert codes(small_set(), row) == []


def test_api_required_columns_are_required_in_the_header() -> None:
    columns = ColumnSet(Kind.BOOKINGS, "S", (
        Column("name", "Name", T.TEXT, "", "", "", required=True),
        Column("ref", "Ref", T.TEXT, "", "", "", api_required=True),
    ))
    table = Table("t.csv", "S", 1, ["Name"], [Row(2, ["x"])])
    assert map_headers(table, columns).missing == ["ref"]
    assert map_headers(table, columns, defaults={"ref": "r"}).missing == []
