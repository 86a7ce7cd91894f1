"""Regenerate the ERP export corpus and its expectations (python tests/erp_corpus/make_corpus.py).

Each file is written the way its system exports it (sheet name, rows above the
header, header labels, value formats); SOURCES.md says where each format comes
from. The purchase orders are modelled once, as a person would read them, and
that model is both rendered into the system's format and written out as
``expected/<stem>.json``: the expectation never depends on parsing the file.
Deterministic: fixed dates, no randomness, fixed workbook timestamps.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
FIXED_TIME = dt.datetime(2026, 11, 27, 9, 0, 0)

Row = Sequence[Any]
Json = dict[str, Any]


# --- the model: what a person reads ---------------------------------------------------------


def dec(value: str | int) -> Decimal:
    return Decimal(str(value))


def number(value: Decimal | int | str) -> int | float:
    """A JSON number: integral values as int so 1200 and 1200.0 compare equal either way."""
    d = dec(value) if not isinstance(value, Decimal) else value
    d = d.normalize()
    return int(d) if d == d.to_integral_value() else float(d)


def ln(
    line: int,
    sku: str | None,
    name: str,
    qty: Decimal | int | str,
    uom: str | None,
    price: Decimal | str | None,
    currency: str | None,
    **extra: Any,
) -> Json:
    """One expected line; ``price`` is already per ONE unit."""
    out: Json = {
        "line": line,
        "sku": sku,
        "product_name": name,
        "quantity": number(qty),
        "unit_of_measure": uom,
        "unit_price": None if price is None else number(price),
        "currency": currency,
    }
    out.update(extra)
    return out


def po(name: str, lines: list[Json], **fields: Any) -> Json:
    out: Json = {"name": name}
    out.update({k: v for k, v in fields.items() if v is not None})
    out["lines"] = lines
    return out


def expect_import(
    system: str,
    export: str,
    pos: list[Json],
    skipped: Iterable[tuple[int, str]] = (),
    needs_mapping: Iterable[str] = (),
    **extra: Any,
) -> Json:
    out: Json = {"system": system, "export": export, "outcome": "import"}
    out.update(extra)
    out["purchase_orders"] = pos
    out["skipped_rows"] = [{"row": r, "why": why} for r, why in skipped]
    out["needs_mapping"] = list(needs_mapping)
    return out


def expect_question(system: str, export: str, about: str, **extra: Any) -> Json:
    out: Json = {"system": system, "export": export, "outcome": "question", "about": about}
    out.update(extra)
    return out


# A value with no one Flexport meaning, and the Flexport values a person must choose from.
CASE_OR_BOX = ["CTN", "PK"]
NOT_YET_ORDERED = ["open"]


def stop_on(
    out: Json,
    rows: Sequence[Row],
    po_column: str,
    column: str,
    asks: dict[str, list[str]],
    *,
    po_level: bool = False,
    line_column: str | None = None,
) -> Json:
    """Turn an import expectation partial: the POs with a value in ``asks`` stop, each of
    their rows holding it named with the candidates its question must offer; the other POs
    still import exactly. ``rows[0]`` is the header and file row n is ``rows[n - 1]``; a
    PO-level value fills down onto continuation rows (blank PO cell) as bulkpo reads them,
    and with ``line_column`` only rows with a value there are lines (NetSuite's main-line
    row is not)."""
    header = list(rows[0])
    po_at, value_at = header.index(po_column), header.index(column)
    line_at = None if line_column is None else header.index(line_column)
    stopped: list[Json] = []
    po_name, value = "", ""
    for number_, row in enumerate(rows[1:], start=2):
        cell = "" if row[po_at] is None else str(row[po_at])
        if cell:
            po_name, value = cell, ""
        if row[value_at] not in (None, ""):
            value = str(row[value_at])
        elif not (po_level and not cell):
            value = ""
        if line_at is not None and row[line_at] in (None, ""):
            continue
        if value in asks:
            stopped.append({"row": number_, "po": po_name, "column": column, "value": value,
                            "candidates": asks[value]})
    names = {s["po"] for s in stopped}
    out["outcome"] = "partial"
    out["purchase_orders"] = [p for p in out["purchase_orders"] if p["name"] not in names]
    out["stopped_rows"] = sorted(out.get("stopped_rows", []) + stopped,
                                 key=lambda s: (s["row"], s["column"]))
    return out


# --- writers --------------------------------------------------------------------------------


def csv_bytes(
    rows: Iterable[Row],
    *,
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
    encoding: str = "utf-8",
    terminator: str = "\r\n",
    bom: bool = False,
) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=terminator)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[Row]]], date_format: str) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
        for cells in ws.iter_rows():
            for cell in cells:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = date_format + " hh:mm:ss"
                elif isinstance(cell.value, dt.date):
                    cell.number_format = date_format
    wb.properties.creator = "corpus"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return fixed_zip_times(buf.getvalue())


def fixed_zip_times(data: bytes) -> bytes:
    """The same workbook with every zip entry stamped FIXED_TIME, so regenerating is byte-exact."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            stamped = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            stamped.compress_type = zipfile.ZIP_DEFLATED
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time as "modified" whatever the properties say
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*",
                    rb"\g<1>" + FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode(),
                    content,
                )
            dst.writestr(stamped, content)
    return out.getvalue()


# --- 1. SAP ME2N, English ALV labels, spreadsheet export ------------------------------------

SAP_SUPPLIERS = {
    "100234": "Ningbo Homeware Co., Ltd.",
    "100311": "Shenzhen Bright Lights Co Ltd",
    "100402": "Qingdao Textile Imp. & Exp. Co.",
}


def sap_me2n_en() -> tuple[bytes, Json]:
    # (PO, supplier, delivery date, [(item, material, text, qty, unit, net price, per)])
    orders = [
        (
            "4500012301",
            "100234",
            dt.date(2027, 1, 15),
            [
                (10, "HW-1001", "Ceramic mug 350ml, white", 2400, "PC", "85.00", 100),
                (20, "HW-1002", "Ceramic mug 350ml, black", 2400, "PC", "85.00", 100),
                (30, "HW-2040", "Bamboo cutting board", 600, "PC", "3.10", 1),
            ],
        ),
        (
            "4500012302",
            "100311",
            dt.date(2027, 1, 22),
            [
                (10, "LMP-100", "LED desk lamp, black", 1200, "PC", "425.00", 100),
                (20, "LMP-220", "Clip-on reading light", 800, "PC", "2.80", 1),
            ],
        ),
        (
            "4500012303",
            "100402",
            dt.date(2027, 2, 5),
            [
                (10, "TX-3300", "Cotton bath towel 70x140", 1500, "PC", "1250.00", 1000),
            ],
        ),
        (
            "4500012304",
            "100234",
            dt.date(2027, 2, 12),
            [
                (10, "HW-3100", "Glass storage jar 1L", 50, "CAR", "36.00", 1),
                (20, "HW-1001", "Ceramic mug 350ml, white", 1200, "PC", "86.00", 100),
            ],
        ),
    ]
    header = [
        "Purch.Doc.",
        "Item",
        "Type",
        "Doc. Date",
        "Supplier/Supplying Plant",
        "Material",
        "Short Text",
        "Plnt",
        "PO Quantity",
        "Order Unit",
        "Net Price",
        "Per",
        "Crcy",
        "Deliv. Date",
    ]
    rows: list[Row] = [header]
    pos = []
    totals: dict[str, int] = {}
    for number_, supplier, deliv, items in orders:
        lines = []
        for item, mat, text, qty, unit, net, per in items:
            rows.append(
                [
                    number_,
                    item,
                    "NB",
                    dt.date(2026, 11, 3),
                    f"{supplier} {SAP_SUPPLIERS[supplier]}",
                    mat,
                    text,
                    "1000",
                    qty,
                    unit,
                    float(net),
                    per,
                    "USD",
                    deliv,
                ]
            )
            totals[unit] = totals.get(unit, 0) + qty
            lines.append(ln(item, mat, text, qty, unit, dec(net) / per, "USD"))
        pos.append(
            po(
                number_,
                lines,
                seller_name=SAP_SUPPLIERS[supplier],
                must_arrive_date=deliv.isoformat(),
            )
        )
    skipped = []
    for unit, total in totals.items():
        rows.append([None] * 8 + [total, unit, None, None, None, None])
        skipped.append((len(rows), "totals row"))
    data = xlsx_bytes([("Sheet1", rows)], "dd.mm.yyyy")
    return data, expect_import(
        "SAP ECC / S/4HANA",
        "ME2N (Purchasing Documents per Document Number), ALV grid "
        "exported to spreadsheet, English logon",
        pos,
        skipped,
        [
            "Supplier/Supplying Plant starts with SAP supplier numbers (100234, 100311, 100402): "
            "they are not Flexport entity refs; a value table must translate them"
        ],
    )


# --- 2. SAP ME2N, German logon, local file as CSV with decimal comma ------------------------


