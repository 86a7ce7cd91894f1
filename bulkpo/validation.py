"""The checking engine: a sheet's cells through their columns' converters, issues placed on cells.

Kind-agnostic: it reads the column spec (:mod:`bulkpo.columns`) generically, and
the rules of purchase orders and bookings (:mod:`bulkpo.purchase_orders.rules`,
:mod:`bulkpo.bookings.rules`) build on it. Nothing here reads files or talks to the API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import TypeAlias

from bulkpo import ports
from bulkpo.cells import (
    Converter,
    DateOrder,
    DateOrderGuess,
    DecimalMarkGuess,
    NumberCounter,
    Priced,
    Problem,
    cell_text,
    converter,
    shown,
)
from bulkpo.columns import Column, ColumnSet, ColumnType
from bulkpo.domain import Booking, PurchaseOrder
from bulkpo.issues import Issue, IssueCode, Severity
from bulkpo.mapping import HeaderMap
from bulkpo.table import CellRef, CellValue, Table, column_letter, merged_cells_issue

ERROR = Severity.ERROR
WARNING = Severity.WARNING


@dataclass
class ValidationResult:
    """What a sheet means and what is wrong with it.

    ``issues`` holds every problem (the reader's warnings first, then the header
    problems, then the cells' in sheet order); ``invalid_rows`` maps each sheet row
    that must not be sent to the errors that stop it. ``purchase_orders`` /
    ``bookings`` hold only the valid objects.
    """

    header_map: HeaderMap
    row_count: int
    purchase_orders: list[PurchaseOrder] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    invalid_rows: dict[int, list[Issue]] = field(default_factory=dict)

    @property
    def column_of(self) -> dict[str, int]:
        return self.header_map.column_of

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is WARNING]

    @property
    def valid_row_count(self) -> int:
        return self.row_count - len(self.invalid_rows)

    @property
    def data_rows(self) -> int:
        """Every data row of the sheet: the rows checked and those skipped as not PO data
        (totals, deleted lines...), so that the statuses said of them add up to it."""
        return self.row_count + len(self.header_map.skipped_rows)


@dataclass
class Field:
    """One spec column as this sheet holds it, with its converter."""

    key: str
    col: Column
    index: int            # sheet column, -1 when absent (the default still applies)
    header: str           # as the user wrote it
    convert: Converter
    default: object       # converted default for blank cells, None for none
    counter: NumberCounter


def compile_fields(
    table: Table,
    columns: ColumnSet,
    header_map: HeaderMap,
    date_order: DateOrder | None,
    defaults: Mapping[str, str],
    setup_issues: list[Issue],
    decimal_comma: bool | None = None,
) -> list[Field]:
    def present(*types: ColumnType) -> list[int]:
        return [header_map.column_of[c.key] for c in columns.columns
                if c.type in types and c.key in header_map.column_of]

    guess = DateOrderGuess(table, present(ColumnType.DATE))
    marks = DecimalMarkGuess(table, present(ColumnType.DECIMAL, ColumnType.INTEGER))
    fields: list[Field] = []
    for col in columns.columns:
        index = header_map.column_of.get(col.key, -1)
        default_text = defaults.get(col.key) or col.default
        if index < 0 and not default_text:
            continue
        header = header_map.headers.get(col.key, col.header)
        counter = NumberCounter()
        convert = converter(col, header, date_order, guess, counter, decimal_comma, marks)
        default: object = None
        if default_text:
            default = convert(default_text)
            if not defaults.get(col.key) and col.key in SAID_DEFAULTS:
                # The spec's own default for a line's unit is an assumption about the goods
                # the user did not make: said once, with the cells it fills.
                default = _said_default(default, col, header, index, setup_issues)
            if isinstance(default, Problem) and default.once is None:
                if default.severity is ERROR:
                    setup_issues.append(Issue(
                        None, header, default_text, default.code, ERROR,
                        f"the default {header} {default.message}", default.suggestion))
                    default = None
                else:
                    default = default.value
        fields.append(Field(col.key, col, index, header, convert, default, counter))
    return fields



SAID_DEFAULTS = frozenset({"unit_of_measure"})
"""Spec defaults that assume something about the goods (PCS), so their use is said once."""


def _said_default(
    default: object, col: Column, header: str, index: int, setup_issues: list[Issue]
) -> object:
    if isinstance(default, Problem):
        return default
    if index < 0:
        setup_issues.append(Issue(
            None, header, "", IssueCode.DEFAULT_USED, WARNING,
            f"the sheet has no {header} column; every row is sent as {shown(default)}",
            f"add a {header} column (or set a default) if that is not right"))
        return default
    return Problem(IssueCode.DEFAULT_USED, f"blank {header} read as {shown(default)}",
                   f"fill {header} (or set a default) if that is not right",
                   severity=WARNING, value=default, once="blank")


BAD = object()  # a cell whose value could not be used (its error is reported)


class RowState:
    """The converted values of one row, with its problems."""

    __slots__ = ("errors", "number", "values")

    def __init__(self, number: int) -> None:
        self.number = number
        self.values: dict[str, object] = {}
        self.errors: list[Issue] = []


Fixes: TypeAlias = dict[tuple[type, object], Problem]
"""A column's cells read the one way they can mean (``Problem.once``), by (type, raw value)."""
ColumnConverter: TypeAlias = Callable[[Sequence[CellValue]], tuple[list[object], int, Fixes]]
_MISS = object()
FAST_PATHS = True
"""Memos and the clean-row shortcuts on; only tests turn them off, to prove them equal to
the careful path (tests/test_fast_path.py)."""
_MEMO_LIMIT = 50_000


def _column_converter(f: Field) -> ColumnConverter:
    """A whole column's cells -> their values (a :class:`Problem` where a cell has one),
    and how many problems there are.

    A sheet repeats its statuses, codes, ports, dates and PO-level texts on every line,
    so each distinct cell is converted once and the rest are one dict lookup; the memo
    also makes the many lines of a PO share one value object. Only cells of types that
    cannot compare equal to another type's are memoised (1 == 1.0 == True would mix up
    "1", "1.0" and "TRUE"): text, dates and fractional floats. Whole numbers in number
    columns, the other common case, take their own test instead.
    """
    convert, default = f.convert, f.default
    blank: object = default
    if blank is None and f.col.required:
        blank = Problem(IssueCode.REQUIRED, f"{f.header} is required")
    memo: dict[object, object] = {}
    if type(blank) is not Problem:
        memo[None] = blank
    problems = 0
    fixes: Fixes = {}

    # An id column counts its numbers (for one warning) each time it converts one, so
    # its numbers are never memoised: a memo hit would not be counted.
    memo_floats = not f.col.identifier

    def slow(v: CellValue, remember: bool = True) -> object:
        nonlocal problems
        value = convert(v)
        if type(value) is Problem and value.once is not None:
            # Reported once for the column (Checker._fix_warnings); the cell holds the value.
            fixes[(type(v), v)] = value
            value = value.value
        if value is None:
            value = blank
            if type(value) is Problem and value.once is not None:
                fixes[(type(v), v)] = value
                value = value.value
        if type(value) is Problem:
            problems += 1
        elif remember and (
            type(v) is str or type(v) is dt.date
            or (memo_floats and type(v) is float and not v.is_integer())
        ):
            if len(memo) >= _MEMO_LIMIT:
                # A column of many distinct values (a PO number a few lines each) keeps
                # the recent ones: a sheet repeats a value on neighbouring lines.
                memo.clear()
                if type(blank) is not Problem:
                    memo[None] = blank
            memo[v] = value
        return value

    get = memo.get
    low = -1
    if f.col.type is ColumnType.INTEGER:
        low = 1 if f.col.positive else 0

    def column(cells: Sequence[CellValue]) -> tuple[list[object], int, Fixes]:
        nonlocal problems, fixes
        problems = 0
        fixes = {}
        distinct = dict.fromkeys(cells) if FAST_PATHS else {}
        if not FAST_PATHS:
            values = [slow(v, False) for v in cells]
        elif len(distinct) * 2 <= len(cells) and all(
            type(v) is str or v is None or type(v) is dt.date for v in distinct
        ):
            # A column of few distinct texts or dates (a CSV's every column, a workbook's
            # text columns): each converted once, then one C lookup a cell. Texts, dates
            # and None never equal one another, so no two cells share a key wrongly.
            seen = {v: r if (r := get(v, _MISS)) is not _MISS else slow(v, False)
                    for v in distinct}
            values = list(map(seen.__getitem__, cells))
        elif low >= 0:
            values = [
                v if type(v) is int and v >= low
                else r if (r := get(v, _MISS)) is not _MISS else slow(v)
                for v in cells
            ]
        else:
            values = [r if (r := get(v, _MISS)) is not _MISS else slow(v) for v in cells]
        return values, problems, fixes

    return column


class Checker:
    """Converts the sheet column by column and collects the issues, in sheet order.

    ``converted[key][i]`` is the value of ``table.rows[i]`` in that column, a
    :class:`Problem` where the cell has one; ``flagged`` holds the positions of the
    rows with a problem, which alone need a :class:`RowState` and issues.
    """

    def __init__(self, table: Table, fields: list[Field], issues: list[Issue]) -> None:
        self.table = table
        self.sheet = table.sheet
        self.fields = fields
        self.by_key = {f.key: f for f in fields}
        self.issues = issues
        rows = table.rows
        n = len(rows)
        self.converted: dict[str, list[object]] = {}
        self.flagged: set[int] = set()
        # Row-rule warnings said once per distinct value: (key, value, code) -> issue, cells
        self.once: dict[tuple[str, str, str], tuple[Issue, list[CellRef]]] = {}
        cells = [r.values for r in rows]
        # Short rows read as blank past their end; when every row reaches a column
        # (a workbook's always do) it is taken in one C loop.
        shortest = min(map(len, cells), default=0)
        for f in fields:
            i = f.index
            column: Sequence[CellValue]
            if i < 0:
                column = (None,) * n
            elif i < shortest:
                column = list(map(itemgetter(i), cells))
            else:
                column = [values[i] if i < len(values) else None for values in cells]
            values, problems, fixes = _column_converter(f)(column)
            self.converted[f.key] = values
            if problems:
                self.flagged.update(i for i, v in enumerate(values) if type(v) is Problem)
            if fixes:
                self._fix_warnings(f, column, fixes)

    def _fix_warnings(self, f: Field, cells: Sequence[CellValue], fixes: Fixes) -> None:
        """One warning per distinct fix of a column, naming how many cells and which."""
        places: dict[str, tuple[Problem, list[int]]] = {}
        for i, v in enumerate(cells):
            p = fixes.get((type(v), v))
            if p is not None:
                assert p.once is not None
                places.setdefault(p.once, (p, []))[1].append(i)
        rows = self.table.rows
        for p, positions in places.values():
            refs = [CellRef(self.sheet, rows[i].number, f.index) for i in positions]
            first = positions[0]
            self.issues.append(Issue(
                refs[0], f.header, cell_text(cells[first]), p.code, WARNING,
                p.message + cells_text(refs), p.suggestion, also=tuple(refs[1:]),
            ))
    def values(self, keys: Sequence[str]) -> Iterable[tuple[object, ...]]:
        """Per row, the values of ``keys`` (None for a key the sheet does not have)."""
        n = len(self.table.rows)
        columns = [self.converted.get(k) or itertools.repeat(None, n) for k in keys]
        return zip(*columns, strict=True) if columns else itertools.repeat((), n)

    def state(self, pos: int) -> RowState:
        """The row at ``pos`` with its cell problems reported: errors leave BAD, warnings
        the value accepted anyway."""
        row = self.table.rows[pos]
        state = RowState(row.number)
        out = state.values
        for f in self.fields:
            value = self.converted[f.key][pos]
            if type(value) is Problem:
                value = self._problem(state, f, row.get(f.index), value)
            out[f.key] = value
        return state

    def _problem(self, state: RowState, f: Field, raw: CellValue, p: Problem) -> object:
        issue = Issue(
            CellRef(self.sheet, state.number, max(f.index, -1)), f.header, cell_text(raw),
            p.code, p.severity, p.message, p.suggestion,
        )
        self.issues.append(issue)
        if p.severity is ERROR:
            state.errors.append(issue)
            return BAD
        return p.value

    def error(
        self, state: RowState, key: str, code: IssueCode, message: str, suggestion: str = "",
        *, value: str | None = None,
    ) -> Issue:
        """A row-rule error placed on ``key``'s cell (on the row when it has no column)."""
        f = self.by_key.get(key)
        index = f.index if f is not None else -1
        header = f.header if f is not None else ""
        if value is None:
            current = state.values.get(key)
            value = "" if current is None or current is BAD else shown(current)
        issue = Issue(CellRef(self.sheet, state.number, index), header, value, code, ERROR,
                      message, suggestion)
        self.issues.append(issue)
        state.errors.append(issue)
        return issue

    def warn_once(
        self, ref: CellRef, key: str, value: str, code: IssueCode, message: str,
        suggestion: str = "",
    ) -> None:
        """A row-rule warning, said once per (column, value, code) for the whole sheet with
        the count and the cells (as the converters' fixes are), when the sheet is finished."""
        seen = self.once.get((key, value, code))
        if seen is not None:
            seen[1].append(ref)
            return
        f = self.by_key.get(key)
        header = f.header if f is not None else ""
        self.once[(key, value, code)] = (
            Issue(ref, header, value, code, WARNING, message, suggestion), [ref])

    def once_warnings(self) -> None:
        for issue, refs in self.once.values():
            refs.sort(key=lambda r: (r.row, r.col))
            self.issues.append(dataclasses.replace(
                issue, ref=refs[0], also=tuple(refs[1:]),
                message=issue.message + cells_text(refs)))
        self.once.clear()

    def ref(self, state: RowState, key: str) -> CellRef:
        return self.ref_at(state.number, key)

    def ref_at(self, row: int, key: str) -> CellRef:
        f = self.by_key.get(key)
        return CellRef(self.sheet, row, f.index if f is not None else -1)

    def header(self, key: str, columns: ColumnSet) -> str:
        f = self.by_key.get(key)
        if f is not None:
            return f.header
        try:
            return columns.by_key(key).header
        except KeyError:
            return key

    def number_warnings(self) -> None:
        """One warning per id column that held numbers, on its first such cell."""
        for f in self.fields:
            c = f.counter
            if c.count == 0 or f.index < 0:
                continue
            first_row = next(
                (r for r in self.table.rows if r.get(f.index) == c.first
                 and type(r.get(f.index)) is not str),
                None,
            )
            if first_row is None:
                continue
            others = (f" and {c.count - 1:,} other cell{'s' if c.count > 2 else ''} in this "
                      "column are" if c.count > 1 else " is")
            self.issues.append(Issue(
                CellRef(self.sheet, first_row.number, f.index), f.header, cell_text(c.first),
                IssueCode.STORED_AS_NUMBER, WARNING,
                f"{cell_text(c.first)}{others} stored as numbers; leading zeros may have "
                "been lost", "format the column as Text and re-type the ids",
            ))


def cells_text(refs: Sequence[CellRef], limit: int = 6) -> str:
    """`` in 113 cells: Purchase Orders!V2, V3, ...``; nothing for one cell (the issue's
    own place names it)."""
    if len(refs) == 1:
        return ""
    shown_refs = [str(refs[0]), *(r.a1 for r in refs[1:limit])]
    more = ", ..." if len(refs) > limit else ""
    return f" in {len(refs):,} cells: {', '.join(shown_refs)}{more}"


def hold_back_rows(
    result: ValidationResult, table: Table, numbers: Sequence[int], issue: Issue,
    groups: Iterable[tuple[str, Sequence[int]]], *, until: str,
) -> set[int]:
    """The rows ``numbers`` are not sent (each invalid with ``issue``, said once), nor is
    anything that holds one: every other row of a PO or booking (``groups``: its name and
    rows) holding one is held back "until" the rows are fixed (``until``: "{rows} are
    unhidden or deleted"). Returns the rows of the groups that stay valid."""
    result.issues.append(issue)
    stopped = set(numbers)
    kept: set[int] = set()
    for name, rows in groups:
        mine = sorted(stopped.intersection(rows))
        if not mine:
            kept.update(rows)
            continue
        many = len(mine) > 1
        why = until.format(rows=f"row{'s' if many else ''} {', '.join(str(n) for n in mine)}",
                           are="are" if many else "is", have="have" if many else "has",
                           their="their" if many else "its")
        for number in rows:
            if number not in stopped:
                result.invalid_rows[number] = [Issue(
                    CellRef(table.sheet, number, -1), "", name, IssueCode.PO_INVALID, ERROR,
                    f"held back: {name} is sent once its {why}", "",
                )]
    for number in numbers:
        result.invalid_rows[number] = [*result.invalid_rows.get(number, ()), issue]
    return kept


def hold_back_hidden_rows(
    result: ValidationResult, table: Table, groups: Iterable[tuple[str, Sequence[int]]],
) -> set[int] | None:
    """Rows hidden in the sheet are not sent, nor is anything that holds one.

    A filter or Hide Rows may mean "not these" or only "not now on screen": which one
    cannot be told from the file, so bulkpo does not guess. One error names the hidden
    rows (:func:`hold_back_rows`). None when no data row is hidden (nothing changed).
    """
    if not table.hidden_rows:
        return None
    hidden = sorted(table.hidden_rows.intersection(r.number for r in table.rows))
    if not hidden:
        return None
    refs = [CellRef(table.sheet, n, -1) for n in hidden]
    shown = ", ".join(str(n) for n in hidden[:12]) + (", ..." if len(hidden) > 12 else "")
    issue = Issue(
        refs[0], "", "", IssueCode.HIDDEN_ROW, ERROR,
        f"{len(hidden):,} row{'s are' if len(hidden) > 1 else ' is'} hidden in the sheet "
        f"(a filter or Hide Rows): row{'s' if len(hidden) > 1 else ''} {shown}; whether "
        "hidden rows are meant to be sent cannot be told, so they are not",
        "unhide them to send them (clear the filter, or select the rows and Unhide), or "
        "delete them; then check the file again", also=tuple(refs[1:]),
    )
    return hold_back_rows(result, table, hidden, issue, groups,
                          until="hidden {rows} {are} unhidden or deleted")


def hold_back_merged(
    result: ValidationResult, table: Table, key: str,
    groups: Iterable[tuple[str, Sequence[int]]],
) -> set[int] | None:
    """Cells of column ``key`` merged over several rows (read as each row's by the
    reader) are not sent where that reading is not the only one: a Quantity merged over
    two lines may be each line's or their total. None when there is none."""
    col = result.header_map.column_of.get(key)
    spans = table.merged.get(col, ()) if col is not None else ()
    present = {r.number for r in table.rows} if spans else set()
    spans = [(top, bottom) for top, bottom in spans if top in present]
    if col is None or not spans:
        return None
    numbers = sorted({n for top, bottom in spans for n in range(top, bottom + 1)} & present)
    header = table.headers[col] if col < len(table.headers) and table.headers[col] else key
    letter = column_letter(col)
    places = ", ".join(f"{letter}{top}:{letter}{bottom}" for top, bottom in spans[:6])
    places += ", ..." if len(spans) > 6 else ""
    refs = [CellRef(table.sheet, top, col) for top, _bottom in spans]
    issue = Issue(
        refs[0], header, "", IssueCode.MERGED_CELL, ERROR,
        f"{header} is one merged cell over several rows ({places}): whether its value is "
        "each row's or their total cannot be told",
        f"unmerge it and write each row's {header}", also=tuple(refs[1:]),
    )
    # The reader's warning (on the table, and so in the result) said every merged cell is
    # read on each row: not this column's.
    rest = {c: spans for c, spans in table.merged.items() if c != col}
    again = merged_cells_issue(table, rest) if rest else None
    for issues in (table.issues, result.issues):
        at = next((k for k, i in enumerate(issues)
                   if i.code is IssueCode.MERGED_CELL and i.severity is WARNING), None)
        if at is not None and again is not None:
            issues[at] = again
        elif at is not None:
            del issues[at]
    literal = header.replace("{", "{{").replace("}", "}}")  # a header is the user's text
    return hold_back_rows(result, table, numbers, issue, groups,
                          until="{rows} {have} a " + literal + " of {their} own")


def want_for(mode: object) -> ports.Want | None:
    if mode == "ocean":
        return "seaport"
    if mode == "air":
        return "airport"
    return None


def check_port(
    checker: Checker, state: RowState, key: str, want: ports.Want | None
) -> ports.PortInfo | None:
    value = state.values.get(key)
    if not isinstance(value, str):
        return None
    f = checker.by_key[key]
    port, problem = ports.check_port(value, want=want, accept_iata=f.col.accepts_iata)
    if problem is not None and not problem.error:
        checker.warn_once(checker.ref(state, key), key, value, problem.code, problem.message,
                          problem.suggestion)
    elif problem is not None:
        checker.error(state, key, problem.code, problem.message, problem.suggestion, value=value)
        state.values[key] = BAD
        return None
    assert port is not None
    state.values[key] = ports.fold_code(value)
    return port


def finish(
    checker: Checker, table: Table, header_map: HeaderMap, setup: list[Issue],
    issues: list[Issue],
) -> list[Issue]:
    checker.number_warnings()
    checker.once_warnings()
    issues.sort(key=lambda i: (i.ref.row, i.ref.col) if i.ref is not None else (0, 0))
    return [*table.issues, *header_map.issues, *setup, *issues]


def settle_currency(checker: Checker, state: RowState) -> None:
    """A price that came with its currency fills the row's blank Currency, or must agree
    with it; a cost with no currency at all is said once for the sheet (sent as USD)."""
    values = state.values
    cost, currency = values.get("unit_cost"), values.get("currency")
    if type(cost) is Priced:
        values["unit_cost"] = Decimal(cost)
        if currency is None:
            if cost.currency is None:
                checker.error(state, "unit_cost", IssueCode.CURRENCY_CONFLICT,
                              f'"{cost.mark}" is the sign of {" and ".join(sorted(cost.fits))}',
                              "fill Currency for this row")
            else:
                values["currency"] = cost.currency
        elif isinstance(currency, str) and currency not in cost.fits:
            checker.error(state, "unit_cost", IssueCode.CURRENCY_CONFLICT,
                          f'the price is written in "{cost.mark}" but Currency says {currency}',
                          "make the price and the Currency agree")
    elif cost is not None and cost is not BAD and currency is None:
        no_currency(checker, state.number)


def no_currency(checker: Checker, row: int) -> None:
    checker.warn_once(checker.ref_at(row, "unit_cost"), "unit_cost", "", IssueCode.NO_CURRENCY,
                      "unit costs with no currency in the file are sent as USD",
                      "add a Currency column, or a default currency, if they are not USD")


INCOTERM_PLACE_KEY = "incoterm_place"
"""The metadata key the named place of "FOB Shanghai" goes to: the PO body has no field."""


def with_incoterm_place(metadata: dict[str, list[str]], incoterm: object) -> dict[str, list[str]]:
    """The PO's metadata with the Incoterm's named place, when the cell gave one."""
    place = getattr(incoterm, "place", "")
    if not place or metadata.get(INCOTERM_PLACE_KEY):
        return metadata
    return {**metadata, INCOTERM_PLACE_KEY: [place]}


def opt_str(values: dict[str, object], key: str) -> str | None:
    v = values.get(key)
    return v if isinstance(v, str) else None


def all_invalid(result: ValidationResult, table: Table, header_map: HeaderMap) -> ValidationResult:
    errors = [i for i in header_map.issues if i.severity is ERROR]
    for row in table.rows:
        result.invalid_rows[row.number] = errors
    result.issues = [*table.issues, *header_map.issues]
    return result
