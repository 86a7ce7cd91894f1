"""Bulk bookings: validated booking rows become Flexport bookings linked to their POs.

Refs a row leaves empty come from the ``[bookings]`` defaults, else from the first
PO the row names (its seller is the shipper, its buyer the consignee, its origin and
destination locations the booking's). A booking is sent exactly once by the engine
(:class:`~bulkpo.engine.exactly_once.ExactlyOnce`, natural key: its name); then every line of
its POs is attached with ``POST /booking_line_items``, each link exactly once too
(natural key: booking name + PO line item id, checked against the booking's links).
With ``--on-existing update`` a booking Flexport holds that differs from its row gets
one ``POST /booking_amendments`` with the changed ``new_*`` fields, once per change
(journal key: booking name + digest of the amendment).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, NamedTuple

from pydantic import ValidationError

from bulkpo.bookings.pages import BookingPages
from bulkpo.bookings.rules import validate_bookings
from bulkpo.columns import BOOKING_COLUMNS
from bulkpo.config import BookingDefaults
from bulkpo.domain import Booking, PurchaseOrder
from bulkpo.engine.api import FlexportApi
from bulkpo.engine.exactly_once import (
    ExactlyOnce,
    OnExisting,
    Outcome,
    Sighting,
    UnitResult,
    as_dict,
    failure_message,
)
from bulkpo.engine.journal import Journal, UnitRecord, UnitState
from bulkpo.engine.pacing import Caller, paced
from bulkpo.errors import ApiError, RateLimitError, RunStopped, ServerError, TransportError
from bulkpo.flexport.filters import by_booking, purchase_order_filters
from bulkpo.flexport.models import Address
from bulkpo.flexport.models import PurchaseOrder as FlexportPurchaseOrder
from bulkpo.flexport.payloads import (
    body_digest,
    booking_amendment,
    booking_body,
    booking_from_read,
)
from bulkpo.issues import IssueCode
from bulkpo.purchase_orders.snapshot import PER_PAGE, ListingApi, read_rest
from bulkpo.purchase_orders.submit import KIND_PO
from bulkpo.saved_mapping import SavedMapping, check_mapping
from bulkpo.table import CellRef, Issue, Severity, Table
from bulkpo.validation import ValidationResult

KIND_BOOKING = "booking"
KIND_LINK = "booking_line_item"
KIND_AMENDMENT = "booking_amendment"

FROM_PO = "(from its purchase order)"
"""What validation sees in a blank ref cell that the booking's PO may fill."""

DateOrder = Literal["dmy", "mdy"]

# column key -> (what it is on the PO, the [bookings] setting that also fills it)
_PO_REFS: dict[str, tuple[str, str]] = {
    "shipper_entity_ref": ("seller entity ref", "shipper_entity_ref"),
    "consignee_entity_ref": ("buyer entity ref", "consignee_entity_ref"),
    "origin_location_ref": ("origin location ref", "origin_address_ref"),
    "destination_location_ref": ("destination location ref", "destination_address_ref"),
}


# ---------------------------------------------------------------- the POs bookings name


@dataclass(frozen=True)
class PurchaseOrderRefs:
    """What a booking takes from a PO it names: its id and its parties' refs."""

    name: str
    flexport_id: int | None = None
    shipper_entity_ref: str | None = None
    consignee_entity_ref: str | None = None
    origin_location_ref: str | None = None
    destination_location_ref: str | None = None


def refs_of_file_po(po: PurchaseOrder) -> PurchaseOrderRefs:
    """The refs of a PO from the input file (its Flexport id is not known yet)."""
    return PurchaseOrderRefs(
        po.name,
        None,
        po.seller.ref,
        po.buyer.ref,
        po.origin_address_ref,
        po.destination_address_ref,
    )


