"""Each matching PO with its line items, fetched ahead under the import's pacing.

Line items come PO by PO, a bounded number at a time, or, when the export is
large and the account's lines take far fewer requests, all at once from the
paged line-item list, spooled to a temporary SQLite file so memory stays flat.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import marshal
import sqlite3
import tempfile
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from bulkpo.engine.pacing import Caller, paced
from bulkpo.flexport.client import FlexportClient, Page
from bulkpo.flexport.models import PurchaseOrder
from bulkpo.flexport.payloads import LINE_READ_FIELDS
from bulkpo.purchase_orders.query import ExportQuery

__all__ = [
    "BULK_MIN_POS",
    "PAGES_AHEAD",
    "PAGE_SIZE",
    "LineStore",
    "bulk_line_items",
    "purchase_orders_with_lines",
    "purchase_orders_with_marshalled_lines",
]

PAGE_SIZE = 100

PAGES_AHEAD = 4
"""PO pages requested ahead of the one being written (each holds at most 100 POs)."""

_PAGE_OF_POS = TypeAdapter(list[PurchaseOrder])

BULK_MIN_POS = 200
"""Below this many POs, fetching lines PO by PO is never much slower."""


async def purchase_orders_with_lines(
    api: FlexportClient,
    caller: Caller,
    query: ExportQuery,
    *,
    concurrency: int,
    on_page: Callable[[Page], None] = lambda _p: None,
) -> AsyncIterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each PO matching ``query`` with its line items (wire dicts), in the API's order.

    Line items are fetched ``concurrency`` at a time, a few pages' worth ahead at
    most, so memory is bounded whatever the number of POs.
    """
    async with contextlib.aclosing(
        purchase_orders_with_marshalled_lines(
            api, caller, query, concurrency=concurrency, on_page=on_page
        )
    ) as found:
        async for po, lines in found:
            yield po, [marshal.loads(line) for line in lines]


