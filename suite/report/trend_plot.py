"""The nightly comparison's trend figure: final validation accuracy of each variant over the
stored runs, one panel per ablation, drawn in the report's style (``suite.report.plots``).

    from suite.report import trend_plot
    svgs = trend_plot.trend(since["trend"])   # one SVG per row of panels; see since.trend
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

# First: importing plots selects matplotlib's Agg backend before pyplot is imported here.
from suite.report.plots import WIDTH_IN, color, fit_margins, theme, to_svg

TREND_COLUMNS = 4
REGRESSED_RED, IMPROVED_GREEN = "#c62828", "#1b7f3b"  # the badges' colors in report.css


def _ticks(count: int, most: int = 3) -> list[int]:
    """At most MOST run positions to label, always the first and the last (this run)."""
    return sorted({round(i) for i in np.linspace(0, count - 1, min(count, most))})


def trend(data: dict) -> list[str]:
    """Final validation accuracy of each variant over the stored runs (see since.trend), one panel
    per ablation, each with its own y range; ringed: this run's value where it regressed (red) or
    improved (green); dotted: the baseline run; shaded: this run. One SVG per row of panels, so a
    page break can fall between rows instead of pushing one tall figure to the next page."""
    if not data["plot"]:
        return []
    theme()
    panels = data["panels"]
    return [_trend_row(panels[i : i + TREND_COLUMNS], data, f"trend-{i}") for i in range(0, len(panels), TREND_COLUMNS)]


def _trend_row(panels: list[dict], data: dict, key: str) -> str:
    runs, last = data["runs"], len(data["runs"]) - 1
    wrap = 24  # characters of a legend label at 6 pt in a quarter of the text width; titles are larger
    titles = ["\n".join(textwrap.wrap(p["title"], wrap - 5)) for p in panels]
    legend_lines = max(sum(len(textwrap.wrap(line["variant"]["label"], wrap)) for line in p["lines"]) for p in panels)
    axes_h = 1.05
    title_h = 0.13 * max(t.count("\n") + 1 for t in titles) + 0.1
    below = 0.3 + 0.115 * legend_lines  # tick labels, then the legend
    fig, axes = plt.subplots(1, TREND_COLUMNS, squeeze=False, figsize=(WIDTH_IN, title_h + axes_h + below))
    for c, (ax, panel, title) in enumerate(zip(axes[0], panels, titles)):
        palette = {line["variant"]["name"]: color(line["variant"]["index"]) for line in panel["lines"]}
        frame = pd.DataFrame(
            [(line["variant"]["name"], i, value) for line in panel["lines"] for i, value in enumerate(line["values"])],
            columns=["variant", "run", "value"],
        )
        ax.axvspan(last - 0.35, last + 0.35, color="#12263a", alpha=0.06, linewidth=0)
        if data["baseline_index"] is not None:
            ax.axvline(data["baseline_index"], color="#5b7083", linewidth=0.8, linestyle=":")
        sns.lineplot(
            data=frame.dropna(),
            x="run",
            y="value",
            hue="variant",
            hue_order=list(palette),
            palette=palette,
            marker="o",
            markersize=3.2,
            markeredgewidth=0,
            linewidth=1.2,
            errorbar=None,
            legend=False,
            ax=ax,
        )
        for line in panel["lines"]:
            if line["flag"] and line["values"][-1] is not None:
                ax.scatter(
                    [last],
                    [line["values"][-1]],
                    s=55,
                    facecolors="none",
                    linewidths=1.2,
                    zorder=5,
                    edgecolors=REGRESSED_RED if line["flag"] == "regressed" else IMPROVED_GREEN,
                )
        ax.margins(y=0.12)  # room for the rings
        low, high = ax.get_ylim()
        if high - low < 4:  # a 0.1-point wobble must not fill the panel like a collapse
            middle = min(max((low + high) / 2, 2), 98)
            low, high = middle - 2, middle + 2
        ax.set_ylim(max(low, 0), min(high, 100))
        ax.set_xlim(-0.4, last + 0.4)
        ticks = _ticks(len(runs))
        ax.set_xticks(ticks, [runs[i]["tick"] for i in ticks])
        ax.tick_params(axis="both", labelsize=6, pad=1.5)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.set_title(title, fontsize=7.2, loc="left", pad=3)
        ax.set_xlabel("")
        ax.set_ylabel("val. accuracy (%)" if c == 0 else "", fontsize=6.5, labelpad=2)
        handles = [
            plt.Line2D(
                [],
                [],
                color=palette[line["variant"]["name"]],
                marker="o",
                markersize=3,
                linewidth=1.2,
                label="\n".join(textwrap.wrap(line["variant"]["label"], wrap)),
            )
            for line in panel["lines"]
        ]
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(-0.02, -0.2 / axes_h),
            frameon=False,
            fontsize=6,
            handlelength=1.4,
            handletextpad=0.5,
            labelspacing=0.25,
            borderaxespad=0,
            borderpad=0,
        )
    for ax in axes[0][len(panels) :]:
        ax.axis("off")
    fit_margins(fig, left=0.5, right=0.2, bottom=below, top=title_h, wspace=0.36)
    return to_svg(fig, key)