def refs_of_read_po(po: Any) -> PurchaseOrderRefs:
    """The refs of a PO as Flexport sends it (a :class:`bulkpo.flexport.models.PurchaseOrder`)."""

    def ref(part: Any) -> str | None:
        return getattr(part, "ref", None) if part is not None else None

    return PurchaseOrderRefs(
        str(po.name),
        po.id,
        ref(po.seller),
        ref(po.buyer),
        ref(po.origin_address),
        ref(po.destination_address),
    )


async def look_up_purchase_orders(
    names: Iterable[str],
    *,
    api: FlexportApi,
    caller: Caller,
    journal: Journal | None,
    concurrency: int,
) -> dict[str, PurchaseOrderRefs]:
    """The POs Flexport holds among ``names``: by the id a PO import journaled, else by name."""
    found: dict[str, PurchaseOrderRefs] = {}
    queue = sorted(set(names))
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(name: str) -> None:
        async with gate:
            record = journal.get(KIND_PO, name) if journal is not None else None
            po: Any = None
            if record is not None and record.flexport_id:
                po_id = int(record.flexport_id)
                try:
                    po = await caller.call(lambda: api.get_purchase_order(po_id))
                except ApiError:
                    po = None
                if po is not None and po.name != name:
                    po = None  # that id now names another PO: look it up by name
            try:
                if po is None:
                    po = await caller.call(lambda: api.find_purchase_order_by_name(name))
            except RunStopped:
                raise
            except ApiError:
                # Unverified is not unknown: the row is not stopped for an outage;
                # linking looks the PO up again and reports on the row if it fails.
                found[name] = PurchaseOrderRefs(name)
                return
            if po is not None:
                found[name] = refs_of_read_po(po)

    await asyncio.gather(*(one(name) for name in queue))
    return found


async def list_purchase_orders(
    names: Collection[str],
    *,
    api: ListingApi,
    caller: Caller,
    journal: Journal | None,
) -> dict[str, PurchaseOrderRefs] | None:
    """The POs Flexport holds among ``names`` read from the account's list pages, or None
    when a lookup per name costs less (decided from ``total_count`` on the first page).

    A name no page shows is absent: the list covers the whole account.
    """
    if len(names) < 2:
        return None
    filters = purchase_order_filters(direction="asc")
    first = await caller.call(lambda: api.purchase_order_page(filters, 1, per=PER_PAGE))
    pages = math.ceil((first.total_count or 0) / PER_PAGE)
    if first.total_count is None or pages >= len(names):
        return None
    wanted = set(names)
    listed: dict[str, list[dict[str, Any]]] = {}

    def keep(items: Iterable[dict[str, Any]]) -> None:
        for item in items:
            if item.get("name") in wanted and isinstance(item.get("id"), int):
                listed.setdefault(str(item["name"]), []).append(item)

    keep(first.items)
    await read_rest(caller, lambda n: api.purchase_order_page(filters, n, per=PER_PAGE),
                    pages, keep)
    found: dict[str, PurchaseOrderRefs] = {}
    for name, pos in listed.items():
        record = journal.get(KIND_PO, name) if journal is not None else None
        ours = [po for po in pos if record is not None and record.flexport_id == str(po["id"])]
        # The PO a PO import journaled, else the oldest of the name (what a lookup finds).
        po = (ours or sorted(pos, key=lambda po: int(po["id"])))[0]
        try:
            found[name] = refs_of_read_po(FlexportPurchaseOrder.model_validate(po))
        except ValidationError:
            return None  # read one by one, where an unreadable PO is reported on its row
    return found


# ---------------------------------------------------------------- validation


def validation_defaults(defaults: BookingDefaults) -> dict[str, str]:
    """The ``[bookings]`` settings as validation defaults (column key -> cell text).

    A ref with no setting gets :data:`FROM_PO`, so validation lets the cell be
    blank; :func:`validate_booking_sheet` then fills it from the PO or stops the row.
    """
    out: dict[str, str] = {"payment_terms": defaults.payment_terms}
    for key, (_what, setting) in _PO_REFS.items():
        out[key] = getattr(defaults, setting) or FROM_PO
    return out


