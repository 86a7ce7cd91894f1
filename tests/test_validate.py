"""Validation of purchase-order and booking tables: exact cells, codes and messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bulkpo.bookings import validate_bookings
from bulkpo.columns import (
    BOOKING_COLUMNS,
    PURCHASE_ORDER_COLUMNS,
    Column,
    ColumnSet,
    ColumnType,
    Kind,
)
from bulkpo.flexport.payloads import purchase_order_body
from bulkpo.issues import Issue, Severity
from bulkpo.mapping import map_headers
from bulkpo.purchase_orders import validate_purchase_orders
from bulkpo.table import CellValue, Row, Table

PO_HEADERS = ["PO Number", "Incoterm", "SKU", "Quantity", "Cargo Ready Date",
              "Must Arrive Date", "Origin Port", "Transportation Mode", "Buyer Country"]


def po_table(*rows: list[CellValue], headers: list[str] = PO_HEADERS) -> Table:
    return Table("po.xlsx", "Purchase Orders", 1, list(headers),
                 [Row(i + 2, list(r)) for i, r in enumerate(rows)])


def line(po: CellValue = "PO-1", incoterm: CellValue = "FOB", sku: CellValue = "A",
         qty: CellValue = 1, ready: CellValue = None, arrive: CellValue = None,
         port: CellValue = None, mode: CellValue = None,
         country: CellValue = None) -> list[CellValue]:
    return [po, incoterm, sku, qty, ready, arrive, port, mode, country]


def place(issue: Issue) -> str:
    """Where an issue points: a cell, or a row when the column is absent."""
    assert issue.ref is not None
    return str(issue.ref) if issue.ref.col >= 0 else f"{issue.ref.sheet} row {issue.ref.row}"


def only(issues: list[Issue], code: str) -> Issue:
    found = [i for i in issues if i.code == code]
    assert len(found) == 1, issues
    return found[0]


def test_valid_po_with_two_lines_and_exact_values() -> None:
    result = validate_purchase_orders(po_table(
        line(sku="00123", incoterm="FOB ", qty="500", ready="2026-03-01", port="cn ytn",
             mode="Ocean", country="NA"),
        line(sku="1E5", incoterm="fob", qty=500.0),
    ), PURCHASE_ORDER_COLUMNS)
    assert [i.code for i in result.issues] == ["default_used"]  # no UoM column: said once
    assert result.row_count == 2 and result.valid_row_count == 2
    (po,) = result.purchase_orders
    assert po.incoterm == "FOB" and po.transportation_mode == "ocean"
    assert po.origin_port == "CNYTN" and po.buyer.country == "NA"
    assert [(li.line_number, li.sku, li.quantity) for li in po.lines] == [
        (1, "00123", 500), (2, "1E5", 500)]
    assert po.cargo_ready_date == dt.date(2026, 3, 1)
    assert result.column_of["sku"] == 2


def test_a_tie_on_a_po_value_is_one_error_naming_both_values_and_cells() -> None:
    result = validate_purchase_orders(po_table(
        line(incoterm="EXW", sku="A"), line(incoterm=None, sku="B"), line(incoterm="FOB", sku="C"),
    ), PURCHASE_ORDER_COLUMNS)
    issue = only(result.issues, "po_conflict")
    assert [str(c) for c in issue.cells] == ["Purchase Orders!B2", "Purchase Orders!B4"]
    assert issue.message == ("the rows of PO PO-1 are split on Incoterm: EXW (Purchase Orders!B2)"
                             " and FOB (Purchase Orders!B4)")
    assert result.purchase_orders == []
    assert sorted(result.invalid_rows) == [2, 3, 4]
    assert result.invalid_rows[2] == result.invalid_rows[4] == [issue]
    (other,) = result.invalid_rows[3]
    assert other.code == "po_invalid"
    assert other.message == "held back: PO PO-1 is sent once Purchase Orders!B2 is fixed"


def test_the_majority_settles_a_po_value_and_only_the_odd_cell_is_wrong() -> None:
    result = validate_purchase_orders(po_table(
        line(sku="A", port="CNSHA"), line(sku="B", port="CNNGB"), line(sku="C", port="CNSHA"),
        line(sku="D", port="CNSHA"),
    ), PURCHASE_ORDER_COLUMNS)
    errors = [i for i in result.issues if i.severity is Severity.ERROR]
    assert [(i.code, place(i)) for i in errors] == [("po_conflict", "Purchase Orders!G3")]
    assert errors[0].message == (
        "says CNNGB but the other rows of PO PO-1 say CNSHA (Purchase Orders!G2, "
        "Purchase Orders!G4, Purchase Orders!G5)")
    assert result.invalid_rows[3] == errors
    for number in (2, 4, 5):
        (held,) = result.invalid_rows[number]
        assert held.code == "po_invalid" and "Purchase Orders!G3" in held.message


def test_an_unknown_port_among_good_ones_is_reported_as_unknown_not_as_a_conflict() -> None:
    result = validate_purchase_orders(po_table(
        line(sku="A", port="USLAX"), line(sku="B", port="XXLAX"), line(sku="C", port="USLAX"),
        line(sku="D", port="USLAX"),
    ), PURCHASE_ORDER_COLUMNS)
    errors = [i for i in result.issues if i.severity is Severity.ERROR]
    assert [(i.code, place(i)) for i in errors] == [("unknown_port", "Purchase Orders!G3")]
    assert sorted(result.invalid_rows) == [2, 3, 4, 5]
    assert [i.code for i in result.invalid_rows[2]] == ["po_invalid"]


def test_bad_cells_codes_and_places() -> None:
    result = validate_purchase_orders(po_table(
        line(po="P1", qty="5O0"),
        line(po="P2", ready="2025-13-01"),
        line(po="P3", qty=0),
        line(po="P4", country="XX"),
        line(po="P5", incoterm="FBO"),
        line(po="P6", sku=None),
    ), PURCHASE_ORDER_COLUMNS)
    by_code = {i.code: i for i in result.issues}
    assert str(by_code["bad_number"].ref) == "Purchase Orders!D2"
    assert by_code["bad_number"].suggestion == "did you mean 500?"
    assert by_code["bad_date"].message == '"2025-13-01" is no date (there is no month 13)'
    assert str(by_code["bad_date"].ref) == "Purchase Orders!E3"
    assert by_code["not_positive"].message == "Quantity must be more than 0, not 0"
    assert str(by_code["bad_country"].ref) == "Purchase Orders!I5"
    assert by_code["bad_enum"].suggestion == "did you mean FOB?"
    assert by_code["required"].message == "SKU is required"
    assert str(by_code["required"].ref) == "Purchase Orders!C7"
    assert result.purchase_orders == [] and len(result.invalid_rows) == 6


def test_ambiguous_date_asks_unless_order_given() -> None:
    # no date in the sheet tells the order: reading month/day would be a guess
    table = po_table(line(ready="03/04/2025"))
    asked = validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS)
    issue = only(asked.issues, "ambiguous_date")
    assert issue.severity is Severity.ERROR and str(issue.ref) == "Purchase Orders!E2"
    assert issue.message == ('"03/04/2025" could be 4 March 2025 or 3 April 2025 and no date '
                             "in the sheet tells the order: is it month/day (mdy) or day/month "
                             "(dmy)?")
    assert asked.purchase_orders == []
    mdy = validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS, date_order="mdy")
    assert mdy.purchase_orders[0].cargo_ready_date == dt.date(2025, 3, 4)
    dmy = validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS, date_order="dmy")
    assert [i.code for i in dmy.issues] == ["default_used"]
    assert dmy.purchase_orders[0].cargo_ready_date == dt.date(2025, 4, 3)


def test_unambiguous_text_date_teaches_the_order() -> None:
    result = validate_purchase_orders(po_table(
        line(po="P1", ready="25/03/2026"), line(po="P2", ready="03/04/2026"),
    ), PURCHASE_ORDER_COLUMNS)
    issue = only(result.issues, "ambiguous_date")
    assert "as in Purchase Orders!E2 25/03/2026" in issue.message
    assert result.purchase_orders[1].cargo_ready_date == dt.date(2026, 4, 3)


def test_serial_date_is_accepted_with_a_warning() -> None:
    result = validate_purchase_orders(po_table(line(ready=45678)), PURCHASE_ORDER_COLUMNS)
    issue = only(result.issues, "serial_date")
    assert issue.message == "45678 is a date serial number; read as 2025-01-21"
    assert result.purchase_orders[0].cargo_ready_date == dt.date(2025, 1, 21)


def test_excel_damaged_ids_are_warnings() -> None:
    result = validate_purchase_orders(po_table(
        line(po=123000000000, sku="12345.0"), line(po="P2", sku=123), line(po="P3", sku=124),
    ), PURCHASE_ORDER_COLUMNS)
    damaged = only(result.issues, "damaged_number")
    assert str(damaged.ref) == "Purchase Orders!A2"
    assert damaged.message.startswith("shown as 1.23E+11;")
    assert str(only(result.issues, "trailing_dot_zero").ref) == "Purchase Orders!C2"
    stored = only(result.issues, "stored_as_number")
    assert str(stored.ref) == "Purchase Orders!C3"
    assert stored.message.startswith("123 and 1 other cell in this column are stored as numbers")
    assert [po.lines[0].sku for po in result.purchase_orders] == ["12345.0", "123", "124"]
    assert result.purchase_orders[0].name == "123000000000"


def test_ports_must_fit_the_mode() -> None:
    result = validate_purchase_orders(po_table(
        line(po="P1", port="CNSHA", mode="ocean"),
        line(po="P2", port="CNPVG", mode="ocean"),
        line(po="P3", port="CNSHX1"),
    ), PURCHASE_ORDER_COLUMNS)
    wrong = only(result.issues, "wrong_port_kind")
    assert wrong.severity == "warning"
    assert str(wrong) == (
        'Purchase Orders!G3 (Origin Port): UN/LOCODE lists "CNPVG" as an airport (Shanghai '
        "Pudong International Apt), not a seaport; sent as written; if you meant the seaport "
        "of Shanghai Pudong, write CNPDG (Pudong/Shanghai)"
    )
    assert str(only(result.issues, "unknown_port").ref) == "Purchase Orders!G4"
    assert [(po.name, po.origin_port) for po in result.purchase_orders] == [
        ("P1", "CNSHA"), ("P2", "CNPVG")]


def test_duplicate_lines_and_date_order() -> None:
    headers = [*PO_HEADERS, "Line Number"]
    result = validate_purchase_orders(po_table(
        [*line(po="P1", sku="A"), 1], [*line(po="P1", sku="B"), 1],
        [*line(po="P2", sku="A"), None], [*line(po="P2", sku="A"), None],
        [*line(po="P3", ready="2026-04-01", arrive="2026-03-01"), None],
        headers=headers,
    ), PURCHASE_ORDER_COLUMNS)
    dups = [i for i in result.issues if i.code == "duplicate_line"]
    # A line number twice is an error; the same SKU on two lines (split dates or prices)
    # is not: the line numbers keep them apart and item_key stays unique within the PO.
    assert [str(i.ref) for i in dups] == ["Purchase Orders!J3"]
    assert dups[0].message == (
        "line 1 appears twice in PO P1: Purchase Orders!J3 and Purchase Orders!J2")
    order = only(result.issues, "dates_order")
    assert str(order.ref) == "Purchase Orders!F6"
    [p2] = result.purchase_orders
    body = purchase_order_body(p2)
    assert [(li["item_key"], li["line_item_number"]) for li in body["line_items"]] == [
        ("A-1", 1), ("A-2", 2)]


def test_headers_unknown_and_missing_required() -> None:
    table = po_table(line(), headers=["PO #", "Incoterm", "Colour", "Qty", "x", "y", "z", "w", "v"])
    header_map = map_headers(table, PURCHASE_ORDER_COLUMNS)
    missing = [i for i in header_map.issues if i.code == "required"]
    assert len(missing) == 1 and str(missing[0].ref) == "Purchase Orders!A1"
    # The likely candidates, not every header: none of these looks like a SKU.
    assert missing[0].message == "required column 'SKU' not found in the header row (row 1)"
    unknown = [i for i in header_map.issues if i.code == "unknown_column"]
    assert str(unknown[0].ref) == "Purchase Orders!C1"
    result = validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS)
    assert result.invalid_rows == {2: missing} and result.purchase_orders == []


def test_metadata_columns_collect_values() -> None:
    result = validate_purchase_orders(po_table(
        [*line(sku="A"), "M"], [*line(sku="B"), "L"], headers=[*PO_HEADERS, "metadata.size"],
    ), PURCHASE_ORDER_COLUMNS)
    assert result.purchase_orders[0].metadata == {"size": ["M", "L"]}


def test_generic_small_column_set() -> None:
    columns = ColumnSet(Kind.PURCHASE_ORDERS, "Sheet", (
        Column("po_number", "PO", ColumnType.TEXT, "", "", "", required=True, po_level=True),
        Column("sku", "SKU", ColumnType.TEXT, "", "", "", required=True),
        Column("quantity", "Qty", ColumnType.INTEGER, "", "", "", required=True),
        Column("unit_cost", "Cost", ColumnType.DECIMAL, "", "", ""),
        Column("currency", "Cur", ColumnType.CURRENCY, "", "", ""),
        Column("hs_code", "HS", ColumnType.HS_CODE, "", "", ""),
    ))
    table = Table("f.csv", "Sheet", 1, ["PO", "SKU", "Qty", "Cost", "Cur", "HS"], [
        Row(2, ["P", "A", 1, "12.50", "usd", "9405.20"]),
        Row(3, ["P", "B", 1, 12.5, "EUR", "8309.90.10.00"]),
        Row(4, ["Q", "C", 1, "1,234.50", "RMB", "94"]),
    ])
    result = validate_purchase_orders(table, columns)
    lines = result.purchase_orders[0].lines
    assert [str(li.unit_cost) for li in lines] == ["12.50", "12.5"]
    assert [li.currency for li in lines] == ["USD", "EUR"]
    assert [i.code for i in result.issues] == ["bad_currency", "bad_hs_code"]
    assert result.issues[0].suggestion == "write CNY"
    assert str(result.issues[1].ref) == "Sheet!F4"


BK_HEADERS = ["Booking Name", "Freight Type", "Incoterm", "Origin Port", "Destination Port",
              "Cargo Ready Date", "PO Numbers", "Shipper Entity Ref", "Consignee Entity Ref",
              "Origin Location Ref", "Load Type", "40' HC Containers", "Product Description",
              "HS Code", "Weight (kg)", "Volume (cbm)", "Shipping Units", "Unit Type",
              "Wants Delivery", "Export Description (Chinese)"]


def booking(name: str = "BK1", mode: str = "ocean", incoterm: CellValue = "FOB",
            origin: CellValue = "CNYTN", dest: CellValue = "USLAX", pos: CellValue = None,
            load: CellValue = "FCL", hc: CellValue = 2, unit_type: CellValue = "carton",
            delivery: CellValue = "no", zh: CellValue = "台灯") -> list[CellValue]:
    return [name, mode, incoterm, origin, dest, "2026-03-01", pos, "s", "c", "o", load, hc,
            "Lamps", "9405.20", 100, "1.5", 4, unit_type, delivery, zh]


def bk_table(*rows: list[CellValue]) -> Table:
    return Table("b.xlsx", "Bookings", 1, list(BK_HEADERS),
                 [Row(i + 2, list(r)) for i, r in enumerate(rows)])


def test_valid_booking() -> None:
    result = validate_bookings(bk_table(booking(pos="PO-1; PO-2")), BOOKING_COLUMNS,
                               known_po_numbers={"PO-1", "PO-2"})
    assert result.issues == []
    (bk,) = result.bookings
    assert bk.po_numbers == ("PO-1", "PO-2") and bk.containers.forty_ft_hc == 2
    assert bk.volume_cbm == Decimal("1.5") and not bk.is_lcl
    assert bk.shipping_units is not None and bk.shipping_units.unit_type == "carton"


def test_booking_rules() -> None:
    result = validate_bookings(bk_table(
        booking("B1", incoterm=None),
        booking("B2", load="FCL", hc=0),
        booking("B3", unit_type="pallet"),
        booking("B4", zh=None),
        booking("B5", mode="air", origin="PVG", dest="LAX", delivery="yes"),
        booking("B6", pos="PO-9"),
        booking("B7", mode="air", origin="CNYTN"),
    ), BOOKING_COLUMNS, known_po_numbers={"PO-1"})
    got = [(place(i), i.code) for i in result.issues]
    assert got == [
        ("Bookings!C2", "required"),
        ("Bookings!K3", "required"),
        ("Bookings row 4", "required"),
        ("Bookings!T5", "required"),
        ("Bookings row 6", "required"),
        ("Bookings!G7", "unknown_po"),
        ("Bookings!D8", "wrong_port_kind"),
    ]
    assert result.issues[0].message == "Incoterm is required for ocean bookings"
    assert "Items per Pallet is required when Unit Type is pallet" in result.issues[2].message
    # B7's seaport for air is a warning: the code exists, it is sent as written
    assert [b.name for b in result.bookings] == ["B7"] and len(result.invalid_rows) == 6
    assert result.issues[-1].severity == "warning"


def test_duplicate_booking_names_stop_both_rows() -> None:
    result = validate_bookings(bk_table(booking("BK1"), booking("BK2"), booking("BK1")),
                               BOOKING_COLUMNS)
    dups = [i for i in result.issues if i.code == "duplicate_booking"]
    assert [str(i.ref) for i in dups] == ["Bookings!A2", "Bookings!A4"]
    assert dups[0].message == 'booking name "BK1" is also used on row 4 (Bookings!A4)'
    assert [b.name for b in result.bookings] == ["BK2"]
    assert sorted(result.invalid_rows) == [2, 4]


def test_defaults_fill_blank_cells() -> None:
    row = booking(mode="trucking")
    row[9] = None  # origin location ref
    result = validate_bookings(bk_table(row), BOOKING_COLUMNS, defaults={
        "origin_location_ref": "loc-default", "destination_location_ref": "loc-dc",
        "payment_terms": "prepaid"})
    assert result.issues == []
    assert result.bookings[0].origin_location_ref == "loc-default"
    assert result.bookings[0].is_ltl is True


def test_repeated_values_blanks_and_late_values_agree_with_the_first_row() -> None:
    # Rows 2-3 repeat the PO exactly (the fast path); row 4 leaves the incoterm blank and
    # gives the mode late, row 5 contradicts the mode given by row 4.
    result = validate_purchase_orders(po_table(
        line(sku="A", ready=dt.date(2026, 3, 1)),
        line(sku="B", ready=dt.date(2026, 3, 1)),
        line(sku="C", incoterm=None, ready=dt.date(2026, 3, 1), mode="ocean"),
        line(sku="D", ready=dt.date(2026, 3, 1), mode="air"),
    ), PURCHASE_ORDER_COLUMNS)
    issue = only(result.issues, "po_conflict")
    assert [str(c) for c in issue.cells] == ["Purchase Orders!H4", "Purchase Orders!H5"]
    assert issue.message == ("the rows of PO PO-1 are split on Transportation Mode: ocean "
                             "(Purchase Orders!H4) and air (Purchase Orders!H5)")
    assert sorted(result.invalid_rows) == [2, 3, 4, 5]


def test_line_numbers_by_place_and_a_repeated_sku_on_a_clean_row() -> None:
    result = validate_purchase_orders(po_table(
        line(sku="A"), line(sku="B"), line(sku="A"),
    ), PURCHASE_ORDER_COLUMNS)
    # A repeated SKU is a second line of it (split dates or prices), numbered by its place.
    assert not [i for i in result.issues if i.code == "duplicate_line"]
    assert [(li.line_number, li.sku) for li in result.purchase_orders[0].lines] == [
        (1, "A"), (2, "B"), (3, "A")]
    clean = validate_purchase_orders(po_table(line(sku="A"), line(sku="B")),
                                     PURCHASE_ORDER_COLUMNS)
    assert [li.line_number for li in clean.purchase_orders[0].lines] == [1, 2]


def test_equal_values_of_other_types_are_converted_each_on_their_own() -> None:
    # 1 == 1.0 == True in Python: a value remembered for one must not answer for another.
    result = validate_purchase_orders(po_table(
        line(po="PO-1", sku=True, qty=True), line(po="PO-2", sku=1, qty=1),
        line(po="PO-3", sku="1", qty=1.0), line(po="PO-4", sku=1.5, qty=1.5),
    ), PURCHASE_ORDER_COLUMNS)
    skus = {po.name: po.lines[0].sku for po in result.purchase_orders}
    assert skus == {"PO-2": "1", "PO-3": "1"}
    assert {i.ref.row for i in result.errors if i.ref} == {2, 5}
    assert only(result.issues, "stored_as_number").value == "1"


def test_the_garbage_collector_is_left_as_it_was() -> None:
    import gc

    gc.disable()
    try:
        validate_purchase_orders(po_table(line()), PURCHASE_ORDER_COLUMNS)
        assert not gc.isenabled()
    finally:
        gc.enable()
    validate_purchase_orders(po_table(line()), PURCHASE_ORDER_COLUMNS)
    assert gc.isenabled()


def test_a_file_is_read_and_validated_with_the_collector_paused_then_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The library pauses the cyclic collector while it builds a sheet's objects (none form
    cycles) and gives it back as it found it, frozen nothing."""
    import gc

    import bulkpo
    from bulkpo import validation
    from tests.factories import po_rows, write_po_workbook

    seen: list[bool] = []
    checker_init = validation.Checker.__init__

    def spy(self: validation.Checker, *args: Any) -> None:
        seen.append(gc.isenabled())
        checker_init(self, *args)

    monkeypatch.setattr(validation.Checker, "__init__", spy)
    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(3))
    frozen = gc.get_freeze_count()
    assert bulkpo.validate_file(path).summary.line() == "6 rows: 6 valid"
    assert seen == [False] and gc.isenabled() and gc.get_freeze_count() == frozen
    gc.disable()
    try:
        bulkpo.validate_file(path)
        assert seen == [False, False] and not gc.isenabled()
    finally:
        gc.enable()
    # What the host program froze stays frozen (the built objects are promoted only when
    # nothing is).
    gc.freeze()
    try:
        held = gc.get_freeze_count()
        bulkpo.validate_file(path)
        assert gc.get_freeze_count() == held > 0
    finally:
        gc.unfreeze()


def test_the_collector_comes_back_when_the_last_of_two_overlapping_pauses_ends() -> None:
    """Two threads validating at once (the web page): the first to finish must not turn the
    collector on under the other."""
    import gc

    from bulkpo.collector import collector_paused

    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()
