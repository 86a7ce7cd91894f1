"""What the sheet shows decides what is read: hidden rows and sheets are not sent on a guess,
merged cells read as a person reads them, and a merged Quantity asks."""

from __future__ import annotations

import re
import struct
import zipfile
from decimal import Decimal
from pathlib import Path

import olefile
import openpyxl
import pytest

import bulkpo
from bulkpo.cli import main
from bulkpo.columns import Kind
from bulkpo.config import Settings
from bulkpo.imports import load_purchase_orders
from bulkpo.issues import IssueCode
from bulkpo.sandbox import SandboxServer
from bulkpo.saved_mapping import SavedMapping
from bulkpo.sheets import read_table
from tests.conftest import listing, shared_path
from tests.factories import po_rows, write_po_workbook


def hide(path: Path, rows: list[int], *, columns: str = "", filtered: bool = False) -> Path:
    """The workbook with ``rows`` hidden, as Hide Rows or an AutoFilter leaves them."""
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws is not None
    for number in rows:
        ws.row_dimensions[number].hidden = True
    for letter in columns:
        ws.column_dimensions[letter].hidden = True
    if filtered:
        ws.auto_filter.ref = ws.dimensions
    wb.save(path)
    return path


def test_hidden_rows_and_the_pos_holding_them_are_not_sent(tmp_path: Path) -> None:
    # PO-00001 rows 2-3 shown; PO-00002 rows 4-5 with row 5 filtered out; PO-00003 rows
    # 6-7 both hidden.
    path = hide(write_po_workbook(tmp_path / "pos.xlsx", po_rows(3)), [5, 6, 7], filtered=True)
    result = bulkpo.validate_file(path)
    sheet = result.purchase_orders
    assert sheet is not None
    assert [po.name for po in sheet.validation.purchase_orders] == ["PO-00001"]
    [hidden] = [i for i in sheet.validation.issues if i.code is IssueCode.HIDDEN_ROW]
    assert hidden.message == (
        "3 rows are hidden in the sheet (a filter or Hide Rows): rows 5, 6, 7; whether hidden "
        "rows are meant to be sent cannot be told, so they are not")
    assert [str(r) for r in (hidden.ref, *hidden.also)] == [
        "Purchase Orders!5", "Purchase Orders!6", "Purchase Orders!7"]
    # The problem is listed once (on row 5, naming the others); each row says it.
    said = {r.row: (r.status, "hidden in the sheet" in r.message) for r in sheet.results}
    assert said == {2: ("valid", False), 3: ("valid", False), 4: ("invalid", False),
                    5: ("invalid", True), 6: ("invalid", True), 7: ("invalid", True)}
    [held] = next(r for r in sheet.results if r.row == 4).issues
    assert held.message == "held back: PO PO-00002 is sent once its hidden row 5 is " \
        "unhidden or deleted"


def test_a_hidden_column_or_no_hidden_row_changes_nothing(tmp_path: Path) -> None:
    path = hide(write_po_workbook(tmp_path / "pos.xlsx", po_rows(2)), [], columns="BC")
    sheet = bulkpo.validate_file(path).purchase_orders
    assert sheet is not None
    assert len(sheet.validation.purchase_orders) == 2
    assert not [i for i in sheet.validation.issues if i.code is IssueCode.HIDDEN_ROW]


