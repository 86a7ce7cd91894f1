"""What Flexport holds of a file's POs, read in pages of 100 when that costs fewer requests.

One lookup per PO costs a request or two per PO on every run. A list read costs
one request per 100 POs of the account, and on a re-run only the POs changed
since the journal's watermark (``f.updated_at.gt``): the POs the journal saw in
sync and the list does not show are unchanged without a request. The choice is
made per run from ``total_count`` (the first page of each candidate list, read
before deciding, so a chosen list's first page is not read twice).

Exactly once holds as with lookups: a name is absent only when an unfiltered
list of the whole account did not show it; a name neither listed, nor known to
the journal, is still looked up before its first create.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol

import orjson

from bulkpo.engine.exactly_once import Outcome
from bulkpo.engine.journal import Journal, UnitRecord, UnitState
from bulkpo.engine.pacing import Caller
from bulkpo.errors import ApiError
from bulkpo.flexport.client import Page
from bulkpo.flexport.filters import purchase_order_filters

PER_PAGE = 100
"""The documented maximum page size."""

LOOKBACK = dt.timedelta(minutes=5)
"""How far before the watermark a re-run reads again: a change stamped just before
the newest one seen may become visible after it (a write committed late)."""

REFRESH_AFTER = 60.0
"""Seconds a list read stands for lookups before the changes since are read again."""

REFRESH_LOOKBACK = dt.timedelta(seconds=30)
"""The lookback of those reads: they only narrow the window a lookup also leaves
open, and a shorter one spares re-reading the run's own recent writes each minute."""

PAGES_AT_ONCE = 8
"""Pages asked for together; the run's pacer still spaces the requests."""

IN_SYNC = (Outcome.CREATED.value, Outcome.UPDATED.value, Outcome.UNCHANGED.value)
"""Outcomes after which Flexport held what the unit's body says."""

OLDEST_FIRST = {"direction": "asc"}
_BY_ID = attrgetter("id")


class ListingApi(Protocol):
    """The two list pages a snapshot reads (:class:`~bulkpo.flexport.client.FlexportClient`)."""

    async def purchase_order_page(
        self, filters: Mapping[str, Any], page: int, *, per: int | None = None
    ) -> Page: ...

    async def purchase_order_line_item_page(
        self, filters: Mapping[str, Any], page: int, *, per: int | None = None
    ) -> Page: ...


class SnapshotUnit(Protocol):
    @property
    def key(self) -> str: ...

    digest: str


def stamp(value: Any) -> str:
    """An ``updated_at`` as one canonical text (UTC, microseconds), '' when absent or unreadable."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def in_sync(record: UnitRecord | None, digest: str) -> bool:
    """The journal saw Flexport hold this very body (and when: ``seen_updated_at``)."""
    return bool(
        record is not None
        and record.state is UnitState.DONE
        and record.outcome in IN_SYNC
        and record.flexport_id
        and record.seen_updated_at
        and record.synced_digest == digest
    )


@dataclass
class Snapshot:
    """The file's POs as one list read found them, before anything was sent."""

    mode: str
    """``full`` (every PO of the account) or ``since`` (only those changed since the watermark)."""
    named: dict[str, list[Listed]] = field(default_factory=dict)
    """The listed POs of the file's names, oldest first (a name may be held twice)."""
    lines: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """Line items by PO id, for the POs whose lines were read with the list."""
    requests: int = 0
    newest: str = ""
    """The newest ``updated_at`` listed (or the watermark read from): the next list's bound."""
    read_at: float = field(default_factory=time.monotonic)
    reader: _Reader | None = None
    usable: bool = True
    """False once bringing it up to date failed: the run then looks POs up one by one."""
    _catching_up: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def fresh(self) -> None:
        """Read what changed since, when the last read is older than :data:`REFRESH_AFTER`.

        A long run's list read ages: a PO someone creates while it lasts must be
        seen before a create of the same name, as a lookup would see it.
        """
        if self.reader is None or time.monotonic() - self.read_at < REFRESH_AFTER:
            return
        async with self._catching_up:
            if time.monotonic() - self.read_at < REFRESH_AFTER:
                return
            started = time.monotonic()
            since = (
                dt.datetime.fromisoformat(self.newest) - REFRESH_LOOKBACK if self.newest else None
            )
            try:
                await self.reader.read_all(self, purchase_order_filters(
                    updated_after=since, direction="asc"))
            except ApiError:
                self.usable, self.reader = False, None
                return
            self.read_at = started

    @property
    def covers_absence(self) -> bool:
        """Whether a name the list did not show is absent from the account."""
        return self.mode == "full"

    def listed(self, name: str) -> list[dict[str, Any]]:
        """The listed POs of this name, oldest first, each a fresh dict."""
        return [entry.data() for entry in self.entries(name)]

    def entries(self, name: str) -> Sequence[Listed]:
        """The listed POs of this name, oldest first, undecoded (id and stamp at hand)."""
        return self.named.get(name, ())

    def settled(self, name: str) -> None:
        """The run is done with the PO of this name: what the lists showed of it, and will
        show (the run's own creates, read back each minute), is not kept. A 250,000-PO
        migration otherwise held every PO it had created (bench_migration.py)."""
        for entry in self.named.pop(name, ()):
            self.lines.pop(entry.id, None)
        if self.reader is not None:
            self.reader.names.discard(name)

    def lines_of(self, po: Mapping[str, Any]) -> list[dict[str, Any]] | None:
        """The lines read with the list for this very version of the PO, else None."""
        po_id = po.get("id")
        if not isinstance(po_id, int) or po_id not in self.lines:
            return None
        for entry in self.entries(str(po.get("name"))):
            if entry.id == po_id and entry.updated_at == stamp(po.get("updated_at")):
                return self.lines[po_id]
        return None


