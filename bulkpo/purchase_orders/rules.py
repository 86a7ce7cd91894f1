"""Purchase-order rules: rows of one PO agree, lines are unique, dates in order, ports fit.

A PO with any error is not sent at all: every one of its rows is invalid, and the
rows without an error of their own get a short one pointing at the offending cell. A
PO-level value its rows disagree on is settled by the majority of the cells that are
valid on their own; only the cells that differ from it are wrong.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from array import array
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal
from operator import attrgetter
from types import MappingProxyType

from bulkpo import ports, validation
from bulkpo.cells import DateOrder, Priced, cell_text, is_blank
from bulkpo.columns import ColumnSet
from bulkpo.domain import LineItem, Party, PurchaseOrder
from bulkpo.issues import Issue, IssueCode, Severity
from bulkpo.mapping import HeaderMap, map_headers
from bulkpo.table import CellRef, Row, Table
from bulkpo.validation import (
    BAD,
    Checker,
    Field,
    RowState,
    ValidationResult,
    all_invalid,
    compile_fields,
    finish,
    opt_str,
    want_for,
    with_incoterm_place,
)

ERROR = Severity.ERROR

_SKU_OPTIONAL: dict[int, ColumnSet] = {}


def _sku_optional(columns: ColumnSet) -> ColumnSet:
    """The columns with SKU optional: with a product-name column a line needs one or the other."""
    found = _SKU_OPTIONAL.get(id(columns))
    if found is None:
        found = ColumnSet(columns.kind, columns.sheet_name, tuple(
            dataclasses.replace(c, required=False) if c.key == "sku" else c
            for c in columns.columns))
        _SKU_OPTIONAL[id(columns)] = found
    return found


class _PoDraft:
    """A PO while its rows are read.

    ``po_values`` holds its PO-level values in ``po_keys`` order (None until a row
    gives one); each was set by the row at position ``first`` unless ``set_at`` names
    another (a value first given on a later row).
    """

    __slots__ = ("conflicts", "errors", "first", "line_numbers", "lines", "metadata", "name",
                 "own_errors", "po_values", "rows", "set_at", "vote_at", "votes")

    def __init__(self, name: str, first: int, po_values: tuple[object, ...]) -> None:
        self.name = name
        self.first = first
        self.po_values = po_values
        self.rows: list[int] = []
        self.lines: list[LineItem] = []
        self.line_numbers: dict[int, int] = {}  # -> sheet row
        self.metadata: dict[str, list[str]] = {}
        # Each row's PO-level values and its position, counted only when rows disagree.
        # Two flat columns, not a (position, values) tuple a row: a clean row's values are
        # its PO's one tuple, and its position a machine int, not an object of its own.
        self.votes: list[tuple[object, ...]] = []
        self.vote_at = array("q")
        # Most POs never need these: they start as shared empties that cannot be written
        # (a write goes through the methods below, which give the PO its own first), so a
        # large file does not carry four empty containers per PO.
        self.set_at: Mapping[int, int] = _NO_POSITIONS
        self.errors: Sequence[Issue] = ()
        self.own_errors: Mapping[int, list[Issue]] = _NO_ISSUES
        self.conflicts: AbstractSet[int] = frozenset()  # the po_keys positions rows disagree on

    def position_of(self, k: int) -> int:
        """Position (in table.rows) of the row that set PO-level value ``k``."""
        return self.set_at.get(k, self.first)

    def set_position(self, k: int, pos: int) -> None:
        """PO-level value ``k`` was set by the row at position ``pos``."""
        self.set_at = {**self.set_at, k: pos}

    def add_conflict(self, k: int) -> None:
        self.conflicts = self.conflicts | {k}

    def add_errors(self, issues: Iterable[Issue]) -> None:
        if isinstance(self.errors, list):
            self.errors.extend(issues)
        else:
            self.errors = list(issues)  # the first: errors was the shared ()

    def add_own_error(self, row: int, issue: Issue) -> None:
        """An error of the row ``row`` (sheet number) itself."""
        own = dict(self.own_errors) if self.own_errors is _NO_ISSUES else self.own_errors
        assert isinstance(own, dict)
        own.setdefault(row, []).append(issue)
        self.own_errors = own

    def set_own_errors(self, row: int, issues: list[Issue]) -> None:
        own = dict(self.own_errors) if self.own_errors is _NO_ISSUES else self.own_errors
        assert isinstance(own, dict)
        own[row] = issues
        self.own_errors = own


_NO_POSITIONS: Mapping[int, int] = MappingProxyType({})
_NO_ISSUES: Mapping[int, list[Issue]] = MappingProxyType({})


_LINE_KEYS = ("line_number", "sku", "quantity", "product_name", "unit_of_measure", "unit_cost",
              "currency", "hs_code")


def validate_purchase_orders(
    table: Table,
    columns: ColumnSet,
    *,
    date_order: DateOrder | None = None,
    defaults: Mapping[str, str] | None = None,
    header_map: HeaderMap | None = None,
    decimal_comma: bool | None = None,
) -> ValidationResult:
    """Check a purchase-order sheet (one row per line) and assemble its POs.

    Rows sharing a PO number form one PO; their PO-level values must agree (a
    blank repeats the PO's value). ``date_order`` settles text dates like
    03/04/2026; without it they are read as the sheet's other dates suggest and
    flagged. ``defaults`` (column key -> text) fill blank cells. ``decimal_comma``
    settles numbers like 1,250 (True: 1.25); without it the file's other numbers tell.
    ``header_map`` is the mapping already made (by :func:`bulkpo.imports.validate_po_table`),
    else it is made here.
    """
    defaults = defaults or {}
    if header_map is None:
        header_map = map_headers(table, columns, defaults=defaults)
    if "product_name" in header_map.column_of:
        columns = _sku_optional(columns)
    result = ValidationResult(header_map=header_map, row_count=len(table.rows))
    if header_map.missing:
        return all_invalid(result, table, header_map)
    setup: list[Issue] = []
    fields = compile_fields(table, columns, header_map, date_order, defaults, setup,
                            decimal_comma)
    po_level = [f for f in fields if f.col.po_level and f.key != "po_number"]
    # A PO-level default applies to the PO, so a blank row does not disagree with the others.
    po_defaults = {f.key: f.default for f in po_level if f.default is not None}
    for f in po_level:
        f.default = None
    issues: list[Issue] = []
    checker = Checker(table, fields, issues)
    po_keys = tuple(f.key for f in po_level)
    k_arrive = po_keys.index("must_arrive_date") if "must_arrive_date" in po_keys else None
    meta_cols = list(header_map.metadata_of.items())
    drafts: dict[str, _PoDraft] = {}
    flagged = checker.flagged
    fast = validation.FAST_PATHS
    rows = table.rows

    # The common row has no problem, repeats its PO's values exactly and adds a new line:
    # it is settled here with a tuple comparison and one LineItem. Anything else (a cell
    # problem, a blank or differing PO-level value, a repeated line) goes to _add_row,
    # which reports it; the fast path changes nothing before it is sure.
    for pos, (row, name, po, line) in enumerate(zip(
        rows, checker.converted["po_number"], checker.values(po_keys),
        checker.values(_LINE_KEYS), strict=True,
    )):
        if pos in flagged or type(name) is not str or not fast:
            _add_row(checker, pos, drafts, po_level, meta_cols, result.invalid_rows, columns)
            continue
        line_number, sku, quantity, product_name, unit, cost, currency, hs_code = line
        if type(cost) is Priced:  # its currency fills or meets the row's: the careful way
            _add_row(checker, pos, drafts, po_level, meta_cols, result.invalid_rows, columns)
            continue
        draft = drafts.get(name)
        if draft is None:
            draft = drafts[name] = _PoDraft(name, pos, po)
        elif po != draft.po_values:
            _add_row(checker, pos, drafts, po_level, meta_cols, result.invalid_rows, columns)
            continue
        if line_number is None:
            line_number = len(draft.rows) + 1  # numbered by its place in the PO
        if line_number in draft.line_numbers or sku is None:
            _add_row(checker, pos, drafts, po_level, meta_cols, result.invalid_rows, columns)
            continue
        number = row.number
        if cost is not None and currency is None:
            validation.no_currency(checker, number)
        # Equal to po, and shared by the PO's rows: one tuple a PO, not one a row.
        draft.votes.append(draft.po_values)
        draft.vote_at.append(pos)
        draft.rows.append(number)
        draft.line_numbers[line_number] = number  # type: ignore[index]
        # Clean cells hold their column's type already (the converters saw to it).
        draft.lines.append(LineItem(
            number, line_number, sku, quantity, product_name,  # type: ignore[arg-type]
            unit or "PCS", cost, currency, hs_code,  # type: ignore[arg-type]
            po[k_arrive] if k_arrive is not None else None,  # type: ignore[arg-type]
        ))
        if meta_cols:
            _add_metadata(draft, row, meta_cols)

    # The assembly reads only the drafts: the converted columns (one list a column, a
    # million entries each in a large file) go before the POs are made.
    checker.converted.clear()
    invalid = result.invalid_rows
    shared = _Shared()
    # Each draft is let go once its PO is made, so its rows, votes and line numbers are
    # not held beside every PO at the end (the sheet's peak). Popped from the end of a
    # reversed list: sheet order, and no scan over a dict's deleted entries.
    pending = list(reversed(drafts.values()))
    drafts.clear()
    while pending:
        draft = pending.pop()
        if draft.conflicts:
            _settle_conflicts(checker, draft, po_level)
        assembled = _assemble_po(checker, draft, po_keys, po_defaults, shared)
        if draft.errors or assembled is None:
            _invalidate(draft, invalid, table.sheet)
        else:
            result.purchase_orders.append(assembled)
    result.issues = finish(checker, table, header_map, setup, issues)

    def groups() -> Iterable[tuple[str, list[int]]]:
        return ((f"PO {po.name}", [line.row for line in po.lines])
                for po in result.purchase_orders)

    def keep(kept: set[int] | None) -> None:
        if kept is not None:
            result.purchase_orders = [po for po in result.purchase_orders
                                      if {line.row for line in po.lines} <= kept]

    # Rows hidden in the sheet, and a Quantity merged over lines (each line's, or their
    # total?), are not sent: nor the POs holding them.
    keep(validation.hold_back_hidden_rows(result, table, groups()))
    keep(validation.hold_back_merged(result, table, "quantity", groups()))
    return result


def _add_row(
    checker: Checker,
    pos: int,
    drafts: dict[str, _PoDraft],
    po_level: list[Field],
    meta_cols: list[tuple[str, int]],
    invalid: dict[int, list[Issue]],
    columns: ColumnSet,
) -> None:
    """Add the row at ``pos`` to its PO the careful way, reporting every problem."""
    rows = checker.table.rows
    row = rows[pos]
    state = checker.state(pos)
    values = state.values
    name = values.get("po_number")
    if not isinstance(name, str):
        invalid[row.number] = state.errors
        return
    draft = drafts.get(name)
    if draft is None:
        draft = drafts[name] = _PoDraft(name, pos, (None,) * len(po_level))
    draft.rows.append(row.number)
    draft.votes.append(tuple(values[f.key] for f in po_level))
    draft.vote_at.append(pos)
    merged = list(draft.po_values)
    for k, f in enumerate(po_level):
        value = values[f.key]
        if value is None:
            continue
        seen = merged[k]
        if seen is None:
            merged[k] = value
            draft.set_position(k, pos)
        elif f.key == "must_arrive_date" and isinstance(value, dt.date):
            pass  # lines of one PO may arrive on different dates: each line keeps its own
        elif seen != value and value is not BAD and seen is not BAD:
            draft.add_conflict(k)  # settled by the majority once every row is in
    draft.po_values = tuple(merged)
    line = _line_item(checker, state, draft, columns)
    if line is not None:
        draft.lines.append(line)
    if meta_cols:
        _add_metadata(draft, row, meta_cols)
    if state.errors:
        draft.add_errors(state.errors)
        draft.set_own_errors(row.number, state.errors)


def _settle_conflicts(checker: Checker, draft: _PoDraft, po_level: list[Field]) -> None:
    """Settle each PO-level value the rows disagree on: a cell invalid on its own (an
    unknown port) is reported as such and has no say; of the rest the majority wins and
    every other value is one error on its cells; a tie is one error naming both sides."""
    rows = checker.table.rows
    merged = list(draft.po_values)
    keys = [f.key for f in po_level]
    # The mode first: it says which kind of port the port cells must name.
    order = sorted(draft.conflicts, key=lambda k: keys[k] != "transportation_mode")
    for k in order:
        f = po_level[k]
        tally: list[tuple[object, list[int]]] = []  # values need not be hashable
        for pos, values in zip(draft.vote_at, draft.votes, strict=True):
            value = values[k]
            if value is None or value is BAD:
                continue
            for seen, where in tally:
                if seen == value:
                    where.append(pos)
                    break
            else:
                tally.append((value, [pos]))
        if f.key in ("origin_port", "destination_port"):
            mode = merged[keys.index("transportation_mode")] if (
                "transportation_mode" in keys) else None
            kept = []
            for value, where in tally:
                problem = ports.check_port(str(value), want=want_for(mode),
                                           accept_iata=f.col.accepts_iata)[1]
                if problem is not None and problem.error:
                    _cells_issue(checker, draft, f, where, problem.code, problem.message,
                                 problem.suggestion, str(value))
                else:
                    kept.append((value, where))
            tally = kept
        if not tally:
            merged[k] = BAD
            continue
        tally.sort(key=lambda t: -len(t[1]))  # stable: equal counts keep sheet order
        winner, won = tally[0]
        merged[k] = winner
        draft.set_position(k, won[0])
        if len(tally) == 1:
            continue

        def cells(where: list[int], key: str = f.key) -> str:
            return ", ".join(str(checker.ref_at(rows[p].number, key)) for p in where)

        if len(tally[1][1]) == len(won):
            merged[k] = BAD
            sides = " and ".join(
                f"{cell_text(rows[where[0]].get(f.index)).strip()} ({cells(where)})"
                for _value, where in tally)
            _cells_issue(
                checker, draft, f, [p for _v, where in tally for p in where],
                IssueCode.PO_CONFLICT,
                f"the rows of PO {draft.name} are split on {f.header}: {sides}",
                f"give every row of PO {draft.name} the right {f.header}, or leave it blank "
                "after the first", "")
            continue
        right = cell_text(rows[won[0]].get(f.index)).strip()
        for _value, where in tally[1:]:
            text = cell_text(rows[where[0]].get(f.index)).strip()
            _cells_issue(
                checker, draft, f, where, IssueCode.PO_CONFLICT,
                f"says {text} but the other rows of PO {draft.name} say {right} "
                f"({cells(won)})",
                f"write {right}, or leave it blank after the PO's first row", text)
    draft.po_values = tuple(merged)


def _cells_issue(
    checker: Checker, draft: _PoDraft, f: Field, where: list[int], code: IssueCode,
    message: str, suggestion: str, value: str,
) -> None:
    """One error on the cells of column ``f`` at positions ``where``: reported once,
    marking each cell, and the own error of each of their rows."""
    rows = checker.table.rows
    refs = [CellRef(checker.sheet, rows[p].number, f.index) for p in where]
    issue = Issue(refs[0], f.header, value, code, ERROR, message, suggestion,
                  also=tuple(refs[1:]))
    checker.issues.append(issue)
    draft.add_errors((issue,))
    for ref in refs:
        draft.add_own_error(ref.row, issue)


def _add_metadata(draft: _PoDraft, row: Row, meta_cols: list[tuple[str, int]]) -> None:
    for key, index in meta_cols:
        v = row.get(index)
        if not is_blank(v):
            text = cell_text(v).strip()
            got = draft.metadata.setdefault(key, [])
            if text not in got:
                got.append(text)


def _line_item(
    checker: Checker, state: RowState, draft: _PoDraft, columns: ColumnSet
) -> LineItem | None:
    values = state.values
    validation.settle_currency(checker, state)
    number = values.get("line_number")
    position = len(draft.rows)
    if number is None:
        number = position
    sku = values.get("sku")
    if isinstance(number, int):
        first = draft.line_numbers.get(number)
        if first is not None:
            how = "" if "line_number" in checker.by_key and values.get("line_number") else (
                " (numbered by its place in the PO)")
            ref_line = checker.ref(state, "line_number")
            checker.error(state, "line_number", IssueCode.DUPLICATE_LINE,
                          f"line {number}{how} appears twice in PO {draft.name}: "
                          f"{ref_line} and {checker.ref_at(first, 'line_number')}",
                          "give each line of a PO its own number", value=str(number))
        else:
            draft.line_numbers[number] = state.number
    # The same SKU on two lines (split dates or prices) is allowed: the line number
    # keeps them apart. A line needs a SKU or a product name; a name is never made a SKU.
    name = values.get("product_name")
    if sku is None and name is None and not state.errors:
        checker.error(state, "sku", IssueCode.REQUIRED,
                      f"row {state.number} has neither a SKU nor a product name",
                      "give the line its SKU or a description of the product")
    quantity = values.get("quantity")
    if state.errors or not isinstance(number, int) or not (
        isinstance(sku, str) or isinstance(name, str)
    ) or not isinstance(quantity, int):
        return None
    cost = values.get("unit_cost")
    return LineItem(
        row=state.number,
        line_number=number,
        sku=sku if isinstance(sku, str) else None,
        quantity=quantity,
        must_arrive_date=arrive if isinstance(arrive := values.get("must_arrive_date"), dt.date)
        else None,
        product_name=opt_str(values, "product_name"),
        unit_of_measure=opt_str(values, "unit_of_measure") or "PCS",
        unit_cost=cost if isinstance(cost, Decimal) else None,
        currency=opt_str(values, "currency"),
        hs_code=opt_str(values, "hs_code"),
    )


class _Shared:
    """What the POs of one sheet share: each port check made once per (code, wanted kind),
    and one :class:`Party` object per distinct party (frozen, so sharing is safe; a
    sheet names a few hundred sellers across many thousand POs)."""

    __slots__ = ("clean", "parties", "ports")

    def __init__(self) -> None:
        self.ports: dict[tuple[str, str, ports.Want | None], tuple[ports.PortProblem | None,
                                                                    str]] = {}
        self.parties: dict[tuple[str | None, str | None, str | None], Party] = {}
        # PO-level values that made a PO with no problem -> that PO's fields and Incoterm.
        # A sheet's POs repeat a few hundred such tuples (a seller, its ports and dates).
        self.clean: dict[tuple[object, ...], tuple[dict[str, object], object]] = {}

    def port(
        self, checker: Checker, key: str, value: str, want: ports.Want | None
    ) -> tuple[ports.PortProblem | None, str]:
        """The problem of a port cell (None if fine) and its folded code."""
        found = self.ports.get((key, value, want))
        if found is None:
            accept_iata = checker.by_key[key].col.accepts_iata
            problem = ports.check_port(value, want=want, accept_iata=accept_iata)[1]
            found = self.ports[(key, value, want)] = (problem, ports.fold_code(value))
        return found

    def party(self, name: str | None, ref: str | None, country: str | None) -> Party:
        found = self.parties.get((name, ref, country))
        if found is None:
            found = self.parties[(name, ref, country)] = Party(name, ref, country)
        return found


_ARRIVE = attrgetter("must_arrive_date")
_CLEAN_LIMIT = 100_000


def _assemble_po(
    checker: Checker, draft: _PoDraft, po_keys: tuple[str, ...], po_defaults: dict[str, object],
    shared: _Shared,
) -> PurchaseOrder | None:
    if validation.FAST_PATHS and not draft.errors:
        try:
            seen = shared.clean.get(draft.po_values)
        except TypeError:  # a value that cannot be a key: the careful way
            seen = None
        # Another PO with these PO-level values had no problem, and these lines arrive on
        # one date at most: this PO has none either, and the same fields.
        if seen is not None and len({*map(_ARRIVE, draft.lines)} - {None}) <= 1:
            known, placed = seen
            return PurchaseOrder(
                name=draft.name, lines=draft.lines,
                metadata=with_incoterm_place(draft.metadata, placed),
                **known,  # type: ignore[arg-type]
            )
    got = dict(zip(po_keys, draft.po_values, strict=True))
    for key, default in po_defaults.items():
        if got[key] is None:
            got[key] = default
    first_row = draft.rows[0]
    rows = checker.table.rows

    def set_ref(key: str) -> CellRef | None:
        """The cell that gave the PO its ``key`` value (None for a default)."""
        k = po_keys.index(key)
        if draft.po_values[k] is None:
            return None
        return checker.ref_at(rows[draft.position_of(k)].number, key)

    # Port kinds and date order are PO rules, checked once on the cell that set the value.
    want = want_for(got.get("transportation_mode"))
    clean = True
    for key in ("origin_port", "destination_port"):
        value = got.get(key)
        if not isinstance(value, str):
            continue
        problem, folded = shared.port(checker, key, value, want)
        clean = clean and problem is None
        if problem is not None and not problem.error:
            checker.warn_once(set_ref(key) or checker.ref_at(first_row, key), key, value,
                              problem.code, problem.message, problem.suggestion)
            got[key] = folded
        elif problem is not None:
            draft.add_errors((_po_issue(checker, draft, key, set_ref(key), first_row,
                                          problem.code, problem.message, problem.suggestion,
                                          value),))
            got[key] = BAD
        else:
            got[key] = folded
    ready, arrive = got.get("cargo_ready_date"), got.get("must_arrive_date")
    if not isinstance(ready, dt.date):
        ready = None
    if not isinstance(arrive, dt.date):
        arrive = None
    line_dates = set(map(_ARRIVE, draft.lines))
    line_dates.discard(None)
    if len(line_dates) > 1:
        # Split deliveries: the PO has no one must-arrive date, its lines have theirs.
        clean = False
        arrive = None
        checker.issues.append(Issue(
            checker.ref_at(draft.rows[0], "must_arrive_date"), "Must Arrive Date", "",
            IssueCode.PO_CONFLICT, Severity.WARNING,
            f"the lines of PO {draft.name} arrive on {len(line_dates)} different dates: each "
            "line is sent with its own must-arrive date", ""))
    if ready is not None and arrive is not None and arrive < ready:
        ref = set_ref("must_arrive_date")
        ready_ref = set_ref("cargo_ready_date")
        draft.add_errors((_po_issue(
            checker, draft, "must_arrive_date", ref, first_row, IssueCode.DATES_ORDER,
            f"the must-arrive date {arrive.isoformat()} is before the cargo-ready date "
            f"{ready.isoformat()}" + (f" ({ready_ref})" if ready_ref else ""),
            "check the two dates", arrive.isoformat(),
        ),))
    if draft.errors:
        return None
    # Only text reaches the PO's text fields; BAD and anything else becomes None.
    text = {k: v for k, v in got.items() if isinstance(v, str)}.get
    fields: dict[str, object] = {
        "status": text("status") or "open",
        "buyer": shared.party(text("buyer_name"), text("buyer_ref"), text("buyer_country")),
        "seller": shared.party(text("seller_name"), text("seller_ref"), text("seller_country")),
        "incoterm": str(incoterm) if (incoterm := text("incoterm")) else None,  # not its place
        "transportation_mode": text("transportation_mode"),
        "cargo_ready_date": ready,
        "must_arrive_date": arrive,
        "origin_port": text("origin_port"),
        "destination_port": text("destination_port"),
        "origin_address_ref": text("origin_address_ref"),
        "destination_address_ref": text("destination_address_ref"),
        "memo": text("memo"),
        "priority": text("priority"),
        "order_class": text("order_class"),
    }
    if clean and validation.FAST_PATHS and len(shared.clean) < _CLEAN_LIMIT:
        with contextlib.suppress(TypeError):  # a value that cannot be a key
            shared.clean[draft.po_values] = (fields, got.get("incoterm"))
    return PurchaseOrder(
        name=draft.name, lines=draft.lines,
        metadata=with_incoterm_place(draft.metadata, got.get("incoterm")),
        **fields,  # type: ignore[arg-type]
    )


def _po_issue(
    checker: Checker, draft: _PoDraft, key: str, ref: CellRef | None, first_row: int,
    code: IssueCode, message: str, suggestion: str, value: str,
) -> Issue:
    f = checker.by_key.get(key)
    if ref is None:
        ref = CellRef(checker.sheet, first_row, f.index if f is not None else -1)
    issue = Issue(ref, f.header if f is not None else "", value, code, ERROR, message,
                  suggestion)
    checker.issues.append(issue)
    draft.add_own_error(ref.row, issue)
    return issue


def _invalidate(draft: _PoDraft, invalid: dict[int, list[Issue]], sheet: str) -> None:
    """Every row of a PO with an error is invalid; rows without their own point at the
    first cell to fix (the Errors sheet lists that problem once, on its cell)."""
    first = draft.errors[0]
    more = len(draft.errors) - 1
    reason = str(first.ref) if first.ref is not None else "another row"
    if more:
        reason += f" and {more} more error{'s' if more > 1 else ''}"
    for number in draft.rows:
        own = draft.own_errors.get(number)
        if own:
            invalid[number] = own
        else:
            invalid[number] = [Issue(
                CellRef(sheet, number, -1), "", draft.name, IssueCode.PO_INVALID, ERROR,
                f"held back: PO {draft.name} is sent once {reason} is fixed", "",
            )]
