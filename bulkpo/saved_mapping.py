"""Saved mappings: the column -> field mapping bulkpo would use, written as TOML and read back.

A mapping file (``bulkpo map FILE -o mapping.toml``) or a ``[mappings.<name>]`` table
of bulkpo.toml holds ``columns`` (header -> field key, ``metadata.<key>``, a role
such as ``price_unit``, or ``""`` to ignore), ``constants`` (field -> value for
every row, such as ``currency = "USD"``) and ``values`` (field -> {file word ->
value}, such as vendor code -> Flexport entity ref). A named mapping with a
``fingerprint`` (the file's folded headers) is picked for a file whose header set
is the same, as Odoo and NetSuite remember import mappings. ``kind`` says which sheet
a mapping is for: ``purchase-orders`` (the default, so every older file reads the same)
or ``bookings``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkpo.columns import ColumnSet, Kind, fold_header
from bulkpo.errors import ConfigError
from bulkpo.mapping import ROLES, HeaderMap
from bulkpo.table import Table

__all__ = [
    "MAPPING_KINDS", "SavedMapping", "find_mapping", "fingerprint", "mapping_from_dict",
    "mapping_toml", "read_mapping", "saved_mapping_toml",
]


@dataclass
class SavedMapping:
    """What a user told bulkpo about a file's columns, once, to be used every time."""

    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    fingerprint: list[str] = field(default_factory=list)
    header_row: int | None = None
    name: str = ""
    kind: str = Kind.PURCHASE_ORDERS.value
    """The sheet kind it maps: ``purchase-orders`` or ``bookings``."""


MAPPING_KINDS = (Kind.PURCHASE_ORDERS.value, Kind.BOOKINGS.value)
"""The sheet kinds a saved mapping applies to (network sheets are matched by header only)."""


def fingerprint(headers: Iterable[str]) -> list[str]:
    """The folded, sorted header set a named mapping is recognised by."""
    return sorted({fold_header(h) for h in headers if h and h.strip()})


def mapping_from_dict(data: Mapping[str, Any], *, name: str = "", where: str = "") -> SavedMapping:
    """A mapping from its TOML table; a wrong shape is a ConfigError naming the place."""
    known = {"columns", "constants", "values", "fingerprint", "header_row", "kind"}
    extra = set(data) - known
    if extra:
        raise ConfigError(f"{where}: unknown mapping key(s) {', '.join(sorted(extra))} "
                          f"(a mapping holds {', '.join(sorted(known))})")

    def table(key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: [{key}] must be a table")
        return dict(value)

    values: dict[str, dict[str, str]] = {}
    for key, words in table("values").items():
        if not isinstance(words, Mapping):
            raise ConfigError(f"{where}: [values.{key}] must be a table of word = value")
        values[key] = {str(k): str(v) for k, v in words.items()}
    header_row = data.get("header_row")
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        raise ConfigError(f"{where}: header_row must be a row number (1 or more)")
    kind = data.get("kind", Kind.PURCHASE_ORDERS.value)
    if kind not in MAPPING_KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(MAPPING_KINDS)}, "
                          f"not {kind!r}")
    return SavedMapping(
        columns={str(k): str(v) for k, v in table("columns").items()},
        constants={str(k): str(v) for k, v in table("constants").items()},
        values=values,
        fingerprint=[str(h) for h in data.get("fingerprint", [])],
        header_row=header_row,
        name=name,
        kind=str(kind),
    )