def test_cli_says_it_once_and_import_sends_only_what_is_shown(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = hide(write_po_workbook(tmp_path / "pos.xlsx", po_rows(40)), list(range(10, 30)))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.count("hidden in the sheet") == 1, out
    assert "row 10: 20 rows are hidden in the sheet (a filter or Hide Rows): rows 10, 11, 12" in out
    result = bulkpo.import_file(path, settings=sandbox_settings)
    sheet = result.sheet(Kind.PURCHASE_ORDERS)
    assert sheet is not None
    sent = {r.key for r in sheet.results if r.status == "created"}
    # PO-0000n is on rows 2n and 2n+1: rows 10-29 are PO-00005 to PO-00014.
    held = {f"PO-{n:05d}" for n in range(5, 15)}
    assert sent == {f"PO-{n:05d}" for n in range(1, 41)} - held
    assert {po["name"] for po in listing(sandbox, "/purchase_orders")} & held == set()
    assert len(sheet.results) == 80  # every row has its one status


def test_the_report_shows_the_hidden_rows_with_their_status(tmp_path: Path) -> None:
    path = hide(write_po_workbook(tmp_path / "pos.xlsx", po_rows(3)), [5, 6, 7], filtered=True)
    report = tmp_path / "report.xlsx"
    assert main(["validate", str(path), "--report", str(report)]) == 1
    ws = openpyxl.load_workbook(report)["Purchase Orders"]
    status = max(c.column for c in ws[1] if c.value == "Status")  # the report's, not the PO's
    assert [ws.cell(n, status).value for n in range(2, 8)] == ["valid"] * 2 + ["invalid"] * 4
    # Shown, or the status of the rows stopped for being hidden could not be read.
    assert not any(ws.row_dimensions[n].hidden for n in range(2, 8))
    assert openpyxl.load_workbook(path).active.row_dimensions[5].hidden  # the input is as it was


def test_an_xls_row_hidden_in_excel_is_known_too(tmp_path: Path) -> None:
    # The corpus's date.xls with its third row's ROW record flagged hidden (0x20), as
    # Excel and LibreOffice write a filtered-out row.
    path = tmp_path / "date.xls"
    path.write_bytes(shared_path("data", "excel-corpus", "date.xls").read_bytes())
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        stream = bytearray(ole.openstream("Workbook").read())
        pos = 0
        while pos + 4 <= len(stream):
            kind, size = struct.unpack_from("<HH", stream, pos)
            if kind == 0x0208 and struct.unpack_from("<H", stream, pos + 4)[0] == 2:
                struct.pack_into("<H", stream, pos + 16, 0x0120)
            pos += 4 + size
        ole.write_stream("Workbook", bytes(stream))
    table = read_table(path, header_row=1)
    assert [r.number for r in table.rows] == [2, 3]
    assert table.hidden_rows == {3}
    assert read_table(shared_path("data", "excel-corpus", "date.xls"),
                      header_row=1).hidden_rows == frozenset()


def ods_with_rows(path: Path, rows: list[tuple[list[str], str | None, int]],
                  columns: str = "") -> Path:
    """A minimal OpenDocument spreadsheet: each row (texts, table:visibility, repeated),
    after the ``columns`` elements given."""
    def cell(text: str) -> str:
        return (f'<table:table-cell office:value-type="string"><text:p>{text}</text:p>'
                "</table:table-cell>")

    body = "".join(
        "<table:table-row"
        + (f' table:visibility="{seen}"' if seen else "")
        + (f' table:number-rows-repeated="{times}"' if times > 1 else "")
        + ">" + "".join(cell(t) for t in texts) + "</table:table-row>"
        for texts, seen, times in rows
    )
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Other"><table:table-row '
        'table:visibility="collapse"><table:table-cell/></table:table-row></table:table>'
        f'<table:table table:name="Lines">{columns}{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
        'vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="'
        'content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    return path


def test_an_ods_row_hidden_by_a_filter_is_known_and_repeats_count(tmp_path: Path) -> None:
    line = ["PO-1", "SKU-1", "5"]
    path = ods_with_rows(tmp_path / "lines.ods", [
        (["PO Number", "SKU", "Quantity"], None, 1),
        (line, None, 2),             # rows 2-3
        (line, "filter", 2),         # rows 4-5, filtered out
        (line, None, 1),             # row 6
        (line, "collapse", 1),       # row 7, hidden by hand
        ([], "collapse", 1_000_000),  # the empty rest, hidden: not listed
    ], columns=(
        '<table:table-column table:number-columns-repeated="2"/>'
        '<table:table-column table:visibility="collapse"/>'  # C: Quantity, hidden
        '<table:table-column table:number-columns-repeated="16381"/>'))
    table = read_table(path, sheet="Lines")
    assert [r.number for r in table.rows] == [2, 3, 4, 5, 6, 7]
    assert table.hidden_rows == {4, 5, 7}
    assert table.hidden_cols == {2}


def test_a_hidden_sheet_is_never_chosen_over_a_visible_one(tmp_path: Path) -> None:
    path = write_po_workbook(tmp_path / "pos.xlsx", po_rows(2))
    wb = openpyxl.load_workbook(path)
    wb["Purchase Orders"].title = "Orders"
    # An old copy, hidden, first in the workbook and named as bulkpo names the PO sheet:
    # everything but its being hidden would make it the one.
    old = wb.copy_worksheet(wb["Orders"])
    old.title = "Purchase Orders"
    old.sheet_state = "hidden"
    old["A2"] = "PO-99999"
    wb.move_sheet(old, offset=-1)
    wb.save(path)
    sheet = bulkpo.validate_file(path).purchase_orders
    assert sheet is not None
    assert sheet.table.sheet == "Orders"
    assert [w.message for w in sheet.validation.warnings if "hidden" in w.message] == [
        "sheet 'Purchase Orders' (hidden in the workbook) also looks like "
        "purchase-order data and is not imported (sheet 'Orders' is)"]
    # Read as a PO file alone (the sheet named "Purchase Orders" is preferred, if shown).
    table, _validation = load_purchase_orders(path)
    assert table.sheet == "Orders"
    named = bulkpo.validate_file(path, sheet="Purchase Orders").purchase_orders
    assert named is not None and named.table.sheet == "Purchase Orders"
    assert named.validation.purchase_orders[0].name == "PO-99999"


def test_the_only_data_sheet_hidden_asks_to_be_named(tmp_path: Path) -> None:
    path = write_po_workbook(tmp_path / "pos.xlsx", po_rows(2))
    wb = openpyxl.load_workbook(path)
    wb["Purchase Orders"].title = "Data"
    wb["Data"].sheet_state = "hidden"
    cover = wb.create_sheet("Cover", 0)
    cover["A1"] = "Exported from the ERP on 2026-11-02"
    wb.active = 0
    wb.save(path)
    with pytest.raises(bulkpo.UnreadableFileError) as refused:
        bulkpo.validate_file(path)
    assert str(refused.value).endswith(
        "the sheet with the column names, 'Data', is hidden in the workbook: unhide it, or "
        "name it (sheet='Data', --sheet 'Data') to read it")


ERP_FILES = Path(__file__).parent / "erp_corpus" / "files"


def merge(path: Path, *ranges: str) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws is not None
    for cells in ranges:
        ws.merge_cells(cells)
    wb.save(path)
    return path


def test_a_cell_merged_down_is_read_for_each_row_it_covers(tmp_path: Path) -> None:
    # Columns: A PO Number ... Q Quantity, S Unit Cost (PO_KEYS order). The PO number of
    # PO-00002 merged over its two lines, and PO-00001's price over its two lines: a
    # person reads them on each line, and so does bulkpo (calamine gives the first only).
    path = merge(write_po_workbook(tmp_path / "pos.xlsx", po_rows(2)), "A4:A5", "S2:S3")
    sheet = bulkpo.validate_file(path).purchase_orders
    assert sheet is not None
    pos = {po.name: po for po in sheet.validation.purchase_orders}
    assert [str(line.unit_cost) for line in pos["PO-00001"].lines] == ["12.50", "12.50"]
    assert [line.row for line in pos["PO-00002"].lines] == [4, 5]
    [said] = [i for i in sheet.validation.issues if i.code is IssueCode.MERGED_CELL]
    assert said.message == ("2 merged cells over several rows (A4:A5, S2:S3): each row reads "
                            "the merged value")


def test_a_quantity_merged_over_lines_is_not_sent(tmp_path: Path) -> None:
    path = merge(write_po_workbook(tmp_path / "pos.xlsx", po_rows(3)), "Q4:Q5", "A2:T2")
    sheet = bulkpo.validate_file(path).purchase_orders
    assert sheet is not None
    assert [po.name for po in sheet.validation.purchase_orders] == ["PO-00001", "PO-00003"]
    [refused] = [i for i in sheet.validation.errors if i.code is IssueCode.MERGED_CELL]
    assert refused.message == (
        "Quantity is one merged cell over several rows (Q4:Q5): whether its value is each "
        "row's or their total cannot be told")
    assert refused.suggestion == "unmerge it and write each row's Quantity"
    # Not also said to be "read on each row": the merged cells read so are none here.
    assert not [i for i in sheet.validation.warnings if i.code is IssueCode.MERGED_CELL]
    said = {r.row: r.status for r in sheet.results}
    # Row 2 merged across its columns (A2:T2) keeps only its first cell: not filled
    # across, it reads as a PO's note row.
    assert said == {2: "skipped", 3: "valid", 4: "invalid", 5: "invalid", 6: "valid",
                    7: "valid"}


def test_a_hidden_bookings_sheet_named_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bookings.xlsx"
    bulkpo.write_template(Kind.BOOKINGS, path)
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Cover", 0)["A1"] = "see the other sheet"
    wb["Bookings"].sheet_state = "hidden"
    wb.active = 0
    wb.save(path)
    named = bulkpo.validate_file(path, sheet="Bookings")
    assert named.sheet(Kind.BOOKINGS) is not None


def test_an_xlsb_row_hidden_in_excel_is_known_too(tmp_path: Path) -> None:
    # The corpus's date.xlsb with its third row header (BrtRowHdr, type 0, 25 bytes)
    # flagged hidden: byte 11 of the record, 0x10 (fDyZero), as [MS-XLSB] 2.4.726 puts it.
    src = shared_path("data", "excel-corpus", "date.xlsb")
    part = "xl/worksheets/sheet1.bin"
    with zipfile.ZipFile(src) as zf:
        data = bytearray(zf.read(part))
    headers = [m.start() + 2 for m in re.finditer(rb"\x00\x19", bytes(data))]
    assert struct.unpack_from("<I", data, headers[2])[0] == 2  # 0-based: sheet row 3
    data[headers[2] + 11] |= 0x10
    path = tmp_path / "date.xlsb"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, bytes(data) if info.filename == part else zin.read(info))
    table = read_table(path, header_row=1)
    assert [r.number for r in table.rows] == [2, 3]
    assert table.hidden_rows == {3}
    assert read_table(src, header_row=1).hidden_rows == frozenset()


