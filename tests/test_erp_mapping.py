"""Column mapping for ERP exports: no alias maps wrongly in silence, and a mapping is saved."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import bulkpo
from bulkpo.cli import main
from bulkpo.config import Settings
from bulkpo.imports import load_purchase_orders, load_workbook, map_file
from bulkpo.saved_mapping import find_mapping, read_mapping, saved_mapping_toml


def _csv(tmp_path: Path, text: str, name: str = "po.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


SAP = (
    "Purch.Doc.,Item,Material,Short Text,PO Quantity,Order Unit,Net Price,Per,Crcy\n"
    "4500000001,10,HW-1,Mug,2400,PCS,85.00,100,USD\n"
    "4500000001,20,HW-2,Board,600,PCS,3.10,1,USD\n"
)


def test_sap_item_is_the_line_number_and_per_divides_the_price(tmp_path: Path) -> None:
    _table, validation = load_purchase_orders(_csv(tmp_path, SAP))
    [po] = validation.purchase_orders
    assert [(li.line_number, li.sku, li.unit_cost) for li in po.lines] == [
        (10, "HW-1", Decimal("0.85")), (20, "HW-2", Decimal("3.1"))]
    decisions = " ".join(validation.header_map.decisions)
    assert '"Item" (B1) read as the line number, not the SKU' in decisions
    assert '"Per" is the price unit' in decisions


def test_the_only_item_column_of_line_numbers_asks_what_the_product_is(tmp_path: Path) -> None:
    path = _csv(tmp_path, "PO Number,Item,Quantity\nP1,10,5\nP1,20,6\n")
    _table, validation = load_purchase_orders(path)
    assert validation.purchase_orders == []
    # One clear question, not a second "SKU not found" beside it.
    assert [i.message.split(":")[0] for i in validation.errors] == [
        "the only product column, 'Item', holds 10, 20"]


def test_vendor_codes_are_sent_only_through_a_value_table(tmp_path: Path) -> None:
    path = _csv(tmp_path, "PO Number,Vendor Code,SKU,Quantity\nP1,V-1,A,5\nP2,V-9,B,6\n")
    _table, plain = load_purchase_orders(path)
    assert [po.seller.ref for po in plain.purchase_orders] == [None, None]
    assert any("not Flexport entity refs" in d for d in plain.header_map.decisions)
    mapping = _csv(tmp_path, '[values.seller_ref]\n"V-1" = "sup-one"\n', "m.toml")
    _table, mapped = load_purchase_orders(path, mapping=mapping)
    # A code the table does not translate is not sent as a ref either.
    assert [po.seller.ref for po in mapped.purchase_orders] == ["sup-one", None]


def test_units_is_a_quantity_or_a_unit_by_what_its_cells_hold(tmp_path: Path) -> None:
    numbers = _csv(tmp_path, "PO Number,SKU,Units\nP1,A,5\n", "a.csv")
    words = _csv(tmp_path, "PO Number,SKU,Quantity,Units\nP1,A,5,PCS\n", "b.csv")
    assert load_purchase_orders(numbers)[1].header_map.column_of["quantity"] == 2
    assert load_purchase_orders(words)[1].header_map.column_of["unit_of_measure"] == 3


def test_two_columns_for_one_field_say_which_won_and_why(tmp_path: Path) -> None:
    path = _csv(tmp_path, "ID,Required By,Item Code (Items),Quantity (Items),Required By (Items)\n"
                          "PO-1,2027-01-05,A,5,2027-01-05\n")
    table, validation = load_purchase_orders(path)
    warned = [i for i in validation.issues if i.code == "duplicate_column"]
    assert [i.message for i in warned] == [
        '"Required By" (B1) is used for Must Arrive Date; "Required By (Items)" (E1) also '
        "names it and is ignored: the PO's own column beats the lines'"]
    report = validation.header_map.report(table)
    assert report["header_row"] == 1
    assert report["columns"] == {
        "ID": "po_number", "Required By": "must_arrive_date", "Item Code (Items)": "sku",
        "Quantity (Items)": "quantity"}


def test_continuation_lines_fill_down_with_one_warning(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Order Reference,Vendor,Order Lines/Product,Order Lines/Quantity\n"
                          "P1,Acme,[A-1] Lamp,5\n,,[B-2] Desk,6\n,,Chair,7\nP2,Bee,[C-3] Mug,8\n")
    _table, validation = load_purchase_orders(path)
    p1, p2 = validation.purchase_orders
    assert [(li.sku, li.product_name) for li in p1.lines] == [
        ("A-1", "Lamp"), ("B-2", "Desk"), (None, "Chair")]
    assert p1.seller.name == "Acme" and p2.lines[0].sku == "C-3"
    assert len([i for i in validation.warnings if "continues the PO above" in i.message]) == 1


def test_a_line_without_sku_is_sent_with_its_line_number_as_item_key(tmp_path: Path) -> None:
    path = _csv(tmp_path, "PO Number,Description,Quantity,Unit Cost,Currency\n"
                          "P1,Consulting hours,10,95,USD\nP1,Travel,1,400,USD\n")
    result = bulkpo.import_file(path, dry_run=True, settings=Settings())
    [request] = result.requests
    lines = request["body"]["line_items"]
    assert [(li["item_key"], li["product"]) for li in lines] == [
        ("1", {"name": "Consulting hours"}), ("2", {"name": "Travel"})]


def test_totals_and_deleted_rows_are_skipped_with_the_reason(tmp_path: Path) -> None:
    path = _csv(tmp_path, "EBELN,EBELP,LOEKZ,MATNR,MENGE,NETPR\n"
                          "45,10,,A,5,1\n45,20,L,B,6,1\n,,,,11,\n")
    result = bulkpo.validate_file(path)
    by_row = {r.row: (r.status, r.message) for r in result.results}
    assert by_row[2][0] == "valid"
    assert by_row[3] == ("skipped", "not a PO line: a line the ERP marks deleted or cancelled "
                                    "(LOEKZ = L)")
    assert by_row[4] == ("skipped", "not a PO line: a totals row (no PO number, item or line "
                                    "number)")


def test_header_and_line_files_join_on_the_po_number(tmp_path: Path) -> None:
    head = _csv(tmp_path, "EBELN,LIFNR,WAERS,INCO1\n45,0001,EUR,FOB\n", "ekko.csv")
    lines = _csv(tmp_path, "EBELN,EBELP,MATNR,MENGE,NETPR\n45,10,A,5,2.5\n", "ekpo.csv")
    _table, alone = load_purchase_orders(head)
    assert [i.message.split(":")[0] for i in alone.errors] == [
        "this file holds only PO headers (no item, quantity or price columns)"]
    _table, joined = load_purchase_orders(lines, headers=head)
    [po] = joined.purchase_orders
    assert (po.incoterm, po.lines[0].currency, po.seller.ref) == ("FOB", "EUR", None)


def test_a_header_sheet_of_the_workbook_is_joined_and_another_po_sheet_said(
    tmp_path: Path,
) -> None:
    path = tmp_path / "po.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Lines"
    for row in (["PO Number", "SKU", "Quantity"], ["P1", "A", 5]):
        ws.append(row)
    head = wb.create_sheet("Headers")
    for row in (["PO Number", "Incoterm", "Seller"], ["P1", "FOB", "Acme"]):
        head.append(row)
    other = wb.create_sheet("Old POs")
    for row in (["PO Number", "SKU", "Qty", "Seller"], ["P9", "Z", 1, "Zed"]):
        other.append(row)
    wb.save(path)
    workbook = load_workbook(path)
    assert workbook.purchase_orders is not None
    table, validation = workbook.purchase_orders
    [po] = validation.purchase_orders
    assert (table.sheet, po.incoterm, po.seller.name) == ("Lines", "FOB", "Acme")
    assert any("sheet 'Old POs' also looks like purchase-order data" in i.message
               for i in validation.warnings)


def test_map_file_writes_a_mapping_that_reads_back_and_fingerprints(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Beleg,Teil,Menge,Extra\nP1,A,5,x\n")
    text = map_file(path)
    assert "# required field 'po_number' not found" in text
    saved = tmp_path / "m.toml"
    saved.write_text(text.replace('# "Beleg" = ""', '"Beleg" = "po_number"')
                         .replace('# "Teil" = ""', '"Teil" = "sku"'), encoding="utf-8")
    _table, validation = load_purchase_orders(path, mapping=saved)
    assert [po.name for po in validation.purchase_orders] == ["P1"]
    # The same mapping named in bulkpo.toml is picked by the file's header set.
    mapping = read_mapping(saved)
    settings = Settings(mappings={"site": {
        "columns": mapping.columns, "fingerprint": mapping.fingerprint,
        "constants": {"currency": "EUR"}}})
    _table, auto = load_purchase_orders(path, settings=settings)
    assert [li.currency for li in auto.purchase_orders[0].lines] == ["EUR"]
    assert auto.header_map.decisions[0] == "mapping site used"


def test_a_mapping_naming_no_field_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "PO Number,SKU,Quantity\nP1,A,5\n")
    bad = _csv(tmp_path, '[columns]\n"SKU" = "skew"\n', "m.toml")
    with pytest.raises(bulkpo.ConfigError, match="'skew': no such field"):
        load_purchase_orders(path, mapping=bad)


def test_header_detection_skips_titles_and_data_and_header_row_overrides(
    tmp_path: Path,
) -> None:
    path = _csv(tmp_path, "Purchase Order\n\nPO Number,SKU,Quantity,Units\nP1,A,5,PCS\n")
    table, validation = load_purchase_orders(path)
    assert table.header_row == 3 and len(validation.purchase_orders) == 1
    forced, _validation = load_purchase_orders(path, header_row=1)
    assert forced.header_row == 1


def test_a_header_row_of_nothing_known_asks_for_header_row_or_mapping(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Beleg,Teil,Anzahl\nP1,A,5\n")
    with pytest.raises(bulkpo.UnreadableFileError, match="row 1 looks like the header"):
        load_purchase_orders(path)
    _table, validation = load_purchase_orders(path, header_row=1)
    [error] = validation.errors
    assert error.message.startswith('no column of row 1 ("Beleg", "Teil", "Anzahl") names a ')
    assert "row 1 looks like the header" in error.message


def test_missing_column_names_the_likely_candidates_and_hints_are_right(
    tmp_path: Path,
) -> None:
    path = _csv(tmp_path, "Order Ref,SKU,Quantity,VENDOR ZIP,Colour\nP1,A,5,70806,red\n")
    _table, validation = load_purchase_orders(path)
    [missing] = validation.errors
    assert missing.message == ("required column 'PO Number' not found; the likeliest columns: "
                               '"Order Ref"')
    hints = {i.header: i.suggestion for i in validation.warnings if i.code == "unknown_column"}
    assert "did you mean" not in hints["VENDOR ZIP"]


def test_cli_map_then_validate_with_the_map_reports_the_mapping_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _csv(tmp_path, "Title\n\nBeleg,Teil,Menge,Per\nP1,A,5,1\n")
    out = tmp_path / "m.toml"
    assert main(["map", str(path), "--header-row", "3", "-o", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8")
                   .replace('# "Beleg" = ""', '"Beleg" = "po_number"')
                   .replace('# "Teil" = ""', '"Teil" = "sku"'), encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", str(path), "--map", str(out), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mapping"]["header_row"] == 3
    assert report["mapping"]["columns"] == {
        "Beleg": "po_number", "Teil": "sku", "Menge": "quantity", "Per": "price_unit"}
    assert main(["map", str(path), "--header-row", "3", "-o", str(out)]) == 2  # no overwrite


def test_cli_import_dry_run_joins_a_headers_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = _csv(tmp_path, "EBELN,WAERS,INCO1\n45,EUR,FOB\n", "ekko.csv")
    lines = _csv(tmp_path, "EBELN,EBELP,MATNR,MENGE,NETPR,PEINH\n45,10,A,5,250,100\n",
                 "ekpo.csv")
    assert main(["import", str(lines), "--headers", str(head), "--dry-run"]) == 0
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["body"]["incoterm"] == "FOB"
    [line] = record["body"]["line_items"]
    assert line["unit_cost"] == {"amount": "2.50", "currency_code": "EUR"}


def test_a_po_mapping_file_without_a_kind_reads_as_before_and_kinds_do_not_mix(
    tmp_path: Path,
) -> None:
    path = _csv(tmp_path, "Beleg,Teil,Menge\nP1,A,5\n")
    older = _csv(tmp_path, 'header_row = 1\nfingerprint = ["beleg", "menge", "teil"]\n'
                 '[columns]\n"Beleg" = "po_number"\n"Teil" = "sku"\n', "old.toml")
    mapping = read_mapping(older)
    assert mapping.kind == "purchase-orders"
    # Written back, a PO mapping has no kind line: the file is what it always was.
    assert "kind" not in saved_mapping_toml(mapping)
    _table, validation = load_purchase_orders(path, mapping=older)
    assert [po.name for po in validation.purchase_orders] == ["P1"]
    assert validation.header_map.decisions[0] == "mapping old used"
    # A bookings mapping is never taken for a PO sheet, by name or by its header set.
    bookings = _csv(tmp_path, older.read_text(encoding="utf-8").replace(
        "header_row = 1", 'kind = "bookings"\nheader_row = 1'), "bk.toml")
    assert read_mapping(bookings).kind == "bookings"
    with pytest.raises(bulkpo.ConfigError, match="is for bookings sheets, not purchase-orders"):
        load_purchase_orders(path, mapping=read_mapping(bookings))
    assert find_mapping(["Beleg", "Teil", "Menge"], [read_mapping(bookings)]) is None
    with pytest.raises(bulkpo.ConfigError, match=r"is for a bookings sheet and po\.csv has none"):
        load_workbook(path, mapping=bookings)
    wrong = _csv(tmp_path, 'kind = "shipments"\n', "wrong.toml")
    with pytest.raises(bulkpo.ConfigError, match="kind must be one of purchase-orders, bookings"):
        read_mapping(wrong)
