"""The report's charts, drawn once with matplotlib: SVG for the HTML page, one PNG for Telegram.

Only matplotlib's object API (`Figure`) is used, never pyplot: no global figures, no GUI backend.
Chinese needs a CJK font; without one the charts are labelled in English instead of showing
empty boxes (the page around them stays in its language: the browser has fonts of its own).
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, DateFormatter, DayLocator
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from flows.report import OUTCOMES, RATINGS, SERIES, Distribution, ReportNumbers

#: A label lookup in the charts' language: full key ("report.cases", "outcomes.A"), parameters.
Words = Callable[..., str]

#: Where Debian's CJK font packages put their fonts (fonts-wqy-microhei first, as CI installs it).
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
CHARTS = ("per_period", "first_reply", "resolution", "people", "ratings")
SIZES = {"per_period": (9.0, 3.6), "people": (6.0, 2.6)}
DEFAULT_SIZE = (6.0, 3.4)
COLORS = {
    "A": "#4c78a8",
    "B": "#9d755d",
    "C": "#eeca3b",
    "D": "#b279a2",
    "E": "#e45756",
    "F": "#f58518",
    "none": "#bab0ac",
}
PEOPLE_COLORS = ("#54a24b", "#4c78a8", "#bab0ac")
BAR_WIDTH_DAYS = {"day": 0.8, "week": 6.0, "month": 26.0}
#: No creation date or tool version in the SVG: the same numbers give the same file.
SVG_METADATA: dict[str, Any] = {"Date": None, "Creator": None, "Format": None, "Type": None}
# rc settings are process-wide, and matplotlib is not thread-safe: one drawing at a time.
_LOCK = threading.Lock()


@cache
def cjk_family() -> str | None:
    """The family name of the first CJK font found on this machine, registered with matplotlib."""
    for path in CJK_FONTS:
        if not Path(path).is_file():
            continue
        try:
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
        except (OSError, RuntimeError, ValueError):  # an unreadable font: try the next one
            continue
    return None


def chart_locale(locale: str) -> str:
    """The page's language, or English when this machine cannot draw Chinese."""
    return locale if locale != "zh" or cjk_family() else "en"


