"""``bulkpo ui`` over real HTTP without a browser: the token guard, limits, escaping, edits."""

from __future__ import annotations

import concurrent.futures
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openpyxl

from bulkpo.config import Settings
from bulkpo.engine.journal import Journal
from bulkpo.imports import validation_result
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from bulkpo.saved_mapping import read_mapping
from bulkpo.ui import UiServer
from tests.conftest import SAMPLES, listing, settings_for, shared_path
from tests.factories import (
    NEW_ENTITY,
    NEW_LOCATION,
    OWN_LOCATION,
    network_pos,
    po_rows,
    workbook_with_network,
    write_po_workbook,
)
from tests.ui_fixtures import BAD_ROW, COST_COL, QUANTITY_COL, messy_workbook, page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@contextmanager
def _client(server: UiServer) -> Iterator[httpx.Client]:
    """A client as the page's own script is: the cookie from the link, the token header."""
    with httpx.Client(base_url=server.base_url, timeout=30,
                      headers={"X-Bulkpo-Token": server.token, "HX-Request": "true"}) as client:
        assert client.get(f"/?token={server.token}", follow_redirects=True).status_code == 200
        yield client


def _mapping_form() -> dict[str, str]:
    """The page's mapping form as sent: every column's field, Stück as the quantity."""
    fields = ["po_number", "buyer_name", "seller_name", "incoterm", "transportation_mode",
              "cargo_ready_date", "origin_port", "destination_port", "line_number", "sku",
              "product_name", "quantity", "unit_cost", "currency"]
    assert fields[QUANTITY_COL] == "quantity" and fields[COST_COL] == "unit_cost"
    return {"sheet": "Orders", "header_row": "1"} | {
        f"col-{i}": key for i, key in enumerate(fields)}


def _upload(client: httpx.Client, path: Path) -> str:
    answer = client.post("/upload", files={"file": (path.name, path.read_bytes(), XLSX)})
    assert answer.status_code == 204, answer.text
    return answer.headers["HX-Redirect"]


def test_a_request_without_the_token_is_refused(sandbox_settings: Settings, tmp_path: Path) -> None:
    with page(sandbox_settings, tmp_path) as server, httpx.Client(base_url=server.base_url) as bare:
        assert bare.get("/").status_code == 403
        assert bare.get("/?token=wrong").status_code == 403
        assert bare.get("/static/htmx.min.js").status_code == 403
        refused = bare.post("/upload", files={"file": ("a.csv", b"x", "text/csv")})
        assert refused.status_code == 403
        # The link's token becomes a cookie and leaves the address.
        first = bare.get(f"/?token={server.token}")
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert "httponly" in first.headers["set-cookie"].lower()
        assert "samesite=strict" in first.headers["set-cookie"].lower()
        assert bare.get("/").status_code == 200
        # With the cookie alone (what another site's form would send) a change is refused.
        alone = bare.post("/upload", files={"file": ("a.csv", b"x", "text/csv")},
                          headers={"Origin": "http://evil.example"})
        assert alone.status_code == 403
        assert not any(h.lower().startswith("access-control") for h in alone.headers)
        # A name rebound to 127.0.0.1 does not reach the page either.
        assert bare.get("/", headers={"Host": "evil.example"}).status_code == 403


def test_upload_limits_are_said_clearly(sandbox_settings: Settings, tmp_path: Path) -> None:
    path = messy_workbook(tmp_path / "orders.xlsx")
    small = page(sandbox_settings, tmp_path, max_upload_bytes=1000)
    with small as server, _client(server) as client:
        answer = client.post("/upload", files={"file": (path.name, path.read_bytes(), XLSX)})
        assert answer.status_code == 413
        assert "larger than the page takes" in answer.text
        assert answer.headers["HX-Retarget"] == "#message"
    with page(sandbox_settings, tmp_path, max_cells=50) as server, _client(server) as client:
        answer = client.post("/upload", files={"file": (path.name, path.read_bytes(), XLSX)})
        assert answer.status_code == 400
        assert "50 cells" in answer.text and "bulkpo import FILE" in answer.text
        assert str(tmp_path) not in answer.text
        bad = client.post("/upload", files={"file": ("notes.pdf", b"%PDF", "application/pdf")})
        assert bad.status_code == 400 and "not a spreadsheet" in bad.text


