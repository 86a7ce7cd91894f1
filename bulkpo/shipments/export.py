"""Filtered shipment lists -> a workbook: Shipments, Legs and Milestones sheets, Summary, Query.

Filters go to the API as ``f.`` parameters (nothing is filtered after download).
Pages and each shipment's legs are fetched under the same pacer and retries as
imports; rows are written page by page, so memory stays flat in the number of
shipments. The formatting and the Summary and Query sheets follow the PO export.

Example::

    query = ShipmentQuery(status="in_transit_to_arrival_port", metadata=(("po", "PO-1"),))
    result = asyncio.run(export_shipments(settings, query, Path("shipments.xlsx")))
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkpo import __version__
from bulkpo.config import Settings
from bulkpo.engine.pacing import Caller, caller_for, paced
from bulkpo.errors import UsageError
from bulkpo.flexport.client import FlexportClient, Page
from bulkpo.flexport.filters import SHIPMENTS_OLDEST_FIRST, shipment_filters
from bulkpo.flexport.models import TRANSPORTATION_MODE_VALUES, Shipment, ShipmentLeg
from bulkpo.purchase_orders.export import safe_url
from bulkpo.sheets.export_writer import SummaryTable, query_sheet, summary_sheet
from bulkpo.sheets.formats import SHIPMENTS_EXPORT
from bulkpo.sheets.writer import (
    DATE_FORMAT,
    INTEGER_FORMAT,
    Column,
    SheetSink,
    xlsx_book,
)
from bulkpo.shipments.track import (
    MINUTE_FORMAT,
    current_leg,
    display_zone,
    latest_milestone,
    local_time,
    milestones,
    node_name,
    ordered_legs,
    ports_of,
    status_label,
    zone_label,
)

__all__ = [
    "ShipmentExportResult",
    "ShipmentQuery",
    "export_shipments",
    "leg_columns",
    "leg_values",
    "milestone_columns",
    "milestone_values",
    "shipment_columns",
    "shipment_values",
]

PAGE_SIZE = 100


@dataclass(frozen=True)
class ShipmentQuery:
    """Which shipments to export: the shipment list endpoint's filters (§4).

    Times must be time-zone aware. ``metadata`` pairs may repeat a key: the API
    then matches any of its values.
    """

    status: str | None = None
    transportation_mode: str | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    po_number: str | None = None
    sku: str | None = None
    container_number: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        mode = self.transportation_mode
        if mode is not None and mode not in TRANSPORTATION_MODE_VALUES:
            known = ", ".join(sorted(TRANSPORTATION_MODE_VALUES))
            raise UsageError(f"--transportation-mode {mode!r}: expected one of {known}")
        for option, moment in (("--updated-after", self.updated_after),
                               ("--updated-before", self.updated_before)):  # fmt: skip
            if moment is not None and moment.tzinfo is None:
                raise UsageError(f"{option} {moment.isoformat()}: needs a time zone")
        for key, _value in self.metadata:
            if not key.strip():
                raise UsageError("--metadata: expected KEY=VALUE with a key")

    def params(self) -> dict[str, str | list[str]]:
        """The query parameters of ``GET /shipments`` (without page and per)."""
        return shipment_filters(
            status=self.status,
            transportation_mode=self.transportation_mode,
            purchase_order=self.po_number,
            sku=self.sku,
            container_number=self.container_number,
            updated_after=self.updated_after,
            updated_before=self.updated_before,
            metadata=self.metadata,
        )


def parse_metadata(pairs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` texts as pairs; a UsageError for one without ``=``."""
    out = []
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--metadata {pair!r}: expected KEY=VALUE")
        out.append((key.strip(), value))
    return tuple(out)


# ---------------------------------------------------------------- sheets

_AT = MINUTE_FORMAT
_ID = INTEGER_FORMAT


def shipment_columns(zone: str) -> tuple[Column, ...]:
    """The Shipments sheet's columns, times headed with their ``zone``. The status is in
    plain language; the API's code is the last column (``--status`` filters take it)."""
    return (
        Column("Shipment ID", _ID), Column("Name"), Column("Booking ID", _ID),
        Column("Status", width=30), Column("Mode"), Column("POL"), Column("POD"),
        Column("Freight Type"), Column("Incoterm"), Column("Cargo Ready", DATE_FORMAT),
        Column(f"ETD (estimated, {zone})", _AT), Column(f"ETD (actual, {zone})", _AT),
        Column(f"ETA (estimated, {zone})", _AT), Column(f"ETA (actual, {zone})", _AT),
        Column(f"Delivered (estimated, {zone})", _AT),
        Column(f"Delivered (actual, {zone})", _AT), Column("Current Leg", width=60),
        Column("Latest Milestone"), Column("Master Bill"), Column("House Bill"),
        Column("PO Numbers"), Column(f"Updated At ({zone})", _AT), Column("Status Code"),
    )  # fmt: skip


