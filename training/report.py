"""HTML reports an analyst can open offline: plots embedded, tables, the decision in words."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd

from features.files import write_page
from training.evaluate import Evaluation
from training.train import TrainOutcome

__all__ = ["write_phase_report", "write_training_report", "table_html"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.promoted{color:#0a6b1f}.kept{color:#8a4b00}img{max-width:100%;border:1px solid #eee}
"""


def table_html(frame: pd.DataFrame | None, *, digits: int = 3) -> str:
    if frame is None or frame.empty:
        return "<p>none</p>"
    return frame.to_html(
        index=False, float_format=lambda v: _number(v, digits), border=0, escape=True
    )


def _number(value: float, digits: int) -> str:
    """A count as a count (8,150 lines selected, not 8.15e+03); a rate or a lift to ``digits``
    significant digits."""
    if value == value and abs(value) >= 1 and float(value).is_integer():
        return f"{int(value):,}"
    if value == value and abs(value) >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _image(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(Path(path).stem)}" src="data:image/png;base64,{data}">'


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _evaluation_sections(evaluation: Evaluation, whose: str = "") -> str:
    """The evaluation's tables; ``whose`` names the scorer the single-scorer sections are of
    (a phase report's are the challenger's: unsaid, its PR-AUC read as the comparison's)."""
    of = f": the {whose}'s" if whose else ""
    parts = [
        f"<p>{evaluation.lines:,} lines in {evaluation.port_days:,} port-days.</p>",
        "<h2>Finds at capacity: observed seizures</h2>",
        "<p>A hit is a selected line whose recorded inspection found contraband. Lines the old "
        "policy never opened cannot count, so this is a lower bound for a new ranking: "
        "<em>precision</em> counts every selected line, the never-opened ones as finding "
        "nothing; <em>inspected</em> is how many of the selected lines were conclusively "
        "inspected, and <em>precision_inspected</em> the share of those that found "
        "contraband.</p>",
        table_html(evaluation.observed),
    ]
    if evaluation.truth is not None:
        parts += [
            "<h2>Finds at capacity: true contraband (simulated world)</h2>",
            "<p>Recall against every contraband container; <em>optimum</em> ranks by the true "
            "probability.</p>",
            table_html(evaluation.truth),
        ]
    parts += [
        f"<h2>Random-control slice{of} (unbiased)</h2>",
        "<p>A control the engine drew (it names the <em>model_version</em> whose ranked list "
        "drew it) is weighted by 1 / its <em>selection_probability</em>, its chance of the "
        "draw; beside those, a control of another policy (no <em>model_version</em>: its "
        "probability may be its chance of any selection) is left out of the rates, and with "
        "none of the engine's every control counts alike, as <code>review</code> counts them. "
        "Each rate with its Wilson 95 % interval (<em>_low</em>, <em>_high</em>), from the "
        "weights' effective number of controls: a rate of a few controls says little.</p>",
        table_html(evaluation.control),
        f"<h2>Conclusively inspected lines{of} scores</h2>",
        table_html(pd.DataFrame([evaluation.labels])),
        f"<h2>Per port{of} hits (model_hits_2pct)</h2>",
        table_html(evaluation.per_port.head(30)),
    ]
    return "".join(parts)


def write_phase_report(
    path: Path,
    *,
    decision: dict[str, Any],
    evaluation: Evaluation | None,
    outcome: TrainOutcome,
    plots: dict[str, Path],
) -> Path:
    """The champion/challenger report of one phase (``evaluation`` None: no held-out line)."""
    promoted = bool(decision.get("promoted"))
    shown = {
        k: ", ".join(map(str, v)) or "none" if isinstance(v, tuple | list) else v
        for k, v in decision.items()
        if k != "report"
    }
    body = [
        f"<p class='{'promoted' if promoted else 'kept'}'><strong>"
        f"{html.escape(str(decision.get('reason', '')))}</strong></p>",
        table_html(pd.DataFrame([shown])),
        _evaluation_sections(evaluation, "challenger") if evaluation is not None else "",
        "<h2>Drift of the main features (training period vs held-out period)</h2>",
        table_html(outcome.drift),
        "<h2>Plots (challenger)</h2>",
        "".join(_image(p) for p in plots.values() if Path(p).exists()),
        "<h2>Feature importance</h2>",
        table_html(outcome.importance.head(25)),
    ]
    return write_page(path, _page(f"Phase report: {decision.get('phase', '')}", "".join(body)))


def _split_words(sizes: dict[str, int]) -> str:
    """The splits in words: the four are inspected (labelled) lines, validation after a gap, and
    the evaluation below judges every line filed in the test period (the figures read as lines
    and the test one disagreed with the evaluation's count of inspected lines)."""
    labelled = [
        f"{name} {sizes[name]:,}"
        for name in ("train", "valid", "calibration", "test")
        if name in sizes
    ]
    words = "conclusively inspected lines by split (validation after a gap): " + ", ".join(labelled)
    if "test_lines" in sizes:
        words += (
            f"; lines filed in the test period, all judged below: {sizes['test_lines']:,} (its "
            "conclusively inspected lines are counted under 'Conclusively inspected lines')"
        )
    if "lines" in sizes:
        words += f"; lines in all: {sizes['lines']:,}"
    return words + "."


def write_training_report(
    path: Path, *, outcome: TrainOutcome, plots: dict[str, Path], version: str
) -> Path:
    """The report of one training run."""
    body = [
        f"<p>Model version {html.escape(version)}; {html.escape(_split_words(outcome.sizes))}</p>"
    ]
    if outcome.evaluation is not None:
        body.append(_evaluation_sections(outcome.evaluation))
    body += [
        "".join(_image(p) for p in plots.values() if Path(p).exists()),
        "<h2>Feature importance</h2>",
        table_html(outcome.importance.head(25)),
        "<h2>Drift</h2>",
        table_html(outcome.drift),
    ]
    return write_page(path, _page(f"Training report: version {version}", "".join(body)))
