"""What Flexport holds of a file's bookings, their links and their POs' lines, read in pages.

Per booking a run costs a lookup by name (or a read by id), a read of its links
and a read of each PO's lines. Each of these three lists is read instead, 100 per
page, when its ``total_count`` (read on its first page, before deciding) says
that costs fewer requests than the reads one by one it replaces.

Bookings carry no ``updated_at`` and the only documented time filter is
``f.created_at``: a re-run reads every booking of the account (an amendment
changes a booking without changing its ``created_at``), and after
:data:`~bulkpo.purchase_orders.snapshot.REFRESH_AFTER` seconds only those created
since. A name the list did not show is absent: the list covers the whole account.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bulkpo.engine.pacing import Caller
from bulkpo.errors import ApiError
from bulkpo.flexport.client import Page
from bulkpo.flexport.filters import booking_filters
from bulkpo.purchase_orders.snapshot import (
    OLDEST_FIRST,
    PER_PAGE,
    REFRESH_AFTER,
    REFRESH_LOOKBACK,
    read_rest,
    stamp,
)


class BookingListingApi(Protocol):
    """The list pages bookings are read from (:class:`~bulkpo.flexport.client.FlexportClient`)."""

    async def booking_page(
        self, filters: Mapping[str, Any], page: int, *, per: int | None = None
    ) -> Page: ...

    async def booking_line_item_page(
        self, filters: Mapping[str, Any], page: int, *, per: int | None = None
    ) -> Page: ...

    async def purchase_order_line_item_page(
        self, filters: Mapping[str, Any], page: int, *, per: int | None = None
    ) -> Page: ...


def _ref_id(ref: Any) -> int | None:
    value = ref.get("id") if isinstance(ref, Mapping) else None
    return value if isinstance(value, int) else None


@dataclass
class BookingPages:
    """The file's bookings as list pages showed them, with the links and PO lines read."""

    api: BookingListingApi
    caller: Caller
    names: set[str]
    named: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """The listed bookings of the file's names, oldest first (a name may be held twice)."""
    links: dict[int, set[int]] | None = None
    """PO line item ids linked, by booking id, for the bookings listed before links were read."""
    po_lines: dict[int, list[dict[str, Any]]] | None = None
    """The lines of the POs the bookings name (their ids known before), when read as a list."""
    requests: int = 0
    newest: str = ""
    read_at: float = field(default_factory=time.monotonic)
    usable: bool = True
    """False once bringing it up to date failed: the run then looks bookings up one by one."""
    _covered: set[int] = field(default_factory=set)
    _wanted: set[int] = field(default_factory=set)
    _catching_up: asyncio.Lock = field(default_factory=asyncio.Lock)

    def listed(self, name: str) -> list[dict[str, Any]]:
        return self.named.get(name, [])

    def settled(self, name: str) -> None:
        """The run is done with the booking of this name: what the pages showed of it, and
        will show (the run's own creates, read back each minute), is not kept."""
        self.named.pop(name, None)
        self.names.discard(name)

    def links_of(self, booking_id: int) -> set[int] | None:
        """The PO line ids linked to this booking as read, or None when not read."""
        if self.links is None or booking_id not in self._covered:
            return None
        return set(self.links.get(booking_id, set()))

    def lines_of(self, po_id: int) -> list[dict[str, Any]] | None:
        """The PO's lines as read with the list, or None when the list did not cover it."""
        if self.po_lines is None or po_id not in self._wanted:
            return None
        return self.po_lines.get(po_id, [])

    async def fresh(self) -> None:
        """Read the bookings created since, when the last read is older than REFRESH_AFTER.

        A long run's list read ages: a booking someone creates while it lasts must be
        seen before a create of the same name, as a lookup would see it.
        """
        if not self.usable or time.monotonic() - self.read_at < REFRESH_AFTER:
            return
        async with self._catching_up:
            if time.monotonic() - self.read_at < REFRESH_AFTER:
                return
            started = time.monotonic()
            since = (
                dt.datetime.fromisoformat(self.newest) - REFRESH_LOOKBACK if self.newest else None
            )
            try:
                await self.read_bookings(booking_filters(created_after=since))
            except ApiError:
                self.usable = False
                return
            self.read_at = started

    async def read_bookings(self, filters: Mapping[str, Any], first: Page | None = None) -> None:
        """Every page of a bookings list, the file's names kept."""
        if first is None:
            first = await self.caller.call(
                lambda: self.api.booking_page(filters, 1, per=PER_PAGE))
            self.requests += 1
        self._keep(first.items)
        self.requests += await read_rest(
            self.caller, lambda n: self.api.booking_page(filters, n, per=PER_PAGE),
            _pages(first), self._keep)

    def _keep(self, items: Iterable[dict[str, Any]]) -> None:
        for item in items:
            name, booking_id = item.get("name"), item.get("id")
            if not isinstance(name, str) or not isinstance(booking_id, int):
                continue
            self.newest = max(self.newest, stamp(item.get("created_at")))
            if name in self.names:
                others = [b for b in self.listed(name) if b.get("id") != booking_id]
                self.named[name] = sorted([*others, item], key=lambda b: int(b["id"]))

    def listed_ids(self) -> set[int]:
        return {int(b["id"]) for listed in self.named.values() for b in listed}


