"""`posbot report` and `/report`: a period's case numbers as an HTML page or as one picture.

Numbers first (`flows.report.aggregate`, pure), charts second (`bot.ops.charts`), words from the
templates. The page is self-contained: inline SVG and inline CSS, no script, no external URL,
and its Content-Security-Policy (`default-src 'none'`) keeps it so in any browser.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation.rendering import Renderer
from bot.ops import charts
from bot.storage.models import Case
from flows.report import CaseTimes, ReportNumbers, aggregate
from flows.settlement_calendar import SHANGHAI


def load_numbers(session: Session, start: date, end: date) -> ReportNumbers:
    """The numbers of the cases opened from `start` to `end` (Beijing days, inclusive)."""
    low = datetime.combine(start, time.min, SHANGHAI)
    high = datetime.combine(end + timedelta(days=1), time.min, SHANGHAI)
    rows = session.execute(
        select(
            Case.created_at,
            Case.outcome,
            Case.escalated_at,
            Case.first_reply_at,
            Case.resolved_at,
            Case.rating,
        ).where(Case.created_at >= low, Case.created_at < high)
    )
    return aggregate((CaseTimes(*row) for row in rows), start, end)


def chart_words(renderer: Renderer, locale: str) -> charts.Words:
    """Labels in the language the charts can be drawn in (see `charts.chart_locale`)."""
    return partial(renderer.label, charts.chart_locale(locale))


def report_html(
    renderer: Renderer, numbers: ReportNumbers, locale: str, generated_at: datetime
) -> str:
    """The whole page, charts inlined."""
    words = chart_words(renderer, locale)
    drawn = [
        {
            "name": name,
            "title": charts.title(name, numbers, partial(renderer.label, locale)),
            # matplotlib's own SVG: it escapes the label text it draws.
            "svg": Markup(svg),
        }
        for name, svg in charts.svgs(numbers, words)
    ]
    return renderer.text(
        "report.html", locale, {"numbers": numbers, "charts": drawn, "generated_at": generated_at}
    )


def report_png(renderer: Renderer, numbers: ReportNumbers, locale: str) -> bytes:
    """The same charts on one picture, for Telegram."""
    words = chart_words(renderer, locale)
    heading = f"{words('report.title')}  {numbers.start.isoformat()} – {numbers.end.isoformat()}"
    return charts.png(numbers, words, heading)


def report_caption(renderer: Renderer, numbers: ReportNumbers, locale: str) -> str:
    return renderer.text("report_caption", locale, {"numbers": numbers})
