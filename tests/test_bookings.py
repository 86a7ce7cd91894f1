"""Bulk bookings against the sandbox over real HTTP: created once, linked to their POs."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook as XlsxWorkbook

from bulkpo.cli import main
from bulkpo.columns import BOOKING_COLUMNS, PURCHASE_ORDER_COLUMNS
from bulkpo.config import Settings
from bulkpo.imports import (
    ImportOptions,
    ImportResult,
    import_purchase_orders,
    import_workbook,
    load_purchase_orders,
    load_workbook,
)
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from tests.conftest import DUPLICATE_NAMES, SAMPLES, listing, names_mode, settings_for
from tests.factories import PO_KEYS, po_row, write_po_workbook

BOOKING_KEYS = tuple(col.key for col in BOOKING_COLUMNS.columns)


def booking_row(n: int, **changes: Any) -> dict[str, Any]:
    """A valid ocean FCL booking ``BK-<n>`` from Yantian naming PO-<n>."""
    row: dict[str, Any] = {
        "booking_name": f"BK-{n:05d}", "freight_type": "ocean", "incoterm": "FOB",
        "origin_port": "CNYTN", "destination_port": "USLAX",
        "cargo_ready_date": dt.date(2026, 12, 1), "po_numbers": f"PO-{n:05d}",
        "shipper_entity_ref": "sup-shenzhen-lights", "consignee_entity_ref": "acme-us",
        "origin_location_ref": "loc-shenzhen-factory", "destination_location_ref": "loc-la-dc",
        "load_type": "FCL", "containers_40hc": 1, "wants_pickup": "no", "wants_delivery": "yes",
        "export_customs": "no", "import_customs": "yes", "product_description": "LED lamps",
        "hs_code": "9405.20", "export_description_zh": "台灯", "weight_kg": 1000,
        "volume_cbm": 10, "unit_count": 10, "unit_type": "pallet", "atomic_count": 12,
    }
    row.update(changes)
    return row


def write_workbook(
    path: Path, pos: list[dict[str, Any]] | None, bookings: list[dict[str, Any]]
) -> Path:
    wb = XlsxWorkbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    sheets = [(PURCHASE_ORDER_COLUMNS, PO_KEYS, pos), (BOOKING_COLUMNS, BOOKING_KEYS, bookings)]
    for columns, keys, rows in sheets:
        if rows is None:
            continue
        ws = wb.create_sheet(columns.sheet_name)
        ws.append([columns.by_key(key).header for key in keys])
        for row in rows:
            ws.append([row.get(key) for key in keys])
    wb.save(path)
    return path


def run(path: Path, settings: Settings, transport: Any = None, **options: Any) -> ImportResult:
    options.setdefault("journal", path.with_suffix(".journal.sqlite"))
    workbook = load_workbook(path, defaults=settings.bookings)
    return asyncio.run(
        import_workbook(workbook, settings, ImportOptions(**options), transport=transport)
    )


def links_by_booking(server: SandboxServer) -> Counter[int]:
    return Counter(item["booking"]["id"] for item in listing(server, "/booking_line_items"))


def pos_with_lines(count: int, lines: int = 2, **changes: Any) -> list[dict[str, Any]]:
    return [po_row(p, n, **changes) for p in range(1, count + 1) for n in range(1, lines + 1)]


def test_combined_workbook_creates_pos_then_four_kinds_of_bookings_linked(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    bookings = [
        booking_row(1),
        booking_row(2, load_type="LCL", containers_40hc=None, origin_port="VNSGN",
                    export_description_zh=None, shipper_entity_ref="sup-hcmc-apparel",
                    origin_location_ref="loc-hcmc-factory"),
        booking_row(3, freight_type="air", origin_port="SZX", destination_port="LAX",
                    load_type=None, containers_40hc=None),
        booking_row(4, freight_type="trucking", origin_port=None, destination_port=None,
                    load_type=None, containers_40hc=None, incoterm=None,
                    payment_terms="collect", origin_location_ref="loc-la-dc",
                    destination_location_ref="loc-chicago-dc", shipper_entity_ref="acme-us"),
    ]
    path = write_workbook(tmp_path / "both.xlsx", pos_with_lines(4), bookings)
    outcome = run(path, sandbox_settings)
    assert outcome.purchase_orders is not None and outcome.bookings is not None
    assert outcome.purchase_orders.summary.counts["created"] == 8
    assert outcome.bookings.summary.counts["created"] == 4, outcome.bookings.results
    held = {b["name"]: b for b in listing(sandbox, "/bookings")}
    assert {b["transportation_mode"] for b in held.values()} == {"ocean", "air", "truck"}
    assert sorted(links_by_booking(sandbox).values()) == [2, 2, 2, 2]
    assert "linked PO-00001 lines 1, 2" in outcome.bookings.results[0].message

    again = run(path, sandbox_settings)
    assert again.bookings is not None
    assert again.bookings.summary.counts["unchanged"] == 4
    assert len(listing(sandbox, "/bookings")) == 4
    assert sum(links_by_booking(sandbox).values()) == 8


def test_refs_come_from_the_po_and_unknown_pos_stop_the_row_before_sending(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    refs = {"seller_ref": "sup-shenzhen-lights", "origin_address_ref": "loc-shenzhen-factory",
            "destination_address_ref": "loc-la-dc"}
    pos = [po_row(1, 1, **refs), po_row(1, 2, **refs)]
    po_file = write_po_workbook(tmp_path / "pos.xlsx", pos, keys=(*PO_KEYS, *refs))
    table, validation = load_purchase_orders(po_file)
    asyncio.run(import_purchase_orders(table, validation, sandbox_settings,
                                       ImportOptions(journal=tmp_path / "p.sqlite")))
    blank = {"shipper_entity_ref": None, "origin_location_ref": None,
             "destination_location_ref": None}
    rows = [
        booking_row(1, **blank),                              # refs from PO-00001
        booking_row(2, po_numbers="PO-00009"),                # no such PO anywhere
        booking_row(3, po_numbers=None, **blank),             # no PO to take refs from
    ]
    path = write_workbook(tmp_path / "bk.xlsx", None, rows)
    outcome = run(path, sandbox_settings)
    assert outcome.bookings is not None
    first_row, unknown, no_refs = outcome.bookings.results
    assert first_row.status == "created", first_row.message
    assert unknown.status == "invalid"
    assert "PO PO-00009 is neither in this file nor in Flexport" in unknown.message
    assert no_refs.status == "invalid" and "Shipper Entity Ref is required" in no_refs.message
    (held,) = listing(sandbox, "/bookings")
    assert held["shipper_entity"]["ref"] == "sup-shenzhen-lights"
    assert held["origin_address"]["ref"] == "loc-shenzhen-factory"


def test_chinese_description_is_required_for_a_chinese_origin(tmp_path: Path) -> None:
    rows = [booking_row(1, export_description_zh=None),
            booking_row(2, origin_port="VNSGN", export_description_zh=None)]
    workbook = load_workbook(write_workbook(tmp_path / "zh.xlsx", None, rows))
    assert workbook.bookings is not None
    _table, validation = workbook.bookings
    assert list(validation.invalid_rows) == [2]
    assert "mainland China" in str(validation.invalid_rows[2][0])


def test_server_refusals_fail_the_row_with_a_hint(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    rows = [booking_row(1, po_numbers=None, consignee_entity_ref="nobody"),
            booking_row(2, po_numbers=None)]
    outcome = run(write_workbook(tmp_path / "r.xlsx", None, rows), sandbox_settings)
    assert outcome.bookings is not None
    bad, good = outcome.bookings.results
    assert bad.status == "failed" and "unknown_entity_ref" in bad.message
    assert "bulkpo refs" in bad.message
    assert good.status == "created"


class FailLinks(httpx.AsyncBaseTransport):
    """Answers 500 to every link of the given PO line items; the rest reach the sandbox."""

    def __init__(self, line_ids: set[int]) -> None:
        self.line_ids = line_ids
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/booking_line_items":
            body = json.loads(request.content)
            if body["purchase_order_line_item_id"] in self.line_ids:
                return httpx.Response(500, json={"data": None, "error": {
                    "status": 500, "code": "server_error", "message": "boom"}})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_partly_linked_booking_reports_its_lines_and_resume_links_only_the_rest(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = settings_for(sandbox, rate=500.0, max_retries=1)
    path = write_workbook(tmp_path / "p.xlsx", pos_with_lines(2),
                          [booking_row(1, po_numbers="PO-00001, PO-00002")])
    first = run(path, settings, transport=_failing_second_po(sandbox))
    assert first.bookings is not None
    (row,) = first.bookings.results
    assert row.status == "failed" and row.flexport_id
    assert "linked PO-00001 lines 1, 2" in row.message
    assert "not linked: PO-00002 line 1" in row.message
    assert links_by_booking(sandbox) == {int(row.flexport_id): 2}

    resumed = run(path, settings, resume=True)
    assert resumed.bookings is not None
    (row2,) = resumed.bookings.results
    assert row2.status == "updated", row2.message  # the booking existed; links were added
    assert row2.flexport_id == row.flexport_id
    assert links_by_booking(sandbox) == {int(row.flexport_id): 4}
    assert len(listing(sandbox, "/bookings")) == 1


def _failing_second_po(sandbox: SandboxServer) -> FailLinks:
    """Fails the links of PO-00002's lines, whatever ids the sandbox will give them."""

    class Lazy(FailLinks):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if not self.line_ids and request.method == "POST" \
                    and request.url.path == "/booking_line_items":
                (po,) = [p for p in listing(sandbox, "/purchase_orders")
                         if p["name"] == "PO-00002"]
                self.line_ids = {item["id"] for item in listing(
                    sandbox, f"/purchase_order_line_items?f.purchase_order.id={po['id']}")}
            return await super().handle_async_request(request)

    return Lazy(set())