def de_number(value: Decimal | int, places: int) -> str:
    text = f"{value:,.{places}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def sap_me2n_de() -> tuple[bytes, Json]:
    suppliers = {
        "200118": "Xiamen Outdoor Gear Co., Ltd.",
        "200204": "Shenzhen Sunrise Electronics Ltd.",
    }
    orders = [
        (
            "4500020101",
            "200118",
            dt.date(2027, 1, 15),
            [
                (10, "OD-5001", "Trekkingstöcke Aluminium, Paar", 1200, "PAA", "1150.00", 100),
                (20, "OD-5002", "Stirnlampe 300 lm", 2000, "ST", "425.00", 100),
            ],
        ),
        (
            "4500020102",
            "200204",
            dt.date(2027, 2, 3),
            [
                (10, "EL-7001", "USB-C Ladegerät 65 W", 500, "ST", "7.90", 1),
                (20, "EL-7002", "Ladekabel USB-C, 2 m", 1500, "ST", "95.00", 100),
            ],
        ),
        (
            "4500020103",
            "200118",
            dt.date(2027, 2, 12),
            [
                (10, "OD-6100", "Isomatte selbstaufblasend", 300, "ST", "14.25", 1),
            ],
        ),
    ]
    rows: list[Row] = [
        ["Einkaufsbelege pro Belegnummer"],
        [],
        [
            "Einkaufsbeleg",
            "Position",
            "Belegdatum",
            "Lieferant/Lieferwerk",
            "Material",
            "Kurztext",
            "Werk",
            "Bestellmenge",
            "Bestellmengeneinheit",
            "Nettopreis",
            "pro",
            "Währung",
            "Lieferdatum",
        ],
    ]
    pos = []
    for number_, supplier, deliv, items in orders:
        lines = []
        for item, mat, text, qty, unit, net, per in items:
            rows.append(
                [
                    number_,
                    item,
                    "04.11.2026",
                    f"{supplier} {suppliers[supplier]}",
                    mat,
                    text,
                    "1000",
                    de_number(qty, 0),
                    unit,
                    de_number(dec(net), 2),
                    per,
                    "EUR",
                    deliv.strftime("%d.%m.%Y"),
                ]
            )
            lines.append(ln(item, mat, text, qty, unit, dec(net) / per, "EUR"))
        pos.append(
            po(number_, lines, seller_name=suppliers[supplier], must_arrive_date=deliv.isoformat())
        )
    data = csv_bytes(rows, delimiter=";", encoding="cp1252")
    return data, expect_import(
        "SAP ECC / S/4HANA",
        "ME2N, German logon, List > Export > Local File, semicolon CSV "
        "(Windows-1252, decimal comma, dot thousands separator, title row above the header)",
        pos,
        (),
        [
            "Lieferant/Lieferwerk starts with SAP supplier numbers (200118, 200204): "
            "they are not Flexport entity refs"
        ],
        decimal_comma=True,
        header_row=3,
    )


# --- 3. SAP EKKO + EKPO tables (SE16N download, technical names) ----------------------------


def sap_tables() -> tuple[bytes, bytes, Json, Json]:
    ekko_rows: list[Row] = [
        [
            "MANDT",
            "EBELN",
            "BUKRS",
            "BSTYP",
            "BSART",
            "LIFNR",
            "EKORG",
            "EKGRP",
            "WAERS",
            "BEDAT",
            "KDATB",
            "INCO1",
            "INCO2",
        ]
    ]
    headers = [
        ("4500031001", "0000100234", "USD", "FOB", "Shanghai"),
        ("4500031002", "0000100311", "USD", "FOB", "Yantian"),
        ("4500031003", "0000100402", "USD", "CIF", "Los Angeles"),
    ]
    for ebeln, lifnr, waers, inco1, inco2 in headers:
        ekko_rows.append(
            [
                "100",
                ebeln,
                "1000",
                "F",
                "NB",
                lifnr,
                "1000",
                "001",
                waers,
                "20261105",
                "00000000",
                inco1,
                inco2,
            ]
        )
    ekpo_rows: list[Row] = [
        [
            "MANDT",
            "EBELN",
            "EBELP",
            "LOEKZ",
            "TXZ01",
            "MATNR",
            "WERKS",
            "MENGE",
            "MEINS",
            "NETPR",
            "PEINH",
            "NETWR",
        ]
    ]
    items = [
        ("4500031001", 10, "", "Ceramic mug 350ml, white", "HW-1001", "2400", "ST", "85.00", 100),
        ("4500031001", 20, "L", "Ceramic mug 350ml, black", "HW-1002", "2400", "ST", "85.00", 100),
        ("4500031001", 30, "", "Bamboo cutting board", "HW-2040", "600", "ST", "3.10", 1),
        ("4500031002", 10, "", "LED desk lamp, black", "LMP-100", "1200", "ST", "425.00", 100),
        (
            "4500031003",
            10,
            "",
            "Cotton bath towel 70x140",
            "TX-3300",
            "1500",
            "ST",
            "1250.00",
            1000,
        ),
        ("4500031003", 20, "", "Cotton hand towel 40x60", "TX-3310", "3000", "ST", "620.00", 1000),
    ]
    lines: dict[str, list[Json]] = {h[0]: [] for h in headers}
    skipped = []
    for ebeln, ebelp, loekz, txz01, matnr, menge, meins, netpr, peinh in items:
        netwr = dec(menge) * dec(netpr) / peinh
        ekpo_rows.append(
            [
                "100",
                ebeln,
                f"{ebelp:05d}",
                loekz,
                txz01,
                matnr,
                "1000",
                f"{dec(menge):.3f}",
                meins,
                netpr,
                str(peinh),
                f"{netwr:.2f}",
            ]
        )
        if loekz == "L":
            skipped.append((len(ekpo_rows), "deleted line (LOEKZ = L)"))
            continue
        lines[ebeln].append(ln(ebelp, matnr, txz01, menge, meins, dec(netpr) / peinh, "USD"))
    pos = [
        po(ebeln, lines[ebeln], incoterm=inco1, incoterm_place=inco2)
        for ebeln, _lifnr, _waers, inco1, inco2 in headers
    ]
    ekko = csv_bytes(ekko_rows)
    ekpo = csv_bytes(ekpo_rows)
    ekko_expected = expect_question(
        "SAP ECC / S/4HANA",
        "SE16N download of table EKKO (purchasing document headers), technical field names",
        "This file holds only PO headers (EKKO: EBELN, LIFNR, WAERS, INCO1/INCO2) and no lines: "
        "which file holds the line items (EKPO, imported with this one as its --headers)?",
        lines_file="sap_se16n_ekpo.csv",
    )
    ekpo_expected = expect_import(
        "SAP ECC / S/4HANA",
        "SE16N download of table EKPO (purchasing document items), technical "
        "field names, joined on EBELN with the EKKO download",
        pos,
        skipped,
        [
            "LIFNR holds SAP supplier numbers (0000100234, ...): not Flexport entity refs",
            "MEINS holds SAP internal unit ST (external PC): a unit table must say it means pieces",
        ],
        headers_file="sap_se16n_ekko.csv",
    )
    return ekko, ekpo, ekko_expected, ekpo_expected


# --- 4. Odoo list export (labels, xlsx) and 5. import-compatible export (CSV) ----------------


def odoo_product(code: str | None, name: str) -> str:
    return f"[{code}] {name}" if code else name