def named_po_numbers(validation: ValidationResult) -> set[str]:
    """Every PO number the valid bookings name."""
    return {number for booking in validation.bookings for number in booking.po_numbers}


def validate_booking_sheet(
    table: Table,
    defaults: BookingDefaults,
    *,
    date_order: DateOrder | None = None,
    decimal_comma: bool | None = None,
    purchase_orders: Mapping[str, PurchaseOrderRefs] | None = None,
    check_po_numbers: bool = True,
    mapping: SavedMapping | None = None,
) -> ValidationResult:
    """Validate a bookings sheet and fill the refs rows leave blank from their POs.

    ``purchase_orders`` are the POs known (in the file and in Flexport); with
    ``check_po_numbers`` a PO number outside them is an error on its cell. A ref
    neither the row, the settings nor a PO gives stops the row where Flexport
    needs it. Without ``purchase_orders`` refs are left unfilled (only the PO
    numbers the rows name are wanted then). ``mapping`` is a saved bookings mapping:
    its columns beat the header aliases, its constants the ``[bookings]`` settings.
    """
    pos = purchase_orders or {}
    constants = validation_defaults(defaults)
    if mapping is not None:
        check_mapping(mapping, BOOKING_COLUMNS)
        constants.update(mapping.constants)
    result = validate_bookings(
        table,
        BOOKING_COLUMNS,
        date_order=date_order,
        decimal_comma=decimal_comma,
        known_po_numbers=set(pos) if check_po_numbers and purchase_orders is not None else None,
        defaults=constants,
        overrides=mapping.columns if mapping is not None else None,
    )
    if mapping is not None:
        result.header_map.decisions.insert(0, f"mapping {mapping.name or '(given)'} used")
    if purchase_orders is None:
        return result
    kept: list[Booking] = []
    for booking in result.bookings:
        filled, issues = _fill_from_pos(table, result, booking, pos)
        if issues:
            result.invalid_rows[booking.row] = issues
            result.issues.extend(issues)
        else:
            kept.append(filled)
    result.bookings = kept
    return result


def _fill_from_pos(
    table: Table,
    result: ValidationResult,
    booking: Booking,
    pos: Mapping[str, PurchaseOrderRefs],
) -> tuple[Booking, list[Issue]]:
    changes: dict[str, str | None] = {}
    issues: list[Issue] = []
    for key, (what, setting) in _PO_REFS.items():
        if getattr(booking, key) != FROM_PO:
            continue
        value = next(
            (
                ref
                for number in booking.po_numbers
                if number in pos and (ref := getattr(pos[number], key))
            ),
            None,
        )
        changes[key] = value
        needed = key != "destination_location_ref" or (
            booking.freight_type == "trucking" or booking.wants_delivery
        )
        if value is None and needed:
            column = BOOKING_COLUMNS.by_key(key)
            col = result.column_of.get(key, -1)
            issues.append(
                Issue(
                    CellRef(table.sheet, booking.row, col),
                    result.header_map.headers.get(key, column.header),
                    "",
                    IssueCode.REQUIRED,
                    Severity.ERROR,
                    f"{column.header} is required by Flexport and no PO of this row "
                    f"has a {what}",
                    f"fill in {column.header}, set {setting} under [bookings] in bulkpo.toml, "
                    "or name a PO that has one",
                )
            )
    return dataclasses.replace(booking, **changes), issues  # type: ignore[arg-type]


# ---------------------------------------------------------------- units


@dataclass
class BookingUnit:
    booking: Booking
    body: dict[str, Any]
    digest: str

    @property
    def key(self) -> str:
        return self.booking.name

    @property
    def rows(self) -> list[int]:
        return [self.booking.row]


