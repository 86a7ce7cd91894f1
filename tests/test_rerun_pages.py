"""Re-runs read Flexport in list pages: no request per PO for an unchanged account, exactly once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkpo.engine.exactly_once import OnExisting, UnitResult
from bulkpo.imports import (
    ImportOptions,
    Workbook,
    import_purchase_orders,
    import_workbook,
    load_purchase_orders,
)
from bulkpo.purchase_orders import snapshot
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from tests.conftest import DUPLICATE_NAMES, listing, names_mode, settings_for
from tests.factories import po_rows, write_po_workbook
from tests.test_import import run_import

POS = 30


def requests_in(log: Path) -> list[dict[str, Any]]:
    """Every request the sandbox recorded (its log is then emptied for the next run)."""
    lines = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    log.write_text("")
    return [line for line in lines if line["path"] != "/oauth/token"]


def po_requests(log: Path) -> Counter[str]:
    """The requests of one run by kind: list pages, one-PO reads, lines, writes."""
    kinds: Counter[str] = Counter()
    for line in requests_in(log):
        path, query = line["path"], line["query"]
        if line["method"] == "POST":
            kinds["write"] += 1
        elif path == "/purchase_orders" and "f.name=" in query:
            kinds["lookup"] += 1
        elif path == "/purchase_orders":
            kinds["page"] += 1
        elif path.startswith("/purchase_orders/"):
            kinds["read"] += 1
        elif path == "/purchase_order_line_items" and "f.purchase_order.id" in query:
            kinds["lines"] += 1
        elif path == "/purchase_order_line_items":
            kinds["line_page"] += 1
        else:
            kinds[path] += 1
    return kinds


def write_elsewhere(server: SandboxServer, name: str, po_id: int | None = None) -> dict[str, Any]:
    """A PO someone else creates (or revises) in Flexport, outside bulkpo."""
    body = {
        "name": name, "status": "open", "buyer": {"name": "Acme Imports Inc", "ref": "acme-us"},
        "seller": {"name": "Somebody Else Ltd"}, "incoterm": "EXW",
        "line_items": [{"product": {"sku": "OTHER-1", "name": "Other"}, "units": 1}],
    }  # fmt: skip
    headers = {"Authorization": f"Bearer {server.api_key}", "Flexport-Version": "3"}
    route = "/purchase_orders" + ("" if po_id is None else f"/{po_id}")
    answer = httpx.post(server.base_url + route, json=body, headers=headers)
    data: dict[str, Any] = answer.raise_for_status().json()["data"]
    return data


@pytest.fixture
def recorded(tmp_path: Path) -> Any:
    log = tmp_path / "requests.jsonl"
    options = SandboxOptions(db_path=tmp_path / "s.sqlite", seed=2, record_path=log)
    with running_sandbox(options) as server:
        yield server, log


def test_rerun_of_an_unchanged_account_reads_one_page(
    tmp_path: Path, recorded: Any
) -> None:
    server, log = recorded
    settings = settings_for(server, rate=500.0, concurrency=4)
    path = write_po_workbook(tmp_path / "a.xlsx", po_rows(POS))
    first = run_import(path, settings)
    assert Counter(r.status for r in first.results) == {"created": 2 * POS}
    sent = po_requests(log)
    # A new account: one page says it holds nothing, so no PO is looked up by name.
    assert sent["lookup"] == 0 and sent["write"] == POS, sent

    again = run_import(path, settings)
    assert Counter(r.status for r in again.results) == {"unchanged": 2 * POS}
    sent = po_requests(log)
    assert sent["lookup"] == sent["read"] == sent["lines"] == sent["write"] == 0, sent
    assert sum(sent.values()) <= 2, sent

    # Nothing changed since: the next re-run asks only for what changed, once.
    third = run_import(path, settings)
    assert Counter(r.status for r in third.results) == {"unchanged": 2 * POS}
    assert sum(po_requests(log).values()) == 1


def test_rerun_without_journal_reads_pages_not_one_lookup_per_po(
    tmp_path: Path, recorded: Any
) -> None:
    server, log = recorded
    settings = settings_for(server, rate=500.0, concurrency=4)
    path = write_po_workbook(tmp_path / "a.xlsx", po_rows(POS))
    run_import(path, settings, journal=tmp_path / "machine-a.sqlite")
    requests_in(log)
    again = run_import(path, settings, journal=tmp_path / "machine-b.sqlite")
    assert Counter(r.status for r in again.results) == {"unchanged": 2 * POS}
    sent = po_requests(log)
    assert sent["lookup"] == sent["read"] == sent["lines"] == sent["write"] == 0, sent
    assert sent["page"] == 1 and sent["line_page"] == 1, sent


def test_the_old_path_is_one_lookup_per_po(tmp_path: Path, recorded: Any) -> None:
    server, log = recorded
    settings = settings_for(server, rate=500.0, concurrency=4)
    path = write_po_workbook(tmp_path / "a.xlsx", po_rows(5))
    run_import(path, settings)
    requests_in(log)
    again = run_import(path, settings, read_pages=False)
    assert Counter(r.status for r in again.results) == {"unchanged": 10}
    sent = po_requests(log)
    assert sent["read"] == 5 and sent["lines"] == 5 and sent["page"] == 0, sent


def test_a_po_changed_in_flexport_is_found_and_updated(
    tmp_path: Path, recorded: Any
) -> None:
    server, log = recorded
    settings = settings_for(server, rate=500.0, concurrency=4)
    path = write_po_workbook(tmp_path / "a.xlsx", po_rows(POS))
    run_import(path, settings)
    by_name = {po["name"]: po for po in listing(server, "/purchase_orders")}
    target = by_name["PO-00007"]
    # Someone revises one PO in Flexport between two runs.
    write_elsewhere(server, "PO-00007", target["id"])
    requests_in(log)

    skipped = run_import(path, settings)
    statuses = {r.key: r.status for r in skipped.results}
    assert statuses["PO-00007"] == "skipped"
    assert Counter(statuses.values()) == {"unchanged": POS - 1, "skipped": 1}
    assert "incoterm" in next(r.message for r in skipped.results if r.key == "PO-00007")
    sent = po_requests(log)
    assert sent["lookup"] == sent["read"] == sent["write"] == 0 and sent["lines"] <= 1, sent

    updated = run_import(path, settings, on_existing=OnExisting.UPDATE)
    statuses = {r.key: r.status for r in updated.results}
    assert Counter(statuses.values()) == {"unchanged": POS - 1, "updated": 1}, statuses
    assert statuses["PO-00007"] == "updated"
    assert po_requests(log)["write"] == 1
    held = {po["name"]: po for po in listing(server, "/purchase_orders")}
    assert held["PO-00007"]["incoterm"] == "FOB"


@pytest.mark.parametrize("mode", DUPLICATE_NAMES)
def test_a_po_created_elsewhere_between_two_runs_is_not_created_again(
    tmp_path: Path, mode: str
) -> None:
    rows = po_rows(POS)
    later = [row for row in rows if row["po_number"] == f"PO-{POS:05d}"]
    first_rows = [row for row in rows if row not in later]
    with running_sandbox(SandboxOptions(db_path=tmp_path / "s.sqlite", **names_mode(mode))
                         ) as server:
        settings = settings_for(server, rate=500.0, concurrency=4)
        path = write_po_workbook(tmp_path / "a.xlsx", first_rows)
        journal = tmp_path / "a.journal.sqlite"
        run_import(path, settings, journal=journal)
        # Between two runs someone creates the PO the next file adds.
        write_elsewhere(server, f"PO-{POS:05d}")
        path = write_po_workbook(tmp_path / "a.xlsx", rows)
        again = run_import(path, settings, journal=journal)
        names = Counter(po["name"] for po in listing(server, "/purchase_orders"))
    statuses = {r.key: r.status for r in again.results}
    assert statuses[f"PO-{POS:05d}"] == "skipped"  # it holds another seller and lines
    assert Counter(statuses.values()) == {"unchanged": POS - 1, "skipped": 1}
    assert set(names.values()) == {1} and len(names) == POS


@pytest.mark.parametrize("mode", DUPLICATE_NAMES)
def test_a_po_created_elsewhere_while_the_run_lasts_is_not_created_again(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A list read stands for lookups only so long: here, not at all after the first PO.
    monkeypatch.setattr(snapshot, "REFRESH_AFTER", 0.0)
    name = f"PO-{POS:05d}"
    # the list was read before the run sent anything
    outcome, names = import_meanwhile(tmp_path, "PO-00001", name, **names_mode(mode))
    statuses = {r.key: r.status for r in outcome.results}
    assert statuses[name] == "skipped"
    assert set(names.values()) == {1} and len(names) == POS


def import_meanwhile(
    tmp_path: Path, after: str, name: str, *, on_result: Any = None, **sandbox: Any
) -> tuple[Any, Counter[str]]:
    """Import POS POs; once ``after`` is done, someone else creates a PO named ``name``.
    Returns the outcome and how many POs of each name the account holds."""
    with running_sandbox(SandboxOptions(db_path=tmp_path / "s.sqlite", **sandbox)) as server:
        settings = settings_for(server, rate=500.0, concurrency=1)
        path = write_po_workbook(tmp_path / "a.xlsx", po_rows(POS))

        def meanwhile(result: UnitResult) -> None:
            if on_result is not None:
                on_result(result)
            if result.key == after:
                write_elsewhere(server, name)

        table, validation = load_purchase_orders(path)
        outcome = asyncio.run(import_purchase_orders(
            table, validation, settings, ImportOptions(journal=tmp_path / "j.sqlite"),
            on_result=meanwhile))
        names = Counter(po["name"] for po in listing(server, "/purchase_orders"))
    return outcome, names


def test_a_long_run_keeps_nothing_of_the_pos_it_is_done_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list read is brought up to date each minute of a long run, and each time it shows
    the POs the run created since: those are not kept (a 250,000-PO migration held them
    all), and the ones still to send are still seen."""
    monkeypatch.setattr(snapshot, "REFRESH_AFTER", 0.0)
    import bulkpo.imports

    made: list[snapshot.Snapshot] = []
    read = bulkpo.imports.read_snapshot

    async def keep(*args: Any, **kwargs: Any) -> snapshot.Snapshot | None:
        found = await read(*args, **kwargs)
        if found is not None:
            made.append(found)
        return found

    monkeypatch.setattr(bulkpo.imports, "read_snapshot", keep)
    sizes: list[int] = []
    outcome, names = import_meanwhile(
        tmp_path, "PO-00002", f"PO-{POS:05d}",
        on_result=lambda _result: sizes.append(len(made[0].named)))
    statuses = Counter(r.status for r in outcome.results)
    assert statuses == {"created": 2 * (POS - 1), "skipped": 2}  # 2 rows a PO
    assert set(names.values()) == {1} and len(names) == POS
    # Read back after each PO, the run's creates never piled up; the late PO was seen
    # until its unit took it (skipped), then let go too.
    assert max(sizes) <= 1 and made[0].named == {} and made[0].lines == {}
    assert made[0].reader is not None and made[0].reader.names == set()