def test_sample_purchase_orders_then_sample_bookings_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("purchase-orders.xlsx", "bookings.xlsx"):
        (tmp_path / name).write_bytes((SAMPLES / name).read_bytes())
    fast = ["--rate", "200"]
    assert main(["--sandbox", "import", "purchase-orders.xlsx", *fast]) == 0
    report = tmp_path / "r.jsonl"
    assert main(["--sandbox", "import", "bookings.xlsx", *fast, "--report", str(report)]) == 0
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert Counter(r["status"] for r in rows) == {"created": 12}


def test_refs_lists_entities_and_locations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--sandbox", "refs", "--format", "json"]) == 0
    refs = json.loads(capsys.readouterr().out)
    assert {"kind": "location", "ref": "loc-la-dc", "name": "Acme Los Angeles DC",
            "city": "Los Angeles", "country": "US"} in refs
    assert main(["--sandbox", "refs"]) == 0
    assert "sup-shenzhen-lights" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("mode", DUPLICATE_NAMES)
def test_faults_storms_and_drops_leave_one_booking_and_one_link_per_key(
    tmp_path: Path, mode: str
) -> None:
    count = 150  # per mode: both modes together send what one run of 300 did
    pos = pos_with_lines(30, lines=2)
    bookings = [booking_row(n, po_numbers=f"PO-{(n % 30) + 1:05d}") for n in range(1, count + 1)]
    path = write_workbook(tmp_path / "many.xlsx", pos, bookings)
    # 30 PO and 150 booking creates are 180 requests at least: throttle_every=120
    # answers 429 even when a loaded machine never outruns the rate limit.
    options = SandboxOptions(db_path=tmp_path / "faulty.sqlite", seed=7, fault_rate=0.05,
                             drop_rate=0.02, rate_limit=120.0, throttle_every=120,
                             **names_mode(mode))
    with running_sandbox(options) as server:
        settings = settings_for(server, rate=600.0, concurrency=16, max_retries=8)
        outcome = run(path, settings)
    with running_sandbox(SandboxOptions(db_path=options.db_path, **names_mode(mode))) as calm:
        # A fresh machine without the journal: every booking and link is found, none
        # is sent twice.
        run(path, settings_for(calm, rate=500.0, concurrency=8),
            journal=tmp_path / "fresh-journal.sqlite")
        held = Counter(b["name"] for b in listing(calm, "/bookings"))
        links = Counter((item["booking"]["id"], item["purchase_order_line_item"]["id"])
                        for item in listing(calm, "/booking_line_items"))
    assert outcome.stats.throttled > 0 and outcome.stats.retries > 0
    assert outcome.bookings is not None
    assert set(held.values()) == {1} and set(links.values()) == {1}
    statuses = Counter(r.status for r in outcome.bookings.results)
    assert sum(statuses.values()) == count
    assert statuses["created"] >= count - 5, statuses
    created = {r.key for r in outcome.bookings.results if r.status == "created"}
    assert created <= set(held)
    assert len(held) == count and len(links) == 2 * count