def _pages(first: Page) -> int:
    return math.ceil((first.total_count or 0) / PER_PAGE)


async def read_booking_pages(
    api: BookingListingApi,
    caller: Caller,
    names: Collection[str],
    po_ids: Collection[int],
    *,
    stats: dict[str, int] | None = None,
) -> BookingPages | None:
    """The bookings ``names`` as list pages show them, or None when lookups cost less.

    ``po_ids`` are the known ids of the POs the bookings name: their lines are read
    as a list when the account's every line costs fewer pages than a read per PO.
    """
    if len(names) < 2:
        return None
    filters = booking_filters()
    first = await caller.call(lambda: api.booking_page(filters, 1, per=PER_PAGE))
    pages = BookingPages(api, caller, set(names), requests=1)
    # One lookup (or read by id) per booking, against the pages of the account's bookings.
    if first.total_count is None or _pages(first) >= len(names):
        _count(stats, pages)
        return None
    await pages.read_bookings(filters, first)
    listed = pages.listed_ids()
    if len(listed) >= 2:
        first = await caller.call(lambda: api.booking_line_item_page(
            OLDEST_FIRST, 1, per=PER_PAGE))
        pages.requests += 1
        if first.total_count is not None and _pages(first) < len(listed):
            pages.links = {}
            pages._covered = listed
            links = pages.links

            def keep_links(items: Iterable[dict[str, Any]]) -> None:
                for item in items:
                    booking_id = _ref_id(item.get("booking"))
                    line_id = _ref_id(item.get("purchase_order_line_item"))
                    if booking_id in listed and line_id is not None:
                        links.setdefault(booking_id, set()).add(line_id)

            keep_links(first.items)
            pages.requests += await read_rest(caller, lambda n: api.booking_line_item_page(
                OLDEST_FIRST, n, per=PER_PAGE), _pages(first), keep_links)
    if len(po_ids) >= 2:
        first = await caller.call(lambda: api.purchase_order_line_item_page(
            OLDEST_FIRST, 1, per=PER_PAGE))
        pages.requests += 1
        if first.total_count is not None and _pages(first) < len(po_ids):
            pages.po_lines = {}
            pages._wanted = set(po_ids)
            lines = pages.po_lines

            def keep_lines(items: Iterable[dict[str, Any]]) -> None:
                for item in items:
                    po_id = _ref_id(item.get("purchase_order"))
                    if po_id in pages._wanted:
                        lines.setdefault(po_id, []).append(item)

            keep_lines(first.items)
            pages.requests += await read_rest(caller, lambda n: api.purchase_order_line_item_page(
                OLDEST_FIRST, n, per=PER_PAGE), _pages(first), keep_lines)
    _count(stats, pages)
    return pages


def _count(stats: dict[str, int] | None, pages: BookingPages) -> None:
    if stats is not None:
        stats["booking_pages"] = stats.get("booking_pages", 0) + pages.requests
