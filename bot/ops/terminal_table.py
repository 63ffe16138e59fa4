"""Label/value tables for the operator's terminal (`posbot stats`), aligned for Chinese too."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from bot.conversation.rendering import Renderer

#: Spaces between the longest label and its value.
GAP = 2


def display_width(text: str) -> int:
    """Columns a terminal gives the text: wide (CJK) characters take two, marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Cf", "Mn", "Me"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def table(title: str, rows: Sequence[tuple[str, str]]) -> str:
    """The title, a rule, and one row per (label, value), every value in the same column."""
    column = max((display_width(label) for label, _ in rows), default=0) + GAP
    lines = [label + " " * (column - display_width(label)) + value for label, value in rows]
    rule = "-" * max([display_width(title), *(display_width(line) for line in lines)])
    return "\n".join([title, rule, *lines])


def stats_table(renderer: Renderer, locale: str, numbers: dict[str, Any]) -> str:
    """`bot.support.cases.case_stats` numbers as a table, every word from labels.toml `[stats]`."""

    def label(key: str, **params: Any) -> str:
        return renderer.label(locale, key, **params)

    def measured(key: str, value: float | None, **params: Any) -> str:
        return label("stats.none") if value is None else label(key, value=value, **params)

    rows = [(label("stats.total"), str(numbers["total"]))]
    lifecycle = list(renderer.labels(locale)["status"])  # draft, open, ... in labels' order
    by_status = sorted(numbers["by_status"].items(), key=lambda item: lifecycle.index(item[0]))
    rows += [
        (label("stats.status", name=label(f"status.{status}")), str(count))
        for status, count in by_status
    ]
    rows += [
        (label("stats.outcome", name=label(f"outcomes.{outcome}")), str(count))
        for outcome, count in sorted(numbers["by_outcome"].items())
    ]
    rows += [
        (
            label("stats.first_reply"),
            measured("stats.minutes", numbers["median_first_reply_minutes"]),
        ),
        (label("stats.resolution"), measured("stats.hours", numbers["median_resolution_hours"])),
        (
            label("stats.without_person"),
            measured("stats.share", numbers["share_without_person"], resolved=numbers["resolved"]),
        ),
    ]
    return table(label("stats.title"), rows)
