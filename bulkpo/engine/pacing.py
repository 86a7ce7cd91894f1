"""Paced, retried API calls: one request at a time at an even rate, retried while it may help.

Pacing is a leaky bucket (aiolimiter) under a concurrency cap, so requests leave
evenly at the configured rate with no bursts. A 429 halves the rate and pauses
every worker for the server's ``Retry-After``; the rate then climbs back in small
steps (AIMD). 5xx answers, timeouts and dropped connections are retried with
jittered exponential backoff (tenacity). Every command that talks to the API
(import, export, track, documents) calls through a :class:`Caller`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from bulkpo.config import Settings
from bulkpo.errors import ApiError, RateLimitError, RunStopped, TransportError

T = TypeVar("T")


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


class LiveStats:
    """A run's requests, retries and 429 answers so far, readable while the run goes on.

    Give one to an import (``ImportOptions.live``, ``aio.import_file(live=...)``); it reads
    the run's own counters, so it shows exactly what the final ``ImportStats`` will say.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._caller: Caller | None = None
        self._started = 0.0
        self._ended: float | None = None

    def attach(self, caller: Caller) -> None:
        """Follow ``caller``: the run's start, as the import opens its client."""
        self._caller, self._started, self._ended = caller, self._clock(), None

    def finish(self) -> None:
        """The run has ended: its elapsed time, and so its rate, stop moving."""
        if self._caller is not None and self._ended is None:
            self._ended = self._clock()

    @property
    def requests(self) -> int:
        return self._caller.requests if self._caller is not None else 0

    @property
    def retries(self) -> int:
        return self._caller.retries if self._caller is not None else 0

    @property
    def throttled(self) -> int:
        return self._caller.pacer.throttle_count if self._caller is not None else 0

    @property
    def elapsed(self) -> float:
        if self._caller is None:
            return 0.0
        return (self._ended if self._ended is not None else self._clock()) - self._started

    @property
    def rate(self) -> float:
        """Requests per second so far (the final ``ImportStats.achieved_rate``)."""
        elapsed = self.elapsed
        return self.requests / elapsed if elapsed > 0 else 0.0

    @property
    def paced_rate(self) -> float:
        """The rate the pacer allows now: below the configured one after 429 answers."""
        return self._caller.pacer.rate if self._caller is not None else 0.0


def caller_for(settings: Settings, *, rate: float | None = None) -> Caller:
    """The paced, retried caller of one run, at ``rate`` (else the configured rate)."""
    return Caller(Pacer(rate or settings.rate), RetryPolicy(max_retries=settings.max_retries))


async def paced(caller: Caller, call: Callable[[], Awaitable[T]]) -> T:
    """``caller.call``, with a run-stopping failure (a wrong key) raised as the error it is.

    For the read-only commands, whose one job fails as a whole: an import instead
    lets :class:`~bulkpo.errors.RunStopped` stop its workers and reports per row.
    """
    try:
        return await caller.call(call)
    except RunStopped as stopped:
        raise stopped.cause from None
