"""The ``bulkpo export purchase-orders`` command, through click against the sandbox."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from bulkpo.cli.export import export_group
from bulkpo.errors import UsageError
from bulkpo.sandbox import SandboxServer
from tests.conftest import SAMPLES


@pytest.fixture
def runner(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("FLEXPORT_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("FLEXPORT_API_KEY", sandbox.api_key)
    monkeypatch.chdir(tmp_path)
    headers = {"Authorization": f"Bearer {sandbox.api_key}", "Flexport-Version": "3"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as http:
        for name, status in (("PO-1", "open"), ("PO-2", "closed")):
            body = {
                "name": name,
                "status": status,
                "buyer": {"name": "Acme Imports Inc", "ref": "acme-us"},
                "line_items": [{"product": {"sku": "A1", "name": "Lamp"}, "units": 5}],
            }
            http.post("/purchase_orders", json=body).raise_for_status()
    return CliRunner()


def test_export_to_xlsx_with_a_filter(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        export_group, ["purchase-orders", "--status", "open", "--rate", "500", "-o", "out.xlsx"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "Wrote 1 purchase orders (1 rows) to out.xlsx\n"
    ws = load_workbook(tmp_path / "out.xlsx")["Purchase Orders"]
    assert ws["A2"].value == "PO-1" and ws.max_row == 2


def test_default_name_and_csv(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(export_group, ["purchase-orders", "--rate", "500"]).exit_code == 0
    assert [p.name for p in tmp_path.glob("purchase-orders-*.xlsx")]
    result = runner.invoke(export_group, ["purchase-orders", "-o", "all-{date}.csv"])
    assert result.exit_code == 0, result.output
    (written,) = tmp_path.glob("all-*.csv")
    assert "PO-2" in written.read_text(encoding="utf-8-sig")


def test_profile_with_overrides_names_the_file_by_month(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        export_group,
        ["purchase-orders", "--profile", str(SAMPLES / "monthly-report.toml"),
         "--month", "2026-10", "--rate", "500"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # The sandbox's POs were created now, not in October 2026.
    assert result.output == "Wrote 0 purchase orders (0 rows) to po-report-2026-10.xlsx\n"
    wb = load_workbook(tmp_path / "po-report-2026-10.xlsx")
    query = {r[0].value: r[1].value for r in wb["Query"].iter_rows(min_row=2)}
    assert query["Report window (created at)"] == "month 2026-10"
    assert query["f.created_at.lt"] == "2026-11-01T00:00:00+00:00"
    assert query["f.role"] == "buyer" and query["Profile"] == "monthly-report.toml"
    assert [c.value for c in wb["Purchase Orders"][1]][:3] == ["PO Number", "Status", "Seller"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-10", "--since", "30d"], "--month and --since are alternatives"),
        (["--last-month", "--created-after", "2026-01-01"], "leave out --created-after"),
        (["--created-before", "soon"], "--created-before 'soon': expected a date"),
        (["-o", "out.pdf"], "-o out.pdf: the output is .xlsx, .csv or .jsonl"),
        (["--columns", "po_number,colour"], "unknown column 'colour'"),
        (["--tz", "Nowhere/Land"], "--tz 'Nowhere/Land': not a known time zone"),
    ],
)
def test_bad_options_are_usage_errors(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(export_group, ["purchase-orders", *args])
    assert isinstance(result.exception, UsageError)
    assert message in str(result.exception)


def test_a_bad_profile_names_the_file(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('window = "soon"\n')
    result = runner.invoke(export_group, ["purchase-orders", "--profile", "p.toml"])
    assert isinstance(result.exception, UsageError)
    assert str(result.exception).startswith("profile p.toml: window 'soon'")


def test_every_export_command_has_help() -> None:
    result = CliRunner().invoke(export_group, ["purchase-orders", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
    assert "created_at" in result.output
