"""Network rows (company entities and locations) checked on their cells, and their bodies."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulkpo.cells import DateOrder, cell_text, is_blank
from bulkpo.columns import NETWORK_COLUMNS, fold_header
from bulkpo.issues import Issue, IssueCode, Severity
from bulkpo.mapping import map_headers
from bulkpo.table import CellRef, Table
from bulkpo.validation import (
    BAD,
    Checker,
    RowState,
    ValidationResult,
    all_invalid,
    cells_text,
    compile_fields,
    finish,
    hold_back_hidden_rows,
    opt_str,
)

KIND_ENTITY = "company_entity"
KIND_LOCATION = "location"
"""The journal kinds of network units (their keys are their refs)."""

_LOCATION_SHEETS = {fold_header("Locations"), fold_header("Network Locations")}


@dataclass(frozen=True)
class NetworkObject:
    """One valid network row: a company entity or a location to create unless its ref exists."""

    kind: str  # KIND_ENTITY | KIND_LOCATION
    ref: str
    name: str
    row: int
    street: str
    country: str
    street2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    unlocode: str | None = None
    company_ref: str | None = None  # entities: the parent company
    owner_ref: str | None = None  # locations: the owning entity
    vat_number: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()  # locations: metadata.<key> columns

    def address(self) -> dict[str, Any]:
        """An ``AddressForRequestBody``: blank parts left out."""
        parts = {
            "street_address": self.street, "street_address2": self.street2, "city": self.city,
            "state": self.state, "zip": self.zip, "country_code": self.country,
            "unlocode": self.unlocode,
        }
        return {key: value for key, value in parts.items() if value}

    def body(self, owner_id: str | None = None) -> dict[str, Any]:
        """The ``CreateCompanyEntity`` or ``CreateLocation`` body.

        A location's body needs its owner entity's id, known only once that entity is
        read or created; without it the body holds the owner's ref (for the journal's
        digest and the dry run).
        """
        if self.kind == KIND_ENTITY:
            body: dict[str, Any] = {
                "name": self.name, "ref": self.ref,
                # ASSUMPTION (see README): the parent company is named by ref, the
                # entity's own ref unless the row names another.
                "company_ref": self.company_ref or self.ref,
                "mailing_address": self.address(),
            }
            if self.vat_number:
                body["vat_numbers"] = [{"country_code": self.country, "number": self.vat_number}]
            return body
        # ASSUMPTION (see README): CreateLocation's company_id is "the id of the company
        # entity to create this location for", as its description says.
        body = {"name": self.name, "ref": self.ref,
                "company_id": owner_id if owner_id is not None else f"(id of {self.owner_ref})",
                "address": self.address()}
        if self.metadata:
            body["metadata"] = {key: [value] for key, value in self.metadata}
        return body

    def changes(self, found: Mapping[str, Any]) -> dict[str, Any]:
        """The PATCH body that makes ``found`` (the account's object of this ref, as the
        API sent it) say what this row says; empty when it says so already.

        Only what the row gives is compared: a blank cell is no change. An address that
        differs is sent whole (the account's other parts kept under the row's); VAT
        numbers and metadata, which a PATCH replaces whole, keep the account's others.
        The parent company or owning entity is not compared: no PATCH field changes it.
        """
        patch: dict[str, Any] = {}
        if _text(found.get("name")) != _text(self.name):
            patch["name"] = self.name
        key = "mailing_address" if self.kind == KIND_ENTITY else "address"
        held = _mapping(found.get(key))
        given = self.address()
        if any(_address_part(k, held.get(k)) != _address_part(k, v) for k, v in given.items()):
            kept = {k: held[k] for k in _ADDRESS_PARTS if isinstance(held.get(k), str)
                    and held[k].strip()}
            patch[key] = {**kept, **given}
        if self.kind == KIND_ENTITY and self.vat_number:
            vats = [v for v in found.get("vat_numbers") or [] if isinstance(v, Mapping)]
            pairs = {(_text(v.get("country_code")).upper(), _text(v.get("number")))
                     for v in vats}
            if (self.country.upper(), self.vat_number.strip()) not in pairs:
                patch["vat_numbers"] = [
                    *({"country_code": v.get("country_code"), "number": v.get("number")}
                      for v in vats),
                    {"country_code": self.country, "number": self.vat_number},
                ]
        if self.kind == KIND_LOCATION and self.metadata:
            metadata = _mapping(found.get("metadata"))
            mine = {k: [v] for k, v in self.metadata}
            if any(metadata.get(k) != v for k, v in mine.items()):
                patch["metadata"] = {**metadata, **mine}
        return patch


_ADDRESS_PARTS = ("street_address", "street_address2", "city", "state", "zip", "country_code",
                  "unlocode")
"""The parts of an ``AddressForRequestBody``."""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _address_part(key: str, value: Any) -> str:
    text = _text(value)
    return text.upper() if key in ("country_code", "unlocode") else text


@dataclass
class NetworkValidation(ValidationResult):
    """A network sheet's validation: ``objects`` holds the valid rows, entities first."""

    objects: list[NetworkObject] = field(default_factory=list)

    def refs(self, kind: str) -> set[str]:
        return {o.ref for o in self.objects if o.kind == kind}