def odoo_labels() -> tuple[bytes, Json]:
    header = [
        "Order Reference",
        "Vendor",
        "Order Deadline",
        "Expected Arrival",
        "Incoterm",
        "Currency",
        "Status",
        "Order Lines/Product",
        "Order Lines/Description",
        "Order Lines/Quantity",
        "Order Lines/Unit of Measure",
        "Order Lines/Unit Price",
    ]
    orders = [
        (
            "P00041",
            "Wood Corner Furniture Co.",
            dt.datetime(2026, 11, 10, 9, 0),
            dt.datetime(2027, 1, 18, 9, 0),
            "[FOB] FREE ON BOARD",
            "USD",
            "Purchase Order",
            [
                ("FURN_8888", "Office Lamp", 500.0, "Units", 12.5),
                ("FURN_7800", "Desk Combination", 120.0, "Units", 145.0),
                (None, "Ship with corner protectors", None, None, None),
            ],
        ),
        (
            "P00042",
            "Ningbo Homeware Co., Ltd.",
            dt.datetime(2026, 11, 12, 14, 30),
            dt.datetime(2027, 1, 25, 14, 30),
            "[EXW] EX WORKS",
            "USD",
            "RFQ Sent",
            [
                ("HW-1001", "Ceramic Mug", 40.0, "Dozens", 9.6),
                (None, "Cable Management Box", 300.0, "Units", 3.75),
            ],
        ),
        (
            "P00043",
            "Wood Corner Furniture Co.",
            dt.datetime(2026, 11, 20, 10, 0),
            dt.datetime(2027, 2, 1, 10, 0),
            "[FOB] FREE ON BOARD",
            "USD",
            "To Approve",
            [
                ("FURN_6666", "Acoustic Bloc Screens", 60.0, "Units", 295.0),
            ],
        ),
    ]
    rows: list[Row] = [header]
    pos = []
    skipped = []
    for ref, vendor, deadline, arrival, incoterm, cur, status, items in orders:
        lines = []
        for i, (code, name, qty, uom, price) in enumerate(items):
            head: list[Any] = (
                [ref, vendor, deadline, arrival, incoterm, cur, status] if i == 0 else [None] * 7
            )
            if qty is None:  # a note line: description only, as Odoo exports display_type lines
                rows.append([*head, None, name, 0.0, None, 0.0])
                skipped.append((len(rows), "note line (no product, quantity 0)"))
                continue
            display = odoo_product(code, name)
            rows.append([*head, display, display, qty, uom, price])
            lines.append(ln(len(lines) + 1, code, name, qty, uom, str(price), cur))
        pos.append(
            po(
                ref,
                lines,
                seller_name=vendor,
                incoterm=incoterm[1:4],
                must_arrive_date=arrival.date().isoformat(),
                status=status,
            )
        )
    data = xlsx_bytes([("Sheet1", rows)], "yyyy-mm-dd")
    return data, stop_on(expect_import(
        "Odoo 17+",
        "Purchase > Orders, Action > Export, XLSX, not import-compatible (field labels, "
        "one2many lines as continuation rows with blank order cells)",
        pos,
        skipped,
        ["Vendor is a display name: it must be mapped to a Flexport seller entity ref"],
        line_numbers="none in the file: lines are numbered 1, 2, 3 in file order within each PO",
    ), rows, "Order Reference", "Status",
        {"RFQ Sent": NOT_YET_ORDERED, "To Approve": NOT_YET_ORDERED}, po_level=True)


def odoo_import_compatible() -> tuple[bytes, Json]:
    header = [
        "id",
        "name",
        "partner_id",
        "date_order",
        "date_planned",
        "currency_id",
        "incoterm_id",
        "order_line/product_id",
        "order_line/name",
        "order_line/product_qty",
        "order_line/product_uom_id",
        "order_line/price_unit",
    ]
    orders = [
        (
            "__export__.purchase_order_51_8f1c2a9e",
            "P00051",
            "Shenzhen Bright Lights Co Ltd",
            "2026-11-12 08:30:00",
            "2027-01-25 08:30:00",
            "USD",
            "[FOB] FREE ON BOARD",
            [
                ("LMP-100", "LED Desk Lamp", "1200.0", "Units", "4.25"),
                ("LMP-220", "Clip-on Reading Light", "800.0", "Units", "2.8"),
            ],
        ),
        (
            "__export__.purchase_order_52_0b7d4e11",
            "P00052",
            "Xiamen Outdoor Gear Co., Ltd.",
            "2026-11-13 10:00:00",
            "2027-02-08 10:00:00",
            "EUR",
            "[EXW] EX WORKS",
            [
                ("OD-5001", "Trekking Poles", "600.0", "Units", "11.5"),
                ("OD-6100", "Self-inflating Mat", "300.0", "Units", "14.25"),
                (None, "Carry Bag, Nylon", "300.0", "Units", "1.1"),
            ],
        ),
        (
            "__export__.purchase_order_53_c3e9f5a0",
            "P00053",
            "Wood Corner Furniture Co.",
            "2026-11-18 16:45:00",
            "2027-02-15 16:45:00",
            "USD",
            "",
            [
                ("FURN_8888", "Office Lamp", "200.0", "Units", "12.5"),
            ],
        ),
    ]
    rows: list[Row] = [header]
    pos = []
    for xid, ref, vendor, order_date, planned, cur, incoterm, items in orders:
        lines = []
        for i, (code, name, qty, uom, price) in enumerate(items):
            head = [xid, ref, vendor, order_date, planned, cur, incoterm] if i == 0 else [""] * 7
            display = odoo_product(code, name)
            rows.append([*head, display, display, qty, uom, price])
            lines.append(ln(i + 1, code, name, qty, uom, price, cur))
        pos.append(
            po(
                ref,
                lines,
                seller_name=vendor,
                incoterm=incoterm[1:4] if incoterm else None,
                must_arrive_date=planned[:10],
            )
        )
    data = csv_bytes(rows, quoting=csv.QUOTE_ALL)
    return data, expect_import(
        "Odoo 17+",
        "Purchase > Orders, Action > Export, CSV, 'I want to update data (import-"
        "compatible export)': technical field names, all cells quoted",
        pos,
        (),
        ["partner_id is a display name: it must be mapped to a Flexport seller entity ref"],
        line_numbers="none in the file: lines are numbered 1, 2, 3 in file order within each PO",
    )


# --- 6. ERPNext Data Import export (v13+) and 7. legacy Data Export (v11/12) ------------------


def erpnext_import() -> tuple[bytes, Json]:
    header = [
        "ID",
        "Series",
        "Supplier",
        "Date",
        "Required By",
        "Currency",
        "Status",
        "Incoterm",
        "ID (Items)",
        "Item Code (Items)",
        "Item Name (Items)",
        "Required By (Items)",
        "Quantity (Items)",
        "UOM (Items)",
        "Rate (Items)",
        "Amount (Items)",
    ]
    orders = [
        (
            "PUR-ORD-2026-00031",
            "Qingdao Textile Imp. & Exp. Co.",
            "2026-11-14",
            "2027-02-05",
            "USD",
            "To Receive and Bill",
            "FOB",
            [
                ("TX-3300", "Cotton Bath Towel 70x140", 1500, "Nos", "1.25"),
                ("TX-3310", "Cotton Hand Towel 40x60", 3000, "Nos", "0.62"),
                ("TX-9001", "Terry Slippers, One Size", 400, "Pair", "1.9"),
            ],
        ),
        (
            "PUR-ORD-2026-00032",
            "Xiamen Outdoor Gear Co., Ltd.",
            "2026-11-16",
            "2027-02-12",
            "USD",
            "To Receive and Bill",
            "CIF",
            [
                ("OD-6100", "Self-inflating Mat", 300, "Nos", "14.25"),
            ],
        ),
        (
            "PUR-ORD-2026-00033",
            "Ningbo Homeware Co., Ltd.",
            "2026-11-18",
            "2027-02-19",
            "USD",
            "Draft",
            "EXW",
            [
                ("HW-3100", "Glass Storage Jar 1L", 50, "Box", "36"),
                ("HW-3101", "Glass Storage Jar 2L", 30, "Box", "48.5"),
            ],
        ),
    ]
    rows: list[Row] = [header]
    pos = []
    for n, (name, supplier, date, required, cur, status, incoterm, items) in enumerate(orders):
        lines = []
        for i, (code, item_name, qty, uom, rate) in enumerate(items):
            head = (
                [name, "PUR-ORD-.YYYY.-", supplier, date, required, cur, status, incoterm]
                if i == 0
                else [""] * 8
            )
            row_id = f"{(n * 7 + i * 3 + 11):02x}a9c4e1d{n}{i}"
            rows.append(
                [
                    *head,
                    row_id,
                    code,
                    item_name,
                    required,
                    qty,
                    uom,
                    float(rate),
                    float(dec(rate) * qty),
                ]
            )
            lines.append(ln(i + 1, code, item_name, qty, uom, rate, cur))
        pos.append(
            po(
                name,
                lines,
                seller_name=supplier,
                incoterm=incoterm,
                must_arrive_date=required,
                status=status,
            )
        )
    data = csv_bytes(rows)
    out = expect_import(
        "ERPNext v13-v15 (Frappe)",
        "Data Import > Export Data, Purchase Order with the Items "
        "child table, CSV: child columns labelled 'Label (Items)', one row per item, parent cells "
        "blank on continuation rows",
        pos,
        (),
        ["Supplier is an ERPNext Supplier name: it must be mapped to a Flexport seller entity ref"],
        line_numbers="none in the file: lines are numbered 1, 2, 3 in file order within each PO",
    )
    out = stop_on(out, rows, "ID", "Status", {"Draft": NOT_YET_ORDERED}, po_level=True)
    return data, stop_on(out, rows, "ID", "UOM (Items)", {"Box": CASE_OR_BOX})


