"""Top-level task functions for the map_tasks tests (the spawn pool imports them by name)."""

import os
import time

import numpy as np


def draw(item):
    """Normals from the item's own seed: the numbers depend on the item only, not on the worker."""
    seed, n = item
    return np.random.default_rng(seed).standard_normal(n)


def slow_draw(item):
    """``draw`` after a pause, so a driver can be killed while tasks are pending."""
    time.sleep(float(os.environ.get("SGDLAB_TEST_PAUSE", "0.3")))
    return draw(item)


def pid(_):
    """The worker's process id."""
    return os.getpid()