def validate_network_sheet(
    table: Table,
    *,
    date_order: DateOrder | None = None,
    known_entities: Collection[str] | None = None,
) -> NetworkValidation:
    """Check a network sheet (one row per entity or location) and build its objects.

    Required cells, country codes and UN/LOCODEs, a ref used twice for one type, a
    location without its owner; with ``known_entities`` (the account's entity refs) a
    location's owner neither in the sheet nor the account is an error on its cell.
    """
    defaults = {"network_type": "location"} if fold_header(table.sheet) in _LOCATION_SHEETS \
        else {"network_type": "entity"}
    header_map = map_headers(table, NETWORK_COLUMNS, defaults=defaults)
    base = NetworkValidation(header_map=header_map, row_count=len(table.rows))
    if header_map.missing:
        all_invalid(base, table, header_map)
        return base
    setup: list[Issue] = []
    fields = compile_fields(table, NETWORK_COLUMNS, header_map, date_order, defaults, setup)
    issues: list[Issue] = []
    checker = Checker(table, fields, issues)
    states = [checker.state(pos) for pos in range(len(table.rows))]
    positions = {row.number: pos for pos, row in enumerate(table.rows)}
    by_ref: dict[tuple[str, str], list[RowState]] = {}
    for state in states:
        values = state.values
        kind = KIND_LOCATION if values.get("network_type") == "location" else KIND_ENTITY
        values["network_type"] = kind
        if kind == KIND_LOCATION and not opt_str(values, "owner_ref") \
                and values.get("owner_ref") is not BAD:
            checker.error(state, "owner_ref", IssueCode.REQUIRED,
                          "a location needs the ref of the company entity it belongs to",
                          "fill Owner Entity Ref with an entity ref of this sheet or your "
                          "network")
        ref = opt_str(values, "ref")
        if ref is not None:
            by_ref.setdefault((kind, ref), []).append(state)
    for (_kind, ref), same in by_ref.items():
        if len(same) < 2:
            continue
        for state in same:
            others = ", ".join(str(checker.ref(o, "ref")) for o in same if o is not state)
            checker.error(state, "ref", IssueCode.DUPLICATE_REF,
                          f'ref "{ref}" is also used on {others}',
                          "refs must be unique per type; keep one row", value=ref)
    in_sheet = {ref for (kind, ref) in by_ref if kind == KIND_ENTITY}
    if known_entities is not None:
        unknown_owners(checker, states, in_sheet, set(known_entities))
    objects: list[NetworkObject] = []
    for state in states:
        if state.errors:
            base.invalid_rows[state.number] = state.errors
            continue
        row = table.rows[positions[state.number]]
        metadata = tuple(
            (key, cell_text(value).strip()) for key, index in header_map.metadata_of.items()
            if not is_blank(value := row.get(index))
        )
        objects.append(_build(state, metadata))
    base.objects = sorted(objects, key=lambda o: (o.kind != KIND_ENTITY, o.row))
    base.issues = finish(checker, table, header_map, setup, issues)
    kept = hold_back_hidden_rows(
        base, table, ((f"{o.kind.replace('_', ' ')} {o.ref}", [o.row]) for o in base.objects))
    if kept is not None:
        base.objects = [o for o in base.objects if o.row in kept]
    return base


