"""A messy PO workbook for the page's tests, and the page itself over a sandbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl

from bulkpo.config import Settings
from bulkpo.ui import UiConfig, UiServer, running_ui

# "Stück" names no bulkpo field: the quantity column is left for the user to map.
HEADERS = ["PO Number", "Buyer", "Seller", "Incoterm", "Transportation Mode", "Cargo Ready Date",
           "Origin Port", "Destination Port", "Line Number", "SKU", "Product Name", "Stück",
           "Unit Cost", "Currency"]
QUANTITY_COL = HEADERS.index("Stück")
COST_COL = HEADERS.index("Unit Cost")
BAD_ROW = 5  # the sheet row whose unit cost is "abc"


def messy_workbook(path: Path, pos: int = 4, poison: str = "") -> Path:
    """``pos`` POs of two lines each; PO 1 says "FOB Shenzhen" (fixed by bulkpo), row 5's
    unit cost is not a number, and ``poison`` goes into PO 1's product name."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Orders"
    sheet.append(HEADERS)
    for n in range(pos):
        for line in (1, 2):
            sheet.append([
                f"PO-UI-{n + 1:03}", "Acme Imports Inc", "Shenzhen Bright Lights Co Ltd",
                "FOB Shenzhen" if n == 0 else "FOB", "ocean", dt.datetime(2026, 12, 1 + n),
                "CNYTN", "USLGB", line, f"SKU-{n}-{line}",
                (poison or f"Lamp {n}-{line}") if n == 0 else f"Lamp {n}-{line}",
                100 * line, "abc" if sheet.max_row + 1 == BAD_ROW else 4.25, "USD",
            ])
    workbook.save(path)
    return path


@contextmanager
def page(settings: Settings, tmp_path: Path, **options: Any) -> Iterator[UiServer]:
    """The page on a free port, its files under ``tmp_path``; ``options`` are UiConfig's."""
    options.setdefault("mappings_dir", tmp_path / "mappings")
    config = UiConfig(settings=settings, workdir=tmp_path / "ui", **options)
    with running_ui(config) as server:
        yield server
