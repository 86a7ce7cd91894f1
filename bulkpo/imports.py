"""Import a file of purchase orders, bookings or both: read, validate, submit, a result per row.

The library behind ``bulkpo import``: :func:`load_workbook` finds the PO sheet
and the bookings sheet and validates them without any network;
:func:`import_workbook` submits the POs, then the bookings (checking the PO
numbers they name against the file, the journal and Flexport first), through the
engine in one journaled run, and returns one :class:`~bulkpo.report.RowResult`
per data row of each sheet. :func:`import_purchase_orders` is the PO-only form.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import (
    AsyncIterator,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any, Literal

import httpx

from bulkpo.bookings import (
    KIND_BOOKING,
    BookingPages,
    BookingSubmitter,
    BookingUnit,
    PurchaseOrderLines,
    PurchaseOrderRefs,
    list_purchase_orders,
    look_up_purchase_orders,
    named_po_numbers,
    plan_bookings,
    read_booking_pages,
    refs_of_file_po,
    validate_booking_sheet,
)
from bulkpo.collector import paused
from bulkpo.columns import (
    BOOKING_COLUMNS,
    COLUMN_SETS,
    NETWORK_COLUMNS,
    NETWORK_SHEET_NAMES,
    PURCHASE_ORDER_COLUMNS,
    Kind,
    fold_header,
)
from bulkpo.config import BookingDefaults, ReadLimits, Settings
from bulkpo.engine.exactly_once import OnExisting, Outcome, UnitResult, run_units
from bulkpo.engine.journal import Journal, account_fingerprint, journal_lock
from bulkpo.engine.pacing import Caller, LiveStats, Pacer, caller_for
from bulkpo.errors import ApiError, ConfigError, RunStopped, UsageError
from bulkpo.flexport.client import FlexportClient
from bulkpo.flexport.filters import BOOKINGS as BOOKINGS_ROUTE
from bulkpo.flexport.filters import COMPANY_ENTITIES, LOCATIONS
from bulkpo.flexport.filters import PURCHASE_ORDERS as PURCHASE_ORDERS_ROUTE
from bulkpo.issues import IssueCode
from bulkpo.layouts import apply_layout, divide_by_price_unit, join_headers
from bulkpo.mapping import HeaderMap, map_headers
from bulkpo.network import KIND_ENTITY, NetworkValidation, validate_network_sheet
from bulkpo.network.submit import import_network
from bulkpo.purchase_orders import validate_purchase_orders
from bulkpo.purchase_orders.snapshot import Snapshot, read_snapshot
from bulkpo.purchase_orders.submit import (
    KIND_PO,
    PurchaseOrderSubmitter,
    PurchaseOrderUnit,
    plan_purchase_orders,
)
from bulkpo.report import ImportResult, ImportStats, RowResult, SheetResult
from bulkpo.saved_mapping import (
    SavedMapping,
    check_mapping,
    find_mapping,
    mapping_from_dict,
    mapping_toml,
    read_mapping,
)
from bulkpo.sheets.reader import read_table, read_tables
from bulkpo.table import CellRef, Issue, Severity, Table
from bulkpo.validation import ValidationResult

DateOrder = Literal["dmy", "mdy"]


@dataclass
class ImportOptions:
    on_existing: OnExisting = OnExisting.SKIP
    rate: float | None = None
    concurrency: int | None = None
    journal: Path | None = None
    resume: bool = False
    target: str | None = None
    """What the API is, for the journal (default: the base URL; the CLI's sandbox,
    on a new port each time, is named by its state file instead)."""
    recorded: dict[str, Any] = field(default_factory=dict)
    """More options the journal records with the run (the CLI's sheet, --sandbox...)."""
    read_pages: bool = True
    """Read what Flexport holds in list pages when that costs fewer requests than
    one lookup per PO (False: always one lookup per PO, the old way)."""
    live: LiveStats | None = None
    """Follows the run's requests, retries and 429 answers while it goes on (a progress bar)."""


# Options a resumed run takes from the journal; given again, they must not differ.
RESUMED_OPTIONS = (
    "date_order", "decimal_comma", "sheet", "header_row", "map_file", "headers_file",
    "on_existing", "sandbox", "config",
)
# The command-line flag of a run option whose name is not its flag's.
OPTION_FLAGS = {"map_file": "--map", "headers_file": "--headers"}
# Options a resumed run takes from the journal unless given: pacing changes nothing sent.
PACING_OPTIONS = ("rate", "concurrency")


def stored_run_options(journal: Path) -> dict[str, Any]:
    """The options the journal's last run recorded ({} without a journal or a run)."""
    if not journal.is_file():
        return {}
    with Journal(journal) as opened:
        last = opened.last_run_info()
    return dict(last.options) if last is not None else {}


def option_flag(name: str) -> str:
    """The command-line flag of a run option (``map_file`` -> ``--map``)."""
    return OPTION_FLAGS.get(name, "--" + name.replace("_", "-"))


def _shown(name: str, value: Any) -> str:
    flag = option_flag(name)
    if name == "decimal_comma" and value is not None:
        return "--decimal-comma" if value else "--decimal-point"
    if isinstance(value, bool) or value is None:
        return flag if value else f"no {flag}"
    return f"{flag} {value}"


def resumed_options(
    stored: Mapping[str, Any], given: Mapping[str, Any], explicit: Collection[str]
) -> dict[str, Any]:
    """The options of a resumed run: the stored ones, unless given; a conflict is refused.

    ``given`` holds every option's current value, ``explicit`` the names the
    user actually gave. A stored run option given with another value raises
    UsageError naming both (reading dates another way or sending elsewhere
    halfway through a run is never what was meant).
    """
    merged = dict(given)
    for name in RESUMED_OPTIONS:
        if name not in stored:
            continue
        if name in explicit and given.get(name) != stored[name]:
            raise UsageError(
                f"--resume: {_shown(name, given.get(name))} conflicts with "
                f"{_shown(name, stored[name])} of the run being resumed; leave it out to "
                "resume the run as it was, or start a new run without --resume"
            )
        merged[name] = stored[name]
    for name in PACING_OPTIONS:
        if name in stored and name not in explicit:
            merged[name] = stored[name]
    return merged


MappingArg = SavedMapping | Path | str | None


def _mapping(mapping: MappingArg) -> SavedMapping | None:
    if mapping is None or isinstance(mapping, SavedMapping):
        return mapping
    return read_mapping(mapping)


def saved_mappings(settings: Settings | None) -> list[SavedMapping]:
    """The mappings bulkpo.toml holds: ``[mappings.<name>]`` and a bare ``[columns]``."""
    if settings is None:
        return []
    found = [
        mapping_from_dict(data, name=name, where=f"bulkpo.toml [mappings.{name}]")
        for name, data in settings.mappings.items()
    ]
    for mapping in found:
        check_mapping(mapping, COLUMN_SETS[Kind(mapping.kind)])
    return found


def validate_po_table(
    table: Table,
    *,
    date_order: DateOrder | None = None,
    mapping: SavedMapping | None = None,
    mappings: Sequence[SavedMapping] = (),
    settings: Settings | None = None,
    headers: Table | None = None,
    decimal_comma: bool | None = None,
) -> ValidationResult:
    """Map a PO table's columns (a saved mapping first), make its ERP layout plain, validate.

    Without ``mapping``, a named mapping whose fingerprint is the table's header set is
    used; bulkpo.toml's ``[columns]`` and ``[constants]`` (``settings``) apply to every file.
    """
    columns = PURCHASE_ORDER_COLUMNS
    if mapping is None:
        mapping = find_mapping(table.headers, mappings)
    overrides = dict(settings.columns) if settings is not None else {}
    constants = dict(settings.constants) if settings is not None else {}
    if mapping is not None:
        check_mapping(mapping, columns)
        overrides.update(mapping.columns)
        constants.update(mapping.constants)
    header_map = map_headers(table, columns, defaults=constants, overrides=overrides)
    if mapping is not None:
        header_map.decisions.insert(0, f"mapping {mapping.name or '(given)'} used")
    if headers is not None:
        join_headers(table, header_map, headers, columns)
        header_map.missing = [k for k in header_map.missing if k not in header_map.column_of]
        header_map.issues = [
            i for i in header_map.issues
            if not (i.code == IssueCode.REQUIRED and i.header in _found_headers(header_map))
        ]
    _headers_only_question(table, header_map)
    apply_layout(table, header_map, columns, values=mapping.values if mapping else None)
    if date_order is None and header_map.date_order in ("dmy", "mdy"):
        date_order = "dmy" if header_map.date_order == "dmy" else "mdy"
    validation = validate_purchase_orders(
        table, columns, date_order=date_order, defaults=constants, header_map=header_map,
        decimal_comma=decimal_comma,
    )
    divide_by_price_unit(table, header_map, validation.purchase_orders)
    return validation


def _found_headers(header_map: HeaderMap) -> set[str]:
    return {PURCHASE_ORDER_COLUMNS.by_key(k).header for k in header_map.column_of}


def _headers_only_question(table: Table, header_map: HeaderMap) -> None:
    """A table of PO headers alone (EKKO, D365 headers V2) asks for its lines' file."""
    line_keys = {"sku", "product_name", "quantity", "unit_cost", "line_number"}
    if "po_number" not in header_map.column_of or line_keys & set(header_map.column_of):
        return
    header_map.issues = [i for i in header_map.issues if i.code != IssueCode.REQUIRED]
    header_map.issues.append(Issue(
        CellRef(table.sheet, table.header_row, header_map.column_of["po_number"]), "", "",
        IssueCode.REQUIRED, Severity.ERROR,
        "this file holds only PO headers (no item, quantity or price columns): which file "
        "holds the lines? Import the lines file with this one as its headers "
        "(headers=, --headers)",
        "import the line table with --headers this file",
    ))


@paused
def load_purchase_orders(
    path: Path,
    *,
    sheet: str | None = None,
    date_order: DateOrder | None = None,
    limits: ReadLimits | None = None,
    header_row: int | None = None,
    mapping: MappingArg = None,
    headers: Path | str | None = None,
    settings: Settings | None = None,
    decimal_comma: bool | None = None,
) -> tuple[Table, ValidationResult]:
    """Read and validate a PO file; no network.

    ``header_row`` (1-based) overrides header detection; ``mapping`` is a saved mapping
    (or its file); ``headers`` a file of PO headers joined to these lines on the PO number.
    """
    columns = COLUMN_SETS[Kind.PURCHASE_ORDERS]
    saved = _mapping(mapping)
    table = read_table(
        path,
        sheet=sheet,
        score_headers=columns.score,
        preferred_sheets=(columns.sheet_name,),
        expected_headers=[column.header for column in columns.required],
        limits=limits,
        header_row=header_row or (saved.header_row if saved else None),
    )
    head = (
        read_table(Path(headers), score_headers=columns.score, limits=limits)
        if headers is not None else None
    )
    validation = validate_po_table(
        table, date_order=date_order, mapping=saved, mappings=saved_mappings(settings),
        settings=settings, headers=head, decimal_comma=decimal_comma,
    )
    return table, validation


def map_file(
    path: Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    limits: ReadLimits | None = None,
    settings: Settings | None = None,
) -> str:
    """The mapping bulkpo would use for a PO or bookings file, as TOML (``bulkpo map FILE
    -o m.toml``); a file with no PO sheet but a bookings sheet gets a bookings mapping.

    Every matched column, every column it is unsure of (with its best guess, commented),
    every required field not found; read back with ``mapping=`` on load, validate or import.
    """
    columns = PURCHASE_ORDER_COLUMNS
    table = read_table(
        Path(path), sheet=sheet, score_headers=columns.score,
        preferred_sheets=(columns.sheet_name,), limits=limits, header_row=header_row,
    )
    if (_kind_of(table) or (None,))[0] is not Kind.PURCHASE_ORDERS:
        # No PO header row here: a bookings sheet's is found by every kind's headers.
        other = read_table(
            Path(path), sheet=sheet, score_headers=_any_kind_score, limits=limits,
            preferred_sheets=(BOOKING_COLUMNS.sheet_name,), header_row=header_row,
        )
        if (_kind_of(other) or (None,))[0] is Kind.BOOKINGS:
            columns, table = BOOKING_COLUMNS, other
    saved = find_mapping(table.headers, saved_mappings(settings), columns.kind)
    # bulkpo.toml's bare [columns] names purchase-order fields only.
    overrides = (
        dict(settings.columns) if settings is not None and columns is PURCHASE_ORDER_COLUMNS
        else {}
    )
    if saved is not None:
        overrides.update(saved.columns)
    header_map = map_headers(table, columns, overrides=overrides)
    return mapping_toml(table, header_map, columns)


def dry_run_bodies(
    validation: ValidationResult, defaults: BookingDefaults | None = None
) -> Iterator[dict[str, Any]]:
    """The exact request bodies an import would send, one per valid PO and booking, with rows.

    Booking links (``POST /booking_line_items``) need the ids Flexport gives, so
    they are not listed; a network location's ``company_id`` (its owner's id) reads
    ``(id of <owner ref>)``. A network ref the account holds already is not sent at all.
    """
    if isinstance(validation, NetworkValidation):
        for obj in validation.objects:
            route = COMPANY_ENTITIES if obj.kind == KIND_ENTITY else LOCATIONS
            yield {"method": "POST", "path": route, "rows": [obj.row], "body": obj.body()}
    for unit in plan_purchase_orders(validation.purchase_orders):
        yield {
            "method": "POST",
            "path": PURCHASE_ORDERS_ROUTE,
            "rows": unit.po.rows,
            "body": unit.body,
        }
    for booking in plan_bookings(validation.bookings, defaults or BookingDefaults()):
        yield {
            "method": "POST",
            "path": BOOKINGS_ROUTE,
            "rows": booking.rows,
            "body": booking.body,
        }


# ---------------------------------------------------------------- which sheets


SHEET_SCORE_MIN = 0.3
"""Below this a sheet's header row is not taken for a kind (an Instructions sheet scores ~0.05)."""


def _any_kind_score(headers: Any) -> float:
    cells = list(headers)
    return max(PURCHASE_ORDER_COLUMNS.score(cells), BOOKING_COLUMNS.score(cells),
               NETWORK_COLUMNS.score(cells))


_SHEET_KINDS = (Kind.PURCHASE_ORDERS, Kind.BOOKINGS, Kind.NETWORK)
_NETWORK_NAMES = {fold_header(name) for name in NETWORK_SHEET_NAMES}


def _kind_of(table: Table) -> tuple[Kind, float] | None:
    """The kind a sheet's header row looks most like, with its score; None below the bar."""
    scores = [(COLUMN_SETS[k].score(table.headers), k) for k in _SHEET_KINDS]
    score, kind = max(scores, key=lambda pair: pair[0])  # the first kind on a tie
    return (kind, score) if score >= SHEET_SCORE_MIN else None


_HIDDEN_SHEET = " (hidden in the workbook)"


def _classify(tables: dict[str, Table], *, asked: bool = False) -> dict[Kind, Table]:
    """The best sheet of each kind: the one named like the kind, else the best header row.
    A hidden sheet counts only when the user ``asked`` for it by name (``sheet=``)."""
    best: dict[Kind, tuple[float, Table]] = {}
    for table in tables.values():
        if table.hidden_sheet and not asked:
            continue  # said when it looks like PO data (validate_pos)
        looks = _kind_of(table)
        if looks is None:
            continue
        kind, score = looks
        named = table.sheet.casefold() == COLUMN_SETS[kind].sheet_name.casefold() or (
            kind is Kind.NETWORK and fold_header(table.sheet) in _NETWORK_NAMES)
        rank = score + (1.0 if named else 0.0)
        if kind not in best or rank > best[kind][0]:
            best[kind] = (rank, table)
    return {kind: table for kind, (_rank, table) in best.items()}


@dataclass
class Workbook:
    """The sheets of one input file to import, each read and validated (no network yet).

    The bookings' validation here checks PO numbers against nothing and takes refs
    only from the file's POs; :func:`import_workbook` validates them again with
    what Flexport knows.
    """

    path: Path
    purchase_orders: tuple[Table, ValidationResult] | None = None
    bookings: tuple[Table, ValidationResult] | None = None
    date_order: DateOrder | None = None
    decimal_comma: bool | None = None
    network: tuple[Table, NetworkValidation] | None = None
    """The entities and locations to create before the POs (sent first)."""
    booking_mapping: SavedMapping | None = None
    """The saved mapping of the bookings sheet's columns, used again by the import."""

    @property
    def kinds(self) -> list[Kind]:
        return [
            kind
            for kind, part in (
                (Kind.NETWORK, self.network),
                (Kind.PURCHASE_ORDERS, self.purchase_orders),
                (Kind.BOOKINGS, self.bookings),
            )
            if part is not None
        ]

    @property
    def parts(self) -> list[tuple[Table, ValidationResult]]:
        """The (table, validation) of each sheet read, in :attr:`kinds` order."""
        return [
            part for part in (self.network, self.purchase_orders, self.bookings)
            if part is not None
        ]

    def file_purchase_orders(self) -> dict[str, PurchaseOrderRefs]:
        if self.purchase_orders is None:
            return {}
        return {po.name: refs_of_file_po(po) for po in self.purchase_orders[1].purchase_orders}


@paused
def load_workbook(
    path: Path,
    *,
    sheet: str | None = None,
    date_order: DateOrder | None = None,
    defaults: BookingDefaults | None = None,
    limits: ReadLimits | None = None,
    header_row: int | None = None,
    mapping: MappingArg = None,
    headers: Path | str | None = None,
    settings: Settings | None = None,
    decimal_comma: bool | None = None,
) -> Workbook:
    """Find the PO sheet, the bookings sheet and the network sheet of a file and validate
    them; no network.

    A file with no bookings or network sheet is read exactly as a PO file always was;
    ``header_row``, ``mapping`` and ``headers`` are as for :func:`load_purchase_orders`.
    A second sheet of PO headers alone is joined to the lines; another sheet that
    looks like PO data is said, never ignored in silence.
    """
    found: dict[Kind, Table] = {}
    others: list[Table] = []
    saved = _mapping(mapping)
    workbook = _load_sheets(
        path, found, others, sheet=sheet, date_order=date_order, defaults=defaults, limits=limits,
        header_row=header_row, mapping=saved, headers=headers, settings=settings,
        decimal_comma=decimal_comma,
    )
    if saved is not None and saved.kind == Kind.BOOKINGS.value and workbook.bookings is None:
        raise ConfigError(f"mapping {saved.name or '(given)'} is for a bookings sheet and "
                          f"{Path(path).name} has none")
    network = found.get(Kind.NETWORK)
    if network is not None:
        for other in others:
            # On the table, so that the import's second check says it again.
            network.issues.append(Issue(
                CellRef(other.sheet, other.header_row, 0), "", "", IssueCode.UNKNOWN_COLUMN,
                Severity.WARNING,
                f"sheet '{other.sheet}' also looks like network data and is not imported "
                f"(sheet '{network.sheet}' is)",
                "put its rows on one network sheet, with Type entity or location",
            ))
        workbook.network = (network, validate_network_sheet(network, date_order=date_order))
    return workbook


def _load_sheets(
    path: Path,
    found: dict[Kind, Table],
    network_like: list[Table],
    *,
    sheet: str | None = None,
    date_order: DateOrder | None = None,
    defaults: BookingDefaults | None = None,
    limits: ReadLimits | None = None,
    header_row: int | None = None,
    mapping: MappingArg = None,
    headers: Path | str | None = None,
    settings: Settings | None = None,
    decimal_comma: bool | None = None,
) -> Workbook:
    """The PO and bookings sheets of :func:`load_workbook`; ``found`` receives each kind's
    sheet, ``network_like`` the other sheets that look like network data."""
    defaults = defaults or BookingDefaults()
    saved = _mapping(mapping)
    booking_mapping = None
    if saved is not None and saved.kind == Kind.BOOKINGS.value:
        # A bookings mapping is the bookings sheet's; the PO sheet is found as always.
        booking_mapping, saved = saved, None
    mappings = saved_mappings(settings)
    if header_row is not None or saved is not None or headers is not None:
        part = load_purchase_orders(
            path, sheet=sheet, date_order=date_order, limits=limits, header_row=header_row,
            mapping=saved, headers=headers, settings=settings, decimal_comma=decimal_comma,
        )
        workbook = Workbook(path, part, date_order=date_order, decimal_comma=decimal_comma)
        if sheet is None and len(part[0].sheet_names) > 1:
            # The header row, mapping and header table are the PO sheet's; the file's
            # bookings and network sheets are still read as they are, never dropped.
            tables = read_tables(path, score_headers=_any_kind_score, limits=limits,
                                 skip=(part[0].sheet,))
            kinds = _classify(tables)
            found.update((k, t) for k, t in kinds.items() if k is not Kind.PURCHASE_ORDERS)
            network_like.extend(_network_like(tables, found))
            _add_bookings(workbook, found.get(Kind.BOOKINGS), defaults, booking_mapping, mappings)
        return workbook
    if sheet is None:
        tables = read_tables(path, score_headers=_any_kind_score, limits=limits)
    else:
        tables = {
            sheet: read_table(path, sheet=sheet, score_headers=_any_kind_score, limits=limits)
        }
    found.update(_classify(tables, asked=sheet is not None))
    network_like.extend(_network_like(tables, found))
    _say_hidden_left_out(tables, found)

    def validate_pos(pos: Table) -> ValidationResult:
        others = [
            t for t in tables.values()
            if t is not pos and t is not found.get(Kind.BOOKINGS)
            and t is not found.get(Kind.NETWORK)
            and PURCHASE_ORDER_COLUMNS.score(t.headers) >= SHEET_SCORE_MIN
        ]
        head = next((t for t in others if _headers_only(t)), None)
        validation = validate_po_table(
            pos, date_order=date_order, mappings=mappings, settings=settings, headers=head,
            decimal_comma=decimal_comma,
        )
        for other in others:
            if other is head:
                continue
            validation.issues.append(Issue(
                CellRef(other.sheet, other.header_row, 0), "", "", IssueCode.UNKNOWN_COLUMN,
                Severity.WARNING,
                f"sheet '{other.sheet}'{_HIDDEN_SHEET if other.hidden_sheet else ''} also looks "
                f"like purchase-order data and is not imported (sheet '{pos.sheet}' is)",
                f"import it on its own with sheet='{other.sheet}' (--sheet)",
            ))
        return validation

    bookings = found.get(Kind.BOOKINGS)
    if bookings is None:
        pos = found.get(Kind.PURCHASE_ORDERS)
        if pos is None and Kind.NETWORK in found:
            return Workbook(path, date_order=date_order, decimal_comma=decimal_comma)
        part = (
            (pos, validate_pos(pos))
            if pos is not None
            # Neither kind recognised: read it as a PO file, whose reader says
            # precisely why it cannot be used.
            else load_purchase_orders(
                path, sheet=sheet, date_order=date_order, limits=limits, settings=settings,
                decimal_comma=decimal_comma,
            )
        )
        return Workbook(path, part, date_order=date_order, decimal_comma=decimal_comma)
    workbook = Workbook(path, date_order=date_order, decimal_comma=decimal_comma)
    pos = found.get(Kind.PURCHASE_ORDERS)
    if pos is not None:
        workbook.purchase_orders = (pos, validate_pos(pos))
    _add_bookings(workbook, bookings, defaults, booking_mapping, mappings)
    return workbook


def _add_bookings(
    workbook: Workbook, bookings: Table | None, defaults: BookingDefaults,
    mapping: SavedMapping | None, mappings: Sequence[SavedMapping],
) -> None:
    """Validate the bookings sheet against the file's POs, whose numbers are checked later;
    ``mapping`` (else the one of ``mappings`` with its header set) maps its columns."""
    if bookings is None:
        return
    workbook.booking_mapping = mapping or find_mapping(bookings.headers, mappings, Kind.BOOKINGS)
    workbook.bookings = (
        bookings,
        validate_booking_sheet(
            bookings,
            defaults,
            date_order=workbook.date_order,
            decimal_comma=workbook.decimal_comma,
            purchase_orders=workbook.file_purchase_orders(),
            check_po_numbers=False,
            mapping=workbook.booking_mapping,
        ),
    )


def _say_hidden_left_out(tables: dict[str, Table], found: dict[Kind, Table]) -> None:
    """A hidden sheet of bookings or network data that is not imported is said once, on the
    first sheet that is (a hidden sheet of PO data is said by the PO sheet's check, one of
    network data beside a network sheet with the other network-like sheets)."""
    imported = [found[k] for k in (Kind.PURCHASE_ORDERS, Kind.BOOKINGS, Kind.NETWORK)
                if k in found]
    if not imported:
        return
    for table in tables.values():
        looks = _kind_of(table) if table.hidden_sheet else None
        if looks is None or looks[0] is Kind.PURCHASE_ORDERS or any(
                table is t for t in imported):
            continue
        if looks[0] is Kind.NETWORK and Kind.NETWORK in found:
            continue  # said with the other network-like sheets
        imported[0].issues.append(Issue(
            CellRef(table.sheet, table.header_row, 0), "", "", IssueCode.UNKNOWN_COLUMN,
            Severity.WARNING,
            f"sheet '{table.sheet}'{_HIDDEN_SHEET} looks like {looks[0].value.replace('-', ' ')} "
            "data and is not imported",
            f"unhide it, or import it on its own with sheet='{table.sheet}' (--sheet)",
        ))


def _network_like(tables: dict[str, Table], found: dict[Kind, Table]) -> list[Table]:
    """The sheets that look like network data besides the one imported."""
    return [
        t for t in tables.values()
        if t is not found.get(Kind.NETWORK) and (_kind_of(t) or (None,))[0] is Kind.NETWORK
    ]


def _headers_only(table: Table) -> bool:
    """A sheet of PO numbers and PO fields with no line columns: a header table."""
    keys = {c.key for h in table.headers if h and (c := PURCHASE_ORDER_COLUMNS.match(h))}
    return "po_number" in keys and not keys & {"sku", "product_name", "quantity", "unit_cost"}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_journal_path(path: Path) -> Path:
    """``.bulkpo/journals/<name>-<hash of its full path>.sqlite`` in the working directory."""
    where = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    return Path(".bulkpo") / "journals" / f"{path.stem}-{where}.sqlite"


def issues_by_row(
    issues: Iterable[Issue], severity: Severity | None = None
) -> dict[int, list[Issue]]:
    """Issues grouped by their sheet row (one pass), optionally of one severity."""
    grouped: dict[int, list[Issue]] = {}
    for issue in issues:
        if issue.ref is not None and (severity is None or issue.severity is severity):
            grouped.setdefault(issue.ref.row, []).append(issue)
    return grouped


@paused
def validation_row_results(table: Table, validation: ValidationResult) -> list[RowResult]:
    """What ``bulkpo validate`` says of each data row: valid or invalid, with its issues."""
    issues = issues_by_row(validation.issues)
    skipped = validation.header_map.skipped_rows
    results = [
        RowResult(number, "skipped", message=f"not a PO line: {why}")
        for number, why in skipped.items()
    ]
    invalid = validation.invalid_rows
    for row in table.rows:
        number = row.number
        bad = invalid.get(number)
        if not bad:  # the common row: no message to join, its own list of its warnings
            results.append(RowResult(number, "valid", issues=issues.get(number, ())))
            continue
        results.append(
            RowResult(
                number,
                "invalid",
                message="; ".join(str(issue) for issue in bad),
                # a row held back by its PO's error carries that pointer as its issue
                issues=issues.get(number, []) + [
                    i for i in bad if i.code is IssueCode.PO_INVALID],
            )
        )
    return sorted(results, key=attrgetter("row"))


@paused
def validation_result(
    path: Path,
    *,
    sheet: str | None = None,
    date_order: DateOrder | None = None,
    limits: ReadLimits | None = None,
    header_row: int | None = None,
    mapping: MappingArg = None,
    headers: Path | str | None = None,
    settings: Settings | None = None,
    decimal_comma: bool | None = None,
) -> ImportResult:
    """What ``bulkpo validate`` finds in a file of purchase orders, bookings or both, read
    as an import reads it: one :class:`SheetResult` per sheet kind, each data row valid or
    invalid (a row that is not a PO line, such as a totals row, is skipped with the reason).

    No network: the PO numbers a booking names are checked against the file's POs only;
    the others (:func:`po_numbers_left_to_import`) are looked up in Flexport by the import.
    """
    workbook = load_workbook(
        path, sheet=sheet, date_order=date_order, limits=limits, header_row=header_row,
        mapping=mapping, headers=headers, settings=settings, decimal_comma=decimal_comma,
        defaults=settings.bookings if settings is not None else None,
    )
    return ImportResult(path, [
        SheetResult(kind, table, validation_row_results(table, validation), validation)
        for kind, (table, validation) in zip(workbook.kinds, workbook.parts, strict=True)
    ])


def po_numbers_left_to_import(result: ImportResult) -> list[str]:
    """The PO numbers the valid bookings name that the file's POs do not hold: a validation
    cannot say whether Flexport holds them, the import looks them up."""
    bookings = result.bookings
    if bookings is None or bookings.validation is None:
        return []
    pos = result.purchase_orders
    in_file = {po.name for po in pos.validation.purchase_orders} if (
        pos is not None and pos.validation is not None) else set()
    return sorted(named_po_numbers(bookings.validation) - in_file)


@paused
def dry_run_result(workbook: Workbook, defaults: BookingDefaults) -> ImportResult:
    """What an import would send, sending nothing: each row valid or invalid, and the bodies."""
    sheets = [
        SheetResult(kind, table, validation_row_results(table, validation), validation)
        for kind, (table, validation) in zip(workbook.kinds, workbook.parts, strict=True)
    ]
    requests = [
        body for _table, validation in workbook.parts
        for body in dry_run_bodies(validation, defaults)
    ]  # fmt: skip
    return ImportResult(workbook.path, sheets, requests=requests)


@paused
def row_results(
    table: Table, validation: ValidationResult, unit_results: dict[str, UnitResult]
) -> list[RowResult]:
    """Exactly one RowResult per data row: invalid, or its PO's result."""
    warnings = issues_by_row(validation.issues, Severity.WARNING)
    by_row: dict[int, UnitResult] = {}
    for result in unit_results.values():
        for number in result.rows:
            by_row[number] = result
    results = [
        RowResult(number, Outcome.SKIPPED.value, message=f"not a PO line: {why}")
        for number, why in validation.header_map.skipped_rows.items()
    ]
    for row in table.rows:
        errors = validation.invalid_rows.get(row.number)
        if errors:
            results.append(
                RowResult(
                    row.number,
                    Outcome.INVALID.value,
                    message="; ".join(str(issue) for issue in errors),
                    issues=[*errors, *warnings.get(row.number, [])],
                )
            )
            continue
        unit = by_row.get(row.number)
        if unit is None:
            results.append(
                RowResult(
                    row.number,
                    Outcome.FAILED.value,
                    message="not sent: the run stopped before this row (resume with --resume)",
                    issues=warnings.get(row.number, ()),
                )
            )
            continue
        results.append(
            RowResult(
                row.number,
                unit.outcome.value,
                unit.flexport_id,
                unit.message,
                warnings.get(row.number, ()),
                key=unit.key,
            )
        )
    return sorted(results, key=lambda r: r.row)


@dataclass
class _Run:
    """What the PO and booking phases of one import share: journal, run, pacing, client."""

    journal: Journal
    run_id: int
    pacer: Pacer
    caller: Caller
    api: FlexportClient
    stats: ImportStats


@asynccontextmanager
async def _run(
    path: Path,
    settings: Settings,
    options: ImportOptions,
    recorded: dict[str, Any],
    transport: httpx.AsyncBaseTransport | None,
) -> AsyncIterator[_Run]:
    journal_path = options.journal or default_journal_path(path)
    target = options.target or settings.base_url.rstrip("/")
    account = account_fingerprint(target, settings.account())
    with journal_lock(journal_path), Journal(journal_path) as journal:
        last = journal.last_run_info()
        digest = file_digest(path)
        stats = ImportStats()
        if options.resume and last is not None and last.base_url not in ("", target):
            raise UsageError(
                f"--resume: the run being resumed went to {last.base_url}, this one would go "
                f"to {target}; resume it against the same API, or start a new run without "
                "--resume"
            )
        if (
            options.resume and last is not None and last.input_digest == digest
            and last.account == account
        ):
            run_id = last.id
            journal.continue_run(run_id, account, recorded)
        else:
            if options.resume and last is not None and last.input_digest != digest:
                # Results of the old content cannot stand for the new one: a new
                # run checks every PO again (nothing is created twice either way).
                stats.notices.append(
                    f"{path.name} changed since the run it resumes; every row is checked again"
                )
            run_id = journal.start_run(
                str(path), digest, command="import", base_url=target, account=account,
                options=recorded,
            )
        foreign = journal.foreign_targets()
        if foreign:
            where = ", ".join(url or "an API not recorded" for url in foreign)
            stats.notices.append(
                f"the journal's earlier results were for another API or account ({where}); "
                f"they are ignored and every row is checked against {target}"
            )
        caller = caller_for(settings, rate=options.rate)
        pacer = caller.pacer
        if options.live is not None:
            options.live.attach(caller)
        started = time.monotonic()
        async with FlexportClient(settings, transport=transport) as api:
            yield _Run(journal, run_id, pacer, caller, api, stats)
        stats.elapsed = time.monotonic() - started
        stats.requests = caller.requests
        stats.retries = caller.retries
        stats.throttled = pacer.throttle_count
        stats.final_rate = pacer.rate


async def import_workbook(
    workbook: Workbook,
    settings: Settings,
    options: ImportOptions,
    *,
    on_result: Callable[[UnitResult], None] = lambda _r: None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ImportResult:
    """Submit the network sheet's entities and locations, then the POs, then the bookings,
    exactly once; a result for every data row.

    ``transport`` replaces the HTTP transport (tests use it to force a fault sequence).
    """
    journal_path = options.journal or default_journal_path(workbook.path)
    concurrency = options.concurrency or settings.concurrency
    sheets: list[SheetResult] = []
    stopped: RunStopped | None = None
    recorded = {
        "date_order": workbook.date_order,
        "on_existing": options.on_existing.value,
        "rate": options.rate,
        "concurrency": options.concurrency,
        **options.recorded,
    }
    async with _run(workbook.path, settings, options, recorded, transport) as run:

        def outcome_of(
            kind: Kind, table: Table, validation: ValidationResult,
            results: dict[str, UnitResult],
        ) -> SheetResult:
            return SheetResult(kind, table, row_results(table, validation, results), validation)

        if workbook.network is not None:
            table, network = workbook.network
            network_results: dict[str, UnitResult] = {}

            def collect(result: UnitResult) -> None:
                # An entity and a location may share a ref: both are kept.
                network_results[f"{result.kind}:{result.key}"] = result
                on_result(result)

            network, stopped = await import_network(
                table, network, api=run.api, caller=run.caller, journal=run.journal,
                run_id=run.run_id, resume=options.resume, concurrency=concurrency,
                stats=run.stats.events, on_result=collect, on_existing=options.on_existing,
            )
            sheets.append(outcome_of(Kind.NETWORK, table, network, network_results))
        if workbook.purchase_orders is not None:
            table, validation = workbook.purchase_orders
            results: dict[str, UnitResult] = {}
            if stopped is None:
                stopped = await _submit_purchase_orders(
                    run, validation, options, concurrency, results, on_result
                )
            sheets.append(outcome_of(Kind.PURCHASE_ORDERS, table, validation, results))
        if workbook.bookings is not None:
            table, validation = workbook.bookings
            booking_results: dict[str, UnitResult] = {}
            if stopped is None:
                try:
                    validation, known = await _recheck_bookings(
                        workbook, table, settings, run, concurrency,
                        read_pages=options.read_pages,
                    )
                except RunStopped as exc:
                    stopped = exc
                else:
                    stopped = await _submit_bookings(
                        run, known, validation, settings, options, concurrency,
                        booking_results, on_result,
                    )
            sheets.append(outcome_of(Kind.BOOKINGS, table, validation, booking_results))
        if stopped is None:
            run.journal.finish_run(run.run_id)
    cause = stopped.cause if stopped else None
    return ImportResult(workbook.path, sheets, run.stats, journal_path, cause)


def _collector(
    results: dict[str, UnitResult],
    on_result: Callable[[UnitResult], None],
    settled: Callable[[str], None] | None = None,
) -> Callable[[UnitResult], None]:
    """Keep each unit's result; ``settled`` (the run's list read) lets go of its unit."""

    def collect(result: UnitResult) -> None:
        if settled is not None:
            settled(result.key)
        results[result.key] = result
        on_result(result)

    return collect


async def _submit_purchase_orders(
    run: _Run,
    validation: ValidationResult,
    options: ImportOptions,
    concurrency: int,
    results: dict[str, UnitResult],
    on_result: Callable[[UnitResult], None],
) -> RunStopped | None:
    units = plan_purchase_orders(validation.purchase_orders)
    run.journal.register(run.run_id, KIND_PO, ((u.key, u.digest, u.po.rows) for u in units))
    try:
        snapshot = await _po_snapshot(run, units, options) if options.read_pages else None
    except RunStopped as exc:  # a wrong key: every PO stays pending, as for a lookup
        return exc
    submitter = PurchaseOrderSubmitter(
        run.api, run.caller, run.journal, run.run_id,
        on_existing=options.on_existing, resume=options.resume, stats=run.stats.events,
        snapshot=snapshot,
    )
    return await run_units(
        units, submitter.submit, concurrency=concurrency,
        on_result=_collector(
            results, on_result, snapshot.settled if snapshot is not None else None),
    )


async def _po_snapshot(
    run: _Run, units: Sequence[PurchaseOrderUnit], options: ImportOptions
) -> Snapshot | None:
    """What Flexport holds of the POs left to send, if list pages cost less than lookups."""
    if options.resume:
        # A resumed run's settled POs are not asked about again.
        units = [
            u for u in units
            if not ((r := run.journal.get(KIND_PO, u.key)) and r.run_id == run.run_id
                    and r.finished)
        ]
    try:
        return await read_snapshot(
            run.api, run.caller, run.journal, KIND_PO, units, stats=run.stats.events
        )
    except ApiError:
        # Every PO is then looked up one by one, as without a snapshot.
        run.stats.events["snapshot_failed"] = 1
        return None


async def _recheck_bookings(
    workbook: Workbook, table: Table, settings: Settings, run: _Run, concurrency: int,
    *, read_pages: bool = True,
) -> tuple[ValidationResult, dict[str, PurchaseOrderRefs]]:
    """Validate the bookings again, now knowing which PO numbers Flexport holds."""
    in_file = workbook.file_purchase_orders()
    first = validate_booking_sheet(
        table, settings.bookings, date_order=workbook.date_order,
        decimal_comma=workbook.decimal_comma, check_po_numbers=False,
        mapping=workbook.booking_mapping,
    )
    elsewhere = named_po_numbers(first) - set(in_file)
    listed = None
    if read_pages:
        try:
            listed = await list_purchase_orders(
                elsewhere, api=run.api, caller=run.caller, journal=run.journal)
        except ApiError:
            listed = None  # each PO is then looked up by name, as without pages
    in_flexport = listed if listed is not None else await look_up_purchase_orders(
        elsewhere, api=run.api, caller=run.caller, journal=run.journal, concurrency=concurrency
    )
    known = {**in_flexport, **in_file}
    validation = validate_booking_sheet(
        table, settings.bookings, date_order=workbook.date_order,
        decimal_comma=workbook.decimal_comma, purchase_orders=known,
        mapping=workbook.booking_mapping,
    )
    return validation, known


async def _submit_bookings(
    run: _Run,
    known: dict[str, PurchaseOrderRefs],
    validation: ValidationResult,
    settings: Settings,
    options: ImportOptions,
    concurrency: int,
    results: dict[str, UnitResult],
    on_result: Callable[[UnitResult], None],
) -> RunStopped | None:
    units = plan_bookings(validation.bookings, settings.bookings)
    run.journal.register(run.run_id, KIND_BOOKING, ((u.key, u.digest, u.rows) for u in units))
    try:
        pages = await _booking_pages(run, units, known, options) if options.read_pages else None
    except RunStopped as exc:  # a wrong key: every booking stays pending, as for a lookup
        return exc
    lines = PurchaseOrderLines(run.api, run.caller, run.journal, known, pages)
    submitter = BookingSubmitter(
        run.api, run.caller, run.journal, run.run_id,
        on_existing=options.on_existing, resume=options.resume, stats=run.stats.events,
        lines=lines, pages=pages,
    )
    return await run_units(
        units, submitter.submit, concurrency=concurrency,
        on_result=_collector(
            results, on_result, pages.settled if pages is not None else None),
    )


async def _booking_pages(
    run: _Run,
    units: Sequence[BookingUnit],
    known: Mapping[str, PurchaseOrderRefs],
    options: ImportOptions,
) -> BookingPages | None:
    """What Flexport holds of the bookings left to send, if list pages cost less than lookups."""
    if options.resume:
        # A resumed run's settled bookings are not asked about again.
        units = [
            u for u in units
            if not ((r := run.journal.get(KIND_BOOKING, u.key)) and r.run_id == run.run_id
                    and r.finished)
        ]
    po_ids = set()
    for unit in units:
        for number in unit.booking.po_numbers:
            record = run.journal.get(KIND_PO, number)
            if record is not None and record.flexport_id:
                po_ids.add(int(record.flexport_id))
            elif (refs := known.get(number)) is not None and refs.flexport_id is not None:
                po_ids.add(refs.flexport_id)
    try:
        return await read_booking_pages(
            run.api, run.caller, [u.key for u in units], po_ids, stats=run.stats.events
        )
    except ApiError:
        # Every booking is then looked up one by one, as without pages.
        run.stats.events["booking_pages_failed"] = 1
        return None


async def import_purchase_orders(
    table: Table,
    validation: ValidationResult,
    settings: Settings,
    options: ImportOptions,
    *,
    on_result: Callable[[UnitResult], None] = lambda _r: None,
) -> ImportResult:
    """Submit the valid POs exactly once; returns a result for every data row."""
    workbook = Workbook(Path(table.path), purchase_orders=(table, validation))
    return await import_workbook(workbook, settings, options, on_result=on_result)


def dump_jsonl(records: Iterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count