def test_every_value_is_shown_escaped_and_the_key_never(
    sandbox_settings: Settings, tmp_path: Path
) -> None:
    poison = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    path = messy_workbook(tmp_path / "orders.xlsx", poison=poison)
    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        shown = client.get(_upload(client, path)).text
        assert "&lt;script&gt;alert(" in shown
        assert "<script>alert" not in shown and "<img src=x" not in shown
        key = sandbox_settings.api_key
        assert key is not None and key.get_secret_value() not in shown


def test_a_mapping_chosen_on_the_page_is_a_mapping_file_the_cli_reads(
    sandbox_settings: Settings, tmp_path: Path
) -> None:
    path = messy_workbook(tmp_path / "orders.xlsx")
    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        where = _upload(client, path)
        first = client.get(where).text
        assert "8 rows: 8 invalid" in first
        # The missing column, which no data cell can show, is said above the grid.
        assert "<li>Orders!A1: required column &#39;Quantity&#39; not found" in first
        assert 'class="fixed" title="left out: &#34;Stück&#34; is not a' in first
        form = {**_mapping_form(), "name": "stück export"}
        answer = client.post(f"{where}/mapping", data=form)
        assert answer.status_code == 200
        assert "8 rows: 6 valid, 2 invalid" in answer.text
    saved = tmp_path / "mappings" / "stück-export.toml"
    mapping = read_mapping(saved)
    assert mapping.columns["Stück"] == "quantity" and mapping.header_row == 1
    # The same file, read by the library as `bulkpo validate --map` reads it.
    again = validation_result(path, mapping=saved).purchase_orders
    assert again is not None and again.summary.line() == "8 rows: 6 valid, 2 invalid"


def test_a_cell_edited_on_the_page_changes_the_copy_and_is_checked_again(
    sandbox_settings: Settings, tmp_path: Path
) -> None:
    path = messy_workbook(tmp_path / "orders.xlsx")
    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        where = _upload(client, path)
        shown = client.post(f"{where}/mapping", data=_mapping_form()).text
        assert 'class="error" title="&#34;abc&#34; is not a number' in shown
        answer = client.post(f"{where}/cell", data={
            "sheet": "Orders", "row": str(BAD_ROW), "col": str(COST_COL), "value": "4.5"})
        assert answer.status_code == 200
        assert "is not a number" not in answer.text
        assert "Orders!M5 changed" in answer.text
    copies = list((tmp_path / "ui").glob("*/orders.xlsx"))
    assert len(copies) == 1
    cell = openpyxl.load_workbook(copies[0])["Orders"].cell(BAD_ROW, COST_COL + 1).value
    assert cell == 4.5
    # The user's own file is never changed.
    original = openpyxl.load_workbook(path)["Orders"].cell(BAD_ROW, COST_COL + 1).value
    assert original == "abc"


def test_a_csv_cell_is_edited_in_place(sandbox_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(
        "PO Number;Seller;SKU;Product Name;Quantity;Unit Cost;Currency\r\n"
        "PO-C-1;Müller GmbH;A-1;Lampe;10;x;EUR\r\n".encode("cp1252")
    )
    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        answer = client.post("/upload", files={"file": (path.name, path.read_bytes(), "text/csv")})
        where = answer.headers["HX-Redirect"]
        assert "Müller GmbH" in client.get(where).text
        fixed = client.post(f"{where}/cell", data={
            "sheet": "orders", "row": "2", "col": "5", "value": "2.5"})
        assert fixed.status_code == 200, fixed.text
    copy = next((tmp_path / "ui").glob("*/orders.csv"))
    assert copy.read_text(encoding="utf-8").splitlines()[1] == (
        "PO-C-1;Müller GmbH;A-1;Lampe;10;2.5;EUR")


def test_the_run_goes_on_without_the_page_and_its_files_download(
    sandbox_settings: Settings, tmp_path: Path
) -> None:
    path = messy_workbook(tmp_path / "orders.xlsx")
    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        where = _upload(client, path)
        started = client.post(f"{where}/import")
        assert started.status_code == 200 and 'id="run-panel"' in started.text
        deadline = time.monotonic() + 30
        while 'data-finished="yes"' not in (panel := client.get(f"{where}/run").text):
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.1)
        # Without a mapping the quantity column is missing: every row invalid, none sent.
        assert "8 rows: 8 invalid" in panel
        fix = client.get(f"{where}/files/orders-fix.xlsx")
        assert fix.status_code == 200
        assert "attachment" in fix.headers["content-disposition"]
        assert client.get(f"{where}/files/..%2Forders.xlsx").status_code == 404


