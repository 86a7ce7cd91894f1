"""Purchase orders matching a query -> rows in the import layout -> a workbook with a Summary.

The query (:mod:`~bulkpo.purchase_orders.query`) goes to the API as filters
(nothing is filtered after download). Pages and line items are fetched
(:mod:`~bulkpo.purchase_orders.line_items`) under the same pacer and retries as
imports, and each PO's rows are written as soon as its
turn in the API's order comes, so memory stays flat in the number of POs: only the
Summary's tallies are kept. Rows are exactly what an import would send back, so an
export re-imports as it is.

Example (``parse_moment`` from :mod:`bulkpo.purchase_orders.query`)::

    query = ExportQuery(status="open", created_after=parse_moment("2026-10-01", None))
    result = asyncio.run(export_purchase_orders(settings, query, Path("open.xlsx")))
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import marshal
import os
import pickle
import re
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bulkpo import cells
from bulkpo.columns import METADATA_PREFIX, PURCHASE_ORDER_COLUMNS, ColumnType
from bulkpo.config import Settings
from bulkpo.engine.pacing import Caller, caller_for
from bulkpo.errors import UsageError
from bulkpo.flexport.client import FlexportClient, Page
from bulkpo.flexport.payloads import PO_READ_FIELDS, purchase_order_from_read
from bulkpo.purchase_orders.line_items import (
    PAGE_SIZE,
    purchase_orders_with_lines,
    purchase_orders_with_marshalled_lines,
)
from bulkpo.purchase_orders.query import PO_STATUSES, ExportQuery
from bulkpo.sheets.export_writer import (
    CellKind,
    ExportColumn,
    SummaryTable,
    open_export,
)
from bulkpo.sheets.formats import EXPORT

__all__ = [
    "FORMATS",
    "ExportProgress",
    "ExportResult",
    "ExportSummary",
    "choose_columns",
    "export_purchase_orders",
    "output_format",
    "output_path",
    "purchase_order_rows",
    "query_rows",
    "rows_for_po",
    "safe_url",
]

FORMATS = EXPORT.format_names


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def output_path(pattern: str, *, month: str, date: str) -> Path:
    """The output file from a name pattern: ``{month}`` (2026-10) and ``{date}`` (2026-11-01)."""
    values = {"month": month, "date": date}

    def fill(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in values:
            raise UsageError(
                f"output name {pattern!r}: unknown placeholder {{{name}}} "
                "(use {month} or {date})"
            )
        return values[name]

    path = Path(_PLACEHOLDER.sub(fill, pattern))
    output_format(path)
    return path


def output_format(path: Path) -> str:
    """The file format an output name asks for, from its extension."""
    return EXPORT.resolve(path, "-o").name


# ---------------------------------------------------------------- rows


def _party(body: Mapping[str, Any], role: str, field_name: str) -> Any:
    party = body.get(role)
    return party.get(field_name) if isinstance(party, Mapping) else None


def _line(field_name: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Any]:
    return lambda _body, line: line.get(field_name)


def _po(field_name: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Any]:
    return lambda body, _line: body.get(field_name)


def _first_hs_code(line: Mapping[str, Any]) -> Any:
    codes = line.get("hs_codes") or []
    return codes[0].get("code") if codes and isinstance(codes[0], Mapping) else None


def _nested(outer: str, inner: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Any]:
    def get(_body: Mapping[str, Any], line: Mapping[str, Any]) -> Any:
        value = line.get(outer)
        return value.get(inner) if isinstance(value, Mapping) else None

    return get


# Where each import column's value sits in the write-body shape (PO level, line level).
_VALUES: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Any]] = {
    "po_number": _po("name"),
    "status": _po("status"),
    "buyer_name": lambda body, _l: _party(body, "buyer", "name"),
    "buyer_ref": lambda body, _l: _party(body, "buyer", "ref"),
    "buyer_country": lambda body, _l: _party(body, "buyer", "country_code"),
    "seller_name": lambda body, _l: _party(body, "seller", "name"),
    "seller_ref": lambda body, _l: _party(body, "seller", "ref"),
    "seller_country": lambda body, _l: _party(body, "seller", "country_code"),
    "incoterm": _po("incoterm"),
    "transportation_mode": _po("transportation_mode"),
    "cargo_ready_date": _po("cargo_ready_date"),
    "must_arrive_date": _po("must_arrive_date"),
    "origin_port": _po("origin_port_loc_code"),
    "destination_port": _po("destination_port_loc_code"),
    "origin_address_ref": _po("origin_address_ref"),
    "destination_address_ref": _po("destination_address_ref"),
    "memo": _po("memo"),
    "priority": _po("priority"),
    "order_class": _po("order_class"),
    "line_number": _line("line_item_number"),
    "sku": _nested("product", "sku"),
    "product_name": _nested("product", "name"),
    "quantity": _line("units"),
    "unit_of_measure": _line("unit_of_measure"),
    "unit_cost": _nested("unit_cost", "amount"),
    "currency": _nested("unit_cost", "currency_code"),
    "hs_code": lambda _b, line: _first_hs_code(line),
}


# Each import column's key, where its value sits and how a cell holds it, resolved once:
# rows_for_po makes 100,000 rows of them for a large export.
_CELLS = [
    (col.key, _VALUES[col.key], cells.writer(col)) for col in PURCHASE_ORDER_COLUMNS.columns
]


def rows_for_po(po: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The import-layout rows of one PO read model: one per line item (by line number),
    PO-level columns repeated, ``metadata.<key>`` for its metadata.

    A metadata key with several values puts one per row, the last repeated, so
    that an import gathers the same list back. A PO without lines gets one row.
    """
    body = purchase_order_from_read(po, lines)
    line_bodies: list[Mapping[str, Any]] = body["line_items"] or [{}]
    metadata: Mapping[str, Any] = body.get("metadata") or {}
    rows = []
    for i, line in enumerate(line_bodies):
        row = {}
        for key, value_of, typed in _CELLS:
            value = value_of(body, line)
            row[key] = None if value is None else typed(value)
        for key in sorted(metadata):
            values = metadata[key]
            if isinstance(values, str):
                values = [values]
            if values:
                row[METADATA_PREFIX + key] = str(values[min(i, len(values) - 1)])
        rows.append(row)
    return rows


