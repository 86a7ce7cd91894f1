"""bulkpo's public entry points as coroutines, for programs that run their own event loop.

:mod:`bulkpo` offers the same functions as plain calls. Each takes ``settings``
(default: :func:`bulkpo.load_settings`, so ``FLEXPORT_API_KEY`` and bulkpo.toml)
and returns one result object::

    async with bulkpo.aio.Sandbox() as sandbox:
        result = await bulkpo.aio.import_file("orders.xlsx", settings=sandbox.settings)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, ParamSpec, TypeVar

from pydantic import SecretStr

from bulkpo.config import Settings, load_settings
from bulkpo.engine.exactly_once import OnExisting, UnitResult
from bulkpo.engine.pacing import LiveStats
from bulkpo.errors import UsageError
from bulkpo.imports import (
    DateOrder,
    ImportOptions,
    dry_run_result,
    import_workbook,
    load_workbook,
    validation_result,
)
from bulkpo.network.online import check_refs, read_network
from bulkpo.purchase_orders.export import ExportProgress, ExportResult, purchase_order_rows
from bulkpo.purchase_orders.export import export_purchase_orders as _export_purchase_orders
from bulkpo.purchase_orders.query import ExportQuery
from bulkpo.report import ImportResult
from bulkpo.sandbox import SandboxOptions, running_sandbox
from bulkpo.saved_mapping import SavedMapping
from bulkpo.shipments.documents import DocumentRow, DocumentStatus, download_shipment_documents
from bulkpo.shipments.documents import write_index as _write_index
from bulkpo.shipments.export import ShipmentExportResult, ShipmentQuery
from bulkpo.shipments.export import export_shipments as _export_shipments
from bulkpo.shipments.track import (
    TrackRow,
    TrackState,
    TrackTarget,
    TrackTargets,
    TrackWait,
    read_targets,
    targets_from_file,
    track_bookings,
)

if TYPE_CHECKING:
    import pandas

__all__ = [
    "DocumentsResult",
    "Sandbox",
    "TrackResult",
    "download_documents",
    "export_purchase_orders",
    "export_shipments",
    "import_file",
    "purchase_orders_frame",
    "track",
    "validate_file",
]

SANDBOX_DB = Path(".bulkpo") / "sandbox.sqlite"

P = ParamSpec("P")
T = TypeVar("T")


def blocking(coroutine_function: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """The coroutine function as a plain call with the same signature and docs.

    It runs its own event loop, in a worker thread when the caller already runs
    one (a notebook), where ``asyncio.run`` would refuse.
    """

    @functools.wraps(coroutine_function)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        held = _held(coroutine_function(*args, **kwargs))
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(held).value
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, held).result().value

    return call


class _Held(Generic[T]):
    """A result handed out of ``asyncio.run`` in a box with a short repr.

    Python 3.11's ``asyncio.run`` formats its finished task's repr, result included,
    while it restores the Ctrl-C handler (an enum lookup that fails builds its message
    from it): for the result of a million-line file that full repr took many seconds.
    """

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


async def _held(coroutine: Coroutine[Any, Any, T]) -> _Held[T]:
    return _Held(await coroutine)


class Sandbox(AbstractAsyncContextManager["Sandbox"]):
    """bulkpo's local Flexport look-alike, served on loopback while the block runs.

    ``settings`` points every call at it; its state lives in ``db_path``
    (default ``.bulkpo/sandbox.sqlite``), so POs made in one block are there in
    the next. Usable with ``with`` as well as ``async with``.
    """

    def __init__(self, db_path: Path | str = SANDBOX_DB, *, base: Settings | None = None) -> None:
        self.db_path = Path(db_path)
        self._base = base
        self._stack = ExitStack()
        self.settings: Settings = Settings()

    def __enter__(self) -> Sandbox:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        server = self._stack.enter_context(running_sandbox(SandboxOptions(db_path=self.db_path)))
        base = self._base or Settings()
        self.settings = base.model_copy(
            update={
                "base_url": server.base_url,
                "api_key": SecretStr(server.api_key),
                "api_key_file": None,
            }
        )
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    async def __aenter__(self) -> Sandbox:
        return self.__enter__()

    async def __aexit__(
        self,
        type_: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(type_, exc, tb)


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else load_settings()


# ---------------------------------------------------------------- import


async def validate_file(
    path: Path | str,
    *,
    sheet: str | None = None,
    date_order: DateOrder | None = None,
    header_row: int | None = None,
    mapping: SavedMapping | Path | str | None = None,
    headers: Path | str | None = None,
    decimal_comma: bool | None = None,
    online: bool = False,
    settings: Settings | None = None,
) -> ImportResult:
    """Read and check a file of purchase orders, bookings or both, as an import reads it;
    nothing is sent, no settings needed.

    With ``online`` every buyer, seller, shipper, consignee and location ref is also
    checked against the account's network (read once, with ``settings``, else
    :func:`load_settings`'s); refs the file's network sheet creates count as known. An
    unknown ref is one ``unknown_ref`` error per value naming its cells, with near matches.

    ``decimal_comma`` says how numbers like 1,250 read (True: 1.25, False: 1250); left
    None, the file's unambiguous numbers (4,25 or 4.25) tell, or such a cell is an error.
    ``header_row`` (1-based) overrides header detection; ``mapping`` is a saved mapping
    or its TOML file (:func:`bulkpo.imports.map_file` writes one); ``headers`` a file of
    PO headers joined to this file's lines on the PO number. bulkpo.toml's
    ``[mappings.<name>]`` apply to files with their fingerprint.

    The result has one sheet per kind found (``result.purchase_orders``,
    ``result.bookings``). Each data row's status is ``valid`` or ``invalid``, with its
    issues; every issue names its cell (``Purchase Orders!D7``). A booking's PO numbers
    are checked against the file's POs only: the others
    (:func:`bulkpo.imports.po_numbers_left_to_import`) are looked up in Flexport by the
    import::

        result = await bulkpo.aio.validate_file("orders.xlsx")
        print(result.summary.line(), [str(i) for i in result.issues[:3]])
    """
    read_with = settings if settings is not None else load_settings()
    result = validation_result(
        Path(path), sheet=sheet, date_order=date_order, limits=read_with.limits,
        header_row=header_row, mapping=mapping, headers=headers, settings=read_with,
        decimal_comma=decimal_comma,
    )
    if online:
        # A missing or malformed key is said before any request, as by every command.
        read_with.check_transport()
        read_with.check_auth()
        check_refs(result, await read_network(read_with))
    return result


async def import_file(
    path: Path | str,
    *,
    settings: Settings | None = None,
    dry_run: bool = False,
    sheet: str | None = None,
    date_order: DateOrder | None = None,
    on_existing: OnExisting | Literal["skip", "update", "fail"] = OnExisting.SKIP,
    rate: float | None = None,
    concurrency: int | None = None,
    journal: Path | str | None = None,
    resume: bool = False,
    on_result: Callable[[UnitResult], None] | None = None,
    header_row: int | None = None,
    mapping: SavedMapping | Path | str | None = None,
    headers: Path | str | None = None,
    decimal_comma: bool | None = None,
    target: str | None = None,
    live: LiveStats | None = None,
) -> ImportResult:
    """Create the purchase orders and bookings of a workbook or CSV, exactly once.

    Invalid rows are never sent; every data row ends with one status (created,
    updated, unchanged, skipped, invalid, failed). With ``dry_run`` nothing is
    sent and ``result.requests`` holds the exact request bodies. ``target`` names the API
    in the journal (default: its base URL; a sandbox on a new port each start is named
    by its state file, so that a resume finds its run). ``live``, when given, follows the
    run's requests, rate and 429 answers while it goes on::

        with bulkpo.Sandbox() as sandbox:
            result = bulkpo.import_file("samples/purchase-orders.xlsx", settings=sandbox.settings)
        print(result.summary.line())  # 152 rows: 152 created
    """
    settings = _settings(settings)
    workbook = load_workbook(
        Path(path),
        sheet=sheet,
        date_order=date_order,
        defaults=settings.bookings,
        limits=settings.limits,
        header_row=header_row,
        mapping=mapping,
        headers=headers,
        settings=settings,
        decimal_comma=decimal_comma,
    )
    if dry_run:
        return dry_run_result(workbook, settings.bookings)
    options = ImportOptions(
        on_existing=OnExisting(on_existing),
        rate=rate,
        concurrency=concurrency,
        journal=None if journal is None else Path(journal),
        resume=resume,
        target=target,
        live=live,
        # How the file was read, kept with the run so that it can be told later.
        recorded={
            "sheet": sheet, "decimal_comma": decimal_comma, "header_row": header_row,
            "map_file": str(Path(mapping).resolve()) if isinstance(mapping, Path | str) else None,
            "headers_file": None if headers is None else str(Path(headers).resolve()),
        },
    )
    return await import_workbook(
        workbook, settings, options, on_result=on_result or (lambda _r: None)
    )


# ---------------------------------------------------------------- exports


async def export_purchase_orders(
    output: Path | str,
    *,
    settings: Settings | None = None,
    query: ExportQuery | None = None,
    columns: Sequence[str] | None = None,
    on_progress: Callable[[ExportProgress], None] | None = None,
    **filters: Any,
) -> ExportResult:
    """Write the POs matching the filters to ``output`` (.xlsx, .csv or .jsonl).

    ``filters`` are :class:`~bulkpo.purchase_orders.query.ExportQuery` fields (``status="open"``,
    ``created_after=<aware datetime>``, ``limit=100``...), or pass ``query``. The
    sheet has the import layout, so an export re-imports as it is::

        await bulkpo.aio.export_purchase_orders("open.xlsx", status="open")
    """
    return await _export_purchase_orders(
        _settings(settings),
        _query(query, filters),
        Path(output),
        columns=columns,
        on_progress=on_progress,
    )


async def purchase_orders_frame(
    *,
    settings: Settings | None = None,
    query: ExportQuery | None = None,
    columns: Sequence[str] | None = None,
    **filters: Any,
) -> pandas.DataFrame:
    """The POs matching the filters as a pandas DataFrame, one row per line item.

    The columns are the export's (PO Number, Status, ..., Unit Cost); dates are
    datetime64 and numbers numeric, ready for ``groupby``::

        frame = await bulkpo.aio.purchase_orders_frame(status="open")
        frame.groupby("Seller")["Quantity"].sum()
    """
    import pandas

    headers, rows = await purchase_order_rows(_settings(settings), _query(query, filters), columns)
    frame = pandas.DataFrame.from_records(rows, columns=headers)
    for header in headers:
        if frame[header].map(lambda v: isinstance(v, dt.date)).any():
            frame[header] = pandas.to_datetime(frame[header])
    return frame


def _query(query: ExportQuery | None, filters: dict[str, Any]) -> ExportQuery:
    if query is not None and filters:
        raise UsageError("pass either query= or filter keywords, not both")
    return query if query is not None else ExportQuery(**filters)


async def export_shipments(
    output: Path | str,
    *,
    settings: Settings | None = None,
    query: ShipmentQuery | None = None,
    **filters: Any,
) -> ShipmentExportResult:
    """Write the shipments matching the filters (:class:`ShipmentQuery` fields) to a
    workbook with Shipments, Legs, Milestones, Summary and Query sheets::

        await bulkpo.aio.export_shipments("ocean.xlsx", transportation_mode="ocean")
    """
    if query is not None and filters:
        raise UsageError("pass either query= or filter keywords, not both")
    chosen = query if query is not None else ShipmentQuery(**filters)
    return await _export_shipments(_settings(settings), chosen, Path(output))


# ---------------------------------------------------------------- tracking


@dataclass
class TrackResult:
    """One row per booking or shipment tracked, in the order asked."""

    rows: list[TrackRow]
    left_out: int = 0
    """Rows of the source file not tracked: an import report's rows that did not go through."""

    @property
    def failed(self) -> list[TrackRow]:
        """The rows that could not be fetched (their ``message`` says why)."""
        return [row for row in self.rows if not row.fetched]


