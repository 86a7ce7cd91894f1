"""What a blank import template holds, derived from the column specs.

Pure data: :func:`template_spec` says which sheets, headers, hints, dropdowns,
formats and example rows a template has; ``bulkpo.sheets.template_writer``
turns that into an xlsx or csv file.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bulkpo.columns import (
    COLUMN_SETS,
    METADATA_PREFIX,
    Column,
    ColumnType,
    Kind,
    allowed_values,
    fold_header,
)
from bulkpo.issues import Issue, IssueCode, Severity
from bulkpo.reference import COUNTRIES, CURRENCIES
from bulkpo.table import CellRef, CellValue, Table

DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
"""Excel's text format: what users type in these columns (SKU 00123) stays as typed."""

INSTRUCTIONS_SHEET = "Instructions"
BOOLEAN_CHOICES = ("yes", "no")

# Types whose cells Excel must leave alone: a leading zero, "1E5" or "NA" is data.
_TEXT_TYPES = frozenset({
    ColumnType.TEXT, ColumnType.ENUM, ColumnType.COUNTRY, ColumnType.CURRENCY,
    ColumnType.PORT, ColumnType.HS_CODE, ColumnType.LIST,
})
_NUMBER_FORMATS: dict[ColumnType, str] = {
    ColumnType.DATE: DATE_FORMAT,
    # General, not "0": a quantity typed as 12.5 must show as 12.5 to be seen and fixed.
    ColumnType.INTEGER: "General",
    ColumnType.DECIMAL: "General",
    ColumnType.BOOLEAN: "General",
}
_PROMPT_MAX = 255  # Excel refuses longer data-validation input messages


@dataclass(frozen=True)
class TemplateColumn:
    """One column of a template's data sheet: header, hint, dropdown and format."""

    key: str                      # column key, or "metadata.<key>"
    header: str
    required: bool
    hint: str                     # the input message shown when a cell is selected
    choices: tuple[str, ...]      # dropdown values, () for none
    strict: bool                  # True: Excel refuses values outside ``choices``
    number_format: str            # Excel number format of the whole column
    width: int
    type: ColumnType = ColumnType.TEXT  # what Excel's data validation checks
    positive: bool = False        # a number that must be above 0


@dataclass(frozen=True)
class DataSheet:
    """The sheet users fill in: columns in spec order and example rows."""

    name: str
    columns: tuple[TemplateColumn, ...]
    rows: tuple[tuple[CellValue, ...], ...]


@dataclass(frozen=True)
class InstructionsSheet:
    """How to fill the template in, then the column reference as a table."""

    name: str
    title: str
    paragraphs: tuple[str, ...]
    table_header: tuple[str, ...]
    table_rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class TemplateSpec:
    """Everything a template file contains, independent of the file format."""

    kind: Kind
    data: DataSheet
    instructions: InstructionsSheet


# Example-row cells left blank because they contradict the example itself (an ocean FCL
# booking has no trucking terms, no lithium batteries, no 20' boxes).
_EXAMPLE_BLANKS: dict[Kind, frozenset[str]] = {
    Kind.PURCHASE_ORDERS: frozenset({"origin_address_ref", "destination_address_ref"}),
    Kind.BOOKINGS: frozenset({
        "containers_20", "containers_40", "containers_45hc", "li_ion_packing", "is_ltl",
        "payment_terms",
    }),
    Kind.NETWORK: frozenset({"owner_ref"}),
}

_CHECKED = (
    "bulkpo checks every row before anything is sent and names each problem by its cell, "
    "for example Purchase Orders!D7, so you can fix the file and load it again."
)

_HOW_TO: dict[Kind, tuple[str, ...]] = {
    Kind.PURCHASE_ORDERS: (
        "Fill in one row per PO line item on the 'Purchase Orders' sheet, starting in row 2 "
        "(replace the example row).",
        "A PO with several lines takes several rows: repeat the PO Number and the PO-level "
        "columns (buyer, seller, dates, ports...) on each of its rows, with the same values.",
        "Only the columns marked required must be filled; leave the others blank or delete "
        "them. Headers may be renamed to a name listed under 'Also recognised as'.",
        "Dates are YYYY-MM-DD. Ports are five-letter UN/LOCODEs such as CNYTN or USLAX.",
        "To store your own fields with a PO, add a column named metadata.<name>, for "
        "example metadata.department.",
        _CHECKED,
    ),
    Kind.BOOKINGS: (
        "Fill in one row per booking on the 'Bookings' sheet, starting in row 2 "
        "(replace the example row).",
        "Freight Type decides which columns apply: Load Type and container counts for "
        "ocean, LTL and Payment Terms for trucking.",
        "Entity and location refs must already exist in your Flexport network.",
        "Goods leaving mainland China need the Chinese export description.",
        "List the POs in the booking in PO Numbers, separated by commas.",
        "To store your own fields with a booking, add a column named metadata.<name>.",
        _CHECKED,
    ),
    Kind.NETWORK: (
        "Fill in one row per company entity (a supplier's or your own legal entity) and one "
        "row per location (factory, warehouse) on the 'Network' sheet, starting in row 2. "
        "Put this sheet in the same workbook as your POs: it is sent first.",
        "Type says which: entity or location. A location names the entity it belongs to "
        "in Owner Entity Ref, from this sheet or already in your network.",
        "Ref is what your POs and bookings name as buyer, seller, origin or destination. "
        "A ref your Flexport network has already is left as it is, never created twice.",
        "Country is an ISO two-letter code such as CN or US; UN/LOCODE is optional.",
        "To store your own fields with a location, add a column named metadata.<name> "
        "(entities take none in Flexport).",
        _CHECKED,
    ),
}

