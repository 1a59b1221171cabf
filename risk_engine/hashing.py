"""64-bit mixing of keys, shared by the duplicate-key registry and the feature keys."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["GOLDEN", "mix"]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_GOLDEN_0D = np.array(GOLDEN, dtype=np.uint64)
_S30, _S27, _S31 = (np.array(shift, dtype=np.uint64) for shift in (30, 27, 31))
_M1 = np.array(0xBF58476D1CE4E5B9, dtype=np.uint64)
_M2 = np.array(0x94D049BB133111EB, dtype=np.uint64)


def mix(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The splitmix64 finaliser, element-wise (wrapping arithmetic): spreads bits of a key.

    Array arithmetic on uint64 wraps silently, so no error state is needed; the steps run in
    place on one new array, with 0-d array constants (cheaper to call with than scalars)."""
    z = np.add(words, _GOLDEN_0D)
    np.bitwise_xor(z, np.right_shift(z, _S30), out=z)
    np.multiply(z, _M1, out=z)
    np.bitwise_xor(z, np.right_shift(z, _S27), out=z)
    np.multiply(z, _M2, out=z)
    np.bitwise_xor(z, np.right_shift(z, _S31), out=z)
    return z
