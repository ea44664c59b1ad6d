"""The report's chart: one small PNG (about 800×400 px) with two panels — defect SLA compliance and
open defects over the last weeks, and standup participation over the same weeks.

matplotlib's object API on the Agg canvas: no pyplot, no GUI, no global figure state, so it is safe
to render in a worker thread (`render_async`) while the event loop goes on."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.kernel.zones import zone_or_utc

if TYPE_CHECKING:
    from bot.features.reports.figures import Figures

WIDTH_PX, HEIGHT_PX, DPI = 800, 400, 100


@dataclass
class ChartData:
    title: str
    labels: list[str]  # one per week, oldest first (the week's last day)
    response_pct: list[float | None]
    resolution_pct: list[float | None]
    open_defects: list[int] | None  # None: no defects section
    participation_pct: list[float | None] | None  # None: no standups section


def chart_data(figures: Figures) -> ChartData:
    """The chart's series from gathered figures (weeks end at the report's `now`): the weekly series (`trend`)
    of the "defects" section (each week's response_pct, resolution_pct, open_at_end) and of the "standups"
    section (each week's participation %), when those sections are registered."""
    zone = zone_or_utc(figures.engagement.home_tz)
    weeks = figures.trends.get("defects")
    participation = figures.trends.get("standups")
    n = len(weeks) if weeks else len(participation or [])
    labels = []
    for i in range(n):
        end = figures.now - timedelta(days=7 * (n - 1 - i))
        labels.append(end.astimezone(zone).strftime("%d %b"))
    return ChartData(
        title=f"{figures.engagement.key} — last {n} weeks",
        labels=labels,
        response_pct=[w.response_pct for w in weeks] if weeks else [None] * n,
        resolution_pct=[w.resolution_pct for w in weeks] if weeks else [None] * n,
        open_defects=[w.open_at_end for w in weeks] if weeks else None,
        participation_pct=participation,
    )


def _nan(values: list[float | None]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def render_png(data: ChartData) -> bytes:
    """The chart as PNG bytes (800×400 px)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.suptitle(data.title, fontsize=11)
    left, right = fig.subplots(1, 2)
    x = list(range(len(data.labels)))

    # Left: open defects (bars, right axis) with response/resolution compliance (lines, %).
    left.set_title("Defects: SLA compliance and open", fontsize=9)
    if data.open_defects is not None:
        bars = left.twinx()
        bars.bar(x, data.open_defects, color="#c8d3e0", width=0.6, label="open defects", zorder=1)
        bars.set_ylabel("open defects", fontsize=8)
        bars.set_ylim(0, max([*data.open_defects, 1]) * 1.25)
        bars.tick_params(labelsize=7)
        bars.yaxis.get_major_locator().set_params(integer=True)
        left.set_zorder(bars.get_zorder() + 1)
        left.patch.set_visible(False)
        left.plot(x, _nan(data.response_pct), marker="o", color="#1f6feb", label="response met %")
        left.plot(x, _nan(data.resolution_pct), marker="s", color="#d97706", label="resolution met %")
        handles = left.get_legend_handles_labels()[0] + bars.get_legend_handles_labels()[0]
        left.legend(handles=handles, fontsize=7, loc="lower left", framealpha=0.9)
    else:
        left.text(0.5, 0.5, "defects not installed", ha="center", va="center", transform=left.transAxes)
    left.set_ylim(0, 105)
    left.set_ylabel("% of targets met", fontsize=8)

    # Right: standup participation per week.
    right.set_title("Standup participation", fontsize=9)
    if data.participation_pct is not None:
        values = _nan(data.participation_pct)
        right.bar(x, values, color="#2f9e44", width=0.6)
        for xi, v in zip(x, data.participation_pct, strict=False):
            if v is None:
                right.text(xi, 2, "–", ha="center", fontsize=7, color="#777777")
            else:
                right.text(xi, v + 2, f"{v:.0f}%", ha="center", fontsize=7)
    else:
        right.text(0.5, 0.5, "standups not installed", ha="center", va="center", transform=right.transAxes)
    right.set_ylim(0, 105)
    right.set_ylabel("% answered", fontsize=8)

    for ax in (left, right):
        ax.set_xticks(x)
        ax.set_xticklabels(data.labels, fontsize=7, rotation=45, ha="right")
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
        ax.set_xlim(-0.6, max(len(x), 1) - 0.4)
    fig.subplots_adjust(left=0.07, right=0.97, top=0.86, bottom=0.2, wspace=0.35)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


async def render_async(data: ChartData) -> bytes:
    """`render_png` in a worker thread: rendering takes a few hundred milliseconds of CPU."""
    return await asyncio.to_thread(render_png, data)
