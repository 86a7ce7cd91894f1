"""Filtered purchase-order lists -> rows in the import layout -> a workbook; report profiles.

Filters go to the API as ``f.`` parameters (nothing is filtered after download).
Pages and line items are fetched under the same pacer and retries as imports, line
items a bounded number at a time, and each PO's rows are written as soon as its
turn in the API's order comes, so memory stays flat in the number of POs: only the
Summary's tallies are kept. Rows are exactly what an import would send back, so an
export re-imports as it is.

Example::

    query = ExportQuery(status="open", created_after=parse_moment("2026-10-01", None))
    result = asyncio.run(export_purchase_orders(settings, query, Path("open.xlsx")))
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import itertools
import json
import re
import sqlite3
import tempfile
import tomllib
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bulkpo import cells
from bulkpo.columns import METADATA_PREFIX, PURCHASE_ORDER_COLUMNS, Column, ColumnType
from bulkpo.config import Settings
from bulkpo.errors import RunStopped, UsageError
from bulkpo.flexport.client import FlexportClient, Page
from bulkpo.flexport.filters import iso, purchase_order_filters
from bulkpo.flexport.models import PurchaseOrder
from bulkpo.flexport.payloads import LINE_READ_FIELDS, purchase_order_from_read
from bulkpo.sheets.export_writer import (
    CellKind,
    ExportColumn,
    ExportSink,
    SummaryTable,
    csv_export,
    jsonl_export,
    xlsx_export,
)
from bulkpo.submit import Caller, Pacer, RetryPolicy

__all__ = [
    "FORMATS",
    "ExportProgress",
    "ExportQuery",
    "ExportResult",
    "ExportSummary",
    "Profile",
    "ReportWindow",
    "build_query",
    "choose_columns",
    "export_purchase_orders",
    "load_profile",
    "merge_options",
    "output_path",
    "parse_moment",
    "report_window",
    "rows_for_po",
]

PAGE_SIZE = 100
FORMATS = ("xlsx", "csv", "jsonl")
PO_STATUSES = ("open", "closed", "cancelled")
ROLES = ("buyer", "seller")
DIRECTIONS = ("asc", "desc")

# ---------------------------------------------------------------- query


@dataclass(frozen=True)
class ExportQuery:
    """Which purchase orders to export: the PO list endpoint's filters, and a limit.

    Times must be time-zone aware; ``window`` only describes how the created
    bounds were chosen (for the Query sheet).
    """

    status: str | None = None
    archived: bool | None = None
    buyer_ref: str | None = None
    seller_ref: str | None = None
    role: str | None = None
    shipment_id: int | None = None
    name: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    direction: str | None = None
    limit: int | None = None
    window: str | None = None

    def __post_init__(self) -> None:
        for option, value, allowed in (
            ("--status", self.status, PO_STATUSES),
            ("--role", self.role, ROLES),
            ("--direction", self.direction, DIRECTIONS),
        ):
            if value is not None and value not in allowed:
                raise UsageError(f"{option} {value!r}: expected one of {', '.join(allowed)}")
        if self.limit is not None and self.limit < 1:
            raise UsageError(f"--limit {self.limit}: expected a positive number of POs")
        for option, moment in self._moments():
            if moment is not None and moment.tzinfo is None:
                raise UsageError(f"{option} {moment.isoformat()}: needs a time zone")

    def _moments(self) -> tuple[tuple[str, dt.datetime | None], ...]:
        return (
            ("--created-after", self.created_after),
            ("--created-before", self.created_before),
            ("--updated-after", self.updated_after),
            ("--updated-before", self.updated_before),
        )

    def params(self) -> dict[str, str]:
        """The query parameters of ``GET /purchase_orders`` (without page and per)."""
        return purchase_order_filters(
            status=self.status,
            archived=self.archived,
            buyer_ref=self.buyer_ref,
            seller_ref=self.seller_ref,
            role=self.role,
            shipment_id=self.shipment_id,
            name=self.name,
            created_after=self.created_after,
            created_before=self.created_before,
            updated_after=self.updated_after,
            updated_before=self.updated_before,
            direction=self.direction,
        )



def zone(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name`` (None: the machine's local zone)."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {name!r}: not a known time zone (use a name like Europe/Berlin or UTC)"
        ) from None


def localize(naive: dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
    """A wall-clock time in ``tz``, or in the local zone (with its DST) when None."""
    return naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()


def now_in(tz: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.now(tz) if tz is not None else dt.datetime.now().astimezone()


_MOMENT_HELP = "expected a date (2026-10-01) or date-time (2026-10-01T08:00, optional +02:00)"


def parse_moment(value: str | dt.date, tz: dt.tzinfo | None, option: str = "") -> dt.datetime:
    """A date or date-time as an aware moment; a bare date means midnight in ``tz``."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        text = value.strip()
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise UsageError(f"{option} {value!r}: {_MOMENT_HELP}".strip()) from None
    return moment if moment.tzinfo is not None else localize(moment, tz)