def leg_columns(zone: str) -> tuple[Column, ...]:
    """The Legs sheet's columns: each leg names its shipment and booking."""
    return (
        Column("Shipment ID", _ID), Column("Shipment Name"), Column("Booking ID", _ID),
        Column("Leg", _ID), Column("Leg ID", _ID), Column("Mode"), Column("Carrier"),
        Column("From"), Column("To"), Column(f"Departure (estimated, {zone})", _AT),
        Column(f"Departure (actual, {zone})", _AT), Column(f"Arrival (estimated, {zone})", _AT),
        Column(f"Arrival (actual, {zone})", _AT), Column("Vessel / Flight"), Column("Voyage"),
    )  # fmt: skip


def milestone_columns(zone: str) -> tuple[Column, ...]:
    """The Milestones sheet's columns: each milestone names its shipment and booking."""
    return (
        Column("Shipment ID", _ID), Column("Shipment Name"), Column("Booking ID", _ID),
        Column("Milestone", width=24), Column("Leg", _ID), Column("Place"),
        Column(f"Estimated ({zone})", _AT), Column(f"Actual ({zone})", _AT), Column("Happened"),
    )  # fmt: skip


SHIPMENT_COLUMNS = shipment_columns("UTC")
LEG_COLUMNS = leg_columns("UTC")
MILESTONE_COLUMNS = milestone_columns("UTC")


def _names(shipment: Shipment) -> list[object]:
    return [shipment.id, shipment.name, shipment.booking.id if shipment.booking else None]


def shipment_values(
    shipment: Shipment, legs: Sequence[ShipmentLeg], tz: dt.tzinfo | None = dt.UTC
) -> list[object]:
    """One Shipments row, in :func:`shipment_columns` order, times in ``tz``."""
    s = shipment
    latest = latest_milestone(milestones(s, legs))
    master = house = None
    if s.ocean_shipment is not None:
        master, house = s.ocean_shipment.master_bill_number, s.ocean_shipment.house_bill_number
    elif s.air_shipment is not None:
        master, house = s.air_shipment.master_airway_bill, s.air_shipment.house_airway_bill
    pos = sorted({i.purchase_order_number for i in s.items if i.purchase_order_number})
    pol, pod = ports_of(legs)

    def at(value: object) -> object:
        return local_time(value, tz)

    return [
        *_names(s), status_label(s.status), s.transportation_mode, pol, pod,
        s.freight_type, s.incoterm, s.cargo_ready_date, at(s.estimated_departure_date),
        at(s.actual_departure_date), at(s.estimated_arrival_date), at(s.actual_arrival_date),
        at(s.estimated_delivered_in_full_date), at(s.actual_delivered_in_full_date),
        current_leg(legs), latest.name if latest else None, master, house,
        ", ".join(pos) or None, at(s.updated_at), s.status,
    ]  # fmt: skip


def leg_values(
    shipment: Shipment, legs: Sequence[ShipmentLeg], tz: dt.tzinfo | None = dt.UTC
) -> list[list[object]]:
    """The Legs rows of one shipment, in route order, times in ``tz``."""
    rows: list[list[object]] = []
    for number, leg in enumerate(ordered_legs(legs), 1):
        detail = leg.ocean_leg or leg.air_leg or leg.trucking_leg or leg.rail_leg
        craft = (detail.vessel_name or detail.flight_number) if detail else None
        rows.append([
            *_names(shipment), number, leg.id, leg.transportation_mode, leg.carrier_name,
            node_name(leg.origin), node_name(leg.destination),
            local_time(leg.estimated_departure_date, tz), local_time(leg.actual_departure_date, tz),
            local_time(leg.estimated_arrival_date, tz), local_time(leg.actual_arrival_date, tz),
            craft, detail.voyage_number if detail else None,
        ])  # fmt: skip
    return rows


def milestone_values(
    shipment: Shipment, legs: Sequence[ShipmentLeg], tz: dt.tzinfo | None = dt.UTC
) -> list[list[object]]:
    """The Milestones rows of one shipment, in route order, times in ``tz``."""
    return [
        [*_names(shipment), event.name, event.leg, event.place, local_time(event.estimated, tz),
         local_time(event.actual, tz), "yes" if event.actual is not None else "no"]
        for event in milestones(shipment, legs)
    ]  # fmt: skip


