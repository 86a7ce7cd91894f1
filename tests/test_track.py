"""Tracking booked freight against the sandbox: the lifecycle step by step, unconfirmed
bookings, --wait, files that name bookings, and rows that cannot be fetched."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import httpx
import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from bulkpo.cli import CliState
from bulkpo.cli.track import track_command
from bulkpo.config import Settings
from bulkpo.engine.journal import Journal, UnitState
from bulkpo.sandbox import SandboxServer
from bulkpo.shipments.track import (
    NOT_CONFIRMED,
    TrackState,
    TrackTarget,
    milestones,
    targets_from_file,
    track_bookings,
)
from tests.sandbox_fixtures import air_booking, ocean_fcl_booking

DAY = 86_400.0


def post_booking(server: SandboxServer, body: dict[str, Any]) -> dict[str, Any]:
    """Create a booking straight through the sandbox's API."""
    response = httpx.post(
        f"{server.base_url}/bookings",
        json=body,
        headers={"Authorization": f"Bearer {server.api_key}", "Flexport-Version": "2"},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def sandbox_get(server: SandboxServer, path: str) -> dict[str, Any]:
    """One object straight from the sandbox's API."""
    response = httpx.get(
        f"{server.base_url}{path}",
        headers={"Authorization": f"Bearer {server.api_key}", "Flexport-Version": "2"},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def invoke(server: SandboxServer, command: click.Command, args: list[str]) -> Result:
    """Run a command against ``server`` as a user would, with its key in the environment."""
    env = {"FLEXPORT_BASE_URL": server.base_url, "FLEXPORT_API_KEY": server.api_key}
    state = CliState(overrides={"rate": 500.0})
    return CliRunner().invoke(command, args, obj=state, env=env, catch_exceptions=False)


@pytest.fixture(autouse=True)
def _in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no bulkpo.toml of the checkout is read


def _track(settings: Settings, *names: str) -> list[Any]:
    return asyncio.run(track_bookings(settings, [TrackTarget(booking_name=n) for n in names]))


def test_lifecycle_step_by_step(sandbox: SandboxServer, sandbox_settings: Settings) -> None:
    post_booking(sandbox, ocean_fcl_booking("BK-FCL-1"))
    post_booking(sandbox, air_booking("BK-AIR-1"))

    submitted = _track(sandbox_settings, "BK-FCL-1", "BK-AIR-1")
    assert [r.state for r in submitted] == [TrackState.NOT_CONFIRMED] * 2
    assert [r.booking_status for r in submitted] == ["submitted", "submitted"]
    assert all(r.shipment_id is None and r.message == NOT_CONFIRMED for r in submitted)

    sandbox.advance(30)
    booked, air = _track(sandbox_settings, "BK-FCL-1", "BK-AIR-1")
    assert (booked.state, booked.booking_status) == (TrackState.SHIPMENT, "booked")
    assert booked.shipment_id is not None and air.shipment_id != booked.shipment_id
    assert booked.shipment_status == "seller_location"
    assert booked.etd_actual is None and booked.etd_estimated is not None
    assert booked.current_leg == "1/2 ocean CNYTN → USLAX (Maersk), waiting"
    assert booked.milestone is None
    assert air.current_leg is not None and air.current_leg.startswith("1/3 truck")

    sandbox.advance(3 * DAY)
    departed = _track(sandbox_settings, "BK-FCL-1")[0]
    assert departed.shipment_status == "in_transit_to_arrival_port"
    assert departed.etd_actual is not None and departed.eta_actual is None
    assert departed.current_leg == "1/2 ocean CNYTN → USLAX (Maersk), in transit"
    assert departed.milestone == "Departed" and departed.milestone_at == departed.etd_actual

    sandbox.advance(DAY)
    arrived = _track(sandbox_settings, "BK-FCL-1")[0]
    assert arrived.shipment_status == "arrival_port"
    assert arrived.milestone == "Arrived" and arrived.eta_actual is not None
    assert arrived.current_leg.startswith("2/2 truck USLAX")
    assert arrived.current_leg.endswith("waiting")

    sandbox.advance(2 * DAY)
    delivered = _track(sandbox_settings, "BK-FCL-1")[0]
    assert delivered.shipment_status == "final_destination"
    assert delivered.milestone == "Delivered"
    assert delivered.current_leg.startswith("2/2 truck") and "arrived" in delivered.current_leg


def test_cli_shows_unconfirmed_clearly_and_failures_on_their_row(sandbox: SandboxServer) -> None:
    post_booking(sandbox, ocean_fcl_booking("BK-1"))
    result = invoke(sandbox, track_command, ["--booking", "BK-1", "--booking", "BK-NOPE",
                                             "--shipment", "999"])  # fmt: skip
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["Booking", "Booking"]
    assert "BK-1" in lines[1] and "submitted — not confirmed yet, no shipment" in lines[1]
    assert "no booking named 'BK-NOPE'" in lines[2]
    assert "HTTP 404" in lines[3] and "/shipments/999" in lines[3]
    assert "2 of 3 could not be fetched" in result.stderr
    assert sandbox.api_key not in result.output


def test_cli_all_fetched_exits_0_and_writes_outputs(sandbox: SandboxServer, tmp_path: Path) -> None:
    post_booking(sandbox, ocean_fcl_booking("BK-1"))
    post_booking(sandbox, ocean_fcl_booking("BK-2"))
    sandbox.advance(30 + 3 * DAY)
    for name in ("t.xlsx", "t.csv", "t.jsonl"):
        result = invoke(sandbox, track_command, ["--booking", "BK-1", "--booking", "BK-2",
                                                 "--tz", "Asia/Tokyo", "-o", name])  # fmt: skip
        assert result.exit_code == 0, result.output
        # Plain language on the terminal, the API's code kept in the files.
        assert "In transit to arrival port" in result.stdout
        assert "in_transit_to_arrival_port" not in result.stdout
        assert "Times in Asia/Tokyo." in result.stderr
    ws = load_workbook(tmp_path / "t.xlsx")["Tracking"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold and ws.tables
    headers = [c.value for c in ws[1]]
    row = {h: c.value for h, c in zip(headers, ws[2], strict=True)}
    assert row["Shipment Status"] == "In transit to arrival port"
    assert row["Shipment Status Code"] == "in_transit_to_arrival_port"
    assert (row["POL"], row["POD"]) == ("CNYTN", "USLAX")
    etd = ws.cell(2, headers.index("ETD (actual, Asia/Tokyo)") + 1)
    assert isinstance(etd.value, dt.datetime) and etd.number_format == "yyyy-mm-dd hh:mm"
    assert etd.value.second == 0
    shipment = sandbox_get(sandbox, f"/shipments/{row['Shipment ID']}")
    utc = dt.datetime.fromisoformat(shipment["actual_departure_date"].replace("Z", "+00:00"))
    tokyo = utc.astimezone(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None, second=0, microsecond=0)
    assert etd.value == tokyo
    with open(tmp_path / "t.csv", encoding="utf-8-sig") as f:
        assert [r["Booking Name"] for r in csv.DictReader(f)] == ["BK-1", "BK-2"]
    first = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[0])
    assert first["booking_name"] == "BK-1" and first["state"] == "shipment"
    # A track output names its shipments for the next run (and for documents --from).
    for name in ("t.xlsx", "t.csv", "t.jsonl"):
        targets = targets_from_file(tmp_path / name)
        assert [t.booking_name for t in targets] == ["BK-1", "BK-2"]
        assert all(t.shipment_id is not None and t.booking_id is not None for t in targets)


def test_track_from_journal_report_and_input_workbook(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path
) -> None:
    first = post_booking(sandbox, ocean_fcl_booking("BK-J1"))
    post_booking(sandbox, ocean_fcl_booking("BK-J2"))
    with Journal(tmp_path / "run.sqlite") as journal:
        run = journal.start_run("bookings.xlsx", "digest")
        journal.register(run, "booking", [("BK-J1", "d1", [2]), ("BK-J2", "d2", [3])])
        journal.register(run, "purchase_order", [("PO-1", "d3", [2])])
        journal.mark("booking", "BK-J1", UnitState.DONE, flexport_id=first["id"])
    targets = targets_from_file(tmp_path / "run.sqlite")
    assert targets == [TrackTarget("BK-J1", first["id"]), TrackTarget("BK-J2")]

    report = tmp_path / "report.jsonl"
    report.write_text(
        "".join(json.dumps({"row": r, "key": k, "status": "created", "flexport_id": i}) + "\n"
                for r, k, i in ((2, "BK-J1", first["id"]), (3, "BK-J1", first["id"])))
    )  # fmt: skip
    assert targets_from_file(report) == [TrackTarget("BK-J1", first["id"])]

    workbook = tmp_path / "bookings.csv"
    workbook.write_text("Booking Name,Freight Type\nBK-J2,ocean\nBK-J2,ocean\n")
    assert targets_from_file(workbook) == [TrackTarget("BK-J2")]

    sandbox.advance(30)
    rows = asyncio.run(track_bookings(sandbox_settings, targets))
    assert [(r.booking_name, r.state) for r in rows] == [
        ("BK-J1", TrackState.SHIPMENT), ("BK-J2", TrackState.SHIPMENT)]  # fmt: skip


def test_wait_returns_when_the_clock_advances(sandbox: SandboxServer) -> None:
    post_booking(sandbox, ocean_fcl_booking("BK-W"))
    timer = threading.Timer(0.5, sandbox.advance, [30])
    timer.start()
    started = time.monotonic()
    try:
        result = invoke(
            sandbox,
            track_command,
            ["--booking", "BK-W", "--wait", "--poll-interval", "0.2", "--timeout", "20"],
        )
    finally:
        timer.cancel()
    assert result.exit_code == 0
    assert time.monotonic() - started < 10
    assert "without a shipment yet" in result.stderr
    assert "Booked" in result.stdout and "At seller's location" in result.stdout


def test_wait_gives_up_at_the_timeout_without_failing(sandbox: SandboxServer) -> None:
    post_booking(sandbox, ocean_fcl_booking("BK-T"))
    result = invoke(
        sandbox,
        track_command,
        ["--booking", "BK-T", "--wait", "--poll-interval", "0.1", "--timeout", "0.3"],
    )
    assert result.exit_code == 0
    assert NOT_CONFIRMED in result.stdout


def test_usage_errors(sandbox: SandboxServer, tmp_path: Path) -> None:
    from bulkpo.errors import InputError, UsageError

    with pytest.raises(UsageError, match="name what to track"):
        invoke(sandbox, track_command, [])
    (tmp_path / "x.csv").write_text("Colour,Size\nred,1\n")
    with pytest.raises(InputError, match="no Booking Name, key, Flexport ID or Shipment ID"):
        invoke(sandbox, track_command, ["x.csv"])


def test_milestones_of_a_shipment_without_legs() -> None:
    from bulkpo.flexport.models import Shipment

    shipment = Shipment.model_validate(
        {"cargo_ready_date": "2026-03-01", "estimated_departure_date": "2026-03-05T00:00:00Z"}
    )
    assert [m.name for m in milestones(shipment, [])] == ["Cargo ready", "Departed"]


def test_track_of_an_import_report_reads_only_the_rows_that_went_through(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    post_booking(sandbox, ocean_fcl_booking("BK-2027-OK"))
    sandbox.advance(30)
    # What bulkpo's import report looks like: the input columns, then Status and Message.
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Booking Name", "Status", "Flexport ID", "Message"])
    ws.append(["BK-2027-OK", "created", None, None])
    ws.append(["BK-2027-BAD", "invalid", None, "Cargo Ready Date: not a date"])
    ws.append(["BK-2027-LOST", "failed", None, "HTTP 500"])
    wb.save(tmp_path / "result.xlsx")
    result = invoke(sandbox, track_command, ["result.xlsx", "-o", "t.csv"])
    assert result.exit_code == 0, result.output
    assert "2 rows of result.xlsx left out: not imported" in result.stderr
    with open(tmp_path / "t.csv", encoding="utf-8-sig") as f:
        assert [r["Booking Name"] for r in csv.DictReader(f)] == ["BK-2027-OK"]
    report = [{"row": 2, "key": "BK-2027-OK", "status": "created"},
              {"row": 3, "key": "BK-2027-BAD", "status": "invalid"}]  # fmt: skip
    (tmp_path / "result.jsonl").write_text("".join(json.dumps(r) + "\n" for r in report))
    result = invoke(sandbox, track_command, ["result.jsonl"])
    assert result.exit_code == 0, result.output
    assert "1 row of result.jsonl left out" in result.stderr
    assert "BK-2027-OK" in result.stdout and "BK-2027-BAD" not in result.stdout


def test_terminal_table_keeps_booking_names_whole_at_a_narrow_terminal() -> None:
    from rich.console import Console

    from bulkpo.cli.options import rich_table

    headers = ["Booking", "Shipment Status", "Note"]
    cells = [["BK-2027-000123", "In transit to arrival port", "a long note " * 10]]
    console = Console(width=100, record=True)
    console.print(rich_table(headers, cells, whole={"Booking", "Shipment Status"}))
    text = console.export_text()
    assert "BK-2027-000123" in text and "In transit to arrival port" in text
    assert "…" in text  # only the free text is cut


def test_delivered_shipment_departs_after_cargo_ready_and_cargo_ready_happened(
    sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    # Cargo ready in ten days: the shipment must not leave before then.
    ready = (dt.datetime.fromtimestamp(sandbox.store.now(), dt.UTC) + dt.timedelta(days=10)).date()
    post_booking(sandbox, {**ocean_fcl_booking("BK-LATE"), "cargo_ready_date": ready.isoformat()})
    sandbox.advance(30)
    rows = _track(sandbox_settings, "BK-LATE")
    shipment = sandbox_get(sandbox, f"/shipments/{rows[0].shipment_id}")
    departs = dt.datetime.fromisoformat(shipment["estimated_departure_date"].replace("Z", "+00:00"))
    assert departs.date() > ready
    sandbox.advance(20 * DAY)
    shipment = sandbox_get(sandbox, f"/shipments/{rows[0].shipment_id}")
    assert shipment["status"] == "final_destination"
    from bulkpo.flexport.models import Shipment

    events = milestones(Shipment.model_validate(shipment), [])
    assert events[0].name == "Cargo ready" and events[0].actual == ready