class RefusingLists(httpx.AsyncBaseTransport):
    """The sandbox, except that a list of ``path`` without a name filter is refused (400)."""

    def __init__(self, path: str = "/purchase_orders",
                 message: str = "f.updated_at.gt: unsupported format") -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.path, self.message = path, message

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if request.method == "GET" and url.path == self.path and "f.name" not in url.params:
            error = {"_object": "/api/error", "status": 400, "code": "invalid_param",
                     "message": self.message}
            return httpx.Response(400, json={"_object": "/api/response", "data": None,
                                             "error": error})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_refused_list_read_falls_back_to_one_lookup_per_po(
    tmp_path: Path, recorded: Any
) -> None:
    server, log = recorded
    settings = settings_for(server, rate=500.0, concurrency=4)
    path = write_po_workbook(tmp_path / "a.xlsx", po_rows(5))
    journal = tmp_path / "j.sqlite"
    results = []
    for _ in range(2):
        table, validation = load_purchase_orders(path)
        workbook = Workbook(path, purchase_orders=(table, validation))
        results.append(asyncio.run(import_workbook(
            workbook, settings, ImportOptions(journal=journal), transport=RefusingLists())))
    first, again = results
    assert Counter(r.status for r in first.results) == {"created": 10}
    assert Counter(r.status for r in again.results) == {"unchanged": 10}
    assert first.stats.events["snapshot_failed"] == 1
    # Refused lists never reach the sandbox: the first run looked each PO up by name,
    # the second read each by the id the journal holds.
    sent = po_requests(log)
    assert (sent["lookup"], sent["read"], sent["page"], sent["write"]) == (5, 5, 0, 5), sent
    names = Counter(po["name"] for po in listing(server, "/purchase_orders"))
    assert len(names) == 5 and set(names.values()) == {1}


