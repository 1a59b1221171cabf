"""The screening report an officer can open offline: counts, score distribution, the selected
list with reasons, the capacity curve (sum of scores against share inspected, the run's own
selection marked on it), per-port summary."""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.catalogue import power_of_ten
from features.files import write_page
from models.selection import MANDATORY_REASONS
from risk_engine.reference import port_name

__all__ = ["write_screen_report"]

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;"
    "padding:3px 8px;vertical-align:top}th{background:#f3f3f3}img{max-width:100%}"
)


_CURVE_NOTE = (
    "<p>The capacity curve ranks the whole batch as one list; the point is this run's "
    "selection, made per port-day within each port's slots, watch-list and mandatory hits "
    "first, with a random control. Scores sum to fewer finds than inspections make: read "
    "them as ranks.</p>"
)


def _png(draw: Any) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    draw(ax)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return f'<img src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def write_screen_report(
    path: Path,
    *,
    parts: list[Path],
    selection: pd.DataFrame,
    summary: Any,
    told: pd.DataFrame | None = None,
    hold: bool = False,
) -> Path:
    """The report; ``told`` (row, reasons) holds the reasons given after selection to model
    picks that were not explained when scored. With ``hold`` it is left under its partial
    name (`features.files.write_page`) for the screening to name once all is saved."""
    columns = [
        "row",
        "bl_number",
        "container_number",
        "port_of_discharge",
        "arrival_date",
        "risk_score",
        "reasons",
        "rule_hits",
        "watchlist_hits",
        "dq_flags",
    ]
    lines = (
        pd.concat([pd.read_parquet(p, columns=columns) for p in parts], ignore_index=True)
        if parts
        else pd.DataFrame(columns=columns)
    )
    lines = lines.merge(selection, on="row", how="left")
    if told is not None and len(told):
        later = lines["row"].map(told.set_index("row")["reasons"])
        lines["reasons"] = later.fillna(lines["reasons"])
    scores = lines["risk_score"].to_numpy(dtype="float64")

    def histogram(ax: Any) -> None:
        ax.hist(np.log10(np.clip(scores, 1e-6, 1)), bins=50)
        ax.set_xlabel("log10 risk score")
        ax.set_ylabel("lines")
        ax.set_title("Score distribution")

    picked = lines["selected"].fillna(False).to_numpy(dtype=bool)

    def capacity(ax: Any) -> None:
        # The whole batch ranked as one list: an upper bound on what scores alone could take.
        # The run's own selection (slots per port-day, hits first, a random control) is marked
        # on it, so the curve is not read as what this list finds.
        ordered = np.sort(scores)[::-1]
        share = np.arange(1, len(ordered) + 1) / max(len(ordered), 1)
        ax.plot(100 * share, np.cumsum(ordered), label="whole batch ranked as one list")
        taken = 100 * picked.mean() if len(picked) else 0.0
        ax.plot([taken], [scores[picked].sum()], "o", label="this run's selection (per port-day)")
        ax.set_xlim(0, max(20.0, 1.2 * taken))
        ax.set_xlabel("share of lines inspected (%)")
        ax.set_ylabel("sum of risk scores")
        ax.set_title("Capacity curve (scores read as ranks: they run below the rate found)")
        ax.legend(loc="lower right")

    selected = lines[lines["selected"].fillna(False).astype(bool)].sort_values(
        ["port_of_discharge", "arrival_date", "rank"]
    )
    yellow = (lines["lane"] == "YELLOW").to_numpy(dtype=bool)
    papers = lines[yellow].sort_values(["port_of_discharge", "arrival_date", "rank"])
    per_port = (
        lines.assign(documentary=yellow)
        .groupby("port_of_discharge")
        .agg(
            lines=("row", "size"),
            selected=("selected", "sum"),
            documentary=("documentary", "sum"),
            mean_score=("risk_score", "mean"),
            max_score=("risk_score", "max"),
        )
        .reset_index()
    )
    # The port's name beside its code (CNCAN is Guangzhou), blank for a port not in the table.
    per_port.insert(
        1, "port", [port_name(str(code)) or "" for code in per_port["port_of_discharge"]]
    )
    counts = _counts(summary)
    by_reason = pd.DataFrame(
        sorted(summary.selected.items()), columns=["selection_reason", "lines"]
    )
    # Selections the capacity does not decide (watch list, mandatory rules) come first, whole:
    # a unit checks each one, and on a national batch they would be lost among the others.
    required = selected[selected["selection_reason"].isin(MANDATORY_REASONS)][
        [
            "selection_reason",
            "port_of_discharge",
            "arrival_date",
            "bl_number",
            "container_number",
            "watchlist_hits",
            "rule_hits",
            "risk_score",
        ]
    ].sort_values(["selection_reason", "port_of_discharge", "arrival_date"], kind="mergesort")
    shown = _shown(selected)[
        [
            "port_of_discharge",
            "arrival_date",
            "rank",
            "bl_number",
            "container_number",
            "risk_score",
            "selection_reason",
            "selection_probability",
            "reasons",
            "rule_hits",
            "watchlist_hits",
            "dq_flags",
        ]
    ]
    body = "".join(
        [
            f"<h1>Screening of {html.escape(str(summary.input))}</h1>",
            f"<p>Model version {html.escape(str(summary.model_version))}; the ranked list is "
            f"{html.escape(str(summary.output))}.</p>",
            "<h2>Screened with</h2><ul>",
            "".join(f"<li>{html.escape(str(item))}</li>" for item in summary.inputs),
            "</ul>",
            "<h2>Counts</h2>",
            counts.to_html(index=False, escape=True),
            by_reason.to_html(index=False, escape=True),
            "<h2>Scores</h2>",
            _png(histogram) + _png(capacity) + _CURVE_NOTE
            if len(scores)
            else "<p>No line was scored.</p>",
            f"<h2>Watch-list and mandatory-rule selections ({len(required):,})</h2>",
            required.to_html(index=False, escape=True, float_format=_figure)
            if len(required)
            else "<p>None.</p>",
            *(
                [
                    f"<h2>Rejected lines that name a watch-list entry "
                    f"({len(summary.watchlist_rejected):,})</h2><p>They could not be scored and "
                    "are not in the ranked list: correct them and screen them again, or inspect "
                    "them.</p><ul>",
                    "".join(f"<li>{html.escape(t)}</li>" for t in summary.watchlist_rejected),
                    "</ul>",
                ]
                if summary.watchlist_rejected
                else []
            ),
            _drift_section(summary),
            "<h2>Per port</h2>",
            per_port.to_html(index=False, escape=True, float_format=_figure),
            f"<h2>Selected lines ({_how_many(selected)})</h2>",
            shown.to_html(index=False, escape=True, float_format=_figure),
            *(
                [
                    f"<h2>Document checks, the yellow lane ({_how_many(papers)})</h2>",
                    # the selected list's columns but those a document check has no use for
                    _shown(papers)[
                        [
                            name
                            for name in shown.columns
                            if name
                            not in ("selection_reason", "selection_probability", "watchlist_hits")
                        ]
                    ].to_html(index=False, escape=True, float_format=_figure),
                ]
                if len(papers)
                else []
            ),
        ]
    )
    return write_page(
        path,
        f"<!doctype html><html><head><meta charset='utf-8'><title>Screening report</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>",
        hold=hold,
    )


