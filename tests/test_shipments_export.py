"""Exporting shipments from the sandbox: filters narrow the list at the API, and the
workbook has Shipments, Legs, Milestones, Summary and Query sheets, formatted."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bulkpo.cli.export import shipments_export_command
from bulkpo.errors import ConfigError, UsageError
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
    args = ["--tz", "America/New_York", "-o", "s.xlsx"]
    result = invoke(three_shipments, shipments_export_command, args)
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
    # Times in the zone asked for, to the minute; the cargo-ready date stays a date.
    etd = ocean[headers.index("ETD (actual, America/New_York)")]
    assert isinstance(etd.value, dt.datetime) and etd.number_format == "yyyy-mm-dd hh:mm"
    assert etd.value.second == 0 and "ETD (actual, UTC)" not in headers
    ready = ocean[headers.index("Cargo Ready")]
    assert ready.value == dt.datetime(2026, 3, 1) and ready.number_format == "yyyy-mm-dd"
    # Plain language for people, the API's code kept for filters and programs.
    assert ocean[headers.index("Status")].value == "In transit to arrival port"
    assert ocean[headers.index("Status Code")].value == "in_transit_to_arrival_port"
    assert (ocean[headers.index("POL")].value, ocean[headers.index("POD")].value) == (
        "CNYTN", "USLAX")  # fmt: skip
    assert ocean[headers.index("Latest Milestone")].value == "Departed"
    air = by_name["BK-AIR"]  # its airport is not chosen yet: the role in words, no code
    assert air[headers.index("POL")].value is None
    assert "port of loading →" in air[headers.index("Current Leg")].value
    assert by_name["BK-TRUCK"][headers.index("ETD (actual, America/New_York)")].value is None

    leg_sheet = wb["Legs"]
    assert [c.value for c in leg_sheet[1]][:3] == ["Shipment ID", "Shipment Name", "Booking ID"]
    legs = list(leg_sheet.iter_rows(min_row=2, values_only=True))
    ocean_id = ocean[0].value
    assert [(r[1], r[3], r[5], r[7], r[8]) for r in legs if r[0] == ocean_id] == [
        ("BK-OCEAN", 1, "ocean", "CNYTN", "USLAX"),
        ("BK-OCEAN", 2, "truck", "USLAX", "Acme Los Angeles DC")]  # fmt: skip

    milestone_sheet = wb["Milestones"]
    assert [c.value for c in milestone_sheet[1]][:3] == [
        "Shipment ID", "Shipment Name", "Booking ID"]  # fmt: skip
    events = [r for r in milestone_sheet.iter_rows(min_row=2, values_only=True)
              if r[0] == ocean_id]  # fmt: skip
    assert {r[1] for r in events} == {"BK-OCEAN"}
    happened = {r[3]: r[8] for r in events}
    assert happened["Departed"] == "yes" and happened["Arrived"] == "no"
    assert happened["Leg 1 (ocean) departed"] == "yes"
    assert happened["Cargo ready"] == "yes"  # the cargo left, so it was ready
    cargo_ready = next(c for c in milestone_sheet.iter_rows(min_row=2)
                       if c[0].value == ocean_id and c[3].value == "Cargo ready")  # fmt: skip
    assert cargo_ready[6].number_format == "yyyy-mm-dd"  # a date, not "00:00"

    summary = [r for r in wb["Summary"].iter_rows(values_only=True) if any(r)]
    assert summary[0][:1] == ("By status",) and summary[1][:2] == ("Status", "Shipments")
    assert ("In transit to arrival port", 2) in [r[:2] for r in summary]
    assert ("ocean", 1) in [r[:2] for r in summary] and ("truck", 1) in [r[:2] for r in summary]

    query = dict(wb["Query"].iter_rows(min_row=2, values_only=True))
    assert query["API base URL"] == three_shipments.base_url
    assert query["Shipments"] == 3 and query["Filters"] == "none: every shipment"
    assert "bulkpo version" in query and query["Times in the sheets"] == "America/New_York"
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


def test_timezone_setting_is_the_default_and_a_wrong_one_is_refused(
    three_shipments: SandboxServer,
) -> None:
    Path("bulkpo.toml").write_text('timezone = "Asia/Kolkata"\n')
    result = invoke(three_shipments, shipments_export_command, ["-o", "k.xlsx"])
    assert result.exit_code == 0, result.output
    headers = [c.value for c in load_workbook("k.xlsx")["Shipments"][1]]
    assert "ETD (actual, Asia/Kolkata)" in headers
    Path("bulkpo.toml").write_text('timezone = "Mars/Base"\n')
    # invoke() lets the error through; bulkpo's main turns it into one line and exit 2.
    with pytest.raises(ConfigError, match="'Mars/Base' is not a known time zone"):
        invoke(three_shipments, shipments_export_command, ["-o", "m.xlsx"])
    assert not Path("m.xlsx").exists()
