"""Booking amendments over real HTTP: only the changed new_* fields, once per change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkpo.cli import main
from bulkpo.config import Settings
from bulkpo.engine.exactly_once import OnExisting
from bulkpo.engine.journal import Journal
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from tests.conftest import listing, settings_for
from tests.sandbox_fixtures import air_booking, ocean_fcl_booking
from tests.test_bookings import booking_row, pos_with_lines, run, write_workbook

UPDATE = OnExisting.UPDATE


class Amendments(httpx.AsyncBaseTransport):
    """Forwards every request to the sandbox and keeps the amendment bodies sent;
    with ``lose`` set, the answer to that many amendments is lost (a 502) after
    the sandbox took them."""

    def __init__(self, lose: int = 0) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[dict[str, Any]] = []
        self.lose = lose

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path == "/booking_amendments":
            self.sent.append(json.loads(request.content))
            if self.lose:
                self.lose -= 1
                await response.aread()
                return httpx.Response(502, text="<html>Bad Gateway</html>")
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def amendments(server: SandboxServer) -> list[dict[str, Any]]:
    (booking,) = listing(server, "/bookings")
    return server.store.booking_amendments(int(booking["id"]))


def _first(path: Path, settings: Settings) -> None:
    done = run(write_workbook(path, pos_with_lines(1), [booking_row(1)]), settings)
    assert done.bookings is not None and done.bookings.results[0].status == "created"


def test_a_changed_booking_gets_one_amendment_with_only_the_changed_fields(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    _first(tmp_path / "first.xlsx", sandbox_settings)
    changed = write_workbook(tmp_path / "changed.xlsx", None,
                             [booking_row(1, cargo_ready_date="2026-12-15", containers_40hc=2)])
    wire = Amendments()
    first = run(changed, sandbox_settings, transport=wire, on_existing=UPDATE)
    assert first.bookings is not None
    (row,) = first.bookings.results
    assert row.status == "updated", row.message
    assert "requested (cargo_ready_date, container_counts; applied)" in row.message
    (booking,) = listing(sandbox, "/bookings")
    assert wire.sent == [{
        "booking_id": booking["id"], "new_cargo_ready_date": "2026-12-15",
        "new_container_counts": {"twenty_ft": 0, "forty_ft": 0, "forty_ft_hc": 2,
                                 "forty_five_ft_hc": 0},
    }]
    assert booking["cargo_ready_date"] == "2026-12-15"
    assert booking["ocean_booking"]["container_counts"]["forty_ft_hc"] == 2

    # The same change again: with the same journal, and from a machine without one.
    for journal in (None, tmp_path / "other-machine.sqlite"):
        options: dict[str, Any] = {"journal": journal} if journal else {}
        again = run(changed, sandbox_settings, transport=wire, on_existing=UPDATE, **options)
        assert again.bookings is not None
        assert [r.status for r in again.bookings.results] == ["unchanged"]
    assert len(wire.sent) == 1 and len(amendments(sandbox)) == 1

    # A different change is a second amendment, with its one field.
    later = write_workbook(tmp_path / "later.xlsx", None,
                           [booking_row(1, cargo_ready_date="2026-12-20", containers_40hc=2)])
    third = run(later, sandbox_settings, transport=wire, on_existing=UPDATE)
    assert third.bookings is not None and third.bookings.results[0].status == "updated"
    assert wire.sent[1] == {"booking_id": booking["id"], "new_cargo_ready_date": "2026-12-20"}
    assert len(amendments(sandbox)) == 2


def test_on_existing_skip_keeps_a_changed_booking_unchanged(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    _first(tmp_path / "first.xlsx", sandbox_settings)
    changed = write_workbook(tmp_path / "changed.xlsx", None,
                             [booking_row(1, cargo_ready_date="2026-12-15")])
    wire = Amendments()
    skipped = run(changed, sandbox_settings, transport=wire)
    assert skipped.bookings is not None
    assert [r.status for r in skipped.bookings.results] == ["unchanged"]
    assert wire.sent == [] and amendments(sandbox) == []
    assert listing(sandbox, "/bookings")[0]["cargo_ready_date"] == "2026-12-01"


def test_a_pending_amendment_is_sent_once_however_often_the_file_is_run(
    tmp_path: Path
) -> None:
    options = SandboxOptions(db_path=tmp_path / "s.sqlite", seed=1, amendment_review_s=3600)
    with running_sandbox(options) as server:
        settings = settings_for(server, rate=500.0)
        _first(tmp_path / "first.xlsx", settings)
        changed = write_workbook(tmp_path / "changed.xlsx", None,
                                 [booking_row(1, cargo_ready_date="2026-12-15")])
        first = run(changed, settings, on_existing=UPDATE)
        assert first.bookings is not None
        assert first.bookings.results[0].status == "updated"
        assert "pending Flexport's review" in first.bookings.results[0].message

        resumed = run(changed, settings, on_existing=UPDATE, resume=True)
        assert resumed.bookings is not None
        assert resumed.bookings.results[0].status == "updated"
        # Flexport still shows the old date: only the journal knows it was asked.
        again = run(changed, settings, on_existing=UPDATE)
        assert again.bookings is not None
        (row,) = again.bookings.results
        assert row.status == "unchanged"
        assert "requested in an earlier run" in row.message and "not sent again" in row.message
        assert [a["applied"] for a in amendments(server)] == [False]

        server.advance(3600)
        assert listing(server, "/bookings")[0]["cargo_ready_date"] == "2026-12-15"
        fresh = run(changed, settings, on_existing=UPDATE, journal=tmp_path / "fresh.sqlite")
        assert fresh.bookings is not None
        assert fresh.bookings.results[0].status == "unchanged"
        assert [a["applied"] for a in amendments(server)] == [True]


@pytest.mark.parametrize("review_s", [0, 3600])
def test_an_amendment_whose_answer_was_lost_is_never_sent_again(
    tmp_path: Path, review_s: float
) -> None:
    options = SandboxOptions(db_path=tmp_path / "s.sqlite", seed=1, amendment_review_s=review_s)
    with running_sandbox(options) as server:
        settings = settings_for(server, rate=500.0, max_retries=3)
        _first(tmp_path / "first.xlsx", settings)
        changed = write_workbook(tmp_path / "changed.xlsx", None,
                                 [booking_row(1, cargo_ready_date="2026-12-15")])
        wire = Amendments(lose=1)
        first = run(changed, settings, transport=wire, on_existing=UPDATE)
        assert first.bookings is not None
        (row,) = first.bookings.results
        if review_s:
            # Pending: Flexport shows nothing, so the row says so and nothing is resent.
            assert row.status == "failed"
            assert "does not send it again" in row.message
            for resume in (False, True):
                again = run(changed, settings, transport=wire, on_existing=UPDATE,
                            resume=resume)
                assert again.bookings is not None
                assert again.bookings.results[0].status == "failed"
                assert "answer was lost" in again.bookings.results[0].message
        else:
            # Applied at once: the booking shows the change, so it was taken.
            assert row.status == "updated", row.message
            assert "answer was lost" in row.message
        assert len(wire.sent) == 1 and len(amendments(server)) == 1
        with Journal(changed.with_suffix(".journal.sqlite")) as journal:
            (record,) = journal.units("booking_amendment")
        assert record.key.startswith("BK-00001#")
        assert record.state == ("unknown" if review_s else "done")


def test_fields_no_amendment_can_change_fail_the_row_and_are_named(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    _first(tmp_path / "first.xlsx", sandbox_settings)
    changed = write_workbook(tmp_path / "changed.xlsx", None, [
        booking_row(1, incoterm="EXW", special_instructions="Fragile",
                    cargo_ready_date="2026-12-15")])
    wire = Amendments()
    result = run(changed, sandbox_settings, transport=wire, on_existing=UPDATE)
    assert result.bookings is not None
    (row,) = result.bookings.results
    assert row.status == "failed"
    assert "could not change Special Instructions, Incoterm: a booking amendment" in row.message
    assert "requested (cargo_ready_date; applied)" in row.message
    assert [list(body) for body in wire.sent] == [["booking_id", "new_cargo_ready_date"]]


# -- the sandbox's POST /booking_amendments ------------------------------------------


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {sandbox.api_key}", "Flexport-Version": "2"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as client:
        yield client


def _created(api: httpx.Client, body: dict[str, Any]) -> int:
    answer = api.post("/bookings", json=body)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["data"]["id"])


def test_the_sandbox_answers_an_amendment_in_the_documented_shape(
    api: httpx.Client, sandbox: SandboxServer
) -> None:
    booking_id = _created(api, ocean_fcl_booking())
    answer = api.post("/booking_amendments", json={
        "booking_id": booking_id, "new_origin_port_loc_code": "CNSHA",
        "new_container_counts": {"forty_ft": 3}, "new_metadata": {"PO": ["1"]},
        "new_origin_address_ref": "loc-ningbo-factory"})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["_object"] == "/booking_amendment" and data["booking_id"] == booking_id
    assert data["is_pending"] is False
    assert data["new_port_of_loading"]["address"]["unlocode"] == "CNSHA"
    assert data["new_container_counts"]["forty_ft"] == 3
    assert data["new_origin_address"]["ref"] == "loc-ningbo-factory"
    held = api.get(f"/bookings/{booking_id}").json()["data"]
    assert held["ocean_booking"]["origin_port"]["address"]["unlocode"] == "CNSHA"
    assert held["metadata"] == {"PO": ["1"]}
    assert [a["changes"].keys() for a in sandbox.store.booking_amendments(booking_id)] == [
        {"origin_port", "container_counts", "metadata", "origin_address_ref"}]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({}, 400, "missing_field"),
    ({"booking_id": "x", "new_name": "A"}, 400, "invalid_field"),
    ({"booking_id": 1, "new_name": "A"}, 404, "not_found"),
    ({"booking_id": 2**70, "new_name": "A"}, 404, "not_found"),
    ({"booking_id": None}, 400, "missing_field"),
    ({"booking_id": "ID"}, 400, "missing_field"),
    ({"booking_id": "ID", "new_incoterm": "EXW"}, 400, "invalid_field"),
    ({"booking_id": "ID", "new_cargo_ready_date": "next week"}, 400, "invalid_field"),
    ({"booking_id": "ID", "new_origin_port_loc_code": "ZZZZZ"}, 400, "invalid_port"),
    ({"booking_id": "ID", "new_origin_address_ref": "nowhere"}, 400, "unknown_location_ref"),
    ({"booking_id": "ID", "new_cargo": {"weight": 3}}, 400, "missing_field"),
    ({"booking_id": "AIR", "new_container_counts": {"forty_ft": 1}}, 400, "invalid_field"),
])  # fmt: skip
def test_the_sandbox_refuses_invalid_amendments(
    api: httpx.Client, sandbox: SandboxServer, body: dict[str, Any], status: int, code: str
) -> None:
    ids = {"ID": _created(api, ocean_fcl_booking()), "AIR": _created(api, air_booking())}
    body = {k: ids.get(v, v) if k == "booking_id" and isinstance(v, str) else v
            for k, v in body.items()}
    answer = api.post("/booking_amendments", json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert all(sandbox.store.booking_amendments(i) == [] for i in ids.values())


def test_unchanged_bookings_of_every_kind_ask_no_amendment(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    bookings = [
        booking_row(1, delivery_date="2027-01-10", special_instructions="Keep dry",
                    hazmat="yes", li_ion="yes", li_ion_packing="packed_loose"),
        booking_row(2, load_type="LCL", containers_40hc=None, origin_port="VNSGN",
                    export_description_zh=None, shipper_entity_ref="sup-hcmc-apparel",
                    origin_location_ref="loc-hcmc-factory", wants_pickup="yes"),
        booking_row(3, freight_type="air", origin_port="SZX", destination_port="LAX",
                    load_type=None, containers_40hc=None),
        booking_row(4, freight_type="trucking", origin_port=None, destination_port=None,
                    load_type=None, containers_40hc=None, incoterm=None,
                    payment_terms="collect", origin_location_ref="loc-la-dc",
                    destination_location_ref="loc-chicago-dc", shipper_entity_ref="acme-us"),
    ]
    path = write_workbook(tmp_path / "all.xlsx", pos_with_lines(4), bookings)
    first = run(path, sandbox_settings)
    assert first.bookings is not None
    assert [r.status for r in first.bookings.results] == ["created"] * 4
    wire = Amendments()
    again = run(path, sandbox_settings, transport=wire, on_existing=UPDATE)
    assert again.bookings is not None
    assert [r.status for r in again.bookings.results] == ["unchanged"] * 4, [
        r.message for r in again.bookings.results]
    assert wire.sent == []


def test_the_cli_report_says_updated_for_the_amended_booking(
    tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FLEXPORT_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("FLEXPORT_API_KEY", sandbox.api_key)
    monkeypatch.chdir(tmp_path)
    write_workbook(tmp_path / "a.xlsx", pos_with_lines(2), [booking_row(1), booking_row(2)])
    assert main(["import", "a.xlsx", "--rate", "200", "--yes"]) == 0
    write_workbook(tmp_path / "b.xlsx", None,
                   [booking_row(1, containers_40hc=3), booking_row(2)])
    report = tmp_path / "r.jsonl"
    assert main(["import", "b.xlsx", "--rate", "200", "--yes", "--on-existing", "update",
                 "--report", str(report)]) == 0
    rows = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in rows] == ["updated", "unchanged"]
    assert "container_counts" in rows[0]["message"]
    assert sandbox.api_key not in capsys.readouterr().out


def test_a_booking_that_changes_freight_type_names_the_column(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    _first(tmp_path / "first.xlsx", sandbox_settings)
    air = write_workbook(tmp_path / "air.xlsx", None, [
        booking_row(1, freight_type="air", origin_port="SZX", destination_port="LAX",
                    load_type=None, containers_40hc=None)])
    wire = Amendments()
    result = run(air, sandbox_settings, transport=wire, on_existing=UPDATE)
    assert result.bookings is not None
    (row,) = result.bookings.results
    assert row.status == "failed"
    assert "could not change Freight Type:" in row.message
    assert wire.sent == [] and amendments(sandbox) == []
