"""ERP layouts: header and line tables, record types, continuation and totals rows, made plain.

Runs between header mapping and validation on the rows as read: every row it
takes out (a PO header row, a totals row, a line the ERP deleted) is recorded
with the reason in :attr:`HeaderMap.skipped_rows`, and every value it fills in
(a PO number from the line above, a header's cells on its lines) is said once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from operator import itemgetter

from bulkpo.cells import cell_text, is_blank
from bulkpo.columns import ColumnSet, ColumnType
from bulkpo.domain import PurchaseOrder
from bulkpo.issues import Issue, IssueCode, Severity
from bulkpo.mapping import HeaderMap, bracketed_code, map_headers
from bulkpo.table import CellRef, CellValue, Row, Table

__all__ = ["apply_layout", "divide_by_price_unit", "join_headers"]

WARNING = Severity.WARNING

_HEADER_TYPES = {"h", "header", "head", "hdr"}
_LINE_TYPES = {"d", "line", "detail", "l", "item", "i"}
_DELETED = {"l", "x", "y", "yes", "true", "1", "deleted", "cancelled", "canceled"}
_ORDER_TYPES = {"", "order", "purchase order", "po", "standard"}
_CANCELLED_STATUS = {"canceled", "cancelled", "deleted", "void"}
_TOTAL_WORDS = re.compile(r"^\s*(grand\s+)?(total|totals|sum|summe|gesamt)\b", re.IGNORECASE)
_NULL_DATES = {"00000000", "0000-00-00", "1900-01-01", "01/01/1900", "1/1/1900", "01.01.1900"}
_NULL_DAY = dt.date(1900, 1, 1)
_GLUED_CODE = re.compile(r"^\s*(\d{4,})\s+(\S.*)$")


def _blank(row: Row, index: int | None) -> bool:
    if index is None:
        return True
    values = row.values
    if index >= len(values):
        return True
    v = values[index]
    return v is None or (v.__class__ is str and not v.strip())


def _text(row: Row, index: int | None) -> str:
    return "" if index is None else cell_text(row.get(index)).strip()


def _add_column(table: Table, header: str) -> int:
    table.headers.append(header)
    return len(table.headers) - 1


def join_headers(table: Table, hm: HeaderMap, headers: Table, columns: ColumnSet) -> None:
    """Give each line row the PO-level cells of its PO's row in a separate header table."""
    head_map = map_headers(headers, columns)
    po_head = head_map.column_of.get("po_number")
    po_line = hm.column_of.get("po_number")
    if po_head is None or po_line is None:
        hm.issues.append(Issue(CellRef(headers.sheet, headers.header_row, 0), "PO Number", "",
                               IssueCode.REQUIRED, Severity.ERROR,
                               "the header table and the line table must both have a PO number "
                               "column to be joined on", "name the PO number column in both"))
        return
    carried = [
        (key, index) for key, index in head_map.column_of.items()
        # Currency is a line column, but a header table (EKKO's WAERS) gives it per PO.
        if (columns.by_key(key).po_level or key == "currency") and key != "po_number"
        and key not in hm.column_of
    ]
    roles = [(r, i) for r, i in head_map.role_of.items() if r not in hm.role_of]
    by_po: dict[str, Row] = {}
    for row in headers.rows:
        name = _text(row, po_head)
        if name:
            by_po.setdefault(name, row)
    targets: list[tuple[int, int]] = []
    for key, index in carried:
        new = _add_column(table, headers.headers[index])
        hm.column_of[key] = new
        hm.headers[key] = headers.headers[index]
        targets.append((index, new))
    for role, index in roles:
        new = _add_column(table, headers.headers[index])
        hm.role_of[role] = new
        targets.append((index, new))
    missing: list[str] = []
    for row in table.rows:
        head = by_po.get(_text(row, po_line))
        if head is None:
            if _text(row, po_line) and _text(row, po_line) not in missing:
                missing.append(_text(row, po_line))
            continue
        for source, new in targets:
            row.set(new, head.get(source))
    joined = ", ".join(headers.headers[i] for _k, i in [*carried, *roles])
    hm.decisions.append(f"joined {headers.path} on the PO number: {joined or 'no new columns'}")
    if missing:
        hm.issues.append(Issue(CellRef(table.sheet, table.header_row, po_line), "", "",
                               IssueCode.PO_CONFLICT, WARNING,
                               f"{len(missing)} PO(s) of the lines have no header row in "
                               f"{headers.path}: {', '.join(missing[:5])}", ""))