async def purchase_orders_with_marshalled_lines(
    api: FlexportClient,
    caller: Caller,
    query: ExportQuery,
    *,
    concurrency: int,
    on_page: Callable[[Page], None] = lambda _p: None,
) -> AsyncGenerator[tuple[dict[str, Any], list[bytes]]]:
    """:func:`purchase_orders_with_lines` with each line item still in ``marshal``
    bytes: a second writing process decodes them itself, which keeps the decoding
    (and pickling the dicts) off the fetching process."""
    params = query.params()
    per = min(PAGE_SIZE, query.limit or PAGE_SIZE)
    gate = asyncio.Semaphore(concurrency)
    ahead: deque[asyncio.Task[tuple[dict[str, Any], list[bytes]]]] = deque()
    window = max(concurrency * 4, 8)
    stored: LineStore | None = None

    async def with_lines(po: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        if stored is not None:
            lines = stored.marshalled_lines(int(po["id"]))
            if lines:
                return po, lines
            # Not in the snapshot (a PO created meanwhile, or one without lines).
        async with gate:
            items = await paced(caller, lambda: api.purchase_order_line_items(po["id"]))
        return po, [
            marshal.dumps(line.model_dump(mode="json", by_alias=True)) for line in items
        ]

    def fetch_page(number: int) -> asyncio.Task[Page]:
        return asyncio.create_task(
            paced(caller, functools.partial(api.purchase_order_page, params, number, per=per))
        )

    wanted = query.limit
    pages: deque[asyncio.Task[Page]] = deque([fetch_page(1)])
    requested = number = 1
    last: int | None = None  # the last page, once the first has told the total
    lines_task: asyncio.Task[LineStore | None] | None = None
    try:
        while pages and (wanted is None or wanted > 0):
            page = await pages.popleft()
            if number == 1:
                total = page.total_count
                if total is not None:
                    last = -(-min(total, wanted or total) // per)
                if query.limit is None and (total or 0) > BULK_MIN_POS:
                    lines_task = asyncio.create_task(
                        bulk_line_items(api, caller, total or 0, concurrency)
                    )
            # Later pages travel while this one's POs are written (and, the first
            # time, while the line items are read).
            more = page.next_url is not None and bool(page.items)
            while more and len(pages) < PAGES_AHEAD and (last is None or requested < last):
                requested += 1
                pages.append(fetch_page(requested))
                if last is None:
                    break  # without a total, one page ahead at a time
            on_page(page)
            if lines_task is not None:
                stored = await lines_task
                lines_task = None
            items = page.items if wanted is None else page.items[:wanted]
            # A page at a time: one call into pydantic's core rather than two per PO.
            for po in _PAGE_OF_POS.dump_python(
                _PAGE_OF_POS.validate_python(items), mode="json", by_alias=True
            ):
                ahead.append(asyncio.create_task(with_lines(po)))
                while len(ahead) >= window:
                    yield await ahead.popleft()
            if wanted is not None:
                wanted -= len(items)
            if not more:
                break
            number += 1
        while ahead:
            yield await ahead.popleft()
    finally:
        pending: list[asyncio.Task[Any]] = [*ahead, *pages, *([lines_task] if lines_task else [])]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if stored is not None:
            stored.close()


class LineStore:
    """Line items of every PO, spooled to a temporary SQLite file and found by PO id.

    Keeps memory flat however many lines there are; deleted when closed.
    """

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bulkpo-lines-")
        self._db = sqlite3.connect(Path(self._dir.name) / "lines.sqlite")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE lines (id INTEGER PRIMARY KEY, po_id INTEGER, body BLOB NOT NULL)"
        )
        self.count = 0

    def add(self, items: Sequence[Mapping[str, Any]]) -> None:
        rows = []
        for item in items:
            po = item.get("purchase_order")
            po_id = po.get("id") if isinstance(po, Mapping) else None
            if item.get("id") is not None and po_id is not None:
                # Only what the rows are made of: a tenth of the JSON to store and parse.
                kept = {key: item[key] for key in LINE_READ_FIELDS if key in item}
                # marshal, not JSON: the file lives and dies with this process, and
                # decoding 100,000 lines takes a fifth of the time.
                rows.append((int(item["id"]), int(po_id), marshal.dumps(kept)))
        # Pages fetched side by side may overlap if lines move meanwhile: ids are unique.
        self._db.executemany("INSERT OR IGNORE INTO lines VALUES (?, ?, ?)", rows)
        self.count += len(rows)

    def index(self) -> None:
        self._db.execute("CREATE INDEX lines_po ON lines (po_id, id)")

    def marshalled_lines(self, po_id: int) -> list[bytes]:
        """The PO's lines as stored, each in ``marshal`` bytes."""
        found = self._db.execute(
            "SELECT body FROM lines WHERE po_id = ? ORDER BY id", (po_id,)
        ).fetchall()
        return [body for (body,) in found]

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()


async def bulk_line_items(
    api: FlexportClient, caller: Caller, pos: int, concurrency: int
) -> LineStore | None:
    """Every line item of the account, when that takes far fewer requests than one per PO.

    The first page says how many lines there are; the rest are fetched side by
    side under the same pacing. None when PO-by-PO is cheaper.
    """
    first: Page = await paced(
        caller, functools.partial(api.purchase_order_line_item_page, {}, 1, per=PAGE_SIZE)
    )
    pages = -(-(first.total_count or 0) // PAGE_SIZE)
    # Lines of POs outside the export are fetched too: worth it only well below
    # one request per PO.
    if pages * 2 > pos:
        return None
    store = LineStore()
    store.add(first.items)
    gate = asyncio.Semaphore(concurrency)

    async def fetch(number: int) -> Page:
        async with gate:
            return await paced(
                caller,
                functools.partial(api.purchase_order_line_item_page, {}, number, per=PAGE_SIZE),
            )

    numbers = iter(range(2, pages + 1))
    # A sliding window: at most two pages per connection in flight or waiting to
    # be stored, so memory does not grow with the number of lines.
    running = {asyncio.create_task(fetch(n)) for n in itertools.islice(numbers, concurrency * 2)}
    try:
        while running:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                store.add(task.result().items)
                running |= {asyncio.create_task(fetch(n)) for n in itertools.islice(numbers, 1)}
        store.index()
    except BaseException:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        store.close()
        raise
    return store
