"""Validation's fast paths (memos, clean-row shortcuts) give exactly what the careful path gives.

Many generated rows, clean and dirty, with valid and invalid values of every column
type, are validated twice: as shipped, and with ``validation.FAST_PATHS`` off, where
every cell is converted on its own and every PO row goes through the careful path.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest

from bulkpo import validation
from bulkpo.bookings import validate_bookings
from bulkpo.columns import BOOKING_COLUMNS, PURCHASE_ORDER_COLUMNS, Column, ColumnSet, ColumnType
from bulkpo.purchase_orders import validate_purchase_orders
from bulkpo.table import CellValue, Row, Table
from bulkpo.validation import ValidationResult

T = ColumnType

# Per type: values a cell may hold, clean and dirty, as a sheet gives them.
POOLS: dict[ColumnType, list[CellValue]] = {
    T.TEXT: ["A-1", "00123", "Lamp", " padded ", 12345, 123456789012, 1.5, 7.0, "1.23E+11",
             "12.0", "#N/A", dt.date(2026, 3, 4), True, "", None],
    T.INTEGER: [1, 2, 3, 5, 0, -3, "7", " 8 ", "1,000", "abc", "O1", 2.0, 2.5, "#REF!", "", None],
    T.DECIMAL: [1.25, 3, 0, -1, "12.50", "1,234.50", "x", "1e3", 2.5, "#DIV/0!", None],
    T.DATE: [dt.date(2026, 3, 1), dt.datetime(2026, 4, 2, 10, 30), "2026-03-01", "03/04/2026",
             "13/04/2026", "04/13/2026", "2026-13-01", "31/02/2026", 45000, "45000", 1e9,
             "1 Mar 2026", "bad", True, None],
    T.BOOLEAN: [True, False, "yes", "No", "x", 1, 0, 2, "maybe", "#N/A", None],
    T.COUNTRY: ["US", "cn", "UK", "Germany", "XX", 1, "#N/A", None],
    T.CURRENCY: ["USD", "usd", "RMB", "ZZZ", "€", None],
    T.PORT: ["CNSHG", "CNYTN", "USLAX", "cnngb", "CNNGB", "ZZZZZ", "LAX", 7, "#NAME?", None],
    T.HS_CODE: ["9405.20", "8309.90.10.00", 9405.2, 94052000, "94", "ab", None],
    T.LIST: ["PO-1", "PO-1, PO-2", "PO-1:A-1=5", "PO-1:A-1=x", "PO-1;PO-1", 12, "", None],
}


# Per type: clean values only, for the rows that take the fast path.
CLEAN: dict[ColumnType, list[CellValue]] = {
    T.TEXT: ["A-1", "00123", "Lamp", " padded "],
    T.INTEGER: [1, 2, 3, 5, "7"],
    T.DECIMAL: [1.25, 3, "12.50", "1,234.50"],
    T.DATE: [dt.date(2026, 3, 1), "2026-03-01", "1 Mar 2026"],
    T.COUNTRY: ["US", "cn"],
    T.CURRENCY: ["USD", "usd"],
    T.PORT: ["CNSHG", "CNYTN", "USLAX"],
    T.HS_CODE: ["9405.20", "8309.90.10.00"],
}


def cell(rng: random.Random, col: Column, dirt: float = 1.0) -> CellValue:
    """A value for ``col``: from the clean values, or with chance ``dirt`` from any."""
    if col.enum_values and (rng.random() < 0.6 or rng.random() > dirt):
        value = rng.choice(col.enum_values)
        return rng.choice([value, value.upper(), f" {value} "])
    if col.type is T.ENUM:
        return rng.choice(["bogus", "", None, 3])
    if rng.random() > dirt and col.type in CLEAN:
        return rng.choice(CLEAN[col.type])
    return rng.choice(POOLS[col.type])


def po_table(seed: int, rows: int) -> Table:
    """PO rows grouped into POs that mostly repeat their PO-level values (the fast case)."""
    rng = random.Random(seed)
    columns = PURCHASE_ORDER_COLUMNS.columns
    canonical: dict[str, list[CellValue]] = {}
    out = []
    for number in range(2, rows + 2):
        name = f"PO-{rng.randrange(rows // 3 + 1)}" if rng.random() < 0.97 else cell(
            rng, columns[0])
        key = str(name)
        if key not in canonical:
            canonical[key] = [cell(rng, c, dirt=0.03) for c in columns]
        values: list[CellValue] = []
        for i, col in enumerate(columns):
            if i == 0:
                values.append(name)
            elif col.po_level:
                roll = rng.random()
                values.append(canonical[key][i] if roll < 0.93 else None if roll < 0.99
                              else cell(rng, col))
            elif col.key == "sku":
                values.append(f"S-{rng.randrange(60)}" if rng.random() < 0.95 else cell(rng, col))
            elif col.key == "line_number":
                values.append(None if rng.random() < 0.7 else rng.choice([1, 2, 3, 4, "x", 0]))
            elif col.key == "quantity":
                values.append(rng.randrange(1, 500) if rng.random() < 0.9 else cell(rng, col))
            else:
                values.append(cell(rng, col, dirt=0.02))
        out.append(Row(number, values[: rng.choice([len(values)] * 9 + [len(values) - 3])]))
    headers = [c.header for c in columns] + ["metadata.size"]
    for row in out:
        if rng.random() < 0.3:
            row.values += [None] * (len(columns) - len(row.values)) + [rng.choice(["S", "M"])]
    return Table("gen.xlsx", "Purchase Orders", 1, headers, out)


def generic_table(seed: int, rows: int, columns: ColumnSet) -> Table:
    rng = random.Random(seed)
    data = [Row(n, [cell(rng, c) for c in columns.columns]) for n in range(2, rows + 2)]
    return Table("gen.xlsx", columns.sheet_name, 1, [c.header for c in columns.columns], data)


def both(
    monkeypatch: pytest.MonkeyPatch, run: Callable[[], ValidationResult]
) -> tuple[ValidationResult, ValidationResult]:
    fast = run()
    monkeypatch.setattr(validation, "FAST_PATHS", False)
    careful = run()
    monkeypatch.setattr(validation, "FAST_PATHS", True)
    return fast, careful


def assert_same(fast: ValidationResult, careful: ValidationResult) -> None:
    assert fast.issues == careful.issues
    assert fast.invalid_rows == careful.invalid_rows
    assert fast.purchase_orders == careful.purchase_orders
    assert fast.bookings == careful.bookings


@pytest.mark.parametrize("seed", range(6))
def test_purchase_orders_fast_path_equals_careful_path(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = po_table(seed, 1000)
    for order in (None, "dmy"):
        fast, careful = both(monkeypatch, lambda order=order: validate_purchase_orders(
            table, PURCHASE_ORDER_COLUMNS, date_order=order,
            defaults={"currency": "USD"} if seed % 2 else None))
        assert_same(fast, careful)
    # The generated sheet must exercise both paths: valid POs and many kinds of problems.
    assert len(fast.purchase_orders) > 5
    assert len({i.code for i in fast.issues}) >= 15
    assert len(fast.invalid_rows) > 100


@pytest.mark.parametrize("seed", range(3))
def test_bookings_fast_path_equals_careful_path(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = generic_table(seed, 800, BOOKING_COLUMNS)
    fast, careful = both(monkeypatch, lambda: validate_bookings(
        table, BOOKING_COLUMNS, known_po_numbers={"PO-1"}))
    assert_same(fast, careful)
    assert len({i.code for i in fast.issues}) >= 12


def test_careful_path_is_really_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without this, a flag nobody reads would make the tests above pass trivially.
    calls = 0
    real = validation.Checker.state

    def counting(self: validation.Checker, pos: int) -> validation.RowState:
        nonlocal calls
        calls += 1
        return real(self, pos)

    monkeypatch.setattr(validation.Checker, "state", counting)
    table = po_table(1, 300)
    validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS)
    fast_calls, calls = calls, 0
    monkeypatch.setattr(validation, "FAST_PATHS", False)
    validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS)
    assert calls == len(table.rows) > fast_calls


def test_pos_sharing_their_po_level_values_assemble_as_the_careful_path_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large sheet's POs repeat a few hundred sets of PO-level values; a PO whose set
    already made a PO with no problem takes that PO's checked fields. A set with a port
    warning, a port error or reversed dates, and a PO whose lines arrive on two dates,
    still take the careful way, and every PO comes out as the careful path makes it."""
    from bulkpo.purchase_orders import rules

    headers = ["PO Number", "Seller", "Incoterm", "Transportation Mode", "Cargo Ready Date",
               "Must Arrive Date", "Origin Port", "Destination Port", "SKU", "Quantity"]
    sets: list[list[CellValue]] = [
        ["Acme", "FOB", "ocean", dt.date(2026, 3, 1), dt.date(2026, 5, 1), "CNYTN", "USLAX"],
        ["Acme", "FOB Shanghai", "ocean", dt.date(2026, 3, 1), dt.date(2026, 5, 1), "CNSHA",
         "USLAX"],
        ["Bolt", "EXW", "air", dt.date(2026, 3, 2), dt.date(2026, 3, 9), "CNNGB", "USLAX"],
        ["Bolt", "FOB", "ocean", dt.date(2026, 3, 2), dt.date(2026, 5, 2), "USORD", "USLAX"],
        ["Cask", "FOB", "ocean", dt.date(2026, 6, 1), dt.date(2026, 5, 1), "CNYTN", "USLAX"],
        ["Dune", "FOB", "ocean", dt.date(2026, 3, 1), dt.date(2026, 5, 1), "ZZZZZ", "USLAX"],
    ]
    rows: list[Row] = []
    for po in range(48):
        values = sets[po % len(sets)]
        for line in range(3):
            cells = [f"PO-{po}", *values, f"S-{line}", 10 + line]
            if po % 7 == 0 and line == 2:
                cells[5] = dt.date(2026, 5, 20)  # this PO's lines arrive on two dates
            rows.append(Row(len(rows) + 2, cells))
    table = Table("po.xlsx", "Purchase Orders", 1, headers, rows)
    made: list[rules._Shared] = []
    shared_init = rules._Shared.__init__

    def keep(self: rules._Shared) -> None:
        shared_init(self)
        made.append(self)

    monkeypatch.setattr(rules._Shared, "__init__", keep)
    fast, careful = both(monkeypatch, lambda: validate_purchase_orders(
        table, PURCHASE_ORDER_COLUMNS))
    assert_same(fast, careful)
    # The three sets with no problem were each remembered by the fast run; the others not.
    assert len(made[0].clean) == 3 and not made[1].clean
    # Sets 4 and 5 (reversed dates, an unknown port) hold their 16 POs back, except PO-28:
    # its lines arrive on two dates, so the PO has no one must-arrive date to be early.
    assert len(fast.purchase_orders) == 33 and {
        po.metadata.get("incoterm_place", [""])[0] for po in fast.purchase_orders
    } == {"", "Shanghai"}
    split = next(po for po in fast.purchase_orders if po.name == "PO-7")
    assert split.must_arrive_date is None
    assert [line.must_arrive_date for line in split.lines][-1] == dt.date(2026, 5, 20)
