"""Float feature columns read off the model matrix instead of the feature frame.

A request reads a few dozen feature columns after `models.scorer.to_matrix` (the rules' flags,
the values its reasons tell), and pandas 3 builds a new Series for each column read from a
frame. The matrix holds every float64 model column as it is (copied, not converted), so those
are read from it; any other column is read from the frame as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["MatrixColumns"]


@dataclass(frozen=True)
class MatrixColumns:
    """The float64 columns of a feature frame, as columns of its model matrix."""

    matrix: np.ndarray
    position: Mapping[str, int]  # a float64 column's name -> its column in ``matrix``

    def get(self, name: str) -> np.ndarray | None:
        """The column's values (a view of the matrix: never written to); None when the matrix
        does not hold it as it is in the frame."""
        j = self.position.get(name)
        return None if j is None else self.matrix[:, j]