def _figure(value: float, digits: int = 3) -> str:
    """A figure to three significant digits, never in exponent form: to four decimals, a third
    of a quiet batch's scores read 0.0000, watch-list and random-control picks among them; and a
    drift table's mean read 2.506e+04 (with commas past a thousand, a power of ten past a
    thousand billion)."""
    size = abs(value)
    if size == 0 or not math.isfinite(value):
        return "0" if size == 0 else str(value)
    if size >= 1e12 or size < 1e-12:
        return ("-" if value < 0 else "") + power_of_ten(math.log10(size))
    if size >= 1_000:
        return f"{value:,.0f}"
    return np.format_float_positional(value, precision=digits, fractional=False, trim="-")


# Lines a list of the report shows at most; the ranked list holds them all.
_SHOWN = 2000


def _shown(lines: pd.DataFrame) -> pd.DataFrame:
    """At most `_SHOWN` lines of a list sorted by port, day and rank: every port-day's first
    before any one's second, and so on (the list cut alphabetically showed three ports of
    thirteen, not one line of the port where most seizures were)."""
    if len(lines) <= _SHOWN:
        return lines
    ordered = lines.sort_values(["port_of_discharge", "arrival_date", "rank"], kind="mergesort")
    # each line's place among its port-day's lines of this list (the yellow lane's first is not
    # the port-day's first rank: the red lines come before it)
    nth = ordered.groupby(["port_of_discharge", "arrival_date"], sort=False).cumcount()
    first = ordered.assign(_nth=nth.to_numpy()).sort_values(
        ["_nth", "risk_score"], ascending=[True, False], kind="mergesort"
    )
    return ordered.loc[first.index[:_SHOWN]].sort_values(
        ["port_of_discharge", "arrival_date", "rank"], kind="mergesort"
    )


