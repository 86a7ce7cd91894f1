"""The engine under exact fault sequences, seen as HTTP requests of a real FlexportClient.

The client talks through ``httpx.MockTransport`` to the sandbox app in process;
the handler answers the n-th ``POST /purchase_orders`` with the fault the test
queued (a 5xx, a 429 with Retry-After, a dropped connection after the write
committed, ...). End-to-end behaviour over loopback is in test_import.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkpo.config import load_settings
from bulkpo.domain import LineItem, Party, PurchaseOrder
from bulkpo.engine.api import FlexportApi
from bulkpo.engine.exactly_once import OnExisting, Outcome, run_units
from bulkpo.engine.journal import Journal, UnitState
from bulkpo.engine.pacing import Caller, Pacer, RetryPolicy
from bulkpo.flexport.client import FlexportClient
from bulkpo.purchase_orders.submit import KIND_PO, PurchaseOrderSubmitter, plan_purchase_orders
from bulkpo.sandbox import SandboxOptions
from bulkpo.sandbox.app import create_app
from bulkpo.sandbox.options import DEFAULT_SANDBOX_KEY

BASE_URL = "http://127.0.0.1:9"  # never dialled: the transport answers in process

Fault = Callable[["Wire", httpx.Request], Awaitable[httpx.Response]]


def answer(status: int, code: str, message: str, **headers: str) -> Fault:
    """A fault that answers with this error envelope; the sandbox never sees the request."""

    async def fault(wire: Wire, request: httpx.Request) -> httpx.Response:
        body = {"_object": "/api/response", "data": None,
                "error": {"_object": "/api/error", "status": status, "code": code,
                          "message": message}}
        return httpx.Response(status, json=body, headers=headers)

    return fault


async def commit_then_drop(wire: Wire, request: httpx.Request) -> httpx.Response:
    """The sandbox creates the PO, then the connection drops before the answer arrives."""
    await wire.forward(request)
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


async def other_writer_first(wire: Wire, request: httpx.Request) -> httpx.Response:
    """Someone else creates the same PO just before ours lands: the sandbox answers 409."""
    await wire.forward(wire.client_copy(request))
    return await wire.forward(request)


class Wire:
    """The sandbox app behind a MockTransport that records each request by what it does."""

    def __init__(self, tmp_path: Path, faults: list[Fault] | None = None) -> None:
        self.app = create_app(SandboxOptions(db_path=tmp_path / "sandbox.sqlite", seed=1))
        self.inner = httpx.ASGITransport(app=self.app)
        self.faults = list(faults or [])  # consumed one per POST /purchase_orders
        self.calls: list[str] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        call = _call_name(request)
        self.calls.append(call)
        if call == "create" and self.faults:
            return await self.faults.pop(0)(self, request)
        return await self.forward(request)

    async def forward(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def client_copy(self, request: httpx.Request) -> httpx.Request:
        return httpx.Request(request.method, request.url, headers=request.headers,
                             content=request.content)

    async def held(self) -> list[str]:
        """The names of the POs the sandbox holds, read past the recorder."""
        request = httpx.Request(
            "GET", f"{BASE_URL}/purchase_orders?per=100",
            headers={"Authorization": f"Bearer {DEFAULT_SANDBOX_KEY}"},
        )
        data = (await self.forward(request)).json()["data"]
        return sorted(po["name"] for po in data["data"])

    @asynccontextmanager
    async def client(self) -> AsyncIterator[FlexportClient]:
        settings = load_settings(env={}, base_url=BASE_URL, api_key=DEFAULT_SANDBOX_KEY)
        async with FlexportClient(settings, transport=httpx.MockTransport(self.handle)) as api:
            yield api

    def close(self) -> None:
        self.app.state.store.close()


def _call_name(request: httpx.Request) -> str:
    path = request.url.path
    if path == "/purchase_orders":
        return "find" if request.method == "GET" else "create"
    if path == "/purchase_order_line_items":
        return "lines"
    if path.startswith("/purchase_orders/"):
        if request.method == "GET":
            return "get"
        return f"{request.method} revise:{','.join(sorted(json.loads(request.content)))}"
    return f"{request.method} {path}"


@pytest.fixture
def wire_for(tmp_path: Path) -> Any:
    made: list[Wire] = []

    def make(faults: list[Fault] | None = None) -> Wire:
        made.append(Wire(tmp_path, faults))
        return made[-1]

    yield make
    for wire in made:
        wire.close()


def make_po(name: str, units: int = 10, memo: str | None = None) -> PurchaseOrder:
    return PurchaseOrder(
        name=name,
        lines=[LineItem(row=2, line_number=1, sku="SKU-1", quantity=units)],
        seller=Party(name="Shenzhen Lights"),
        memo=memo,
    )


def submitter(
    api: FlexportApi, tmp_path: Path, policy: OnExisting = OnExisting.SKIP, retries: int = 3
) -> tuple[PurchaseOrderSubmitter, Journal]:
    journal = Journal(tmp_path / "journal.sqlite")
    run = journal.start_run("x.xlsx", "d")
    caller = Caller(Pacer(1000.0), RetryPolicy(max_retries=retries, backoff=0.001))
    return PurchaseOrderSubmitter(api, caller, journal, run, on_existing=policy), journal


def register(journal: Journal, units: list[Any]) -> None:
    journal.register(1, KIND_PO, [(u.key, u.digest, u.po.rows) for u in units])


async def test_lost_answer_is_reconciled_not_resent(wire_for: Any, tmp_path: Path) -> None:
    wire = wire_for([commit_then_drop])
    async with wire.client() as api:
        sub, journal = submitter(api, tmp_path)
        [unit] = plan_purchase_orders([make_po("PO-1")])
        register(journal, [unit])
        result = await sub.submit(unit)
    assert result.outcome is Outcome.CREATED
    # find before the first create (nothing held that name), then the lost answer's lookup
    assert wire.calls == ["find", "create", "find", "lines"]
    assert await wire.held() == ["PO-1"]
    record = journal.get(KIND_PO, "PO-1")
    assert record is not None and record.state is UnitState.DONE


async def test_read_error_after_commit_is_reconciled_too(wire_for: Any, tmp_path: Path) -> None:
    async def commit_then_read_error(wire: Wire, request: httpx.Request) -> httpx.Response:
        await wire.forward(request)
        raise httpx.ReadError("Connection reset by peer")

    wire = wire_for([commit_then_read_error])
    async with wire.client() as api:
        sub, journal = submitter(api, tmp_path)
        [unit] = plan_purchase_orders([make_po("PO-1")])
        register(journal, [unit])
        result = await sub.submit(unit)
    assert result.outcome is Outcome.CREATED
    assert wire.calls == ["find", "create", "find", "lines"]
    assert sub.stats == {"lookups": 2, "adopted": 1}


async def test_5xx_without_effect_is_resent_after_lookup(wire_for: Any, tmp_path: Path) -> None:
    wire = wire_for([answer(503, "server_error", "boom")])
    async with wire.client() as api:
        sub, journal = submitter(api, tmp_path)
        [unit] = plan_purchase_orders([make_po("PO-1")])
        register(journal, [unit])
        result = await sub.submit(unit)
    assert result.outcome is Outcome.CREATED
    assert wire.calls == ["find", "create", "find", "create"]
    assert await wire.held() == ["PO-1"]


async def test_gives_up_after_bounded_retries_with_last_reason(
    wire_for: Any, tmp_path: Path
) -> None:
    wire = wire_for([answer(502, "server_error", "still down")] * 10)
    async with wire.client() as api:
        sub, journal = submitter(api, tmp_path, retries=2)
        [unit] = plan_purchase_orders([make_po("PO-1")])
        register(journal, [unit])
        result = await sub.submit(unit)
    assert result.outcome is Outcome.FAILED
    assert "still down" in result.message
    assert wire.calls.count("create") == 3
    record = journal.get(KIND_PO, "PO-1")
    assert record is not None and record.state is UnitState.UNKNOWN


async def test_rate_limit_waits_and_does_not_fail(wire_for: Any, tmp_path: Path) -> None:
    wire = wire_for([answer(429, "rate_limited", "slow down", **{"Retry-After": "0.2"})] * 3)
    async with wire.client() as api:
        sub, journal = submitter(api, tmp_path, retries=0)
        [unit] = plan_purchase_orders([make_po("PO-1")])
        register(journal, [unit])
        started = time.monotonic()
        result = await sub.submit(unit)
    assert result.outcome is Outcome.CREATED
    assert time.monotonic() - started >= 0.55  # three Retry-After pauses honoured
    assert sub.caller.pacer.rate < 1000.0  # and the rate was lowered
    # A 429 did nothing: the PO is sent again without a lookup in between.
    assert wire.calls == ["find", "create", "create", "create", "create"]


async def test_validation_error_fails_at_once_with_hint(wire_for: Any, tmp_path: Path) -> None:
    wire = wire_for([answer(400, "invalid_port", "port XXXXX unknown")])
    async with wire.client() as api:
        sub, journal = submitter(api, tmp_path)
        [unit] = plan_purchase_orders([make_po("PO-1")])
        register(journal, [unit])
        result = await sub.submit(unit)
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("400 invalid_port: port XXXXX unknown (check the UN/LOCODE")
    assert wire.calls == ["find", "create"]


async def test_conflict_on_create_takes_the_other_writers_po_as_existing(
    wire_for: Any, tmp_path: Path
) -> None:
    wire = wire_for([other_writer_first])
    async with wire.client() as api:
        sub, journal = submitter(api, tmp_path)
        [unit] = plan_purchase_orders([make_po("PO-1")])
        register(journal, [unit])
        result = await sub.submit(unit)
    # Not ours: our POST was answered 409, so it is "unchanged", never "created".
    assert result.outcome is Outcome.UNCHANGED
    assert wire.calls == ["find", "create", "find", "lines"]
    assert await wire.held() == ["PO-1"]


@pytest.mark.parametrize(
    ("policy", "memo", "outcome", "revised"),
    [
        (OnExisting.SKIP, None, Outcome.UNCHANGED, False),
        (OnExisting.UPDATE, None, Outcome.UNCHANGED, False),
        (OnExisting.SKIP, "changed", Outcome.SKIPPED, False),
        (OnExisting.FAIL, "changed", Outcome.FAILED, False),
        (OnExisting.UPDATE, "changed", Outcome.UPDATED, True),
    ],
)
async def test_existing_po_follows_policy(
    wire_for: Any,
    tmp_path: Path,
    policy: OnExisting,
    memo: str | None,
    outcome: Outcome,
    revised: bool,
) -> None:
    wire = wire_for()
    async with wire.client() as api:
        [original] = plan_purchase_orders([make_po("PO-1")])
        await api.create_purchase_order(original.body)
        sub, journal = submitter(api, tmp_path, policy)
        [unit] = plan_purchase_orders([make_po("PO-1", memo=memo)])
        register(journal, [unit])
        result = await sub.submit(unit)
    assert result.outcome is outcome
    assert await wire.held() == ["PO-1"]
    # A revision is POST /purchase_orders/{id} with the whole PO, not just the memo.
    revisions = [c for c in wire.calls if "revise:" in c]
    assert revisions == ([f"POST revise:{','.join(sorted(unit.body))}"] if revised else [])
    assert not revised or {"name", "status", "seller", "line_items"} <= set(unit.body)


async def test_resume_after_kill_adopts_the_sent_po(wire_for: Any, tmp_path: Path) -> None:
    wire = wire_for()
    async with wire.client() as api:
        [unit] = plan_purchase_orders([make_po("PO-1")])
        await api.create_purchase_order(unit.body)  # sent before the kill, answer never seen
        sub, journal = submitter(api, tmp_path)
        register(journal, [unit])
        journal.mark(KIND_PO, "PO-1", UnitState.SENT)
        wire.calls.clear()
        result = await sub.submit(unit)
    assert result.outcome is Outcome.CREATED
    assert "create" not in wire.calls
    assert await wire.held() == ["PO-1"]


async def test_auth_failure_stops_the_run_and_leaves_rest_pending(
    wire_for: Any, tmp_path: Path
) -> None:
    wire = wire_for([answer(401, "bad_token", "Bad Token")])
    async with wire.client() as api:
        sub, journal = submitter(api, tmp_path)
        units = plan_purchase_orders([make_po(f"PO-{i}") for i in range(5)])
        register(journal, units)
        seen: list[Any] = []
        stopped = await run_units(units, sub.submit, concurrency=1, on_result=seen.append)
    assert stopped is not None and "FLEXPORT_API_KEY" in str(stopped.cause)
    assert seen == []
    assert journal.counts().get("pending") == 4
    assert await wire.held() == []
    # Nothing is sent after the refusal: the other units never reach the wire.
    assert wire.calls == ["find", "create"]


async def test_pacer_spaces_requests_without_bursts() -> None:
    pacer = Pacer(50.0)
    stamps = []
    for _ in range(12):
        await pacer.wait()
        stamps.append(time.monotonic())
    # 20 ms apart at 50/s; at most two leave together (the bucket of two)
    assert all(later - first >= 0.015 for first, later in zip(stamps, stamps[2:], strict=False))
    assert stamps[-1] - stamps[0] >= 0.19


async def test_pacer_recovers_gradually() -> None:
    clock = [0.0]
    pacer = Pacer(40.0, clock=lambda: clock[0])
    clock[0] = 1.0
    pacer.throttled(retry_after=1.0)
    assert pacer.rate == 20.0
    rates = []
    for _ in range(6):
        clock[0] += 1.0
        pacer.succeeded()
        rates.append(pacer.rate)
    # back to the target in steps of a tenth of it per second, not at once
    assert rates == [24.0, 28.0, 32.0, 36.0, 40.0, 40.0]


def test_run_units_reports_each_unit_once(wire_for: Any, tmp_path: Path) -> None:
    wire = wire_for()
    units = plan_purchase_orders([make_po(f"PO-{i}") for i in range(30)])
    seen: list[str] = []

    async def run() -> list[str]:
        async with wire.client() as api:
            sub, journal = submitter(api, tmp_path)
            register(journal, units)
            await run_units(
                units, sub.submit, concurrency=8, on_result=lambda r: seen.append(r.key)
            )
        return await wire.held()

    held = asyncio.run(run())
    assert sorted(seen) == sorted(u.key for u in units)
    assert held == sorted(u.key for u in units)
