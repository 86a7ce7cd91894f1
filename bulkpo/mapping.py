"""Header mapping: which sheet column holds which spec column, and what is wrong with headers."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from bulkpo.cells import article
from bulkpo.columns import Column, ColumnSet, fold_header, metadata_key
from bulkpo.issues import Issue, IssueCode, Severity
from bulkpo.table import CellRef, Table, own_columns

__all__ = ["HeaderMap", "map_headers"]

ERROR = Severity.ERROR
WARNING = Severity.WARNING


@dataclass
class HeaderMap:
    """Which sheet column holds which spec column, and what was wrong with the headers.

    ``column_of`` maps a column key to its 0-based sheet column; ``metadata_of`` a
    metadata key (``metadata.size`` -> ``size``) to its sheet column; ``headers``
    a key to the header text as the user wrote it.
    """

    column_of: dict[str, int] = field(default_factory=dict)
    metadata_of: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # keys of required columns not found



def map_headers(
    table: Table, columns: ColumnSet, *, defaults: Mapping[str, str] | None = None
) -> HeaderMap:
    """Match the sheet's headers to the spec: unknown headers are warnings, a missing
    required column (with no default) is one error placed on the header row."""
    result = HeaderMap()
    defaults = defaults or {}
    names = {fold_header(n): c.header for c in columns.columns for n in (c.header, *c.aliases)}
    ours = own_columns(table.headers)  # a report or fix file of bulkpo's, read again
    for index, text in enumerate(table.headers):
        header = (text or "").strip()
        if not header or index in ours:
            continue
        ref = CellRef(table.sheet, table.header_row, index)
        meta = metadata_key(header)
        col = columns.match(header)
        if col is None and meta is not None:
            if meta in result.metadata_of:
                result.issues.append(_duplicate_header(ref, header, result.metadata_of[meta],
                                                       table))
            else:
                result.metadata_of[meta] = index
            continue
        if col is None:
            close = difflib.get_close_matches(fold_header(header), list(names), n=1, cutoff=0.75)
            hint = (
                f'did you mean "{names[close[0]]}"? To keep it, name it "metadata.{header}"'
                if close
                else f'to send it as metadata, name it "metadata.{header}"'
            )
            sheet = columns.sheet_name
            result.issues.append(Issue(ref, header, header, IssueCode.UNKNOWN_COLUMN, WARNING,
                                       f'"{header}" is not {article(sheet)} {sheet} column '
                                       "and is ignored", hint))
            continue
        if col.key in result.column_of:
            result.issues.append(_duplicate_header(ref, header, result.column_of[col.key], table))
            continue
        result.column_of[col.key] = index
        result.headers[col.key] = header
    present = ", ".join(h.strip() for h in table.headers if h and h.strip()) or "none"
    for col in _required_columns(columns):
        if col.key not in result.column_of and not col.default and not defaults.get(col.key):
            result.missing.append(col.key)
            result.issues.append(Issue(
                CellRef(table.sheet, table.header_row, 0), col.header, "", IssueCode.REQUIRED,
                ERROR,
                f"required column '{col.header}' not found; headers present: {present}",
                f"add a column headed '{col.header}'",
            ))
    for col in columns.columns:
        result.headers.setdefault(col.key, col.header)
    return result


def _duplicate_header(ref: CellRef, header: str, first: int, table: Table) -> Issue:
    other = CellRef(table.sheet, table.header_row, first)
    return Issue(ref, header, header, IssueCode.DUPLICATE_COLUMN, WARNING,
                 f'"{header}" is a second column for the same field as {other.a1} and is ignored',
                 "delete or rename one of the two columns")


def _required_columns(columns: ColumnSet) -> list[Column]:
    # What the API refuses an object without is required whatever `required` says,
    # unless the settings give a default.
    return [c for c in columns.columns if c.required or c.api_required]