def erpnext_legacy() -> tuple[bytes, Json]:
    # Columns as DataExporter lays them out: ID, then mandatory fields, then optional ones,
    # then "~" and the child table the same way.
    parent = [
        ("name", "ID", "Yes", "Data", ""),
        ("naming_series", "Series", "Yes", "Select", "One of: PUR-ORD-.YYYY.-"),
        ("supplier", "Supplier", "Yes", "Link", "Valid Supplier"),
        ("transaction_date", "Date", "Yes", "Date", "dd-mm-yyyy"),
        ("company", "Company", "Yes", "Link", "Valid Company"),
        ("currency", "Currency", "Yes", "Link", "Valid Currency"),
        (
            "status",
            "Status",
            "Yes",
            "Select",
            "One of: Draft, On Hold, To Receive and Bill, To Bill, To Receive, Completed, "
            "Cancelled, Closed, Delivered",
        ),
        ("schedule_date", "Required By", "No", "Date", "dd-mm-yyyy"),
        ("incoterm", "Incoterm", "No", "Link", "Valid Incoterm"),
    ]
    child = [
        ("name", "ID", "Yes", "Data", ""),
        ("item_code", "Item Code", "Yes", "Link", "Valid Item"),
        ("item_name", "Item Name", "Yes", "Data", ""),
        ("schedule_date", "Required By", "Yes", "Date", "dd-mm-yyyy"),
        ("qty", "Quantity", "Yes", "Float", ""),
        ("stock_uom", "Stock UOM", "Yes", "Link", "Valid UOM"),
        ("uom", "UOM", "Yes", "Link", "Valid UOM"),
        ("conversion_factor", "UOM Conversion Factor", "Yes", "Float", ""),
        ("rate", "Rate", "No", "Currency", ""),
    ]
    width = 1 + len(parent) + 1 + len(child)
    table_row = ["DocType:"] + [""] * (width - 1)
    table_row[1] = "Purchase Order"
    table_row[1 + len(parent)] = "~"
    table_row[2 + len(parent)] = "Purchase Order Item"
    table_row[3 + len(parent)] = "items"
    meta_rows = []
    for title, idx in (
        ("Column Labels:", 1),
        ("Column Name:", 0),
        ("Mandatory:", 2),
        ("Type:", 3),
        ("Info:", 4),
    ):
        tilde = "~" if idx == 0 else ""
        meta_rows.append([title] + [c[idx] for c in parent] + [tilde] + [c[idx] for c in child])
    rows: list[Row] = [
        ["Data Import Template"],
        ["Table:", "Purchase Order"],
        [""],
        [""],
        ["Notes:"],
        ["Please do not change the template headings."],
        ["First data column must be blank."],
        ['If you are uploading new records, leave the "name" (ID) column blank.'],
        ['If you are uploading new records, "Naming Series" becomes mandatory, if present.'],
        [
            "Only mandatory fields are necessary for new records. You can delete non-mandatory "
            "columns if you wish."
        ],
        ["For updating, you can update only selective columns."],
        ["You can only upload upto 5000 records in one go. (may be less in some cases)"],
        [""],
        table_row,
        *meta_rows,
        ["Start entering data below this line"],
    ]
    orders = [
        (
            "PUR-ORD-2026-00041",
            "Shenzhen Bright Lights Co Ltd",
            dt.date(2026, 11, 10),
            "USD",
            "To Receive and Bill",
            dt.date(2027, 2, 5),
            "FOB",
            [
                ("LMP-100", "LED Desk Lamp Black", 1200.0, "Nos", "4.25"),
                ("LMP-220", "Clip-on Reading Light", 800.0, "Nos", "2.8"),
            ],
        ),
        (
            "PUR-ORD-2026-00042",
            "Xiamen Outdoor Gear Co., Ltd.",
            dt.date(2026, 11, 11),
            "EUR",
            "To Receive and Bill",
            dt.date(2027, 3, 12),
            "FOB",
            [
                ("OD-5001", "Trekking Poles, Aluminium", 600.0, "Pair", "11.5"),
            ],
        ),
    ]
    pos = []
    for n, (name, supplier, date, cur, status, required, incoterm, items) in enumerate(orders):
        lines = []
        for i, (code, item_name, qty, uom, rate) in enumerate(items):
            head = (
                [
                    f'"{name}"',
                    "PUR-ORD-.YYYY.-",
                    supplier,
                    date.strftime("%d-%m-%Y"),
                    "Acme Imports Inc",
                    cur,
                    status,
                    required.strftime("%d-%m-%Y"),
                    incoterm,
                ]
                if i == 0
                else [""] * len(parent)
            )
            child_id = f'"{n + 1}c{i + 1}e5a7f02"'
            rows.append(
                [
                    "",
                    *head,
                    "",
                    child_id,
                    code,
                    item_name,
                    required.strftime("%d-%m-%Y"),
                    qty,
                    uom,
                    uom,
                    1.0,
                    float(rate),
                ]
            )
            lines.append(ln(i + 1, code, item_name, qty, uom, rate, cur))
        pos.append(
            po(
                name,
                lines,
                seller_name=supplier,
                incoterm=incoterm,
                must_arrive_date=required.isoformat(),
                status=status,
            )
        )
    data = csv_bytes(rows)
    return data, expect_import(
        "ERPNext v11/v12 (Frappe)",
        "legacy Data Export / Data Import Template 'with data', CSV: "
        "20 rows of notes and column metadata above the data, blank first column, '~' before the "
        "child table, IDs wrapped in literal double quotes, dates in the system format the Info "
        "row states (dd-mm-yyyy)",
        pos,
        (),
        ["Supplier is an ERPNext Supplier name: it must be mapped to a Flexport seller entity ref"],
        header_row=15,
        line_numbers="none in the file: lines are numbered 1, 2, 3 in file order within each PO",
    )


# --- 8. Dynamics 365 F&SCM data entities: Purchase order headers V2 + lines V2 ----------------


def d365() -> tuple[bytes, bytes, Json, Json]:
    header_cols = [
        "PURCHASEORDERNUMBER",
        "ORDERVENDORACCOUNTNUMBER",
        "PURCHASEORDERNAME",
        "CURRENCYCODE",
        "DELIVERYTERMSID",
        "DELIVERYMODEID",
        "PURCHASEORDERSTATUS",
        "DOCUMENTAPPROVALSTATUS",
        "REQUESTEDDELIVERYDATE",
        "DEFAULTRECEIVINGSITEID",
    ]
    heads = [
        ("PO-000412", "US-104", "Fabrikam Electronics Shenzhen", "USD", "FOB", "Sea"),
        ("PO-000413", "US-111", "Contoso Audio Manufacturing", "USD", "FOB", "Sea"),
        ("PO-000414", "US-104", "Fabrikam Electronics Shenzhen", "USD", "EXW", "Air Freight"),
    ]
    h_rows: list[Row] = [header_cols]
    for number_, account, name, cur, terms, mode in heads:
        h_rows.append(
            [
                number_,
                account,
                name,
                cur,
                terms,
                mode,
                "Backorder",
                "Confirmed",
                "2027-01-20T00:00:00",
                "1",
            ]
        )
    line_cols = [
        "PURCHASEORDERNUMBER",
        "LINENUMBER",
        "ITEMNUMBER",
        "LINEDESCRIPTION",
        "ORDEREDPURCHASEQUANTITY",
        "PURCHASEUNITSYMBOL",
        "PURCHASEPRICE",
        "PURCHASEPRICEQUANTITY",
        "LINEAMOUNT",
        "REQUESTEDDELIVERYDATE",
        "RECEIVINGWAREHOUSEID",
        "PURCHASEORDERLINESTATUS",
    ]
    items = [
        ("PO-000412", 1, "D0001", "Mid-range speaker 2.0W", 400, "ea", "21.50", 1, "2027-01-20"),
        ("PO-000412", 2, "D0003", "Standard speaker cable", 2000, "ea", "95.00", 100, "2027-01-20"),
        ("PO-000413", 1, "M0004", "Car audio system", 50, "ea", "390.00", 1, "2027-01-27"),
        ("PO-000413", 2, "M0004", "Car audio system", 50, "ea", "390.00", 1, "2027-02-24"),
        ("PO-000414", 1, "L0001", "Surround sound receiver", 25, "ea", "1240.00", 1, "2027-01-13"),
        ("PO-000414", 2, "L0002", "Wall mount, receiver", 25, "ea", "18.00", 1, "2027-01-13"),
    ]
    canceled = {("PO-000414", 2)}
    l_rows: list[Row] = [line_cols]
    lines: dict[str, list[Json]] = {h[0]: [] for h in heads}
    skipped: list[tuple[int, str]] = []
    for number_, n, item, text, qty, unit, price, per, date in items:
        amount = dec(qty) * dec(price) / per
        l_rows.append(
            [
                number_,
                n,
                item,
                text,
                f"{qty:.2f}",
                unit,
                price,
                str(per),
                f"{amount:.2f}",
                f"{date}T00:00:00",
                "11",
                "Canceled" if (number_, n) in canceled else "Backorder",
            ]
        )
        if (number_, n) in canceled:
            skipped.append((len(l_rows), "canceled line (PURCHASEORDERLINESTATUS = Canceled)"))
            continue
        lines[number_].append(
            ln(n, item, text, qty, unit, dec(price) / per, "USD", must_arrive_date=date)
        )
    pos = [
        po(number_, lines[number_], seller_name=name, incoterm=terms, transportation_mode=mode)
        for number_, _a, name, _c, terms, mode in heads
    ]
    headers_expected = expect_question(
        "Microsoft Dynamics 365 Finance & Supply Chain Management",
        "Data management export of entity 'Purchase order headers V2' "
        "(PurchaseOrderHeadersV2), CSV",
        "This file holds only PO headers (no item, quantity or price columns): which file holds "
        "the lines (the 'Purchase order lines V2' export, imported with this one as its "
        "--headers)?",
        lines_file="d365_purchase_order_lines_v2.csv",
    )
    lines_expected = expect_import(
        "Microsoft Dynamics 365 Finance & Supply Chain Management",
        "Data management export of entity 'Purchase order lines V2' (PurchaseOrderLinesV2), CSV, "
        "joined on PURCHASEORDERNUMBER with the headers V2 export",
        pos,
        skipped,
        [
            "ORDERVENDORACCOUNTNUMBER holds D365 vendor accounts (US-104, US-111): not Flexport "
            "entity refs",
            "two status columns on the header (PURCHASEORDERSTATUS = Backorder, "
            "DOCUMENTAPPROVALSTATUS = Confirmed): which one is the Flexport status is a mapping "
            "choice",
        ],
        headers_file="d365_purchase_order_headers_v2.csv",
        note="must-arrive dates come from the lines' REQUESTEDDELIVERYDATE; PO-000413 orders "
        "M0004 twice with two delivery dates",
    )
    return csv_bytes(h_rows), csv_bytes(l_rows), headers_expected, lines_expected


