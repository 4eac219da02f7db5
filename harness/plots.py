"""Contamination-view plots (PNG): pass@1 by contest month per run, and pass@1 by difficulty per run.

Every point and bar carries its 95% bootstrap interval (over that group's problems, from the summary's breakdown)
as an error bar, and its number of problems (n) as a label: a month of 3 problems is not a trend.

A model that saw the problems in training tends to score higher on months before its release than after: the month
plot makes that visible. Only measured runs are plotted (reported reference numbers have no per-problem data).
matplotlib is imported lazily with the Agg backend, so importing this module costs nothing and needs no display.
Does not cover: the table (harness.report).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from harness.summary import GroupScore, RunSummary

MONTH_PLOT = "pass1_by_month.png"
DIFFICULTY_PLOT = "pass1_by_difficulty.png"
DIFFICULTIES = ("easy", "medium", "hard")


def write_plots(summaries: Mapping[str, RunSummary], out_dir, release_dates: Mapping[str, str] | None = None) -> list[Path]:
    """summaries: run label -> scoring.summarize() output; release_dates: run label -> YYYY-MM-DD (marked on the
    month plot). Writes both PNGs into out_dir; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [plot_by_month(summaries, out / MONTH_PLOT, release_dates),
            plot_by_difficulty(summaries, out / DIFFICULTY_PLOT)]


def plot_by_month(summaries: Mapping[str, RunSummary], path, release_dates: Mapping[str, str] | None = None) -> Path:
    plt = _pyplot()
    months = sorted({m for s in summaries.values() for m in s.by_month})
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(months) + 2), 4.0))
    for label, summary in summaries.items():
        xs = [i for i, m in enumerate(months) if m in summary.by_month]
        groups = [summary.by_month[months[i]] for i in xs]
        ys = [100 * g.pass_at_1 for g in groups]
        bars = ax.errorbar(xs, ys, yerr=_yerr(groups), marker="o", capsize=3, label=label)
        line = bars.lines[0]
        _label_n(ax, xs, ys, groups, line.get_color())
        release = (release_dates or {}).get(label)
        if release and months and months[0] <= release[:7] <= months[-1]:
            # problems left of this line may have been seen in training: the contamination view. A month's point
            # stands for the whole month, spanning x-0.5..x+0.5, so the day places the line inside it.
            day = int(release[8:10]) if len(release) >= 10 else 1
            x = sum(m < release[:7] for m in months) - 0.5 + (day - 1) / 31
            ax.axvline(x, color=line.get_color(), linestyle=":", label=f"{label} released {release[:10]}")
    ax.set_xticks(range(len(months)), months, rotation=45, ha="right")
    ax.set_ylabel("pass@1 (%)")
    ax.set_ylim(0, 100)
    ax.set_title("pass@1 by contest month")
    ax.grid(alpha=0.3)
    if summaries:
        ax.legend(fontsize="small")
    return _save(plt, fig, path)


def plot_by_difficulty(summaries: Mapping[str, RunSummary], path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    width = 0.8 / max(1, len(summaries))
    for j, (label, summary) in enumerate(summaries.items()):
        groups = [summary.by_difficulty.get(d) for d in DIFFICULTIES]
        ys = [100 * g.pass_at_1 if g else 0.0 for g in groups]
        xs = [i + j * width for i in range(len(DIFFICULTIES))]
        bars = ax.bar(xs, ys, width=width, yerr=_yerr(groups), capsize=3, label=label)
        _label_n(ax, xs, ys, groups, bars.patches[0].get_facecolor() if bars.patches else None)
    ax.set_xticks([i + width * (len(summaries) - 1) / 2 for i in range(len(DIFFICULTIES))], DIFFICULTIES)
    ax.set_ylabel("pass@1 (%)")
    ax.set_ylim(0, 100)
    ax.set_title("pass@1 by difficulty")
    ax.grid(axis="y", alpha=0.3)
    if summaries:
        ax.legend(fontsize="small")
    return _save(plt, fig, path)


def _yerr(groups: list[GroupScore | None]) -> list[list[float]]:
    """Asymmetric error bars (below, above) in percent from each group's ci95; 0 where there is none."""
    below, above = [], []
    for g in groups:
        y = 100 * g.pass_at_1 if g else 0.0
        low, high = (g.ci95.low, g.ci95.high) if g and g.ci95 else (None, None)
        below.append(max(0.0, y - 100 * low) if low is not None else 0.0)
        above.append(max(0.0, 100 * high - y) if high is not None else 0.0)
    return [below, above]


def _label_n(ax, xs, ys, groups: list[GroupScore | None], color) -> None:
    """Write each point's number of problems next to it."""
    for x, y, g in zip(xs, ys, groups):
        if g:
            ax.annotate(f"n={g.n_problems}", (x, y), textcoords="offset points", xytext=(4, 4),
                        fontsize="x-small", color=color)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)  # files only: never needs a display
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path) -> Path:
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
