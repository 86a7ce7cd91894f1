"""Exporting shipments from the sandbox: filters narrow the list at the API, and the
workbook has Shipments, Legs, Milestones, Summary and Query sheets, formatted."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bulkpo.cli.export import shipments_export_command
from bulkpo.errors import UsageError
from bulkpo.sandbox import SandboxServer
from bulkpo.shipments.export import ShipmentQuery, parse_metadata
from tests.sandbox_fixtures import air_booking, ocean_fcl_booking, trucking_booking
from tests.test_track import DAY, _in_tmp, invoke, post_booking

__all__ = ["_in_tmp"]


@pytest.fixture
def three_shipments(sandbox: SandboxServer) -> SandboxServer:
    ocean = ocean_fcl_booking("BK-OCEAN")
    ocean["metadata"] = {"purchase_order": ["PO-1001"], "team": ["red"]}
    air = air_booking("BK-AIR")
    air["metadata"] = {"team": ["blue"]}
    post_booking(sandbox, ocean)
    post_booking(sandbox, air)
    sandbox.advance(30 + 3 * DAY)  # both departed
    post_booking(sandbox, trucking_booking("BK-TRUCK"))
    sandbox.advance(30)
    return sandbox


def _names(path: Path) -> list[str]:
    ws = load_workbook(path)["Shipments"]
    return [row[1] for row in ws.iter_rows(min_row=2, values_only=True) if row[0] is not None]


def test_filters_narrow_the_results(three_shipments: SandboxServer) -> None:
    cases = {
        "all.xlsx": [],
        "ocean.xlsx": ["--transportation-mode", "ocean"],
        "team.xlsx": ["--metadata", "team=red", "--metadata", "team=blue"],
        "red.xlsx": ["--metadata", "team=red"],
        "status.xlsx": ["--status", "seller_location"],
        "later.xlsx": ["--updated-after", "2999-01-01", "--tz", "UTC"],
    }
    for name, args in cases.items():
        result = invoke(three_shipments, shipments_export_command, [*args, "-o", name])
        assert result.exit_code == 0, result.output
    assert sorted(_names(Path("all.xlsx"))) == ["BK-AIR", "BK-OCEAN", "BK-TRUCK"]
    assert _names(Path("ocean.xlsx")) == ["BK-OCEAN"]
    assert sorted(_names(Path("team.xlsx"))) == ["BK-AIR", "BK-OCEAN"]
    assert _names(Path("red.xlsx")) == ["BK-OCEAN"]
    assert _names(Path("status.xlsx")) == ["BK-TRUCK"]
    assert _names(Path("later.xlsx")) == []


def test_workbook_sheets_and_formatting(three_shipments: SandboxServer) -> None:
    result = invoke(three_shipments, shipments_export_command, ["-o", "s.xlsx"])
    assert result.stdout.startswith("Wrote 3 shipments (6 legs, ")
    wb = load_workbook("s.xlsx")
    assert wb.sheetnames == ["Shipments", "Legs", "Milestones", "Summary", "Query"]
    for title in ("Shipments", "Legs", "Milestones"):
        ws = wb[title]
        assert ws.freeze_panes == "A2" and ws["A1"].font.bold and len(ws.tables) == 1
    ships = wb["Shipments"]
    headers = [c.value for c in ships[1]]
    by_name = {row[1].value: row for row in ships.iter_rows(min_row=2)}
    ocean = by_name["BK-OCEAN"]
    etd = ocean[headers.index("ETD (actual, UTC)")]
    assert isinstance(etd.value, dt.datetime) and etd.number_format == "yyyy-mm-dd hh:mm:ss"
    ready = ocean[headers.index("Cargo Ready")]
    assert ready.value == dt.datetime(2026, 3, 1) and ready.number_format == "yyyy-mm-dd"
    assert ocean[headers.index("Status")].value == "in_transit_to_arrival_port"
    assert ocean[headers.index("Latest Milestone")].value == "Departed"
    assert by_name["BK-TRUCK"][headers.index("ETD (actual, UTC)")].value is None

    legs = list(wb["Legs"].iter_rows(min_row=2, values_only=True))
    ocean_id = ocean[0].value
    assert [(r[1], r[3], r[5], r[6]) for r in legs if r[0] == ocean_id] == [
        (1, "ocean", "CNYTN", "USLAX"), (2, "truck", "USLAX", "Acme Los Angeles DC")]  # fmt: skip

    events = [r for r in wb["Milestones"].iter_rows(min_row=2, values_only=True)
              if r[0] == ocean_id]  # fmt: skip
    happened = {r[1]: r[6] for r in events}
    assert happened["Departed"] == "yes" and happened["Arrived"] == "no"
    assert happened["Leg 1 (ocean) departed"] == "yes"

    summary = [r for r in wb["Summary"].iter_rows(values_only=True) if any(r)]
    assert summary[0][:1] == ("By status",) and summary[1][:2] == ("Status", "Shipments")
    assert ("in_transit_to_arrival_port", 2) in [r[:2] for r in summary]
    assert ("ocean", 1) in [r[:2] for r in summary] and ("truck", 1) in [r[:2] for r in summary]

    query = dict(wb["Query"].iter_rows(min_row=2, values_only=True))
    assert query["API base URL"] == three_shipments.base_url
    assert query["Shipments"] == 3 and query["Filters"] == "none: every shipment"
    assert "bulkpo version" in query
    with zipfile.ZipFile("s.xlsx") as z:
        assert all(three_shipments.api_key.encode() not in z.read(n) for n in z.namelist())


def test_query_params_and_usage_errors() -> None:
    query = ShipmentQuery(
        status="arrival_port", transportation_mode="air", po_number="PO-1", sku="LAMP-001",
        container_number="MAEU1234567",
        updated_after=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        metadata=parse_metadata(["team=red", "team=blue", "cost center=a=b"]),
    )  # fmt: skip
    assert query.params() == {
        "f.status": "arrival_port", "f.transportation_mode": "air", "f.purchase_order": "PO-1",
        "f.sku": "LAMP-001", "f.container_number": "MAEU1234567",
        "f.updated_at.gt": "2026-01-01T00:00:00+00:00",
        "f.metadata.team": ["red", "blue"], "f.metadata.cost center": ["a=b"],
    }  # fmt: skip
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        parse_metadata(["team"])
    with pytest.raises(UsageError, match="--transportation-mode 'boat'"):
        ShipmentQuery(transportation_mode="boat")
    with pytest.raises(UsageError, match="needs a time zone"):
        ShipmentQuery(updated_before=dt.datetime(2026, 1, 1))