def test_part_of_a_po_books_only_the_named_lines_and_units(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    # po_row(p, line) gives SKU "<p>-<line>" and 100 * line units
    bookings = [
        booking_row(1, po_numbers="PO-00001:00001-2=150"),
        booking_row(2, po_numbers="PO-00002:00002-9=5"),
    ]
    path = write_workbook(tmp_path / "part.xlsx", pos_with_lines(2), bookings)
    outcome = run(path, sandbox_settings)
    assert outcome.bookings is not None
    first, second = outcome.bookings.results
    assert first.status == "created", first.message
    assert first.message == "linked PO-00001 line 2"
    links = listing(sandbox, "/booking_line_items")
    assert [link["units"] for link in links] == [150]
    assert second.status == "failed"
    assert "PO-00002 has no line with SKU 00002-9" in second.message


@pytest.mark.parametrize("mode", DUPLICATE_NAMES)
def test_bookings_rerun_without_journal_create_nothing_twice(tmp_path: Path, mode: str) -> None:
    path = write_workbook(tmp_path / "b.xlsx", pos_with_lines(3),
                          [booking_row(n) for n in (1, 2, 3)])
    with running_sandbox(SandboxOptions(db_path=tmp_path / "s.sqlite", **names_mode(mode))
                         ) as server:
        settings = settings_for(server, rate=500.0, concurrency=4)
        first = run(path, settings, journal=tmp_path / "machine-a.sqlite")
        second = run(path, settings, journal=tmp_path / "machine-b.sqlite")
        held = Counter(b["name"] for b in listing(server, "/bookings"))
        links = Counter((item["booking"]["id"], item["purchase_order_line_item"]["id"])
                        for item in listing(server, "/booking_line_items"))
    assert first.bookings is not None and second.bookings is not None
    assert [r.status for r in first.bookings.results] == ["created"] * 3
    assert [r.status for r in second.bookings.results] == ["unchanged"] * 3
    assert held == {"BK-00001": 1, "BK-00002": 1, "BK-00003": 1}
    assert len(links) == 6 and set(links.values()) == {1}


def test_import_prints_its_problems_and_booking_counts_agree(
    tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FLEXPORT_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("FLEXPORT_API_KEY", sandbox.api_key)
    bookings = [
        booking_row(1),
        booking_row(2, po_numbers="PO-00009"),  # found missing only by the online recheck
        booking_row(3, po_numbers="PO-00001", cargo_ready_date="2025-13-01"),
    ]
    pos = [po_row(1, 1), po_row(2, 1, quantity="lots")]
    path = write_workbook(tmp_path / "both.xlsx", pos, bookings)
    code = main(["import", str(path), "--yes", "--rate", "200",
                 "--journal", str(tmp_path / "j.sqlite")])
    assert code == 1
    captured = capsys.readouterr()
    err = captured.err
    # each sheet's problems with their cells, on stderr, as validate lists them
    assert "error: Purchase Orders!Q3 (Quantity): " in err
    assert "error: Bookings!F4 (Cargo Ready Date): " in err
    assert "both.xlsx [Bookings]: 3 rows, 2 bookings to check against their POs in Flexport, " \
        "1 invalid rows" in err
    assert "both.xlsx [Bookings]: after checking their POs in Flexport, 1 valid bookings, " \
        "2 invalid rows" in err
    assert "PO PO-00009 is neither in this file nor in Flexport" in err
    assert "Bookings: 3 rows: 1 created, 2 invalid" in captured.out


def test_a_mapping_or_header_row_applies_to_the_po_sheet_and_keeps_the_other_sheets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bulkpo.imports import load_workbook as read_workbook
    from bulkpo.saved_mapping import SavedMapping
    from tests.factories import NEW_ENTITY, NEW_LOCATION, network_pos, workbook_with_network

    both = write_workbook(tmp_path / "both.xlsx", pos_with_lines(2), [booking_row(1)])
    mapping = SavedMapping(columns={"PO Number": "po_number"}, header_row=1)
    for options in ({"header_row": 1}, {"mapping": mapping}):
        workbook = read_workbook(both, **options)  # type: ignore[arg-type]
        assert workbook.purchase_orders is not None and workbook.bookings is not None, options
        assert workbook.bookings[0].sheet == "Bookings"
        assert workbook.bookings[1].valid_row_count == 1
    network = workbook_with_network(tmp_path / "net.xlsx", [NEW_ENTITY, NEW_LOCATION],
                                    network_pos())
    assert read_workbook(network, header_row=1).network is not None
    # The CLI's dry run shows the bookings' and the network's bodies too.
    assert main(["import", str(both), "--header-row", "1", "--dry-run"]) == 0
    sent = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any("ocean_booking" in json.dumps(item) for item in sent), sent


def renamed(path: Path, sheet: str, header: str, new: str) -> Path:
    """The workbook with one header of ``sheet`` renamed, as another ERP names it."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    cell = next(c for c in wb[sheet][1] if c.value == header)
    cell.value = new
    wb.save(path)
    return path


def test_a_bookings_mapping_from_bulkpo_map_imports_an_unknown_header_with_map(
    tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FLEXPORT_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("FLEXPORT_API_KEY", sandbox.api_key)
    path = renamed(write_workbook(tmp_path / "both.xlsx", pos_with_lines(2),
                                  [booking_row(1), booking_row(2)]),
                   "Bookings", "Origin Port", "Verschiffungshafen")
    # Unmapped, the ocean bookings have no origin port and stop.
    unmapped = load_workbook(path)
    assert unmapped.bookings is not None and unmapped.bookings[1].valid_row_count == 0
    saved = tmp_path / "bookings.toml"
    assert main(["map", str(path), "--sheet", "Bookings", "-o", str(saved)]) == 0
    text = saved.read_text(encoding="utf-8")
    assert 'kind = "bookings"' in text and '"Booking Name" = "booking_name"' in text
    assert '# "Verschiffungshafen" = ""  # not matched' in text
    saved.write_text(text.replace('# "Verschiffungshafen" = ""',
                                  '"Verschiffungshafen" = "origin_port"'), encoding="utf-8")
    capsys.readouterr()
    code = main(["import", str(path), "--map", str(saved), "--yes", "--rate", "200",
                 "--journal", str(tmp_path / "j.sqlite")])
    out = capsys.readouterr().out
    assert code == 0, out
    # The PO sheet is read by its headers as always; the mapping is the bookings sheet's.
    assert "Purchase orders: 4 rows: 4 created" in out
    assert "Bookings: 2 rows: 2 created" in out
    assert sorted(b["name"] for b in listing(sandbox, "/bookings")) == ["BK-00001", "BK-00002"]