_KINDS = {
    ColumnType.DATE: CellKind.DATE,
    ColumnType.INTEGER: CellKind.INTEGER,
    ColumnType.DECIMAL: CellKind.DECIMAL,
}


def _export_column(key: str) -> ExportColumn:
    if key.startswith(METADATA_PREFIX):
        return ExportColumn(key, key)
    column = PURCHASE_ORDER_COLUMNS.by_key(key)
    return ExportColumn(key, column.header, _KINDS.get(column.type, CellKind.TEXT))


def choose_columns(names: Sequence[str] | None) -> list[str] | None:
    """Column keys from keys or headers (``po_number`` or ``PO Number``); None = all."""
    if names is None:
        return None
    keys: list[str] = []
    for name in names:
        if name.lower().startswith(METADATA_PREFIX) and len(name) > len(METADATA_PREFIX):
            key = METADATA_PREFIX + name[len(METADATA_PREFIX) :]
        else:
            column = PURCHASE_ORDER_COLUMNS.match(name)
            if column is None:
                raise UsageError(
                    f"unknown column {name!r} (known: "
                    f"{', '.join(PURCHASE_ORDER_COLUMNS.keys)}, or metadata.<key>)"
                )
            key = column.key
        if key in keys:
            raise UsageError(f"column {name!r} is listed twice")
        keys.append(key)
    if not keys:
        raise UsageError("the column list is empty")
    return keys


# ---------------------------------------------------------------- summary


@dataclass
class Tally:
    pos: int = 0
    lines: int = 0
    units: int = 0
    value: Decimal = Decimal(0)  # units x unit cost, in the key's currency


@dataclass(frozen=True)
class PoValue:
    """One purchase order's value: its lines' units x unit cost, per currency."""

    po_number: str
    seller: str
    currency: str
    lines: int
    units: int
    value: Decimal


COUNT_FORMAT = "#,##0"
VALUE_FORMAT = "#,##0.00"
LARGEST_POS = 20
"""How many purchase orders the Summary lists by value."""