def _json(item: Mapping[str, Any]) -> bytes:
    """The PO as JSON bytes. What orjson cannot write as it was read (integers past 64 bits,
    NaN, which only the standard decoder accepts from a page) goes to the standard encoder,
    whose bytes :meth:`Listed.data` reads back the same way."""
    if _exact_for_orjson(item):
        # Copied to its own size: the bytes orjson returns hold its 16 KB working buffer.
        return memoryview(orjson.dumps(item)).tobytes()
    return _STANDARD + json.dumps(item, separators=(",", ":")).encode()


def _exact_for_orjson(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_exact_for_orjson(v) for v in value.values())
    if isinstance(value, list):
        return all(_exact_for_orjson(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**64
    return True


_STANDARD = b"\x00"
"""Marks bytes written by the standard encoder (a JSON text never starts with NUL)."""


@dataclass(frozen=True, slots=True)
class Listed:
    """One PO as a list page showed it, kept as its JSON: a re-run's list read of 80,000
    POs held 550 MB as dicts, a fraction of that as bytes (bench_migration.py)."""

    id: int
    updated_at: str
    """Its ``updated_at`` as :func:`stamp` makes it."""
    raw: bytes

    def data(self) -> dict[str, Any]:
        raw = self.raw
        found: dict[str, Any] = (
            json.loads(raw[1:]) if raw.startswith(_STANDARD) else orjson.loads(raw))
        return found


@dataclass
class _Candidate:
    mode: str
    filters: dict[str, str]
    first: Page
    cost: int

    @property
    def pages(self) -> int:
        return math.ceil((self.first.total_count or 0) / PER_PAGE)


async def read_snapshot(
    api: ListingApi,
    caller: Caller,
    journal: Journal,
    kind: str,
    units: Sequence[SnapshotUnit],
    *,
    stats: dict[str, int] | None = None,
) -> Snapshot | None:
    """The snapshot to send ``units`` against, or None when lookups one by one cost less."""
    records = {unit.key: journal.get(kind, unit.key) for unit in units}
    digests = {unit.key: unit.digest for unit in units}
    synced = {key for key, record in records.items() if in_sync(record, digests[key])}
    with_id = {
        key for key, record in records.items()
        if key not in synced and record is not None and record.flexport_id
        and record.state is not UnitState.PENDING
    }  # fmt: skip
    unknown = len(records) - len(synced) - len(with_id)
    # One by one: a known PO is read by id with its lines, any other looked up by name.
    by_lookups = 2 * (len(synced) + len(with_id)) + unknown
    if by_lookups <= 1:
        return None
    watermark = journal.watermark(kind)
    candidates: list[_Candidate] = []
    spent = 0
    if watermark is not None:
        since = dt.datetime.fromisoformat(watermark) - LOOKBACK
        filters = purchase_order_filters(updated_after=since, direction="asc")
        first = await caller.call(lambda: api.purchase_order_page(filters, 1, per=PER_PAGE))
        spent += 1
        candidate = _Candidate("since", filters, first, 0)
        # Names the journal holds no PO for are still looked up one by one.
        candidate.cost = candidate.pages + unknown + 2 * len(with_id)
        candidates.append(candidate)
    if watermark is None or unknown + 2 * len(with_id) > 1:
        filters = purchase_order_filters(direction="asc")
        first = await caller.call(lambda: api.purchase_order_page(filters, 1, per=PER_PAGE))
        spent += 1
        candidates.append(_Candidate("full", filters, first, 0))
        candidates[-1].cost = candidates[-1].pages
    if stats is not None:
        stats["snapshot_probes"] = stats.get("snapshot_probes", 0) + spent
    best = min(candidates, key=lambda c: (c.cost, c.mode != "full"))
    if best.first.total_count is None or best.cost >= by_lookups:
        return None
    reader = _Reader(api, caller, journal, kind, set(records))
    snapshot = Snapshot(best.mode, requests=spent, newest=watermark or "", reader=reader)
    await reader.read_all(snapshot, best.filters, best.first)
    await _read_lines(api, caller, journal, kind, snapshot, digests)
    if stats is not None:
        stats["snapshot_pages"] = stats.get("snapshot_pages", 0) + snapshot.requests - spent
    return snapshot


@dataclass
class _Reader:
    """Reads PO list pages into a snapshot, and what they show into the journal."""

    api: ListingApi
    caller: Caller
    journal: Journal
    kind: str
    names: set[str]

    async def read_all(
        self, snapshot: Snapshot, filters: dict[str, str], first: Page | None = None
    ) -> None:
        """Every page of a list; the watermark moves once all were read."""
        started = time.monotonic()
        if first is None:
            first = await self.caller.call(
                lambda: self.api.purchase_order_page(filters, 1, per=PER_PAGE))
            snapshot.requests += 1
        newest = snapshot.newest
        newest = max(newest, self.keep(snapshot, first.items))
        pages = math.ceil((first.total_count or 0) / PER_PAGE)

        def keep(items: list[dict[str, Any]]) -> None:
            nonlocal newest
            newest = max(newest, self.keep(snapshot, items))

        snapshot.requests += await read_rest(
            self.caller, lambda n: self.api.purchase_order_page(filters, n, per=PER_PAGE),
            pages, keep)
        if newest and newest != snapshot.newest:
            # A PO changed while the pages were read may be stamped earlier than the
            # newest one seen, by up to the time the read took: the next list starts there.
            took = dt.timedelta(seconds=time.monotonic() - started)
            snapshot.newest = stamp(dt.datetime.fromisoformat(newest) - took)
            self.journal.set_watermark(self.kind, snapshot.newest)

    def keep(self, snapshot: Snapshot, items: Iterable[dict[str, Any]]) -> str:
        """Keep the file's POs; returns the newest ``updated_at`` among ``items``."""
        newest = ""
        seen: list[tuple[str, str, str]] = []
        for item in items:
            name, updated = item.get("name"), stamp(item.get("updated_at"))
            po_id = item.get("id")
            if not isinstance(name, str) or not isinstance(po_id, int):
                continue
            seen.append((name, str(po_id), updated))
            newest = max(newest, updated)
            if name in self.names:
                others = [e for e in snapshot.named.get(name, ()) if e.id != po_id]
                snapshot.named[name] = sorted(
                    [*others, Listed(po_id, updated, _json(item))], key=_BY_ID)
        # What the journal saw of a PO this list shows changed no longer holds.
        self.journal.forget_changed(self.kind, seen)
        return newest


async def read_rest(
    caller: Caller,
    read: Callable[[int], Awaitable[Page]],
    pages: int,
    keep: Callable[[list[dict[str, Any]]], None],
) -> int:
    """Pages 2..``pages`` of a list, a few at a time, each kept (in order) as it comes;
    returns the requests sent."""
    numbers = list(range(2, pages + 1))

    def one(number: int) -> Awaitable[Page]:
        return caller.call(lambda: read(number))

    for start in range(0, len(numbers), PAGES_AT_ONCE):
        batch = numbers[start:start + PAGES_AT_ONCE]
        for page in await asyncio.gather(*(one(n) for n in batch)):
            keep(page.items)
    return len(numbers)


async def _read_lines(
    api: ListingApi,
    caller: Caller,
    journal: Journal,
    kind: str,
    snapshot: Snapshot,
    digests: Mapping[str, str],
) -> None:
    """The lines of the listed POs to compare, read as a list when that is cheaper."""
    needed: set[int] = set()
    for name, listed in snapshot.named.items():
        record = journal.get(kind, name)
        ours = [e for e in listed if record and record.flexport_id == str(e.id)]
        # The unit compares the PO the journal names, else the oldest (what a lookup finds).
        entry = (ours or listed)[0]
        fresh = bool(ours) and in_sync(record, digests[name]) and record is not None and (
            record.seen_updated_at == entry.updated_at)
        if not fresh:
            needed.add(entry.id)
    if len(needed) < 2:
        return
    first = await caller.call(lambda: api.purchase_order_line_item_page(
        OLDEST_FIRST, 1, per=PER_PAGE))
    snapshot.requests += 1
    pages = math.ceil((first.total_count or 0) / PER_PAGE)
    if first.total_count is None or pages > len(needed):
        return  # one request per PO costs less than the account's every line

    def keep(items: Iterable[dict[str, Any]]) -> None:
        for item in items:
            ref = item.get("purchase_order")
            po_id = ref.get("id") if isinstance(ref, Mapping) else None
            if isinstance(po_id, int) and po_id in needed:
                snapshot.lines.setdefault(po_id, []).append(item)

    keep(first.items)
    snapshot.requests += await read_rest(caller, lambda n: api.purchase_order_line_item_page(
        OLDEST_FIRST, n, per=PER_PAGE), pages, keep)
    for po_id in needed:
        snapshot.lines.setdefault(po_id, [])
