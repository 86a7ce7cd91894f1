"""Keep Python's cyclic garbage collector off a sheet's worth of objects being built.

Reading and validating a large sheet allocates a few objects per cell and keeps most
of them (rows, lines, POs). With the collector on, its passes over that growing heap
cost more than the work itself (ARCHITECTURE §8; measured: half of the reader's cell
conversion). Nothing built under the pause forms reference cycles, so reference
counting still frees all garbage at once and memory does not grow while it is off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block (or decorated function), then restore
    it as it was, so nested pauses and callers that keep it off are left alone."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Re-enabled as is, the collector's next pass would trace every object made
        # here (0.15 s for 100,000 validated rows), and each later full pass would
        # again for as long as the POs are kept. Frozen, they are left out of all
        # passes; they hold no cycles, so reference counting still frees them.
        gc.freeze()
        if was_enabled:
            gc.enable()
