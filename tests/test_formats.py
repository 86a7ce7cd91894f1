"""The format registry and the sheet rules every writer shares (widths, table names, csv)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bulkpo.errors import UsageError
from bulkpo.sheets.export_writer import CellKind, ExportColumn, csv_export, xlsx_export
from bulkpo.sheets.formats import (
    CSV,
    JSONL,
    OUTPUTS,
    XLSX,
    Format,
    OutputKind,
    format_for,
    formats,
    register,
)
from bulkpo.sheets.layout import column_width, csv_text, table_name
from bulkpo.sheets.outputs import Output, check_outputs
from bulkpo.sheets.writer import DATE_FORMAT, DECIMAL_FORMAT, Column

PACKAGE = Path(__file__).resolve().parent.parent / "bulkpo"


# ---------------------------------------------------------------- the registry


def test_each_suffix_names_one_format_in_any_case() -> None:
    assert [f.name for f in formats()][:3] == ["xlsx", "csv", "jsonl"]
    assert format_for("a/R.XLSX") is XLSX and format_for("r.Csv") is CSV
    assert format_for("r.jsonl") is JSONL and format_for("r.NDJSON") is JSONL
    assert format_for("r.pdf") is None and format_for("report") is None


def test_a_suffix_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match=r"\.ndjson is jsonl already"):
        register(Format("ndjson", (".ndjson",), JSONL.opener))
    assert format_for("r.ndjson") is JSONL


@pytest.mark.parametrize("kind", [k for k in OUTPUTS.values() if "jsonl" in k.format_names])
@pytest.mark.parametrize("name", ["out.jsonl", "out.ndjson", "OUT.NDJSON"])
def test_every_output_taking_json_lines_takes_ndjson_too(kind: OutputKind, name: str) -> None:
    assert kind.resolve(Path(name), "-o") is JSONL


def test_which_outputs_exist_is_answered_in_one_place() -> None:
    taken = {name: kind.format_names for name, kind in OUTPUTS.items()}
    assert taken == {
        "report": ("xlsx", "csv", "jsonl"),
        "errors": ("xlsx", "csv"),
        "export": ("xlsx", "csv", "jsonl"),
        "tracking": ("xlsx", "csv", "jsonl"),
        "shipments-export": ("xlsx",),
        "documents-index": ("csv",),
        "template": ("xlsx", "csv"),
        "dry-run": ("jsonl",),
    }
    # The dry run writes request bodies as JSON lines whatever the file is called.
    assert OUTPUTS["dry-run"].resolve(Path("bodies.txt")) is JSONL


@pytest.mark.parametrize("kind", [k for k in OUTPUTS.values() if not k.any_name])
def test_a_refused_suffix_gets_one_wording_from_every_path(
    kind: OutputKind, tmp_path: Path
) -> None:
    out = tmp_path / "x.pdf"
    expected = f"-o {out}: {kind.what} is {kind.describe()}"
    with pytest.raises(UsageError) as direct:
        kind.resolve(out, "-o")
    with pytest.raises(UsageError) as checked:
        check_outputs([Output("-o", out, kind=kind)], {})
    with pytest.raises(UsageError) as legacy:
        check_outputs([Output("-o", out, kind.suffixes, kind.what)], {})
    assert str(direct.value) == str(checked.value) == str(legacy.value) == expected
    # Aliases are accepted but not advertised.
    assert ".ndjson" not in expected and re.search(r" is \.(xlsx|csv|jsonl)", expected)


def test_a_command_listing_suffixes_accepts_their_aliases(tmp_path: Path) -> None:
    """track -o lists (.xlsx, .csv, .jsonl); read through the registry, .ndjson is fine."""
    check_outputs([Output("-o", tmp_path / "t.ndjson", (".xlsx", ".csv", ".jsonl"))], {})
    with pytest.raises(UsageError, match=r"the output is \.xlsx, \.csv or \.jsonl$"):
        check_outputs([Output("-o", tmp_path / "t.json", (".xlsx", ".csv", ".jsonl"))], {})


def test_only_the_registry_maps_a_suffix_to_a_format() -> None:
    """No module but formats.py names the JSON-lines suffixes; the CLI's suffix tuples
    are read through the registry by check_outputs (and go once it names output kinds)."""
    literal = re.compile(r"""["']\.(ndjson|jsonl)["']""")
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "formats.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if literal.search(line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert offenders == []
    assert literal.search((PACKAGE / "sheets" / "formats.py").read_text())


def test_every_format_opens_a_sink_for_typed_columns(tmp_path: Path) -> None:
    columns = [Column("PO", key="po"), Column("Due", DATE_FORMAT), Column("Cost", DECIMAL_FORMAT)]
    row = ["=PO-1", dt.date(2026, 3, 4), Decimal("-2.50")]
    for fmt in formats():
        path = tmp_path / f"out{fmt.suffix}"
        with fmt.open(path, columns, sheet="Orders", table=True) as sink:
            sink.append(row)
        assert path.is_file(), fmt.name
    ws = load_workbook(tmp_path / "out.xlsx")["Orders"]
    assert [c.value for c in ws[2]] == ["'=PO-1", dt.datetime(2026, 3, 4), -2.5]
    assert list(ws.tables) == ["Orders"]
    assert (tmp_path / "out.csv").read_bytes() == (
        "\ufeffPO,Due,Cost\r\n'=PO-1,2026-03-04,-2.50\r\n".encode()
    )
    assert (tmp_path / "out.jsonl").read_text() == (
        '{"po": "=PO-1", "Due": "2026-03-04", "Cost": "-2.50"}\n'
    )


# ---------------------------------------------------------------- widths


def test_column_width_follows_header_and_values_within_bounds() -> None:
    assert column_width("PO", []) == 6  # 2 characters + filter button + 1, the minimum
    assert column_width("Supplier", ["ACME"]) == len("Supplier") + 3 + 1
    assert column_width("Cost", [Decimal("1234567.5")]) == len("1,234,567.50") + 1
    assert column_width("Cost", [1234567.5]) == len("1,234,567.50") + 1
    assert column_width("At", [dt.datetime(2026, 1, 2, 3, 4)]) == 20
    assert column_width("On", [dt.date(2026, 1, 2)]) == 11
    assert column_width("Memo", ["short\n" + "x" * 30]) == 31
    assert column_width("Memo", ["x" * 500]) == 60


def test_the_export_writer_and_the_row_writer_size_columns_alike(tmp_path: Path) -> None:
    headers = ["PO Number", "Cost", "Due", "Memo"]
    rows = [
        ["PO-1", Decimal("1234567.25"), dt.date(2026, 1, 2), "a long memo " * 3],
        ["PO-22", Decimal("5"), None, "=x"],
    ]
    kinds = [CellKind.TEXT, CellKind.DECIMAL, CellKind.DATE, CellKind.TEXT]
    formats_ = [None, DECIMAL_FORMAT, DATE_FORMAT, None]
    with xlsx_export(
        tmp_path / "e.xlsx",
        [ExportColumn(h, h, k) for h, k in zip(headers, kinds, strict=True)],
        sheet_name="Orders",
    ) as export:
        for values in rows:
            export.append(values)
    columns = [Column(h, f) for h, f in zip(headers, formats_, strict=True)]
    with XLSX.open(tmp_path / "r.xlsx", columns, sheet="Orders", table=True) as sink:
        for values in rows:
            sink.append(values)
    sheets = [load_workbook(tmp_path / n)["Orders"] for n in ("e.xlsx", "r.xlsx")]
    widths = [[ws.column_dimensions[c].width for c in "ABCD"] for ws in sheets]
    assert widths[0] == widths[1] == [column_width(h, [r[i] for r in rows]) for i, h in
                                      enumerate(headers)]  # fmt: skip
    assert [list(ws.tables) for ws in sheets] == [["Orders"], ["Orders"]]


# ---------------------------------------------------------------- table names

_EXCEL_NAME = re.compile(r"[A-Za-z_\\][\w.\\]*")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Purchase Orders", "PurchaseOrders"),
        ("Shipments", "Shipments"),
        ("2026 POs", "T_2026POs"),
        ("PO2026", "T_PO2026"),  # column PO, row 2026: a cell reference
        ("R1C1", "T_R1C1"),
        ("r", "T_r"),
        ("C", "T_C"),
        ("Bestellungen Ä", "BestellungenÄ"),
        ("(!)", "Table"),
    ],
)
def test_table_names_are_valid_excel_names(title: str, expected: str) -> None:
    name = table_name(title)
    assert name == expected
    assert _EXCEL_NAME.fullmatch(name) and len(name) <= 255


