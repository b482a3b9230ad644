"""The report's PNG figures, drawn with matplotlib's Agg canvas under a fixed style.

Figures are built without pyplot (no global backend or figure state) and saved without the
"Software" metadata, so the same inputs give the same bytes. Text from outside (labels, titles) is
drawn as it is written (:func:`figure_text`): on one line, and never read as mathtext.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context, style
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

DPI = 100
_STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "savefig.dpi": DPI}
MAX_NAMED_CLASSES = 60
MAX_ANNOTATED_CELLS = 400
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def figure_text(value: object) -> str:
    """``value`` as literal figure text: control characters and line ends become a space, and ``$``
    is escaped so that matplotlib never parses (or fails on) a label as mathtext."""
    return _CONTROL.sub(" ", str(value)).strip().replace("$", r"\$")


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def _si(value: float, _position: object = None) -> str:
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g} {prefix}"
    return f"{value:.3g}"


def _log_macs_axis(axes, macs: np.ndarray) -> None:
    """Log x axis with SI tick labels; a range narrower than a decade gets four evenly spaced ticks."""
    low, high = float(macs.min()), float(macs.max())
    axes.set_xscale("log")
    axes.set_xlim(low / 1.25, high * 1.6)
    if high / low < 10:
        ticks = np.geomspace(low, high, 4) if high > low else np.array([low])
        axes.xaxis.set_major_locator(FixedLocator(ticks))
        axes.xaxis.set_minor_locator(NullLocator())
    axes.xaxis.set_major_formatter(FuncFormatter(_si))
    axes.xaxis.set_minor_formatter(NullFormatter())


def plot_top1_vs_macs(points: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Top-1 (%) against total MACs per clip on a log axis, one labelled point per row.

    ``points`` has columns label, total_macs, top1 (%), top1_std (%; NaN = no error bar).
    """
    with style.context("default"), rc_context(_STYLE):
        figure = Figure(figsize=(6.4, 4.2), layout="constrained")
        axes = figure.add_subplot()
        errors = points["top1_std"].fillna(0.0).to_numpy(dtype=float)
        axes.errorbar(
            points["total_macs"].to_numpy(dtype=float), points["top1"].to_numpy(dtype=float), yerr=errors,
            fmt="o", color="tab:blue", ecolor="tab:gray", capsize=3, markersize=5,
        )  # fmt: skip
        for label, x, y in zip(points["label"], points["total_macs"], points["top1"]):
            axes.annotate(
                figure_text(label), (float(x), float(y)), xytext=(4, 4), textcoords="offset points", fontsize=8
            )
        _log_macs_axis(axes, points["total_macs"].to_numpy(dtype=float))
        axes.set_xlabel("total MACs per clip (log scale; FLOPs ≈ 2 × MACs)")
        axes.set_ylabel("top-1 (%)")
        axes.set_title(figure_text(title))
        axes.grid(True, which="both", alpha=0.3)
        return _save(figure, Path(path))


def plot_per_class(matrix: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Heatmap of per-class accuracy (%), rows = heads, columns = classes; NaN cells are left blank."""
    rows, classes = matrix.shape
    width = min(max(6.4, 2.5 + 0.32 * classes), 24.0) if classes <= MAX_NAMED_CLASSES else 16.0
    longest = max((len(str(name)) for name in matrix.columns), default=0) if classes <= MAX_NAMED_CLASSES else 4
    height = 1.6 + 0.32 * rows + 0.07 * min(longest, 40)
    with style.context("default"), rc_context(_STYLE):
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.add_subplot()
        values = np.ma.masked_invalid(matrix.to_numpy(dtype=float))
        image = axes.imshow(values, aspect="auto", cmap="viridis", vmin=0.0, vmax=100.0, interpolation="nearest")
        axes.set_yticks(range(rows), [figure_text(label) for label in matrix.index])
        if classes <= MAX_NAMED_CLASSES:
            axes.set_xticks(range(classes), [figure_text(name) for name in matrix.columns], rotation=90, fontsize=7)
        else:
            step = 10 ** max(0, math.floor(math.log10(classes)) - 1)
            ticks = list(range(0, classes, step))
            axes.set_xticks(ticks, [str(tick) for tick in ticks], fontsize=7)
            axes.set_xlabel("class index (order of confusion.csv)")
        if rows * classes <= MAX_ANNOTATED_CELLS:
            for (row, column), value in np.ndenumerate(matrix.to_numpy(dtype=float)):
                if not math.isnan(value):
                    colour = "black" if value >= 60 else "white"
                    axes.text(column, row, f"{value:.0f}", ha="center", va="center", fontsize=6, color=colour)
        axes.set_title(figure_text(title))
        figure.colorbar(image, ax=axes, label="accuracy (%)", shrink=0.9)
        return _save(figure, Path(path))


def plot_significance(names: list[str], top1: list[float], p_holm: pd.DataFrame, path: str | Path, title: str) -> Path:
    """Matrix of Holm-adjusted p-values of the paired comparisons (rows and columns ordered by
    top-1, best first); a cell is annotated ``<`` / ``>`` when its row is significantly worse /
    better than its column at 5 %."""
    order = sorted(range(len(names)), key=lambda i: -top1[i])
    labels = [figure_text(names[i]) for i in order]
    values = p_holm.loc[[names[i] for i in order], [names[i] for i in order]].to_numpy(dtype=float)
    side = max(3.5, 0.45 * len(labels) + 1.5)
    with rc_context(_STYLE), style.context("default"):
        figure = Figure(figsize=(side + 1.2, side))
        axes = figure.add_subplot()
        shown = np.where(np.isnan(values), 1.0, values)
        image = axes.imshow(shown, cmap="viridis_r", vmin=0.0, vmax=0.2)
        figure.colorbar(image, ax=axes, label="Holm-adjusted p (0.2 and above: same colour)")
        axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
        axes.set_yticks(range(len(labels)), labels)
        for r in range(len(labels)):
            for c in range(len(labels)):
                if r != c and values[r, c] < 0.05:
                    mark = "<" if top1[order[r]] < top1[order[c]] else ">"
                    axes.text(c, r, mark, ha="center", va="center", color="white", fontsize=8)
        axes.set_title(figure_text(title))
        figure.tight_layout()
        return _save(figure, Path(path))
