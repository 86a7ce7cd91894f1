"""``validate --online``: every entity and location ref of a file checked against the account.

The account's entities and locations are read once (paged, through the paced, retried
caller); refs the file's own network sheet creates count as known. Each unknown ref is
one error per distinct value, naming all its cells and the nearest known refs, and the
rows (a PO: all its rows) holding it become invalid, as they would fail at import.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from bulkpo.cells import cell_text, is_blank
from bulkpo.columns import Kind
from bulkpo.config import Settings
from bulkpo.engine.pacing import caller_for, paced
from bulkpo.flexport.client import FlexportClient
from bulkpo.issues import Issue
from bulkpo.network.rules import (
    KIND_ENTITY,
    KIND_LOCATION,
    NetworkValidation,
    unknown_ref_issues,
    validate_network_sheet,
)
from bulkpo.network.submit import AccountNetwork, read_account_network
from bulkpo.report import ImportResult, SheetResult
from bulkpo.table import CellRef

# The ref columns of each sheet kind, and which kind of network object each names.
REF_COLUMNS: dict[Kind, dict[str, str]] = {
    Kind.PURCHASE_ORDERS: {
        "buyer_ref": KIND_ENTITY, "seller_ref": KIND_ENTITY,
        "origin_address_ref": KIND_LOCATION, "destination_address_ref": KIND_LOCATION,
    },
    Kind.BOOKINGS: {
        "shipper_entity_ref": KIND_ENTITY, "consignee_entity_ref": KIND_ENTITY,
        "origin_location_ref": KIND_LOCATION, "destination_location_ref": KIND_LOCATION,
    },
}
_SELF = "self"  # the API's alias for the account's own entity


async def read_network(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> AccountNetwork:
    """The account's entities and locations, each list read once, paced and retried."""
    caller = caller_for(settings)
    async with FlexportClient(settings, transport=transport) as api:
        return await paced(caller, lambda: read_account_network(api, caller))


def check_refs(result: ImportResult, account: AccountNetwork) -> ImportResult:
    """``result`` (a validation) with every unknown ref an error on its cells."""
    network = result.sheet(Kind.NETWORK)
    known = {KIND_ENTITY: set(account.entities) | {_SELF}, KIND_LOCATION: set(account.locations)}
    if network is not None and isinstance(network.validation, NetworkValidation):
        checked = validate_network_sheet(network.table, known_entities=set(account.entities))
        _replace(network, checked)
        for kind in (KIND_ENTITY, KIND_LOCATION):
            known[kind] |= checked.refs(kind)
    for sheet in result.sheets:
        columns = REF_COLUMNS.get(sheet.kind)
        if columns is None or sheet.validation is None:
            continue
        issues = unknown_ref_issues(_ref_cells(sheet, columns), known)
        if issues:
            _invalidate(sheet, issues)
    return result


def _ref_cells(
    sheet: SheetResult, columns: dict[str, str]
) -> Iterator[tuple[CellRef, str, str, str]]:
    """(cell, header, kind, ref) of every filled ref cell of the sheet's rows."""
    assert sheet.validation is not None
    header_map = sheet.validation.header_map
    for key, kind in columns.items():
        index = header_map.column_of.get(key)
        if index is None:
            continue
        header = header_map.headers.get(key, key)
        for row in sheet.table.rows:
            value = row.get(index)
            if not is_blank(value):
                cell = CellRef(sheet.table.sheet, row.number, index)
                yield cell, header, kind, cell_text(value).strip()


def _invalidate(sheet: SheetResult, issues: list[Issue]) -> None:
    """The rows holding an unknown ref become invalid; a PO's other rows with them."""
    from bulkpo.imports import validation_row_results

    validation = sheet.validation
    assert validation is not None
    bad_rows: dict[int, list[Issue]] = {}
    for issue in issues:
        for cell in issue.cells:
            bad_rows.setdefault(cell.row, []).append(issue)
    for po in list(validation.purchase_orders):
        hit = [i for row in po.rows for i in bad_rows.get(row, [])]
        if hit:
            validation.purchase_orders.remove(po)
            for row in po.rows:
                bad_rows.setdefault(row, list(dict.fromkeys(hit)))
    validation.bookings = [b for b in validation.bookings if b.row not in bad_rows]
    for row, found in bad_rows.items():
        held = validation.invalid_rows.setdefault(row, [])
        held.extend(i for i in dict.fromkeys(found) if i not in held)
    validation.issues.extend(issues)
    sheet.results = validation_row_results(sheet.table, validation)


def _replace(sheet: SheetResult, checked: NetworkValidation) -> None:
    from bulkpo.imports import validation_row_results

    sheet.validation = checked
    sheet.results = validation_row_results(sheet.table, checked)

