"""Import a purchase-order file: read, validate, submit, and a result for every row.

The library behind ``bulkpo import``: :func:`load_purchase_orders` reads and
validates without any network, :func:`import_purchase_orders` submits the valid
POs through the engine and returns one :class:`~bulkpo.report.RowResult` per
data row of the input.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bulkpo.columns import COLUMN_SETS, Kind
from bulkpo.config import Settings
from bulkpo.errors import ApiError
from bulkpo.flexport.client import FlexportClient
from bulkpo.journal import Journal
from bulkpo.report import RowResult, Summary
from bulkpo.sheets.reader import read_table
from bulkpo.submit import (
    KIND_PO,
    Caller,
    OnExisting,
    Outcome,
    Pacer,
    PurchaseOrderSubmitter,
    RetryPolicy,
    UnitResult,
    plan_purchase_orders,
    run_units,
)
from bulkpo.table import Severity, Table
from bulkpo.validate import ValidationResult, validate_purchase_orders

DateOrder = Literal["dmy", "mdy"]


@dataclass
class ImportOptions:
    on_existing: OnExisting = OnExisting.SKIP
    rate: float | None = None
    concurrency: int | None = None
    journal: Path | None = None
    resume: bool = False


@dataclass
class ImportStats:
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    elapsed: float = 0.0
    final_rate: float = 0.0
    events: dict[str, int] = field(default_factory=dict)

    @property
    def achieved_rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class ImportOutcome:
    table: Table
    results: list[RowResult]
    summary: Summary
    stats: ImportStats
    journal: Path
    stopped: ApiError | None = None


def load_purchase_orders(
    path: Path, *, sheet: str | None = None, date_order: DateOrder | None = None
) -> tuple[Table, ValidationResult]:
    """Read and validate a PO file; no network."""
    columns = COLUMN_SETS[Kind.PURCHASE_ORDERS]
    table = read_table(
        path,
        sheet=sheet,
        score_headers=columns.score,
        preferred_sheets=(columns.sheet_name,),
    )
    return table, validate_purchase_orders(table, columns, date_order=date_order)


def dry_run_bodies(validation: ValidationResult) -> Iterator[dict[str, Any]]:
    """The exact request bodies an import would send, one per valid PO, with their rows."""
    for unit in plan_purchase_orders(validation.purchase_orders):
        yield {
            "method": "POST",
            "path": "/purchase_orders",
            "rows": unit.po.rows,
            "body": unit.body,
        }


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_journal_path(path: Path) -> Path:
    """``.bulkpo/journals/<name>-<hash of its full path>.sqlite`` in the working directory."""
    where = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    return Path(".bulkpo") / "journals" / f"{path.stem}-{where}.sqlite"


def row_results(
    table: Table, validation: ValidationResult, unit_results: dict[str, UnitResult]
) -> list[RowResult]:
    """Exactly one RowResult per data row: invalid, or its PO's result."""
    warnings: dict[int, list[Any]] = {}
    for issue in validation.issues:
        if issue.severity is Severity.WARNING and issue.ref is not None:
            warnings.setdefault(issue.ref.row, []).append(issue)
    by_row: dict[int, UnitResult] = {}
    for result in unit_results.values():
        for number in result.rows:
            by_row[number] = result
    results = []
    for row in table.rows:
        errors = validation.invalid_rows.get(row.number)
        if errors:
            results.append(
                RowResult(
                    row.number,
                    Outcome.INVALID.value,
                    message="; ".join(str(issue) for issue in errors),
                    issues=[*errors, *warnings.get(row.number, [])],
                )
            )
            continue
        unit = by_row.get(row.number)
        if unit is None:
            results.append(
                RowResult(
                    row.number,
                    Outcome.FAILED.value,
                    message="not sent: the run stopped before this row (resume with --resume)",
                    issues=warnings.get(row.number, []),
                )
            )
            continue
        results.append(
            RowResult(
                row.number,
                unit.outcome.value,
                unit.flexport_id,
                unit.message,
                warnings.get(row.number, []),
                key=unit.key,
            )
        )
    return results


async def import_purchase_orders(
    table: Table,
    validation: ValidationResult,
    settings: Settings,
    options: ImportOptions,
    *,
    on_result: Callable[[UnitResult], None] = lambda _r: None,
) -> ImportOutcome:
    """Submit the valid POs exactly once; returns a result for every data row."""
    journal_path = options.journal or default_journal_path(Path(table.path))
    units = plan_purchase_orders(validation.purchase_orders)
    stats = ImportStats()
    results: dict[str, UnitResult] = {}
    with Journal(journal_path) as journal:
        last = journal.last_run()
        if options.resume and last is not None:
            run_id = last[0]
        else:
            run_id = journal.start_run(
                table.path, file_digest(Path(table.path)), command="import purchase-orders"
            )
        journal.register(run_id, KIND_PO, ((u.key, u.digest, u.po.rows) for u in units))
        pacer = Pacer(options.rate or settings.rate)
        caller = Caller(pacer, RetryPolicy(max_retries=settings.max_retries))
        started = time.monotonic()

        def collect(result: UnitResult) -> None:
            results[result.key] = result
            on_result(result)

        async with FlexportClient(settings) as api:
            submitter = PurchaseOrderSubmitter(
                api,
                caller,
                journal,
                run_id,
                on_existing=options.on_existing,
                resume=options.resume,
                stats=stats.events,
            )
            stopped = await run_units(
                units,
                submitter.submit,
                concurrency=options.concurrency or settings.concurrency,
                on_result=collect,
            )
        stats.elapsed = time.monotonic() - started
        stats.requests = caller.requests
        stats.retries = caller.retries
        stats.throttled = pacer.throttle_count
        stats.final_rate = pacer.rate
        if stopped is None:
            journal.finish_run(run_id)
    rows = row_results(table, validation, results)
    return ImportOutcome(
        table,
        rows,
        Summary.of(rows),
        stats,
        journal_path,
        stopped.cause if stopped else None,
    )


def dump_jsonl(records: Iterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count
