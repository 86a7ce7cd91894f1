"""Where booked freight is: each booking's status, its shipment, dates, current leg and
latest milestone, one row per booking, every row fetched on its own.

A booking Flexport has not confirmed yet has no shipment; that is a state to show
("submitted — not confirmed yet, no shipment"), not an error. ``wait`` polls such
bookings with a capped backoff until each has a shipment or the time is up.

The milestone and current-leg functions are pure and shared with the shipment
export, so both say the same thing about a shipment.

Example::

    targets = targets_from_file(Path(".bulkpo/journals/bookings-1a2b.sqlite"))
    rows = asyncio.run(track_bookings(settings, targets, wait=TrackWait(timeout=600)))
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import json
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bulkpo.columns import BOOKING_COLUMNS
from bulkpo.config import Settings
from bulkpo.engine.journal import Journal
from bulkpo.engine.pacing import Caller, caller_for, paced
from bulkpo.errors import ApiError, ConfigError, InputError, NotFoundError
from bulkpo.flexport.client import FlexportClient
from bulkpo.flexport.models import Booking, Shipment, ShipmentLeg, ShipmentNode
from bulkpo.report import GOOD_STATUSES, STATUSES
from bulkpo.sheets.formats import JSONL, TRACKING, format_for
from bulkpo.sheets.reader import read_table
from bulkpo.sheets.writer import (
    INTEGER_FORMAT,
    Column,
)

__all__ = [
    "NOT_CONFIRMED",
    "TRACK_COLUMNS",
    "Milestone",
    "TrackRow",
    "TrackState",
    "TrackTarget",
    "TrackTargets",
    "TrackWait",
    "current_leg",
    "display_zone",
    "latest_milestone",
    "local_time",
    "milestones",
    "node_name",
    "ordered_legs",
    "ports_of",
    "read_targets",
    "status_label",
    "targets_from_file",
    "track",
    "track_bookings",
    "track_columns",
    "write_tracking",
]

T = TypeVar("T")

BOOKING_KIND = "booking"  # the journal kind of bookings imports
NOT_CONFIRMED = "submitted — not confirmed yet, no shipment"
_SQLITE_MAGIC = b"SQLite format 3\x00"
MINUTE_FORMAT = "yyyy-mm-dd hh:mm"  # date-times to the minute: seconds say nothing here
DAY_FORMAT = "yyyy-mm-dd"

# ---------------------------------------------------------------- words and times

# Shipment and booking statuses as a person says them; the API's code stays beside it.
STATUS_LABELS = {
    "seller_location": "At seller's location",
    "origin_stop_off": "At origin stop-off",
    "in_transit_to_departure_port": "In transit to departure port",
    "departure_port": "At departure port",
    "in_transit_to_intermediary_port": "In transit to transshipment port",
    "intermediary_port": "At transshipment port",
    "in_transit_to_arrival_port": "In transit to arrival port",
    "arrival_port": "At arrival port",
    "deconsolidation": "Being deconsolidated",
    "in_transit_to_final_destination": "In transit to final destination",
    "destination_stop_off": "At destination stop-off",
    "final_destination": "Delivered to final destination",
    "gated_out": "Gated out",
    "draft": "Draft",
    "submitted": "Submitted",
    "booked": "Booked",
    "shipment": "Shipment created",
    "archived": "Archived",
}


def status_label(code: str | None) -> str | None:
    """A status code in plain language (``in_transit_to_departure_port`` ->
    ``In transit to departure port``); an unknown code in words all the same."""
    if not code:
        return None
    return STATUS_LABELS.get(code) or code.replace("_", " ").capitalize()


def display_zone(name: str | None) -> ZoneInfo | None:
    """The time zone outputs show times in: ``name`` (IANA), or None for this machine's."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"time zone {name!r} is not known (use a name like Europe/Berlin or UTC)"
        ) from None


def zone_label(tz: dt.tzinfo | None) -> str:
    """The zone's name as headers show it: ``Europe/Berlin``, or the machine's zone."""
    if isinstance(tz, ZoneInfo):
        return tz.key
    if tz is not None:
        return str(tz)
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    with contextlib.suppress(OSError):
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return dt.datetime.now().astimezone().tzname() or "local time"


