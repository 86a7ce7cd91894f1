"""Input files for tests, written with the canonical headers of the column specs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from bulkpo.columns import NETWORK_COLUMNS, PURCHASE_ORDER_COLUMNS

PO_KEYS = (
    "po_number", "status", "buyer_name", "buyer_ref", "buyer_country", "seller_name",
    "seller_country", "incoterm", "transportation_mode", "cargo_ready_date", "must_arrive_date",
    "origin_port", "destination_port", "line_number", "sku", "product_name", "quantity",
    "unit_of_measure", "unit_cost", "currency", "hs_code",
)


def po_row(po: int, line: int, **changes: Any) -> dict[str, Any]:
    """One valid line row of PO ``PO-<po>``; ``changes`` override columns by key."""
    row: dict[str, Any] = {
        "po_number": f"PO-{po:05d}",
        "status": "open",
        "buyer_name": "Acme Imports Inc",
        "buyer_ref": "acme-us",
        "buyer_country": "US",
        "seller_name": "Shenzhen Lights Co",
        "seller_country": "CN",
        "incoterm": "FOB",
        "transportation_mode": "ocean",
        "cargo_ready_date": dt.date(2026, 12, 1) + dt.timedelta(days=po % 60),
        "must_arrive_date": dt.date(2027, 2, 1) + dt.timedelta(days=po % 60),
        "origin_port": "CNYTN",
        "destination_port": "USLAX",
        "line_number": line,
        "sku": f"{po:05d}-{line}",
        "product_name": f"Desk lamp model {line}",
        "quantity": 100 * line,
        "unit_of_measure": "PCS",
        "unit_cost": "12.50",
        "currency": "USD",
        "hs_code": "9405.20",
    }
    row.update(changes)
    return row


def po_rows(count: int, lines: int = 2, start: int = 1) -> list[dict[str, Any]]:
    return [po_row(po, line) for po in range(start, start + count) for line in range(1, lines + 1)]


def write_po_workbook(
    path: Path, rows: Iterable[dict[str, Any]], keys: Sequence[str] = PO_KEYS
) -> Path:
    """A 'Purchase Orders' sheet with canonical headers; text cells stay text."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = PURCHASE_ORDER_COLUMNS.sheet_name
    ws.append([PURCHASE_ORDER_COLUMNS.by_key(key).header for key in keys])
    for row in rows:
        ws.append([row.get(key) for key in keys])
    wb.save(path)
    return path


# ---------------------------------------------------------------- network sheets

NETWORK_KEYS = ("network_type", "ref", "name", "owner_ref", "street", "city", "country",
                "unlocode", "vat_number")
NEW_ENTITY = ("entity", "sup-foshan-ceramics", "Foshan Ceramics Co Ltd", None, "8 Humen Rd",
              "Dongguan", "CN", "CNDGG", "CN 91441900")
NEW_LOCATION = ("location", "loc-dongguan-factory", "Dongguan Toys factory",
                "sup-foshan-ceramics", "12 Chang'an Park", "Dongguan", "CN", None, None)
# A location of an entity the account has already (the sandbox's seeded buyer).
OWN_LOCATION = ("location", "loc-savannah-dc", "Acme Savannah DC", "acme-us",
                "1 Port Way", "Savannah", "US", "USSAV", None)


def workbook_with_network(
    path: Path, network: list[tuple[Any, ...]], pos: list[dict[str, Any]],
    sheet: str = "Suppliers",
) -> Path:
    """A network sheet (rows in NETWORK_KEYS order), then a PO sheet with party refs."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    ws.append([NETWORK_COLUMNS.by_key(key).header for key in NETWORK_KEYS])
    for row in network:
        ws.append(list(row))
    keys = (*PO_KEYS, "seller_ref", "origin_address_ref", "destination_address_ref")
    po_sheet = wb.create_sheet(PURCHASE_ORDER_COLUMNS.sheet_name)
    po_sheet.append([PURCHASE_ORDER_COLUMNS.by_key(key).header for key in keys])
    for po in pos:
        po_sheet.append([po.get(key) for key in keys])
    wb.save(path)
    return path


def network_pos() -> list[dict[str, Any]]:
    """Two POs of two lines naming the network rows above as seller, origin, destination."""
    extra = {"seller_ref": "sup-foshan-ceramics", "origin_address_ref": "loc-dongguan-factory",
             "destination_address_ref": "loc-savannah-dc"}
    return [po_row(po, line, **extra) for po in (1, 2) for line in (1, 2)]