def test_table_names_are_unique_regardless_of_case() -> None:
    taken: set[str] = set()
    names = [table_name(t, taken) for t in ("Orders", "orders", "ORDERS!", "x" * 300, "x" * 300)]
    assert names[:3] == ["Orders", "orders_2", "ORDERS_3"]
    assert len(names[3]) == len(names[4]) == 255 and names[4].endswith("_2")
    assert len({n.casefold() for n in names}) == 5


def test_a_cell_reference_title_still_makes_a_loadable_table(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with XLSX.open(path, [Column("A")], sheet="AB12", table=True) as sink:
        sink.append(["x"])
    ws = load_workbook(path)["AB12"]
    assert list(ws.tables) == ["T_AB12"] and ws.tables["T_AB12"].ref == "A1:A2"


# ---------------------------------------------------------------- csv


@pytest.mark.parametrize(
    ("value", "exact", "expected"),
    [
        (-5, False, "-5"),  # numbers are never neutralised
        (-1.5, False, "-1.5"),
        (Decimal("-2.50"), False, "-2.50"),
        (Decimal("1E+2"), False, "100"),
        (True, False, "TRUE"),
        (None, False, ""),
        (dt.date(2026, 1, 2), False, "2026-01-02"),
        (dt.datetime(2026, 1, 2, 3, 4), False, "2026-01-02T03:04:00"),
        ("-x", False, "'-x"),
        ("  =cmd", False, "'  =cmd"),
        ("=cmd", True, "=cmd"),
        ("00123", False, "00123"),
    ],
)
def test_csv_text(value: object, exact: bool, expected: str) -> None:
    assert csv_text(value, exact=exact) == expected


def test_the_export_csv_and_the_row_csv_write_the_same_bytes(tmp_path: Path) -> None:
    headers = ["PO", "Qty", "Cost", "Due", "Memo"]
    row = ["PO-1", -3, Decimal("1E+1"), dt.date(2026, 1, 2), "@SUM(A1)"]
    with csv_export(tmp_path / "e.csv", [ExportColumn(h, h) for h in headers]) as export:
        export.append(row)
    with CSV.open(tmp_path / "r.csv", [Column(h) for h in headers]) as sink:
        sink.append(row)
    data = (tmp_path / "e.csv").read_bytes()
    assert data == (tmp_path / "r.csv").read_bytes()
    assert data == "\ufeffPO,Qty,Cost,Due,Memo\r\nPO-1,-3,10,2026-01-02,'@SUM(A1)\r\n".encode()


def test_exact_formula_like_text_is_quote_prefixed_by_both_xlsx_writers(tmp_path: Path) -> None:
    texts = ["=1+1", "+1", "-x", "@a", " =b", "plain"]
    with xlsx_export(tmp_path / "e.xlsx", [ExportColumn(f"c{i}", f"c{i}") for i in range(6)]) as e:
        e.append(texts)
    columns = [Column(f"c{i}") for i in range(6)]
    with XLSX.open(tmp_path / "r.xlsx", columns, exact_text=True) as sink:
        sink.append(texts)
    for name in ("e.xlsx", "r.xlsx"):
        cells = list(load_workbook(tmp_path / name).worksheets[0][2])
        assert [c.value for c in cells] == texts, name
        assert [c.quotePrefix for c in cells] == [True] * 5 + [False], name
        assert {c.data_type for c in cells} == {"s"}, name


def test_track_writes_and_reads_back_ndjson_as_json_lines(tmp_path: Path) -> None:
    from bulkpo.shipments.track import (
        TrackRow,
        TrackState,
        TrackTarget,
        targets_from_file,
        write_tracking,
    )

    row = TrackRow(
        TrackTarget(booking_name="BK-1"), TrackState.SHIPMENT, "BK-1", 7, "confirmed", 42
    )
    for name in ("t.ndjson", "T.JSONL"):
        write_tracking(tmp_path / name, [row])
        assert json.loads((tmp_path / name).read_text())["shipment_id"] == 42
        assert [t.shipment_id for t in targets_from_file(tmp_path / name)] == [42]
    with pytest.raises(UsageError) as info:
        write_tracking(tmp_path / "t.json", [row])
    assert str(info.value) == f"-o {tmp_path / 't.json'}: the output is .xlsx, .csv or .jsonl"
    assert not (tmp_path / "t.json").exists()
