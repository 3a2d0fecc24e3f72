"""The report's figures, drawn with seaborn and returned as SVG text for inline embedding.

    from suite.report import plots
    svg = plots.curves(section)          # section: one item of content.build(...)["sections"]

One style and one palette for the whole report: a variant's color is its position in the
ablation's spec (first variant blue, second orange, ...), the same in every figure and in the
tables' color keys. Accuracies are drawn in percent. Every figure is closed after saving.
The nightly comparison's trend figure is drawn in ``suite.report.trend_plot``, in this style.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: figures only ever become SVG text

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from suite.spec.metrics import CURVES, LOSS, METRICS  # noqa: E402

PALETTE = sns.color_palette("colorblind").as_hex()
WIDTH_IN = 6.7  # the text width of an A4 page with 2 cm margins
BAND = ("pi", 100)  # min-max over seeds: with 2-5 seeds a percentile band is the honest one
RC = {
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7.5,
    "axes.titleweight": "bold",
    "lines.linewidth": 1.5,
}
BOOK_MARKER = dict(marker="D", s=20, edgecolors="#1d1d1f", linewidths=0.8, zorder=6)  # the book's values
FRAMED = [*CURVES, METRICS["lr"]]  # the curves, and the learning rate for its own figure


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def theme() -> None:
    sns.set_theme(context="paper", style="whitegrid", palette=PALETTE, rc=RC)


def to_svg(fig, key: str) -> str:
    """SVG text without its XML prolog; ids salted with KEY so several figures share a page."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": key}):  # deterministic ids: reports diff cleanly
        # No bbox_inches="tight" nor tight_layout: each lays the figure out once more, and together
        # they were two thirds of the report's drawing time. fit_margins sets fixed margins instead.
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return re.sub(r"^.*?(?=<svg)", "", text, count=1, flags=re.S)


