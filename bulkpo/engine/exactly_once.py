"""The submission engine: paced, retried, reconciled, exactly-once API writes.

Pacing is a leaky bucket (aiolimiter) holding one request, so requests leave
evenly at the configured rate with no bursts, under a concurrency cap. A 429
halves the rate and pauses every worker for the server's ``Retry-After``; the
rate then climbs back in small steps (AIMD). 5xx answers, timeouts and dropped
connections are retried with jittered exponential backoff (tenacity).

A write whose answer was lost may have taken effect, so before it is sent again
the object is looked up by its natural key and adopted if it exists. The journal
records each unit's state before and after every call (see :mod:`bulkpo.journal`).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from bulkpo.domain import PurchaseOrder
from bulkpo.errors import (
    ApiError,
    ConflictError,
    RateLimitError,
    RunStopped,
    ServerError,
    TransportError,
)
from bulkpo.flexport.payloads import (
    body_digest,
    purchase_order_body,
    purchase_order_changes,
    purchase_order_from_read,
)
from bulkpo.journal import Journal, UnitRecord, UnitState

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


# ---------------------------------------------------------------- pacing


class Pacer:
    """Requests at ``rate`` per second, evenly spaced; AIMD on 429 answers.

    The bucket holds two requests: one would make every late wake-up of the
    event loop a permanent loss of rate; two absorbs that jitter while still
    never letting more than two leave at once.
    """

    BUCKET = 2

    def __init__(
        self,
        rate: float,
        *,
        min_rate: float = 0.2,
        recovery_step: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = rate
        self.rate = rate
        self.min_rate = min(min_rate, rate)
        self.recovery_step = recovery_step
        self._clock = clock
        self._limiter = AsyncLimiter(self.BUCKET, self.BUCKET / rate)
        self._paused_until = 0.0
        self._last_change = clock()
        self.throttle_count = 0

    async def wait(self) -> None:
        """Return when the next request may leave."""
        while (pause := self._paused_until - self._clock()) > 0:
            await asyncio.sleep(pause)
        await self._limiter.acquire()

    def throttled(self, retry_after: float | None) -> None:
        """The server said 429: slow down (multiplicative decrease) and pause."""
        self.throttle_count += 1
        now = self._clock()
        # Several in-flight requests see the same 429 storm: halve once per storm.
        if now - self._last_change > 1.0 / self.rate:
            self._set_rate(max(self.min_rate, self.rate / 2))
        if retry_after:
            self._paused_until = max(self._paused_until, now + retry_after)

    def succeeded(self) -> None:
        """A request went through: climb back towards the target, a step a second."""
        if self.rate >= self.target:
            return
        now = self._clock()
        if now - self._last_change >= 1.0:
            self._set_rate(min(self.target, self.rate + self.target * self.recovery_step))

    def _set_rate(self, rate: float) -> None:
        self.rate = rate
        self._last_change = self._clock()
        self._limiter = AsyncLimiter(self.BUCKET, self.BUCKET / rate)


# ---------------------------------------------------------------- retries


@dataclass
class RetryPolicy:
    """How hard to try: attempts for failures, a larger budget for 429 answers."""

    max_retries: int = 6
    max_throttled: int = 60
    backoff: float = 0.5
    max_backoff: float = 30.0


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.retryable


class Caller:
    """Makes paced, retried API calls and keeps the run's statistics."""

    def __init__(self, pacer: Pacer, policy: RetryPolicy) -> None:
        self.pacer = pacer
        self.policy = policy
        self.requests = 0
        self.retries = 0
        self.stopped: ApiError | None = None
        self._backoff = wait_random_exponential(multiplier=policy.backoff, max=policy.max_backoff)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitError):
            # The pacer already pauses everyone for Retry-After; this worker
            # only needs a short jitter so the pause ends without a stampede.
            return 0.05 if exc.retry_after else float(self._backoff(state))
        return float(self._backoff(state))

    async def once(self, call: Callable[[], Awaitable[T]]) -> T:
        """One paced request; feeds 429s and successes to the pacer.

        Once a request has stopped the run, the workers still waiting for their
        turn send nothing: their request would fail the same way.
        """
        await self.pacer.wait()
        if self.stopped is not None:
            raise RunStopped(self.stopped)
        self.requests += 1
        try:
            result = await call()
        except RateLimitError as exc:
            self.pacer.throttled(exc.retry_after)
            raise
        except ApiError as exc:
            if exc.stops_run:  # a wrong key, a request that cannot be sent
                self.stopped = exc
                raise RunStopped(exc) from exc
            raise
        self.pacer.succeeded()
        return result

    async def call(self, call: Callable[[], Awaitable[T]]) -> T:
        """A paced request, retried while the failure is retryable.

        Failures and 429 answers have separate budgets: a 429 storm slows the
        run down but does not fail rows.
        """
        failures = throttled = 0

        def stop(state: RetryCallState) -> bool:
            nonlocal failures, throttled
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimitError):
                throttled += 1
            else:
                failures += 1
            give_up = failures > self.policy.max_retries or throttled > self.policy.max_throttled
            if not give_up:
                self.retries += 1
            return give_up

        retrying = AsyncRetrying(
            stop=stop,
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self.once(call)
        except TransportError as exc:
            if not exc.reached_server:
                # Still no connection after every retry: the API is unreachable,
                # and every other unit would only wait out the same retries.
                raise RunStopped(exc) from exc
            raise
        raise AssertionError("unreachable: tenacity reraises the last error")


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

    body: dict[str, Any]


U = TypeVar("U", bound=Unit)


@dataclass
class ExactlyOnce(Generic[U]):
    """Sends one unit exactly once: the journal and a natural-key lookup settle lost answers.

    Subclasses say how a unit is found, read, created and compared (the hooks
    below); the order of journal marks and lookups lives here only.
    """

    api: Any  # FlexportClient or anything with the methods the hooks call
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
        return self.done(unit, outcome, _as_dict(found).get("id"))

    async def created(self, unit: U, data: dict[str, Any]) -> UnitResult:
        return self.done(unit, Outcome.CREATED, data.get("id"))

    def settled(self, record: UnitRecord) -> bool:
        """Whether a resumed run may take this record's result as final."""
        return record.finished

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
                    if known is not None and _as_dict(known).get("name") == unit.key:
                        return await self.existing(unit, known, adopted=False)
            if self.look_before_create:
                # Whatever holds this name before our first POST is not ours: it is
                # existing, never "created", even if that POST's answer is lost later.
                found = await self._find(unit)
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
        return await self.created(unit, _as_dict(answer))

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


@dataclass
class _Adopted:
    """An object found by its natural key instead of created by the POST."""

    found: Any
    adopted: bool


# ---------------------------------------------------------------- purchase orders


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


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, Mapping):
        return dict(obj)
    dumped: dict[str, Any] = obj.model_dump(mode="json", by_alias=True)
    return dumped


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
        current_po = _as_dict(found)
        po_id = int(current_po["id"])
        lines = await self.caller.call(lambda: self.api.purchase_order_line_items(po_id))
        current = purchase_order_from_read(current_po, [_as_dict(line) for line in lines])
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
        # PATCH is idempotent: resending it after a lost answer is harmless.
        self.journal.mark(KIND_PO, unit.key, UnitState.SENT, attempt=True)
        await self.caller.call(lambda: self.api.update_purchase_order(po_id, changes))
        return self.done(unit, Outcome.UPDATED, po_id, f"updated: {fields}")


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