def _style() -> dict[Any, Any]:  # matplotlib types the keys as a Literal of every rc name
    family = cjk_family()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [*([family] if family else []), "DejaVu Sans"],
        "svg.hashsalt": "posbot",
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _no_data(ax: Axes, words: Words) -> None:
    ax.text(0.5, 0.5, words("report.no_data"), ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _per_period(ax: Axes, numbers: ReportNumbers, words: Words) -> None:
    if not numbers.total:
        _no_data(ax, words)
        return
    bottom = [0] * len(numbers.periods)
    for series in SERIES:
        counts = numbers.per_period[series]
        if not any(counts):
            continue
        name = words(f"outcomes.{series}") if series in OUTCOMES else words("report.no_outcome")
        ax.bar(
            numbers.periods,  # type: ignore[arg-type]  # matplotlib converts dates
            counts,
            BAR_WIDTH_DAYS[numbers.bucket],
            bottom=bottom,
            label=name,
            color=COLORS[series],
            align="edge" if numbers.bucket != "day" else "center",
        )
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    margin = timedelta(days=1 if numbers.bucket == "day" else 3)
    ax.set_xlim(numbers.periods[0] - margin, numbers.end + margin)  # type: ignore[arg-type]
    if numbers.bucket == "day":  # whole days only, at most about ten of them
        ax.xaxis.set_major_locator(DayLocator(interval=math.ceil(len(numbers.periods) / 10)))
    else:
        ax.xaxis.set_major_locator(AutoDateLocator(maxticks=10))
    ax.xaxis.set_major_formatter(DateFormatter("%Y-%m" if numbers.bucket == "month" else "%m-%d"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(words("report.cases"))
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _times(ax: Axes, values: Distribution, unit: str, words: Words) -> None:
    if not values.count or values.median is None or values.p90 is None:
        _no_data(ax, words)
        return
    unit_word = words(f"report.{unit}")
    digits = 0 if unit == "minutes" else 1
    ax.hist(values.values, bins=min(20, max(5, values.count)), color="#4c78a8")
    for value, key, style, color in (
        (values.median, "report.median", "--", "#e45756"),
        (values.p90, "report.p90", ":", "#f58518"),
    ):
        text = words(key, value=f"{value:.{digits}f} {unit_word}")
        ax.axvline(value, linestyle=style, color=color, label=text)
    ax.set_xlabel(unit_word)
    ax.set_ylabel(words("report.cases"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize="small")


def _first_reply(ax: Axes, numbers: ReportNumbers, words: Words) -> None:
    _times(ax, numbers.first_reply_minutes, "minutes", words)


def _resolution(ax: Axes, numbers: ReportNumbers, words: Words) -> None:
    _times(ax, numbers.resolution_hours, "hours", words)


def _people(ax: Axes, numbers: ReportNumbers, words: Words) -> None:
    if not numbers.total:
        _no_data(ax, words)
        return
    share = numbers.share_without_person
    parts = (
        (words("report.without_person"), numbers.resolved_without_person),
        (words("report.with_person"), numbers.resolved_with_person),
        (words("report.unresolved"), numbers.unresolved),
    )
    left = 0
    for index, ((name, count), color) in enumerate(zip(parts, PEOPLE_COLORS, strict=True)):
        shown = f"{name}: {count}"
        if index == 0 and share is not None:
            shown += f" ({share:.0%})"
        ax.barh([0], [count], 0.6, left=left, color=color, label=shown)
        if count:
            ax.text(left + count / 2, 0, str(count), ha="center", va="center", color="white")
        left += count
    ax.set_ylim(-0.45, 1.4)
    ax.set_yticks([])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(words("report.cases"))
    ax.legend(fontsize="small", loc="upper left")


def _ratings(ax: Axes, numbers: ReportNumbers, words: Words) -> None:
    if not numbers.rated or numbers.rating_mean is None:
        _no_data(ax, words)
        return
    bars = ax.bar(RATINGS, numbers.ratings, color="#54a24b")
    ax.bar_label(bars)
    ax.set_xticks(RATINGS)
    ax.set_xlabel(words("report.rating"))
    ax.set_ylabel(words("report.cases"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(
        words("report.mean", value=f"{numbers.rating_mean:.1f}", count=numbers.rated),
        fontsize="small",
        loc="right",
    )


DRAW: dict[str, Callable[[Axes, ReportNumbers, Words], None]] = {
    "per_period": _per_period,
    "first_reply": _first_reply,
    "resolution": _resolution,
    "people": _people,
    "ratings": _ratings,
}


def title(name: str, numbers: ReportNumbers, words: Words) -> str:
    return words(f"report.titles.{numbers.bucket if name == 'per_period' else name}")


def _inline(svg: str, prefix: str) -> str:
    """An SVG document as an element of a page: no XML prolog, ids unique within the page."""
    element = svg[svg.index("<svg") :]
    return re.sub(r'(\bid="|href="#|url\(#)', lambda m: m.group(1) + prefix, element)


def svgs(numbers: ReportNumbers, words: Words) -> list[tuple[str, str]]:
    """(chart name, inline SVG) for each chart; titles are left to the page."""
    result = []
    with _LOCK, matplotlib.rc_context(_style()):
        for name in CHARTS:
            figure = Figure(figsize=SIZES.get(name, DEFAULT_SIZE), layout="constrained")
            DRAW[name](figure.add_subplot(), numbers, words)
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata=SVG_METADATA)
            result.append((name, _inline(buffer.getvalue(), f"{name}-")))
    return result


def png(numbers: ReportNumbers, words: Words, heading: str) -> bytes:
    """Every chart on one titled picture, for a single Telegram photo."""
    with _LOCK, matplotlib.rc_context(_style()):
        figure = Figure(figsize=(12.0, 12.0), layout="constrained")
        figure.suptitle(heading, fontsize="x-large")
        grid = figure.add_gridspec(3, 2, height_ratios=(1.2, 1.0, 1.0))
        places = {
            "per_period": grid[0, :],
            "first_reply": grid[1, 0],
            "resolution": grid[1, 1],
            "people": grid[2, 0],
            "ratings": grid[2, 1],
        }
        for name in CHARTS:
            ax = figure.add_subplot(places[name])
            DRAW[name](ax, numbers, words)
            ax.set_title(title(name, numbers, words), loc="left", fontsize="large")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
