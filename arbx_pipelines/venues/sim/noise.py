"""Deterministic pseudo-randomness as a pure function of (seed, labels, integer index).

The generated market is a function of time, not of the order of requests: a price at time t is the same whichever
client asked first, and the same on every run with the same seed.
"""

from __future__ import annotations

import hashlib
import math

_MASK64 = (1 << 64) - 1


def _mix(value: int) -> int:
    """splitmix64 finaliser: a fast, well-spread 64-bit integer hash."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def label_key(seed: int, *labels: str) -> int:
    """A 64-bit key for a seed and some labels (computed once per series, then reused)."""
    digest = hashlib.blake2b(f"{seed}|{'|'.join(labels)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def uniform(key: int, index: int) -> float:
    """Uniform in [0, 1) for (key, index)."""
    return _mix(key ^ _mix(index & _MASK64)) / 2.0**64


def signed(key: int, index: int) -> float:
    """Uniform in [-1, 1)."""
    return 2.0 * uniform(key, index) - 1.0


def gaussian(key: int, index: int) -> float:
    """Approximately standard normal (Box-Muller on two hashed uniforms)."""
    u1 = max(uniform(key, 2 * index), 1e-12)
    u2 = uniform(key, 2 * index + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def value_noise(key: int, position: float) -> float:
    """Smooth noise in [-1, 1]: hashed lattice values, smoothstep-interpolated between integers."""
    base = math.floor(position)
    frac = position - base
    weight = frac * frac * (3.0 - 2.0 * frac)
    left = signed(key, base)
    right = signed(key, base + 1)
    return left + (right - left) * weight


def fractal_noise(key: int, t_ms: float, octaves: tuple[tuple[float, float], ...]) -> float:
    """Sum of value noises at several time scales: ``octaves`` = ((scale_ms, amplitude), ...)."""
    total = 0.0
    for number, (scale_ms, amplitude) in enumerate(octaves):
        total += amplitude * value_noise(key + number * 7919, t_ms / scale_ms)
    return total
