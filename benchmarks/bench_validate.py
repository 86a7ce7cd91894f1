"""How fast purchase-order validation is, against a raw calamine read of the same file.

Run: python benchmarks/bench_validate.py [rows]   (default 100,000 rows x 15 columns)

Prints, from one run: the raw python-calamine read, bulkpo's read + validate, a
pandas.read_excel(openpyxl) + one pydantic model per row baseline, their ratios,
and peak memory of the validation. Not a test; the figures go into reviews.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from pydantic import BaseModel
from python_calamine import CalamineWorkbook

from bulkpo.columns import PURCHASE_ORDER_COLUMNS
from bulkpo.table import Row, Table
from bulkpo.validate import validate_purchase_orders

HEADERS = ["PO Number", "Status", "Seller", "Seller Country", "Incoterm", "Transportation Mode",
           "Cargo Ready Date", "Must Arrive Date", "Origin Port", "Destination Port",
           "Line Number", "SKU", "Quantity", "Unit Cost", "Currency"]


def write_workbook(path: Path, rows: int) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Purchase Orders")
    ws.append(HEADERS)
    ports = ["CNYTN", "CNSHG", "VNSGN", "CNNGB"]
    for i in range(rows):
        po = i // 5
        ws.append([
            f"PO-{po:07d}", "open", f"Supplier {po % 300}", "CN", "FOB", "ocean",
            dt.date(2026, 3, 1) + dt.timedelta(days=po % 60),
            dt.date(2026, 5, 1) + dt.timedelta(days=po % 60),
            ports[po % 4], "USLAX", i % 5 + 1, f"{i % 5000:06d}", 100 + i % 900,
            round(1 + (i % 1000) / 100, 2), "USD",
        ])
    wb.save(path)


def calamine_rows(path: Path) -> list[list[Any]]:
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Purchase Orders")
    rows: list[list[Any]] = sheet.to_python()
    return rows


def read_table(path: Path) -> Table:
    try:
        from bulkpo.sheets.reader import read_table as bulkpo_read
    except ImportError:
        rows = calamine_rows(path)
        return Table(str(path), "Purchase Orders", 1, [str(h) for h in rows[0]],
                     [Row(i + 2, r) for i, r in enumerate(rows[1:])])
    return bulkpo_read(path, sheet="Purchase Orders")


class LineModel(BaseModel):
    po_number: str
    status: str
    seller: str
    seller_country: str
    incoterm: str
    mode: str
    cargo_ready_date: dt.date
    must_arrive_date: dt.date
    origin_port: str
    destination_port: str
    line_number: int
    sku: str
    quantity: int
    unit_cost: Decimal
    currency: str


def pandas_pydantic(path: Path) -> int:
    frame = pd.read_excel(path, engine="openpyxl", dtype={"SKU": str})
    names = list(LineModel.model_fields)
    models = [LineModel(**dict(zip(names, rec, strict=True)))
              for rec in frame.itertuples(index=False)]
    return len(models)


def timed(label: str, fn: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    took = time.perf_counter() - start
    print(f"{label:<44} {took:7.2f} s")
    return took, result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pos.xlsx"
        start = time.perf_counter()
        write_workbook(path, rows)
        print(f"wrote {rows:,} rows x {len(HEADERS)} columns "
              f"({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s")
        raw, _ = timed("raw python-calamine read", lambda: calamine_rows(path))
        read, table = timed("bulkpo read_table", lambda: read_table(path))
        assert isinstance(table, Table)
        tracemalloc.start()
        check, result = timed("bulkpo validate_purchase_orders",
                              lambda: validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # The same validation without tracemalloc, which slows allocation-heavy code.
        check, result = timed("bulkpo validate (untraced)",
                              lambda: validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS))
        base, _ = timed("pandas.read_excel(openpyxl) + pydantic/row", lambda: pandas_pydantic(path))
        total = read + check
        print(f"{'bulkpo read + validate':<44} {total:7.2f} s")
        print(f"ratio read+validate / raw calamine:           {total / raw:5.2f}x "
              "(target <= 1.5x)")
        print(f"ratio validate only / raw calamine:           {check / raw:5.2f}x")
        print(f"ratio pandas+pydantic / bulkpo read+validate: {base / total:5.2f}x")
        print(f"validation peak memory (tracemalloc):         {peak / 1e6:.1f} MB")
        pos = getattr(result, "purchase_orders", [])
        print(f"valid POs: {len(pos):,}; issues: {len(getattr(result, 'issues', [])):,}")


if __name__ == "__main__":
    main()