def plan_bookings(bookings: Sequence[Booking], defaults: BookingDefaults) -> list[BookingUnit]:
    units = []
    for booking in bookings:
        body = booking_body(booking, defaults)
        units.append(BookingUnit(booking, body, body_digest(body)))
    return units


@dataclass
class LinkUnit:
    """One PO line attached to one booking: ``{purchase_order_line_item_id, booking_id, units}``."""

    booking_name: str
    row: int
    po_number: str
    body: dict[str, Any]
    label: str  # the PO line's number, for messages

    @property
    def key(self) -> str:
        return link_key(self.booking_name, int(self.body["purchase_order_line_item_id"]))

    @property
    def rows(self) -> list[int]:
        return [self.row]


def link_key(booking_name: str, line_item_id: int) -> str:
    """A link's natural key: the booking's name and the PO line item's id."""
    return f"{booking_name}#{line_item_id}"


def _ref_id(ref: Any) -> int | None:
    value = getattr(ref, "id", None) if ref is not None else None
    return int(value) if value is not None else None


@dataclass
class LinkSubmitter(ExactlyOnce[LinkUnit]):
    """Attaches one PO line to a booking exactly once."""

    kind: ClassVar[str] = KIND_LINK
    # BookingSubmitter.link reads the booking's links just before submitting any.
    look_before_create: ClassVar[bool] = False

    async def find(self, unit: LinkUnit) -> Any | None:
        line_id = int(unit.body["purchase_order_line_item_id"])
        links = await self.api.booking_line_items(by_booking(unit.body["booking_id"]))
        return next((x for x in links if _ref_id(x.purchase_order_line_item) == line_id), None)

    async def post(self, unit: LinkUnit) -> Any:
        return await self.api.create_booking_line_item(unit.body)

    def settled(self, record: UnitRecord) -> bool:
        # Whether a link exists is read from the booking's links on every run.
        return False


@dataclass
class LinkReport:
    """Which PO lines a booking has, and which it lacks and why."""

    linked: dict[str, list[str]] = field(default_factory=dict)  # PO number -> line numbers
    added: int = 0
    missing: list[str] = field(default_factory=list)
    code: str = ""

    def text(self) -> str:
        parts = []
        if self.linked:
            parts.append("linked " + "; ".join(
                f"{po} line{'s' if len(lines) > 1 else ''} {', '.join(lines)}"
                for po, lines in self.linked.items()
            ))
        if self.missing:
            parts.append("not linked: " + "; ".join(self.missing))
        return "; ".join(parts)


@dataclass
class PurchaseOrderLines:
    """Finds the POs bookings name and their lines, once per PO for the whole run."""

    api: FlexportApi
    caller: Caller
    journal: Journal
    known: Mapping[str, PurchaseOrderRefs]
    pages: BookingPages | None = None
    _ids: dict[str, int | None] = field(default_factory=dict)
    _lines: dict[int, list[PoLine]] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def po_id(self, name: str) -> int | None:
        async with self._locks.setdefault(f"po:{name}", asyncio.Lock()):
            if name not in self._ids:
                self._ids[name] = await self._find_id(name)
            return self._ids[name]

    async def _find_id(self, name: str) -> int | None:
        # A PO this run created is in the journal; one already in Flexport was looked up.
        record = self.journal.get(KIND_PO, name)
        if record is not None and record.flexport_id:
            return int(record.flexport_id)
        refs = self.known.get(name)
        if refs is not None and refs.flexport_id is not None:
            return refs.flexport_id
        po = await self.caller.call(lambda: self.api.find_purchase_order_by_name(name))
        return None if po is None or po.id is None else int(po.id)

    async def lines(self, po_id: int) -> list[PoLine]:
        """Every line of the PO: its id, number, units and SKU."""
        async with self._locks.setdefault(f"lines:{po_id}", asyncio.Lock()):
            if po_id not in self._lines:
                listed = self.pages.lines_of(po_id) if self.pages is not None else None
                items = listed if listed is not None else [
                    as_dict(item) for item in await self.caller.call(
                        lambda: self.api.purchase_order_line_items(po_id))
                ]
                self._lines[po_id] = [line for item in items if (line := po_line(item))]
            return self._lines[po_id]