def fit_margins(fig, *, left: float, right: float, bottom: float, top: float, wspace=0.2, hspace=0.2) -> None:
    """Margins in inches (room for tick labels, titles, legends), whatever the figure's size."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=wspace,
        hspace=hspace,
    )


def _frame(section: dict) -> pd.DataFrame:
    rows = []
    for variant in section["variants"]:
        for run in variant["runs"]:
            history = run["history"]
            for metric in FRAMED:
                for epoch, value in enumerate(history.get(metric.name, []), 1):
                    finite = isinstance(value, (int, float)) and math.isfinite(value)
                    rows.append(
                        (variant["label"], run["seed"], epoch, metric.name, metric.shown(value) if finite else np.nan)
                    )
    return pd.DataFrame(rows, columns=["variant", "seed", "epoch", "metric", "value"])


def _palette(section: dict) -> dict:
    return {v["label"]: color(v["index"]) for v in section["variants"]}


def _diverged(section: dict) -> list[str]:
    return [
        f"{v['label']} (seed {r['seed']}, epoch {r['diverged_epoch']})"
        for v in section["variants"]
        for r in v["runs"]
        if r.get("diverged_epoch")
    ]


def curves(section: dict) -> str:
    """Loss and accuracy per epoch, training and validation: mean over seeds with a min-max band."""
    theme()
    frame = _frame(section)
    ran = [v["label"] for v in section["variants"] if v["runs"]]
    palette = _palette(section)
    fig, axes = plt.subplots(2, 2, figsize=(WIDTH_IN, 3.4), sharex=True)
    for ax, metric in zip(axes.flat, CURVES):
        sns.lineplot(
            data=frame[frame.metric == metric.name],
            x="epoch",
            y="value",
            hue="variant",
            hue_order=ran,
            palette=palette,
            estimator="mean",
            errorbar=BAND,
            marker="o",
            markersize=3.5,
            markeredgewidth=0,
            legend=False,
            ax=ax,
        )
        ax.set_title(metric.label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric.unit.axis)
        _book_points(ax, section, metric.name, palette)
    losses = frame[frame.metric.isin([m.name for m in CURVES if m.unit is LOSS])]["value"].dropna()
    if len(losses) and losses.min() > 0 and losses.max() / losses.min() > 30:
        for ax in axes[0]:  # a diverging variant would flatten every other curve
            ax.set_yscale("log")
    for row in axes:  # one y range per row, so training and validation read against each other
        low = min(ax.get_ylim()[0] for ax in row)
        high = max(ax.get_ylim()[1] for ax in row)
        for ax in row:
            ax.set_ylim(low, high)
    for ax in axes[0]:
        ax.set_xlabel("")
    for ax in axes[1]:
        low, high = ax.get_ylim()
        ax.set_ylim(max(low, 0), min(high, 100))
        ax.set_xlabel("epoch")
    handles = [plt.Line2D([], [], color=palette[label], marker="o", markersize=4, label=label) for label in ran]
    if (section.get("book") or {}).get("points"):
        handles.append(
            plt.Line2D(
                [],
                [],
                linestyle="none",
                marker="D",
                markersize=4,
                markerfacecolor="white",
                markeredgecolor="#1d1d1f",
                label="book",
            )
        )
    fig.legend(handles=handles, loc="upper center", ncol=min(len(handles), 5), frameon=False, bbox_to_anchor=(0.5, 1.0))
    fit_margins(fig, left=0.62, right=0.08, bottom=0.42, top=0.5, wspace=0.22, hspace=0.32)
    return to_svg(fig, f"curves-{section['name']}")


def _book_points(ax, section: dict, metric: str, palette: dict) -> None:
    """The book's values of METRIC as diamonds in the variant's color (see suite.report.book)."""
    for point in (section.get("book") or {}).get("points", []):
        if point["metric"] == metric and point["variant"] in palette:
            ax.scatter([point["epoch"]], [point["value"]], facecolors=palette[point["variant"]], **BOOK_MARKER)


def learning_rate(section: dict) -> str | None:
    """The learning rate per epoch, drawn only when a schedule changed it during a run."""
    frame = _frame(section)
    data = frame[frame.metric == "lr"].dropna()
    if data.empty or data.groupby(["variant", "seed"])["value"].nunique().max() < 2:
        return None
    theme()
    ran = [v["label"] for v in section["variants"] if v["runs"]]
    fig, ax = plt.subplots(figsize=(WIDTH_IN * 0.8, 2.1))
    sns.lineplot(
        data=data,
        x="epoch",
        y="value",
        hue="variant",
        hue_order=ran,
        palette=_palette(section),
        errorbar=BAND,
        marker="o",
        markersize=3.5,
        markeredgewidth=0,
        ax=ax,
    )
    ax.set_yscale("log")
    ax.set_title("Learning rate")
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate (log scale)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(title=None, frameon=False, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fit_margins(fig, left=0.75, right=1.9, bottom=0.42, top=0.28)
    return to_svg(fig, f"lr-{section['name']}")


def _merged(hists: list[dict]) -> tuple[np.ndarray, np.ndarray, int]:
    """Seed histograms with their own edges, re-binned onto one common grid: (edges, counts, nonfinite)."""
    usable = [h for h in hists if h.get("edges")]
    nonfinite = sum(h.get("nonfinite", 0) for h in hists)
    if not usable:
        return np.array([]), np.array([]), nonfinite
    # An output layer's 10 biases over 50 bins would be a row of isolated spikes.
    bins = int(np.clip(np.sqrt(sum(sum(h["counts"]) for h in usable)), 8, 50))
    low = min(h["edges"][0] for h in usable)
    high = max(h["edges"][-1] for h in usable)
    edges = np.linspace(low, high, bins + 1)
    counts = np.zeros(bins)
    for h in usable:
        # Interpolate each seed's cumulative count at the common edges: re-binning bin centres
        # instead would leave empty bins (a comb) wherever the grids do not line up.
        cumulative = np.concatenate([[0.0], np.cumsum(h["counts"], dtype=float)])
        counts += np.diff(np.interp(edges, np.asarray(h["edges"], dtype=float), cumulative))
    return edges, counts, nonfinite


def _symmetric(edges: np.ndarray) -> bool:
    """Centre the ticks on 0 for a distribution around 0: '−0.05, 0, 0.05' instead of odd steps."""
    return len(edges) > 1 and edges[0] < 0 < edges[-1] and 0.5 < -edges[0] / edges[-1] < 2


def _layer_title(layer: str, kind: str, count: int) -> str:
    index = int(layer.removeprefix("layer")) if layer.removeprefix("layer").isdigit() else 0
    source = "input" if index == 1 else "hidden"
    target = "output" if index == count else "hidden"
    what = "weights" if kind == "weight" else "biases"
    return (
        f"Layer {index} {what}\n({source} → {target})"
        if kind == "weight"
        else f"Layer {index} {what}\n({target} units)"
    )


def _hist_grid(section: dict, columns: list[tuple[Any, str]], pick, key: str, log_columns=()) -> str:
    """Rows: variants that ran; columns: the distributions PICK(run, column) returns."""
    theme()
    variants = [v for v in section["variants"] if v["runs"]]
    fig, axes = plt.subplots(len(variants), len(columns), squeeze=False, figsize=(WIDTH_IN, 0.4 + 1.45 * len(variants)))
    for r, variant in enumerate(variants):
        for c, (column, title) in enumerate(columns):
            ax = axes[r][c]
            edges, counts, nonfinite = _merged([h for h in (pick(run, column) for run in variant["runs"]) if h])
            if len(counts) and counts.sum():
                sns.histplot(
                    x=(edges[:-1] + edges[1:]) / 2,
                    weights=100 * counts / counts.sum(),
                    bins=edges.tolist(),
                    element="step",
                    color=color(variant["index"]),
                    alpha=0.35,
                    linewidth=1,
                    ax=ax,
                )
            else:
                ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes, fontsize=7)
            if nonfinite:
                ax.text(
                    0.98,
                    0.95,
                    f"{nonfinite:,} non-finite",
                    ha="right",
                    va="top",
                    transform=ax.transAxes,
                    fontsize=6.5,
                    color="#b00020",
                )
            if column in log_columns:
                ax.set_yscale("log")
            ax.set_title(title if r == 0 else "")
            ax.set_xlabel("value" if r == len(variants) - 1 else "")
            # A long variant label wraps, or it would run into the rows above and below.
            label = "\n".join(textwrap.wrap(variant["label"], 18))
            ax.set_ylabel(f"{label}\n% of values" if c == 0 else "")
            ax.xaxis.set_major_locator(MaxNLocator(nbins=3, symmetric=_symmetric(edges)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.2g}".replace("-", "−")))
    fit_margins(fig, left=0.78, right=0.1, bottom=0.42, top=0.45, wspace=0.5, hspace=0.3)
    return to_svg(fig, f"{key}-{section['name']}")


def parameters(section: dict) -> str:
    """Weights and biases of each Linear layer at the end of training, all seeds pooled."""
    layers = []
    for variant in section["variants"]:
        for run in variant["runs"]:
            layers += [name for name in run.get("parameters", {}) if name not in layers]
    count = len(layers)
    columns = [((layer, kind), _layer_title(layer, kind, count)) for layer in layers for kind in ("weight", "bias")]
    return _hist_grid(
        section, columns, lambda run, col: run.get("parameters", {}).get(col[0], {}).get(col[1]), "params"
    )


def activations(section: dict) -> str:
    """The first hidden layer on the validation images: what the ReLU receives and what it outputs."""
    columns = [("pre", "Hidden pre-activations\n(ReLU input)"), ("post", "Hidden activations\n(ReLU output)")]
    return _hist_grid(
        section, columns, lambda run, col: (run.get("activations") or {}).get(col), "acts", log_columns=("post",)
    )


def figures(section: dict) -> dict:
    """Every figure a section shows, as SVG text; None for a figure it has no data or reason for."""
    out: dict[str, Any] = {
        "curves": None,
        "lr": None,
        "parameters": None,
        "activations": None,
        "diverged": _diverged(section),
    }
    if section["has_runs"]:
        out.update(curves=curves(section), lr=learning_rate(section))
        if section["show_parameters"]:
            out["parameters"] = parameters(section)
        if section["show_activations"]:
            out["activations"] = activations(section)
    return out
