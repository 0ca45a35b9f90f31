"""A small per-stream random generator for compiled kernels (xoshiro256+ and polar normals).

Each simulated seed owns one stream, so a run is reproducible bit for bit
whatever the number of threads.  Streams are seeded from numpy's SeedSequence.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["make_states", "next_double", "next_normal", "next_below"]

def make_states(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Independent xoshiro256 states (n, 4) uint64 and spare-normal slots (n, 2) float64."""
    words = np.random.SeedSequence(seed).generate_state(4 * n, dtype=np.uint64).reshape(n, 4)
    words[np.all(words == 0, axis=1), 0] = 1     # the all-zero state is forbidden
    return words.copy(), np.zeros((n, 2))


@numba.njit(inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@numba.njit(inline="always")
def next_double(st):
    """Uniform double in [0, 1) (xoshiro256+, top 53 bits)."""
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    result = s0 + s3
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    st[0], st[1], st[2], st[3] = s0, s1, s2, s3
    return (result >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(inline="always")
def next_below(st, n):
    """Uniform integer in [0, n)."""
    return min(int(next_double(st) * n), n - 1)


@numba.njit(inline="always")
def next_normal(st, spare):
    """Standard normal by Marsaglia's polar method; the second value waits in ``spare``."""
    if spare[0] != 0.0:
        spare[0] = 0.0
        return spare[1]
    while True:
        u = 2.0 * next_double(st) - 1.0
        w = 2.0 * next_double(st) - 1.0
        r = u * u + w * w
        if 0.0 < r < 1.0:
            f = np.sqrt(-2.0 * np.log(r) / r)
            spare[0] = 1.0
            spare[1] = w * f
            return u * f