@dataclass
class AmendmentReport:
    """What the amendment of an existing booking did: sent, and what it could not do."""

    sent: bool = False
    text: str = ""
    problem: str = ""
    code: str = ""


class _AnswerLost(Exception):
    """An amendment request may have reached Flexport but its answer did not come back."""


def _api_paths(api_field: str) -> list[str]:
    """``{ocean,air}_booking.incoterm`` -> ``ocean_booking.incoterm``, ``air_booking.incoterm``."""
    head, brace, rest = api_field.partition("{")
    if not brace:
        return [api_field]
    options, _, tail = rest.partition("}")
    return [f"{head}{option}{tail}" for option in options.split(",")]


_HEADER_OF_FIELD = {
    path: column.header for column in BOOKING_COLUMNS.columns
    for path in _api_paths(column.api_field)
}


def _column_headers(fields: Sequence[str]) -> list[str]:
    """Body fields as the sheet names them (Incoterm), else as the API does."""
    return list(dict.fromkeys(_HEADER_OF_FIELD.get(name, name) for name in fields))


def _joined(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


class PoLine(NamedTuple):
    """A PO line as linking needs it."""

    id: int
    number: int | None
    units: int
    sku: str | None


def po_line(item: Mapping[str, Any]) -> PoLine | None:
    """A PO line item as the API sends it (wire names), as linking needs it."""
    line_id, number = item.get("id"), item.get("line_item_number")
    if not isinstance(line_id, int):
        return None
    product = item.get("product")
    sku = product.get("sku") if isinstance(product, Mapping) else None
    return PoLine(
        line_id, number if isinstance(number, int) else None, int(item.get("units") or 0),
        sku or item.get("item_key"),
    )


@dataclass
class BookingSubmitter(ExactlyOnce[BookingUnit]):
    """Sends one booking exactly once, then links the lines of its POs."""

    kind: ClassVar[str] = KIND_BOOKING
    lines: PurchaseOrderLines | None = None
    pages: BookingPages | None = None
    """What list pages read before sending showed (:mod:`bulkpo.bookings.pages`)."""

    async def find(self, unit: BookingUnit) -> Any | None:
        return await self.api.find_booking_by_name(unit.key)

    async def fetch(self, unit: BookingUnit, flexport_id: str) -> Any | None:
        return await self.api.get_booking(int(flexport_id))

    async def post(self, unit: BookingUnit) -> Any:
        return await self.api.create_booking(unit.body)

    def settled(self, record: UnitRecord) -> bool:
        # A booking that exists with some PO lines unlinked is resumed: the rest are linked.
        return record.finished and not (
            record.state is UnitState.FAILED and record.flexport_id
        )

    async def recall(self, unit: BookingUnit, record: UnitRecord | None) -> UnitResult | None:
        """The journal's booking as the list pages show it, without a read by id."""
        if record is None or not record.flexport_id or record.state is UnitState.PENDING:
            return None
        listed = await self._listed(unit)
        ours = [b for b in listed or () if str(b.get("id")) == record.flexport_id]
        if not ours or self._differs(unit, ours[0]):
            return None  # read by id, as without pages
        return await self.existing(unit, ours[0], adopted=False)

    async def sighting(self, unit: BookingUnit) -> Sighting | None:
        listed = await self._listed(unit)
        if listed is None:
            return None
        if listed and self._differs(unit, listed[0]):
            return None  # looked up afresh before its amendment is worked out
        return Sighting(listed[0] if listed else None)  # the oldest of the name

    async def _listed(self, unit: BookingUnit) -> list[dict[str, Any]] | None:
        """The bookings of this name the pages show, None when no usable pages cover it."""
        if self.pages is None or unit.key not in self.pages.names:
            return None  # a name the pages were not read for is looked up
        await self.pages.fresh()
        return self.pages.listed(unit.key) if self.pages.usable else None

    def _differs(self, unit: BookingUnit, listed: dict[str, Any]) -> bool:
        """Whether an amendment may be due: worked out on a fresh read of the booking, not
        on a page read before the run."""
        if self.on_existing is not OnExisting.UPDATE:
            return False
        body, fixed = booking_amendment(unit.body, booking_from_read(listed), int(listed["id"]))
        return bool(body or fixed)

    async def created(self, unit: BookingUnit, data: dict[str, Any]) -> UnitResult:
        booking_id = int(data["id"])
        # Recorded before linking: a run killed while linking finds the booking by name.
        self.journal.mark(KIND_BOOKING, unit.key, UnitState.SENT, flexport_id=booking_id)
        # A booking this very POST created has no links yet: none to read.
        return await self._link(unit, booking_id, Outcome.CREATED, present=set())

    async def existing(self, unit: BookingUnit, found: Any, *, adopted: bool) -> UnitResult:
        booking_id = int(as_dict(found)["id"])
        if not adopted and self.on_existing is OnExisting.FAIL:
            return self.refused(
                unit,
                booking_id,
                f"a booking named {unit.key} exists in Flexport already (--on-existing fail)",
                "exists",
            )
        amended = AmendmentReport()
        if not adopted and self.on_existing is OnExisting.UPDATE:
            amended = await self.amend(unit, booking_id, found)
        return await self._link(
            unit, booking_id, Outcome.CREATED if adopted else Outcome.UNCHANGED, amended
        )

    async def _link(
        self,
        unit: BookingUnit,
        booking_id: int,
        outcome: Outcome,
        amended: AmendmentReport | None = None,
        *,
        present: set[int] | None = None,
    ) -> UnitResult:
        amended = amended or AmendmentReport()
        report = await self.link(unit.booking, booking_id, present=present)
        if report.missing:
            verb = "created" if outcome is Outcome.CREATED else "exists"
            return self.refused(
                unit,
                booking_id,
                _joined(amended.text, amended.problem,
                        f"booking {verb} (id {booking_id}) but not all its PO lines are linked: "
                        f"{report.text()}; run the import again to link the rest"),
                report.code or "link_failed",
            )
        if amended.problem:
            return self.refused(
                unit, booking_id, _joined(amended.text, amended.problem, report.text()),
                amended.code,
            )
        if outcome is Outcome.UNCHANGED and (report.added or amended.sent):
            outcome = Outcome.UPDATED
        return self.done(unit, outcome, booking_id, _joined(amended.text, report.text()))

    # -- amendments -----------------------------------------------------------

    async def amend(self, unit: BookingUnit, booking_id: int, found: Any) -> AmendmentReport:
        """Ask Flexport, in one amendment, for what the row changes of the booking it holds.

        Sent at most once per change: the journal keeps each amendment under the
        booking's name and the digest of its body. The v2 document has no route that
        reads amendments back, so for one still pending the journal is the only guard.
        """
        body, fixed = booking_amendment(unit.body, booking_from_read(as_dict(found)), booking_id)
        report = AmendmentReport()
        if fixed:
            report.problem = (
                f"could not change {', '.join(_column_headers(fixed))}: a booking amendment "
                "has no field for them (change them in Flexport, or book anew under another "
                "name)"
            )
            report.code = "not_amendable"
        if body:
            await self._send_amendment(unit, booking_id, body, report)
        return report

    async def _send_amendment(
        self, unit: BookingUnit, booking_id: int, body: dict[str, Any], report: AmendmentReport
    ) -> None:
        digest = body_digest(body)
        key = f"{unit.key}#{digest}"
        fields = ", ".join(name.removeprefix("new_") for name in body if name != "booking_id")
        record = self.journal.get(KIND_AMENDMENT, key)
        if record is not None and record.state is UnitState.DONE:
            report.text = (
                f"amendment {record.flexport_id} asking {fields} was requested in an earlier "
                "run and Flexport has not applied it yet; not sent again"
            )
            return
        if record is not None and record.state in (UnitState.SENT, UnitState.UNKNOWN):
            self._amendment_unknown(key, fields, report)
            return
        self.journal.register(self.run_id, KIND_AMENDMENT, [(key, digest, unit.rows)])
        try:
            answer = await self.caller.call(lambda: self._post_amendment(key, body))
        except RunStopped:
            raise
        except _AnswerLost:
            # Applied at once, the change shows on the booking; pending, nothing does.
            try:
                now = await self.caller.call(lambda: self.api.get_booking(booking_id))
                left, _fixed = booking_amendment(
                    unit.body, booking_from_read(as_dict(now)), booking_id
                )
            except ApiError:
                left = body
            if left.keys() & (body.keys() - {"booking_id"}):
                self._amendment_unknown(key, fields, report)
                return
            self.journal.mark(KIND_AMENDMENT, key, UnitState.DONE, outcome=Outcome.UPDATED,
                              run_id=self.run_id)
            report.sent = True
            report.text = f"amendment applied ({fields}; its answer was lost)"
            return
        except ApiError as exc:
            message = failure_message(exc)
            self.journal.mark(KIND_AMENDMENT, key, UnitState.FAILED, outcome=Outcome.FAILED,
                              message=message, code=exc.code or "", run_id=self.run_id)
            report.problem = _joined(report.problem, f"the amendment ({fields}) was refused: "
                                     f"{message}")
            report.code = exc.code or "amendment_refused"
            return
        state = "pending Flexport's review" if answer.is_pending else "applied"
        report.sent = True
        report.text = f"amendment {answer.id} requested ({fields}; {state})"
        self.journal.mark(KIND_AMENDMENT, key, UnitState.DONE, outcome=Outcome.UPDATED,
                          flexport_id=answer.id, message=report.text, run_id=self.run_id)

    async def _post_amendment(self, key: str, body: dict[str, Any]) -> Any:
        """One attempt; an answer lost after the request may have arrived is not retried."""
        self.journal.mark(KIND_AMENDMENT, key, UnitState.SENT, attempt=True)
        try:
            return await self.api.create_booking_amendment(body)
        except RateLimitError as exc:
            self.journal.mark(KIND_AMENDMENT, key, UnitState.PENDING, message=str(exc))
            raise
        except TransportError as exc:
            if not exc.reached_server:
                self.journal.mark(KIND_AMENDMENT, key, UnitState.PENDING, message=str(exc))
                raise
            self.journal.mark(KIND_AMENDMENT, key, UnitState.UNKNOWN, message=str(exc))
            raise _AnswerLost from exc
        except ServerError as exc:
            # Perhaps committed: resending could ask the same change twice.
            self.journal.mark(KIND_AMENDMENT, key, UnitState.UNKNOWN, message=str(exc))
            raise _AnswerLost from exc

    def _amendment_unknown(self, key: str, fields: str, report: AmendmentReport) -> None:
        self.journal.mark(KIND_AMENDMENT, key, UnitState.UNKNOWN, run_id=self.run_id)
        report.problem = _joined(
            report.problem,
            f"an amendment asking {fields} was sent but its answer was lost, and Flexport "
            "shows no change yet: it may be pending review. Flexport publishes no way to "
            "read amendments, so bulkpo does not send it again; check the booking in "
            "Flexport (to send it anyway, run with a new --journal)",
        )
        report.code = "amendment_unknown"

    async def link(
        self, booking: Booking, booking_id: int, *, present: set[int] | None = None
    ) -> LinkReport:
        """Attach every line of the booking's POs not attached yet; never one twice.

        ``present``: the PO line ids known linked to it; else the list pages' or a read.
        """
        report = LinkReport()
        if not booking.po_numbers:
            return report
        assert self.lines is not None
        links = LinkSubmitter(
            self.api, self.caller, self.journal, self.run_id, resume=self.resume,
            stats=self.stats,
        )
        if present is None and self.pages is not None:
            present = self.pages.links_of(booking_id)
        try:
            if present is None:
                present = {
                    line_id
                    for item in await self.caller.call(
                        lambda: self.api.booking_line_items(by_booking(booking_id))
                    )
                    if (line_id := _ref_id(item.purchase_order_line_item)) is not None
                }
        except RunStopped:
            raise
        except ApiError as exc:
            report.missing.append(f"the booking's links could not be read ({failure_message(exc)})")
            report.code = exc.code or ""
            return report
        for number in booking.po_numbers:
            try:
                po_id = await self.lines.po_id(number)
                if po_id is None:
                    report.missing.append(f"{number} (not in Flexport)")
                    report.code = report.code or "unknown_po"
                    continue
                po_lines = await self.lines.lines(po_id)
            except RunStopped:
                raise
            except ApiError as exc:
                report.missing.append(f"{number} ({failure_message(exc)})")
                report.code = report.code or exc.code or ""
                continue
            wanted = booking.po_line_units.get(number)
            if wanted is not None:
                skus = {line.sku for line in po_lines}
                for sku in sorted(set(wanted) - skus):
                    report.missing.append(f"{number} has no line with SKU {sku}")
                    report.code = report.code or "unknown_sku"
            units = [
                LinkUnit(
                    booking.name,
                    booking.row,
                    number,
                    {"purchase_order_line_item_id": line.id, "booking_id": booking_id,
                     "units": line.units if wanted is None else wanted[line.sku or ""]},
                    str(line.number if line.number is not None else f"id {line.id}"),
                )
                for line in po_lines
                if wanted is None or (line.sku or "") in wanted
            ]
            self.journal.register(
                self.run_id, KIND_LINK, ((u.key, body_digest(u.body), u.rows) for u in units)
            )
            for unit in units:
                line_id = int(unit.body["purchase_order_line_item_id"])
                if line_id in present:
                    self.journal.mark(
                        KIND_LINK, unit.key, UnitState.DONE, outcome=Outcome.UNCHANGED,
                        run_id=self.run_id,
                    )
                    report.linked.setdefault(number, []).append(unit.label)
                    continue
                result = await links.submit(unit)
                if result.outcome.went_through:
                    report.linked.setdefault(number, []).append(unit.label)
                    report.added += 1
                    present.add(line_id)
                else:
                    report.missing.append(f"{number} line {unit.label} ({result.message})")
                    report.code = report.code or result.code
        return report


# ---------------------------------------------------------------- network refs


@dataclass(frozen=True)
class NetworkRef:
    """One company entity or location a booking may name."""

    kind: str  # "company_entity" | "location"
    ref: str
    name: str
    city: str
    country: str


async def network_refs(api: Any, caller: Caller) -> list[NetworkRef]:
    """The company entities and locations of the account (``bulkpo refs``).

    Each list is read through the run's paced, retried ``caller``, so that one
    5xx or 429 is waited out as in every other command.
    """
    entities = await paced(caller, api.company_entities)
    locations = await paced(caller, api.locations)
    return [
        *(_network_ref("company_entity", e.ref, e.name, e.mailing_address) for e in entities),
        *(_network_ref("location", loc.ref, loc.name, loc.address) for loc in locations),
    ]


def _network_ref(
    kind: str, ref: str | None, name: str | None, address: Address | None
) -> NetworkRef:
    """One row of ``bulkpo refs``: an entity or a location with where it is."""
    city = address.city if address else None
    country = address.country_code if address else None
    return NetworkRef(kind, ref or "", name or "", city or "", country or "")
