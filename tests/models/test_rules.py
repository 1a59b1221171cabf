"""Rule sentences: each line gets the sentences of exactly the rules it hits, in rule order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.rules import RULES, rule_reasons, rule_score


def _hits(seed: int, rows: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {rule.name: rng.random(rows) < 0.2 for rule in RULES}, index=pd.RangeIndex(rows)
    )


def test_each_line_gets_the_sentences_of_the_rules_it_hits() -> None:
    hits = _hits(1)
    told = rule_reasons(hits)
    assert len(told) == len(hits)
    for row, sentences in zip(hits.itertuples(index=False), told, strict=True):
        assert sentences == [rule.sentence for rule, hit in zip(RULES, row, strict=True) if hit]
    # Every line has its own list: changing one changes no other.
    told[0].append("x")
    assert all(s[-1:] != ["x"] for s in told[1:])


def test_no_hits_no_sentences_and_scores_weigh_the_hits() -> None:
    hits = _hits(2, rows=3) & False
    assert rule_reasons(hits) == [[], [], []]
    assert (rule_score(hits) == 0).all()
    one = hits.copy()
    one.iloc[1, 0] = True
    assert rule_score(one).tolist() == [0.0, RULES[0].weight, 0.0]