HOSTILE = ("OOM_alloc.xls", "OOM_alloc3.xls", "issue_174.xlsx", "issue252.xlsx", "issue_385.xls",
           "issue_594_dos.ods", "issue127.xlsx", "any_sheets.xlsb")


def test_hostile_workbooks_get_one_clear_message(
    sandbox_settings: Settings, tmp_path: Path
) -> None:
    corpus = shared_path("data", "excel-corpus")
    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        for name in HOSTILE:
            answer = client.post("/upload", files={"file": (name, (corpus / name).read_bytes())})
            assert answer.status_code in (204, 400), (name, answer.text)
            if answer.status_code == 400:
                text = answer.text
                assert text.startswith('<p class="error" role="alert">') and "Traceback" not in text
                assert text.count("<p") == 1, (name, text)
            else:
                assert client.get(answer.headers["HX-Redirect"]).status_code == 200


def _combined(path: Path) -> Path:
    """The sample POs and the sample bookings in one workbook, as a planner keeps them."""
    workbook = openpyxl.load_workbook(SAMPLES / "purchase-orders.xlsx")
    bookings = workbook.create_sheet("Bookings")
    for row in openpyxl.load_workbook(SAMPLES / "bookings.xlsx")["Bookings"].iter_rows(
        values_only=True
    ):
        bookings.append(row)
    workbook.save(path)
    return path


def _imported(client: httpx.Client, path: Path) -> tuple[str, str]:
    """Import a file through the page; its page's address and its final run panel."""
    where = _upload(client, path)
    client.post(f"{where}/import")
    deadline = time.monotonic() + 60
    while 'data-finished="yes"' not in (panel := client.get(f"{where}/run").text):
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.1)
    return where, panel


def test_pos_and_bookings_imported_exported_and_tracked_by_import_and_date_range(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path
) -> None:
    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        where = _upload(client, SAMPLES / "bookings.xlsx")
        alone = client.get(where).text
        assert "Import 12 bookings</button>" in alone
        # A bookings sheet's fields are chosen as a PO sheet's are.
        assert 'class="note readonly-mapping"' not in alone
        assert alone.count('<select class="map"') == alone.count('<select class="map" name') > 0
        assert not any("disabled" in t for t in re.findall(r'<select class="map"[^>]*>', alone))
        assert 'id="apply-mapping-bookings"' in alone and 'id="apply-mapping"' not in alone
        bookings, panel = _imported(client, _combined(tmp_path / "plan.xlsx"))
        assert '<p class="line">POs: 152 rows: 152 created</p>' in panel
        assert '<p class="line">bookings: 12 rows: 12 created</p>' in panel
        assert "plan-report.xlsx" in panel and "plan-report-bookings.xlsx" in panel
        # Both sheets have a row 2: each keeps its own status.
        assert '<tr data-sheet="POs" data-row="2"><td>POs</td><td>2</td><td>PO-2026-1001' in panel
        assert '<tr data-sheet="bookings" data-row="2"><td>bookings</td><td>2</td><td>BK-' in panel
        assert panel.count('class="status created"') == 152 + 12

        # Export: the CLI's filters, a preview with the count, the workbook to download.
        assert client.get("/export").status_code == 200
        preview = client.get("/export/preview", params={"status": "open", "limit": ""}).text
        assert "50 purchase orders (152 rows) match." in preview
        assert "<th>PO Number</th>" in preview and "<td>PO-2026-1001</td>" in preview
        download = client.get("/export/download", params={"status": "open", "format": "xlsx"})
        assert download.status_code == 200
        (tmp_path / "export.xlsx").write_bytes(download.content)
        sheet = openpyxl.load_workbook(tmp_path / "export.xlsx")["Purchase Orders"]
        assert sheet.cell(1, 1).value == "PO Number" and sheet.max_row == 153
        closed = client.get("/export/preview", params={"status": "closed"}).text
        assert "0 purchase orders (0 rows) match." in closed
        wrong = client.get("/export/preview", params={"month": "2026-13"})
        assert wrong.status_code == 400 and "2026-13" in wrong.text

        # Track: the import's bookings, their shipments, and a shipment's documents.
        sandbox.advance(5 * 86400)
        tracked = client.get("/track/rows", params={"import": bookings.rsplit("/", 1)[1]}).text
        assert tracked.count("<td>Booked</td>") == 12 and "ETD (estimated," in tracked
        shipment = re.search(r'hx-post="/track/documents/(\d+)"', tracked)
        assert shipment is not None
        listed = client.post(f"/track/documents/{shipment.group(1)}").text
        link = re.search(r'href="(/track/documents/\d+/[^"]+\.pdf)"', listed)
        assert link is not None and "downloaded" in listed
        document = client.get(link.group(1))
        assert document.status_code == 200 and document.content.startswith(b"%PDF")
        escape = client.get(f"/track/documents/{shipment.group(1)}/..%2F..%2Fjournal.sqlite")
        assert escape.status_code == 404

        # Track by date range: the shipments updated in it, as `bulkpo export shipments` lists.
        shipments = listing(sandbox, "/shipments")
        wide = client.get("/track/rows", params={"updated_after": "2000-01-01",
                                                 "updated_before": "2100-01-01"}).text
        ids = re.findall(r'hx-post="/track/documents/(\d+)"', wide)
        assert shipments and sorted(ids) == sorted(str(s["id"]) for s in shipments)
        link = re.search(r'href="(/track/shipments/[^"]+)"', wide)
        assert link is not None
        (tmp_path / "shipments.xlsx").write_bytes(client.get(link.group(1)).content)
        listed = openpyxl.load_workbook(tmp_path / "shipments.xlsx")["Shipments"]
        assert listed.max_row == len(shipments) + 1
        assert client.get("/track/shipments/..%2Fpage.json").status_code == 404
        later = client.get("/track/rows", params={"updated_after": "2099-01-01"}).text
        assert "No shipment was updated in that range." in later
        assert "/track/documents/" not in later
        wrong = client.get("/track/rows", params={"updated_before": "2026-13-01"})
        assert wrong.status_code == 400 and "2026-13-01" in wrong.text
        assert 'name="updated_after"' in client.get("/track").text


