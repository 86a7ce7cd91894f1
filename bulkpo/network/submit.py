"""Network rows sent exactly once by ref: entities first, then the locations they own.

The account's entities and locations are read once (paged, through the run's paced
caller) before anything is created: a ref the account holds is never created again,
which is what makes a re-run, with or without its journal, create nothing twice. It is
``unchanged`` when it holds what the row gives; otherwise ``--on-existing`` decides, as
for POs (skip by default; update sends a PATCH of what differs). A lost answer is
settled by looking the ref up again (``f.ref``) before a resend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, cast

from bulkpo.engine.exactly_once import (
    ExactlyOnce,
    OnExisting,
    Outcome,
    UnitResult,
    as_dict,
    failure_message,
    run_units,
)
from bulkpo.engine.journal import Journal, UnitState
from bulkpo.engine.pacing import Caller
from bulkpo.errors import ApiError, RunStopped
from bulkpo.flexport.payloads import body_digest
from bulkpo.network.rules import (
    KIND_ENTITY,
    KIND_LOCATION,
    NetworkObject,
    NetworkValidation,
    validate_network_sheet,
)
from bulkpo.table import Table


class NetworkApi(Protocol):
    """The network calls of :class:`~bulkpo.flexport.client.FlexportClient`."""

    async def company_entities(self) -> Sequence[Any]: ...

    async def locations(self) -> Sequence[Any]: ...

    async def create_company_entity(self, body: Mapping[str, Any]) -> Any: ...

    async def create_location(self, body: Mapping[str, Any]) -> Any: ...

    async def find_company_entity_by_ref(self, ref: str) -> Any | None: ...

    async def find_location_by_ref(self, ref: str) -> Any | None: ...

    async def update_company_entity(self, entity_id: str, body: Mapping[str, Any]) -> Any: ...

    async def update_location(self, location_id: str, body: Mapping[str, Any]) -> Any: ...


@dataclass
class AccountNetwork:
    """The account's entities and locations by ref (their ids as strings), kept current."""

    entities: dict[str, Any] = field(default_factory=dict)
    locations: dict[str, Any] = field(default_factory=dict)

    def of(self, kind: str) -> dict[str, Any]:
        return self.entities if kind == KIND_ENTITY else self.locations


async def read_account_network(api: NetworkApi, caller: Caller) -> AccountNetwork:
    """Every entity and location of the account, each list read once, page after page."""
    entities = await caller.call(api.company_entities)
    locations = await caller.call(api.locations)
    return AccountNetwork(
        {str(e.ref): e for e in entities if e.ref},
        {str(loc.ref): loc for loc in locations if loc.ref},
    )


@dataclass
class NetworkUnit:
    """One network row to send; its key is its ref (unique per kind in the journal)."""

    obj: NetworkObject
    body: dict[str, Any]

    @property
    def key(self) -> str:
        return self.obj.ref

    @property
    def rows(self) -> list[int]:
        return [self.obj.row]

    @property
    def digest(self) -> str:
        return body_digest(self.body)


def plan_network(objects: Sequence[NetworkObject], kind: str) -> list[NetworkUnit]:
    """The units of one kind, in sheet order (a location's body waits for its owner's id)."""
    return [NetworkUnit(o, o.body()) for o in objects if o.kind == kind]


