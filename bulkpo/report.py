"""Per-row results: what happened to every input row, and the files that say so.

Pure data here (:class:`RowResult`, :class:`Summary`); the workbook forms are
written by :mod:`bulkpo.sheets.report_writer`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bulkpo.issues import Issue

STATUSES = ("created", "updated", "unchanged", "skipped", "invalid", "failed")
"""Every data row ends with exactly one of these."""

VALIDATION_STATUSES = ("valid", "invalid")
"""What ``bulkpo validate`` says of each row (nothing is sent)."""

GOOD_STATUSES = frozenset({"created", "updated", "unchanged", "skipped"})


@dataclass
class RowResult:
    """The final status of one data row (its 1-based sheet row number)."""

    row: int
    status: str
    flexport_id: str | None = None
    message: str = ""
    issues: list[Issue] = field(default_factory=list)
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