def test_a_few_pos_against_a_larger_account_are_looked_up_one_by_one(
    tmp_path: Path, recorded: Any
) -> None:
    server, log = recorded
    settings = settings_for(server, rate=1000.0, concurrency=8)
    run_import(write_po_workbook(tmp_path / "big.xlsx", po_rows(120, lines=1)), settings)
    requests_in(log)
    # 2 pages of the account's 120 POs cost no less than looking up 2 names.
    small = write_po_workbook(tmp_path / "small.xlsx", po_rows(2, lines=1, start=1000))
    outcome = run_import(small, settings)
    assert Counter(r.status for r in outcome.results) == {"created": 2}
    sent = po_requests(log)
    assert (sent["page"], sent["lookup"], sent["write"]) == (1, 2, 2), sent
    assert sum(sent.values()) == 5


def test_a_listed_po_reads_back_exactly_as_the_page_gave_it() -> None:
    """A list read keeps each PO as JSON bytes; what orjson cannot write as it was read (an
    integer past 64 bits, NaN: the standard decoder's share of a page) still comes back."""
    import math

    plain = {"id": 7, "name": "PO-7", "metadata": {"dept": ["toys"]}, "units": [1, 2.5, None]}
    assert snapshot.Listed(7, "", snapshot._json(plain)).data() == plain
    odd = snapshot.Listed(8, "", snapshot._json(
        {"id": 8, "name": "PO-8", "big": 2**70, "ratio": float("nan")})).data()
    assert odd["big"] == 2**70 and math.isnan(odd["ratio"]) and odd["name"] == "PO-8"
