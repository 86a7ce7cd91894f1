"""Exports: filters reach the API, pages, rows in the import layout, workbook, profiles."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bulkpo.columns import PURCHASE_ORDER_COLUMNS
from bulkpo.config import Settings
from bulkpo.engine.exactly_once import OnExisting
from bulkpo.engine.pacing import Caller, Pacer, RetryPolicy
from bulkpo.errors import UsageError
from bulkpo.flexport.client import FlexportClient, Page
from bulkpo.flexport.models import PurchaseOrderLineItem
from bulkpo.imports import ImportOptions, import_purchase_orders, load_purchase_orders
from bulkpo.purchase_orders import export as export_module
from bulkpo.purchase_orders.export import export_purchase_orders, output_path, rows_for_po
from bulkpo.purchase_orders.line_items import purchase_orders_with_lines
from bulkpo.purchase_orders.profiles import load_profile
from bulkpo.purchase_orders.query import (
    ExportQuery,
    build_query,
    merge_options,
    parse_moment,
    report_window,
)
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from tests.conftest import SAMPLES, settings_for
from tests.factories import po_rows, write_po_workbook

UTC = dt.UTC
SELLER = "sup-shenzhen-lights"


def po_body(name: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "status": "open",
        "buyer": {"name": "Acme Imports Inc", "ref": "acme-us", "country_code": "US"},
        "seller": {"name": "Shenzhen Lights Co", "ref": None, "country_code": "CN"},
        "incoterm": "FOB",
        "transportation_mode": "ocean",
        "cargo_ready_date": "2026-12-01",
        "origin_port_loc_code": "CNYTN",
        "destination_port_loc_code": "USLAX",
        "line_items": [
            {
                "line_item_number": 1,
                "product": {"sku": "00123", "name": "Desk lamp"},
                "units": 10,
                "unit_of_measure": "PCS",
                "unit_cost": {"amount": "12.50", "currency_code": "USD"},
                "hs_codes": [{"code": "9405.20", "country_code": "US"}],
            }
        ],
    }
    body.update(changes)
    return body


def post_pos(server: SandboxServer, bodies: Sequence[dict[str, Any]]) -> list[int]:
    """Create POs straight over HTTP (PO writes are Flexport-Version 3)."""
    headers = {"Authorization": f"Bearer {server.api_key}", "Flexport-Version": "3"}
    ids = []
    with httpx.Client(base_url=server.base_url, headers=headers) as http:
        for body in bodies:
            answer = http.post("/purchase_orders", json=body)
            assert answer.status_code == 200, answer.text
            ids.append(answer.json()["data"]["id"])
    return ids


def run_export(settings: Settings, path: Path, query: ExportQuery, **kw: Any) -> Any:
    return asyncio.run(export_purchase_orders(settings, query, path, **kw))


def names_in(path: Path) -> list[str]:
    return [json.loads(line)["po_number"] for line in path.read_text().splitlines()]


# ---------------------------------------------------------------- a shared sandbox


@pytest.fixture(scope="module")
def filled(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SandboxServer, dict[str, int]]]:
    """POs differing in every filtered field; B-* were created 10 sandbox days later."""
    db = tmp_path_factory.mktemp("export") / "sandbox.sqlite"
    with running_sandbox(SandboxOptions(db_path=db, seed=1)) as server:
        seller = {"name": "Shenzhen Bright Lights Co Ltd", "ref": SELLER, "country_code": "CN"}
        first = post_pos(
            server,
            [
                po_body("A-OPEN"),
                po_body("A-CLOSED", status="closed"),
                po_body("A-SELLER", seller=seller),
                po_body("A-ARCHIVED"),
                po_body(
                    "A-SUPPLIER-BUYS",
                    buyer={"name": "Shenzhen Bright Lights Co Ltd", "ref": SELLER},
                    seller={"name": "Acme Imports Inc", "ref": "acme-us"},
                ),
            ],
        )
        http = httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}
        )
        http.post(f"/_sandbox/archive_purchase_order/{first[3]}").raise_for_status()
        http.close()
        server.advance(10 * 86400)
        second = post_pos(server, [po_body("B-CANCELLED", status="cancelled")])
        yield server, {"first": first[0], "second": second[0]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (ExportQuery(), ["A-OPEN", "A-CLOSED", "A-SELLER", "A-ARCHIVED", "A-SUPPLIER-BUYS",
                         "B-CANCELLED"]),
        (ExportQuery(status="closed"), ["A-CLOSED"]),
        (ExportQuery(archived=True), ["A-ARCHIVED"]),
        (ExportQuery(archived=False, status="open"), ["A-OPEN", "A-SELLER", "A-SUPPLIER-BUYS"]),
        (ExportQuery(seller_ref=SELLER), ["A-SELLER"]),
        (ExportQuery(buyer_ref=SELLER), ["A-SUPPLIER-BUYS"]),
        (ExportQuery(role="seller"), ["A-SUPPLIER-BUYS"]),
        (ExportQuery(name="A-CLOSED"), ["A-CLOSED"]),
        (ExportQuery(direction="desc", limit=2), ["B-CANCELLED", "A-SUPPLIER-BUYS"]),
    ],
)  # fmt: skip
def test_each_filter_narrows_the_list_on_the_api(
    filled: tuple[SandboxServer, dict[str, int]], tmp_path: Path, query: ExportQuery,
    expected: list[str],
) -> None:  # fmt: skip
    server, _ = filled
    out = tmp_path / "out.jsonl"
    result = run_export(settings_for(server, rate=1000.0), out, query)
    assert names_in(out) == expected
    assert result.pos == len(expected)


def test_time_filters_use_the_created_and_updated_bounds(
    filled: tuple[SandboxServer, dict[str, int]], tmp_path: Path
) -> None:
    server, _ = filled
    settings = settings_for(server, rate=1000.0)
    middle = dt.datetime.now(UTC) + dt.timedelta(days=5)
    out = tmp_path / "out.jsonl"
    run_export(settings, out, ExportQuery(created_after=middle))
    assert names_in(out) == ["B-CANCELLED"]
    run_export(settings, out, ExportQuery(created_before=middle, status="closed"))
    assert names_in(out) == ["A-CLOSED"]
    run_export(settings, out, ExportQuery(updated_after=middle))
    assert names_in(out) == ["B-CANCELLED"]
    run_export(settings, out, ExportQuery(updated_before=middle, name="A-OPEN"))
    assert names_in(out) == ["A-OPEN"]


def test_filters_are_sent_as_f_parameters() -> None:
    berlin = dt.timezone(dt.timedelta(hours=2))
    query = ExportQuery(
        status="open",
        archived=False,
        buyer_ref="acme-us",
        seller_ref=SELLER,
        role="buyer",
        shipment_id=12,
        name="PO-1",
        created_after=dt.datetime(2026, 10, 1, tzinfo=berlin),
        created_before=dt.datetime(2026, 11, 1, 0, 0, 0, 500_000, tzinfo=UTC),
        updated_after=dt.datetime(2026, 9, 1, 8, 30, tzinfo=UTC),
        updated_before=dt.datetime(2026, 12, 1, tzinfo=UTC),
        direction="desc",
        limit=5,
    )
    assert query.params() == {
        "f.status": "open",
        "f.buyer_ref": "acme-us",
        "f.seller_ref": SELLER,
        "f.role": "buyer",
        "f.name": "PO-1",
        "f.archived_at.exists": "false",
        "f.shipment.id": "12",
        "f.created_at.gt": "2026-10-01T00:00:00+02:00",
        "f.created_at.lt": "2026-11-01T00:00:00.500+00:00",
        "f.updated_at.gt": "2026-09-01T08:30:00+00:00",
        "f.updated_at.lt": "2026-12-01T00:00:00+00:00",
        "sort": "id",
        "direction": "desc",
    }


def test_a_shipment_filter_reaches_the_api(
    filled: tuple[SandboxServer, dict[str, int]], tmp_path: Path
) -> None:
    server, _ = filled
    seen: list[httpx.URL] = []
    out = tmp_path / "out.jsonl"
    settings = settings_for(server, rate=1000.0)
    original = httpx.AsyncClient.send

    async def spy(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> httpx.Response:
        seen.append(request.url)
        return await original(self, request, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(httpx.AsyncClient, "send", spy)
        run_export(settings, out, ExportQuery(shipment_id=999999, status="open"))
    assert names_in(out) == []
    assert seen[0].path == "/purchase_orders"
    assert seen[0].params["f.shipment.id"] == "999999"
    assert seen[0].params["f.status"] == "open"
    assert seen[0].params["per"] == "100"


# ---------------------------------------------------------------- pages and workbooks


def test_pages_of_many_pos_keep_the_api_order(sandbox: SandboxServer, tmp_path: Path) -> None:
    post_pos(sandbox, [po_body(f"PO-{i:04d}") for i in range(230)])
    settings = settings_for(sandbox, rate=2000.0, concurrency=8)
    pages: list[int] = []
    out = tmp_path / "all.csv"
    result = run_export(settings, out, ExportQuery(), on_progress=lambda p: pages.append(p.pages))
    assert (result.pos, result.rows) == (230, 230)
    assert max(pages) == 3
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["PO Number"] for r in rows] == [f"PO-{i:04d}" for i in range(230)]
    assert rows[0]["SKU"] == "00123"
    desc = tmp_path / "desc.jsonl"
    run_export(settings, desc, ExportQuery(direction="desc", limit=150))
    assert names_in(desc) == [f"PO-{i:04d}" for i in range(229, 79, -1)]


def test_an_empty_result_is_a_valid_workbook_with_headers(
    sandbox_settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "empty.xlsx"
    result = run_export(sandbox_settings, out, ExportQuery(status="closed"))
    assert (result.pos, result.rows) == (0, 0)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Purchase Orders", "Summary", "Query"]
    ws = wb["Purchase Orders"]
    assert [c.value for c in ws[1]] == [c.header for c in PURCHASE_ORDER_COLUMNS.columns]
    assert list(ws.tables) == ["PurchaseOrders"]
    table, _ = load_purchase_orders(out)
    assert table.rows == []
    summary = [[c.value for c in r] for r in wb["Summary"].iter_rows()]
    assert summary[0][0] == "No purchase orders matched these filters"
    assert ["f.status", "closed"] in summary  # says which filters matched nothing


def test_the_workbook_is_formatted_and_records_the_query(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    post_pos(
        sandbox,
        [
            po_body("PO-1", metadata={"dept": ["toys"]}),
            po_body("PO-2", status="closed", cargo_ready_date="2027-01-15"),
        ],
    )
    out = tmp_path / "report.xlsx"
    settings = settings_for(sandbox, rate=1000.0)
    run_export(settings, out, ExportQuery(archived=False))
    wb = load_workbook(out)
    ws = wb["Purchase Orders"]
    headers = [c.value for c in ws[1]]
    assert headers[-1] == "metadata.dept"
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    table = ws.tables["PurchaseOrders"]
    assert table.ref == f"A1:{get_column_letter(len(headers))}3"
    assert table.autoFilter is not None and table.autoFilter.ref == table.ref
    row = {h: c for h, c in zip(headers, ws[2], strict=True)}
    assert row["Cargo Ready Date"].value == dt.datetime(2026, 12, 1)
    assert row["Cargo Ready Date"].number_format == "yyyy-mm-dd"
    assert row["Quantity"].value == 10 and isinstance(row["Quantity"].value, int)
    assert row["Unit Cost"].value == 12.5 and row["Unit Cost"].number_format == "#,##0.00"
    assert row["SKU"].value == "00123" and row["HS Code"].value == "9405.20"
    assert row["Origin Port"].value == "CNYTN"
    assert row["metadata.dept"].value == "toys"
    assert ws.column_dimensions["F"].width >= len("Shenzhen Lights Co")
    summary = wb["Summary"]
    assert isinstance(summary, Worksheet)
    assert len(summary._charts) == 2  # type: ignore[attr-defined]
    # Counts tick on whole numbers: 1 PO a status, 10 units a month (not 0.2, 0.4...)
    steps = [c.y_axis.majorUnit for c in summary._charts]  # type: ignore[attr-defined]
    assert steps == [1, 2]
    values = [[c.value for c in r][:6] for r in summary.iter_rows()]
    assert ["open", 1, 1, 10, None, None] in values and ["closed", 1, 1, 10, None, None] in values
    # spend = units x unit cost, by supplier and by month, per currency
    assert ["2026-12", "USD", 1, 1, 10, 125] in values
    assert ["Shenzhen Lights Co", "USD", 2, 2, 20, 250] in values
    assert ["PO-1", "Shenzhen Lights Co", "USD", 1, 10, 125] in values  # the PO value
    spend = next(c for r in summary.iter_rows() for c in r if c.value == 250)
    assert spend.number_format == "#,##0.00"
    units = next(r[4] for r in summary.iter_rows() if r[0].value == "Shenzhen Lights Co")
    assert units.number_format == "#,##0"
    query = {r[0].value: r[1].value for r in wb["Query"].iter_rows(min_row=2)}
    assert query["f.archived_at.exists"] == "false"
    assert query["API base URL"] == sandbox.base_url
    assert query["Purchase orders"] == 2
    assert isinstance(query["Run at (UTC)"], dt.datetime)
    everything = json.dumps([[str(c.value) for c in r] for s in wb for r in s.iter_rows()])
    assert sandbox.api_key not in everything


def test_text_that_would_run_as_a_formula_is_neutralised(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    evil = '=HYPERLINK("http://evil.example","click")'
    line = po_body("x")["line_items"][0]
    post_pos(
        sandbox,
        [po_body("PO-EVIL", memo=evil, line_items=[{**line, "product": {"sku": "1",
                                                                       "name": "  +cmd|calc"}}])],
    )  # fmt: skip
    settings = settings_for(sandbox, rate=1000.0)
    xlsx, csv_out = tmp_path / "evil.xlsx", tmp_path / "evil.csv"
    run_export(settings, xlsx, ExportQuery())
    run_export(settings, csv_out, ExportQuery())
    ws = load_workbook(xlsx)["Purchase Orders"]
    headers = [c.value for c in ws[1]]
    memo = ws.cell(2, headers.index("Memo") + 1)
    # xlsx: the exact text in a text cell marked quote-prefixed (never a formula)
    assert memo.value == evil and memo.data_type == "s" and memo.quotePrefix
    product = ws.cell(2, headers.index("Product Name") + 1)
    assert product.value == "  +cmd|calc" and product.quotePrefix
    assert not ws.cell(2, headers.index("SKU") + 1).quotePrefix
    from bulkpo.sheets.reader import read_table

    again = read_table(xlsx)
    assert again.rows[0].values[again.headers.index("Memo")] == evil
    assert ws.cell(2, headers.index("Quantity") + 1).value == 10
    text = csv_out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "'  +cmd|calc" in text


def test_an_export_re_imports_unchanged(sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = settings_for(sandbox, rate=1000.0, concurrency=8)
    source = write_po_workbook(tmp_path / "in.xlsx", po_rows(6, lines=3))
    table, validation = load_purchase_orders(source)
    first = asyncio.run(
        import_purchase_orders(table, validation, settings,
                               ImportOptions(journal=tmp_path / "j1.sqlite"))
    )  # fmt: skip
    assert first.summary.all_went_through
    exported = tmp_path / "export.xlsx"
    result = run_export(settings, exported, ExportQuery())
    assert (result.pos, result.rows) == (6, 18)
    table, validation = load_purchase_orders(exported)
    assert not [i for i in validation.issues if i.severity.value == "error"]
    again = asyncio.run(
        import_purchase_orders(
            table, validation, settings,
            ImportOptions(on_existing=OnExisting.UPDATE, journal=tmp_path / "j2.sqlite"),
        )
    )  # fmt: skip
    assert {r.status for r in again.results} == {"unchanged"}
    assert len(again.results) == 18


def test_an_interrupted_export_leaves_no_file(sandbox: SandboxServer, tmp_path: Path) -> None:
    post_pos(sandbox, [po_body(f"PO-{i}") for i in range(5)])
    out = tmp_path / "half.xlsx"

    def stop(_progress: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_export(settings_for(sandbox, rate=1000.0), out, ExportQuery(), on_progress=stop)
    assert list(tmp_path.glob("*.xlsx")) == [] and list(tmp_path.glob(".*")) == []


def test_chosen_columns_and_jsonl_values(sandbox: SandboxServer, tmp_path: Path) -> None:
    post_pos(sandbox, [po_body("PO-1", metadata={"dept": ["toys", "games"]})])
    out = tmp_path / "some.jsonl"
    run_export(
        settings_for(sandbox, rate=1000.0), out, ExportQuery(),
        columns=["PO Number", "sku", "unit_cost", "metadata.dept"],
    )  # fmt: skip
    assert json.loads(out.read_text()) == {
        "po_number": "PO-1", "sku": "00123", "unit_cost": "12.50", "metadata.dept": "toys",
    }  # fmt: skip


# ---------------------------------------------------------------- pure parts


def test_rows_for_po_covers_every_import_column() -> None:
    po = {
        "name": "PO-9", "status": "open", "memo": "m", "cargo_ready_date": "2026-12-01",
        "buyer": {"name": "B", "ref": "b", "country_code": "US"},
        "seller": {"name": "S", "ref": "s", "country_code": "CN"},
        "origin_port": {"address": {"unlocode": "CNYTN"}},
        "destination_address": {"ref": "loc-la-dc"},
        "metadata": {"size": ["M", "L"]},
    }  # fmt: skip
    lines = [
        {"line_item_number": n, "product": {"sku": f"S{n}", "name": "n"}, "units": n,
         "unit_cost": {"amount": "1.5", "currency_code": "EUR"},
         "hs_codes": [{"code": "9405.20"}], "unit_of_measure": "PCS"}
        for n in (3, 1, 2)
    ]  # fmt: skip
    rows = rows_for_po(po, lines)
    assert [r["line_number"] for r in rows] == [1, 2, 3]
    assert set(PURCHASE_ORDER_COLUMNS.keys) <= set(rows[0])
    assert rows[0]["cargo_ready_date"] == dt.date(2026, 12, 1)
    assert rows[0]["unit_cost"] == Decimal("1.5") and rows[0]["quantity"] == 1
    assert rows[0]["origin_port"] == "CNYTN" and rows[0]["destination_address_ref"] == "loc-la-dc"
    assert [r["metadata.size"] for r in rows] == ["M", "L", "L"]
    assert rows_for_po({"name": "EMPTY"}, [])[0]["po_number"] == "EMPTY"


def test_report_windows() -> None:
    now = dt.datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    last = report_window(last_month=True, now=now, tz=UTC)
    assert last is not None and last.month == "2025-12"
    assert (last.start, last.end) == (dt.datetime(2025, 12, 1, tzinfo=UTC),
                                      dt.datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
    assert last.bounds()[0] == dt.datetime(2025, 11, 30, 23, 59, 59, 999_000, tzinfo=UTC)
    berlin = dt.timezone(dt.timedelta(hours=1))
    october = report_window(month="2026-10", now=now, tz=berlin)
    assert october is not None and october.end == dt.datetime(2026, 11, 1, tzinfo=berlin)
    since = report_window(since="30d", now=now, tz=UTC)
    assert since is not None and since.start == now - dt.timedelta(days=30) and not since.end
    with pytest.raises(UsageError, match="--month and --since are alternatives"):
        report_window(month="2026-10", since="3d", now=now, tz=UTC)
    with pytest.raises(UsageError, match="expected a month like 2026-10"):
        report_window(month="2026-13", now=now, tz=UTC)
    with pytest.raises(UsageError, match="leave out --created-after"):
        build_query({"month": "2026-10", "created_after": "2026-10-02"}, now=now, tz=UTC)


def test_bare_dates_mean_midnight_in_the_zone() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    assert parse_moment("2026-07-01", berlin).isoformat() == "2026-07-01T00:00:00+02:00"
    assert parse_moment("2026-01-01T08:00", berlin).isoformat() == "2026-01-01T08:00:00+01:00"
    assert parse_moment("2026-01-01T08:00Z", berlin).utcoffset() == dt.timedelta(0)
    with pytest.raises(UsageError, match="--created-after 'yesterday': expected a date"):
        parse_moment("yesterday", berlin, "--created-after")


def test_command_line_options_override_the_profile() -> None:
    profile = {"status": "open", "last_month": True, "archived": False}
    merged = merge_options(profile, {"status": "closed", "month": "2026-10", "archived": None,
                                     "last_month": False})  # fmt: skip
    assert merged == {"status": "closed", "archived": False, "month": "2026-10"}
    assert merge_options(profile, {"archived": True})["archived"] is True


def test_the_sample_profile_loads() -> None:
    profile = load_profile(SAMPLES / "monthly-report.toml")
    assert profile.options["last_month"] is True and profile.options["role"] == "buyer"
    assert profile.output == "po-report-{month}.xlsx" and profile.columns
    assert output_path(profile.output, month="2026-10", date="x") == Path("po-report-2026-10.xlsx")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("window = [", "not valid TOML"),
        ('colour = "red"', "unknown setting 'colour'"),
        ("[filters]\nstatus = 3", "filter status = 3 has the wrong type"),
        ('[filters]\nsupplier = "x"', "unknown filter 'supplier'"),
        ('window = "fortnight"', "window 'fortnight': expected"),
        ('columns = ["po_number", "colour"]', "unknown column 'colour'"),
        ('output = "r-{week}.xlsx"', "unknown placeholder {week}"),
        ('output = "r.pdf"', "the output is .xlsx, .csv or .jsonl"),
        ('[filters]\nstatus = "shipped"', "--status 'shipped': expected one of"),
        ('tz = "Mars/Olympus"', "not a known time zone"),
    ],
)
def test_a_bad_profile_is_one_line_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        load_profile(path)
    message = str(info.value)
    assert message.startswith(f"profile {path}: ") and problem in message
    assert "\n" not in message


# ---------------------------------------------------------------- line items in bulk


class CountingTransport(httpx.AsyncBaseTransport):
    """Real HTTP, counting the requests per path."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.paths: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths[request.url.path] += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def collect(settings: Settings, query: ExportQuery, transport: httpx.AsyncBaseTransport) -> list[
    tuple[dict[str, Any], list[dict[str, Any]]]
]:
    async def go() -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        async with FlexportClient(settings, transport=transport) as api:
            caller = Caller(Pacer(settings.rate), RetryPolicy())
            return [
                pair async for pair in purchase_orders_with_lines(api, caller, query, concurrency=8)
            ]

    return asyncio.run(go())