def _money(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return Decimal(str(value))


@dataclass
class ExportSummary:
    """What an analyst asks of an export: counts, units and spend (units x unit cost)
    by status, by supplier and currency, by month of cargo-ready date and currency,
    and the largest purchase orders by value."""

    by_status: dict[str, Tally] = field(default_factory=dict)
    by_seller: dict[tuple[str, str], Tally] = field(default_factory=dict)
    by_month: dict[tuple[str, str], Tally] = field(default_factory=dict)
    po_values: list[PoValue] = field(default_factory=list)

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Count one PO's rows."""
        if not rows:
            return
        first = rows[0]
        ready = first.get("cargo_ready_date")
        seller = str(first.get("seller_name") or "(no seller)")
        month = ready.strftime("%Y-%m") if isinstance(ready, dt.date) else "(none)"
        # A PO's lines may be priced in more than one currency: spend never adds them up.
        by_currency: dict[str, Tally] = {}
        for row in rows:
            tally = by_currency.setdefault(str(row.get("currency") or "(none)"), Tally())
            units = row.get("quantity")
            if row.get("sku") is not None:
                tally.lines += 1
            if isinstance(units, int) and not isinstance(units, bool):
                tally.units += units
                cost = _money(row.get("unit_cost"))
                if cost is not None:
                    tally.value += cost * units
        status = self.by_status.setdefault(str(first.get("status") or "(none)"), Tally())
        status.pos += 1
        for currency, part in by_currency.items():
            status.lines += part.lines
            status.units += part.units
            for tallies, key in ((self.by_seller, seller), (self.by_month, month)):
                tally = tallies.setdefault((key, currency), Tally())
                tally.pos += 1
                tally.lines += part.lines
                tally.units += part.units
                tally.value += part.value
            self.po_values.append(PoValue(
                str(first.get("po_number") or ""), seller, currency, part.lines, part.units,
                part.value,
            ))
        # Only the largest are shown: keep memory flat over a large export.
        if len(self.po_values) > 4 * LARGEST_POS:
            self.po_values = self._largest()

    def _largest(self) -> list[PoValue]:
        return sorted(self.po_values, key=lambda p: (-p.value, p.po_number))[:LARGEST_POS]

    def tables(self, filters: Sequence[tuple[str, object]] = ()) -> list[SummaryTable]:
        """The Summary sheet's blocks; with nothing counted, one block saying that
        nothing matched ``filters`` (name, value)."""
        if not self.by_status:
            return [SummaryTable(
                "No purchase orders matched these filters",
                ("Filter", "Value"),
                list(filters) or [("Filters", "none: every purchase order")],
            )]
        counts = ("Purchase orders", "Lines", "Units")
        count_formats = (COUNT_FORMAT,) * 3

        def rows(tallies: Mapping[Any, Tally], order: list[Any]) -> list[tuple[object, ...]]:
            return [(*k, t.pos, t.lines, t.units, t.value)
                    for k in order for t in [tallies[k]]]

        statuses = sorted(self.by_status, key=lambda s: (s not in PO_STATUSES, s))
        sellers = sorted(self.by_seller, key=lambda k: (k[1], -self.by_seller[k].value, k[0]))
        months = sorted(self.by_month, key=lambda k: (k[0].startswith("("), k[0], k[1]))
        keyed = (*counts, "Spend")
        keyed_formats = (None, *count_formats, VALUE_FORMAT)
        return [
            SummaryTable(
                "By status",
                ("Status", *counts),
                [(k, t.pos, t.lines, t.units) for k in statuses for t in [self.by_status[k]]],
                1,
                (None, *count_formats),
            ),
            SummaryTable(
                "Spend by supplier (units x unit cost)",
                ("Supplier", "Currency", *keyed),
                rows(self.by_seller, sellers),
                formats=(None, *keyed_formats),
            ),
            SummaryTable(
                "Spend by month of cargo-ready date",
                ("Cargo-ready month", "Currency", *keyed),
                rows(self.by_month, months),
                4,
                (None, *keyed_formats),
            ),
            SummaryTable(
                f"Largest purchase orders (top {LARGEST_POS} by value)",
                ("PO Number", "Supplier", "Currency", "Lines", "Units", "PO value"),
                [(p.po_number, p.seller, p.currency, p.lines, p.units, p.value)
                 for p in self._largest()],
                formats=(None, None, None, COUNT_FORMAT, COUNT_FORMAT, VALUE_FORMAT),
            ),
        ]


# ---------------------------------------------------------------- fetching


@dataclass(frozen=True)
class ExportProgress:
    """How far an export is: pages of POs read, POs and rows written, POs in all."""

    pages: int
    pos: int
    rows: int
    total: int | None


@dataclass(frozen=True)
class ExportResult:
    rows: int
    pos: int
    path: Path

def _opener(fmt: str) -> Callable[[Path, list[ExportColumn]], AbstractContextManager[Any]]:
    return lambda path, columns: open_export(
        fmt, path, columns, sheet_name=PURCHASE_ORDER_COLUMNS.sheet_name
    )


def safe_url(url: str) -> str:
    """A base URL fit to record: no user:password, no query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _filters(query: ExportQuery) -> list[tuple[str, object]]:
    """The filters of ``query`` as the Query sheet names them."""
    out: list[tuple[str, object]] = []
    if query.window:
        out.append(("Report window (created at)", query.window))
    out.extend(query.params().items())
    if query.limit is not None:
        out.append(("Limit (POs)", query.limit))
    return out


def query_rows(
    query: ExportQuery,
    settings: Settings,
    *,
    started: dt.datetime,
    pos: int,
    rows: int,
    columns: Sequence[str] | None,
    profile: Path | None = None,
) -> list[tuple[str, object]]:
    """What the Query sheet records: filters, time, API base URL, version (never the key)."""
    from bulkpo import __version__

    params = query.params()
    out: list[tuple[str, object]] = [("Export", "purchase orders")]
    if profile is not None:
        out.append(("Profile", profile.name))
    if query.window:
        out.append(("Report window (created at)", query.window))
    out.extend((name, value) for name, value in params.items())
    if not params:
        out.append(("Filters", "none: every purchase order"))
    if query.limit is not None:
        out.append(("Limit (POs)", query.limit))
    if columns is not None:
        out.append(("Columns", ", ".join(columns)))
    out += [
        ("Run at (UTC)", started.astimezone(dt.UTC)),
        ("Run at (local)", started.astimezone().isoformat(timespec="seconds")),
        ("API base URL", safe_url(settings.base_url)),
        ("bulkpo version", __version__),
        ("Purchase orders", pos),
        ("Rows", rows),
    ]
    return out


class _Layout:
    """Import-layout rows and cells (in ``keys`` order) of each PO; with ``grow``,
    a metadata key seen for the first time is appended to ``keys`` and announced."""

    def __init__(
        self,
        keys: list[str],
        *,
        grow: bool,
        on_column: Callable[[ExportColumn], None] = lambda _c: None,
    ) -> None:
        self.keys = keys
        self._known = set(keys)
        self._grow = grow
        self._on_column = on_column

    def rows(
        self, po: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[list[Any]]]:
        rows = rows_for_po(po, lines)
        keys = self.keys
        if self._grow:
            for row in rows:
                for key in row:
                    if key not in self._known:
                        self._known.add(key)
                        keys.append(key)
                        self._on_column(_export_column(key))
        return rows, [[row.get(key) for key in keys] for row in rows]


async def _import_layout(
    api: FlexportClient,
    caller: Caller,
    query: ExportQuery,
    keys: list[str],
    *,
    grow: bool,
) -> AsyncIterator[tuple[list[dict[str, Any]], list[list[Any]]]]:
    """Each matching PO's rows (by key) and cells (in ``keys`` order)."""
    layout = _Layout(keys, grow=grow)
    async for po, lines in purchase_orders_with_lines(
        api, caller, query, concurrency=api.settings.concurrency
    ):
        yield layout.rows(po, lines)


async def purchase_order_rows(
    settings: Settings, query: ExportQuery, columns: Sequence[str] | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The export's headers and typed cells in memory (for a DataFrame), not a file."""
    chosen = choose_columns(columns)
    keys = list(chosen or PURCHASE_ORDER_COLUMNS.keys)
    caller = caller_for(settings)
    cells: list[list[Any]] = []
    async with FlexportClient(settings.model_copy(update={"per_page": PAGE_SIZE})) as api:
        async for _rows, lines in _import_layout(api, caller, query, keys, grow=chosen is None):
            cells.extend(lines)
    width = len(keys)
    headers = [_export_column(key).header for key in keys]
    return headers, [line + [None] * (width - len(line)) for line in cells]


WRITER_PROCESS_MIN_POS = 10_000
"""From this many POs on, rows are written in a second process while this one fetches:
below, that process's start (about a CPU-second of imports) costs more than it saves."""

_BATCH = 100
"""POs sent to the writing process at a time: a page's worth."""


class _Writer:
    """The write stage: rows, Summary tallies and the file; the file appears only
    when :meth:`finish` was called before the block ends."""

    def __init__(self, fmt: str, path: Path, keys: list[str], *, grow: bool) -> None:
        self._fmt = fmt
        self._opened = _opener(fmt)(path, [_export_column(k) for k in keys])
        self._keys = keys
        self._grow = grow
        self.summary = ExportSummary()

    def __enter__(self) -> _Writer:
        self._sink = self._opened.__enter__()
        self._layout = _Layout(self._keys, grow=self._grow, on_column=self._sink.add_column)
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        return self._opened.__exit__(*exc)

    def add(self, po: Mapping[str, Any], lines: Sequence[bytes]) -> None:
        """One PO with its lines as :func:`purchase_orders_with_marshalled_lines` gives them."""
        rows, cells = self._layout.rows(po, [marshal.loads(line) for line in lines])
        self.summary.add(rows)
        for line in cells:
            self._sink.append(line)

    def finish(
        self, filters: list[tuple[str, object]], query: list[tuple[str, object]]
    ) -> None:
        if self._fmt == "xlsx":
            self._sink.summary = self.summary.tables(filters)
            self._sink.query = query


def write_from_stdin() -> None:
    """The writing process's main: reads pickled (fmt, path, keys, grow), batches of
    (PO, lines) until None, then (filters, query) from stdin; writes the pickled
    outcome (None once the file is saved, or the exception that stopped it) to stdout.
    The end of stdin before that leaves no file."""
    source, answer_to = sys.stdin.buffer, sys.stdout.buffer
    try:
        fmt, path, keys, grow = pickle.load(source)
        with _Writer(fmt, path, keys, grow=grow) as writer:
            while (batch := pickle.load(source)) is not None:
                for po, lines in batch:
                    writer.add(po, lines)
            writer.finish(*pickle.load(source))
        answer: BaseException | None = None
    except EOFError:
        return  # the parent gave up: nothing is saved
    except Exception as exc:  # handed to the parent, which raises it
        answer = exc
    try:
        data = pickle.dumps(answer)
    except Exception as exc:  # an exception that does not pickle
        data = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
    with contextlib.suppress(OSError):
        answer_to.write(data)
        answer_to.flush()


# Ctrl-C is the parent's to handle (it closes stdin, which ends the writer without a
# file); set before anything is imported, so a Ctrl-C never prints a traceback here.
_CHILD = (
    "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "from bulkpo.purchase_orders.export import write_from_stdin; write_from_stdin()"
)


class _WriterProcess:
    """:class:`_Writer` in a second Python process, fed a page of POs at a time
    through its stdin, so that fetching (here) and writing (there) use two cores.
    A full pipe holds the fetching back: memory stays flat."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._batch: list[tuple[Mapping[str, Any], Sequence[bytes]]] = []

    @classmethod
    async def start(cls, fmt: str, path: Path, keys: list[str], *, grow: bool) -> _WriterProcess:
        # Its own interpreter, not multiprocessing: nothing of the caller's main
        # module is run again there.
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        writer = cls(process)
        await writer._send((fmt, path, keys, grow))
        return writer

    async def _send(self, message: object) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise await self._outcome() or _ended() from None

    async def _outcome(self) -> BaseException | None:
        stdout = self._process.stdout
        assert stdout is not None
        data = await stdout.read()
        await self._process.wait()
        if not data:
            return _ended()
        answer: BaseException | None = pickle.loads(data)
        return answer

    async def add(self, po: Mapping[str, Any], lines: Sequence[bytes]) -> None:
        # Only what the rows are made of: less to pickle here and unpickle there.
        self._batch.append(({k: po[k] for k in PO_READ_FIELDS if k in po}, lines))
        if len(self._batch) >= _BATCH:
            batch, self._batch = self._batch, []
            await self._send(batch)

    async def finish(
        self, filters: list[tuple[str, object]], query: list[tuple[str, object]]
    ) -> None:
        if self._batch:
            await self._send(self._batch)
        await self._send(None)
        await self._send((filters, query))
        stdin = self._process.stdin
        assert stdin is not None
        stdin.close()
        answer = await self._outcome()
        if answer is not None:
            raise answer

    async def close(self) -> None:
        """Done or given up: an unfinished writer ends without a file."""
        if self._process.returncode is not None:
            return
        stdin = self._process.stdin
        if stdin is not None:
            stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 10)
        finally:
            if self._process.returncode is None:
                self._process.kill()
                await self._process.wait()


def _ended() -> RuntimeError:
    return RuntimeError("the export's writing process ended unexpectedly")


async def export_purchase_orders(
    settings: Settings,
    query: ExportQuery,
    path: Path,
    *,
    columns: Sequence[str] | None = None,
    on_progress: Callable[[ExportProgress], None] | None = None,
    profile: Path | None = None,
) -> ExportResult:
    """Write the purchase orders matching ``query`` to ``path`` (.xlsx, .csv or .jsonl).

    One row per line item in the import layout; ``columns`` picks and orders
    column keys (None: all, plus ``metadata.<key>`` for every key seen). The file
    appears only when complete. From :data:`WRITER_PROCESS_MIN_POS` POs on, the
    rows are written by a second process while this one fetches.
    """
    path = Path(path)
    fmt = output_format(path)
    keys = choose_columns(columns)
    fixed = keys is None
    keys = list(keys or PURCHASE_ORDER_COLUMNS.keys)
    started = dt.datetime.now(dt.UTC)
    settings = settings.model_copy(update={"per_page": PAGE_SIZE})
    caller = caller_for(settings)
    pages = pos_count = row_count = 0
    total: int | None = None
    writer: _Writer | _WriterProcess | None = None

    starting: asyncio.Task[_WriterProcess] | None = None

    def on_page(page: Page) -> None:
        nonlocal pages, total, starting
        pages += 1
        total = page.total_count if query.limit is None else min(page.total_count or 0, query.limit)
        if pages == 1 and (total or 0) >= WRITER_PROCESS_MIN_POS:
            # Started on the first page: its imports run while the line items are read.
            starting = asyncio.create_task(_WriterProcess.start(fmt, path, keys, grow=fixed))

    async def stop_writer() -> None:
        if starting is not None:
            with contextlib.suppress(Exception):
                await (await starting).close()

    def query_sheet() -> list[tuple[str, object]]:
        return query_rows(
            query,
            settings,
            started=started,
            pos=pos_count,
            rows=row_count,
            columns=None if fixed else keys,
            profile=profile,
        )

    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(stop_writer)
        async with FlexportClient(settings) as api:
            # Lines stay marshalled until the writer makes rows of them: with a writing
            # process, there (same interpreter, so the same marshal format).
            async for po, lines in purchase_orders_with_marshalled_lines(
                api, caller, query, concurrency=settings.concurrency, on_page=on_page
            ):
                if writer is None:
                    # Chosen once the first page has told how many POs there are.
                    if starting is not None:
                        writer = await starting
                    else:
                        writer = stack.enter_context(_Writer(fmt, path, keys, grow=fixed))
                if isinstance(writer, _WriterProcess):
                    await writer.add(po, lines)
                else:
                    writer.add(po, lines)
                pos_count += 1
                row_count += len(lines) or 1  # one row per line item, or one for the PO
                if on_progress is not None:
                    on_progress(ExportProgress(pages, pos_count, row_count, total))
        if writer is None:  # nothing matched: a file that says so
            writer = stack.enter_context(_Writer(fmt, path, keys, grow=fixed))
        if isinstance(writer, _WriterProcess):
            await writer.finish(_filters(query), query_sheet())
        else:
            writer.finish(_filters(query), query_sheet())
    return ExportResult(row_count, pos_count, path)