@dataclass
class _Writer(ExactlyOnce[NetworkUnit]):
    """Creates one entity or location unless its ref exists; updates one that does only
    under ``--on-existing update``."""

    account: AccountNetwork = field(default_factory=AccountNetwork)
    _looked: set[str] = field(default_factory=set)

    @property
    def network(self) -> NetworkApi:
        return cast(NetworkApi, self.api)

    async def find(self, unit: NetworkUnit) -> Any | None:
        known = self.account.of(self.kind)
        if unit.key not in self._looked:
            # The first look is the list read at the start of this run; a later one
            # (after a lost answer) must ask again.
            self._looked.add(unit.key)
            return known.get(unit.key)
        found = await self._find_live(unit.key)
        if found is not None:
            known[unit.key] = found
        return found

    async def fetch(self, unit: NetworkUnit, flexport_id: str) -> Any | None:
        return None  # an id is not checked: the ref is the key, looked up next

    async def _find_live(self, ref: str) -> Any | None:
        raise NotImplementedError

    async def existing(self, unit: NetworkUnit, found: Any, *, adopted: bool) -> UnitResult:
        """The ref exists: compare what the row gives, then follow ``on_existing``."""
        self.account.of(self.kind)[unit.key] = found
        held = as_dict(found)
        object_id = held.get("id")
        changes = unit.obj.changes(held)
        if not changes:
            return await super().existing(unit, found, adopted=adopted)
        fields = ", ".join(changes)
        what = "entity" if self.kind == KIND_ENTITY else "location"
        if self.on_existing is OnExisting.SKIP:
            return self.done(unit, Outcome.SKIPPED, object_id,
                             f"exists in your network with other values ({fields}); "
                             "use --on-existing update to update it")
        if self.on_existing is OnExisting.FAIL:
            return self.refused(unit, object_id, f"the {what} {unit.key} exists in your "
                                f"network already, with other values ({fields}) "
                                "(--on-existing fail)", "exists")
        if held.get("editable") is False:
            return self.refused(unit, object_id, f"not updated: Flexport marks the {what} "
                                f"{unit.key} as not editable (it differs in {fields})",
                                "not_editable")
        # A PATCH of the same values is idempotent: resending it after a lost answer is harmless.
        self.journal.mark(self.kind, unit.key, UnitState.SENT, attempt=True)
        answer = await self.caller.call(lambda: self.patch(str(object_id), changes))
        self.account.of(self.kind)[unit.key] = answer
        return self.done(unit, Outcome.UPDATED, object_id, f"updated: {fields}")

    async def patch(self, object_id: str, body: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    async def created(self, unit: NetworkUnit, data: dict[str, Any]) -> UnitResult:
        self.account.of(self.kind)[unit.key] = data
        return await super().created(unit, data)


@dataclass
class EntityWriter(_Writer):
    kind: ClassVar[str] = KIND_ENTITY

    async def _find_live(self, ref: str) -> Any | None:
        return await self.network.find_company_entity_by_ref(ref)

    async def post(self, unit: NetworkUnit) -> Any:
        return await self.network.create_company_entity(unit.body)

    async def patch(self, object_id: str, body: Mapping[str, Any]) -> Any:
        return await self.network.update_company_entity(object_id, body)


@dataclass
class LocationWriter(_Writer):
    kind: ClassVar[str] = KIND_LOCATION

    async def _find_live(self, ref: str) -> Any | None:
        return await self.network.find_location_by_ref(ref)

    async def post(self, unit: NetworkUnit) -> Any:
        return await self.network.create_location(unit.body)

    async def patch(self, object_id: str, body: Mapping[str, Any]) -> Any:
        return await self.network.update_location(object_id, body)

    async def submit(self, unit: NetworkUnit) -> UnitResult:
        owner_ref = unit.obj.owner_ref or ""
        owner = self.account.entities.get(owner_ref)
        owner_id = as_dict(owner).get("id") if owner is not None else None
        if owner_id is None and unit.key not in self.account.locations:
            return self.refused(
                unit, None, f"not sent: its owner entity {owner_ref} is not in your network "
                "(its row failed or is invalid)", "unknown_owner",
            )
        unit.body = unit.obj.body(None if owner_id is None else str(owner_id))
        return await super().submit(unit)


async def import_network(
    table: Table,
    validation: NetworkValidation,
    *,
    api: Any,
    caller: Caller,
    journal: Journal,
    run_id: int,
    resume: bool,
    concurrency: int,
    stats: dict[str, int],
    on_result: Callable[[UnitResult], None],
    on_existing: OnExisting = OnExisting.SKIP,
) -> tuple[NetworkValidation, RunStopped | None]:
    """Read the account's network, check the sheet again knowing it (a location's owner
    must be in the sheet or the account), then send the entities, then the locations,
    each exactly once; results via ``on_result``."""
    try:
        account = await read_account_network(api, caller)
    except RunStopped as exc:
        return validation, exc
    except ApiError as exc:
        # Without the account's refs nothing can be sent exactly once: each row fails.
        message = f"not sent: the network could not be read ({failure_message(exc)})"
        for obj in validation.objects:
            on_result(UnitResult(obj.kind, obj.ref, [obj.row], Outcome.FAILED, None, message,
                                 exc.code or ""))
        return validation, None
    validation = validate_network_sheet(table, known_entities=set(account.entities))
    return validation, await submit_network(
        validation.objects, api=api, caller=caller, journal=journal, run_id=run_id,
        resume=resume, concurrency=concurrency, stats=stats, on_result=on_result,
        account=account, on_existing=on_existing,
    )


async def submit_network(
    objects: Sequence[NetworkObject],
    *,
    api: Any,
    caller: Caller,
    journal: Journal,
    run_id: int,
    resume: bool,
    concurrency: int,
    stats: dict[str, int],
    on_result: Callable[[UnitResult], None],
    account: AccountNetwork,
    on_existing: OnExisting = OnExisting.SKIP,
) -> RunStopped | None:
    """Send the entities, then the locations, each exactly once; results via ``on_result``.
    A ref the account holds with other values follows ``on_existing`` (as a PO does)."""
    for kind, writer_type in ((KIND_ENTITY, EntityWriter), (KIND_LOCATION, LocationWriter)):
        units = plan_network(objects, kind)
        journal.register(run_id, kind, ((u.key, u.digest, u.rows) for u in units))
        writer = writer_type(api, caller, journal, run_id, on_existing=on_existing,
                             resume=resume, stats=stats, account=account)
        stopped = await run_units(units, writer.submit, concurrency=concurrency,
                                  on_result=on_result)
        if stopped is not None:
            return stopped
    return None
