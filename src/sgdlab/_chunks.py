"""Run a compiled kernel in chunks of bounded wall time.

A numba kernel cannot be interrupted: Ctrl-C is only seen when control returns to
Python.  Long runs are therefore cut into chunks whose size adapts to the measured
cost per unit (step, chain, ...), so that each call lasts about ``TARGET_S`` seconds.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

__all__ = ["Pacer", "chunks", "TARGET_S"]

#: wall time aimed at per kernel call (seconds); Ctrl-C then lands within about this long
TARGET_S = 0.15


class Pacer:
    """Chunk size (in units) that tracks ``target_s`` of wall time per chunk.

    Starts at ``first`` units (the first call may include compilation) and grows at most
    ``grow``-fold per chunk, so a mis-measured chunk cannot overshoot by much.
    """

    def __init__(self, target_s: float = TARGET_S, first: int = 16, grow: float = 4.0):
        self.target_s, self.size, self.grow = target_s, max(1, int(first)), grow

    @contextmanager
    def timing(self, units: int):
        """Time the body, which processed ``units`` units, and update :attr:`size`."""
        tic = time.perf_counter()
        yield
        elapsed = time.perf_counter() - tic
        if units > 0:
            per_unit = max(elapsed, 1e-9) / units
            self.size = max(1, int(min(self.size * self.grow, self.target_s / per_unit)))


def chunks(total: int, target_s: float = TARGET_S, first: int = 1):
    """Yield ``(start, stop)`` covering ``range(total)``; the body run per chunk is timed to size the next."""
    pacer = Pacer(target_s, first)
    a = 0
    while a < total:
        b = min(total, a + pacer.size)
        with pacer.timing(b - a):
            yield a, b
        a = b
