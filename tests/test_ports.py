"""UN/LOCODE lookups and suggestions, against the shipped port list (real data)."""

from __future__ import annotations

import gzip
from importlib import resources

from bulkpo import ports
from bulkpo.columns import PURCHASE_ORDER_COLUMNS
from bulkpo.purchase_orders import validate_purchase_orders
from bulkpo.table import Row, Table
from bulkpo.validation import ValidationResult


def test_shipped_file_is_compact_and_complete() -> None:
    data = resources.files("bulkpo").joinpath("data", ports.DATA_FILE).read_bytes()
    assert len(data) < 1_500_000
    lines = gzip.decompress(data).decode().splitlines()
    assert len(lines) > 100_000
    assert all(line.count("\t") == 3 for line in lines[:1000])


def test_lookup_folds_case_and_spaces() -> None:
    port = ports.lookup(" cn sha ")
    assert port is not None
    assert port.code == "CNSHA"
    assert port.name == "Shanghai Hongqiao International Apt"
    assert (port.is_airport, port.is_seaport) == (True, False)
    assert ports.lookup("CNSHG") is not None and ports.lookup("CNSHG").is_seaport  # type: ignore[union-attr]
    assert ports.lookup("XXXXX") is None


def test_lookup_iata() -> None:
    pvg = ports.lookup_iata("pvg")
    assert pvg is not None and pvg.code == "CNPVG" and pvg.country == "CN"
    lax = ports.lookup_iata("LAX")
    assert lax is not None and lax.code == "USLAX"
    assert ports.lookup_iata("QQQ") is None


def test_names_without_diacritics_are_kept() -> None:
    port = ports.lookup("DEMLD")
    assert port is not None and port.name == "Muhldorf"


def test_suggest_seaport_of_shanghai_by_name_and_by_code() -> None:
    assert [p.code for p in ports.suggest("Shanghai", want="seaport")][:2] == ["CNSHG", "CNSGH"]
    assert ports.suggest("CNSHA", want="seaport")[0].code == "CNSHG"
    assert ports.suggest("Shangai", want="seaport")[0].code == "CNSHG"
    airports = {p.code for p in ports.suggest("Shanghai", want="airport")}
    assert {"CNPVG", "CNSHA"} <= airports


def test_suggest_near_codes_in_same_country() -> None:
    codes = [p.code for p in ports.suggest("NLRTD", want="airport")]
    assert codes == ["NLRTM"]


def test_check_port_messages() -> None:
    # A code that exists is never an error for its flags: a warning naming the alternative.
    port, problem = ports.check_port("CNPVG", want="seaport")
    assert port is not None and problem is not None and problem.error is False
    assert problem.code == "wrong_port_kind"
    assert problem.message == (
        'UN/LOCODE lists "CNPVG" as an airport (Shanghai Pudong International Apt), '
        "not a seaport; sent as written"
    )
    assert problem.suggestion == (
        "if you meant the seaport of Shanghai Pudong, write CNPDG (Pudong/Shanghai)")
    # The trade's code for the port of Shanghai passes for ocean with no remark at all.
    assert ports.check_port("CNSHA", want="seaport")[1] is None
    _, unknown = ports.check_port("NLRTD", want="airport", accept_iata=True)
    assert unknown is not None and unknown.code == "unknown_port"
    assert unknown.suggestion == "did you mean NLRTM (Rotterdam)?"
    assert ports.check_port("PVG", want="airport", accept_iata=True)[1] is None
    assert ports.check_port("PVG", want="airport")[1] is not None  # IATA only where accepted
    assert ports.check_port("CNSHA")[1] is None  # any port when no kind is wanted


def _po_sheet(*rows: tuple[str, str, str]) -> ValidationResult:
    """PO number, origin port, mode per row."""
    table = Table("po.xlsx", "Purchase Orders", 1,
                  ["PO Number", "SKU", "Quantity", "Unit of Measure", "Origin Port",
                   "Transportation Mode"],
                  [Row(i + 2, [po, "A", 1, "PCS", port, mode])
                   for i, (po, port, mode) in enumerate(rows)])
    return validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS)


def test_trade_codes_pass_for_ocean_with_no_warning_and_are_sent_as_written() -> None:
    codes = ["CNSHA", "CNNGB", "CNSZX", "CNTAO", "CNXMN"]
    result = _po_sheet(*((f"P{i}", code, "ocean") for i, code in enumerate(codes)))
    assert result.issues == []
    assert [po.origin_port for po in result.purchase_orders] == codes


def test_flags_against_the_mode_warn_once_per_distinct_code_naming_the_alternative() -> None:
    result = _po_sheet(("P1", "CNPVG", "ocean"), ("P2", "CNPVG", "ocean"),
                       ("P3", "CNPVG", "ocean"), ("P4", "CNYTN", "air"))
    warnings = [i for i in result.issues if i.code == "wrong_port_kind"]
    assert [str(w) for w in warnings] == [
        'Purchase Orders!E2 (Origin Port): UN/LOCODE lists "CNPVG" as an airport (Shanghai '
        "Pudong International Apt), not a seaport; sent as written in 3 cells: Purchase "
        "Orders!E2, E3, E4; if you meant the seaport of Shanghai Pudong, write CNPDG "
        "(Pudong/Shanghai)",
        'Purchase Orders!E5 (Origin Port): UN/LOCODE lists "CNYTN" as a seaport (Yantian), '
        "not an airport; sent as written; check the mode, or write the airport meant",
    ]
    assert all(w.severity == "warning" for w in warnings)
    assert [po.origin_port for po in result.purchase_orders] == ["CNPVG"] * 3 + ["CNYTN"]


def test_only_a_code_that_does_not_exist_is_an_error_with_suggestions() -> None:
    result = _po_sheet(("P1", "CNSH1", "ocean"))
    (issue,) = result.errors
    assert issue.code == "unknown_port" and issue.message == '"CNSH1" is not a UN/LOCODE port'
    assert issue.suggestion == (
        "did you mean CNSHD (Shidao Pt) or CNSHG (Shanghai Pt) or CNSHH (Shishi)?")
    assert result.purchase_orders == []


def test_port_names_resolve_to_one_seaport_with_a_warning() -> None:
    result = _po_sheet(("P1", "Yantian", "ocean"), ("P2", "Yantian", "ocean"),
                       ("P3", "Shanghai", "ocean"), ("P4", "Manzanillo", "ocean"))
    names = [str(i) for i in result.issues if i.code == "port_name"]
    assert names == [
        'Purchase Orders!E2 (Origin Port): "Yantian" read as the seaport CNYTN in 2 cells: '
        "Purchase Orders!E2, E3; write the code if another port of that name was meant",
        'Purchase Orders!E4 (Origin Port): "Shanghai" read as the seaport CNSHA; write the '
        "code if another port of that name was meant",
    ]
    assert [po.origin_port for po in result.purchase_orders] == ["CNYTN", "CNYTN", "CNSHA"]
    (unknown,) = result.errors  # Manzanillo names ports in three countries
    assert unknown.code == "unknown_port" and unknown.value == "Manzanillo"