def unknown_owners(
    checker: Checker, states: Sequence[RowState], in_sheet: set[str], known: set[str]
) -> None:
    """An error on each location whose owner entity is neither in the sheet nor known."""
    candidates = sorted(in_sheet | known)
    for state in states:
        owner = opt_str(state.values, "owner_ref")
        if state.values.get("network_type") != KIND_LOCATION or owner is None:
            continue
        if owner in in_sheet or owner in known:
            continue
        near = difflib.get_close_matches(owner, candidates, n=3, cutoff=0.6)
        checker.error(state, "owner_ref", IssueCode.UNKNOWN_REF,
                      f'"{owner}" is neither an entity of this sheet nor of your network',
                      f"did you mean {', '.join(near)}?" if near
                      else "add the entity to this sheet, or run `bulkpo refs`", value=owner)


def _build(state: RowState, metadata: tuple[tuple[str, str], ...]) -> NetworkObject:
    v = state.values
    kind = str(v["network_type"])
    return NetworkObject(
        kind=kind, ref=str(v["ref"]), name=str(v["name"]), row=state.number,
        street=str(v["street"]), country=str(v["country"]), street2=opt_str(v, "street2"),
        city=opt_str(v, "city"), state=opt_str(v, "state"), zip=opt_str(v, "zip"),
        unlocode=opt_str(v, "unlocode"),
        company_ref=opt_str(v, "company_ref") if kind == KIND_ENTITY else None,
        owner_ref=opt_str(v, "owner_ref") if kind == KIND_LOCATION else None,
        vat_number=opt_str(v, "vat_number") if kind == KIND_ENTITY else None,
        # CreateCompanyEntity takes no metadata; CreateLocation does.
        metadata=metadata if kind == KIND_LOCATION else (),
    )


def unknown_ref_issues(
    sheet_refs: Iterable[tuple[CellRef, str, str, str]],
    known: Mapping[str, Collection[str]],
) -> list[Issue]:
    """One error per distinct unknown ref, naming every cell it is in and its near matches.

    ``sheet_refs`` is (cell, header, kind, ref) of each ref cell, ``known`` the refs of
    each kind (KIND_ENTITY, KIND_LOCATION) there are: the account's and the file's.
    """
    cells: dict[tuple[str, str], list[tuple[CellRef, str]]] = {}
    for ref, header, kind, value in sheet_refs:
        if value not in known[kind]:
            cells.setdefault((kind, value), []).append((ref, header))
    issues = []
    for (kind, value), places in cells.items():
        places.sort(key=lambda p: (p[0].sheet, p[0].row, p[0].col))
        refs = [cell for cell, _header in places]
        what = "company entity" if kind == KIND_ENTITY else "location"
        near = difflib.get_close_matches(value, sorted(known[kind]), n=3, cutoff=0.6)
        issues.append(Issue(
            refs[0], places[0][1], value, IssueCode.UNKNOWN_REF, Severity.ERROR,
            f'"{value}" is not a {what} ref of your network nor of the file\'s network '
            "sheet" + cells_text(refs),
            f"did you mean {', '.join(near)}?" if near
            else "add it to a network sheet, or run `bulkpo refs` for the refs you have",
            also=tuple(refs[1:]),
        ))
    return issues