def test_many_pos_take_their_lines_in_pages_not_one_request_each(
    sandbox: SandboxServer,
) -> None:
    post_pos(sandbox, [po_body(f"PO-{i:04d}") for i in range(230)])
    settings = settings_for(sandbox, rate=5000.0)
    counting = CountingTransport()
    pairs = collect(settings, ExportQuery(), counting)
    assert [po["name"] for po, _ in pairs] == [f"PO-{i:04d}" for i in range(230)]
    assert all(lines and lines[0]["product"]["sku"] == "00123" for _, lines in pairs)
    assert counting.paths["/purchase_order_line_items"] == 3  # 230 lines, 100 a page
    # A filtered export of a few POs asks for their lines one PO at a time.
    counting = CountingTransport()
    few = collect(settings, ExportQuery(name="PO-0007"), counting)
    assert [po["name"] for po, _ in few] == ["PO-0007"]
    assert counting.paths["/purchase_order_line_items"] == 1


def test_a_po_missing_from_the_bulk_lines_gets_its_own_request() -> None:
    """A PO created after the lines were read (forced with a fake: the sandbox is too fast)."""

    def po(i: int) -> dict[str, Any]:
        return {"id": i, "name": f"PO-{i}", "status": "open"}

    def line(i: int) -> dict[str, Any]:
        return {"id": 1000 + i, "purchase_order": {"id": i}, "line_item_number": 1,
                "product": {"sku": f"S{i}"}, "units": i}  # fmt: skip

    class Api:
        asked: list[int] = []  # noqa: RUF012

        async def purchase_order_page(self, _f: Any, number: int, *, per: int) -> Page:
            items = [po(i) for i in range((number - 1) * per + 1, min(number * per, 300) + 1)]
            return Page(items, 300, number, None if number * per >= 300 else "next")

        async def purchase_order_line_item_page(self, _f: Any, number: int, *, per: int) -> Page:
            ids = [i for i in range((number - 1) * per + 1, number * per + 1) if i <= 299]
            return Page([line(i) for i in ids], 299, number, None)

        async def purchase_order_line_items(self, po_id: int) -> list[Any]:
            self.asked.append(po_id)
            return [PurchaseOrderLineItem.model_validate(line(po_id))]

    async def go() -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        caller = Caller(Pacer(10_000.0), RetryPolicy())
        return [pair async for pair in purchase_orders_with_lines(
            Api(), caller, ExportQuery(), concurrency=4)]  # type: ignore[arg-type]  # fmt: skip

    pairs = asyncio.run(go())
    assert len(pairs) == 300 and Api.asked == [300]
    assert pairs[-1][1][0]["product"]["sku"] == "S300"
    assert pairs[5][1][0]["units"] == 6