def read_mapping(path: Path | str) -> SavedMapping:
    """A mapping file written by :func:`mapping_toml` (or by hand)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read mapping file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"mapping file {path} is not valid TOML: {exc}") from None
    return mapping_from_dict(data, name=path.stem, where=str(path))


def check_mapping(mapping: SavedMapping, columns: ColumnSet) -> None:
    """Every field a mapping names exists: a typo must not drop a column in silence."""
    fields = set(columns.keys)
    if mapping.kind != columns.kind.value:
        raise ConfigError(f"mapping {mapping.name or ''} is for {mapping.kind} sheets, "
                          f"not {columns.kind.value}")
    if mapping.values and columns.kind is not Kind.PURCHASE_ORDERS:
        raise ConfigError(f"mapping {mapping.name or ''}: [values] translate purchase-order "
                          "cells only; a bookings mapping holds columns and constants")
    for header, key in mapping.columns.items():
        if key and key not in fields and key not in ROLES and not key.startswith("metadata."):
            raise ConfigError(f"mapping {mapping.name or ''}: column {header!r} -> {key!r}: "
                              f"no such field (fields: {', '.join(columns.keys)}; roles: "
                              f"{', '.join(ROLES)})")
    for key in (*mapping.constants, *mapping.values):
        if key not in fields:
            raise ConfigError(f"mapping {mapping.name or ''}: {key!r} is not a field "
                              f"(fields: {', '.join(columns.keys)})")


def find_mapping(
    headers: Sequence[str], mappings: Iterable[SavedMapping],
    kind: Kind = Kind.PURCHASE_ORDERS,
) -> SavedMapping | None:
    """The named mapping of this sheet kind whose fingerprint is this header set, if any."""
    mine = fingerprint(headers)
    for mapping in mappings:
        if mapping.kind == kind.value and mapping.fingerprint \
                and sorted(mapping.fingerprint) == mine:
            return mapping
    return None


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def mapping_toml(table: Table, hm: HeaderMap, columns: ColumnSet) -> str:
    """The mapping bulkpo would use for this table, as a TOML file a person can edit.

    Matched columns are written as they are; columns bulkpo is unsure of (read by
    context, or not matched) are commented with the best guess; required fields not
    found are listed for the user to fill in.
    """
    mapped = hm.mapping(table)
    unsure = {d.split('"')[1] for d in hm.decisions if d.startswith('"')}
    lines = [
        f"# bulkpo mapping for {Path(table.path).name}, sheet {table.sheet!r}",
        "# columns: file header = field (or metadata.<key>, a role, or \"\" to ignore)",
        *([f"kind = {_q(columns.kind.value)}"] if columns.kind is not Kind.PURCHASE_ORDERS
          else []),
        f"header_row = {table.header_row}",
        "fingerprint = [" + ", ".join(_q(h) for h in fingerprint(table.headers)) + "]",
        "",
        "[columns]",
    ]
    written: set[str] = set()
    for header in table.headers:
        if not header or not header.strip() or header in written:
            continue
        written.add(header)
        key = mapped.get(header)
        if key is None:
            lines.append(f"# {_q(header)} = \"\"  # not matched: name its field to import it")
        elif header in unsure:
            reason = next(d for d in hm.decisions if d.startswith(f'"{header}"'))
            lines.append(f"{_q(header)} = {_q(key)}  # unsure: {reason}")
        else:
            lines.append(f"{_q(header)} = {_q(key)}")
    for key in hm.missing:
        lines.append(f"# required field {key!r} not found: write \"<file header>\" = {_q(key)}")
    lines += ["", "[constants]"] + (
        ["# currency = \"USD\"", "# buyer_name = \"Acme Imports Inc\""]
        if columns.kind is Kind.PURCHASE_ORDERS else ["# incoterm = \"FOB\""])
    if "vendor_code" in hm.role_of:
        lines += [
            "", "# The ERP's vendor codes are not Flexport entity refs; translate them here:",
            "[values.seller_ref]",
        ]
        index = hm.role_of["vendor_code"]
        seen: list[str] = []
        for row in table.rows:
            v = row.get(index)
            text = "" if v is None else str(v).strip()
            if text and text not in seen:
                seen.append(text)
        lines += [f"# {_q(code)} = \"<Flexport entity ref>\"" for code in seen[:50]]
    return "\n".join(lines) + "\n"


def saved_mapping_toml(mapping: SavedMapping) -> str:
    """A mapping as the TOML file :func:`read_mapping` reads back (the page's "save as")."""
    lines = [f"# bulkpo mapping {mapping.name}".rstrip()]
    if mapping.kind != Kind.PURCHASE_ORDERS.value:
        lines.append(f"kind = {_q(mapping.kind)}")
    if mapping.header_row is not None:
        lines.append(f"header_row = {mapping.header_row}")
    if mapping.fingerprint:
        lines.append("fingerprint = [" + ", ".join(_q(h) for h in mapping.fingerprint) + "]")
    for table, entries in (("columns", mapping.columns), ("constants", mapping.constants)):
        lines += ["", f"[{table}]"] + [f"{_q(k)} = {_q(v)}" for k, v in entries.items()]
    for key, words in mapping.values.items():
        lines += ["", f"[values.{key}]"] + [f"{_q(k)} = {_q(v)}" for k, v in words.items()]
    return "\n".join(lines) + "\n"
