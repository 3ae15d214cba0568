"""Big sheets without stalling the event loop: allocations kept out of the collector.

Reading and planning a 100,000-row sheet creates a few million objects in a worker thread.
Python's cyclic garbage collector, triggered by those allocations, would scan them all
while holding the GIL, and a full collection stalls every thread, the event loop serving
typed formulas included, for a second or more. Inside `bulk_allocation()` the collector is
off; on the way out what was made is frozen (moved out of the collector's generations,
`gc.freeze`) so no later collection scans it either. Nothing made there is cyclic:
reference counting frees it all as usual once the fill is done.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Collector off while inside; what was allocated is frozen when leaving."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
