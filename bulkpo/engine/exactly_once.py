"""Exactly-once writes: each unit (a PO, a booking, a link) is created at most once.

A write whose answer was lost may have taken effect, so before it is sent again
the object is looked up by its natural key and adopted if it exists. The journal
records each unit's state before and after every call (see
:mod:`bulkpo.engine.journal`); pacing and retries are :mod:`bulkpo.engine.pacing`'s.
What a unit is and how it is found, read, created and compared is the subclass's
(:mod:`bulkpo.purchase_orders.submit`, :mod:`bulkpo.bookings.submit`).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from bulkpo.engine.api import FlexportApi
from bulkpo.engine.journal import Journal, UnitRecord, UnitState
from bulkpo.engine.pacing import Caller
from bulkpo.errors import (
    ApiError,
    ConflictError,
    RateLimitError,
    RunStopped,
    ServerError,
    TransportError,
)

T = TypeVar("T")


class Outcome(enum.StrEnum):
    """The one final status every input row ends with."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    INVALID = "invalid"
    FAILED = "failed"

    @property
    def went_through(self) -> bool:
        return self not in (Outcome.INVALID, Outcome.FAILED)


class OnExisting(enum.StrEnum):
    """What to do with a PO whose name Flexport already holds."""

    SKIP = "skip"
    UPDATE = "update"
    FAIL = "fail"


@dataclass
class UnitResult:
    """The result of one unit (a PO, a booking), shared by all its rows."""

    kind: str
    key: str
    rows: list[int]
    outcome: Outcome
    flexport_id: str | None = None
    message: str = ""
    code: str = ""


# ---------------------------------------------------------------- hints

HINTS: Mapping[str, str] = {
    "duplicate_name": "a PO with this name exists already; use --on-existing update or skip",
    "invalid_port": "check the UN/LOCODE (5 letters, e.g. CNSHG for the seaport of Shanghai)",
    "missing_field": "fill the column named in the message",
    "unknown_entity_ref": "run `bulkpo refs` to list the company entity refs you can use",
    "unknown_location_ref": "run `bulkpo refs` to list the location refs you can use",
}


def failure_message(exc: ApiError) -> str:
    """The server's code and message, plus a hint for the known cases."""
    text = f"{exc.status or ''} {exc.code or ''}: {exc.api_message}".strip()
    hint = HINTS.get(exc.code or "")
    return f"{text} ({hint})" if hint else text


# ---------------------------------------------------------------- exactly once


class Unit(Protocol):
    """One object to send: its natural key, its body and the sheet rows it came from."""

    @property
    def key(self) -> str: ...

    @property
    def rows(self) -> list[int]: ...

    @property
    def body(self) -> dict[str, Any]: ...


U = TypeVar("U", bound=Unit)