def _targets(
    source: Path | str | None, bookings: Sequence[str], shipments: Sequence[int]
) -> TrackTargets:
    read = read_targets(Path(source)) if source is not None else TrackTargets([])
    targets = read.targets + [TrackTarget(booking_name=name) for name in bookings]
    targets += [TrackTarget(shipment_id=sid) for sid in shipments]
    return TrackTargets(targets, read.left_out)


async def track(
    source: Path | str | None = None,
    *,
    bookings: Sequence[str] = (),
    shipments: Sequence[int] = (),
    settings: Settings | None = None,
    wait: TrackWait | None = None,
    on_poll: Callable[[int, float], None] = lambda _waiting, _pause: None,
) -> TrackResult:
    """Where booked freight is: booking status, shipment, ETD/ETA, leg and milestone.

    ``source`` is a bookings import's journal, its report, a bookings workbook
    or an earlier track output; ``bookings`` and ``shipments`` add names and ids::

        result = await bulkpo.aio.track(bookings=["BK-2026-001"])
    """
    read = _targets(source, bookings, shipments)
    if not read.targets:
        raise UsageError("name what to track: a file, booking names or shipment ids")
    rows = await track_bookings(_settings(settings), read.targets, wait=wait, on_poll=on_poll)
    return TrackResult(rows, read.left_out)


