"""How close an import runs to the API's rate limit, and what it costs in memory.

Not a test: prints figures measured in one run.

Part 1 (pacing): a sandbox with 100 ms latency and a limit of 50 requests/s.
bulkpo imports N POs at --rate 50; the achieved rate is reported as a share of
the limit (target >= 0.95) with the number of rows lost to 429 (target 0).
The baseline, measured in the same run, is a one-at-a-time loop: each create
awaited before the next is sent.

Part 2 (memory): a 100,000-row import (25,000 POs of 4 lines) against a
sandbox with no latency and no limit, in a separate process so that only the
importer's memory is measured. RSS is sampled as POs complete: after loading
and validating, then every 10% of the submission.

    python benchmarks/bench_import.py [--pos 1500] [--memory-rows 100000] [--skip-memory]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sandbox_process import KEY, sandbox_process
from bulkpo.config import load_settings
from bulkpo.flexport.client import FlexportClient
from bulkpo.imports import ImportOptions, import_purchase_orders, load_purchase_orders
from bulkpo.purchase_orders.submit import plan_purchase_orders
from bulkpo.sandbox import SandboxOptions, running_sandbox
from tests.factories import po_rows, write_po_workbook

LIMIT = 50.0
LATENCY_MS = 100.0


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def one_at_a_time(settings: object, bodies: list[dict[str, object]]) -> float:
    """The baseline: each request awaited before the next one leaves."""
    started = time.monotonic()
    async with FlexportClient(settings) as api:  # type: ignore[arg-type]
        for body in bodies:
            await api.create_purchase_order(body)
    return len(bodies) / (time.monotonic() - started)


def pacing(tmp: Path, pos: int) -> None:
    path = write_po_workbook(tmp / "pacing.xlsx", po_rows(pos, lines=1))
    baseline_path = write_po_workbook(
        tmp / "baseline.xlsx", po_rows(100, lines=1, start=pos + 1)
    )
    options = SandboxOptions(
        db_path=tmp / "pacing.sqlite", latency_ms=LATENCY_MS, rate_limit=LIMIT, seed=1
    )
    with running_sandbox(options) as server:
        settings = load_settings(
            env={}, base_url=server.base_url, api_key=server.api_key, rate=LIMIT, concurrency=16
        )
        table, validation = load_purchase_orders(path)
        outcome = asyncio.run(
            import_purchase_orders(
                table, validation, settings, ImportOptions(journal=tmp / "pacing-journal.sqlite")
            )
        )
        _, base_validation = load_purchase_orders(baseline_path)
        bodies = [unit.body for unit in plan_purchase_orders(base_validation.purchase_orders)]
        baseline = asyncio.run(one_at_a_time(settings, bodies))
    stats = outcome.stats
    lost = outcome.summary.counts["failed"]
    print(f"pacing: {pos} POs against a {LIMIT:.0f}/s limit with {LATENCY_MS:.0f} ms latency")
    print(
        f"  bulkpo:   {stats.requests} requests in {stats.elapsed:.2f}s = "
        f"{stats.achieved_rate:.1f}/s = {stats.achieved_rate / LIMIT:.3f} of the limit; "
        f"{stats.throttled} answers 429, {lost} rows lost"
    )
    print(f"  baseline: one at a time = {baseline:.1f}/s = {baseline / LIMIT:.3f} of the limit")
    print(f"  ratio bulkpo / one-at-a-time: {stats.achieved_rate / baseline:.1f}x")


def memory(tmp: Path, rows: int) -> None:
    lines = 4
    path = write_po_workbook(tmp / "memory.xlsx", po_rows(rows // lines, lines=lines))
    with sandbox_process(tmp / "memory.sqlite") as base_url:
        start_rss = rss_mb()
        started = time.monotonic()
        table, validation = load_purchase_orders(path)
        loaded = time.monotonic() - started
        after_load = rss_mb()
        settings = load_settings(
            env={}, base_url=base_url, api_key=KEY, rate=5000.0, concurrency=16
        )
        total = len(validation.purchase_orders)
        samples: list[tuple[int, float]] = []
        done = 0

        def sample(_result: object) -> None:
            nonlocal done
            done += 1
            if done % max(1, total // 10) == 0:
                samples.append((done, rss_mb()))

        outcome = asyncio.run(
            import_purchase_orders(
                table, validation, settings,
                ImportOptions(journal=tmp / "memory-journal.sqlite"), on_result=sample,
            )
        )  # fmt: skip
    print(f"memory: {len(table.rows)} rows, {total} POs (sandbox in another process)")
    print(
        f"  RSS before {start_rss:.0f} MB; "
        f"after read+validate {after_load:.0f} MB ({loaded:.1f}s)"
    )
    print("  during submission: " + ", ".join(f"{n}: {mb:.0f} MB" for n, mb in samples))
    growth = samples[-1][1] - samples[0][1] if samples else 0.0
    print(
        f"  growth from the first to the last 10% of the submission: {growth:+.0f} MB; "
        f"{outcome.stats.requests} requests at {outcome.stats.achieved_rate:.0f}/s; "
        f"{outcome.summary.line()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pos", type=int, default=1500)
    parser.add_argument("--memory-rows", type=int, default=100_000)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pacing(Path(tmp), args.pos)
        if not args.skip_memory:
            memory(Path(tmp), args.memory_rows)


if __name__ == "__main__":
    main()