@dataclass
class ExactlyOnce(Generic[U]):
    """Sends one unit exactly once: the journal and a natural-key lookup settle lost answers.

    Subclasses say how a unit is found, read, created and compared (the hooks
    below); the order of journal marks and lookups lives here only.
    """

    api: FlexportApi
    caller: Caller
    journal: Journal
    run_id: int
    on_existing: OnExisting = OnExisting.SKIP
    resume: bool = False
    stats: dict[str, int] = field(default_factory=dict)

    kind: ClassVar[str] = ""
    look_before_create: ClassVar[bool] = True
    """Look the unit up by its natural key before its first POST (False where the
    caller has just read what exists)."""

    # -- hooks --------------------------------------------------------------

    async def find(self, unit: U) -> Any | None:
        """The object Flexport holds under this unit's natural key, or None."""
        raise NotImplementedError

    async def fetch(self, unit: U, flexport_id: str) -> Any | None:
        """The object with the id a previous run recorded (404 or None: gone)."""
        return await self.find(unit)

    async def post(self, unit: U) -> Any:
        """Create the object (one attempt)."""
        raise NotImplementedError

    async def existing(self, unit: U, found: Any, *, adopted: bool) -> UnitResult:
        """Flexport holds the object; ``adopted`` when it is ours from a lost answer."""
        outcome = Outcome.CREATED if adopted else Outcome.UNCHANGED
        return self.done(unit, outcome, as_dict(found).get("id"))

    async def created(self, unit: U, data: dict[str, Any]) -> UnitResult:
        return self.done(unit, Outcome.CREATED, data.get("id"))

    def settled(self, record: UnitRecord) -> bool:
        """Whether a resumed run may take this record's result as final."""
        return record.finished

    async def recall(self, unit: U, record: UnitRecord | None) -> UnitResult | None:
        """A result settled by what the run read before sending; None: ask Flexport.

        Never called for a unit whose last write's answer was lost: that one is
        always looked up afresh.
        """
        return None

    async def sighting(self, unit: U) -> Sighting | None:
        """What a list read before sending found under the unit's key (a lookup that
        was already made); None when that read did not cover the key."""
        return None

    # -- the flow -----------------------------------------------------------

    async def submit(self, unit: U) -> UnitResult:
        record = self.journal.get(self.kind, unit.key)
        if record and self.resume and record.run_id == self.run_id and self.settled(record):
            return self.from_record(unit, record)
        self.journal.mark(
            self.kind, unit.key, record.state if record else UnitState.PENDING, run_id=self.run_id
        )
        try:
            if record and record.state in (UnitState.SENT, UnitState.UNKNOWN):
                found = await self._find(unit)
                if found is not None:
                    return await self.existing(unit, found, adopted=True)
                return await self._create(unit)
            recalled = await self.recall(unit, record)
            if recalled is not None:
                return recalled
            if record and record.flexport_id and record.state is not UnitState.PENDING:
                flexport_id = record.flexport_id
                try:
                    known = await self.caller.call(lambda: self.fetch(unit, flexport_id))
                except ApiError as exc:
                    if exc.status != 404:
                        raise
                else:
                    # An id names an object only on the API that gave it: another
                    # object under that id is not this unit's.
                    if known is not None and as_dict(known).get("name") == unit.key:
                        return await self.existing(unit, known, adopted=False)
            if self.look_before_create:
                # Whatever holds this name before our first POST is not ours: it is
                # existing, never "created", even if that POST's answer is lost later.
                seen = await self.sighting(unit)
                found = seen.found if seen is not None else await self._find(unit)
                if found is not None:
                    return await self.existing(unit, found, adopted=False)
            return await self._create(unit)
        except RunStopped:
            raise
        except ApiError as exc:
            return self.failed(unit, exc)

    async def _find(self, unit: U) -> Any | None:
        self.count("lookups")
        return await self.caller.call(lambda: self.find(unit))

    async def _create(self, unit: U) -> UnitResult:
        """POST, reconciling by natural key before any resend whose first answer was lost."""
        lost = False

        async def attempt() -> Any:
            nonlocal lost
            if lost:
                found = await self._find(unit)
                if found is not None:
                    self.count("adopted")
                    return _Adopted(found, adopted=True)
                self.count("resent")
            self.journal.mark(self.kind, unit.key, UnitState.SENT, attempt=True)
            try:
                return await self.post(unit)
            except ConflictError:
                found = await self._find(unit)
                if found is None:
                    raise
                return _Adopted(found, adopted=lost)
            except RateLimitError as exc:
                # A 429 did nothing: the unit is back to pending, not unknown.
                self.journal.mark(self.kind, unit.key, UnitState.PENDING, message=str(exc))
                raise
            except TransportError as exc:
                if exc.reached_server:  # the write may have been committed
                    lost = True
                    self.journal.mark(self.kind, unit.key, UnitState.UNKNOWN, message=str(exc))
                else:
                    self.journal.mark(self.kind, unit.key, UnitState.PENDING, message=str(exc))
                raise
            except ServerError as exc:
                # The write may have been committed before the failure.
                lost = True
                self.journal.mark(self.kind, unit.key, UnitState.UNKNOWN, message=str(exc))
                raise

        # The follow-up calls (compare, link) run outside the retried attempt, so a
        # failure there is not mistaken for a lost POST answer.
        answer = await self.caller.call(attempt)
        if isinstance(answer, _Adopted):
            return await self.existing(unit, answer.found, adopted=answer.adopted)
        return await self.created(unit, as_dict(answer))

    # -- results ------------------------------------------------------------

    def done(
        self, unit: U, outcome: Outcome, flexport_id: Any, message: str = ""
    ) -> UnitResult:
        self.journal.mark(
            self.kind,
            unit.key,
            UnitState.DONE,
            outcome=outcome,
            flexport_id=flexport_id,
            message=message,
        )
        shown = None if flexport_id is None else str(flexport_id)
        return UnitResult(self.kind, unit.key, unit.rows, outcome, shown, message)

    def refused(
        self, unit: U, flexport_id: Any, message: str, code: str
    ) -> UnitResult:
        """A final failure of a unit whose object may exist (``flexport_id``)."""
        self.journal.mark(
            self.kind,
            unit.key,
            UnitState.FAILED,
            outcome=Outcome.FAILED,
            flexport_id=flexport_id,
            message=message,
            code=code,
        )
        shown = None if flexport_id is None else str(flexport_id)
        return UnitResult(self.kind, unit.key, unit.rows, Outcome.FAILED, shown, message, code)

    def failed(self, unit: U, exc: ApiError) -> UnitResult:
        message = failure_message(exc)
        state = UnitState.UNKNOWN if exc.retryable else UnitState.FAILED
        self.journal.mark(
            self.kind, unit.key, state, outcome=Outcome.FAILED, message=message,
            code=exc.code or "",
        )
        return UnitResult(
            self.kind, unit.key, unit.rows, Outcome.FAILED, None, message, exc.code or ""
        )

    def from_record(self, unit: U, record: UnitRecord) -> UnitResult:
        outcome = Outcome(record.outcome) if record.outcome else Outcome.FAILED
        return UnitResult(
            self.kind,
            unit.key,
            unit.rows,
            outcome,
            record.flexport_id,
            record.message,
            record.code,
        )

    def count(self, name: str) -> None:
        self.stats[name] = self.stats.get(name, 0) + 1


@dataclass(frozen=True)
class Sighting:
    """What a list read saw under a key: the object, or None when the key is absent."""

    found: Any | None


@dataclass
class _Adopted:
    """An object found by its natural key instead of created by the POST."""

    found: Any
    adopted: bool


def as_dict(obj: Any) -> dict[str, Any]:
    """An object as the API sent it: a mapping, or a read model dumped by its wire names."""
    if isinstance(obj, Mapping):
        return dict(obj)
    dumped: dict[str, Any] = obj.model_dump(mode="json", by_alias=True)
    return dumped


# ---------------------------------------------------------------- the run


async def run_units(
    units: Sequence[T],
    submit: Callable[[T], Awaitable[UnitResult]],
    *,
    concurrency: int,
    on_result: Callable[[UnitResult], None],
) -> RunStopped | None:
    """Submit every unit with at most ``concurrency`` in flight.

    Returns the reason the run stopped early (auth failure), else None; units
    not started then stay pending in the journal.
    """
    queue: asyncio.Queue[T] = asyncio.Queue()
    for unit in units:
        queue.put_nowait(unit)
    stopped: list[RunStopped] = []

    async def worker() -> None:
        while not stopped:
            try:
                unit = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                result = await submit(unit)
            except RunStopped as exc:
                stopped.append(exc)
                return
            on_result(result)

    workers = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
    return stopped[0] if stopped else None
