"""What happens to a booking on the sandbox clock: it is booked, becomes a shipment,
and the shipment moves through its statuses.

Schedule (sandbox-clock seconds; ``T0`` = submission + ``shipment_delay_s``):

    T0        booking "booked", shipment created, status seller_location
    T0 + 1 d  in_transit_to_departure_port   (picked up in full)
    T0 + 2 d  departure_port
    T0 + 3 d  in_transit_to_arrival_port     (departed: actual_departure_date)
    T0 + 4 d  arrival_port                   (arrived: actual_arrival_date)
    T0 + 5 d  in_transit_to_final_destination
    T0 + 6 d  final_destination              (delivered in full)

``T0`` moves later when the cargo is not ready by then (:func:`schedule_start`):
pickup is never before the cargo-ready date. Estimated dates are those times; an
``actual_*`` date is set once the clock passes it. Each shipment gets legs (pickup
truck leg if pickup was wanted, the main leg, delivery truck leg if delivery was
wanted; one truck leg for trucking bookings) and
three documents: commercial_invoice, packing_list and a bill of lading. A booking
whose metadata has ``sandbox_document_file_name: ["../../etc/passwd"]`` gets that
exact (hostile) file name on its commercial invoice, for tests of safe downloads.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass, field
from typing import Any

DAY_S = 86_400.0
STATUSES = (
    "seller_location",
    "in_transit_to_departure_port",
    "departure_port",
    "in_transit_to_arrival_port",
    "arrival_port",
    "in_transit_to_final_destination",
    "final_destination",
)
PICKED_UP_STEP, DEPARTED_STEP, ARRIVED_STEP, DELIVERED_STEP = 1, 3, 4, 6
HOSTILE_FILE_NAME_KEY = "sandbox_document_file_name"
_ID_ALPHABET = string.ascii_letters + string.digits + "-_"
_VESSELS = ("EVER GIVEN", "MSC OSCAR", "CMA CGM MARCO POLO", "COSCO SHIPPING ARIES",
            "MAERSK MC-KINNEY MOLLER", "ONE APUS", "HMM ALGECIRAS")
_CARRIERS = {"ocean": ("Maersk", "MAEU"), "air": ("Cathay Pacific Cargo", "CX"),
             "truck": ("Flexport Trucking", "FLXT")}


def iso(seconds: float) -> str:
    """A sandbox-clock time as the API writes it: ISO 8601, milliseconds, ``Z``."""
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def status_step(booked_at: float, now: float) -> int:
    """Index into :data:`STATUSES` of a shipment booked at ``booked_at``."""
    return max(0, min(len(STATUSES) - 1, int((now - booked_at) // DAY_S)))


def schedule_start(ready_s: float, cargo_ready_date: str | None) -> float:
    """When a shipment's schedule starts (``T0``): when it is booked, but late enough
    that the cargo is picked up no earlier than its cargo-ready date (UTC midnight),
    so no shipment departs before its cargo is ready."""
    try:
        ready = dt.datetime.fromisoformat(str(cargo_ready_date)[:10]).replace(tzinfo=dt.UTC)
    except ValueError:
        return ready_s
    return max(ready_s, ready.timestamp() - PICKED_UP_STEP * DAY_S)


def step_time(booked_at: float, step: int) -> float:
    return booked_at + step * DAY_S


def document_id(rng: random.Random) -> str:
    """A 22-character url-safe id, like Flexport's document ids."""
    return "".join(rng.choice(_ID_ALPHABET) for _ in range(22))


@dataclass
class PlannedLeg:
    mode: str                 # ocean | air | truck
    origin: str               # "origin_address" | "origin_port" | "destination_port"
    destination: str
    departs_step: int
    arrives_step: int
    detail: dict[str, Any]


@dataclass
class PlannedDocument:
    id: str
    document_type: str
    file_name: str
    content: bytes


@dataclass
class ShipmentPlan:
    """Everything generated once when a booking becomes a shipment."""

    facts: dict[str, Any]
    legs: list[PlannedLeg] = field(default_factory=list)
    documents: list[PlannedDocument] = field(default_factory=list)


def plan_shipment(booking_id: int, booking: dict[str, Any], rng: random.Random) -> ShipmentPlan:
    """Bill numbers, containers, legs and documents for a booking's new shipment."""
    mode = booking["transportation_mode"]
    detail = booking["detail"]
    pickup = bool(detail.get("wants_pickup_service")) and mode != "truck"
    delivery = bool(detail.get("wants_delivery_service")) and mode != "truck"
    carrier, scac = _CARRIERS[mode]
    facts: dict[str, Any] = {
        "freight_type": ("door" if pickup else "port") + "_to_" + ("door" if delivery else "port"),
        "house_bill_number": f"FLXT{rng.randrange(10**8):08d}",
        "master_bill_number": f"{scac}{rng.randrange(10**9):09d}",
        "carrier_booking_number": f"{rng.randrange(10**9):09d}",
        "containers": [],
    }
    if mode == "truck":
        facts["freight_type"] = "door_to_door"
    if mode == "ocean":
        sizes = [size for size, n in detail["container_counts"].items() for _ in range(n or 0)]
        if detail["is_lcl"]:
            sizes = ["lcl"]
        facts["containers"] = [
            {"container_number": f"{scac[:3]}U{rng.randrange(10**7):07d}",
             "container_size": None if size == "lcl" else size.replace("forty", "fourty"),
             "container_type": "lcl" if size == "lcl" else "dry",
             "seal_number": f"SL{rng.randrange(10**6):06d}"}
            for size in sizes
        ]
    plan = ShipmentPlan(facts)
    if mode == "truck":
        plan.legs.append(PlannedLeg("truck", "origin_address", "destination_address",
                                    PICKED_UP_STEP, DELIVERED_STEP, {}))
    else:
        if pickup:
            plan.legs.append(PlannedLeg("truck", "origin_address", "origin_port",
                                        PICKED_UP_STEP, 2, {}))
        main: dict[str, Any] = (
            {"vessel_name": rng.choice(_VESSELS), "voyage_number": f"{rng.randrange(1000):03d}E",
             "scac_code": scac}
            if mode == "ocean" else
            {"flight_number": f"{scac}{rng.randrange(100, 1000)}", "iata_code": scac}
        )
        plan.legs.append(PlannedLeg(mode, "origin_port", "destination_port",
                                    DEPARTED_STEP, ARRIVED_STEP, main))
        if delivery:
            plan.legs.append(PlannedLeg("truck", "destination_port", "destination_address",
                                        5, DELIVERED_STEP, {}))
    for leg in plan.legs:
        leg.detail["carrier_name"] = carrier if leg.mode == mode else _CARRIERS["truck"][0]

    hostile = (booking.get("metadata") or {}).get(HOSTILE_FILE_NAME_KEY) or []
    bill = {"ocean": "flexport_bill_of_lading", "air": "house_airway_bill",
            "truck": "trucking_bill_of_lading"}[mode]
    for kind in ("commercial_invoice", "packing_list", bill):
        name = f"{kind}_{booking_id}.pdf"
        if kind == "commercial_invoice" and hostile:
            name = hostile[0]
        plan.documents.append(PlannedDocument(
            document_id(rng), kind, name, _pdf(f"{kind} for booking {booking['name']}")))
    return plan


def _pdf(title: str) -> bytes:
    """A one-page PDF showing ``title``: valid (catalog, page, font, xref with exact
    offsets), so a downloaded sandbox document opens in any PDF viewer."""
    # PDF string literals escape backslash and parentheses; the text is ASCII.
    text = title.encode("ascii", "replace").replace(b"\\", b"\\\\")
    text = text.replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)
