"""Purchase orders through the engine: one PO is one unit, found by its name (the PO number)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from bulkpo.domain import PurchaseOrder
from bulkpo.engine.exactly_once import (
    ExactlyOnce,
    OnExisting,
    Outcome,
    Sighting,
    UnitResult,
    as_dict,
)
from bulkpo.engine.journal import UnitRecord, UnitState
from bulkpo.flexport.payloads import (
    body_digest,
    purchase_order_body,
    purchase_order_changes,
    purchase_order_from_read,
    purchase_order_revision,
)
from bulkpo.purchase_orders.snapshot import Snapshot, in_sync, stamp


@dataclass(slots=True)
class PurchaseOrderUnit:
    """One PO to send, with the digest of its body. The body itself is made again each
    time it is asked for, not kept: the bodies of a 250,000-PO migration, nested dicts
    and lists, took more memory than everything else the run holds (bench_migration.py)."""

    po: PurchaseOrder
    digest: str

    @property
    def body(self) -> dict[str, Any]:
        return purchase_order_body(self.po)

    @property
    def key(self) -> str:
        return self.po.name

    @property
    def rows(self) -> list[int]:
        return self.po.rows


def plan_purchase_orders(pos: Sequence[PurchaseOrder]) -> list[PurchaseOrderUnit]:
    return [PurchaseOrderUnit(po, body_digest(purchase_order_body(po))) for po in pos]


KIND_PO = "purchase_order"


@dataclass
class PurchaseOrderSubmitter(ExactlyOnce[PurchaseOrderUnit]):
    """Sends one PO exactly once, following the --on-existing policy.

    With a ``snapshot`` (:mod:`bulkpo.purchase_orders.snapshot`), what the list
    read found stands for the lookups and reads it covers.
    """

    kind: ClassVar[str] = KIND_PO
    snapshot: Snapshot | None = None

    async def find(self, unit: PurchaseOrderUnit) -> Any | None:
        return await self.api.find_purchase_order_by_name(unit.key)

    async def fetch(self, unit: PurchaseOrderUnit, flexport_id: str) -> Any | None:
        return await self.api.get_purchase_order(int(flexport_id))

    async def post(self, unit: PurchaseOrderUnit) -> Any:
        return await self.api.create_purchase_order(unit.body)

    def settled(self, record: UnitRecord) -> bool:
        return record.finished

    async def recall(
        self, unit: PurchaseOrderUnit, record: UnitRecord | None
    ) -> UnitResult | None:
        """The journal's PO as the snapshot shows it: unchanged without a request, or compared."""
        snapshot = self.snapshot
        if (
            snapshot is None or record is None or not record.flexport_id
            or record.state is UnitState.PENDING
        ):
            return None
        await snapshot.fresh()
        if not snapshot.usable:
            return None
        ours = [e for e in snapshot.entries(unit.key) if str(e.id) == record.flexport_id]
        if in_sync(record, unit.digest) and (
            # Listed as the journal last saw it, or not listed by a read of every
            # change since the watermark: Flexport still holds this body.
            (ours and ours[0].updated_at == record.seen_updated_at)
            or (not ours and not snapshot.covers_absence)
        ):
            self.count("unchanged_unread")
            return self.done(unit, Outcome.UNCHANGED, record.flexport_id)
        if ours:
            return await self.existing(unit, ours[0].data(), adopted=False)
        return None

    async def sighting(self, unit: PurchaseOrderUnit) -> Sighting | None:
        if self.snapshot is None:
            return None
        await self.snapshot.fresh()
        if not self.snapshot.usable:
            return None
        listed = self.snapshot.listed(unit.key)
        if listed:
            return Sighting(listed[0])  # the oldest, as a lookup by name finds it
        return Sighting(None) if self.snapshot.covers_absence else None

    async def created(self, unit: PurchaseOrderUnit, data: dict[str, Any]) -> UnitResult:
        result = await super().created(unit, data)
        self.journal.mark_seen(KIND_PO, unit.key, stamp(data.get("updated_at")), unit.digest)
        return result

    async def _lines(self, po_id: int) -> list[dict[str, Any]]:
        lines = await self.caller.call(lambda: self.api.purchase_order_line_items(po_id))
        return [as_dict(line) for line in lines]

    async def existing(
        self, unit: PurchaseOrderUnit, found: Any, *, adopted: bool
    ) -> UnitResult:
        """Flexport holds a PO of this name: compare, then follow the policy."""
        current_po = as_dict(found)
        po_id = int(current_po["id"])
        seen = stamp(current_po.get("updated_at"))
        listed = self.snapshot.lines_of(current_po) if self.snapshot is not None else None
        lines = listed if listed is not None else await self._lines(po_id)
        current = purchase_order_from_read(current_po, lines)
        changes = purchase_order_changes(unit.body, current)
        if changes and listed is not None:
            # Lines read as a list over many pages may miss a revision made
            # meanwhile: act only on this PO's own lines.
            current = purchase_order_from_read(current_po, await self._lines(po_id))
            changes = purchase_order_changes(unit.body, current)
        if not changes:
            outcome = Outcome.CREATED if adopted else Outcome.UNCHANGED
            result = self.done(unit, outcome, po_id)
            self.journal.mark_seen(KIND_PO, unit.key, seen, unit.digest)
            return result
        fields = ", ".join(sorted(changes))
        # Flexport holds other values: the next run compares again.
        self.journal.mark_seen(KIND_PO, unit.key, seen, "")
        if self.on_existing is OnExisting.SKIP:
            return self.done(
                unit,
                Outcome.SKIPPED,
                po_id,
                f"exists in Flexport with other values ({fields}); "
                "use --on-existing update to update it",
            )
        if self.on_existing is OnExisting.FAIL:
            self.journal.mark(
                KIND_PO,
                unit.key,
                UnitState.FAILED,
                outcome=Outcome.FAILED,
                flexport_id=po_id,
                message="exists in Flexport already",
                code="exists",
            )
            return UnitResult(
                KIND_PO,
                unit.key,
                unit.rows,
                Outcome.FAILED,
                str(po_id),
                f"a PO named {unit.key} exists in Flexport already (--on-existing fail)",
                "exists",
            )
        # A whole-PO revision is idempotent: resending it after a lost answer is harmless.
        revision = purchase_order_revision(unit.body, current)
        self.journal.mark(KIND_PO, unit.key, UnitState.SENT, attempt=True)
        answer = await self.caller.call(lambda: self.api.update_purchase_order(po_id, revision))
        result = self.done(unit, Outcome.UPDATED, po_id, f"updated: {fields}")
        self.journal.mark_seen(
            KIND_PO, unit.key, stamp(as_dict(answer).get("updated_at")), unit.digest
        )
        return result
