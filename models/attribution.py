"""Path attribution of a tree ensemble's raw score to its features, from leaf indices.

Each tree's output is split along the path from its root to the leaf a line falls in: every split
hands the change in the node's expected value (the mean of its leaves, weighted by the training
lines that reached them) to the feature it splits on. The parts add up, with the bias (the sum of
the roots' expected values), to the raw score, as TreeSHAP values do; but they cost one leaf-index
prediction and a gather per feature and tree, where LightGBM's exact TreeSHAP (``pred_contrib``) costs about
fifteen times the prediction (measured: docs in the README). Reasons are told per feature family,
where the two agree closely (``benchmarks/screen_bench.py`` prints how often the top family is the
same).

This module knows the model only through ``Booster.dump_model()`` and ``get_leaf_output``; it does
not import lightgbm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["PathAttribution"]

# Rows per block: bounds the (trees x rows) leaf table to about 100 MB.
_ROWS_PER_BLOCK = 16_384
# Up to this many (row, tree) or (row, pair) cells, a request's few rows are summed in whole-array
# operations; above it, tree by tree (a Python step per tree costs more than a few rows' data,
# and less than the memory of many rows).
_SMALL_CELLS = 2_000_000


@dataclass(frozen=True)
class PathAttribution:
    """Per-leaf feature contributions of every tree, ready to be summed per line."""

    n_features: int
    offsets: np.ndarray  # first global leaf number of each tree
    leaf_values: np.ndarray  # (total leaves,) the model's own leaf outputs
    bias: float
    # One (tree, feature) pair per feature on a tree's paths, in tree order: the tree, the
    # feature, and the feature's contribution at each leaf of that tree (zero-padded).
    pair_tree: np.ndarray
    pair_feature: np.ndarray
    pair_values: np.ndarray
    # `_few`'s gather tables per number of trees used (worked out once: the flat values are a
    # copy of every pair's leaf values)
    _gather: dict[int, tuple[np.ndarray, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def from_booster(cls, booster: Any, num_iteration: int | None = None) -> PathAttribution:
        """Tables for the first ``num_iteration`` trees (all when None), as ``predict`` uses."""
        model = booster.dump_model(num_iteration=num_iteration)
        n_features = int(model["max_feature_idx"]) + 1
        pairs: list[tuple[int, int, np.ndarray]] = []
        offsets: list[int] = []
        leaf_values: list[float] = []
        bias = 0.0
        for tree_number, tree in enumerate(model["tree_info"]):
            offset = len(leaf_values)
            offsets.append(offset)
            root = tree["tree_structure"]
            count = int(tree.get("num_leaves", 1))
            leaf_values.extend(
                float(booster.get_leaf_output(tree_number, leaf)) for leaf in range(count)
            )
            means = _expected_values(root, leaf_values, offset)
            bias += means[id(root)]
            changes: dict[int, np.ndarray] = {}
            # Walk every path, handing each split's change of expected value to its feature.
            stack: list[tuple[dict[str, Any], dict[int, float]]] = [(root, {})]
            while stack:
                node, path = stack.pop()
                if "leaf_index" in node or "split_feature" not in node:
                    leaf = int(node.get("leaf_index", 0))
                    for feature, change in path.items():
                        changes.setdefault(feature, np.zeros(count))[leaf] = change
                    continue
                feature = int(node["split_feature"])
                for child in (node["left_child"], node["right_child"]):
                    step = dict(path)
                    step[feature] = step.get(feature, 0.0) + means[id(child)] - means[id(node)]
                    stack.append((child, step))
            pairs.extend((tree_number, f, changes[f]) for f in sorted(changes))
        return cls(
            n_features=n_features,
            offsets=np.asarray(offsets, dtype=np.int64),
            leaf_values=np.asarray(leaf_values, dtype=np.float64),
            bias=bias,
            pair_tree=np.asarray([t for t, _, _ in pairs], dtype=np.int64),
            pair_feature=np.asarray([f for _, f, _ in pairs], dtype=np.int64),
            pair_values=_padded([v for _, _, v in pairs]),
        )

    def raw(self, leaves: np.ndarray) -> np.ndarray:
        """Raw scores from leaf indices (rows x trees), summed tree by tree as LightGBM does."""
        values = self.leaf_values
        trees = leaves.shape[1]
        if leaves.size <= _SMALL_CELLS:
            # A running sum left to right adds in LightGBM's order, so the result is the same.
            picked = values[leaves + self.offsets[:trees]]
            return np.cumsum(picked, axis=1)[:, -1] if trees else np.zeros(len(leaves))
        out = np.zeros(leaves.shape[0], dtype=np.float64)
        by_tree = np.ascontiguousarray(leaves.T)
        for tree, offset in enumerate(self.offsets[: leaves.shape[1]].tolist()):
            out += values[by_tree[tree] + offset]
        return out

    def contributions(self, leaves: np.ndarray) -> np.ndarray:
        """(rows, n_features + 1): per-feature contributions, then the bias; rows sum to the raw
        score."""
        n = leaves.shape[0]
        if n * len(self.pair_tree) <= _SMALL_CELLS:
            return self._few(leaves)
        out = np.zeros((self.n_features + 1, n), dtype=np.float64)
        out[-1] = self.bias
        # Tree by tree, each feature on the tree's paths adds its value at the row's leaf (the
        # fastest of the NumPy forms tried: per feature over trees, and a one-hot product).
        used = self.pair_tree < leaves.shape[1]
        pairs = list(
            zip(
                self.pair_tree[used].tolist(),
                self.pair_feature[used].tolist(),
                self.pair_values[used],
                strict=True,
            )
        )
        for start in range(0, n, _ROWS_PER_BLOCK):
            by_tree = np.ascontiguousarray(leaves[start : start + _ROWS_PER_BLOCK].T)
            stop = start + by_tree.shape[1]
            for tree, feature, values in pairs:
                out[feature, start:stop] += values[by_tree[tree]]
        return out.T

    def _few(self, leaves: np.ndarray) -> np.ndarray:
        """``contributions`` for a few rows: every (row, pair) value gathered at once, then
        summed per (row, feature)."""
        n, trees = leaves.shape
        found = self._gather.get(trees)
        if found is None:
            used = self.pair_tree < trees
            tree = self.pair_tree[used]
            width = self.pair_values.shape[1]
            start = np.arange(len(tree)) * width
            found = (tree, self.pair_feature[used], self.pair_values[used].ravel(), start)
            self._gather[trees] = found
        tree, feature, flat, start = found
        values = flat[leaves[:, tree] + start]
        cells = (np.arange(n)[:, None] * self.n_features + feature).ravel()
        out = np.empty((n, self.n_features + 1), dtype=np.float64)
        out[:, :-1] = np.bincount(
            cells, weights=values.ravel(), minlength=n * self.n_features
        ).reshape(n, self.n_features)
        out[:, -1] = self.bias
        return out


def _padded(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of different lengths as one zero-padded matrix."""
    width = max((len(r) for r in rows), default=1)
    out = np.zeros((len(rows), width), dtype=np.float64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def _expected_values(
    root: dict[str, Any], leaf_values: list[float], offset: int
) -> dict[int, float]:
    """Expected output of every node (by ``id``): its leaves' outputs weighted by their training
    counts (plain mean where no line reached them)."""
    means: dict[int, float] = {}

    def visit(node: dict[str, Any]) -> tuple[float, float]:
        if "leaf_index" in node or "split_feature" not in node:
            value = leaf_values[offset + int(node.get("leaf_index", 0))]
            weight = float(node.get("leaf_count", 0))
            means[id(node)] = value
            return value * weight, weight
        left_sum, left_weight = visit(node["left_child"])
        right_sum, right_weight = visit(node["right_child"])
        weight = left_weight + right_weight
        if weight > 0:
            means[id(node)] = (left_sum + right_sum) / weight
        else:
            means[id(node)] = (means[id(node["left_child"])] + means[id(node["right_child"])]) / 2
        return left_sum + right_sum, weight

    visit(root)
    return means
