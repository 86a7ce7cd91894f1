"""The cyclic garbage collector paused while a sheet is read and validated.

Reading and validating a large sheet allocates a few objects per cell and keeps most of
them (the table, the POs, a result per row). Left on, the collector walks that growing
heap again and again: 38 % of a 1,000,000-line CSV validation went to its passes
(benchmarks/bench_validate_csv.py). Nothing built there forms a reference cycle, so
reference counting frees every piece of garbage at once and the passes find nothing.

So the library pauses the collector for the length of such a call and restores it as it
was. Unlike the CLI's :func:`bulkpo.cli.options.gc_paused`, it does not freeze what was
built: it moves it to the oldest generation, where it would end after a few passes, and
the host program's cyclic garbage is collected as usual afterwards. The pause counts its
holders, so two threads validating at once (the web page) re-enable the collector only
when the last one is done.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

__all__ = ["collector_paused", "paused"]

_lock = threading.Lock()
_holders = 0
_restore = False

P = ParamSpec("P")
R = TypeVar("R")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic collector off inside the block; as it was when the last holder leaves."""
    global _holders, _restore
    with _lock:
        if _holders == 0:
            _restore = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                _promote()
                if _restore:
                    gc.enable()


def _promote() -> None:
    """Move what was built into the oldest generation, where objects that outlive a few
    passes end anyway, without those passes: left young, the million objects of a large
    sheet would be traced by the very next pass (7 % of a large CSV validation) and by
    each of the next few. ``gc.freeze()`` then ``gc.unfreeze()`` is that move (unfreeze
    puts the frozen objects into the oldest generation); only done when the host program
    has frozen nothing of its own, which unfreeze would release."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def paused(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` run under :func:`collector_paused`."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return func(*args, **kwargs)

    return run