# --- 9. NetSuite transaction saved search, CSV export ----------------------------------------


def us_date(d: dt.date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


def money(d: Decimal) -> str:
    return f"${d:,.2f}"


def netsuite() -> tuple[bytes, Json]:
    header = [
        "Date",
        "Document Number",
        "Name",
        "Status",
        "Item",
        "Description",
        "Quantity",
        "Units",
        "Rate",
        "Amount",
        "Currency",
        "Expected Receipt Date",
        "Terms of Delivery",
        "Port of Loading",
        "Ship Mode",
    ]
    orders = [
        (
            "PO1187",
            "Guangzhou Lighting Mfg.",
            "Pending Receipt",
            dt.date(2027, 1, 15),
            "FOB Shanghai",
            "CNSHA",
            "Ocean Freight",
            [
                ("LMP-100", "LED desk lamp, black", 1200, "Each", "4.25"),
                ("LMP-300", "Floor lamp, arc", 100, "Each", "12.40"),
            ],
        ),
        (
            "PO1188",
            "Ningbo Homeware Co., Ltd.",
            "Pending Supervisor Approval",
            dt.date(2027, 2, 3),
            "FOB Ningbo",
            "CNNGB",
            "Ocean Freight",
            [
                ("HW-1001", "Ceramic mug 350ml, white", 2400, "Each", "0.85"),
                ("HW-3100", "Glass storage jar 1L", 50, "Carton", "36.00"),
            ],
        ),
        (
            "PO1189",
            "Qingdao Textile Imp. & Exp. Co.",
            "Pending Receipt",
            dt.date(2027, 1, 28),
            "EXW Qingdao",
            "CNTAO",
            "Air Freight",
            [
                ("TX-3300", "Cotton bath towel 70x140", 1500, "Each", "1.25"),
            ],
        ),
        (
            "PO1190",
            "Shenzhen Sunrise Electronics Ltd.",
            "Pending Receipt",
            dt.date(2027, 2, 10),
            "FOB Yantian",
            "Yantian",
            "Ocean Freight",
            [
                ("EL-7001", "USB-C charger 65 W", 500, "Each", "7.90"),
                ("EL-7002", "USB-C cable, 2 m", 1500, "Pieces", "0.95"),
            ],
        ),
    ]
    rows: list[Row] = [header]
    pos = []
    skipped = []
    for number_, vendor, status, receipt, terms, port, mode, items in orders:
        order_date = us_date(dt.date(2026, 11, 3))
        total = sum((dec(p) * q for _s, _d, q, _u, p in items), Decimal(0))
        rows.append(
            [
                order_date,
                number_,
                vendor,
                status,
                "",
                "",
                "",
                "",
                "",
                money(total),
                "USD",
                "",
                terms,
                port,
                mode,
            ]
        )
        skipped.append((len(rows), "main line (PO total, no item)"))
        lines = []
        for i, (sku, text, qty, unit, price) in enumerate(items):
            rows.append(
                [
                    order_date,
                    number_,
                    vendor,
                    status,
                    sku,
                    text,
                    qty,
                    unit,
                    money(dec(price)),
                    money(dec(price) * qty),
                    "USD",
                    us_date(receipt),
                    terms,
                    port,
                    mode,
                ]
            )
            lines.append(ln(i + 1, sku, text, qty, unit, price, "USD"))
        code, place = terms.split(" ", 1)
        pos.append(
            po(
                number_,
                lines,
                seller_name=vendor,
                incoterm=code,
                incoterm_place=place,
                # a port name that names one seaport is read as its code (with a warning)
                origin_port={"Yantian": "CNYTN"}.get(port, port),
                transportation_mode=mode,
                must_arrive_date=receipt.isoformat(),
                status=status,
            )
        )
    data = csv_bytes(rows)
    return data, stop_on(expect_import(
        "Oracle NetSuite",
        "Transaction saved search (Type = Purchase Order, Main Line not "
        "filtered), Export - CSV; three custom body fields (Terms of Delivery, Port of Loading, "
        "Ship Mode)",
        pos,
        skipped,
        ["Name is a NetSuite vendor name: it must be mapped to a Flexport seller entity ref"],
        dates="month-first, as NetSuite's US date preference writes them (1/15/2027 settles it)",
        line_numbers="none in the file: lines are numbered 1, 2, 3 in file order within each PO",
    ), rows, "Document Number", "Status", {"Pending Supervisor Approval": NOT_YET_ORDERED},
        line_column="Item")


# --- 10. USAID SCMS Delivery History / Supply Chain Shipment Pricing Data (~200 lines) -------

SCMS_COLUMNS = [
    "ID",
    "Project Code",
    "PQ #",
    "PO / SO #",
    "ASN/DN #",
    "Country",
    "Managed By",
    "Fulfill Via",
    "Vendor INCO Term",
    "Shipment Mode",
    "PQ First Sent to Client Date",
    "PO Sent to Vendor Date",
    "Scheduled Delivery Date",
    "Delivered to Client Date",
    "Delivery Recorded Date",
    "Product Group",
    "Sub Classification",
    "Vendor",
    "Item Description",
    "Molecule/Test Type",
    "Brand",
    "Dosage",
    "Dosage Form",
    "Unit of Measure (Per Pack)",
    "Line Item Quantity",
    "Line Item Value",
    "Pack Price",
    "Unit Price",
    "Manufacturing Site",
    "First Line Designation",
    "Weight (Kilograms)",
    "Freight Cost (USD)",
    "Line Item Insurance (USD)",
]
SCMS_ITEMS = [
    # (product group, sub class, description, molecule, dosage, form, per pack, pack price, site)
    (
        "ARV",
        "Adult",
        "Efavirenz 600mg, tablets, 30 Tabs",
        "Efavirenz",
        "600mg",
        "Tablet",
        30,
        "6.20",
        "Aurobindo Unit III, India",
    ),
    (
        "ARV",
        "Adult",
        "Lamivudine/Zidovudine 150/300mg, tablets, 60 Tabs",
        "Lamivudine/Zidovudine",
        "150/300mg",
        "Tablet",
        60,
        "8.54",
        "Cipla, Goa, India",
    ),
    (
        "ARV",
        "Pediatric",
        "Nevirapine 10mg/ml, oral suspension, Bottle, 240 ml",
        "Nevirapine",
        "10mg/ml",
        "Oral suspension",
        240,
        "3.99",
        "Strides, Bangalore, India.",
    ),
    (
        "HRDT",
        "HIV test",
        "HIV 1/2, Determine Complete HIV Kit, 100 Tests",
        "HIV 1/2, Determine Complete HIV Kit",
        "",
        "Test kit",
        100,
        "80.00",
        "Alere Medical Co., Ltd.",
    ),
    (
        "ARV",
        "Adult",
        "Tenofovir Disoproxil Fumarate 300mg, tablets, 30 Tabs",
        "Tenofovir Disoproxil Fumarate",
        "300mg",
        "Tablet - FDC",
        30,
        "4.33",
        "Mylan (formerly Matrix) Nashik",
    ),
    (
        "ANTM",
        "Malaria",
        "Artemether/Lumefantrine 20/120mg, tablets, 24 Tabs",
        "Artemether/Lumefantrine",
        "20/120mg",
        "Tablet",
        24,
        "0.78",
        "Ipca Dadra",
    ),
]
SCMS_VENDORS = [
    "Aurobindo Pharma Limited",
    "Cipla Limited",
    "Strides Arcolab Limited",
    "Orgenics, Ltd",
    "Mylan Laboratories Limited",
    "SCMS from RDC",
]
SCMS_COUNTRIES = [
    "Nigeria",
    "Côte d'Ivoire",
    "Zambia",
    "Haiti",
    "Mozambique",
    "Tanzania",
    "South Africa",
    "Vietnam",
]
SCMS_TERMS = ["EXW", "FCA", "CIP", "DDP", "DDU"]
SCMS_MODES = ["Air", "Truck", "Air Charter", "Ocean", "Air"]


def scms_date(d: dt.date) -> str:
    return f"{d.day}-{d.strftime('%b')}-{d.strftime('%y')}"


def scms() -> tuple[bytes, Json]:
    rows: list[Row] = [SCMS_COLUMNS]
    pos = []
    row_id = 1
    base = dt.date(2026, 12, 1)
    n_po = 0
    while row_id <= 200:
        n_po += 1
        rdc = n_po % 6 == 0
        vendor = SCMS_VENDORS[5] if rdc else SCMS_VENDORS[n_po % 5]
        term = "N/A - From RDC" if rdc else SCMS_TERMS[n_po % 5]
        mode = SCMS_MODES[n_po % 5]
        number_ = f"SO-{50100 + n_po}" if rdc else f"SCMS-{81200 + n_po}"
        asn = f"DN-{3000 + n_po}" if rdc else f"ASN-{61000 + n_po}"
        country = SCMS_COUNTRIES[n_po % len(SCMS_COUNTRIES)]
        scheduled = base + dt.timedelta(days=(n_po * 5) % 120)
        sent = scheduled - dt.timedelta(days=60)
        n_lines = 1 + (n_po * 7) % 5
        lines = []
        for i in range(n_lines):
            if row_id > 200:
                break
            group, sub, text, molecule, dosage, form, per_pack, pack_price, site = SCMS_ITEMS[
                (n_po + i) % len(SCMS_ITEMS)
            ]
            qty = 100 * (1 + (n_po * 13 + i * 7) % 40)
            value = dec(pack_price) * qty
            unit_price = (dec(pack_price) / per_pack).quantize(Decimal("0.01"))
            weight: Any = (
                "Weight Captured Separately"
                if i % 3 == 1
                else f"See {asn} (ID#:{row_id - 1})"
                if i % 3 == 2
                else str(qty // 10 + 7)
            )
            freight: Any = (
                "Freight Included in Commodity Cost"
                if i % 3 == 1
                else f"See {asn} (ID#:{row_id - 1})"
                if i % 3 == 2
                else f"{qty * 1.5 + 120:.2f}"
            )
            rows.append(
                [
                    row_id,
                    f"1{n_po % 9}{n_po % 7}-{country[:2].upper()}-T{30 + n_po % 5}",
                    "Pre-PQ Process" if rdc else f"FPQ-{14000 + n_po}",
                    number_,
                    asn,
                    country,
                    "PMO - US",
                    "From RDC" if rdc else "Direct Drop",
                    term,
                    mode,
                    "N/A - From RDC" if rdc else scms_date(sent - dt.timedelta(days=20)),
                    "N/A - From RDC" if rdc else scms_date(sent),
                    scms_date(scheduled),
                    scms_date(scheduled),
                    scms_date(scheduled + dt.timedelta(days=2)),
                    group,
                    sub,
                    vendor,
                    text,
                    molecule,
                    "Generic",
                    dosage,
                    form,
                    per_pack,
                    qty,
                    f"{value:.2f}",
                    pack_price,
                    f"{unit_price:.2f}",
                    site,
                    "Yes" if i == 0 else "No",
                    weight,
                    freight,
                    f"{value * Decimal('0.0016'):.2f}",
                ]
            )
            lines.append(ln(i + 1, None, text, qty, None, pack_price, None))
            row_id += 1
        pos.append(
            po(
                number_,
                lines,
                seller_name=vendor,
                # DDU was withdrawn in 2010: bulkpo reads it as DAP, the term that replaced
                # it, with a warning (README, Values)
                incoterm=None if rdc else {"DDU": "DAP"}.get(term, term),
                transportation_mode=mode,
                must_arrive_date=scheduled.isoformat(),
            )
        )
    data = csv_bytes(rows)
    return data, expect_import(
        "USAID SCMS (PEPFAR Supply Chain Management System)",
        "Supply Chain Shipment Pricing "
        "Data / SCMS Delivery History Dataset, CSV as published on data.usaid.gov and Kaggle",
        pos,
        (),
        [
            "no currency anywhere in the file for prices (only the freight and insurance "
            "headers say "
            "USD): a currency must be given, not assumed",
            "no unit-of-measure word: Line Item Quantity counts packs and Pack Price is the "
            "price per "
            "pack; 'Unit Price' is per dosage unit (tablet, test) inside the pack and must not be "
            "used as the line's unit price",
            "Vendor holds names: they must be mapped to Flexport seller entity refs",
            "Vendor INCO Term 'N/A - From RDC' means no Incoterm (regional distribution "
            "center stock): read as blank, with one warning",
            "DDU is a withdrawn Incoterm (Incoterms 2000): read as DAP, with one warning",
            "Shipment Mode 'Air Charter' is air",
        ],
        line_numbers="none in the file: lines are numbered 1, 2, 3 in file order within each PO",
        dates="d-Mon-yy (15-Jan-27)",
    )


# --- 11. City of Baton Rouge open data: Purchase Orders and Contracts (RECORD TYPE H/D) ------


def baton_rouge() -> tuple[bytes, Json]:
    header = [
        "RECORD TYPE",
        "DOCUMENT NUMBER",
        "DOCUMENT DESCRIPTION",
        "INPUT DATE",
        "DEPARTMENT NAME",
        "DOCUMENT STATUS DESCRIPTION",
        "VENDOR NUMBER",
        "VENDOR NAME 1",
        "VENDOR ZIP",
        "TOTAL AMOUNT",
        "ITEM NUMBER",
        "ITEM DESCRIPTION",
        "ITEM QUANTITY",
        "ITEM UNIT OF MEASURE",
        "ITEM UNIT COST",
        "ITEM TOTAL COST",
    ]
    orders = [
        (
            "P260001847",
            "TRAFFIC CONES AND BARRICADES",
            "11/03/2026 12:00:00 AM",
            "TRANSPORTATION & DRAINAGE",
            "Approved",
            "100452",
            "GULF SOUTH SAFETY SUPPLY LLC",
            "70806",
            [
                ("TRAFFIC CONE, 28 IN, ORANGE, REFLECTIVE COLLAR", 200, "EA", "18.65"),
                ("BARRICADE, TYPE III, 8 FT", 20, "EA", "185.00"),
            ],
        ),
        (
            "P260001853",
            "JANITORIAL SUPPLIES",
            "11/17/2026 12:00:00 AM",
            "BUILDINGS & GROUNDS",
            "Approved",
            "100788",
            "CAPITAL CITY JANITORIAL SUPPLY",
            "70802",
            [
                ("PAPER TOWEL, ROLL, 8 IN X 800 FT", 30, "CS", "28.75"),
                ("TRASH LINER 40X46, 1.5 MIL", 12, "BX", "17.00"),
            ],
        ),
        (
            "P260001860",
            "BODY ARMOR REPLACEMENT",
            "11/24/2026 12:00:00 AM",
            "POLICE",
            "Released",
            "101230",
            "BAYOU PUBLIC SAFETY INC",
            "70816",
            [
                ("BALLISTIC VEST, LEVEL IIIA, PER SPECIFICATION 26-114", 6, "EACH", "800.00"),
            ],
        ),
    ]
    rows: list[Row] = [header]
    pos = []
    for number_, desc, date, dept, status, vnum, vname, vzip, items in orders:
        total = sum((dec(p) * q for _d, q, _u, p in items), Decimal(0))
        head = [number_, desc, date, dept, status, vnum, vname, vzip, f"{total:.2f}"]
        rows.append(["H", *head, "", "", "", "", "", ""])
        lines = []
        for i, (text, qty, unit, cost) in enumerate(items, start=1):
            rows.append(["D", *head, i, text, f"{qty:.2f}", unit, cost, f"{dec(cost) * qty:.2f}"])
            lines.append(ln(i, None, text, qty, unit, cost, None))
        pos.append(po(number_, lines, seller_name=vname, status=status))
    data = csv_bytes(rows)
    return data, stop_on(expect_import(
        "City of Baton Rouge / East Baton Rouge Parish (open data portal, Socrata)",
        "'Purchase Orders and Contracts' dataset (2ung-w7t4), CSV export: RECORD TYPE H header "
        "rows and D detail rows, header values repeated on every detail row",
        pos,
        (),
        [
            "no currency anywhere in the file: a currency must be given, not assumed",
            "VENDOR NUMBER holds city vendor numbers: not Flexport entity refs",
            "ITEM NUMBER is the line number (1, 2, 3), not a SKU: the lines have descriptions only",
            "a case (CS) and a box (BX) are no Flexport unit: CTN or PK is the buyer's answer",
        ],
    ), rows, "DOCUMENT NUMBER", "ITEM UNIT OF MEASURE", {"CS": CASE_OR_BOX, "BX": CASE_OR_BOX})


# --- 12. Flexport's own detailed PO CSV template (row_type header/line) ----------------------


def flexport_template() -> tuple[bytes, Json]:
    header = [
        "po_name",
        "seller_ref",
        "seller_entity_ref",
        "row_type",
        "item_key",
        "line_item_number",
        "status",
        "priority",
        "must_arrive_date",
        "cargo_ready_date",
        "incoterm",
        "transportation_mode",
        "origin_port",
        "destination_port",
        "sku",
        "product_name",
        "units",
        "unit_of_measure",
        "unit_cost",
        "currency_code",
    ]
    orders = [
        (
            "PO-2026-3001",
            "Bright Lights",
            "bright_lights_shenzhen",
            dt.date(2027, 1, 29),
            dt.date(2026, 12, 15),
            "FOB",
            "ocean",
            "CNSHA",
            "USLAX",
            [
                ("LMP-100", "LED desk lamp, black", 1200, "PCS", "4.25"),
                ("LMP-220", "Clip-on reading light", 800, "PCS", "2.80"),
            ],
        ),
        (
            "PO-2026-3002",
            "Ningbo Homeware",
            "ningbo_homeware",
            dt.date(2027, 2, 12),
            dt.date(2027, 1, 8),
            "FOB",
            "ocean",
            "CNNGB",
            "USLGB",
            [
                ("HW-1001", "Ceramic mug 350ml, white", 2400, "PCS", "0.85"),
                ("HW-1001", "Ceramic mug 350ml, white", 1200, "PCS", "0.86"),
            ],
        ),
        (
            "PO-2026-3003",
            "Xiamen Outdoor",
            "xiamen_outdoor_gear",
            dt.date(2027, 1, 20),
            dt.date(2027, 1, 6),
            "FCA",
            "air",
            "CNXMN",
            "USOAK",
            [
                ("OD-6100", "Self-inflating mat", 300, "PCS", "14.25"),
            ],
        ),
    ]

    def short(d: dt.date) -> str:
        return f"{d.month}/{d.day}/{d.strftime('%y')}"

    rows: list[Row] = [header]
    pos = []
    for name, sref, seref, must, ready, inco, mode, origin, dest, items in orders:
        rows.append(
            [
                name,
                sref,
                seref,
                "header",
                "",
                "",
                "open",
                "standard",
                short(must),
                short(ready),
                inco,
                mode,
                origin,
                dest,
                "",
                "",
                "",
                "",
                "",
                "",
            ]
        )
        lines = []
        for i, (sku, pname, units, uom, cost) in enumerate(items, start=1):
            rows.append(
                [
                    name,
                    sref,
                    seref,
                    "line",
                    str(i),
                    i,
                    "",
                    "",
                    short(must),
                    short(ready),
                    "",
                    "",
                    "",
                    "",
                    sku,
                    pname,
                    units,
                    uom,
                    cost,
                    "USD",
                ]
            )
            lines.append(ln(i, sku, pname, units, uom, cost, "USD"))
        pos.append(
            po(
                name,
                lines,
                seller_entity_ref=seref,
                incoterm=inco,
                transportation_mode=mode,
                origin_port=origin,
                destination_port=dest,
                status="open",
                cargo_ready_date=ready.isoformat(),
                must_arrive_date=must.isoformat(),
            )
        )
    data = csv_bytes(rows)
    return data, expect_import(
        "Flexport",
        "Orders > Upload CSV, 'Detailed' order template with the row_type column "
        "(header and line rows)",
        pos,
        (),
        [],
        dates="M/D/YY as in Flexport's template example (5/24/21)",
    )


# --- 13. Microsoft Dynamics 365 Business Central: Purchase Lines page, Export to Excel -------


def business_central() -> tuple[bytes, Json]:
    header = [
        "Document Type",
        "Document No.",
        "Line No.",
        "Buy-from Vendor No.",
        "Type",
        "No.",
        "Description",
        "Location Code",
        "Quantity",
        "Unit of Measure Code",
        "Direct Unit Cost Excl. VAT",
        "Line Amount Excl. VAT",
        "Expected Receipt Date",
        "Outstanding Quantity",
    ]
    rows: list[Row] = [header]
    data_rows = [
        (
            "Order",
            "106015",
            10000,
            "40000",
            "Item",
            "1896-S",
            "ATHENS Desk",
            "BLUE",
            12,
            "PCS",
            "506.6",
            dt.date(2027, 1, 21),
        ),
        (
            "Order",
            "106015",
            20000,
            "40000",
            "Item",
            "1900-S",
            "PARIS Guest Chair, black",
            "BLUE",
            40,
            "PCS",
            "125.1",
            dt.date(2027, 1, 21),
        ),
        (
            "Order",
            "106015",
            30000,
            "40000",
            "",
            "",
            "Deliver to dock 4, mornings only",
            "",
            None,
            "",
            None,
            None,
        ),
        (
            "Order",
            "106016",
            10000,
            "30000",
            "Item",
            "1920-S",
            "ANTWERP Conference Table",
            "WHITE",
            4,
            "PCS",
            "328",
            dt.date(2027, 2, 2),
        ),
        (
            "Order",
            "106016",
            20000,
            "30000",
            "Item",
            "1968-S",
            "MEXICO Swivel Chair, black",
            "WHITE",
            16,
            "PCS",
            "123.3",
            dt.date(2027, 2, 2),
        ),
        (
            "Quote",
            "1002",
            10000,
            "30000",
            "Item",
            "1896-S",
            "ATHENS Desk",
            "WHITE",
            2,
            "PCS",
            "506.6",
            dt.date(2027, 3, 1),
        ),
        (
            "Order",
            "106017",
            10000,
            "10000",
            "Item",
            "70060",
            "Screws, cross-head (box of 100)",
            "BLUE",
            20,
            "BOX",
            "9.4",
            dt.date(2027, 2, 10),
        ),
    ]
    lines: dict[str, list[Json]] = {}
    dates: dict[str, str] = {}
    skipped = []
    for dtype, doc, line_no, vendor, typ, no, desc, loc, qty, uom, cost, date in data_rows:
        amount = None if qty is None or cost is None else float(dec(cost) * qty)
        rows.append(
            [
                dtype,
                doc,
                line_no,
                vendor,
                typ,
                no,
                desc,
                loc,
                qty,
                uom,
                None if cost is None else float(cost),
                amount,
                date,
                qty,
            ]
        )
        if dtype != "Order":
            skipped.append((len(rows), "purchase quote line, not an order"))
            continue
        if not typ:
            skipped.append((len(rows), "comment line (blank Type, no quantity)"))
            continue
        assert date is not None and qty is not None and cost is not None
        lines.setdefault(doc, []).append(ln(line_no, no, desc, qty, uom, cost, None))
        dates[doc] = date.isoformat()
    pos = [po(doc, doc_lines, must_arrive_date=dates[doc]) for doc, doc_lines in lines.items()]
    data = xlsx_bytes([("Purchase Lines", rows)], "m/d/yyyy")
    return data, stop_on(expect_import(
        "Microsoft Dynamics 365 Business Central",
        "Purchase Lines page (page 518, lookup of table 39 Purchase Line), Share > Export to Excel",
        pos,
        skipped,
        [
            "Buy-from Vendor No. holds BC vendor numbers (40000, 30000, 10000): not Flexport "
            "entity "
            "refs, and there is no vendor name",
            "no currency column: amounts are in the company's local currency (LCY), which the file "
            "does not name; a currency must be given, not assumed",
            "BOX is no Flexport unit: CTN or PK is the buyer's answer",
        ],
    ), rows, "Document No.", "Unit of Measure Code", {"BOX": CASE_OR_BOX})


# --- 14. Oracle E-Business Suite / Fusion: SQL extract of PO_HEADERS_ALL + PO_LINES_ALL -------


def oracle_po_lines() -> tuple[bytes, Json]:
    header = [
        "SEGMENT1",
        "VENDOR_NAME",
        "CURRENCY_CODE",
        "LINE_NUM",
        "ITEM_NUMBER",
        "ITEM_DESCRIPTION",
        "UNIT_MEAS_LOOKUP_CODE",
        "QUANTITY",
        "UNIT_PRICE",
        "NEED_BY_DATE",
        "CANCEL_FLAG",
        "AUTHORIZATION_STATUS",
    ]
    data_rows = [
        (
            "60214",
            "Hangzhou Cable Works Ltd",
            "USD",
            1,
            "CB-2210",
            "Cat6 patch cable 2m, blue",
            "Each",
            5000,
            "0.64",
            dt.date(2027, 1, 15),
            "N",
        ),
        (
            "60214",
            "Hangzhou Cable Works Ltd",
            "USD",
            2,
            "CB-2215",
            "Cat6 patch cable 5m, blue",
            "Each",
            2000,
            "1.12",
            dt.date(2027, 1, 15),
            "Y",
        ),
        (
            "60214",
            "Hangzhou Cable Works Ltd",
            "USD",
            3,
            "CB-3300",
            "Fiber patch cord LC-LC 3m",
            "Each",
            800,
            "2.35",
            dt.date(2027, 1, 15),
            "N",
        ),
        (
            "60215",
            "Dongguan Plastics Co.",
            "USD",
            1,
            "PL-0100",
            "Storage bin 20L, grey",
            "Dozens",
            150,
            "21.60",
            dt.date(2027, 2, 1),
            "N",
        ),
        (
            "60216",
            "Dongguan Plastics Co.",
            "CNY",
            1,
            None,
            "Injection mould maintenance service",
            "Each",
            1,
            "8500",
            dt.date(2027, 1, 8),
            "N",
        ),
    ]
    rows: list[Row] = [header]
    lines: dict[str, list[Json]] = {}
    meta: dict[str, tuple[str, str]] = {}
    skipped = []
    for seg, vendor, cur, n, item, desc, uom, qty, price, need_by, cancel in data_rows:
        rows.append(
            [
                seg,
                vendor,
                cur,
                n,
                item,
                desc,
                uom,
                qty,
                price,
                need_by.strftime("%d-%b-%y").upper(),
                cancel,
                "APPROVED",
            ]
        )
        if cancel == "Y":
            skipped.append((len(rows), "cancelled line (CANCEL_FLAG = Y)"))
            continue
        lines.setdefault(seg, []).append(ln(n, item, desc, qty, uom, price, cur))
        meta[seg] = (vendor, need_by.isoformat())
    pos = [
        po(
            seg,
            seg_lines,
            seller_name=meta[seg][0],
            must_arrive_date=meta[seg][1],
            status="APPROVED",
        )
        for seg, seg_lines in lines.items()
    ]
    data = csv_bytes(rows)
    return data, expect_import(
        "Oracle E-Business Suite / Fusion Procurement",
        "SQL Developer export (CSV) of a query on "
        "PO_HEADERS_ALL, PO_LINES_ALL, PO_LINE_LOCATIONS_ALL and the supplier table, raw column "
        "names, NLS default date format DD-MON-RR",
        pos,
        skipped,
        [
            "VENDOR_NAME holds supplier names: they must be mapped to Flexport seller entity refs",
            "SEGMENT1 is the PO number (PO_HEADERS_ALL.SEGMENT1)",
        ],
        note="60216 is a service line with no item: sku null, description as product name",
    )


# --- ambiguous files: the right outcome is one question --------------------------------------


def q_item_line_numbers() -> tuple[bytes, Json]:
    rows: list[Row] = [
        ["PO Number", "Vendor", "Item", "Quantity", "Unit Price", "Currency", "Delivery Date"]
    ]
    for po_no, items in (
        ("PO-7781", [(10, 500, "3.20"), (20, 250, "4.10"), (30, 120, "9.75")]),
        ("PO-7782", [(10, 1000, "0.45"), (20, 1000, "0.52")]),
    ):
        for item, qty, price in items:
            rows.append([po_no, "Ningbo Homeware Co., Ltd.", item, qty, price, "USD", "2027-02-15"])
    return csv_bytes(rows), expect_question(
        "unnamed ERP (SAP-style item numbering)",
        "purchase order line report, CSV",
        "The only product column, 'Item', holds 10, 20, 30: line numbers, not SKUs, and there is "
        "no material/SKU or description column. What identifies the products (which column, or "
        "a second file)?",
    )


def q_day_month() -> tuple[bytes, Json]:
    rows: list[Row] = [
        [
            "PO",
            "Supplier",
            "SKU",
            "Description",
            "Qty",
            "Unit Price",
            "Currency",
            "Delivery Date",
            "Port of Loading",
        ]
    ]
    data = [
        (
            "HK-5501",
            "Shenzhen Sunrise Electronics Ltd.",
            "EL-7001",
            "USB-C charger 65 W",
            500,
            "7.90",
            "USD",
            "03/04/2027",
            "CNSZX",
        ),
        (
            "HK-5501",
            "Shenzhen Sunrise Electronics Ltd.",
            "EL-7002",
            "USB-C cable, 2 m",
            1500,
            "0.95",
            "USD",
            "03/04/2027",
            "CNSZX",
        ),
        (
            "HK-5502",
            "Xiamen Outdoor Gear Co., Ltd.",
            "OD-6100",
            "Self-inflating mat",
            300,
            "14.25",
            "USD",
            "05/06/2027",
            "CNXMN",
        ),
        (
            "HK-5503",
            "Qingdao Textile Imp. & Exp. Co.",
            "TX-3300",
            "Cotton bath towel 70x140",
            1500,
            "1.25",
            "USD",
            "01/02/2027",
            "CNTAO",
        ),
        (
            "HK-5504",
            "Ningbo Homeware Co., Ltd.",
            "HW-1001",
            "Ceramic mug 350ml, white",
            2400,
            "0.85",
            "USD",
            "11/12/2027",
            "CNNGB",
        ),
    ]
    for row in data:
        assert len(row) == len(rows[0]), row  # one cell under each header
        rows.append(list(row))
    return csv_bytes(rows), expect_question(
        "unnamed ERP or spreadsheet",
        "purchase order line list, CSV",
        "Every Delivery Date (03/04/2027, 05/06/2027, 01/02/2027, 11/12/2027) reads as both "
        "day/month and month/day: which order does the file use?",
    )


def q_thousands_or_decimal() -> tuple[bytes, Json]:
    rows: list[Row] = [
        ["Bestellnummer", "Lieferant", "Artikel", "Bezeichnung", "Menge", "Preis", "Währung"]
    ]
    for row in (
        (
            "BE-2026-118",
            "Xiamen Outdoor Gear Co., Ltd.",
            "OD-5002",
            "Stirnlampe 300 lm",
            "1,200",
            "4,250",
            "EUR",
        ),
        (
            "BE-2026-118",
            "Xiamen Outdoor Gear Co., Ltd.",
            "OD-6100",
            "Isomatte",
            "2,400",
            "1,875",
            "EUR",
        ),
        (
            "BE-2026-119",
            "Ningbo Homeware Co., Ltd.",
            "HW-3100",
            "Vorratsglas 1 l",
            "3,000",
            "2,125",
            "EUR",
        ),
    ):
        rows.append(list(row))
    return csv_bytes(rows, delimiter=";"), expect_question(
        "unnamed ERP, German locale",
        "purchase order line list, semicolon CSV",
        "Every Menge and Preis value has exactly three digits after one comma (1,200; 4,250): "
        "is the comma a thousands separator (1200, 4250) or a decimal comma (1.2, 4.25)?",
    )


# --- driver ---------------------------------------------------------------------------------


def build() -> dict[str, tuple[bytes, Json]]:
    """Every corpus file name -> (its bytes, its expected result)."""
    out: dict[str, tuple[bytes, Json]] = {}

    def add(name: str, made: tuple[bytes, Json]) -> None:
        data, expected = made
        out[name] = (data, {"file": name, **expected})

    add("sap_me2n_en.xlsx", sap_me2n_en())
    add("sap_me2n_de.csv", sap_me2n_de())
    ekko, ekpo, ekko_x, ekpo_x = sap_tables()
    add("sap_se16n_ekko.csv", (ekko, ekko_x))
    add("sap_se16n_ekpo.csv", (ekpo, ekpo_x))
    add("odoo_purchase_order.xlsx", odoo_labels())
    add("odoo_purchase_order_import_compatible.csv", odoo_import_compatible())
    add("erpnext_purchase_order_data_import.csv", erpnext_import())
    add("erpnext_purchase_order_legacy_data_export.csv", erpnext_legacy())
    heads, lines, heads_x, lines_x = d365()
    add("d365_purchase_order_headers_v2.csv", (heads, heads_x))
    add("d365_purchase_order_lines_v2.csv", (lines, lines_x))
    add("netsuite_purchase_order_saved_search.csv", netsuite())
    add("usaid_scms_shipment_pricing.csv", scms())
    add("baton_rouge_purchase_orders_and_contracts.csv", baton_rouge())
    add("flexport_po_template_detailed.csv", flexport_template())
    add("business_central_purchase_lines.xlsx", business_central())
    add("oracle_po_lines_extract.csv", oracle_po_lines())
    add("q_item_is_line_number.csv", q_item_line_numbers())
    add("q_day_or_month_first.csv", q_day_month())
    add("q_thousands_or_decimal_comma.csv", q_thousands_or_decimal())
    return out


def expected_bytes(expected: Json) -> bytes:
    return (json.dumps(expected, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write(root: Path, corpus: dict[str, tuple[bytes, Json]] | None = None) -> None:
    """Write every file under ``root/files`` and its expectation under ``root/expected``."""
    corpus = build() if corpus is None else corpus
    (root / "files").mkdir(parents=True, exist_ok=True)
    (root / "expected").mkdir(parents=True, exist_ok=True)
    for name, (data, expected) in corpus.items():
        (root / "files" / name).write_bytes(data)
        (root / "expected" / f"{Path(name).stem}.json").write_bytes(expected_bytes(expected))


def main(argv: Sequence[str] = ()) -> int:
    root = Path(argv[0]) if argv else HERE
    write(root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