INSTRUCTIONS_TABLE_HEADER = (
    "Column", "Required", "Type", "Allowed values", "Description", "Example",
    "Also recognised as",
)


def example_value(col: Column) -> CellValue:
    """A column's example as a typed cell: dates as dates, counts as numbers."""
    if col.type is ColumnType.DATE:
        return dt.date.fromisoformat(col.example)
    if col.type is ColumnType.INTEGER:
        return int(col.example)
    if col.type is ColumnType.DECIMAL:
        number = float(col.example)
        return int(number) if number.is_integer() else number
    return col.example


def template_column(col: Column) -> TemplateColumn:
    """How one spec column appears in a template."""
    if col.type is ColumnType.ENUM:
        choices, strict = col.enum_values, True
    elif col.type is ColumnType.BOOLEAN:
        # yes/no in the dropdown, but true/false/x typed by hand are fine too.
        choices, strict = BOOLEAN_CHOICES, False
    elif col.type is ColumnType.COUNTRY:
        # Codes in the dropdown; a country's name is read too, so only a warning.
        choices, strict = tuple(sorted(COUNTRIES)), False
    elif col.type is ColumnType.CURRENCY:
        choices, strict = tuple(sorted(CURRENCIES)), False
    else:
        choices, strict = (), False
    hint = col.help
    if col.required:
        hint = "Required. " + hint
    if col.type is ColumnType.ENUM and len(col.enum_values) <= 12:
        hint += " Allowed: " + allowed_values(col) + "."
    elif col.type is ColumnType.LIST and col.enum_values:
        hint += " Any of: " + allowed_values(col) + "."
    return TemplateColumn(
        key=col.key,
        header=col.header,
        required=col.required,
        hint=hint[:_PROMPT_MAX],
        choices=choices,
        strict=strict,
        number_format=TEXT_FORMAT if col.type in _TEXT_TYPES else _NUMBER_FORMATS[col.type],
        width=col.width,
        type=col.type,
        positive=col.positive,
    )


def metadata_column(key: str) -> TemplateColumn:
    """A ``metadata.<key>`` column: free text stored with the object in Flexport."""
    return TemplateColumn(
        key=METADATA_PREFIX + key,
        header=METADATA_PREFIX + key,
        required=False,
        hint=f"Your own field '{key}', stored with the object in Flexport as metadata.",
        choices=(),
        strict=False,
        number_format=TEXT_FORMAT,
        width=max(14, len(METADATA_PREFIX + key) + 2),
    )


def template_spec(
    kind: Kind,
    *,
    metadata_keys: Sequence[str] = (),
    rows: Sequence[Mapping[str, CellValue]] | None = None,
) -> TemplateSpec:
    """The template of one kind: its data sheet and its Instructions sheet.

    ``rows`` (by column key, metadata as ``metadata.<key>``) replace the example
    row, which is how the sample files reuse the template's layout.
    """
    column_set = COLUMN_SETS[kind]
    columns = tuple(template_column(col) for col in column_set.columns) + tuple(
        metadata_column(key) for key in metadata_keys
    )
    if rows is None:
        blanks = _EXAMPLE_BLANKS[kind]
        rows = [{
            col.key: example_value(col)
            for col in column_set.columns
            if col.key not in blanks
        }]
    known = {col.key for col in columns}
    for row in rows:
        unknown = set(row) - known
        if unknown:
            raise KeyError(f"no template column for {sorted(unknown)}")
    data = DataSheet(
        name=column_set.sheet_name,
        columns=columns,
        rows=tuple(tuple(row.get(col.key) for col in columns) for row in rows),
    )
    instructions = InstructionsSheet(
        name=INSTRUCTIONS_SHEET,
        title=f"How to fill in the {column_set.sheet_name} template",
        paragraphs=_HOW_TO[kind],
        table_header=INSTRUCTIONS_TABLE_HEADER,
        table_rows=tuple(
            (
                col.header,
                "yes" if col.required else "",
                col.type.value,
                allowed_values(col),
                col.help,
                col.example,
                ", ".join(col.aliases),
            )
            for col in column_set.columns
        ),
    )
    return TemplateSpec(kind=kind, data=data, instructions=instructions)


def _canonical(value: CellValue) -> str:
    """A cell as text that reads the same from xlsx and from csv (dates, whole numbers)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


@functools.cache
def _examples() -> tuple[dict[str, str], ...]:
    """Each kind's example row, by folded header, as canonical text (blanks left out)."""
    out = []
    for kind in Kind:
        sheet = template_spec(kind).data
        out.append({
            fold_header(col.header): _canonical(value)
            for col, value in zip(sheet.columns, sheet.rows[0], strict=True)
            if value is not None
        })
    return tuple(out)


def skip_template_example(table: Table) -> Table:
    """``table`` without its first data row when that row is a template's example left
    as it was (every cell as the template wrote it, nothing else filled in); a warning
    on that row says it was skipped. Any edit makes it an ordinary row again."""
    if not table.rows:
        return table
    first = table.rows[0]
    cells = {
        fold_header(header): _canonical(first.get(i))
        for i, header in enumerate(table.headers)
        if header and first.get(i) not in (None, "")
    }
    if not any(len(cells) >= 3 and cells == {h: v for h, v in example.items()
                                              if h in _folded(table.headers)}
               for example in _examples()):
        return table
    table.rows = table.rows[1:]
    table.issues.append(Issue(
        CellRef(table.sheet, first.number, -1), "", "", IssueCode.TEMPLATE_EXAMPLE,
        Severity.WARNING,
        f"row {first.number} is the template's example row, left as it was, and is "
        "not imported",
        "type your own data over it, or delete the row",
    ))
    return table


def _folded(headers: Sequence[str]) -> set[str]:
    return {fold_header(h) for h in headers if h}