def test_the_command_prints_an_address_that_opens_the_page(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bulkpo", "ui", "--sandbox", "--no-browser"], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("bulkpo ui: open http://127.0.0.1:"), first
        url = first.split("open ", 1)[1].strip()
        with httpx.Client(timeout=30) as client:
            assert client.get(url.split("?")[0]).status_code == 403
            shown = client.get(url, follow_redirects=True)
            assert shown.status_code == 200 and "Drop your workbook or CSV here" in shown.text
    finally:
        process.terminate()
        process.communicate(timeout=20)
    assert process.returncode is not None


def test_a_run_stopped_with_the_server_is_shown_and_resumed_at_the_next_start(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = messy_workbook(tmp_path / "orders.xlsx")
    slow = settings_for(sandbox, rate=2.0, concurrency=1)
    # As `bulkpo --sandbox ui` names the sandbox: by its state file, not its port of the day.
    target = "sandbox:/state/of/the/sandbox.sqlite"
    with page(slow, tmp_path, target=target) as server, _client(server) as client:
        where = _upload(client, path)
        client.post(f"{where}/mapping", data=_mapping_form())
        client.post(f"{where}/import")
        deadline = time.monotonic() + 30
        while "<td>PO-UI-001</td>" not in client.get(f"{where}/run").text:
            assert time.monotonic() < deadline, "no row went through"
            time.sleep(0.05)
    # The server stopped in the middle of the run; the next start shows where it was.
    with page(slow, tmp_path, target=target) as server, _client(server) as client:
        assert "orders.xlsx</a>" in client.get("/").text
        shown = client.get(where).text
        assert "the page&#39;s server stopped during this import" in shown
        assert 'data-finished="yes"' in shown and "<td>PO-UI-001</td>" in shown
        client.post(f"{where}/import")
        deadline = time.monotonic() + 30
        while 'data-finished="yes"' not in (panel := client.get(f"{where}/run").text):
            assert time.monotonic() < deadline, "the resumed run did not end"
            time.sleep(0.1)
        assert "8 rows: 6 created, 2 invalid" in panel and "stopped" not in panel
    # Nothing was created twice, and a third start still shows the result and its files.
    assert sorted(po["name"] for po in listing(sandbox, "/purchase_orders")) == [
        "PO-UI-001", "PO-UI-003", "PO-UI-004"]
    journal = next((tmp_path / "ui").glob("*/journal.sqlite"))
    with Journal(journal) as opened:
        last = opened.last_run_info()
    assert last is not None and last.base_url == target
    with page(slow, tmp_path) as server, _client(server) as client:
        assert "8 rows: 6 created, 2 invalid" in client.get(where).text
        assert client.get(f"{where}/files/orders-report.xlsx").status_code == 200


def test_a_double_click_on_import_starts_one_run(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = messy_workbook(tmp_path / "orders.xlsx")
    with page(settings_for(sandbox, rate=50.0), tmp_path) as server, _client(server) as client:
        where = _upload(client, path)
        client.post(f"{where}/mapping", data=_mapping_form())
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            clicks = list(pool.map(lambda _i: client.post(f"{where}/import"), range(2)))
        assert [c.status_code for c in clicks] == [200, 200]
        deadline = time.monotonic() + 30
        while 'data-finished="yes"' not in (panel := client.get(f"{where}/run").text):
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.1)
        assert "8 rows: 6 created, 2 invalid" in panel and "error" not in panel


def test_requests_rate_and_throttling_are_shown_live_while_the_run_goes(tmp_path: Path) -> None:
    # Every 6th request answered 429 with Retry-After: 1, so the run lasts seconds and throttles.
    options = SandboxOptions(db_path=tmp_path / "sandbox.sqlite", seed=1, throttle_every=6)
    path = messy_workbook(tmp_path / "orders.xlsx", pos=6)
    with running_sandbox(options) as sandbox, page(
        settings_for(sandbox, rate=20.0, concurrency=2), tmp_path
    ) as server, _client(server) as client:
        where = _upload(client, path)
        client.post(f"{where}/mapping", data=_mapping_form())
        client.post(f"{where}/import")
        seen: list[dict[str, Any]] = []
        panels: list[str] = []
        deadline = time.monotonic() + 60
        while not (figures := client.get(f"{where}/run.json").json())["finished"]:
            assert time.monotonic() < deadline, "the run did not end"
            seen.append(figures)
            panels.append(client.get(f"{where}/run").text)
            time.sleep(0.05)
        final = client.get(f"{where}/run").text
        time.sleep(0.3)
        later = client.get(f"{where}/run.json").json()
    assert later["rate"] == figures["rate"] > 0  # an ended run's rate no longer moves
    sent = [f["requests"] for f in seen]
    assert sent == sorted(sent) and len(set(sent)) >= 3, sent  # growing while the run goes
    assert any(f["throttled"] >= 1 for f in seen), seen  # a 429 seen before the end
    assert any(f["rate"] > 0 for f in seen)
    assert any(f["done"] > 0 and f["statuses"] for f in seen)  # row statuses filling in
    assert any('class="requests">' in p and 'class="throttled">' in p for p in panels)
    shown = re.search(r'class="requests">(\d+)<', panels[-1])
    assert shown is not None and int(shown.group(1)) >= sent[0]
    # The live counts are the run's own: the final line says as many requests or more.
    total = re.search(r"(\d+) requests in", final)
    assert total is not None and int(total.group(1)) >= sent[-1] > 0
    assert figures["requests"] == int(total.group(1)) and figures["throttled"] >= 1


def test_a_network_sheet_is_shown_imported_and_reported_on_the_page(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path
) -> None:
    path = workbook_with_network(tmp_path / "migration.xlsx",
                                 [NEW_ENTITY, NEW_LOCATION, OWN_LOCATION], network_pos())
    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        where = _upload(client, path)
        shown = client.get(where).text
        assert 'data-kind="network"' in shown
        assert "Network (company entities and locations)" in shown
        assert "sup-foshan-ceramics" in shown
        # The network sheet's fields are read-only (said once), the PO sheet's are chosen.
        assert shown.count('class="note readonly-mapping"') == 1 and 'id="apply-mapping"' in shown
        assert "Import 3 network rows and 2 POs" in " ".join(shown.split())
        # Each network row is checked before anything is sent: its status is in the grid.
        grid = shown[shown.index('data-kind="network"'):shown.index('data-kind="purchase-orders"')]
        assert re.findall(r'<td class="status (\w+)"', grid) == ["valid"] * 3
        client.post(f"{where}/import")
        deadline = time.monotonic() + 30
        while 'data-finished="yes"' not in (panel := client.get(f"{where}/run").text):
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.1)
        assert "error" not in panel.replace('class="error"', ""), panel
        network_rows = re.findall(
            r'<tr data-sheet="network rows" data-row="(\d+)">.*?class="status (\w+)"', panel)
        assert sorted(network_rows) == [("2", "created"), ("3", "created"), ("4", "created")]
        assert re.findall(r'data-sheet="POs"[^>]*>.*?class="status (\w+)"', panel) == [
            "created"] * 4
        report = client.get(f"{where}/files/migration-report-network.xlsx")
        assert report.status_code == 200
        (tmp_path / "got.xlsx").write_bytes(report.content)
        sheet = openpyxl.load_workbook(tmp_path / "got.xlsx").worksheets[0]
        status = max(c.column for c in sheet[1] if c.value == "Status")
        assert [sheet.cell(row, status).value for row in (2, 3, 4)] == ["created"] * 3
        assert client.get(f"{where}/files/migration-report.xlsx").status_code == 200

        # A mapping is the PO sheet's: the network sheet is still read, and a saved
        # mapping that fits is used by itself for the next drop of such a file.
        again = _upload(client, path)
        applied = client.post(f"{again}/mapping", data={
            "sheet": "Purchase Orders", "header_row": "1", "name": "po-only"}).text
        assert "is not imported" not in applied
        assert 'data-kind="network"' in applied
        third = client.get(_upload(client, path)).text
        assert "The saved mapping &#39;po-only&#39; fits this file: it is used." in third
        assert 'data-kind="network"' in third
    assert {e["ref"] for e in listing(sandbox, "/network/company_entities")} >= {
        "sup-foshan-ceramics"}



def test_a_bookings_mapping_chosen_on_the_page_imports_and_is_picked_again(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path
) -> None:
    from tests.test_bookings import BOOKING_KEYS, booking_row, pos_with_lines, renamed
    from tests.test_bookings import write_workbook as write_both

    path = renamed(write_both(tmp_path / "plan.xlsx", pos_with_lines(2),
                              [booking_row(1), booking_row(2)]),
                   "Bookings", "Origin Port", "Verschiffungshafen")
    form = {"sheet": "Bookings", "header_row": "1", "kind": "bookings", "name": "hafen"} | {
        f"col-{i}": key for i, key in enumerate(BOOKING_KEYS)}
    assert form[f"col-{BOOKING_KEYS.index('origin_port')}"] == "origin_port"
    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        where = _upload(client, path)
        first = client.get(where).text
        assert "2 rows: 2 invalid" in first and "Import 2 POs and 0 bookings</button>" in first
        answer = client.post(f"{where}/mapping", data=form)
        assert answer.status_code == 200
        assert "2 rows: 2 valid" in answer.text and "mapping in use: hafen" in answer.text
        assert "Import 2 POs and 2 bookings</button>" in answer.text
        saved = tmp_path / "mappings" / "hafen.toml"
        mapping = read_mapping(saved)
        assert mapping.kind == "bookings"
        assert mapping.columns["Verschiffungshafen"] == "origin_port"
        # The saved file is what `bulkpo validate --map` reads.
        again = validation_result(path, mapping=saved).bookings
        assert again is not None and again.summary.line() == "2 rows: 2 valid"
        # The page's import sends what the page showed: the mapping holds through the run.
        client.post(f"{where}/import")
        deadline = time.monotonic() + 60
        while 'data-finished="yes"' not in (panel := client.get(f"{where}/run").text):
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.1)
        assert '<p class="line">POs: 4 rows: 4 created</p>' in panel
        assert '<p class="line">bookings: 2 rows: 2 created</p>' in panel
        assert sorted(b["name"] for b in listing(sandbox, "/bookings")) == [
            "BK-00001", "BK-00002"]
        # The same file dropped again is recognised by its bookings headers.
        dropped = _upload(client, path)
        later = client.get(dropped).text
        assert "The saved mapping &#39;hafen&#39; fits this file" in later
        assert "2 rows: 2 valid" in later and "mapping in use: hafen" in later
        # Offered by name on the bookings sheet only, and used when chosen.
        assert later.count('<option>hafen</option>') == 1
        used = client.post(f"{dropped}/mapping", data={
            "use": "hafen", "kind": "bookings", "sheet": "Bookings", "header_row": "1"}).text
        assert "Mapping &#39;hafen&#39; used." in used and "2 rows: 2 valid" in used