# ---------------------------------------------------------------- report windows


@dataclass(frozen=True)
class ReportWindow:
    """Created-at bounds chosen by --month, --last-month or --since: [start, end)."""

    label: str
    start: dt.datetime
    end: dt.datetime | None
    month: str | None = None  # "2026-10" for month windows (the {month} of a file name)

    def bounds(self) -> tuple[dt.datetime, dt.datetime | None]:
        """``f.created_at.gt`` / ``.lt`` values: the API's bounds are strict, so the
        lower one is moved a millisecond back to keep a PO created at midnight."""
        return self.start - dt.timedelta(milliseconds=1), self.end


_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_SINCE = re.compile(r"(\d+)\s*([hdw])", re.IGNORECASE)
_SINCE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def _month_window(year: int, month: int, tz: dt.tzinfo | None, label: str) -> ReportWindow:
    start = localize(dt.datetime(year, month, 1), tz)
    end = localize(dt.datetime(year + month // 12, month % 12 + 1, 1), tz)
    return ReportWindow(label, start, end, f"{year:04d}-{month:02d}")


def report_window(
    *,
    month: str | None = None,
    last_month: bool = False,
    since: str | None = None,
    now: dt.datetime,
    tz: dt.tzinfo | None,
) -> ReportWindow | None:
    """The created-at window one of --month, --last-month or --since asks for (or None)."""
    given = [name for name, v in (("--month", month), ("--last-month", last_month),
                                  ("--since", since)) if v]  # fmt: skip
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} are alternatives: give one report window")
    if month:
        found = _MONTH.fullmatch(month.strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            raise UsageError(f"--month {month!r}: expected a month like 2026-10")
        year, number = int(found.group(1)), int(found.group(2))
        return _month_window(year, number, tz, f"month {year:04d}-{number:02d}")
    if last_month:
        year, number = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
        return _month_window(year, number, tz, f"last month ({year:04d}-{number:02d})")
    if since:
        found = _SINCE.fullmatch(since.strip())
        if found:
            amount = dt.timedelta(**{_SINCE_UNITS[found.group(2).lower()]: int(found.group(1))})
            return ReportWindow(f"since {since.strip()}", now - amount, None)
        start = parse_moment(since, tz, "--since")
        return ReportWindow(f"since {iso(start)}", start, None)
    return None


_WINDOW_KEYS = ("month", "last_month", "since")
_CREATED_KEYS = ("created_after", "created_before")


def merge_options(profile: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """A profile's options overridden by the command line's (None/False = not given).

    Time bounds on the command line (a window or created bounds) replace the
    profile's window and created bounds as a whole.
    """
    given = {
        k: v for k, v in given.items() if v is not None and not (k == "last_month" and not v)
    }
    merged = dict(profile)
    if any(k in given for k in (*_WINDOW_KEYS, *_CREATED_KEYS)):
        for key in (*_WINDOW_KEYS, *_CREATED_KEYS):
            merged.pop(key, None)
    merged.update(given)
    return merged


def build_query(
    options: Mapping[str, Any], *, now: dt.datetime, tz: dt.tzinfo | None
) -> tuple[ExportQuery, ReportWindow | None]:
    """An :class:`ExportQuery` from option values by name (as the CLI and profiles use)."""
    window = report_window(
        month=options.get("month"),
        last_month=bool(options.get("last_month")),
        since=options.get("since"),
        now=now,
        tz=tz,
    )
    explicit = [f"--{k.replace('_', '-')}" for k in _CREATED_KEYS if options.get(k) is not None]
    if window is not None and explicit:
        raise UsageError(
            f"the report window ({window.label}) sets the created-at bounds; "
            f"leave out {' and '.join(explicit)}"
        )

    def moment(key: str) -> dt.datetime | None:
        value = options.get(key)
        return None if value is None else parse_moment(value, tz, f"--{key.replace('_', '-')}")

    created_after, created_before = moment("created_after"), moment("created_before")
    if window is not None:
        created_after, created_before = window.bounds()
    shipment = options.get("shipment_id")
    try:
        shipment_id = None if shipment is None else int(shipment)
    except (TypeError, ValueError):
        raise UsageError(f"--shipment-id {shipment!r}: expected a Flexport shipment id") from None
    query = ExportQuery(
        status=options.get("status"),
        archived=options.get("archived"),
        buyer_ref=options.get("buyer_ref"),
        seller_ref=options.get("seller_ref"),
        role=options.get("role"),
        shipment_id=shipment_id,
        name=options.get("name"),
        created_after=created_after,
        created_before=created_before,
        updated_after=moment("updated_after"),
        updated_before=moment("updated_before"),
        direction=options.get("direction"),
        limit=options.get("limit"),
        window=window.label if window else None,
    )
    return query, window


# ---------------------------------------------------------------- profiles

_PROFILE_KEYS = ("output", "window", "tz", "columns", "filters")
_FILTER_KEYS = (
    "status", "archived", "buyer_ref", "seller_ref", "role", "shipment_id", "name",
    "created_after", "created_before", "updated_after", "updated_before", "direction", "limit",
)  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """A saved report: filters, columns, window and output name pattern (a TOML file)."""

    path: Path
    options: dict[str, Any] = field(default_factory=dict)  # as build_query takes them
    columns: tuple[str, ...] | None = None
    output: str | None = None
    tz: str | None = None


def load_profile(path: Path) -> Profile:
    """Read a report profile; any problem is a UsageError naming the file."""

    def bad(problem: str) -> UsageError:
        return UsageError(f"profile {path}: {problem}")

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise bad(f"cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise bad("not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise bad(f"not valid TOML ({exc})") from None
    for key in data:
        if key not in _PROFILE_KEYS:
            raise bad(f"unknown setting {key!r} (known: {', '.join(_PROFILE_KEYS)})")
    options: dict[str, Any] = {}
    filters = data.get("filters", {})
    if not isinstance(filters, dict):
        raise bad("[filters] must be a table of filter = value")
    for key, value in filters.items():
        if key not in _FILTER_KEYS:
            raise bad(f"unknown filter {key!r} (known: {', '.join(_FILTER_KEYS)})")
        expected: type | tuple[type, ...] = str
        if key == "archived":
            expected = bool
        elif key in ("limit", "shipment_id"):
            expected = int
        elif key.endswith(("_after", "_before")):
            expected = (str, dt.date)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise bad(f"filter {key} = {value!r} has the wrong type")
        options[key] = value
    window = data.get("window")
    if window is not None:
        if not isinstance(window, str) or not window.strip():
            raise bad('window must be "last-month", a month like "2026-10", or "30d"')
        text = window.strip().lower()
        if text == "last-month":
            options["last_month"] = True
        elif _MONTH.fullmatch(text):
            options["month"] = text
        elif _SINCE.fullmatch(text):
            options["since"] = text
        else:
            raise bad(f'window {window!r}: expected "last-month", a month like "2026-10", or "30d"')
        if any(k in options for k in _CREATED_KEYS):
            raise bad("give either a window or created_after/created_before filters, not both")
    columns = data.get("columns")
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise bad("columns must be a list of column names")
        try:
            choose_columns(columns)
        except UsageError as exc:
            raise bad(str(exc)) from None
    for key in ("output", "tz"):
        if key in data and not isinstance(data[key], str):
            raise bad(f"{key} must be a string")
    profile = Profile(
        Path(path),
        options,
        tuple(columns) if columns is not None else None,
        data.get("output"),
        data.get("tz"),
    )
    try:
        zone(profile.tz)
        if profile.output is not None:
            output_path(profile.output, month="2026-01", date="2026-01-31")
        build_query(options, now=dt.datetime.now(dt.UTC), tz=dt.UTC)
    except UsageError as exc:
        raise bad(str(exc)) from None
    return profile


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
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UsageError(f"-o {path}: the output must end in .xlsx, .csv or .jsonl")
    return suffix


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
    "line_number": _line("line_item_number"),
    "sku": _nested("product", "sku"),
    "product_name": _nested("product", "name"),
    "quantity": _line("units"),
    "unit_of_measure": _line("unit_of_measure"),
    "unit_cost": _nested("unit_cost", "amount"),
    "currency": _nested("unit_cost", "currency_code"),
    "hs_code": lambda _b, line: _first_hs_code(line),
}


def _typed(column: Column, value: Any) -> Any:
    """A value as the cell should hold it: dates as dates, counts as ints, money as Decimal."""
    return cells.write(column, value)


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
        row = {
            col.key: _typed(col, _VALUES[col.key](body, line))
            for col in PURCHASE_ORDER_COLUMNS.columns
        }
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


@dataclass
class ExportSummary:
    """Counts and quantities by status, by supplier and by month of cargo-ready date."""

    by_status: dict[str, Tally] = field(default_factory=dict)
    by_seller: dict[str, Tally] = field(default_factory=dict)
    by_month: dict[str, Tally] = field(default_factory=dict)

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Count one PO's rows."""
        if not rows:
            return
        first = rows[0]
        ready = first.get("cargo_ready_date")
        keys = (
            (self.by_status, first.get("status") or "(none)"),
            (self.by_seller, first.get("seller_name") or "(no seller)"),
            (self.by_month, ready.strftime("%Y-%m") if isinstance(ready, dt.date) else "(none)"),
        )
        units = sum(row["quantity"] for row in rows if isinstance(row.get("quantity"), int))
        lines = sum(1 for row in rows if row.get("sku") is not None)
        for tallies, key in keys:
            tally = tallies.setdefault(str(key), Tally())
            tally.pos += 1
            tally.lines += lines
            tally.units += units

    def tables(self) -> list[SummaryTable]:
        headers = ("Purchase orders", "Lines", "Units")

        def rows(tallies: dict[str, Tally], order: list[str]) -> list[tuple[object, ...]]:
            return [(k, tallies[k].pos, tallies[k].lines, tallies[k].units) for k in order]

        statuses = sorted(self.by_status, key=lambda s: (s not in PO_STATUSES, s))
        sellers = sorted(self.by_seller, key=lambda s: (-self.by_seller[s].units, s))
        months = sorted(self.by_month, key=lambda m: (m.startswith("("), m))
        return [
            SummaryTable("By status", ("Status", *headers), rows(self.by_status, statuses), 1),
            SummaryTable("By supplier", ("Supplier", *headers), rows(self.by_seller, sellers)),
            SummaryTable(
                "By month of cargo-ready date",
                ("Cargo-ready month", *headers),
                rows(self.by_month, months),
                3,
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


async def _paced(caller: Caller, call: Callable[[], Any]) -> Any:
    try:
        return await caller.call(call)
    except RunStopped as stopped:
        raise stopped.cause from None


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
    params = query.params()
    per = min(PAGE_SIZE, query.limit or PAGE_SIZE)
    gate = asyncio.Semaphore(concurrency)
    ahead: deque[asyncio.Task[tuple[dict[str, Any], list[dict[str, Any]]]]] = deque()
    window = max(concurrency * 4, 8)
    stored: LineStore | None = None

    async def with_lines(po: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if stored is not None:
            lines = stored.lines(int(po["id"]))
            if lines:
                return po, lines
            # Not in the snapshot (a PO created meanwhile, or one without lines).
        async with gate:
            items = await _paced(caller, lambda: api.purchase_order_line_items(po["id"]))
        return po, [line.model_dump(mode="json", by_alias=True) for line in items]

    def fetch_page(number: int) -> asyncio.Task[Page]:
        return asyncio.create_task(
            _paced(caller, functools.partial(api.purchase_order_page, params, number, per=per))
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
            if lines_task is not None:
                stored = await lines_task
                lines_task = None
            on_page(page)
            items = page.items if wanted is None else page.items[:wanted]
            for item in items:
                po = PurchaseOrder.model_validate(item).model_dump(mode="json", by_alias=True)
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


PAGES_AHEAD = 4
"""PO pages requested ahead of the one being written (each holds at most 100 POs)."""

BULK_MIN_POS = 200
"""Below this many POs, fetching lines PO by PO is never much slower."""


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
            "CREATE TABLE lines (id INTEGER PRIMARY KEY, po_id INTEGER, body TEXT NOT NULL)"
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
                rows.append((int(item["id"]), int(po_id), json.dumps(kept)))
        # Pages fetched side by side may overlap if lines move meanwhile: ids are unique.
        self._db.executemany("INSERT OR IGNORE INTO lines VALUES (?, ?, ?)", rows)
        self.count += len(rows)

    def index(self) -> None:
        self._db.execute("CREATE INDEX lines_po ON lines (po_id, id)")

    def lines(self, po_id: int) -> list[dict[str, Any]]:
        found = self._db.execute(
            "SELECT body FROM lines WHERE po_id = ? ORDER BY id", (po_id,)
        ).fetchall()
        return [json.loads(body) for (body,) in found]

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
    first: Page = await _paced(
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
            return await _paced(  # type: ignore[no-any-return]
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


def _opener(fmt: str) -> Callable[[Path, list[ExportColumn]], AbstractContextManager[Any]]:
    if fmt == "xlsx":
        return lambda path, columns: xlsx_export(
            path, columns, sheet_name=PURCHASE_ORDER_COLUMNS.sheet_name
        )
    return csv_export if fmt == "csv" else jsonl_export


def safe_url(url: str) -> str:
    """A base URL fit to record: no user:password, no query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


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


async def _import_layout(
    api: FlexportClient,
    caller: Caller,
    query: ExportQuery,
    keys: list[str],
    *,
    grow: bool,
    on_column: Callable[[ExportColumn], None] = lambda _c: None,
    on_page: Callable[[Page], None] = lambda _p: None,
) -> AsyncIterator[tuple[list[dict[str, Any]], list[list[Any]]]]:
    """Each matching PO's rows (by key) and cells (in ``keys`` order); with ``grow``,
    a metadata key seen for the first time is appended to ``keys`` and announced."""
    known = set(keys)
    async for po, lines in purchase_orders_with_lines(
        api, caller, query, concurrency=api.settings.concurrency, on_page=on_page
    ):
        rows = rows_for_po(po, lines)
        if grow:
            for row in rows:
                for key in row:
                    if key not in known:
                        known.add(key)
                        keys.append(key)
                        on_column(_export_column(key))
        yield rows, [[row.get(key) for key in keys] for row in rows]


async def purchase_order_rows(
    settings: Settings, query: ExportQuery, columns: Sequence[str] | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The export's headers and typed cells in memory (for a DataFrame), not a file."""
    chosen = choose_columns(columns)
    keys = list(chosen or PURCHASE_ORDER_COLUMNS.keys)
    caller = Caller(Pacer(settings.rate), RetryPolicy(max_retries=settings.max_retries))
    cells: list[list[Any]] = []
    async with FlexportClient(settings.model_copy(update={"per_page": PAGE_SIZE})) as api:
        async for _rows, lines in _import_layout(api, caller, query, keys, grow=chosen is None):
            cells.extend(lines)
    width = len(keys)
    headers = [_export_column(key).header for key in keys]
    return headers, [line + [None] * (width - len(line)) for line in cells]


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
    appears only when complete.
    """
    path = Path(path)
    fmt = output_format(path)
    keys = choose_columns(columns)
    fixed = keys is None
    keys = list(keys or PURCHASE_ORDER_COLUMNS.keys)
    started = dt.datetime.now(dt.UTC)
    settings = settings.model_copy(update={"per_page": PAGE_SIZE})
    caller = Caller(Pacer(settings.rate), RetryPolicy(max_retries=settings.max_retries))
    summary = ExportSummary()
    pages = pos_count = row_count = 0
    total: int | None = None

    def on_page(page: Page) -> None:
        nonlocal pages, total
        pages += 1
        total = page.total_count if query.limit is None else min(page.total_count or 0, query.limit)

    with _opener(fmt)(path, [_export_column(k) for k in keys]) as sink:
        out: ExportSink = sink
        async with FlexportClient(settings) as api:
            async for rows, cells in _import_layout(
                api, caller, query, keys, grow=fixed, on_column=out.add_column, on_page=on_page
            ):
                summary.add(rows)
                for line in cells:
                    out.append(line)
                pos_count += 1
                row_count += len(rows)
                if on_progress is not None:
                    on_progress(ExportProgress(pages, pos_count, row_count, total))
        if fmt == "xlsx":
            sink.summary = summary.tables()
            sink.query = query_rows(
                query,
                settings,
                started=started,
                pos=pos_count,
                rows=row_count,
                columns=None if fixed else keys,
                profile=profile,
            )
    return ExportResult(row_count, pos_count, path)