def test_a_hidden_column_read_as_a_field_is_said(tmp_path: Path) -> None:
    path = hide(write_po_workbook(tmp_path / "pos.xlsx", po_rows(2)), [], columns="S")
    sheet = bulkpo.validate_file(path).purchase_orders
    assert sheet is not None
    assert len(sheet.validation.purchase_orders) == 2  # read all the same: said, not refused
    [said] = [i for i in sheet.validation.issues if i.code is IssueCode.HIDDEN_COLUMN]
    assert str(said.ref) == "Purchase Orders!S1"
    assert said.message == ("column S (Unit Cost) is hidden in the sheet and is read as Unit "
                            "Cost all the same")


def test_a_merged_quantity_under_a_header_with_braces_is_said_like_any(tmp_path: Path) -> None:
    path = merge(write_po_workbook(tmp_path / "pos.xlsx", po_rows(2)), "Q2:Q3")
    wb = openpyxl.load_workbook(path)
    wb.active["Q1"] = "Quantity {pcs}"  # type: ignore[index]
    wb.save(path)
    mapping = SavedMapping(columns={"Quantity {pcs}": "quantity"})
    sheet = bulkpo.validate_file(path, mapping=mapping).purchase_orders
    assert sheet is not None
    held = next(r for r in sheet.results if r.row == 2)
    assert "Quantity {pcs} is one merged cell over several rows (Q2:Q3)" in held.message