def test_both_mappings_of_an_upload_are_kept_for_the_next_start_of_the_page(
    tmp_path: Path,
) -> None:
    from bulkpo.saved_mapping import SavedMapping
    from bulkpo.ui.app import Upload, load_state, save_state

    (tmp_path / "plan.xlsx").write_bytes((SAMPLES / "bookings.xlsx").read_bytes())
    upload = Upload("20261128-140000-abcdef", tmp_path, tmp_path / "plan.xlsx")
    upload.mapping = SavedMapping(columns={"Beleg": "po_number"}, name="sap")
    upload.booking_mapping = SavedMapping(columns={"Verschiffungshafen": "origin_port"},
                                          fingerprint=["verschiffungshafen"], name="hafen",
                                          kind="bookings")
    save_state(upload)
    again = load_state(tmp_path)
    assert again is not None
    assert again.mapping == upload.mapping and again.booking_mapping == upload.booking_mapping


def test_what_flexport_holds_with_other_values_is_left_or_updated_as_chosen_on_the_page(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path
) -> None:
    first = workbook_with_network(tmp_path / "suppliers.xlsx", [NEW_ENTITY], [])
    moved = ("entity", NEW_ENTITY[1], NEW_ENTITY[2], None, "9 Humen Rd", *NEW_ENTITY[5:])
    second = workbook_with_network(tmp_path / "suppliers-moved.xlsx", [moved], [])

    def imported(client: httpx.Client, where: str, **form: str) -> list[tuple[str, str]]:
        client.post(f"{where}/import", data=form)
        deadline = time.monotonic() + 30
        while 'data-finished="yes"' not in (panel := client.get(f"{where}/run").text):
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.1)
        return re.findall(r'data-sheet="network rows"[^>]*>.*?class="status (\w+)".*?'
                          r'<td[^>]*>([^<]*)</td>\s*</tr>', panel, flags=re.S)

    def street() -> str:
        [entity] = listing(sandbox, f"/network/company_entities?f.ref={NEW_ENTITY[1]}")
        return str(entity["mailing_address"]["street_address"])

    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        assert [s for s, _m in imported(client, _upload(client, first))] == ["created"]
        where = _upload(client, second)
        shown = client.get(where).text
        assert re.findall(r'<option value="(\w+)"( selected)?>', shown[shown.index(
            'id="on-existing"'):]) [:3] == [("skip", ""), ("update", ""), ("fail", "")]
        [(status, message)] = imported(client, where)  # the default: leave it
        assert (status, message) == ("skipped", (
            "exists in your network with other values (mailing_address); choose "
            "\u201cupdate it to the file&#39;s values\u201d beside Import to update it"))
        assert street() == "8 Humen Rd"
        assert [s for s, _m in imported(client, where, on_existing="update")] == ["updated"]
        assert street() == "9 Humen Rd"
        # The choice stays shown for the next run of this file.
        assert 'value="update" selected' in client.get(where).text
        refused = client.post(f"{where}/import", data={"on_existing": "overwrite"})
        assert "on_existing must be skip, update or fail" in refused.text


def test_rows_hidden_in_the_sheet_are_said_above_the_grid(
    sandbox_settings: Settings, tmp_path: Path
) -> None:
    path = write_po_workbook(tmp_path / "pos.xlsx", po_rows(2))
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws is not None
    ws.row_dimensions[3].hidden = True
    wb.save(path)
    with page(sandbox_settings, tmp_path) as server, _client(server) as client:
        shown = client.get(_upload(client, path)).text
        problems = shown[shown.index('<ul class="problems">'):].split("</ul>")[0]
        assert "Purchase Orders row 3: 1 row is hidden in the sheet (a filter or Hide Rows)" \
            in problems
        assert "unhide them to send them" in problems  # what to do, not only what is wrong
        assert "Import 1 PO" in " ".join(shown.split())
