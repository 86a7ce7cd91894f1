"""Values an ERP writes its own way: read as the one value they mean, said once per value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

import bulkpo
from bulkpo.cli import main
from bulkpo.columns import PURCHASE_ORDER_COLUMNS
from bulkpo.flexport.payloads import purchase_order_body
from bulkpo.issues import Issue
from bulkpo.purchase_orders import validate_purchase_orders
from bulkpo.table import Row, Table
from bulkpo.validation import ValidationResult
from tests.factories import po_row, write_po_workbook

HEADERS = ["PO Number", "SKU", "Quantity", "Unit of Measure", "Unit Cost", "Currency",
           "Status", "Incoterm", "Transportation Mode", "Seller Country", "Cargo Ready Date",
           "Origin Port"]


def row(po: str = "PO-1", sku: str = "A", qty: Any = 1, uom: Any = "PCS", cost: Any = "1.50",
        currency: Any = "USD", status: Any = "open", incoterm: Any = "FOB",
        mode: Any = "ocean", country: Any = "CN", ready: Any = "2026-03-01",
        port: Any = "CNYTN") -> list[Any]:
    return [po, sku, qty, uom, cost, currency, status, incoterm, mode, country, ready, port]


def check(*rows: list[Any], **options: Any) -> ValidationResult:
    table = Table("po.xlsx", "Purchase Orders", 1, list(HEADERS),
                  [Row(i + 2, list(r)) for i, r in enumerate(rows)])
    return validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS, **options)


def said(result: ValidationResult, code: str) -> list[str]:
    return [str(i) for i in result.issues if i.code == code]


def only(result: ValidationResult, code: str) -> Issue:
    found = [i for i in result.issues if i.code == code]
    assert len(found) == 1, result.issues
    return found[0]


def test_units_are_read_once_per_distinct_value_with_count_and_cells() -> None:
    rows = [row(sku=f"S{i}", uom="EA") for i in range(113)]
    rows += [row(sku="P1", uom="PAA"), row(sku="P2", uom="ST"), row(sku="P3", uom="Dozens"),
             row(sku="P4", uom="ea"), row(sku="P5", uom="Carton"), row(sku="P6", uom="Nos")]
    result = check(*rows)
    assert result.errors == []
    ea = [i for i in result.issues if i.value == "EA"]
    assert len(ea) == 1 and ea[0].code == "read_as" and ea[0].severity == "warning"
    assert ea[0].message == ('"EA" read as PCS in 113 cells: Purchase Orders!D2, D3, D4, D5, '
                             "D6, D7, ...")
    # the report can still mark every cell the one warning covers
    assert len(ea[0].cells) == 113 and str(ea[0].cells[-1]) == "Purchase Orders!D114"
    units = [line.unit_of_measure for line in result.purchase_orders[0].lines]
    assert units == ["PCS"] * 113 + ["PRS", "PCS", "DPC", "PCS", "CTN", "NO"]
    assert len(said(result, "read_as")) == 7  # EA, PAA, ST, Dozens, ea, Carton, Nos
    assert said(result, "read_as")[1] == (
        'Purchase Orders!D115 (Unit of Measure): "PAA" read as PRS')


def test_a_unit_with_no_flexport_equivalent_stays_an_error_with_candidates() -> None:
    result = check(row(uom="SET"))
    issue = only(result, "bad_enum")
    assert issue.severity == "error" and '"SET" is not a Unit of Measure value' in issue.message
    assert result.purchase_orders == []


def test_missing_unit_of_measure_is_said_once_not_assumed_quietly() -> None:
    result = check(row(sku="A", uom=None), row(sku="B", uom=" "), row(sku="C", uom="KG"))
    issue = only(result, "default_used")
    assert str(issue) == ("Purchase Orders!D2 (Unit of Measure): blank Unit of Measure read as "
                          "PCS in 2 cells: Purchase Orders!D2, D3; fill Unit of Measure (or set "
                          "a default) if that is not right")
    assert [x.unit_of_measure for x in result.purchase_orders[0].lines] == ["PCS", "PCS", "KG"]


def test_status_and_mode_words_with_one_meaning() -> None:
    result = check(
        row(po="P1", status="Confirmed", mode="Sea"), row(po="P2", status="Approved",
                                                          mode="Ocean Freight"),
        row(po="P3", status="Released", mode="FCL"), row(po="P4", status="Done", mode="LCL"),
        row(po="P5", status="Canceled", mode="Air Freight", port="CNSZX"),
        row(po="P6", status="Locked", mode="Road", port=None),
        row(po="P7", status="Purchase Order"),
    )
    assert result.errors == []
    got = [(po.name, po.status, po.transportation_mode) for po in result.purchase_orders]
    assert got == [("P1", "open", "ocean"), ("P2", "open", "ocean"), ("P3", "open", "ocean"),
                   ("P4", "closed", "ocean"), ("P5", "cancelled", "air"),
                   ("P6", "closed", "truck"), ("P7", "open", "ocean")]
    assert 'Purchase Orders!G2 (Status): "Confirmed" read as open' in said(result, "read_as")


def test_a_po_not_yet_ordered_stays_an_error_that_asks() -> None:
    # Draft, awaiting approval and RFQ are not confirmed orders: "open" would be a guess
    for word, what in (("Draft", "not yet an approved purchase order"),
                       ("Pending Supervisor Approval", "not yet an approved purchase order"),
                       ("To Approve", "not yet an approved purchase order"),
                       ("RFQ Sent", "a request for quotation, not a purchase order")):
        result = check(row(status=word))
        issue = only(result, "bad_enum")
        assert issue.severity == "error" and result.purchase_orders == []
        assert issue.message.startswith(f'"{word}" is {what}, no one Status value: is it open')
        assert issue.suggestion == (f"say which in the mapping's [values.status] table, e.g. "
                                    f'"{word}" = "open"')
    assert only(check(row(status="Pending")), "bad_enum").message == (
        '"Pending" is not a Status value; expected one of open, closed, cancelled')


def test_a_case_or_a_box_asks_carton_or_pack() -> None:
    result = check(row(sku="A", uom="CS"), row(sku="B", uom="Box"), row(sku="C", uom="BX"))
    assert result.purchase_orders == []
    assert [i.message for i in result.errors] == [
        '"CS" is a case, no one Unit of Measure value: is it CTN (carton) or PK (pack)?',
        '"Box" is a box, no one Unit of Measure value: is it CTN (carton) or PK (pack)?',
        '"BX" is a box, no one Unit of Measure value: is it CTN (carton) or PK (pack)?']


def test_air_charter_is_air() -> None:
    result = check(row(mode="Air Charter", port="CNSZX"))
    assert result.errors == []
    assert result.purchase_orders[0].transportation_mode == "air"
    assert said(result, "read_as") == [
        'Purchase Orders!I2 (Transportation Mode): "Air Charter" read as air']


def test_an_incoterm_cell_that_says_none_is_blank_with_one_warning() -> None:
    result = check(row(po="P1", incoterm="N/A - From RDC"), row(po="P2", incoterm="N/A - From RDC"),
                   row(po="P3", incoterm="n/a"), row(po="P4", incoterm="FOB"))
    assert result.errors == []
    assert [po.incoterm for po in result.purchase_orders] == [None, None, None, "FOB"]
    assert said(result, "read_as") == [
        'Purchase Orders!H2 (Incoterm): "N/A - From RDC" says there is no Incoterm: left blank '
        "in 2 cells: Purchase Orders!H2, H3",
        'Purchase Orders!H4 (Incoterm): "n/a" says there is no Incoterm: left blank']
    # a word that only starts like N/A is no such statement
    assert only(check(row(incoterm="Nada")), "bad_enum").severity == "error"


def test_incoterms_by_name_with_a_place_and_ddu() -> None:
    result = check(
        row(po="P1", incoterm="FOB Shanghai"), row(po="P2", incoterm="[FOB] FREE ON BOARD"),
        row(po="P3", incoterm="Free On Board"), row(po="P4", incoterm="F.O.B."),
        row(po="P5", incoterm="Ex Works"), row(po="P6", incoterm="DDU"),
    )
    assert result.errors == []
    assert [po.incoterm for po in result.purchase_orders] == ["FOB", "FOB", "FOB", "FOB",
                                                             "EXW", "DAP"]
    p1 = result.purchase_orders[0]
    assert p1.metadata == {"incoterm_place": ["Shanghai"]}
    body = purchase_order_body(p1)
    assert body["incoterm"] == "FOB" and body["metadata"] == {"incoterm_place": ["Shanghai"]}
    assert said(result, "read_as")[0] == (
        'Purchase Orders!H2 (Incoterm): "FOB Shanghai" read as FOB, named place Shanghai')
    ddu = only(result, "historical_incoterm")
    assert ddu.message == ('"DDU" is an Incoterms 2000 term the 2010 rules replaced; read as DAP')


def test_two_places_for_one_po_disagree() -> None:
    result = check(row(sku="A", incoterm="FOB Shanghai"), row(sku="B", incoterm="FOB Ningbo"))
    assert only(result, "po_conflict").ref is not None
    assert result.purchase_orders == []


def test_country_names_and_iso3_codes() -> None:
    result = check(row(po="P1", country="China"), row(po="P2", country="DEU"),
                   row(po="P3", country="Viet Nam"), row(po="P4", country="Narnia"))
    assert [po.seller.country for po in result.purchase_orders] == ["CN", "DE", "VN"]
    assert 'Purchase Orders!J3 (Seller Country): "DEU" read as DE (Germany)' in said(
        result, "read_as")
    assert only(result, "bad_country").value == "Narnia"


def test_dates_as_erps_write_them() -> None:
    result = check(
        row(po="P1", ready="20260315"), row(po="P2", ready=20260316),
        row(po="P3", ready="03.04.2026"), row(po="P4", ready="2026-03-15 14:30:00"),
        row(po="P5", ready=dt.datetime(2026, 3, 17, 9, 45)), row(po="P6", ready="00000000"),
        row(po="P7", ready="1900-01-01"), row(po="P8", ready="15.03.2026"),
    )
    assert result.errors == []
    assert [po.cargo_ready_date for po in result.purchase_orders] == [
        dt.date(2026, 3, 15), dt.date(2026, 3, 16), dt.date(2026, 4, 3), dt.date(2026, 3, 15),
        dt.date(2026, 3, 17), None, None, dt.date(2026, 3, 15)]
    assert said(result, "null_date") == [
        'Purchase Orders!K7 (Cargo Ready Date): "00000000" is how an ERP writes no date; read '
        "as blank; leave the cell empty, or write the date",
        'Purchase Orders!K8 (Cargo Ready Date): "1900-01-01" is how an ERP writes no date; '
        "read as blank; leave the cell empty, or write the date"]
    # one warning per way of writing, with its cells
    yyyymmdd = [i for i in result.issues if "YYYYMMDD" in i.message]
    assert len(yyyymmdd) == 1 and len(yyyymmdd[0].cells) == 2
    dotted = [i for i in result.issues if "dotted" in i.message]
    assert len(dotted) == 1 and str(dotted[0].ref) == "Purchase Orders!K4"


def test_prices_with_currency_fill_a_blank_currency() -> None:
    result = check(
        row(po="P1", cost="$1.00", currency=None), row(po="P2", cost="€4,25", currency=None),
        row(po="P3", cost="4.25 USD", currency=None), row(po="P4", cost="$5,100.00",
                                                          currency=None),
        row(po="P5", cost="$2.00", currency="CAD"),
    )
    assert result.errors == []
    got = [(po.lines[0].unit_cost, po.lines[0].currency) for po in result.purchase_orders]
    assert got == [(Decimal("1.00"), "USD"), (Decimal("4.25"), "EUR"), (Decimal("4.25"), "USD"),
                   (Decimal("5100.00"), "USD"), (Decimal("2.00"), "CAD")]
    assert type(got[0][0]) is Decimal
    dollars = [i for i in said(result, "currency_in_price") if '"$"' in i]
    assert dollars == ['Purchase Orders!E2 (Unit Cost): prices written with "$" read as amounts '
                       "in USD in 3 cells: Purchase Orders!E2, E5, E6; the currency fills a "
                       "blank Currency; put the amount alone in Unit Cost to silence this"]


def test_a_price_in_another_currency_than_the_row_is_an_error() -> None:
    result = check(row(cost="€4.25", currency="USD"))
    issue = only(result, "currency_conflict")
    assert issue.message == 'the price is written in "€" but Currency says USD'
    assert result.purchase_orders == []
    yen = only(check(row(cost="¥400", currency=None)), "currency_conflict")
    assert yen.message == '"¥" is the sign of CNY and JPY'


def test_cost_without_any_currency_is_said_once_not_a_quiet_usd() -> None:
    result = check(row(sku="A", currency=None), row(sku="B", currency=None),
                   row(sku="C", cost=None, currency=None))
    issue = only(result, "no_currency")
    assert issue.message == ("unit costs with no currency in the file are sent as USD in 2 "
                             "cells: Purchase Orders!E2, E3")
    assert issue.severity == "warning"


def test_decimal_comma_is_read_when_the_file_has_no_other_reading() -> None:
    result = check(row(sku="A", qty="1.200", cost="1.150,00"), row(sku="B", cost="4,25"))
    assert result.errors == []
    lines = result.purchase_orders[0].lines
    assert [(x.quantity, x.unit_cost) for x in lines] == [(1200, Decimal("1150.00")),
                                                          (1, Decimal("4.25"))]
    assert len(said(result, "decimal_comma")) == 2  # written-only-so (cost) and 1.200 (qty)


def test_a_number_that_reads_two_ways_asks_for_decimal_comma() -> None:
    result = check(row(sku="A", qty="1,200", cost="4,250"))
    codes = sorted(i.code for i in result.errors)
    assert codes == ["ambiguous_number", "ambiguous_number"]
    assert only(check(row(cost="4,250")), "ambiguous_number").message == (
        '"4,250" reads as 4250 with a decimal point or 4.250 with a decimal comma, and the '
        "file has no number that tells")
    told = check(row(sku="A", qty="1.200", cost="4,250"), decimal_comma=True)
    assert told.errors == [] and told.purchase_orders[0].lines[0].unit_cost == Decimal("4.250")
    english = check(row(sku="A", cost="1,250"), row(sku="B", cost="4.25"))
    assert english.errors == []
    assert english.purchase_orders[0].lines[0].unit_cost == Decimal("1250")


def test_validate_file_reads_a_german_csv_with_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "po.csv"
    path.write_text(
        "PO Number;SKU;Quantity;Unit of Measure;Unit Cost;Currency;Cargo Ready Date\n"
        "4500020101;OD-5001;1.200;PAA;1.150,00;EUR;15.01.2027\n"
        "4500020101;OD-5002;300;ST;4,25;EUR;15.01.2027\n", encoding="utf-8")
    result = bulkpo.validate_file(path)
    assert result.summary.line().startswith("2 rows")
    issues = [(i.code, i.value) for i in result.issues]
    assert ("read_as", "PAA") in issues and ("read_as", "ST") in issues
    assert all(i.severity == "warning" for i in result.issues)
    asked = bulkpo.validate_file(path, decimal_comma=False)
    assert any(i.code == "bad_number" for i in asked.issues)


def test_the_report_marks_every_cell_a_once_per_value_warning_covers(tmp_path: Path) -> None:
    rows = [po_row(1, line, unit_of_measure="EA") for line in (1, 2, 3)]
    path = write_po_workbook(tmp_path / "po.xlsx", rows)
    report = tmp_path / "checked.xlsx"
    assert main(["validate", str(path), "--report", str(report)]) == 0
    sheet = load_workbook(report)["Purchase Orders"]
    for cell in ("R2", "R3", "R4"):
        comment = sheet[cell].comment
        assert comment is not None and comment.text.startswith(
            '"EA" read as PCS in 3 cells: Purchase Orders!R2, R3, R4'), cell
    assert sheet["R5"].comment is None


def test_a_decimal_point_number_is_refused_when_the_file_is_read_with_a_decimal_comma(
    tmp_path: Path,
) -> None:
    """Forcing the decimal comma must not turn $4.25 into 425: such a cell is an error."""
    from bulkpo.columns import PURCHASE_ORDER_COLUMNS
    from bulkpo.purchase_orders import validate_purchase_orders
    from bulkpo.sheets.reader import read_table

    path = write_po_workbook(tmp_path / "o.xlsx", [
        po_row(1, 1, unit_cost="4.25"), po_row(1, 2, unit_cost="1.150,00"),
        po_row(2, 1, unit_cost="$1,150.00"),
    ])
    table = read_table(path, score_headers=PURCHASE_ORDER_COLUMNS.score)
    result = validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS, decimal_comma=True)
    bad = {str(i.ref): i.message for i in result.errors}
    assert set(bad) == {"Purchase Orders!S2", "Purchase Orders!S4"}, bad
    assert "written with a decimal point" in bad["Purchase Orders!S2"]
    assert not result.purchase_orders  # both POs hold a refused cell