# ---------------------------------------------------------------- the writing process


def sheet_values(path: Path) -> dict[str, list[list[Any]]]:
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


def test_a_second_writing_process_writes_the_same_file(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_pos(sandbox, [po_body(f"PO-{i:04d}", metadata={"dept": [f"d{i}"]}) for i in range(120)])
    post_pos(sandbox, [po_body("PO-FORMULA", memo="=1+1")])
    settings = settings_for(sandbox, rate=5000.0)
    results = {}
    for mode, threshold in (("inline", 10**9), ("process", 1)):
        monkeypatch.setattr(export_module, "WRITER_PROCESS_MIN_POS", threshold)
        for suffix in ("xlsx", "csv"):
            out = tmp_path / f"{mode}.{suffix}"
            results[mode, suffix] = run_export(settings, out, ExportQuery())
    assert results["process", "xlsx"] == dataclasses.replace(
        results["inline", "xlsx"], path=tmp_path / "process.xlsx"
    )
    assert (results["process", "xlsx"].pos, results["process", "xlsx"].rows) == (121, 121)
    assert (tmp_path / "process.csv").read_bytes() == (tmp_path / "inline.csv").read_bytes()
    inline = sheet_values(tmp_path / "inline.xlsx")
    process = sheet_values(tmp_path / "process.xlsx")
    assert process["Purchase Orders"] == inline["Purchase Orders"]
    assert process["Purchase Orders"][0][-1] == "metadata.dept"  # a column grown there
    assert process["Summary"] == inline["Summary"]
    run_at = {"Run at (UTC)", "Run at (local)"}
    assert [r for r in process["Query"] if r[0] not in run_at] == [
        r for r in inline["Query"] if r[0] not in run_at
    ]


def test_an_export_given_up_leaves_no_file_from_the_writing_process(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_pos(sandbox, [po_body(f"PO-{i}") for i in range(150)])
    monkeypatch.setattr(export_module, "WRITER_PROCESS_MIN_POS", 1)
    out = tmp_path / "half.xlsx"

    def stop(progress: Any) -> None:
        if progress.pos == 120:  # after a batch went to the writer
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_export(settings_for(sandbox, rate=5000.0), out, ExportQuery(), on_progress=stop)
    assert list(tmp_path.glob("*.xlsx")) == [] and list(tmp_path.glob(".*")) == []


def test_a_failure_in_the_writing_process_is_raised_here(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    post_pos(sandbox, [po_body(f"PO-{i}") for i in range(3)])
    monkeypatch.setattr(export_module, "WRITER_PROCESS_MIN_POS", 1)
    with pytest.raises(FileNotFoundError):
        run_export(settings_for(sandbox, rate=5000.0), tmp_path / "gone" / "x.xlsx", ExportQuery())