@dataclass
class DocumentsResult:
    """One row per document (downloaded, already there, or failed), and the index file."""

    rows: list[DocumentRow]
    index: Path
    skipped: list[str] = field(default_factory=list)

    def count(self, status: DocumentStatus) -> int:
        return sum(row.status is status for row in self.rows)


async def download_documents(
    shipments: Sequence[int] = (),
    *,
    directory: Path | str = Path("documents"),
    source: Path | str | None = None,
    types: Sequence[str] | None = None,
    overwrite: bool = False,
    index: Path | str | None = None,
    settings: Settings | None = None,
    on_skipped: Callable[[str], None] = lambda _line: None,
) -> DocumentsResult:
    """Download shipments' documents into ``directory/<shipment id>/`` and write an index.

    ``source`` adds every shipment of a track output or a bookings journal;
    bookings not confirmed yet are listed in ``skipped`` with the reason (and
    handed to ``on_skipped`` as found). A re-run fetches only what is missing::

        await bulkpo.aio.download_documents([1200000], types=["commercial_invoice"])
    """
    settings = _settings(settings)
    ids = list(shipments)
    skipped: list[str] = []
    if source is not None:
        targets = targets_from_file(Path(source))
        ids += [t.shipment_id for t in targets if t.shipment_id is not None]
        others = [t for t in targets if t.shipment_id is None]
        for tracked in await track_bookings(settings, others) if others else []:
            if tracked.shipment_id is not None:
                ids.append(tracked.shipment_id)
            else:
                why = "not confirmed yet, no shipment"
                if tracked.state is TrackState.FAILED:
                    why = tracked.message
                skipped.append(f"{tracked.target.label()}: skipped ({why})")
                on_skipped(skipped[-1])
    if not ids:
        raise UsageError("name the shipments: shipment ids or a source file")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    rows = await download_shipment_documents(
        settings, ids, folder, types=types or None, overwrite=overwrite
    )
    index_path = Path(index) if index is not None else folder / "index.csv"
    _write_index(index_path, rows)
    return DocumentsResult(rows, index_path, skipped)