def apply_layout(
    table: Table,
    hm: HeaderMap,
    columns: ColumnSet,
    *,
    values: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Make an ERP's rows plain PO lines, in place; say once what was read how."""
    _record_types(table, hm, columns)
    every_po_number = _drop_rows(table, hm, columns)
    # Unquoting can leave a PO number blank ('"  "'): then the column is looked at again.
    if _unquote_ids(table, hm) or not every_po_number:
        _fill_down(table, hm, columns)
    _null_dates(table, hm, columns)
    _glued_vendor_codes(table, hm)
    if hm.sku_in_brackets:
        _split_brackets(table, hm)
    if values:
        _value_tables(table, hm, values)


def _record_types(table: Table, hm: HeaderMap, columns: ColumnSet) -> None:
    """``row_type`` header/line, ``RECORD TYPE`` H/D: a header row's cells fill its lines."""
    kind = hm.role_of.get("record_type")
    po = hm.column_of.get("po_number")
    if kind is None or po is None:
        return
    po_level = [i for k, i in hm.column_of.items() if columns.by_key(k).po_level]
    po_level += [i for r, i in hm.role_of.items() if r == "vendor_code"]
    heads: dict[str, Row] = {}
    kept: list[Row] = []
    for row in table.rows:
        word = _text(row, kind).casefold()
        if word in _HEADER_TYPES:
            heads.setdefault(_text(row, po), row)
            hm.skipped_rows[row.number] = (
                f"a PO header row ({table.headers[kind]} = {_text(row, kind)}): its PO-level "
                "cells fill its lines")
        else:
            kept.append(row)
    for row in kept:
        head = heads.get(_text(row, po))
        if head is None:
            continue
        for index in po_level:
            if _blank(row, index) and not _blank(head, index):
                row.set(index, head.get(index))
    table.rows = kept
    if heads:
        hm.decisions.append(f'"{table.headers[kind]}" tells header rows from line rows: '
                            f"{len(heads)} header row(s) give their lines the PO-level fields")


def _drop_rows(table: Table, hm: HeaderMap, columns: ColumnSet) -> bool:
    """Totals rows, deleted or cancelled lines and a PO's summary row are not lines.

    True when every row kept has its PO number (it took the plain row's shortcut), so
    that no row is left for :func:`_fill_down`.
    """
    po = hm.column_of.get("po_number")
    sku = hm.column_of.get("sku")
    name = hm.column_of.get("product_name")
    qty = hm.column_of.get("quantity")
    line = hm.column_of.get("line_number")
    deleted = hm.role_of.get("deleted_flag")
    status = hm.role_of.get("line_status")
    doc_type = hm.role_of.get("document_type")
    mapped = {*hm.column_of.values(), *hm.role_of.values()}
    has_lines: set[str] | None = None  # POs with an item row; only a summary row asks
    # A PO number merged down over the PO's rows: below its first row, the file holds
    # what an export leaving it blank holds (a continuation of the PO above).
    spans = table.merged.get(po, []) if po is not None else []
    continued = {n for top, bottom in spans for n in range(top + 1, bottom + 1)}

    def po_has_lines(row: Row) -> bool:
        nonlocal has_lines
        if has_lines is None:
            has_lines = {_text(r, po) for r in table.rows
                         if not (_blank(r, sku) and _blank(r, name))}
        return _text(row, po) in has_lines

    kept: list[Row] = []
    # The common row (a PO number, an item, a first cell of a mapped column, no flag
    # columns) is a line: settled by three cell tests inlined here, because this loop
    # runs for every row of the file; only the other rows pay for the careful tests.
    fast = deleted is None and status is None and doc_type is None and 0 in mapped and (
        sku is not None and po is not None)
    every_po_number = fast
    at_sku, at_po = sku or 0, po or 0
    need = max(at_sku, at_po) + 1
    for row in table.rows:
        if fast:
            values = row.values
            if len(values) >= need:
                a, b, c = values[at_sku], values[at_po], values[0]
                if a is not None and b is not None and c is not None and (
                    a.__class__ is not str or a.strip()) and (
                    b.__class__ is not str or b.strip()) and (
                    c.__class__ is not str or c.strip()
                ):
                    kept.append(row)
                    continue
        no_item = _blank(row, sku) and _blank(row, name)
        every_po_number = False
        why = ""
        if doc_type is not None and _text(row, doc_type).casefold() not in _ORDER_TYPES:
            why = (f"not a purchase-order line ({table.headers[doc_type]} = "
                   f"{_text(row, doc_type)})")
        elif deleted is not None and _text(row, deleted).casefold() in _DELETED:
            why = (f"a line the ERP marks deleted or cancelled "
                   f"({table.headers[deleted]} = {_text(row, deleted)})")
        elif status is not None and _text(row, status).casefold() in _CANCELLED_STATUS:
            why = f"a cancelled line ({table.headers[status]} = {_text(row, status)})"
        elif _label_row(row, mapped):
            why = "a label or note line of the export (no PO data)"
            _stated_date_order(table, hm, columns, row)
        elif no_item and (_blank(row, po) or row.number in continued) and _blank(row, line):
            why = ("a totals row (no PO number, item or line number)"
                   if not _quantity_zero(row, qty) else "a note line (no item or quantity)")
        elif no_item and any(isinstance(v, str) and _TOTAL_WORDS.match(v) for v in row.values):
            why = "a totals row"
        elif no_item and _blank(row, qty) and po_has_lines(row):
            why = "the PO's summary row (no item or quantity; its lines follow)"
        elif _blank(row, sku) and not _blank(row, name) and _quantity_zero(row, qty):
            why = "a note line (a description with no quantity)"
        if why:
            hm.skipped_rows[row.number] = why
        else:
            kept.append(row)
    table.rows = kept
    return every_po_number


def _label_row(row: Row, mapped: set[int]) -> bool:
    """ERPNext's "Column Name:", "Mandatory:" rows and "Start entering data below this line"."""
    values = row.values
    first = next((i for i, v in enumerate(values) if not is_blank(v)), None)
    # Most rows settle it on their first cell: a mapped column's value is data.
    if first is None or first in mapped or not isinstance(values[first], str):
        return False
    text = values[first]
    assert isinstance(text, str)
    if text.strip().endswith(":"):
        return True
    return all(is_blank(v) for v in values[first + 1:])


_DATE_FORMATS = {"dd-mm-yyyy": "dmy", "dd.mm.yyyy": "dmy", "dd/mm/yyyy": "dmy",
                 "mm-dd-yyyy": "mdy", "mm/dd/yyyy": "mdy"}


def _stated_date_order(table: Table, hm: HeaderMap, columns: ColumnSet, row: Row) -> None:
    """ERPNext's "Info:" row states the system date format (dd-mm-yyyy) under date columns."""
    for key, index in hm.column_of.items():
        if columns.by_key(key).type is ColumnType.DATE:
            order = _DATE_FORMATS.get(_text(row, index).casefold())
            if order is not None and hm.date_order is None:
                hm.date_order = order
                hm.decisions.append(f"row {row.number} states the date format "
                                    f"{_text(row, index)}: dates are read {order}")


def _quantity_zero(row: Row, qty: int | None) -> bool:
    if qty is None:
        return False
    v = row.get(qty)
    if is_blank(v):
        return True
    try:
        return Decimal(cell_text(v).strip().replace(",", ".")) == 0
    except InvalidOperation:
        return False


def _fill_down(table: Table, hm: HeaderMap, columns: ColumnSet) -> None:
    """Continuation lines (Odoo, ERPNext) leave the PO number blank: it is the one above."""
    po = hm.column_of.get("po_number")
    if po is None:
        return
    last: CellValue = None
    filled: list[int] = []
    for row in table.rows:
        values = row.values
        v = values[po] if po < len(values) else None
        if v is not None and not (v.__class__ is str and not v.strip()):
            last = v
        elif last is not None:
            row.set(po, last)
            filled.append(row.number)
    if filled:
        _fill_parent_cells(table, hm, po, set(filled))
        shown = ", ".join(str(n) for n in filled[:5]) + (" ..." if len(filled) > 5 else "")
        message = (f"{len(filled)} row(s) leave the PO number blank (rows {shown}): each "
                   "continues the PO above it, whose PO-level cells it shares")
        hm.decisions.append(message)
        hm.issues.append(Issue(CellRef(table.sheet, filled[0], po), table.headers[po], "",
                               IssueCode.PO_CONFLICT, WARNING, message,
                               "repeat the PO number on every line to silence this"))


def _unquote_ids(table: Table, hm: HeaderMap) -> bool:
    """ERPNext's legacy export wraps names in literal quotes: ``"PUR-ORD-2026-00041"``.
    True when it did."""
    index = hm.column_of.get("po_number")
    if index is None:
        return False
    texts = (v for row in table.rows if isinstance(v := row.get(index), str) and v.strip())
    first = next(texts, None)
    if first is None or not all(
        len(t) > 2 and t[0] == t[-1] == '"' for t in itertools.chain((first,), texts)
    ):
        return False
    for row in table.rows:
        v = row.get(index)
        if isinstance(v, str) and v.strip():
            row.set(index, v[1:-1])
    hm.decisions.append(f'"{table.headers[index]}" wraps every PO number in quotes: read '
                        "without them")
    return True


def _fill_parent_cells(table: Table, hm: HeaderMap, po: int, filled: set[int]) -> None:
    """A column blank on every continuation row is the parent's (Odoo's order Currency):
    its value is the PO's, also on those rows."""
    parent = [
        index for index in {*hm.column_of.values()} - {po}
        if all(_blank(row, index) for row in table.rows if row.number in filled)
    ]
    last: Row | None = None
    for row in table.rows:
        if row.number not in filled:
            last = row
        elif last is not None:
            for index in parent:
                row.set(index, last.get(index))


def _null_date(v: CellValue) -> bool:
    kind = v.__class__
    if kind is str:
        return v.strip() in _NULL_DATES  # type: ignore[union-attr]
    if kind is dt.datetime:
        return v.date() == _NULL_DAY  # type: ignore[union-attr]
    return kind is dt.date and v == _NULL_DAY


def _column(rows: list[Row], index: int) -> list[CellValue]:
    """Column ``index`` of every row (None past the end of a short row), in C loops when
    every row reaches it."""
    cells = [row.values for row in rows]
    if cells and min(map(len, cells)) > index:
        return list(map(itemgetter(index), cells))
    return [values[index] if index < len(values) else None for values in cells]


def _null_dates(table: Table, hm: HeaderMap, columns: ColumnSet) -> None:
    """``00000000`` and ``1900-01-01`` are how ERPs write "no date"."""
    for key, index in hm.column_of.items():
        if columns.by_key(key).type is not ColumnType.DATE:
            continue
        # Each distinct cell is tested once first: a column with no null date (the
        # usual one) is not walked row by row.
        if not any(_null_date(v) for v in set(_column(table.rows, index))):
            continue
        count = 0
        for row in table.rows:
            values = row.values
            if index >= len(values):
                continue
            if _null_date(values[index]):
                row.set(index, None)
                count += 1
        if count:
            hm.decisions.append(f'{count} "{table.headers[index]}" cell(s) hold an ERP null '
                                "date (00000000, 1900-01-01) and are read as blank")


def _glued_vendor_codes(table: Table, hm: HeaderMap) -> None:
    """SAP's ``100234 Ningbo Homeware Co., Ltd.``: the number is the vendor code, not the name."""
    index = hm.column_of.get("seller_name")
    if index is None:
        return
    # One cell without a number in front settles it (the usual case): no scan of the rest.
    texts = (_text(row, index) for row in table.rows if not _blank(row, index))
    first = next(texts, None)
    if first is None or not _GLUED_CODE.match(first) or not all(
        _GLUED_CODE.match(t) for t in texts
    ):
        return
    for row in table.rows:
        found = _GLUED_CODE.match(_text(row, index))
        if found:
            row.set(index, found.group(2).strip())
    hm.decisions.append(f'"{table.headers[index]}" glues the vendor number to the name: the '
                        "name is sent as the seller, the number is not")


def _split_brackets(table: Table, hm: HeaderMap) -> None:
    """Odoo's ``[FURN_8888] Office Lamp``: the code is the SKU, the rest the product name."""
    name = hm.column_of["product_name"]
    sku = _add_column(table, f"{table.headers[name]} [code]")
    hm.column_of["sku"] = sku
    hm.headers["sku"] = table.headers[name]
    for row in table.rows:
        found = bracketed_code(row.get(name))
        if found is not None:
            row.set(sku, found[0])
            row.set(name, found[1])


def _value_tables(table: Table, hm: HeaderMap, values: Mapping[str, Mapping[str, str]]) -> None:
    """A mapping's value tables: the site's own words (and vendor codes) to what Flexport takes."""
    for key, words in values.items():
        index = hm.column_of.get(key)
        if not words:
            continue
        if index is None and key == "seller_ref" and "vendor_code" in hm.role_of:
            source = hm.role_of["vendor_code"]
            index = _add_column(table, f"{table.headers[source]} -> seller_ref")
            hm.column_of["seller_ref"] = index
            hm.headers["seller_ref"] = table.headers[source]
            for row in table.rows:
                row.set(index, row.get(source))
        if index is None:
            continue
        folded = {k.strip().casefold(): v for k, v in words.items()}
        codes = key == "seller_ref" and "vendor_code" in hm.role_of
        for row in table.rows:
            text = _text(row, index)
            if text.casefold() in folded:
                row.set(index, folded[text.casefold()])
            elif codes:
                row.set(index, None)  # a vendor code the table does not translate: not a ref


def _price_unit(v: CellValue) -> Decimal | None:
    if isinstance(v, bool) or is_blank(v):
        return None
    text = cell_text(v).strip()
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", text):
        text = re.sub(r"[.,]", "", text)  # price units are whole numbers: 1.000 is a thousand
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value > 0 else None


def _plain(value: Decimal) -> Decimal:
    """85 / 100 -> 0.85, 5000 / 100 -> 50 (not 5E+1)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value  # type: ignore[operator]


def divide_by_price_unit(
    table: Table, hm: HeaderMap, purchase_orders: list[PurchaseOrder]
) -> None:
    """SAP ``Per``/``PEINH``, D365 ``PURCHASEPRICEQUANTITY``: the price is for that many units."""
    index = hm.role_of.get("price_unit")
    if index is None:
        return
    by_number = {row.number: row for row in table.rows}
    divided = 0
    for po in purchase_orders:
        for line in po.lines:
            row = by_number.get(line.row)
            per = _price_unit(row.get(index)) if row is not None else None
            if per is None or per == 1 or line.unit_cost is None:
                continue
            line.unit_cost = _plain(line.unit_cost / per)
            divided += 1
    if divided:
        hm.decisions.append(f'"{table.headers[index]}" is the price unit: {divided} price(s) '
                            "are for that many units and were divided to a unit price")
