"""Regenerate the sample input files: ``python samples/make_samples.py``.

Deterministic (a fixed random seed, fixed workbook timestamps), so the committed
files change only when this script or the column specs do. The parties and
locations are the ones the bulkpo sandbox seeds (bulkpo/sandbox/network.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass
from pathlib import Path

from bulkpo.columns import Kind
from bulkpo.sheets.template_writer import write_template
from bulkpo.table import CellValue
from bulkpo.templates import template_spec

HERE = Path(__file__).resolve().parent
SEED = 20261201
PO_COUNT = 50


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    hs_code: str
    unit_cost: float
    unit_of_measure: str = "PCS"


@dataclass(frozen=True)
class Supplier:
    ref: str
    name: str
    country: str
    origin_ports: tuple[str, ...]   # seaports
    air_origin: str                 # airport (UN/LOCODE) for POs planned by air
    location_ref: str
    department: str
    description: str        # booking product description
    description_zh: str     # Chinese export description (mainland China only)
    hs_code: str
    products: tuple[Product, ...]


# Names and refs as the sandbox seeds them; ports checked against UN/LOCODE functions.
SUPPLIERS: tuple[Supplier, ...] = (
    Supplier(
        "sup-shenzhen-lights", "Shenzhen Bright Lights Co Ltd", "CN", ("CNYTN", "CNSHK"), "CNSZX",
        "loc-shenzhen-factory", "Lighting", "LED lamps", "LED台灯", "9405.20",
        (
            Product("004512-BLK", "LED desk lamp, black", "9405.20", 4.25),
            Product("004512-WHT", "LED desk lamp, white", "9405.20", 4.25),
            Product("004780", "Clip-on reading light", "9405.20", 2.8),
            Product("LF-2210", "Rechargeable LED lantern", "9405.40", 6.9),
            Product("0091133", "LED bulb E27 9W, 4-pack", "8539.52", 3.15, "PK"),
            Product("SL-300", "Solar garden light", "9405.40", 5.4),
        ),
    ),
    Supplier(
        "sup-ningbo-housewares", "Ningbo Housewares Manufacturing Co", "CN", ("CNNBO",), "CNNGB",
        "loc-ningbo-factory", "Kitchen", "Kitchenware", "厨房用品", "7323.93",
        (
            Product("NB-7731", "Stainless steel mixing bowl set", "7323.93", 7.6),
            Product("NB-7740", "Stainless steel colander", "7323.93", 3.2),
            Product("00315", "Plastic food container 1L", "3924.10", 0.85),
            Product("00316", "Plastic food container 2L", "3924.10", 1.1),
            Product("NB-8102", "Porcelain dinner plate 27cm", "6911.10", 1.95),
            Product("NB-8110", "Porcelain mug 350ml", "6911.10", 1.15),
        ),
    ),
    Supplier(
        "sup-hcmc-apparel", "Saigon Apparel JSC", "VN", ("VNSGN", "VNCLI"), "VNSGN",
        "loc-hcmc-factory", "Apparel", "Cotton garments", "", "6109.10",
        (
            Product("AP-1001-M", "Men's cotton crew T-shirt, M", "6109.10", 2.4),
            Product("AP-1001-L", "Men's cotton crew T-shirt, L", "6109.10", 2.4),
            Product("AP-2050", "Women's knit cardigan", "6110.20", 8.75),
            Product("AP-3300", "Men's cotton chino trousers", "6203.42", 7.1),
            Product("000873", "Kids' cotton hoodie", "6110.20", 5.3),
        ),
    ),
    Supplier(
        "sup-chennai-textiles", "Chennai Textiles Pvt Ltd", "IN", ("INMAA",), "INMAA",
        "loc-chennai-mill", "Home Textiles", "Cotton home textiles", "", "6302.60",
        (
            Product("CT-440", "Cotton bath towel 70x140", "6302.60", 3.05),
            Product("CT-441", "Cotton hand towel 50x90", "6302.60", 1.45),
            Product("CT-510", "Percale bed sheet set, queen", "6302.31", 11.2),
            Product("005120", "Cotton kitchen towel, 3-pack", "6302.60", 1.9, "PK"),
        ),
    ),
)

DESTINATION_PORTS = ("USLAX", "USLGB", "USNYC", "USSAV")
INCOTERMS = ("FOB", "FOB", "FOB", "EXW", "CIF")
MEMOS = ("", "", "", "Spring collection", "Replenishment", "Promo: Q2 catalogue")


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def purchase_order_rows(rng: random.Random) -> list[dict[str, CellValue]]:
    """50 POs, one row per line, PO-level values repeated on each line."""
    rows: list[dict[str, CellValue]] = []
    for number in range(PO_COUNT):
        supplier = SUPPLIERS[number % len(SUPPLIERS)]
        ready = _date_between(rng, dt.date(2026, 12, 1), dt.date(2027, 3, 31))
        mode = "air" if number % 17 == 5 else "ocean"
        po: dict[str, CellValue] = {
            "po_number": f"PO-2026-{1001 + number}",
            "status": "open",
            "buyer_name": "Acme Imports Inc",
            "buyer_ref": "acme-us",
            "buyer_country": "US",
            "seller_name": supplier.name,
            "seller_ref": supplier.ref,
            "seller_country": supplier.country,
            "incoterm": rng.choice(INCOTERMS),
            "transportation_mode": mode,
            "cargo_ready_date": ready,
            "must_arrive_date": ready + dt.timedelta(days=rng.randint(30, 60)),
            "origin_port": (
                supplier.air_origin if mode == "air" else rng.choice(supplier.origin_ports)
            ),
            "destination_port": rng.choice(DESTINATION_PORTS),
            "memo": rng.choice(MEMOS) or None,
            # Not drawn from rng: the rest of the sample stays as it was.
            "priority": "high" if number % 10 == 3 else "standard",
            "order_class": "purchase_order",
            "metadata.department": supplier.department,
        }
        products = rng.sample(supplier.products, rng.choice((2, 3, 3, 4)))
        for line, product in enumerate(products, start=1):
            rows.append({
                **po,
                "line_number": line,
                "sku": product.sku,
                "product_name": product.name,
                "quantity": rng.choice((100, 200, 240, 500, 600, 1000, 1200, 2400, 5000)),
                "unit_of_measure": product.unit_of_measure,
                "unit_cost": product.unit_cost,
                "currency": "USD",
                "hs_code": product.hs_code,
            })
    return rows


@dataclass(frozen=True)
class BookingPlan:
    supplier: int            # index into SUPPLIERS
    freight_type: str
    origin: str
    destination: str
    load: str = ""           # FCL / LCL for ocean
    containers: tuple[int, int, int, int] = (0, 0, 0, 0)
    destination_location: str = "loc-la-dc"
    po_count: int = 3
    li_ion: bool = False


BOOKING_PLANS: tuple[BookingPlan, ...] = (
    BookingPlan(0, "ocean", "CNYTN", "USLAX", "FCL", (0, 0, 2, 0)),
    BookingPlan(0, "ocean", "CNSHK", "USLGB", "FCL", (1, 1, 0, 0)),
    BookingPlan(1, "ocean", "CNNBO", "USLAX", "LCL", po_count=2),
    BookingPlan(1, "ocean", "CNNBO", "USNYC", "FCL", (0, 0, 1, 0), "loc-chicago-dc"),
    BookingPlan(2, "ocean", "VNSGN", "USLGB", "FCL", (0, 0, 2, 0)),
    BookingPlan(2, "ocean", "VNCLI", "USSAV", "LCL", destination_location="loc-chicago-dc",
                po_count=2),
    BookingPlan(3, "ocean", "INMAA", "USNYC", "FCL", (1, 0, 0, 0), "loc-chicago-dc"),
    BookingPlan(3, "ocean", "INMAA", "USSAV", "LCL", po_count=2),
    BookingPlan(0, "air", "SZX", "LAX", po_count=1, li_ion=True),       # IATA codes
    BookingPlan(2, "air", "SGN", "ORD", destination_location="loc-chicago-dc", po_count=1),
    BookingPlan(1, "air", "CNPVG", "USORD", destination_location="loc-chicago-dc",
                po_count=1),                                            # UN/LOCODE airports
    BookingPlan(0, "trucking", "", "", destination_location="loc-chicago-dc", po_count=1),
)


def booking_rows(
    rng: random.Random, po_rows: list[dict[str, CellValue]]
) -> list[dict[str, CellValue]]:
    """About a dozen bookings naming the sample POs: ocean FCL/LCL, air, trucking."""
    ready_by_po: dict[str, dt.date] = {}
    pos_by_supplier: dict[str, list[str]] = {}
    for line in po_rows:
        po, ready = str(line["po_number"]), line["cargo_ready_date"]
        assert isinstance(ready, dt.date)
        if po not in ready_by_po:
            ready_by_po[po] = ready
            pos_by_supplier.setdefault(str(line["seller_ref"]), []).append(po)

    rows: list[dict[str, CellValue]] = []
    for number, plan in enumerate(BOOKING_PLANS, start=1):
        supplier = SUPPLIERS[plan.supplier]
        pos = [pos_by_supplier[supplier.ref].pop(0) for _ in range(plan.po_count)]
        ready = max(ready_by_po[po] for po in pos)
        trucking = plan.freight_type == "trucking"
        from_china = supplier.country == "CN" and not trucking
        units = rng.randint(6, 40)
        row: dict[str, CellValue] = {
            "booking_name": f"BK-2026-{number:03d}",
            "freight_type": plan.freight_type,
            "incoterm": None if trucking else "FOB",
            "origin_port": plan.origin or None,
            "destination_port": plan.destination or None,
            "cargo_ready_date": ready,
            "delivery_date": ready + dt.timedelta(days=10 if plan.freight_type == "air" else 40),
            "po_numbers": ", ".join(pos),
            "shipper_entity_ref": "acme-us" if trucking else supplier.ref,
            "consignee_entity_ref": "acme-us",
            "origin_location_ref": "loc-la-dc" if trucking else supplier.location_ref,
            "destination_location_ref": plan.destination_location,
            "wants_pickup": "yes" if plan.freight_type != "ocean" else "no",
            "wants_delivery": "yes",
            "export_customs": "no" if trucking else "yes",
            "import_customs": "no" if trucking else "yes",
            "product_description": supplier.description,
            "hs_code": supplier.hs_code,
            "export_description_zh": supplier.description_zh if from_china else None,
            "weight_kg": units * rng.choice((180, 240, 310)),
            "volume_cbm": round(units * 1.6, 1),
            "unit_count": units,
            "unit_type": "pallet",
            "atomic_count": rng.choice((24, 36, 48)),
            "hazmat": "no",
            "magnets": "no",
            "other_dangerous_goods": "no",
            "li_ion": "yes" if plan.li_ion else "no",
            "non_li_ion_battery": "no",
            "li_ion_packing": "contained_in_equipment" if plan.li_ion else None,
        }
        if plan.freight_type == "ocean":
            row["load_type"] = plan.load
            if plan.load == "FCL":
                twenty, forty, forty_hc, forty_five_hc = plan.containers
                row |= {
                    "containers_20": twenty, "containers_40": forty,
                    "containers_40hc": forty_hc, "containers_45hc": forty_five_hc,
                }
        if trucking:
            row |= {"is_ltl": "yes", "payment_terms": "prepaid", "unit_count": 4,
                    "weight_kg": 1450, "volume_cbm": 6.4}
            row["special_instructions"] = "Liftgate required at delivery; call DC 24h ahead"
        elif plan.li_ion:
            row["special_instructions"] = "Battery-powered lanterns: UN3481 documents attached"
        rows.append(row)
    return rows


# An ERP's export: its own header names, semicolons, Windows-1252, PO numbers of digits.
ERP_HEADERS = (
    "Purchase Order No.", "Line No", "Vendor Name", "Vendor Code", "Item Number",
    "Item Description", "Order Qty", "UOM", "Unit Price", "Currency Code", "Incoterms",
    "POL", "POD", "Ready Date", "Need By Date", "HTS Code",
)
ERP_ITEMS: dict[str, tuple[tuple[str, str, float, str], ...]] = {
    "sup-shenzhen-lights": (
        ("LF-2210", "Rechargeable LED lantern – 3 modes", 6.9, "9405.40"),
        ("004780", "Clip-on reading light, Ø8 cm", 2.8, "9405.20"),
        ("004512-BLK", "LED desk lamp “Studio”, black", 4.25, "9405.20"),
        ("SL-300", "Solar garden light", 5.4, "9405.40"),
    ),
    "sup-hcmc-apparel": (
        ("AP-2050", "Women’s knit cardigan – écru", 8.75, "6110.20"),
        ("AP-3300", "Men’s cotton chino trousers", 7.1, "6203.42"),
        ("000873", "Kids’ cotton hoodie", 5.3, "6110.20"),
        ("AP-1001-M", "Men’s crew T-shirt, M", 2.4, "6109.10"),
    ),
}


def erp_rows(rng: random.Random) -> list[list[str]]:
    """30 lines of 10 POs from two suppliers, as an ERP writes them."""
    rows: list[list[str]] = []
    for number in range(10):
        supplier = SUPPLIERS[number % 2 * 2]   # Shenzhen and Saigon
        ready = _date_between(rng, dt.date(2026, 12, 1), dt.date(2027, 2, 28))
        items = ERP_ITEMS[supplier.ref][: 2 + number % 3]
        for line, (sku, name, price, hs_code) in enumerate(items, start=1):
            rows.append([
                str(4500018231 + number * 7), str(line * 10), supplier.name, supplier.ref, sku,
                name, str(rng.choice((50, 120, 300, 480))), "PCS", f"{price:.2f}", "USD",
                "FOB", supplier.origin_ports[0], "USLAX", ready.isoformat(),
                (ready + dt.timedelta(days=45)).isoformat(), hs_code,
            ])
    return rows


def write_erp_csv(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(ERP_HEADERS)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("cp1252"))


def make_samples(directory: Path = HERE) -> list[Path]:
    """Write the three sample files into ``directory``."""
    rng = random.Random(SEED)
    po_rows = purchase_order_rows(rng)
    purchase_orders = directory / "purchase-orders.xlsx"
    spec = template_spec(Kind.PURCHASE_ORDERS, metadata_keys=("department",), rows=po_rows)
    write_template(spec, purchase_orders, "xlsx")

    bookings = directory / "bookings.xlsx"
    write_template(template_spec(Kind.BOOKINGS, rows=booking_rows(rng, po_rows)), bookings,
                   "xlsx")

    erp = directory / "erp-export.csv"
    write_erp_csv(erp, erp_rows(rng))
    return [purchase_orders, bookings, erp]


if __name__ == "__main__":
    for written in make_samples():
        print(written.name)
