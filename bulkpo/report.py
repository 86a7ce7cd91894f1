"""Per-row results: what happened to every input row, and the files that say so.

Pure data here: :class:`RowResult` per row, :class:`SheetResult` per sheet and
:class:`ImportResult` per file (the one result of validating, dry-running or
importing); the workbook forms are written by :mod:`bulkpo.sheets.report_writer`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkpo.columns import Kind
from bulkpo.errors import ApiError
from bulkpo.issues import Issue
from bulkpo.table import Table
from bulkpo.validation import ValidationResult

STATUSES = ("created", "updated", "unchanged", "skipped", "invalid", "failed")
"""Every data row ends with exactly one of these."""

VALIDATION_STATUSES = ("valid", "invalid")
"""What ``bulkpo validate`` says of each row (nothing is sent)."""

GOOD_STATUSES = frozenset({"created", "updated", "unchanged", "skipped"})


@dataclass(slots=True)  # one per input row: a million in a large file
class RowResult:
    """The final status of one data row (its 1-based sheet row number)."""

    row: int
    status: str
    flexport_id: str | None = None
    message: str = ""
    # A tuple unless the row has issues: a million valid rows share one empty tuple.
    issues: Sequence[Issue] = ()
    key: str = ""  # the PO number / booking name the row belongs to

    @property
    def went_through(self) -> bool:
        return self.status in GOOD_STATUSES


@dataclass
class Summary:
    counts: dict[str, int]
    total: int

    @classmethod
    def of(cls, results: Iterable[RowResult]) -> Summary:
        """Counts of every status of the results' family, zeros included."""
        counts = Counter(result.status for result in results)
        family = next(
            (f for f in (STATUSES, VALIDATION_STATUSES) if set(counts) <= set(f)), tuple(counts)
        )
        return cls({status: counts.get(status, 0) for status in family}, sum(counts.values()))

    @property
    def all_went_through(self) -> bool:
        return self.counts.get("invalid", 0) == 0 and self.counts.get("failed", 0) == 0

    def line(self) -> str:
        parts = [f"{n} {status}" for status, n in self.counts.items() if n]
        return f"{self.total} rows: " + (", ".join(parts) if parts else "nothing to do")


@dataclass
class SheetResult:
    """One sheet of an import or a validation: a result for each of its data rows."""

    kind: Kind
    table: Table
    results: list[RowResult]
    validation: ValidationResult | None = None

    @property
    def summary(self) -> Summary:
        return Summary.of(self.results)

    @property
    def mapping(self) -> dict[str, object]:
        """The header row used and each column's field (``--format json``, front ends)."""
        if self.validation is None:
            return {"sheet": self.table.sheet, "header_row": self.table.header_row}
        return self.validation.header_map.report(self.table)

    @property
    def issues(self) -> list[Issue]:
        """Every problem found in the sheet, errors and warnings, in sheet order."""
        return list(self.validation.issues) if self.validation is not None else []


@dataclass
class ImportStats:
    """What a run cost: requests, retries, 429 answers, time, and notices for the user."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    elapsed: float = 0.0
    final_rate: float = 0.0
    events: dict[str, int] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    @property
    def achieved_rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def line(self) -> str:
        """The run's cost in one line, as the CLI and the page print it."""
        requests = "request" if self.requests == 1 else "requests"
        retries = "retry" if self.retries == 1 else "retries"
        return (f"{self.requests:,} {requests} in {self.elapsed:.1f}s "
                f"({self.achieved_rate:.1f}/s), {self.retries:,} {retries}, "
                f"{self.throttled:,} throttled")


@dataclass
class ImportResult:
    """What validating or importing a file did: one :class:`SheetResult` per sheet kind.

    ``stats`` and ``journal`` are None when nothing was sent (a validation or a
    dry run); a dry run lists the exact request bodies in ``requests``; ``stopped``
    is the error that stopped a run (an auth failure, the API out of reach).
    """

    path: Path
    sheets: list[SheetResult]
    stats: ImportStats | None = None
    journal: Path | None = None
    stopped: ApiError | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def sheet(self, kind: Kind) -> SheetResult | None:
        return next((s for s in self.sheets if s.kind is kind), None)

    @property
    def purchase_orders(self) -> SheetResult | None:
        return self.sheet(Kind.PURCHASE_ORDERS)

    @property
    def bookings(self) -> SheetResult | None:
        return self.sheet(Kind.BOOKINGS)

    @property
    def parts(self) -> list[tuple[Kind, SheetResult]]:
        return [(sheet.kind, sheet) for sheet in self.sheets]

    @property
    def results(self) -> list[RowResult]:
        """Every data row's result, sheet after sheet."""
        return [row for sheet in self.sheets for row in sheet.results]

    @property
    def summary(self) -> Summary:
        return Summary.of(self.results)

    @property
    def issues(self) -> list[Issue]:
        return [issue for sheet in self.sheets for issue in sheet.issues]

    @property
    def all_went_through(self) -> bool:
        return self.stopped is None and all(s.summary.all_went_through for s in self.sheets)
