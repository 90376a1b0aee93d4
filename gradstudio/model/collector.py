"""Holding off Python's cyclic garbage collector during bulk work that makes many objects and few cycles.

An evaluation of 1,000 nodes keeps about ten thousand new objects (results, tensors, grad_fns): they would
set off a dozen collections while it runs, and now and then a full one walking every object the process
holds (a Qt window holds many), for a third of an edit's time. Collected once afterwards instead.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Within, no automatic cyclic collection; afterwards the collector is as it was (left off if it was off).

    Only on the main thread: a worker that switched the collector back on would run the next collection itself,
    on its own thread, and that collection may free Qt objects only the GUI thread may touch (a segfault seen
    in a background evaluation). In a worker this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
