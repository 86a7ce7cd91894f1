"""Booking rules: the checks the Flexport API applies to a booking, made on the row's cells."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

from bulkpo.cells import DateOrder, cell_text, is_blank
from bulkpo.columns import ColumnSet
from bulkpo.domain import Booking, ContainerCounts, DangerousGoods, ShippingUnits
from bulkpo.issues import Issue, IssueCode
from bulkpo.mapping import map_headers
from bulkpo.table import Table
from bulkpo.validation import (
    Checker,
    RowState,
    ValidationResult,
    all_invalid,
    check_port,
    compile_fields,
    finish,
    hold_back_hidden_rows,
    opt_str,
    want_for,
)


def validate_bookings(
    table: Table,
    columns: ColumnSet,
    *,
    date_order: DateOrder | None = None,
    known_po_numbers: Collection[str] | None = None,
    defaults: Mapping[str, str] | None = None,
    decimal_comma: bool | None = None,
    overrides: Mapping[str, str] | None = None,
) -> ValidationResult:
    """Check a bookings sheet (one row per booking) and build its bookings.

    Besides the cell rules, the rules the Flexport API applies to a booking are
    checked per row, so the user sees them on the cell before anything is sent.
    ``known_po_numbers`` (from the PO sheet and the API) lets PO numbers be
    checked; ``None`` skips that check. ``defaults`` (column key -> text, e.g.
    the ``[bookings]`` settings) fill blank cells; ``overrides`` (header -> field key)
    are a saved mapping's columns, as for purchase orders.
    """
    defaults = defaults or {}
    header_map = map_headers(table, columns, defaults=defaults, overrides=overrides)
    result = ValidationResult(header_map=header_map, row_count=len(table.rows))
    if header_map.missing:
        return all_invalid(result, table, header_map)
    setup: list[Issue] = []
    fields = compile_fields(table, columns, header_map, date_order, defaults, setup,
                            decimal_comma)
    issues: list[Issue] = []
    checker = Checker(table, fields, issues)
    known = set(known_po_numbers) if known_po_numbers is not None else None
    api_required = [c.key for c in columns.columns if c.api_required]
    meta_cols = list(header_map.metadata_of.items())
    names: dict[str, list[RowState]] = {}
    built: dict[int, Booking] = {}
    for pos, row in enumerate(table.rows):
        state = checker.state(pos)
        _booking_rules(checker, state, columns, known, api_required)
        name = state.values.get("booking_name")
        if isinstance(name, str):
            names.setdefault(name, []).append(state)
        metadata: dict[str, list[str]] = {}
        for key, index in meta_cols:
            v = row.get(index)
            if not is_blank(v):
                metadata[key] = [cell_text(v).strip()]
        booking = _build_booking(state, metadata) if not state.errors else None
        if booking is not None:
            built[row.number] = booking
        else:
            result.invalid_rows[row.number] = state.errors
    for name, states in names.items():
        if len(states) < 2:
            continue
        # Both rows stop: which of the two the user meant to send is theirs to say.
        for state in states:
            others = ", ".join(
                f"row {o.number} ({checker.ref(o, 'booking_name')})"
                for o in states if o is not state
            )
            issue = checker.error(state, "booking_name", IssueCode.DUPLICATE_BOOKING,
                                  f'booking name "{name}" is also used on {others}',
                                  "booking names must be unique; rename one", value=name)
            built.pop(state.number, None)
            result.invalid_rows.setdefault(state.number, [])
            if issue not in result.invalid_rows[state.number]:
                result.invalid_rows[state.number].append(issue)
    result.bookings = list(built.values())
    result.issues = finish(checker, table, header_map, setup, issues)
    kept = hold_back_hidden_rows(
        result, table, ((f"booking {b.name}", [b.row]) for b in result.bookings))
    if kept is not None:
        result.bookings = [b for b in result.bookings if b.row in kept]
    return result


def _booking_rules(
    checker: Checker, state: RowState, columns: ColumnSet, known: set[str] | None,
    api_required: Sequence[str],
) -> None:
    v = state.values

    def need(key: str, why: str) -> None:
        if v.get(key) is None:
            header = checker.header(key, columns)
            checker.error(state, key, IssueCode.REQUIRED, f"{header} is required {why}",
                          f"fill in {header}" + (
                              f" (or set a default for {key})" if key in api_required
                              else ""), value="")

    mode = v.get("freight_type")
    want = want_for(mode)
    for key in api_required:
        if key in checker.by_key:
            need(key, "by Flexport for every booking")
    origin = None
    if mode in ("ocean", "air"):
        need("incoterm", f"for {mode} bookings")
        if not v.get("wants_pickup"):
            need("origin_port", "when Flexport does not pick the goods up (Wants Pickup is no)")
        origin = check_port(checker, state, "origin_port", want) if "origin_port" in \
            checker.by_key else None
        if "destination_port" in checker.by_key:
            check_port(checker, state, "destination_port", want)
    elif mode == "trucking":
        for key in ("origin_port", "destination_port"):
            if key in checker.by_key:
                check_port(checker, state, key, None)
        need("payment_terms", "for trucking bookings")
    if mode == "trucking":
        need("destination_location_ref", "for trucking bookings")
    elif v.get("wants_delivery"):
        need("destination_location_ref", "when Flexport delivers the goods (Wants Delivery is yes)")
    if origin is not None and origin.country == "CN":
        need("export_description_zh", f"when the goods leave mainland China ({origin.code})")
    if mode == "ocean":
        load = v.get("load_type")
        total = sum(n for k in ("containers_20", "containers_40", "containers_40hc",
                                "containers_45hc") if isinstance(n := v.get(k), int))
        if load == "FCL" and total == 0:
            checker.error(state, "load_type", IssueCode.REQUIRED,
                          "FCL needs at least one container count (20', 40', 40' HC or 45' HC)",
                          "fill in how many containers of each size", value="FCL")
        elif load is None and total == 0:
            need("load_type", "for ocean bookings (FCL or LCL)")
    need("unit_count", "by Flexport: a booking's cargo needs its shipping units")
    need("unit_type", "by Flexport: a booking's cargo needs its shipping units")
    need("weight_kg", "by Flexport for the cargo of a booking")
    need("volume_cbm", "by Flexport for the cargo of a booking")
    if v.get("unit_type") == "pallet":
        need("atomic_count", "when Unit Type is pallet")
    if v.get("li_ion"):
        need("li_ion_packing", "when the goods contain lithium-ion batteries")
    ready, delivery = v.get("cargo_ready_date"), v.get("delivery_date")
    if isinstance(ready, dt.date) and isinstance(delivery, dt.date) and delivery < ready:
        checker.error(state, "delivery_date", IssueCode.DATES_ORDER,
                      f"the delivery date {delivery.isoformat()} is before the cargo-ready "
                      f"date {ready.isoformat()} ({checker.ref(state, 'cargo_ready_date')})",
                      "check the two dates")
    items = v.get("po_numbers")
    pos: tuple[str, ...] | None = None
    if isinstance(items, tuple):
        parsed = parse_po_items(items)
        if isinstance(parsed, str):
            checker.error(state, "po_numbers", IssueCode.BAD_PO_LINE, parsed,
                          "write a PO number, or PO:SKU=units to book part of a PO "
                          "(e.g. PO-2026-1001:LAMP-001=200)", value=", ".join(items))
        else:
            pos, line_units = parsed
            v["po_numbers"], v["po_line_units"] = pos, line_units
    if known is not None and pos is not None:
        unknown = [p for p in pos if p not in known]
        if unknown:
            shown = ", ".join(unknown)
            close = (difflib.get_close_matches(unknown[0], list(known), n=1, cutoff=0.8)
                     if len(known) <= 20_000 else [])
            checker.error(
                state, "po_numbers", IssueCode.UNKNOWN_PO,
                f"PO {shown} {'is' if len(unknown) == 1 else 'are'} neither in this file nor "
                "in Flexport",
                f"did you mean {close[0]}?" if close else "check the PO numbers",
                value=", ".join(pos),
            )


_PO_ITEM = re.compile(r"(?P<po>[^:=]+?)\s*(?::\s*(?P<sku>[^=]+?)\s*=\s*(?P<units>[^=]*))?\Z")


def parse_po_items(
    items: Sequence[str],
) -> tuple[tuple[str, ...], dict[str, dict[str, int]]] | str:
    """PO Numbers cell items -> (PO numbers, {PO: {SKU: units}}), or what is wrong.

    ``PO-1`` books the whole PO; ``PO-1:SKU-9=200`` books 200 units of that
    PO's line with SKU-9 (and only the lines named this way).
    """
    numbers: dict[str, None] = {}
    parts: dict[str, dict[str, int]] = {}
    for item in items:
        match = _PO_ITEM.match(item.strip())
        if match is None:
            return f"{item!r} is neither a PO number nor PO:SKU=units"
        po, sku, units = match["po"].strip(), match["sku"], match["units"]
        numbers[po] = None
        if sku is None:
            continue
        if not units.strip().isdigit() or int(units) <= 0:
            return f"{item!r}: the units after = must be a positive whole number"
        parts.setdefault(po, {})[sku.strip()] = int(units)
    return tuple(numbers), parts


def _build_booking(state: RowState, metadata: dict[str, list[str]]) -> Booking | None:
    v = state.values

    def text(key: str) -> str | None:
        return opt_str(v, key)

    def count(key: str) -> int:
        n = v.get(key)
        return n if isinstance(n, int) else 0

    def flag(key: str) -> bool:
        return v.get(key) is True

    def maybe_flag(key: str) -> bool | None:
        f = v.get(key)
        return f if isinstance(f, bool) else None

    def decimal(key: str) -> Decimal | None:
        d = v.get(key)
        return d if isinstance(d, Decimal) else None

    name, mode = text("booking_name"), text("freight_type")
    ready = v.get("cargo_ready_date")
    description, hs = text("product_description"), text("hs_code")
    if not (name and mode and isinstance(ready, dt.date) and description and hs):
        return None
    delivery = v.get("delivery_date")
    unit_count, unit_type = v.get("unit_count"), text("unit_type")
    atomic = v.get("atomic_count")
    units = (
        ShippingUnits(unit_count, unit_type, atomic if isinstance(atomic, int) else None)
        if isinstance(unit_count, int) and unit_type else None
    )
    pos = v.get("po_numbers")
    line_units = v.get("po_line_units")
    packing = v.get("li_ion_packing")
    is_ltl = maybe_flag("is_ltl")
    load = v.get("load_type")
    return Booking(
        row=state.number,
        name=name,
        freight_type=mode,
        cargo_ready_date=ready,
        product_description=description,
        hs_code=hs,
        incoterm=text("incoterm"),
        origin_port=text("origin_port"),
        destination_port=text("destination_port"),
        delivery_date=delivery if isinstance(delivery, dt.date) else None,
        po_numbers=pos if isinstance(pos, tuple) else (),
        po_line_units=line_units if isinstance(line_units, dict) else {},
        shipper_entity_ref=text("shipper_entity_ref"),
        consignee_entity_ref=text("consignee_entity_ref"),
        origin_location_ref=text("origin_location_ref"),
        destination_location_ref=text("destination_location_ref"),
        is_lcl=load == "LCL",
        containers=ContainerCounts(count("containers_20"), count("containers_40"),
                                   count("containers_40hc"), count("containers_45hc")),
        wants_pickup=flag("wants_pickup"),
        wants_delivery=flag("wants_delivery"),
        wants_export_customs=maybe_flag("export_customs"),
        wants_import_customs=maybe_flag("import_customs"),
        export_description_zh=text("export_description_zh"),
        weight_kg=decimal("weight_kg"),
        volume_cbm=decimal("volume_cbm"),
        shipping_units=units,
        dangerous_goods=DangerousGoods(
            hazmat=flag("hazmat"), magnets=flag("magnets"),
            other_dangerous_goods=flag("other_dangerous_goods"), li_ion=flag("li_ion"),
            non_li_ion_battery=flag("non_li_ion_battery"),
            li_ion_packing=packing if isinstance(packing, tuple) else (),
        ),
        is_ltl=True if is_ltl is None else is_ltl,
        payment_terms=text("payment_terms"),
        special_instructions=text("special_instructions"),
        metadata=metadata,
    )
