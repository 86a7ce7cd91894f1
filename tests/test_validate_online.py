"""``validate --online`` over real HTTP: every ref of a file checked against the account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import bulkpo
from bulkpo.cli import main
from bulkpo.columns import Kind
from bulkpo.config import Settings, load_settings
from bulkpo.issues import IssueCode
from tests.factories import NEW_ENTITY, NEW_LOCATION, po_row, workbook_with_network


def _pos() -> list[dict[str, Any]]:
    def po(number: int, seller: str, origin: str) -> list[dict[str, Any]]:
        return [po_row(number, line, seller_ref=seller, origin_address_ref=origin,
                       destination_address_ref="loc-la-dc") for line in (1, 2)]

    return [
        *po(1, "sup-foshan-ceramics", "loc-dongguan-factory"),  # the file's network sheet
        *po(2, "sup-shenzhen-lights", "loc-shenzhen-factory"),  # the account's
        *po(3, "sup-shenzen-lights", "loc-shenzhen-factory"),   # a typo, twice
        *po(4, "sup-shenzen-lights", "loc-shenzhen-factry"),    # and a location typo
    ]


def _unknown(result: bulkpo.ImportResult) -> dict[str, Any]:
    return {i.value: i for i in result.issues if i.code is IssueCode.UNKNOWN_REF}


def test_unknown_refs_fail_validation_once_per_value_with_their_cells(
    sandbox_settings: Settings, tmp_path: Path
) -> None:
    path = workbook_with_network(tmp_path / "m.xlsx", [NEW_ENTITY, NEW_LOCATION], _pos())
    offline = bulkpo.validate_file(path)
    assert not _unknown(offline)
    online = bulkpo.validate_file(path, online=True, settings=sandbox_settings)
    unknown = _unknown(online)
    assert sorted(unknown) == ["loc-shenzhen-factry", "sup-shenzen-lights"]
    seller = unknown["sup-shenzen-lights"]
    # Rows 6-9 of the PO sheet hold PO 3 and PO 4; the Seller Entity Ref column is V.
    assert [str(c) for c in seller.cells] == [f"Purchase Orders!V{row}" for row in (6, 7, 8, 9)]
    assert "sup-shenzhen-lights" in seller.suggestion
    assert "loc-shenzhen-factory" in unknown["loc-shenzhen-factry"].suggestion
    sheet = online.sheet(Kind.PURCHASE_ORDERS)
    assert sheet is not None and sheet.validation is not None
    assert [r.status for r in sheet.results] == ["valid"] * 4 + ["invalid"] * 4
    assert sorted(po.name for po in sheet.validation.purchase_orders) == ["PO-00001", "PO-00002"]


def test_cli_validate_online_with_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    workbook_with_network(tmp_path / "m.xlsx", [NEW_ENTITY, NEW_LOCATION], _pos())
    assert main(["validate", "m.xlsx", "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["--sandbox", "validate", "m.xlsx", "--online", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    unknown = [i for i in report["issues"] if i["code"] == "unknown_ref"]
    assert [i["value"] for i in unknown] == ["sup-shenzen-lights", "loc-shenzhen-factry"]
    assert "4 cells" in unknown[0]["message"]


def test_online_without_a_key_is_a_config_error_before_any_request(tmp_path: Path) -> None:
    path = workbook_with_network(tmp_path / "m.xlsx", [NEW_ENTITY], _pos())
    with pytest.raises(bulkpo.ConfigError, match="no Flexport API key"):
        bulkpo.validate_file(path, online=True, settings=load_settings(env={}))
