"""Header mapping: which sheet column holds which spec column, and what is wrong with headers."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bulkpo.cells import article
from bulkpo.columns import (
    Column,
    ColumnSet,
    Kind,
    fold_header,
    metadata_key,
    strip_decoration,
)
from bulkpo.issues import Issue, IssueCode, Severity
from bulkpo.table import CellRef, Table, column_letter, own_columns

__all__ = ["ROLES", "ROLE_OF", "HeaderMap", "map_headers"]

ERROR = Severity.ERROR
WARNING = Severity.WARNING

ROLES: dict[str, tuple[str, ...]] = {
    # Columns no Flexport field takes but that change what a row means.
    # Not "Price Unit": Odoo's price_unit folds to it and is the unit price itself.
    "price_unit": ("Per", "PEINH", "PURCHASEPRICEQUANTITY", "pro", "Preiseinheit"),
    "deleted_flag": ("LOEKZ", "CANCEL_FLAG", "Deletion Indicator", "Deleted", "Cancelled"),
    "line_status": ("PURCHASEORDERLINESTATUS", "Line Status"),
    "record_type": ("row_type", "RECORD TYPE", "Record Type", "Row Type"),
    "document_type": ("Document Type",),
    "vendor_code": (
        "Vendor Code", "Vendor ID", "Vendor No", "Vendor Number", "Supplier Code", "Supplier ID",
        "LIFNR", "ORDERVENDORACCOUNTNUMBER", "Buy-from Vendor No.", "VENDOR NUMBER",
    ),
}
"""ERP columns that are not PO fields: a price unit divides the price, a deletion flag or a
cancelled line status drops the row, a record type tells header rows from line rows, and a
vendor code is kept for a value table (never sent as an entity ref on its own)."""

ROLE_OF = {fold_header(name): role for role, names in ROLES.items() for name in names}

# Headers whose field depends on the file: the first free key wins (in this order) or, for
# "Units", what the cells hold (numbers: a quantity; words: a unit).
_BY_CONTEXT: dict[str, tuple[str, ...]] = {
    "name": ("po_number", "seller_name"),
    "id": ("po_number",),
    "units": ("quantity", "unit_of_measure"),
}

# "Item"/"Item Number" are a line number in SAP and many public systems, not a SKU.
_LINE_LIKE = {fold_header(h) for h in ("Item", "Item Number", "Item No", "No.", "Position")}

_PRIORITY = {"mapping": 0, "header": 1, "key": 2, "alias": 3}


@dataclass
class HeaderMap:
    """Which sheet column holds which spec column, and what was wrong with the headers.

    ``column_of`` maps a column key to its 0-based sheet column; ``metadata_of`` a
    metadata key (``metadata.size`` -> ``size``) to its sheet column; ``headers``
    a key to the header text as the user wrote it; ``role_of`` an ERP role
    (:data:`ROLES`) to its column; ``decisions`` says, for each field two columns
    claimed or a header read by context, which column won and why.
    """

    column_of: dict[str, int] = field(default_factory=dict)
    metadata_of: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # keys of required columns not found
    role_of: dict[str, int] = field(default_factory=dict)
    decisions: list[str] = field(default_factory=list)
    sku_in_brackets: bool = False  # the SKU is the [CODE] of an Odoo-style display name
    skipped_rows: dict[int, str] = field(default_factory=dict)  # sheet row -> why not data
    date_order: str | None = None  # "dmy"/"mdy" when the export's notes state the date format

    def report(self, table: Table) -> dict[str, object]:
        """The header row used, column -> field, the decisions and the rows not read as
        lines, for ``--format json`` and front ends."""
        return {
            "sheet": table.sheet,
            "header_row": table.header_row,
            "columns": self.mapping(table),
            "decisions": list(self.decisions),
            "skipped_rows": {str(n): why for n, why in sorted(self.skipped_rows.items())},
        }

    def mapping(self, table: Table) -> dict[str, str]:
        """Column header -> field key, for people and front ends."""
        out: dict[str, str] = {}
        for key, index in self.column_of.items():
            if index < len(table.headers):
                out[table.headers[index]] = key
        for key, index in self.metadata_of.items():
            out[table.headers[index]] = f"metadata.{key}"
        for role, index in self.role_of.items():
            out.setdefault(table.headers[index], role)
        return out


@dataclass
class _Claim:
    index: int
    header: str
    how: str  # mapping, header, key, alias

    @property
    def decorated(self) -> bool:
        return strip_decoration(self.header) != self.header


def _column_values(table: Table, index: int, limit: int = 200) -> list[object]:
    values: list[object] = []
    for row in table.rows[:limit]:
        v = row.get(index)
        if v is not None and not (isinstance(v, str) and not v.strip()):
            values.append(v)
    return values


def _as_int(v: object) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"\s*\d{1,6}\s*", v):
        return int(v)
    return None


def looks_like_line_numbers(values: Sequence[object]) -> bool:
    """10, 20, 30 or 1, 2, 3 (restarting per PO): small whole numbers, not item codes."""
    numbers = [_as_int(v) for v in values]
    if not numbers or any(n is None or n <= 0 for n in numbers):
        return False
    distinct = sorted({n for n in numbers if n is not None})
    # Line numbers count up from one step: 1, 2, 3 or 10, 20, 30 (SAP 00010), few gaps.
    return any(
        all(n % step == 0 for n in distinct) and distinct[-1] <= step * (len(distinct) + 2)
        for step in (1, 10, 10000)
    )


def _numeric(values: Sequence[object]) -> bool:
    def number(v: object) -> bool:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return True
        return isinstance(v, str) and bool(re.fullmatch(r"\s*[\d.,\s]+\s*", v))

    return bool(values) and all(number(v) for v in values)


_BRACKETED = re.compile(r"^\s*\[([^\]]+)\]\s*(.*)$")


def bracketed_code(value: object) -> tuple[str, str] | None:
    """``[FURN_8888] Office Lamp`` -> (``FURN_8888``, ``Office Lamp``), else None."""
    if not isinstance(value, str):
        return None
    found = _BRACKETED.match(value)
    return (found.group(1).strip(), found.group(2).strip()) if found else None


def map_headers(
    table: Table,
    columns: ColumnSet,
    *,
    defaults: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> HeaderMap:
    """Match the sheet's headers to the spec: unknown headers are warnings, a missing
    required column (with no default) is one error placed on the header row.

    ``overrides`` (header text -> field key, ``metadata.<key>``, a role, or ``""`` to
    ignore) is a saved mapping's word, and beats every alias.
    """
    result = HeaderMap()
    defaults = defaults or {}
    by_fold = {fold_header(h): k for h, k in (overrides or {}).items()}
    claims: dict[str, list[_Claim]] = {}
    context: list[tuple[int, str, tuple[str, ...]]] = []
    unknown: list[tuple[int, str]] = []
    headers_folded = {fold_header(col.header): col for col in columns.columns}
    known = set(columns.keys)
    # The ERP roles (price unit, deletion flag...) are purchase-order columns.
    erp = columns.kind is Kind.PURCHASE_ORDERS and {"po_number", "sku"} <= known
    ours = own_columns(table.headers)  # a report or fix file of bulkpo's, read again
    for index, text in enumerate(table.headers):
        header = (text or "").strip()
        if not header or index in ours:
            continue
        folded = fold_header(header)
        if folded in by_fold:
            key = by_fold[folded]
            if not key:
                continue
            meta = metadata_key(key)
            if meta is not None:
                result.metadata_of[meta] = index
            elif key in ROLES:
                result.role_of[key] = index
            else:
                claims.setdefault(key, []).append(_Claim(index, header, "mapping"))
            continue
        meta = metadata_key(header)
        if meta is not None:
            if meta in result.metadata_of:
                result.issues.append(_duplicate_header(
                    CellRef(table.sheet, table.header_row, index), header,
                    result.metadata_of[meta], table))
            else:
                result.metadata_of[meta] = index
            continue
        col = columns.match(header)
        keys = tuple(k for k in _BY_CONTEXT.get(folded, ()) if k in known)
        if col is None and keys:
            context.append((index, header, keys))
            continue
        role = ROLE_OF.get(folded) if erp else None
        if role is not None and role not in result.role_of:
            result.role_of[role] = index
            continue
        if col is None:
            unknown.append((index, header))
            continue
        how = "header" if folded in headers_folded else (
            "key" if folded == fold_header(col.key) else "alias")
        claims.setdefault(col.key, []).append(_Claim(index, header, how))

    if erp:
        _line_number_rule(table, columns, claims, result)
    order = list(_BY_CONTEXT)
    context.sort(key=lambda c: (order.index(fold_header(c[1])), c[0]))
    for index, header, keys in context:
        values = _column_values(table, index)
        if strip_decoration(header) != header:
            # A child table's "name" or "id" is the line's, never the PO's or the seller's.
            keys = tuple(k for k in keys if not columns.by_key(k).po_level)
            if not keys:
                unknown.append((index, header))
                continue
        if fold_header(header) == "id" and (
            looks_like_line_numbers(values)
            or any(isinstance(v, str) and v.startswith("__export__") for v in values)
        ):
            unknown.append((index, header))  # a row counter or an external ID
            continue
        if keys[0] == "quantity" and len(keys) > 1:
            key = keys[0] if _numeric(values) else keys[1]
            why = "its cells are numbers" if key == "quantity" else "its cells are unit words"
        else:
            key = next((k for k in keys if k not in claims), "")
            why = "the other fields it could name are taken" if key != keys[0] else (
                "no other column holds it")
        if key:
            claims.setdefault(key, []).append(_Claim(index, header, "alias"))
            result.decisions.append(
                f'"{header}" read as {columns.by_key(key).header}: {why}')
        else:
            unknown.append((index, header))

    if erp and "sku" not in claims:
        for claim in claims.get("product_name", []):
            values = _column_values(table, claim.index)
            # Most names carry their [CODE]; a product with no internal reference has none.
            coded = sum(1 for v in values if bracketed_code(v))
            if coded and coded * 2 >= len(values):
                result.sku_in_brackets = True
                result.decisions.append(
                    f'SKU read from the [CODE] in "{claim.header}" '
                    f"({_ref(table, claim.index)}); the rest is the product name")
                claims["product_name"].remove(claim)
                claims["product_name"].insert(0, claim)
                break

    for key, found in claims.items():
        spec = columns.by_key(key)
        winner = min(found, key=lambda c: _rank(c, spec))
        result.column_of[key] = winner.index
        result.headers[key] = winner.header
        for loser in found:
            if loser is winner:
                continue
            why = _why(winner, loser, spec)
            message = (f'"{winner.header}" ({_ref(table, winner.index)}) is used for '
                       f'{spec.header}; "{loser.header}" ({_ref(table, loser.index)}) also '
                       f"names it and is ignored: {why}")
            result.decisions.append(message)
            result.issues.append(Issue(
                CellRef(table.sheet, table.header_row, loser.index), loser.header, loser.header,
                IssueCode.DUPLICATE_COLUMN, WARNING, message,
                "map the other column with a mapping file if it is the right one"))

    sheet = columns.sheet_name
    taken = set(result.column_of)
    names = {fold_header(n): c for c in columns.columns for n in (c.header, *c.aliases)
             if c.key not in taken}
    for index, header in unknown:
        ref = CellRef(table.sheet, table.header_row, index)
        close = difflib.get_close_matches(fold_header(header), list(names), n=1, cutoff=0.88)
        hint = (
            f'did you mean "{names[close[0]].header}"? To keep it, name it "metadata.{header}"'
            if close
            else f'to send it as metadata, name it "metadata.{header}"'
        )
        result.issues.append(Issue(ref, header, header, IssueCode.UNKNOWN_COLUMN, WARNING,
                                   f'"{header}" is not {article(sheet)} {sheet} column '
                                   "and is ignored", hint))
    if "vendor_code" in result.role_of and "seller_ref" not in result.column_of:
        index = result.role_of["vendor_code"]
        result.decisions.append(
            f'"{table.headers[index]}" holds the ERP\'s vendor codes, which are not Flexport '
            "entity refs: it is not sent (a mapping's [values.seller_ref] table can translate "
            "them)")
    unmapped = [(i, h) for i, h in unknown]
    for col in _required_columns(columns):
        if (col.key in result.column_of or col.key in result.missing or col.default
                or defaults.get(col.key)):
            continue  # found, defaulted, or already asked about (Item of line numbers)
        if erp and col.key == "sku" and "product_name" in result.column_of:
            continue  # a line needs a SKU or a product name
        result.missing.append(col.key)
        result.issues.append(Issue(
            CellRef(table.sheet, table.header_row, 0), col.header, "", IssueCode.REQUIRED,
            ERROR, _missing_message(table, col, unmapped, result),
            f"name the column holding it '{col.header}', give --header-row if the header is "
            "another row, or write the mapping with `bulkpo map` and say which column it is",
        ))
    required = [c.key for c in _required_columns(columns)]
    if required and set(required) <= set(result.missing):
        # Not one required field: this row is probably not the header at all.
        shown = ", ".join(f'"{h.strip()}"' for h in table.headers if h and h.strip())
        result.issues = [i for i in result.issues if i.code != IssueCode.REQUIRED]
        result.issues.append(Issue(
            CellRef(table.sheet, table.header_row, 0), "", "", IssueCode.REQUIRED, ERROR,
            f"no column of row {table.header_row} ({_clip(shown)}) names a "
            f"{' or '.join(columns.by_key(k).header for k in required)}: row "
            f"{table.header_row} looks like the header, but which columns hold them?",
            "give the header row (header_row=, --header-row N) if it is another row, or a "
            "mapping (`bulkpo map FILE -o mapping.toml`, then --map mapping.toml)"))
    for col in columns.columns:
        result.headers.setdefault(col.key, col.header)
    _hidden_columns_read(table, result, columns)
    return result


def _hidden_columns_read(table: Table, result: HeaderMap, columns: ColumnSet) -> None:
    """A column hidden in the sheet (Hide Columns) is read all the same when its header
    names a field: said, so that nobody is surprised by values they do not see."""
    if not table.hidden_cols:
        return
    for key, index in sorted(result.column_of.items(), key=lambda kv: kv[1]):
        if index in table.hidden_cols:
            header = table.headers[index].strip()
            result.issues.append(Issue(
                CellRef(table.sheet, table.header_row, index), header, "",
                IssueCode.HIDDEN_COLUMN, WARNING,
                f"column {column_letter(index)} ({header}) is hidden in the sheet and is read "
                f"as {columns.by_key(key).header} all the same",
                "unhide it to check its values, or delete it (or map it to nothing) if it "
                "should not be read",
            ))


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _rank(claim: _Claim, col: Column) -> tuple[int, int, int]:
    # A child-table column (Order Lines/...) names a line field; the parent's names the PO's.
    wrong_level = int(claim.decorated == col.po_level)
    return (_PRIORITY[claim.how], wrong_level, claim.index)


def _why(winner: _Claim, loser: _Claim, col: Column) -> str:
    if winner.how == "mapping":
        return "the mapping names the first"
    if _PRIORITY[winner.how] < _PRIORITY[loser.how]:
        return f'"{winner.header}" is the field\'s own name'
    if winner.decorated != loser.decorated:
        return ("the PO's own column beats the lines'" if col.po_level
                else "the line table's column beats the PO's")
    return "the first of the two is used"


def _ref(table: Table, index: int) -> str:
    return CellRef(table.sheet, table.header_row, index).a1


def _line_number_rule(
    table: Table, columns: ColumnSet, claims: dict[str, list[_Claim]], result: HeaderMap
) -> None:
    """An "Item" column of 10, 20, 30 next to a Material column is a line number."""
    for claim in list(claims.get("sku", [])):
        if fold_header(claim.header) not in _LINE_LIKE or claim.how == "mapping":
            continue
        others = [c for c in claims["sku"] if c is not claim]
        values = _column_values(table, claim.index)
        if not others and not looks_like_line_numbers(values):
            continue
        claims["sku"].remove(claim)
        if not claims["sku"]:
            del claims["sku"]
        why = (f'"{others[0].header}" holds the SKU' if others
               else f"its values ({', '.join(str(v) for v in values[:3])}) are line numbers")
        if "line_number" not in claims:
            claims["line_number"] = [_Claim(claim.index, claim.header, "alias")]
            result.decisions.append(
                f'"{claim.header}" ({_ref(table, claim.index)}) read as the line number, '
                f"not the SKU: {why}")
        else:
            result.decisions.append(
                f'"{claim.header}" ({_ref(table, claim.index)}) is not the SKU ({why}) and is '
                "ignored")
        if "sku" not in claims and "product_name" not in claims:
            shown = ", ".join(str(v) for v in values[:3])
            result.issues.append(Issue(
                CellRef(table.sheet, table.header_row, claim.index), claim.header, shown,
                IssueCode.REQUIRED, ERROR,
                f"the only product column, '{claim.header}', holds {shown}: line numbers, "
                "not SKUs, and there is no SKU, material or description column. What "
                "identifies the products (which column, or a second file)?",
                "add the SKU column, or map the right one with a mapping file"))
            result.missing.append("sku")


def _missing_message(
    table: Table, col: Column, unmapped: list[tuple[int, str]], result: HeaderMap
) -> str:
    """Name the file's likely candidates for a missing column, not every header."""
    names = [fold_header(n) for n in (col.header, *col.aliases)]

    def likeness(header: str) -> float:
        folded = fold_header(header)
        return max(difflib.SequenceMatcher(None, folded, n).ratio() for n in names)

    ranked = sorted(unmapped, key=lambda ih: -likeness(ih[1]))
    candidates = [h for _i, h in ranked if likeness(h) >= 0.6][:3]
    text = f"required column '{col.header}' not found"
    if candidates:
        text += "; the likeliest columns: " + ", ".join(f'"{h}"' for h in candidates)
    else:
        text += f" in the header row (row {table.header_row})"
    return text


def _duplicate_header(ref: CellRef, header: str, first: int, table: Table) -> Issue:
    other = CellRef(table.sheet, table.header_row, first)
    return Issue(ref, header, header, IssueCode.DUPLICATE_COLUMN, WARNING,
                 f'"{header}" is a second column for the same field as {other.a1} and is ignored',
                 "delete or rename one of the two columns")


def _required_columns(columns: ColumnSet) -> list[Column]:
    # What the API refuses an object without is required whatever `required` says,
    # unless the settings give a default.
    return [c for c in columns.columns if c.required or c.api_required]


