"""The sandbox's state in SQLite: network, POs, bookings, shipments, documents, clock.

One connection guarded by a lock (the server's event loop and a test thread calling
``advance`` may both use it), WAL mode, and indexes on every column the list
filters use. Objects are stored as JSON bodies beside the columns that are filtered
on; :mod:`bulkpo.sandbox.render` turns rows into API read models.
"""

from __future__ import annotations

import array
import datetime as dt
import json
import random
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkpo.sandbox import lifecycle
from bulkpo.sandbox.bookings import apply_amendment
from bulkpo.sandbox.fields import MAX_INTEGER, TRANSPORTATION_MODES, Refusal
from bulkpo.sandbox.network import (
    OWN_ENTITY_REF,
    SEEDED_ENTITIES,
    SEEDED_LOCATIONS,
    SELF_REF,
    NetworkRefs,
    entity_body,
    location_body,
)
from bulkpo.sandbox.purchase_orders import PurchaseOrderWrite

Row = sqlite3.Row

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS company_entities (
    id INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS locations (
    id INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS purchase_orders (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL,
    buyer_ref TEXT, buyer_name TEXT, seller_ref TEXT, seller_name TEXT,
    archived_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS po_name ON purchase_orders (name);
CREATE INDEX IF NOT EXISTS po_status ON purchase_orders (status);
CREATE INDEX IF NOT EXISTS po_id ON purchase_orders (id, status);
CREATE INDEX IF NOT EXISTS po_created ON purchase_orders (created_at);
CREATE INDEX IF NOT EXISTS po_updated ON purchase_orders (updated_at);
CREATE INDEX IF NOT EXISTS po_buyer ON purchase_orders (buyer_ref);
CREATE INDEX IF NOT EXISTS po_seller ON purchase_orders (seller_ref);
CREATE INDEX IF NOT EXISTS po_archived ON purchase_orders (archived_at);
CREATE TABLE IF NOT EXISTS po_line_items (
    id INTEGER PRIMARY KEY, purchase_order_id INTEGER NOT NULL, line_item_number INTEGER,
    item_key TEXT, sku TEXT, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS li_po ON po_line_items (purchase_order_id);
CREATE INDEX IF NOT EXISTS li_id ON po_line_items (id, purchase_order_id);
CREATE INDEX IF NOT EXISTS li_sku ON po_line_items (sku);
CREATE TABLE IF NOT EXISTS bookings (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL,
    shipper_ref TEXT NOT NULL, consignee_ref TEXT NOT NULL, cargo_ready_date TEXT,
    created_at TEXT NOT NULL, submitted_s REAL NOT NULL, shipment_id INTEGER,
    body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bk_name ON bookings (name);
CREATE INDEX IF NOT EXISTS bk_status ON bookings (status, submitted_s);
CREATE INDEX IF NOT EXISTS bk_shipment ON bookings (shipment_id);
CREATE TABLE IF NOT EXISTS booking_line_items (
    id INTEGER PRIMARY KEY, booking_id INTEGER NOT NULL, po_line_item_id INTEGER NOT NULL,
    purchase_order_id INTEGER NOT NULL, units INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS bli_booking ON booking_line_items (booking_id);
CREATE INDEX IF NOT EXISTS bli_po ON booking_line_items (purchase_order_id);
CREATE INDEX IF NOT EXISTS bli_line ON booking_line_items (po_line_item_id);
CREATE TABLE IF NOT EXISTS booking_amendments (
    id INTEGER PRIMARY KEY, booking_id INTEGER NOT NULL, created_s REAL NOT NULL,
    applied_s REAL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ba_booking ON booking_amendments (booking_id);
CREATE INDEX IF NOT EXISTS ba_pending ON booking_amendments (applied_s, created_s);
CREATE TABLE IF NOT EXISTS shipments (
    id INTEGER PRIMARY KEY, booking_id INTEGER NOT NULL UNIQUE, status TEXT NOT NULL,
    transportation_mode TEXT NOT NULL, booked_s REAL NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sh_status ON shipments (status);
CREATE INDEX IF NOT EXISTS sh_updated ON shipments (updated_at);
CREATE TABLE IF NOT EXISTS shipment_legs (
    id INTEGER PRIMARY KEY, shipment_id INTEGER NOT NULL, position INTEGER NOT NULL,
    transportation_mode TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS leg_shipment ON shipment_legs (shipment_id);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, shipment_id INTEGER NOT NULL, document_type TEXT NOT NULL,
    file_name TEXT NOT NULL, uploaded_at TEXT NOT NULL, content BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS doc_shipment ON documents (shipment_id);
CREATE TABLE IF NOT EXISTS oauth_token_requests (client_id TEXT NOT NULL, at_s REAL NOT NULL);
CREATE INDEX IF NOT EXISTS oauth_client ON oauth_token_requests (client_id, at_s);
"""

# The first ids look like real ones rather than 1, 2, 3.
_FIRST_IDS = {"purchase_orders": 900_000, "po_line_items": 4_200_000, "bookings": 540_000,
              "booking_line_items": 77_000, "booking_amendments": 2_980,
              "shipments": 1_200_000, "shipment_legs": 3_100_000}
_ISO_FILTER = re.compile(r"\d{4}-\d{2}-\d{2}([T ].*)?")
# The docs' example filter value is "2022-01-01 18:26:37 PST": a local time and a zone
# abbreviation. These are the North American zones and UTC; others are refused.
_ZONED_FILTER = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?) ([A-Z]{3,4})")
_ZONE_HOURS = {"UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
               "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8,
               "HST": -10}
PO_STATUSES = ("open", "closed", "cancelled")
_KEPT_ORDERS = 8  # lists being read page by page at once (see Store._deep_page)
BOOKING_STATUSES = ("booked", "submitted")


@dataclass(frozen=True)
class Page:
    """Which slice of a list to answer with."""

    number: int
    per: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per


Filters = Mapping[str, Sequence[str]]  # query params by name, each with all its values


def time_filter(value: str, name: str) -> str:
    """A date-time filter value in the stored format (ISO, ms, Z) for comparison."""
    text = value.strip()
    try:
        if zoned := _ZONED_FILTER.fullmatch(text):
            offset = _ZONE_HOURS[zoned[2]]
            moment = dt.datetime.fromisoformat(zoned[1]).replace(
                tzinfo=dt.timezone(dt.timedelta(hours=offset)))
        elif _ISO_FILTER.fullmatch(text):
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            raise ValueError(text)
    except (ValueError, KeyError):
        raise Refusal(400, "invalid_param",
                      f"{name} must be an ISO 8601 date-time, YYYY-MM-DD or "
                      f"'YYYY-MM-DD HH:MM:SS PST' (a US zone or UTC), got {value!r}"
                      ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return lifecycle.iso(moment.timestamp())


def id_filter(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= MAX_INTEGER:
        raise Refusal(400, "invalid_param",
                      f"{name} must be an integer from 0 to {MAX_INTEGER}, got {value!r}")
    return number


def bool_filter(value: str, name: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise Refusal(400, "invalid_param", f"{name} must be true or false, got {value!r}")


def direction(filters: Filters, default: str) -> str:
    """``direction`` as SQL; each list's default is the one its docs give."""
    value = _first(filters, "direction") or default
    if value not in ("asc", "desc"):
        raise Refusal(400, "invalid_param", f"direction must be asc or desc, got {value!r}")
    return value.upper()


def choice_filter(filters: Filters, name: str, options: Sequence[str]) -> str | None:
    """A filter whose values the docs enumerate: anything else is a 400."""
    value = _first(filters, name)
    if value is not None and value not in options:
        raise Refusal(400, "invalid_param",
                      f"{name} must be one of {', '.join(options)}, got {value!r}")
    return value


def sort_filter(filters: Filters, options: Sequence[str]) -> str | None:
    return choice_filter(filters, "sort", options)


def _first(filters: Filters, name: str) -> str | None:
    values = filters.get(name)
    return values[0] if values else None


class Where:
    """WHERE clauses and their parameters, built one filter at a time."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


class Store:
    """All sandbox state; every method is one short transaction."""

    def __init__(self, path: Path, seed: int | None, shipment_delay_s: float, *,
                 refuse_duplicate_po_names: bool = True,
                 refuse_duplicate_booking_names: bool = False,
                 amendment_review_s: float = 0.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._review_s = amendment_review_s
        self._refuse_po_names = refuse_duplicate_po_names
        self._refuse_booking_names = refuse_duplicate_booking_names
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._seed = seed
        self._delay = shipment_delay_s
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._orders: dict[tuple[Any, ...], tuple[tuple[int, int], array.array[int]]] = {}
        with self._tx():
            self._seed_network()
            offset = self._db.execute("SELECT value FROM meta WHERE key='clock_offset_s'"
                                      ).fetchone()
        self._offset = float(offset["value"]) if offset else 0.0
        self.entities = {r["ref"]: {**json.loads(r["body"]), "id": r["id"]}
                         for r in self._db.execute("SELECT * FROM company_entities")}
        self.locations = {r["ref"]: {**json.loads(r["body"]), "id": r["id"]}
                          for r in self._db.execute("SELECT * FROM locations")}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except sqlite3.IntegrityError:
                self._db.execute("ROLLBACK")
                # Only a database made before names could repeat still has UNIQUE names.
                raise Refusal(409, "duplicate_name", "this sandbox database refuses "
                              "duplicate names; start a fresh one to accept them") from None
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _seed_network(self) -> None:
        if self._db.execute("SELECT 1 FROM company_entities LIMIT 1").fetchone():
            return
        for i, entity in enumerate(SEEDED_ENTITIES):
            self._db.execute("INSERT INTO company_entities VALUES (?, ?, ?)",
                             (310_001 + i, entity.ref, json.dumps(entity_body(entity))))
        for i, location in enumerate(SEEDED_LOCATIONS):
            self._db.execute("INSERT INTO locations VALUES (?, ?, ?)",
                             (620_001 + i, location.ref, json.dumps(location_body(location))))

    def _next_id(self, table: str) -> int:
        row = self._db.execute(f"SELECT max(id) AS m FROM {table}").fetchone()
        return int(row["m"]) + 1 if row["m"] is not None else _FIRST_IDS[table]

    # -- clock -----------------------------------------------------------------

    def now(self) -> float:
        """Sandbox-clock seconds since the epoch: wall time plus every advance."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        with self._tx() as db:
            self._offset += seconds
            db.execute("INSERT OR REPLACE INTO meta VALUES ('clock_offset_s', ?)",
                       (repr(self._offset),))
        self.refresh()
        return self.now()

    # -- API credentials (see bulkpo.sandbox.oauth) ------------------------------

    def count_token_request(self, client_id: str, since_s: float, limit: int) -> int | None:
        """Record a token request of ``client_id`` unless ``limit`` were made since
        ``since_s``; the number made before it, or None when refused."""
        with self._tx() as db:
            made = int(db.execute(
                "SELECT count(*) AS n FROM oauth_token_requests WHERE client_id = ? "
                "AND at_s > ?", (client_id, since_s)).fetchone()["n"])
            if made >= limit:
                return None
            db.execute("INSERT INTO oauth_token_requests VALUES (?, ?)", (client_id, self.now()))
        return made

    def token_requests(self, client_id: str) -> int:
        """Every token request ``client_id`` made (tests count them)."""
        with self._lock:
            row = self._db.execute("SELECT count(*) AS n FROM oauth_token_requests "
                                   "WHERE client_id = ?", (client_id,)).fetchone()
            return int(row["n"])

    def signing_key(self) -> bytes:
        """The key tokens are signed with: made once, kept with the sandbox's state."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'oauth_signing_key'").fetchone()
            if row is not None:
                return bytes.fromhex(row["value"])
            key = secrets.token_bytes(32)
            db.execute("INSERT INTO meta VALUES ('oauth_signing_key', ?)", (key.hex(),))
            return key

    # -- network ---------------------------------------------------------------

    def entity(self, ref: str) -> dict[str, Any] | None:
        return self.entities.get(OWN_ENTITY_REF if ref == SELF_REF else ref)

    def refs(self) -> NetworkRefs:
        def location_country(ref: str) -> str | None:
            location = self.locations.get(ref)
            return str(location["address"]["country_code"]) if location else None

        return NetworkRefs(lambda ref: self.entity(ref) is not None, location_country)

    def list_network(self, table: str, filters: Filters, page: Page) -> tuple[int, list[Row]]:
        where = Where()
        if ref := _first(filters, "f.ref"):
            where.add("ref = ?", ref)
        return self._page(f"SELECT * FROM {table}", where, "id ASC", page)

    def create_network(self, table: str, body: dict[str, Any]) -> int:
        """Add a company entity or a location; a ref taken already is refused (409)."""
        cache = self.entities if table == "company_entities" else self.locations
        with self._tx() as db:
            object_id = self._next_network_id(table)
            # Flexport makes a ref for an object created without one ("id-566428").
            ref = body.get("ref") or f"id-{object_id}"
            if db.execute(f"SELECT 1 FROM {table} WHERE ref = ?", (ref,)).fetchone():
                raise Refusal(409, "duplicate_ref", f"the ref {ref!r} is taken already")
            body = {**body, "ref": ref}
            if table == "locations":
                body["address"] = {**body["address"], "ref": ref}
            db.execute(f"INSERT INTO {table} VALUES (?, ?, ?)",
                       (object_id, ref, json.dumps(body)))
        cache[ref] = {**body, "id": object_id}
        return object_id

    def update_network(self, table: str, object_id: int, changes: dict[str, Any]) -> bool:
        """Replace the given fields of a company entity or location (False: no such id);
        a new ref taken by another object is refused (409)."""
        cache = self.entities if table == "company_entities" else self.locations
        with self._tx() as db:
            row = db.execute(f"SELECT ref, body FROM {table} WHERE id = ?",
                             (object_id,)).fetchone()
            if row is None:
                return False
            body = {**json.loads(row["body"]), **changes}
            ref = body.get("ref") or row["ref"]
            if ref != row["ref"] and db.execute(
                    f"SELECT 1 FROM {table} WHERE ref = ?", (ref,)).fetchone():
                raise Refusal(409, "duplicate_ref", f"the ref {ref!r} is taken already")
            if table == "locations":
                body["address"] = {**body["address"], "ref": ref}
            db.execute(f"UPDATE {table} SET ref = ?, body = ? WHERE id = ?",
                       (ref, json.dumps(body), object_id))
        cache.pop(row["ref"], None)
        cache[ref] = {**body, "id": object_id}
        return True

    def _next_network_id(self, table: str) -> int:
        row = self._db.execute(f"SELECT max(id) AS m FROM {table}").fetchone()
        return int(row["m"]) + 1

    def entity_ref_of_id(self, object_id: str) -> str | None:
        """The ref of the company entity with this id (ids travel as strings)."""
        return next((ref for ref, e in self.entities.items() if str(e["id"]) == object_id),
                    None)

    def network_by_id(self, table: str, object_id: int) -> Row | None:
        with self._lock:
            row: Row | None = self._db.execute(
                f"SELECT * FROM {table} WHERE id = ?", (object_id,)).fetchone()
            return row

    # -- purchase orders -------------------------------------------------------

    def create_purchase_order(self, write: PurchaseOrderWrite) -> int:
        stamp = lifecycle.iso(self.now())
        body = {"memo": None, "metadata": {}, **write.fields}
        with self._tx() as db:
            self._check_po_name(body["name"], None)
            po_id = self._next_id("purchase_orders")
            db.execute(
                "INSERT INTO purchase_orders VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
                (po_id, body["name"], body["status"], *_party_columns(body), stamp, stamp,
                 json.dumps(body)),
            )
            self._insert_lines(po_id, write.line_items or [])
        return po_id

    def update_purchase_order(self, po_id: int, write: PurchaseOrderWrite) -> None:
        with self._tx() as db:
            row = db.execute("SELECT body FROM purchase_orders WHERE id = ?", (po_id,)
                             ).fetchone()
            if row is None:
                raise not_found("purchase_order", po_id)
            body = {**json.loads(row["body"]), **write.fields}
            if "name" in write.fields:
                self._check_po_name(body["name"], po_id)
            db.execute(
                "UPDATE purchase_orders SET name=?, status=?, buyer_ref=?, buyer_name=?, "
                "seller_ref=?, seller_name=?, updated_at=?, body=? WHERE id=?",
                (body["name"], body["status"], *_party_columns(body),
                 lifecycle.iso(self.now()), json.dumps(body), po_id),
            )
            if write.line_items is not None:
                db.execute("DELETE FROM po_line_items WHERE purchase_order_id = ?", (po_id,))
                self._insert_lines(po_id, write.line_items)

    def archive_purchase_order(self, po_id: int, archived: bool) -> None:
        stamp = lifecycle.iso(self.now())
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE purchase_orders SET archived_at=?, updated_at=? WHERE id=?",
                (stamp if archived else None, stamp, po_id))
            if cursor.rowcount == 0:
                raise not_found("purchase_order", po_id)

    def _check_po_name(self, name: str, own_id: int | None) -> None:
        if not self._refuse_po_names:
            return
        row = self._db.execute("SELECT id FROM purchase_orders WHERE name = ?", (name,)
                               ).fetchone()
        if row is not None and row["id"] != own_id:
            raise Refusal(409, "duplicate_name",
                          f"a purchase order named {name!r} exists already (id {row['id']})")

    def _insert_lines(self, po_id: int, lines: list[dict[str, Any]]) -> None:
        first = self._next_id("po_line_items")
        self._db.executemany(
            "INSERT INTO po_line_items VALUES (?, ?, ?, ?, ?, ?)",
            [(first + i, po_id, line["line_item_number"], line["item_key"],
              line["product"]["sku"], json.dumps(line)) for i, line in enumerate(lines)],
        )

    def purchase_order(self, po_id: int) -> Row | None:
        with self._lock:
            row: Row | None = self._db.execute(
                "SELECT * FROM purchase_orders WHERE id = ?", (po_id,)).fetchone()
            return row

    def purchase_orders_by_id(self, ids: set[int]) -> dict[int, Row]:
        with self._lock:
            marks = ",".join("?" * len(ids))
            return {r["id"]: r for r in self._db.execute(
                f"SELECT * FROM purchase_orders WHERE id IN ({marks})", sorted(ids))}

    def list_purchase_orders(self, filters: Filters, page: Page) -> tuple[int, list[Row]]:
        where = Where()
        if (value := choice_filter(filters, "f.status", PO_STATUSES)) is not None:
            where.add("status = ?", value)
        for name, column in (("f.name", "name"),
                             ("f.buyer_ref", "buyer_ref"), ("f.seller_ref", "seller_ref")):
            if (value := _first(filters, name)) is not None:
                where.add(f"{column} = ?", value)
        if (value := _first(filters, "f.archived_at.exists")) is not None:
            exists = bool_filter(value, "f.archived_at.exists")
            where.add("archived_at IS NOT NULL" if exists else "archived_at IS NULL")
        if (value := choice_filter(filters, "f.role", ("buyer", "seller"))) is not None:
            own = self.entities[OWN_ENTITY_REF]
            where.add(f"({value}_ref = ? OR ({value}_ref IS NULL AND {value}_name = ?))",
                      own["ref"], own["name"])
        if (value := _first(filters, "f.shipment.id")) is not None:
            where.add("id IN (SELECT bli.purchase_order_id FROM booking_line_items bli "
                      "JOIN bookings b ON b.id = bli.booking_id WHERE b.shipment_id = ?)",
                      id_filter(value, "f.shipment.id"))
        _time_filters(where, filters, ("created_at", "updated_at"))
        sort_filter(filters, ("id",))
        order = "id " + direction(filters, "asc")
        return self._page("SELECT * FROM purchase_orders", where, order, page)

    def list_line_items(self, filters: Filters, page: Page) -> tuple[int, list[Row]]:
        where = Where()
        if (value := _first(filters, "f.purchase_order.id")) is not None:
            where.add("purchase_order_id = ?", id_filter(value, "f.purchase_order.id"))
        if (value := _first(filters, "f.line_item_number")) is not None:
            where.add("line_item_number = ?", id_filter(value, "f.line_item_number"))
        if (value := _first(filters, "f.item_key")) is not None:
            where.add("item_key = ?", value)
        # Both documented sorts follow creation here (ids are given in creation order,
        # lines share their PO's cargo ready date); the docs' default is desc.
        sort_filter(filters, ("cargo_ready_date", "created_at"))
        return self._page("SELECT * FROM po_line_items", where,
                          "id " + direction(filters, "desc"), page)

    def line_item(self, line_id: int) -> Row | None:
        with self._lock:
            row: Row | None = self._db.execute(
                "SELECT * FROM po_line_items WHERE id = ?", (line_id,)).fetchone()
            return row

    # -- bookings --------------------------------------------------------------

    def create_booking(self, booking: dict[str, Any]) -> int:
        now = self.now()
        with self._tx() as db:
            row = db.execute("SELECT id FROM bookings WHERE name = ?", (booking["name"],)
                             ).fetchone() if self._refuse_booking_names else None
            if row is not None:
                raise Refusal(409, "duplicate_name",
                              f"a booking named {booking['name']!r} exists already "
                              f"(id {row['id']})")
            booking_id = self._next_id("bookings")
            db.execute(
                "INSERT INTO bookings VALUES (?, ?, 'submitted', ?, ?, ?, ?, ?, NULL, ?)",
                (booking_id, booking["name"], booking["shipper_entity_ref"],
                 booking["consignee_entity_ref"], booking["cargo_ready_date"],
                 lifecycle.iso(now), now, json.dumps(booking)),
            )
        return booking_id

    def booking(self, booking_id: int) -> Row | None:
        with self._lock:
            row: Row | None = self._db.execute(
                "SELECT * FROM bookings WHERE id = ?", (booking_id,)).fetchone()
            return row

    def list_bookings(self, filters: Filters, page: Page) -> tuple[int, list[Row]]:
        where = Where()
        if (value := choice_filter(filters, "f.status", BOOKING_STATUSES)) is not None:
            where.add("status = ?", value)
        for name, column in (("f.name", "name"),
                             ("f.shipper_entity_ref", "shipper_ref"),
                             ("f.consignee_entity_ref", "consignee_ref")):
            if (value := _first(filters, name)) is not None:
                where.add(f"{column} = ?", value)
        if (value := _first(filters, "f.shipment.id")) is not None:
            where.add("shipment_id = ?", id_filter(value, "f.shipment.id"))
        _time_filters(where, filters, ("created_at",))
        # No documented default sort: creation order (id), desc as documented.
        sort = sort_filter(filters, ("cargo_ready_date", "created_at")) or "id"
        way = direction(filters, "desc")
        order = f"{sort} {way}, id {way}"
        return self._page("SELECT * FROM bookings", where, order, page)

    def create_booking_line_item(self, line_id: int, booking_id: int, units: int) -> int:
        with self._tx() as db:
            line = db.execute("SELECT purchase_order_id FROM po_line_items WHERE id = ?",
                              (line_id,)).fetchone()
            if line is None:
                raise not_found("purchase_order_line_item", line_id)
            if db.execute("SELECT 1 FROM bookings WHERE id = ?", (booking_id,)).fetchone() is None:
                raise not_found("booking", booking_id)
            new_id = self._next_id("booking_line_items")
            db.execute("INSERT INTO booking_line_items VALUES (?, ?, ?, ?, ?)",
                       (new_id, booking_id, line_id, line["purchase_order_id"], units))
        return new_id

    def booking_line_item(self, item_id: int) -> Row | None:
        with self._lock:
            row: Row | None = self._db.execute(
                "SELECT * FROM booking_line_items WHERE id = ?", (item_id,)).fetchone()
            return row

    def list_booking_line_items(self, filters: Filters, page: Page) -> tuple[int, list[Row]]:
        where = Where()
        for name, column in (("f.booking.id", "booking_id"),
                             ("f.purchase_order.id", "purchase_order_id"),
                             ("f.purchase_order_line_item.id", "po_line_item_id")):
            if (value := _first(filters, name)) is not None:
                where.add(f"{column} = ?", id_filter(value, name))
        sort_filter(filters, ("cargo_ready_date", "created_at"))
        return self._page("SELECT * FROM booking_line_items", where,
                          "id " + direction(filters, "desc"), page)

    def create_booking_amendment(
        self, booking_id: int, changes: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> tuple[int, dict[str, Any], bool]:
        """Record an amendment of a booking: (its id, the changes, pending?).

        ``changes`` checks the request against the booking's stored form. With no
        review time the changes apply at once; else when the clock passes it.
        """
        now = self.now()
        with self._tx() as db:
            row = db.execute("SELECT body FROM bookings WHERE id = ?", (booking_id,)).fetchone()
            if row is None:
                raise not_found("booking", booking_id)
            asked = changes(json.loads(row["body"]))
            new_id = self._next_id("booking_amendments")
            db.execute("INSERT INTO booking_amendments VALUES (?, ?, ?, NULL, ?)",
                       (new_id, booking_id, now, json.dumps(asked)))
            pending = self._review_s > 0
            if not pending:
                self._apply_amendment(new_id, booking_id, asked, now)
        return new_id, asked, pending

    def _apply_amendment(self, amendment_id: int, booking_id: int, asked: dict[str, Any],
                         now: float) -> None:
        row = self._db.execute("SELECT body FROM bookings WHERE id = ?", (booking_id,)
                               ).fetchone()
        body = apply_amendment(json.loads(row["body"]), asked)
        self._db.execute("UPDATE bookings SET name = ?, cargo_ready_date = ?, body = ? "
                         "WHERE id = ?",
                         (body["name"], body["cargo_ready_date"], json.dumps(body), booking_id))
        self._db.execute("UPDATE booking_amendments SET applied_s = ? WHERE id = ?",
                         (now, amendment_id))

    def booking_amendments(self, booking_id: int) -> list[dict[str, Any]]:
        """Every amendment asked of a booking, oldest first (tests read them; the v2
        document has no route listing amendments)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM booking_amendments WHERE booking_id = ? ORDER BY id",
                (booking_id,)).fetchall()
        return [{"id": r["id"], "changes": json.loads(r["body"]),
                 "applied": r["applied_s"] is not None} for r in rows]

    # -- shipments -------------------------------------------------------------

    def refresh(self) -> None:
        """Apply amendments whose review is over; book every booking whose delay has
        passed; move shipments along the schedule."""
        now = self.now()
        with self._tx() as db:
            reviewed = db.execute(
                "SELECT * FROM booking_amendments WHERE applied_s IS NULL AND created_s <= ? "
                "ORDER BY id", (now - self._review_s,)).fetchall()
            for amendment in reviewed:
                self._apply_amendment(amendment["id"], amendment["booking_id"],
                                      json.loads(amendment["body"]), now)
            due = db.execute(
                "SELECT * FROM bookings WHERE status = 'submitted' AND submitted_s <= ? "
                "ORDER BY id", (now - self._delay,)).fetchall()
            for booking in due:
                self._book(booking)
            moving = db.execute(
                "SELECT id, status, booked_s FROM shipments WHERE status != ?",
                (lifecycle.STATUSES[-1],)).fetchall()
            for shipment in moving:
                step = lifecycle.status_step(shipment["booked_s"], now)
                if lifecycle.STATUSES[step] != shipment["status"]:
                    db.execute(
                        "UPDATE shipments SET status = ?, updated_at = ? WHERE id = ?",
                        (lifecycle.STATUSES[step],
                         lifecycle.iso(lifecycle.step_time(shipment["booked_s"], step)),
                         shipment["id"]))

    def _book(self, booking: Row) -> None:
        body = json.loads(booking["body"])
        # One generator per booking: the same seed and booking give the same shipment,
        # whatever else the server was asked in between.
        rng = random.Random(f"{self._seed}:{booking['id']}") if self._seed is not None \
            else random.Random()
        plan = lifecycle.plan_shipment(booking["id"], body, rng)
        booked = lifecycle.schedule_start(booking["submitted_s"] + self._delay,
                                          body.get("cargo_ready_date"))
        stamp = lifecycle.iso(booked)
        shipment_id = self._next_id("shipments")
        self._db.execute(
            "INSERT INTO shipments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (shipment_id, booking["id"], lifecycle.STATUSES[0], body["transportation_mode"],
             booked, stamp, stamp, json.dumps(plan.facts)))
        first_leg = self._next_id("shipment_legs")
        for position, leg in enumerate(plan.legs):
            self._db.execute(
                "INSERT INTO shipment_legs VALUES (?, ?, ?, ?, ?)",
                (first_leg + position, shipment_id, position, leg.mode, json.dumps({
                    "origin": leg.origin, "destination": leg.destination,
                    "departs_step": leg.departs_step, "arrives_step": leg.arrives_step,
                    "detail": leg.detail})))
        for document in plan.documents:
            self._db.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
                (document.id, shipment_id, document.document_type, document.file_name, stamp,
                 document.content))
        self._db.execute("UPDATE bookings SET status = 'booked', shipment_id = ? WHERE id = ?",
                         (shipment_id, booking["id"]))

    def shipment(self, shipment_id: int) -> Row | None:
        with self._lock:
            row: Row | None = self._db.execute(
                "SELECT * FROM shipments WHERE id = ?", (shipment_id,)).fetchone()
            return row

    def list_shipments(self, filters: Filters, page: Page) -> tuple[int, list[Row]]:
        where = Where()
        if (value := choice_filter(filters, "f.status", lifecycle.STATUSES)) is not None:
            where.add("s.status = ?", value)
        if (value := choice_filter(filters, "f.transportation_mode",
                                   TRANSPORTATION_MODES)) is not None:
            where.add("s.transportation_mode = ?", value)
        if (value := _first(filters, "f.statuses.any")) is not None:
            statuses = [s for s in value.split(",") if s]
            for status in statuses:
                choice_filter({"f.statuses.any": [status]}, "f.statuses.any",
                              lifecycle.STATUSES)
            where.add(f"s.status IN ({','.join('?' * len(statuses))})", *statuses)
        _time_filters(where, filters, ("updated_at",), prefix="s.")
        if (value := _first(filters, "f.purchase_order")) is not None:
            where.add("s.booking_id IN (SELECT bli.booking_id FROM booking_line_items bli "
                      "JOIN purchase_orders po ON po.id = bli.purchase_order_id "
                      "WHERE po.name = ?)", value)
        if (value := _first(filters, "f.sku")) is not None:
            where.add("s.booking_id IN (SELECT bli.booking_id FROM booking_line_items bli "
                      "JOIN po_line_items li ON li.id = bli.po_line_item_id WHERE li.sku = ?)",
                      value)
        if (value := _first(filters, "f.container_number")) is not None:
            where.add("EXISTS (SELECT 1 FROM json_each(s.body, '$.containers') c "
                      "WHERE json_extract(c.value, '$.container_number') = ?)", value)
        for name, values in filters.items():
            if name.startswith("f.metadata.") and values:
                key = name.removeprefix("f.metadata.").replace('"', "")
                # The same key repeated means any of its values (OR).
                where.add(
                    "EXISTS (SELECT 1 FROM bookings b, json_each(b.body, ?) m "
                    f"WHERE b.id = s.booking_id AND m.value IN ({','.join('?' * len(values))}))",
                    f'$.metadata."{key}"', *values)
        sort = sort_filter(filters, ("id", "transportation_mode", "status", "updated_at",
                                     "archived_at")) or "id"
        if sort == "archived_at":
            sort = "id"  # sandbox shipments are never archived
        # The real API documents desc but was observed answering ascending; asc it is.
        way = direction(filters, "asc")
        order = f"s.{sort} {way}, s.id {way}"
        return self._page("SELECT s.* FROM shipments s", where, order, page)

    def shipment_items(self, booking_id: int) -> list[Row]:
        with self._lock:
            return self._db.execute(
                "SELECT bli.id, bli.units, po.name AS po_name, li.body AS line_body "
                "FROM booking_line_items bli JOIN po_line_items li ON li.id = bli.po_line_item_id "
                "JOIN purchase_orders po ON po.id = bli.purchase_order_id "
                "WHERE bli.booking_id = ? ORDER BY bli.id", (booking_id,)).fetchall()

    def list_legs(self, filters: Filters, page: Page) -> tuple[int, list[Row]]:
        where = Where()
        if (value := _first(filters, "f.shipment.id")) is not None:
            where.add("l.shipment_id = ?", id_filter(value, "f.shipment.id"))
        if (value := choice_filter(filters, "f.transportation_mode",
                                   TRANSPORTATION_MODES)) is not None:
            where.add("l.transportation_mode = ?", value)
        return self._page(_LEG_SELECT, where, "l.id ASC", page)

    def leg(self, leg_id: int) -> Row | None:
        with self._lock:
            row: Row | None = self._db.execute(_LEG_SELECT + " WHERE l.id = ?", (leg_id,)
                                               ).fetchone()
            return row

    def list_documents(self, filters: Filters, page: Page) -> tuple[int, list[Row]]:
        where = Where()
        if (value := _first(filters, "f.shipment.id")) is not None:
            where.add("shipment_id = ?", id_filter(value, "f.shipment.id"))
        if (value := _first(filters, "f.document_type")) is not None:
            where.add("document_type = ?", value)
        if (value := _first(filters, "f.archived_at.exists")) is not None and bool_filter(
                value, "f.archived_at.exists"):
            where.add("0")  # sandbox documents are never archived
        return self._page(_DOC_SELECT, where, "uploaded_at ASC, rowid ASC", page)

    def document(self, document_id: str) -> Row | None:
        with self._lock:
            row: Row | None = self._db.execute(_DOC_SELECT + " WHERE id = ?", (document_id,)
                                               ).fetchone()
            return row

    def document_content(self, document_id: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT content FROM documents WHERE id = ?",
                                   (document_id,)).fetchone()
            return bytes(row["content"]) if row else None

    # -- paging ----------------------------------------------------------------

    def _page(self, select: str, where: Where, order: str, page: Page
              ) -> tuple[int, list[Row]]:
        with self._lock:
            sql = select + where.sql()
            table = select.removeprefix("SELECT * FROM ")
            if table != select and " " not in table and page.number > 1:
                return self._deep_page(table, where, order, page)
            total = self._db.execute(f"SELECT count(*) FROM ({sql})", where.params
                                     ).fetchone()[0]
            sql += f" ORDER BY {order} LIMIT ? OFFSET ?"
            rows = self._db.execute(sql, [*where.params, page.per, page.offset]).fetchall()
            return int(total), rows

    def _deep_page(self, table: str, where: Where, order: str, page: Page
                   ) -> tuple[int, list[Row]]:
        """Page 2 and on of one table: the list's ids in order are kept from the page
        before, as a real server keeps a cursor, so a page costs a lookup of its own
        rows instead of a count and a skip through every row before it (a 100,000-row
        list read page by page: 5 ms a page at the end -> 0.5 ms)."""
        key = (table, where.sql(), tuple(where.params), order)
        # Any write anywhere, by this connection or another process, starts afresh.
        version = (self._db.total_changes,
                   self._db.execute("PRAGMA data_version").fetchone()[0])
        found = self._orders.get(key)
        if found is None or found[0] != version:
            ids = array.array("q", (row[0] for row in self._db.execute(
                f"SELECT id FROM {table}{where.sql()} ORDER BY {order}", where.params)))
            found = (version, ids)
            self._orders.pop(key, None)
            self._orders[key] = found
            while len(self._orders) > _KEPT_ORDERS:
                del self._orders[next(iter(self._orders))]
        ids = found[1]
        wanted = list(ids[page.offset: page.offset + page.per])
        if not wanted:
            return len(ids), []
        rows = self._db.execute(
            f"SELECT * FROM {table} WHERE id IN ({','.join('?' * len(wanted))}) "
            f"ORDER BY {order}", wanted).fetchall()
        return len(ids), rows


_LEG_SELECT = ("SELECT l.*, s.booked_s, s.booking_id FROM shipment_legs l "
               "JOIN shipments s ON s.id = l.shipment_id")
_DOC_SELECT = ("SELECT id, shipment_id, document_type, file_name, uploaded_at, "
               "length(content) AS size FROM documents")


def not_found(kind: str, object_id: object) -> Refusal:
    return Refusal(404, "not_found", f"no {kind} with id {object_id}")


def _party_columns(body: Mapping[str, Any]) -> tuple[str | None, ...]:
    buyer, seller = body.get("buyer") or {}, body.get("seller") or {}
    return (buyer.get("ref"), buyer.get("name"), seller.get("ref"), seller.get("name"))


def _time_filters(where: Where, filters: Filters, columns: Sequence[str], prefix: str = ""
                  ) -> None:
    for column in columns:
        for suffix, op in ((".gt", ">"), (".gte", ">="), (".lt", "<"), (".lte", "<=")):
            name = f"f.{column}{suffix}"
            if (value := _first(filters, name)) is not None:
                where.add(f"{prefix}{column} {op} ?", time_filter(value, name))
