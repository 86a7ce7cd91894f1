"""The engine under exact fault sequences (a fake API: the one place a fake is right).

End-to-end behaviour against the sandbox over real HTTP is in test_import.py;
here each test forces one precise sequence of answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bulkpo.domain import LineItem, Party, PurchaseOrder
from bulkpo.engine.exactly_once import OnExisting, Outcome, run_units
from bulkpo.engine.journal import Journal, UnitState
from bulkpo.engine.pacing import Caller, Pacer, RetryPolicy
from bulkpo.errors import (
    AuthError,
    ConflictError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationApiError,
)
from bulkpo.purchase_orders.submit import KIND_PO, PurchaseOrderSubmitter, plan_purchase_orders


class FakeApi:
    """Holds POs by name; ``faults`` is consumed one per create call."""

    def __init__(self, faults: list[Callable[[], Exception] | str] | None = None) -> None:
        self.pos: dict[str, dict[str, Any]] = {}
        self.lines: dict[int, list[dict[str, Any]]] = {}
        self.faults = list(faults or [])
        self.calls: list[str] = []
        self.next_id = 100

    def _store(self, body: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        po = {k: v for k, v in body.items() if k != "line_items"}
        po["id"] = self.next_id
        self.pos[body["name"]] = po
        self.lines[self.next_id] = [dict(line) for line in body["line_items"]]
        return po

    async def create_purchase_order(self, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("create")
        fault = self.faults.pop(0) if self.faults else None
        if fault == "commit-then-drop":
            self._store(body)
            raise TransportError("connection dropped before the answer arrived")
        if callable(fault):
            raise fault()
        if body["name"] in self.pos:
            raise ConflictError("name taken", status=409, code="duplicate_name")
        return self._store(body)

    async def find_purchase_order_by_name(self, name: str) -> dict[str, Any] | None:
        self.calls.append("find")
        return self.pos.get(name)

    async def get_purchase_order(self, po_id: int) -> dict[str, Any]:
        self.calls.append("get")
        return next(po for po in self.pos.values() if po["id"] == po_id)

    async def purchase_order_line_items(self, po_id: int) -> list[dict[str, Any]]:
        self.calls.append("lines")
        return self.lines[po_id]

    async def update_purchase_order(self, po_id: int, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(f"patch:{','.join(sorted(body))}")
        po = next(po for po in self.pos.values() if po["id"] == po_id)
        po.update({k: v for k, v in body.items() if k != "line_items"})
        if "line_items" in body:
            self.lines[po_id] = body["line_items"]
        return po


def make_po(name: str, units: int = 10, memo: str | None = None) -> PurchaseOrder:
    return PurchaseOrder(
        name=name,
        lines=[LineItem(row=2, line_number=1, sku="SKU-1", quantity=units)],
        seller=Party(name="Shenzhen Lights"),
        memo=memo,
    )


def submitter(
    api: FakeApi, tmp_path: Path, policy: OnExisting = OnExisting.SKIP, retries: int = 3
) -> tuple[PurchaseOrderSubmitter, Journal]:
    journal = Journal(tmp_path / "journal.sqlite")
    run = journal.start_run("x.xlsx", "d")
    caller = Caller(Pacer(1000.0), RetryPolicy(max_retries=retries, backoff=0.001))
    return PurchaseOrderSubmitter(api, caller, journal, run, on_existing=policy), journal


def register(journal: Journal, units: list[Any]) -> None:
    journal.register(1, KIND_PO, [(u.key, u.digest, u.po.rows) for u in units])


async def test_lost_answer_is_reconciled_not_resent(tmp_path: Path) -> None:
    api = FakeApi(faults=["commit-then-drop"])
    sub, journal = submitter(api, tmp_path)
    [unit] = plan_purchase_orders([make_po("PO-1")])
    register(journal, [unit])
    result = await sub.submit(unit)
    assert result.outcome is Outcome.CREATED
    # find before the first create (nothing held that name), then the lost answer's lookup
    assert api.calls == ["find", "create", "find", "lines"]
    assert len(api.pos) == 1
    record = journal.get(KIND_PO, "PO-1")
    assert record is not None and record.state is UnitState.DONE


async def test_5xx_without_effect_is_resent_after_lookup(tmp_path: Path) -> None:
    api = FakeApi(faults=[lambda: ServerError("boom", status=503)])
    sub, journal = submitter(api, tmp_path)
    [unit] = plan_purchase_orders([make_po("PO-1")])
    register(journal, [unit])
    result = await sub.submit(unit)
    assert result.outcome is Outcome.CREATED
    assert api.calls == ["find", "create", "find", "create"]


async def test_gives_up_after_bounded_retries_with_last_reason(tmp_path: Path) -> None:
    api = FakeApi(faults=[lambda: ServerError("still down", status=502)] * 10)
    sub, journal = submitter(api, tmp_path, retries=2)
    [unit] = plan_purchase_orders([make_po("PO-1")])
    register(journal, [unit])
    result = await sub.submit(unit)
    assert result.outcome is Outcome.FAILED
    assert "still down" in result.message
    assert api.calls.count("create") == 3
    record = journal.get(KIND_PO, "PO-1")
    assert record is not None and record.state is UnitState.UNKNOWN


async def test_rate_limit_waits_and_does_not_fail(tmp_path: Path) -> None:
    api = FakeApi(faults=[lambda: RateLimitError("slow down", retry_after=0.2)] * 3)
    sub, journal = submitter(api, tmp_path, retries=0)
    [unit] = plan_purchase_orders([make_po("PO-1")])
    register(journal, [unit])
    started = time.monotonic()
    result = await sub.submit(unit)
    assert result.outcome is Outcome.CREATED
    assert time.monotonic() - started >= 0.55  # three Retry-After pauses honoured
    assert sub.caller.pacer.rate < 1000.0  # and the rate was lowered


async def test_validation_error_fails_at_once_with_hint(tmp_path: Path) -> None:
    api = FakeApi(
        faults=[lambda: ValidationApiError("port XXXXX unknown", status=422, code="invalid_port")]
    )
    sub, journal = submitter(api, tmp_path)
    [unit] = plan_purchase_orders([make_po("PO-1")])
    register(journal, [unit])
    result = await sub.submit(unit)
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("422 invalid_port: port XXXXX unknown (check the UN/LOCODE")
    assert api.calls == ["find", "create"]


@pytest.mark.parametrize(
    ("policy", "memo", "outcome", "patch"),
    [
        (OnExisting.SKIP, None, Outcome.UNCHANGED, None),
        (OnExisting.UPDATE, None, Outcome.UNCHANGED, None),
        (OnExisting.SKIP, "changed", Outcome.SKIPPED, None),
        (OnExisting.FAIL, "changed", Outcome.FAILED, None),
        (OnExisting.UPDATE, "changed", Outcome.UPDATED, "patch:memo"),
    ],
)
async def test_existing_po_follows_policy(
    tmp_path: Path, policy: OnExisting, memo: str | None, outcome: Outcome, patch: str | None
) -> None:
    api = FakeApi()
    [original] = plan_purchase_orders([make_po("PO-1")])
    await api.create_purchase_order(original.body)
    sub, journal = submitter(api, tmp_path, policy)
    [unit] = plan_purchase_orders([make_po("PO-1", memo=memo)])
    register(journal, [unit])
    result = await sub.submit(unit)
    assert result.outcome is outcome
    assert len(api.pos) == 1
    patches = [c for c in api.calls if c.startswith("patch")]
    assert patches == ([patch] if patch else [])


async def test_resume_after_kill_adopts_the_sent_po(tmp_path: Path) -> None:
    api = FakeApi()
    [unit] = plan_purchase_orders([make_po("PO-1")])
    await api.create_purchase_order(unit.body)  # sent before the kill, answer never seen
    sub, journal = submitter(api, tmp_path)
    register(journal, [unit])
    journal.mark(KIND_PO, "PO-1", UnitState.SENT)
    api.calls.clear()
    result = await sub.submit(unit)
    assert result.outcome is Outcome.CREATED
    assert "create" not in api.calls
    assert len(api.pos) == 1


async def test_auth_failure_stops_the_run_and_leaves_rest_pending(tmp_path: Path) -> None:
    api = FakeApi(faults=[lambda: AuthError("Bad Token", status=401, code="bad_token")])
    sub, journal = submitter(api, tmp_path)
    units = plan_purchase_orders([make_po(f"PO-{i}") for i in range(5)])
    register(journal, units)
    seen: list[Any] = []
    stopped = await run_units(units, sub.submit, concurrency=1, on_result=seen.append)
    assert stopped is not None and "FLEXPORT_API_KEY" in str(stopped.cause)
    assert seen == []
    assert journal.counts().get("pending") == 4
    assert api.pos == {}


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


def test_run_units_reports_each_unit_once(tmp_path: Path) -> None:
    api = FakeApi()
    sub, journal = submitter(api, tmp_path)
    units = plan_purchase_orders([make_po(f"PO-{i}") for i in range(30)])
    register(journal, units)
    seen: list[str] = []
    asyncio.run(run_units(units, sub.submit, concurrency=8, on_result=lambda r: seen.append(r.key)))
    assert sorted(seen) == sorted(u.key for u in units)
    assert len(api.pos) == 30