def _how_many(lines: pd.DataFrame) -> str:
    if len(lines) <= _SHOWN:
        return f"{len(lines):,}"
    return (
        f"{len(lines):,}; the {_SHOWN:,} ranked highest in their port-day shown, every "
        "port-day's first before any one's second; the ranked list holds them all"
    )


def _drift_section(summary: Any) -> str:
    """The batch against the model's training reference: what stands out, the bands' shares, and
    the features that moved most (PSI), drawn and listed."""
    table = getattr(summary, "drift", None)
    left_out = getattr(summary, "drift_left_out_note", None)
    if table is None or not len(table):
        if not getattr(summary, "scored", 1):
            return "<h2>Against the training data</h2><p>Nothing was scored to compare.</p>"
        if left_out:
            return f"<h2>Against the training data</h2><p>{html.escape(left_out)}.</p>"
        return (
            "<h2>Against the training data</h2><p>This model version keeps no reference of "
            "its training lines (trained before the drift check); retrain to have one.</p>"
        )
    notes = [*summary.drift_warnings, *summary.drift_notes] or [
        "nothing moved much: the scores' PSI is at most 0.1 and every feature's at most 0.25"
    ]
    if left_out:
        notes.append(left_out)
    bands = pd.DataFrame(
        [
            {"band": band, "reference lines": before, "this batch": after}
            for band, (before, after) in summary.bands.items()
        ]
    )
    # every input above 0.1 (up to 40), at least the first 15, said how many of how many; and
    # the score's own PSI always, the figure that says whether retraining is due (it was in the
    # table only when among the first 15)
    moved = table[table["psi"] > 0.1]
    top = table.head(min(max(15, len(moved)), 40))
    above = int((table["psi"] > 0.25).sum())
    score = table.loc[table["feature"] == "risk_score", "psi"]
    said = (
        f"the scores' PSI is {float(score.iloc[0]):.3g}"
        if len(score)
        else "the scores were not compared"
    )
    shown = (
        f"The table lists {len(top)} of the {len(table)} compared, largest shift first; "
        f"{above} are above 0.25."
    )

    def bars(ax: Any) -> None:
        shown = top.iloc[::-1]
        ax.barh(shown["feature"], shown["psi"])
        ax.axvline(0.25, color="grey", linestyle="--")
        ax.set_xlabel("population stability index (PSI)")
        ax.set_title("Largest shifts since training")

    return "".join(
        [
            "<h2>Against the training data</h2>",
            "<p>Population stability index (PSI) of each model input and of the score, this "
            "batch against the lines the model's thresholds were set on: under 0.1 little "
            "change, 0.1-0.25 some, above 0.25 worth a look. When the scores or the bands "
            "moved, the capacity no longer takes the lines the thresholds were set for, and "
            "retraining is due. A feature can move while the scores hold: an age in days grows "
            "with the history (most in a young one), and a rate learned from outcomes holds "
            "those known at training.</p><ul>",
            f"<li>{html.escape(said)}</li>",
            "".join(f"<li>{html.escape(note)}</li>" for note in notes),
            "</ul>",
            bands.to_html(index=False, escape=True, float_format=lambda v: f"{v:.2%}")
            if len(bands)
            else "",
            _png(bars),
            f"<p>{html.escape(shown)}</p>",
            top.to_html(index=False, escape=True, float_format=lambda v: _figure(v, 4)),
        ]
    )


def _rejected_label(summary: Any) -> str:
    """Where the rejected lines are, and why most were rejected: the report pointed to a
    rejects file that was not written, and gave no reason."""
    where = (
        f"see {Path(summary.rejects_path).name}"
        if getattr(summary, "rejects_path", None)
        else "not written: screen with --rejects FILE to list them"
    )
    reasons = getattr(summary, "reject_reasons", None) or []
    most = f"; most often {', '.join(reasons)}" if summary.rejected and reasons else ""
    return f"rejected ({where}{most})"


def _counts(summary: Any) -> pd.DataFrame:
    """The batch's counts, one a row, in words: they add up (read = scored + rejected). What
    the selection was made with and the drift check have their own sections."""
    rows = [
        ("lines read", summary.read),
        ("scored", summary.scored),
        (_rejected_label(summary), summary.rejected),
        ("selected for physical inspection", sum(summary.selected.values())),
        ("document checks (yellow lane)", summary.documentary),
        ("port-days", summary.port_days),
        ("lines with approximate history", summary.approximate),
        ("lines older than the history remembers", summary.beyond_memory),
    ]
    return pd.DataFrame(
        {"": [name for name, _ in rows], "lines": [f"{value:,}" for _, value in rows]}
    )