# ---------------------------------------------------------------- fetching


@dataclass(frozen=True)
class ShipmentExportResult:
    shipments: int
    legs: int
    milestones: int
    path: Path


async def _with_legs(
    api: FlexportClient, caller: Caller, items: Sequence[dict[str, Any]], gate: asyncio.Semaphore
) -> list[tuple[Shipment, list[ShipmentLeg]]]:
    async def one(item: dict[str, Any]) -> tuple[Shipment, list[ShipmentLeg]]:
        shipment = Shipment.model_validate(item)
        if shipment.id is None:
            return shipment, []
        sid = shipment.id
        async with gate:
            legs = await paced(caller, lambda: api.shipment_legs(sid))
        return shipment, legs

    return list(await asyncio.gather(*(one(item) for item in items)))


def _query_rows(
    query: ShipmentQuery, settings: Settings, started: dt.datetime, counts: Sequence[int],
    zone: str,
) -> list[tuple[str, object]]:
    """What the Query sheet records: filters, time, API base URL, version (never the key)."""
    params = query.params()
    out: list[tuple[str, object]] = [("Export", "shipments")]
    for name, value in params.items():
        out.append((name, ", ".join(value) if isinstance(value, list) else value))
    if not params:
        out.append(("Filters", "none: every shipment"))
    out += [
        ("Run at (UTC)", started.astimezone(dt.UTC)),
        ("Run at (local)", started.astimezone().isoformat(timespec="seconds")),
        ("Times in the sheets", zone),
        ("API base URL", safe_url(settings.base_url)),
        ("bulkpo version", __version__),
        ("Shipments", counts[0]),
        ("Legs", counts[1]),
        ("Milestones", counts[2]),
    ]
    return out


def _summary(by_status: Counter[str], by_mode: Counter[str]) -> list[SummaryTable]:
    def rows(counter: Counter[str]) -> list[tuple[object, ...]]:
        return [(key, n) for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]

    return [
        SummaryTable("By status", ("Status", "Shipments"), rows(by_status), 1),
        SummaryTable("By mode", ("Mode", "Shipments"), rows(by_mode), 1),
    ]


async def export_shipments(
    settings: Settings,
    query: ShipmentQuery,
    path: Path,
    *,
    on_page: Callable[[Page], None] = lambda _p: None,
) -> ShipmentExportResult:
    """Write the shipments matching ``query`` to the workbook ``path`` (.xlsx): Shipments,
    Legs, Milestones, Summary (counts by status and mode) and Query sheets, times in
    ``settings.timezone`` (None: this machine's zone). The file appears only when complete."""
    path = Path(path)
    SHIPMENTS_EXPORT.resolve(path, "-o")
    started = dt.datetime.now(dt.UTC)
    tz = display_zone(settings.timezone)
    zone = zone_label(tz)
    caller = caller_for(settings)
    gate = asyncio.Semaphore(settings.concurrency)
    params: dict[str, Any] = {**query.params(), **SHIPMENTS_OLDEST_FIRST}
    by_status: Counter[str] = Counter()
    by_mode: Counter[str] = Counter()
    counts = [0, 0, 0]
    with xlsx_book(path) as book:
        sheets: list[SheetSink] = [
            book.add_sheet("Shipments", shipment_columns(zone), table=True),
            book.add_sheet("Legs", leg_columns(zone), table=True),
            book.add_sheet("Milestones", milestone_columns(zone), table=True),
        ]
        shipments_sheet, legs_sheet, milestones_sheet = sheets
        async with FlexportClient(settings) as api:
            number = 1
            while True:
                page = await paced(
                    caller, functools.partial(api.shipment_page, params, number, per=PAGE_SIZE)
                )
                on_page(page)
                for shipment, legs in await _with_legs(api, caller, page.items, gate):
                    shipments_sheet.append(shipment_values(shipment, legs, tz))
                    by_status[status_label(shipment.status) or "(none)"] += 1
                    by_mode[shipment.transportation_mode or "(none)"] += 1
                    for values in leg_values(shipment, legs, tz):
                        legs_sheet.append(values)
                        counts[1] += 1
                    for values in milestone_values(shipment, legs, tz):
                        milestones_sheet.append(values)
                        counts[2] += 1
                    counts[0] += 1
                if page.next_url is None or not page.items:
                    break
                number += 1
        for sheet in sheets:
            sheet.close()
        summary_sheet(book.workbook, _summary(by_status, by_mode))
        query_sheet(book.workbook, _query_rows(query, settings, started, counts, zone))
    return ShipmentExportResult(counts[0], counts[1], counts[2], path)