def test_a_hidden_bookings_sheet_left_out_is_said(tmp_path: Path) -> None:
    pos = write_po_workbook(tmp_path / "pos.xlsx", po_rows(1))
    bookings = tmp_path / "bookings.xlsx"
    bulkpo.write_template(Kind.BOOKINGS, bookings)
    wb = openpyxl.load_workbook(pos)
    source = openpyxl.load_workbook(bookings)["Bookings"]
    hidden = wb.create_sheet("Bookings")
    for row in source.iter_rows(values_only=True):
        hidden.append(row)
    hidden.sheet_state = "hidden"
    wb.save(pos)
    result = bulkpo.validate_file(pos)
    assert result.sheet(Kind.BOOKINGS) is None
    sheet = result.purchase_orders
    assert sheet is not None
    assert [w.message for w in sheet.validation.warnings if "hidden" in w.message] == [
        "sheet 'Bookings' (hidden in the workbook) looks like bookings data and is not "
        "imported"]


def test_a_po_number_merged_over_an_odoo_export_reads_as_the_export_left_it(
    tmp_path: Path,
) -> None:
    # Odoo's PO export leaves the PO number blank on a PO's later lines, and its note line
    # ("Ship with corner protectors", quantity 0) has no product. A user who merged the
    # PO number down over those rows gets the same POs, the note line still skipped.
    path = tmp_path / "odoo.xlsx"
    path.write_bytes((ERP_FILES / "odoo_purchase_order.xlsx").read_bytes())
    plain = bulkpo.validate_file(path).purchase_orders
    merge(path, "A2:A4")
    merged = bulkpo.validate_file(path).purchase_orders
    assert plain is not None and merged is not None
    assert [r.status for r in merged.results] == [r.status for r in plain.results]
    assert [(po.name, [(line.sku, line.quantity, line.unit_cost) for line in po.lines])
            for po in merged.validation.purchase_orders] == [
        ("P00041", [("FURN_8888", 500, Decimal("12.50")), ("FURN_7800", 120, Decimal("145"))])]
    assert next(r for r in merged.results if r.row == 4).status == "skipped"


def test_the_report_does_not_say_a_refused_merged_quantity_is_read(tmp_path: Path) -> None:
    path = merge(write_po_workbook(tmp_path / "pos.xlsx", po_rows(2)), "Q4:Q5")
    report = tmp_path / "report.xlsx"
    assert main(["validate", str(path), "--report", str(report)]) == 1
    listed = [row for row in openpyxl.load_workbook(report)["Errors"].iter_rows(values_only=True)
              if row[5] == "merged_cell"]
    assert [(row[0], row[4]) for row in listed] == [("Purchase Orders!Q4", "error")]