def local_time(value: object, tz: dt.tzinfo | None) -> object:
    """A moment as the reader's wall clock shows it (naive, to the minute) in ``tz``
    (None: this machine's zone, with its DST on that day); a date stays a date."""
    if not isinstance(value, dt.datetime):
        return value
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


# ---------------------------------------------------------------- what to track


@dataclass(frozen=True)
class TrackTarget:
    """One thing to track, as the user named it: a booking (name or id) or a shipment."""

    booking_name: str | None = None
    booking_id: int | None = None
    shipment_id: int | None = None

    def label(self) -> str:
        if self.booking_name:
            return self.booking_name
        if self.booking_id is not None:
            return f"booking {self.booking_id}"
        return f"shipment {self.shipment_id}"


def _int_or_none(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def _text_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _unique(targets: Iterable[TrackTarget]) -> list[TrackTarget]:
    # An import report has one row per input row; a booking is tracked once.
    seen: set[TrackTarget] = set()
    out = []
    for target in targets:
        if target not in seen and target != TrackTarget():
            seen.add(target)
            out.append(target)
    return out


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC


def _from_journal(path: Path) -> list[TrackTarget]:
    try:
        with Journal(path) as journal:
            records = list(journal.units(BOOKING_KIND))
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: not a bulkpo journal ({exc})") from None
    if not records:
        raise InputError(f"{path}: this journal holds no bookings (is it a PO import's?)")
    return [TrackTarget(r.key, _int_or_none(r.flexport_id)) for r in records]


def _from_jsonl(path: Path) -> TrackTargets:
    targets = []
    left_out = 0
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(f"{path}, line {number}: not JSON") from None
            if not isinstance(record, dict):
                raise InputError(f"{path}, line {number}: not a JSON object")
            status = record.get("status")
            if status in STATUSES and status not in GOOD_STATUSES:
                left_out += 1  # an import report's row that never reached Flexport
                continue
            has_booking = "key" in record or "booking_name" in record
            targets.append(
                TrackTarget(
                    _text_or_none(record.get("booking_name") or record.get("key")),
                    _int_or_none(
                        record.get("booking_id")
                        or (record.get("flexport_id") if has_booking else None)
                    ),
                    _int_or_none(record.get("shipment_id")),
                )
            )
    return TrackTargets(targets, left_out)


def _fold(header: str) -> str:
    return "".join(ch for ch in header.casefold() if ch.isalnum())


_BOOKING_ID_HEADERS = frozenset({"flexportid", "bookingid", "flexportbookingid"})
_SHIPMENT_ID_HEADERS = frozenset({"shipmentid", "flexportshipmentid"})


def _report_status_column(table: Any) -> int | None:
    """The Status column bulkpo's import report adds, if the table has one: headed
    Status and holding only report statuses."""
    known = set(STATUSES)
    for i, header in enumerate(table.headers):
        if _fold(header) != "status":
            continue
        values = {str(v).strip() for row in table.rows if (v := row.get(i)) not in (None, "")}
        if values and values <= known:
            return i
    return None


def _from_table(path: Path) -> TrackTargets:
    table = read_table(path)
    name_col = id_col = shipment_col = None
    for i, header in enumerate(table.headers):
        folded = _fold(header)
        column = BOOKING_COLUMNS.match(header)
        if name_col is None and (folded == "key" or (column and column.key == "booking_name")):
            name_col = i
        elif id_col is None and folded in _BOOKING_ID_HEADERS:
            id_col = i
        elif shipment_col is None and folded in _SHIPMENT_ID_HEADERS:
            shipment_col = i
    if name_col is None and id_col is None and shipment_col is None:
        raise InputError(
            f"{path}: no Booking Name, key, Flexport ID or Shipment ID column "
            f"(headers found: {', '.join(h for h in table.headers if h) or 'none'})"
        )

    def cell(row: Any, col: int | None) -> object:
        return None if col is None else row.get(col)

    # An import report also lists the rows that never reached Flexport: not tracked.
    status_col = _report_status_column(table)
    rows = list(table.rows)
    kept = [r for r in rows if status_col is None or str(cell(r, status_col)) in GOOD_STATUSES]
    targets = [
        TrackTarget(
            _text_or_none(cell(row, name_col)),
            _int_or_none(cell(row, id_col)),
            _int_or_none(cell(row, shipment_col)),
        )
        for row in kept
    ]
    return TrackTargets(targets, len(rows) - len(kept))


@dataclass(frozen=True)
class TrackTargets:
    """What a file names, and how many of its rows were left out: rows of an import
    report that did not go through (invalid or failed) have nothing to track."""

    targets: list[TrackTarget]
    left_out: int = 0


def read_targets(path: Path) -> TrackTargets:
    """What a file names: a bookings import's journal (.sqlite), its result report
    (.jsonl, .csv, .xlsx with key / Flexport ID columns; only the rows whose Status
    says they went through), a bookings input workbook (Booking Name column) or a
    ``track -o`` output (Shipment ID column)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if _is_sqlite(path):
        read = TrackTargets(_from_journal(path))
    elif format_for(path) is JSONL:
        read = _from_jsonl(path)
    else:
        read = _from_table(path)
    found = _unique(read.targets)
    if not found:
        why = f" ({read.left_out} rows did not go through)" if read.left_out else ""
        raise InputError(f"{path}: names no booking or shipment{why}")
    return TrackTargets(found, read.left_out)


def targets_from_file(path: Path) -> list[TrackTarget]:
    """The targets of :func:`read_targets`."""
    return read_targets(path).targets


# ---------------------------------------------------------------- milestones


@dataclass(frozen=True)
class Milestone:
    """One event of a shipment, planned and (once it happened) actual."""

    name: str
    estimated: dt.datetime | dt.date | None
    actual: dt.datetime | dt.date | None
    leg: int | None = None  # 1-based leg number; None for the shipment as a whole
    place: str | None = None


def node_name(node: ShipmentNode | None) -> str | None:
    """A stop as a person reads it: a port's UN/LOCODE, an address's name, else its role."""
    if node is None:
        return None
    place = node.place
    if place is not None:
        # Ports carry details (port codes); an address shares its city's LOCODE, so
        # its name ("Los Angeles DC") says more.
        first, second = (
            (place.unlocode, place.name) if place.details else (place.name, place.unlocode)
        )
        if first or second:
            return first or second
    # No place yet (Flexport picks the airport later): its role, in words.
    return node.tags[0].replace("_", " ") if node.tags else None


def ordered_legs(legs: Sequence[ShipmentLeg]) -> list[ShipmentLeg]:
    """A shipment's legs in route order (by estimated departure), as they are numbered."""
    # The API lists legs in creation order, which is not always the route's order.
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(legs, key=lambda leg: (leg.estimated_departure_date or far, leg.id or 0))


def milestones(shipment: Shipment, legs: Sequence[ShipmentLeg]) -> list[Milestone]:
    """The shipment's milestones from its dates and its legs' dates, in route order:
    cargo ready, picked up, each leg's departure and arrival, departed, arrived, delivered."""
    s = shipment
    # The API has no actual cargo-ready date; cargo that left the seller was ready.
    moved = s.actual_picked_up_in_full_date or s.actual_departure_date or any(
        leg.actual_departure_date for leg in legs
    )
    out = [Milestone("Cargo ready", s.cargo_ready_date, s.cargo_ready_date if moved else None)]
    out.append(
        Milestone("Picked up", s.estimated_picked_up_in_full_date, s.actual_picked_up_in_full_date)
    )
    ordered = ordered_legs(legs)
    for number, leg in enumerate(ordered, 1):
        mode = leg.transportation_mode or "leg"
        name = f"Leg {number} ({mode})"
        origin, destination = node_name(leg.origin), node_name(leg.destination)
        out.append(Milestone(f"{name} departed", leg.estimated_departure_date,
                             leg.actual_departure_date, number, origin))  # fmt: skip
        out.append(Milestone(f"{name} arrived", leg.estimated_arrival_date,
                             leg.actual_arrival_date, number, destination))  # fmt: skip
    out.append(Milestone("Departed", s.estimated_departure_date, s.actual_departure_date))
    out.append(Milestone("Arrived", s.estimated_arrival_date, s.actual_arrival_date))
    out.append(
        Milestone("Delivered", s.estimated_delivered_in_full_date, s.actual_delivered_in_full_date)
    )
    return [m for m in out if m.estimated is not None or m.actual is not None]


def _moment(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def latest_milestone(events: Sequence[Milestone]) -> Milestone | None:
    """The milestone that happened last (by actual date; the later one in route order
    on a tie), or None when nothing has happened yet."""
    happened = [(_moment(m.actual), i, m) for i, m in enumerate(events) if m.actual is not None]
    return max(happened, key=lambda t: t[:2])[2] if happened else None


_POL_TAGS = ("port_of_loading",)
_POD_TAGS = ("port_of_unloading",)


def ports_of(legs: Sequence[ShipmentLeg]) -> tuple[str | None, str | None]:
    """The shipment's port of loading and of discharge (POL, POD) from its legs' stops:
    the stops tagged so, else the first non-truck leg's ends."""
    pol = pod = None
    ordered = ordered_legs(legs)
    for leg in ordered:
        for node in (leg.origin, leg.destination):
            if node is None or node.place is None:
                continue  # a stop without a place names only its role, not a port
            if pol is None and any(t in node.tags for t in _POL_TAGS):
                pol = node_name(node)
            if pod is None and any(t in node.tags for t in _POD_TAGS):
                pod = node_name(node)
    main = next((leg for leg in ordered if leg.transportation_mode not in (None, "truck")), None)
    if main is not None:
        if main.origin is not None and main.origin.place is not None:
            pol = pol or node_name(main.origin)
        if main.destination is not None and main.destination.place is not None:
            pod = pod or node_name(main.destination)
    return pol, pod


def current_leg(legs: Sequence[ShipmentLeg]) -> str | None:
    """The leg the cargo is on (or waits for, or last finished), e.g.
    ``2/3 ocean CNYTN → USLAX (Maersk), in transit``."""
    ordered = ordered_legs(legs)
    if not ordered:
        return None
    state, index = "waiting", 0
    for i, leg in enumerate(ordered):
        if leg.actual_departure_date is not None and leg.actual_arrival_date is None:
            state, index = "in transit", i
            break
        if leg.actual_arrival_date is not None:
            state, index = "arrived", i
    else:
        if state == "arrived" and index + 1 < len(ordered):
            state, index = "waiting", index + 1
    leg = ordered[index]
    text = (
        f"{index + 1}/{len(ordered)} {leg.transportation_mode or 'leg'} "
        f"{node_name(leg.origin) or '?'} → {node_name(leg.destination) or '?'}"
    )
    if leg.carrier_name:
        text += f" ({leg.carrier_name})"
    return f"{text}, {state}"


# ---------------------------------------------------------------- rows


class TrackState(enum.StrEnum):
    """How far a row got: tracked, booked but without a shipment yet, or not fetched."""

    SHIPMENT = "shipment"
    NOT_CONFIRMED = "not confirmed"
    FAILED = "failed"


@dataclass
class TrackRow:
    """What is known about one tracked booking or shipment."""

    target: TrackTarget
    state: TrackState
    booking_name: str | None = None
    booking_id: int | None = None
    booking_status: str | None = None
    shipment_id: int | None = None
    shipment_status: str | None = None
    transportation_mode: str | None = None
    pol: str | None = None
    pod: str | None = None
    etd_estimated: dt.datetime | None = None
    etd_actual: dt.datetime | None = None
    eta_estimated: dt.datetime | None = None
    eta_actual: dt.datetime | None = None
    current_leg: str | None = None
    milestone: str | None = None
    milestone_at: dt.datetime | dt.date | None = None
    message: str = ""

    @property
    def fetched(self) -> bool:
        return self.state is not TrackState.FAILED

    def values(self, tz: dt.tzinfo | None = None) -> list[object]:
        """The row in :func:`track_columns` order, times in ``tz`` (None: local)."""
        def at(value: object) -> object:
            return local_time(value, tz)

        return [
            self.booking_name, self.booking_id, status_label(self.booking_status),
            self.shipment_id, status_label(self.shipment_status), self.transportation_mode,
            self.pol, self.pod, at(self.etd_estimated), at(self.etd_actual),
            at(self.eta_estimated), at(self.eta_actual), self.current_leg, self.milestone,
            at(self.milestone_at), self.state.value, self.message, self.booking_status,
            self.shipment_status,
        ]  # fmt: skip


def track_columns(tz: dt.tzinfo | None = None) -> tuple[tuple[str, Column], ...]:
    """(jsonl key, sheet column) of a tracking row, in order; time headers name ``tz``.

    Statuses are in plain language; their API codes follow at the end, for filters
    (``export shipments --status`` takes the code) and for programs."""
    zone = zone_label(tz)
    ident = Column("", INTEGER_FORMAT)
    at = Column("", MINUTE_FORMAT)
    return tuple(
        (key, replace(column, header=header))
        for key, header, column in (
            ("booking_name", "Booking Name", Column("")),
            ("booking_id", "Booking ID", ident),
            ("booking_status", "Booking Status", Column("")),
            ("shipment_id", "Shipment ID", ident),
            ("shipment_status", "Shipment Status", Column("", width=30)),
            ("transportation_mode", "Mode", Column("")),
            ("pol", "POL", Column("")),
            ("pod", "POD", Column("")),
            ("etd_estimated", f"ETD (estimated, {zone})", at),
            ("etd_actual", f"ETD (actual, {zone})", at),
            ("eta_estimated", f"ETA (estimated, {zone})", at),
            ("eta_actual", f"ETA (actual, {zone})", at),
            ("current_leg", "Current Leg", Column("", width=60)),
            ("milestone", "Latest Milestone", Column("")),
            ("milestone_at", f"Milestone At ({zone})", at),
            ("state", "State", Column("")),
            ("message", "Message", Column("", width=50)),
            ("booking_status_code", "Booking Status Code", Column("")),
            ("shipment_status_code", "Shipment Status Code", Column("")),
        )
    )


TRACK_COLUMNS = track_columns(dt.UTC)
"""(jsonl key, sheet column) of a tracking row in UTC; see :func:`track_columns`."""


def _booking_part(row: TrackRow, booking: Booking) -> None:
    row.booking_name = booking.name or row.booking_name
    row.booking_id = booking.id
    row.booking_status = booking.status
    row.transportation_mode = booking.transportation_mode


def _shipment_part(row: TrackRow, shipment: Shipment, legs: Sequence[ShipmentLeg]) -> None:
    row.state = TrackState.SHIPMENT
    row.shipment_id = shipment.id
    row.shipment_status = shipment.status
    row.transportation_mode = shipment.transportation_mode or row.transportation_mode
    row.etd_estimated = shipment.estimated_departure_date
    row.etd_actual = shipment.actual_departure_date
    row.eta_estimated = shipment.estimated_arrival_date
    row.eta_actual = shipment.actual_arrival_date
    row.current_leg = current_leg(legs)
    row.pol, row.pod = ports_of(legs)
    latest = latest_milestone(milestones(shipment, legs))
    row.milestone = latest.name if latest else None
    row.milestone_at = latest.actual if latest else None
    row.message = ""


# ---------------------------------------------------------------- fetching


async def _track_one(api: FlexportClient, caller: Caller, target: TrackTarget) -> TrackRow:
    row = TrackRow(target, TrackState.NOT_CONFIRMED, booking_name=target.booking_name,
                   booking_id=target.booking_id)  # fmt: skip
    try:
        booking: Booking | None = None
        shipment_id = target.shipment_id
        if target.booking_id is not None:
            booking_id = target.booking_id
            booking = await paced(caller, lambda: api.get_booking(booking_id))
        elif target.booking_name is not None:
            name = target.booking_name
            booking = await paced(caller, lambda: api.find_booking_by_name(name))
            if booking is None:
                row.state = TrackState.FAILED
                row.message = f"no booking named {name!r}"
                return row
        if booking is not None:
            _booking_part(row, booking)
            if booking.shipment is not None and booking.shipment.id is not None:
                shipment_id = booking.shipment.id
            elif shipment_id is None:
                row.message = NOT_CONFIRMED
                return row
        if shipment_id is None:  # pragma: no cover - a target always names something
            raise AssertionError("a target without booking or shipment")
        sid = shipment_id
        try:
            shipment = await paced(caller, lambda: api.get_shipment(sid))
        except NotFoundError:
            if booking is None:
                raise
            # The booking names a shipment the API does not serve yet.
            row.message = NOT_CONFIRMED
            return row
        legs = await paced(caller, lambda: api.shipment_legs(sid))
        if booking is None and shipment.booking is not None and shipment.booking.id is not None:
            bid = shipment.booking.id
            # A shipment need not come from a booking this key can read.
            with contextlib.suppress(NotFoundError):
                _booking_part(row, await paced(caller, lambda: api.get_booking(bid)))
        _shipment_part(row, shipment, legs)
    except ApiError as exc:
        if exc.stops_run:  # a wrong key, an unsendable request: the same for every row
            raise
        row.state = TrackState.FAILED
        row.message = str(exc)
    return row


async def track(
    api: FlexportClient,
    caller: Caller,
    targets: Sequence[TrackTarget],
    *,
    concurrency: int = 8,
    on_row: Callable[[TrackRow], None] = lambda _r: None,
) -> list[TrackRow]:
    """One row per target, in the targets' order; a target that cannot be fetched
    gets a failed row with the reason, and the others go on."""
    gate = asyncio.Semaphore(concurrency)

    async def one(target: TrackTarget) -> TrackRow:
        async with gate:
            row = await _track_one(api, caller, target)
        on_row(row)
        return row

    return list(await asyncio.gather(*(one(t) for t in targets)))


@dataclass(frozen=True)
class TrackWait:
    """Polling until every booking has a shipment: the first pause doubles up to
    ``max_interval``; ``timeout`` seconds in all."""

    timeout: float = 600.0
    interval: float = 5.0
    max_interval: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)


async def track_until_shipped(
    api: FlexportClient,
    caller: Caller,
    targets: Sequence[TrackTarget],
    wait: TrackWait | None = None,
    *,
    concurrency: int = 8,
    on_poll: Callable[[int, float], None] = lambda _waiting, _pause: None,
) -> list[TrackRow]:
    """:func:`track`, then (with ``wait``) again for the bookings without a shipment
    until each has one or the time is up. ``on_poll(waiting, pause)`` before a pause."""
    rows = await track(api, caller, targets, concurrency=concurrency)
    if wait is None:
        return rows
    deadline = wait.clock() + wait.timeout
    pause = wait.interval
    while True:
        waiting = [i for i, row in enumerate(rows) if row.state is TrackState.NOT_CONFIRMED]
        left = deadline - wait.clock()
        if not waiting or left <= 0:
            return rows
        step = min(pause, left)
        on_poll(len(waiting), step)
        await wait.sleep(step)
        pause = min(pause * 2, wait.max_interval)
        again = await track(api, caller, [rows[i].target for i in waiting],
                            concurrency=concurrency)  # fmt: skip
        for i, row in zip(waiting, again, strict=True):
            rows[i] = row


async def track_bookings(
    settings: Settings,
    targets: Sequence[TrackTarget],
    *,
    wait: TrackWait | None = None,
    on_poll: Callable[[int, float], None] = lambda _waiting, _pause: None,
) -> list[TrackRow]:
    """Track ``targets`` against the API ``settings`` name (see :func:`track_until_shipped`)."""
    async with FlexportClient(settings) as api:
        return await track_until_shipped(
            api, caller_for(settings), targets, wait,
            concurrency=settings.concurrency, on_poll=on_poll,
        )  # fmt: skip


TRACK_FORMATS = TRACKING.suffixes


def write_tracking(path: Path, rows: Sequence[TrackRow], tz: dt.tzinfo | None = None) -> None:
    """The rows as a formatted workbook (.xlsx), .csv or .jsonl, written atomically,
    times in ``tz`` (None: this machine's zone); ``documents --from`` and ``track``
    read it back by its Shipment ID column."""
    path = Path(path)
    fmt = TRACKING.resolve(path, "-o")
    columns = [replace(column, key=key) for key, column in track_columns(tz)]
    with fmt.open(path, columns, sheet="Tracking", table=True) as sink:
        for row in rows:
            sink.append(row.values(tz))
