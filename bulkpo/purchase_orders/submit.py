"""Purchase orders through the engine: one PO is one unit, found by its name (the PO number)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from bulkpo.domain import PurchaseOrder
from bulkpo.engine.exactly_once import ExactlyOnce, OnExisting, Outcome, UnitResult, as_dict
from bulkpo.engine.journal import UnitRecord, UnitState
from bulkpo.flexport.payloads import (
    body_digest,
    purchase_order_body,
    purchase_order_changes,
    purchase_order_from_read,
    purchase_order_revision,
)


@dataclass
class PurchaseOrderUnit:
    po: PurchaseOrder
    body: dict[str, Any]
    digest: str

    @property
    def key(self) -> str:
        return self.po.name

    @property
    def rows(self) -> list[int]:
        return self.po.rows


def plan_purchase_orders(pos: Sequence[PurchaseOrder]) -> list[PurchaseOrderUnit]:
    units = []
    for po in pos:
        body = purchase_order_body(po)
        units.append(PurchaseOrderUnit(po, body, body_digest(body)))
    return units


KIND_PO = "purchase_order"


@dataclass
class PurchaseOrderSubmitter(ExactlyOnce[PurchaseOrderUnit]):
    """Sends one PO exactly once, following the --on-existing policy."""

    kind: ClassVar[str] = KIND_PO

    async def find(self, unit: PurchaseOrderUnit) -> Any | None:
        return await self.api.find_purchase_order_by_name(unit.key)

    async def fetch(self, unit: PurchaseOrderUnit, flexport_id: str) -> Any | None:
        return await self.api.get_purchase_order(int(flexport_id))

    async def post(self, unit: PurchaseOrderUnit) -> Any:
        return await self.api.create_purchase_order(unit.body)

    def settled(self, record: UnitRecord) -> bool:
        return record.finished

    async def existing(
        self, unit: PurchaseOrderUnit, found: Any, *, adopted: bool
    ) -> UnitResult:
        """Flexport holds a PO of this name: compare, then follow the policy."""
        current_po = as_dict(found)
        po_id = int(current_po["id"])
        lines = await self.caller.call(lambda: self.api.purchase_order_line_items(po_id))
        current = purchase_order_from_read(current_po, [as_dict(line) for line in lines])
        changes = purchase_order_changes(unit.body, current)
        if not changes:
            outcome = Outcome.CREATED if adopted else Outcome.UNCHANGED
            return self.done(unit, outcome, po_id)
        fields = ", ".join(sorted(changes))
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
        await self.caller.call(lambda: self.api.update_purchase_order(po_id, revision))
        return self.done(unit, Outcome.UPDATED, po_id, f"updated: {fields}")
