"""The report from a database: its numbers, the self-contained page, the picture, the CLI."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from bot.conversation.messages import ChatRef, Incoming
from bot.conversation.rendering import Renderer
from bot.ops import charts
from bot.ops.cli import main
from bot.ops.report import load_numbers, report_caption, report_html, report_png
from bot.storage.db import Database
from bot.storage.models import Case
from flows.report import ReportNumbers
from flows.settlement_calendar import SHANGHAI
from tests.bot.helpers import NOW, Clock
from tests.bot.test_service_storage import STEPS

START, END = date(2026, 11, 1), date(2026, 11, 25)
#: The namespaces an inline SVG declares: names, never fetched.
SVG_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def add_case(db: Database, number: str, **fields: Any) -> None:
    with db.transaction() as session:
        session.add(Case(number=number, channel="telegram", chat_id=7, locale="zh", **fields))


def seed(db: Database) -> None:
    """Three cases besides the one the merchant walks through (see `with_cases`)."""
    add_case(  # handed to a person at once; answered after 20 min, resolved after 5 h, rated 2
        db,
        "PB-20261110-0001",
        status="resolved",
        created_at=at(10, 9),
        escalated_at=at(10, 9),
        first_reply_at=at(10, 9, 20),
        resolved_at=at(10, 14),
        rating=2,
    )
    add_case(  # overdue, escalated, answered after 40 min, still with support
        db,
        "PB-20261112-0001",
        status="assigned",
        outcome="E",
        created_at=at(12, 10),
        escalated_at=at(12, 10, 5),
        first_reply_at=at(12, 10, 45),
    )
    add_case(db, "PB-20261031-0001", outcome="B", created_at=at(1, 0) - timedelta(minutes=1))


def with_cases(url: str, make_components: Any) -> None:
    """A merchant's real case (outcome A, money arrived after 6 hours, rated 5), then `seed`."""
    clock = Clock()
    parts = make_components(url, clock)
    chat = ChatRef("telegram", 424242, 424242, "zh")
    for step in [*STEPS, Incoming("button", text="x:confirm")]:
        parts.service.handle(chat, step)
    clock.now = NOW + timedelta(hours=6)
    parts.service.handle(chat, Incoming("button", text="x:arrived"))
    parts.service.handle(chat, Incoming("button", text="k:rate:PB-20261125-0001:5"))
    seed(parts.db)


def test_numbers_from_the_database(database_url: str, make_components: Any) -> None:
    with_cases(database_url, make_components)
    parts = make_components(database_url)
    with parts.db.transaction() as session:
        numbers = load_numbers(session, START, END)
    assert numbers.total == 3  # the case of October 31st (Beijing) is outside
    assert numbers.by_outcome == {"A": 1, "B": 0, "C": 0, "D": 0, "E": 1, "F": 0, "none": 1}
    assert numbers.per_period["A"][24] == 1  # November 25th
    assert numbers.per_period["none"][9] == 1  # November 10th
    assert numbers.first_reply_minutes.values == (20.0, 40.0)
    assert numbers.first_reply_minutes.median == pytest.approx(30.0)
    assert numbers.resolution_hours.values == (5.0, 6.0)
    assert (numbers.escalated, numbers.resolved, numbers.resolved_without_person) == (2, 2, 1)
    assert numbers.share_without_person == 0.5
    assert numbers.ratings == (0, 1, 0, 0, 1)


def seeded_numbers(tmp_path: Path, make_components: Any) -> ReportNumbers:
    url = f"sqlite:///{tmp_path}/report.sqlite3"
    with_cases(url, make_components)
    with make_components(url).db.transaction() as session:
        return load_numbers(session, START, END)


@pytest.fixture
def numbers(tmp_path: Path, make_components: Any) -> ReportNumbers:
    return seeded_numbers(tmp_path, make_components)


RENDERER = Renderer(settings={"operator_name": "Test Pay"})
#: The id of a glyph of a CJK font drawn into an SVG, e.g. "people-WenQuanYiMicroHei-65e0".
CJK_GLYPH = re.compile(r'id="[^"]*-(WenQuanYi|Noto)[^"]*"')


def external_urls(page: str) -> set[str]:
    return set(re.findall(r"https?://[^\s\"'<>)]+", page)) - SVG_NAMESPACES


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_page_holds_every_chart_and_nothing_from_outside(numbers: Any, locale: str) -> None:
    page = report_html(RENDERER, numbers, locale, NOW)
    assert page.startswith("<!DOCTYPE html>")
    for name in charts.CHARTS:
        figure = re.search(rf'<figure id="{name}">(.*?)</figure>', page, re.S)
        assert figure is not None, name
        assert "<svg" in figure.group(1)
        assert "<path" in figure.group(1)
    assert external_urls(page) == set()
    assert not re.search(r"<(script|link|iframe|img)\b", page)
    assert not re.search(r"\ssrc=|@import|url\((?!#)", page)  # SVG's url(#clip) is inside
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'\"" in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids must be unique once the SVGs are inlined"
    assert ("查询单报表" in page) == (locale == "zh")
    assert "Test Pay" in page


def test_the_picture_is_one_png_with_every_chart(numbers: Any) -> None:
    picture = report_png(RENDERER, numbers, "zh")
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(picture)) as image:
        assert image.size == (1200, 1200)
    caption = report_caption(RENDERER, numbers, "zh")
    assert len(caption) <= 1024  # Telegram's caption limit
    assert "查询单 3" in caption
    assert "50% 无需人工" in caption


def test_an_empty_period_draws_without_data(numbers: Any) -> None:
    from flows.report import aggregate

    empty = aggregate([], END, END)
    assert report_png(RENDERER, empty, "en").startswith(b"\x89PNG")
    page = report_html(RENDERER, empty, "en", NOW)
    assert page.count("<svg") == len(charts.CHARTS)


@pytest.mark.skipif(charts.cjk_family() is None, reason="no CJK font on this machine")
def test_chinese_charts_use_the_cjk_font(numbers: Any) -> None:
    page = report_html(RENDERER, numbers, "zh", NOW)
    assert CJK_GLYPH.search(page)


def test_without_a_cjk_font_the_charts_fall_back_to_english(
    numbers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charts, "cjk_family", lambda: None)
    assert charts.chart_locale("zh") == "en"
    page = report_html(RENDERER, numbers, "zh", NOW)  # no "glyph missing" warning (= error)
    assert "查询单报表" in page  # the page keeps its language; the browser has fonts
    assert not CJK_GLYPH.search(page)
    assert report_png(RENDERER, numbers, "zh").startswith(b"\x89PNG")


def test_posbot_report_writes_the_page(tmp_path: Path, make_components: Any) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    with_cases(url, make_components)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        main,
        ["report", "--out", str(out), "--since", "2026-11-01", "--days", "25", "--lang", "en"],
        env={"POSBOT_DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.stderr
    page = out.read_text(encoding="utf-8")
    assert "November 1, 2026" in page
    assert "November 25, 2026" in page
    assert page.count("<figure") == len(charts.CHARTS)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--since", "yesterday"], "not a date like 2026-11-01"),
        (["--since", "2026-13-01"], "not a date like 2026-11-01"),
        (["--since", "2999-01-01"], "is in the future"),
        (["--days", "0"], "--days"),
        (["--days", "many"], "--days"),
    ],
)
def test_posbot_report_refuses_bad_periods_without_a_traceback(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    result = CliRunner().invoke(
        main,
        ["report", "--out", str(tmp_path / "r.html"), *args],
        env={"POSBOT_DATABASE_URL": f"sqlite:///{tmp_path}/none.sqlite3"},
    )
    assert result.exit_code == 2
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


def test_posbot_report_says_when_it_cannot_write(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["report", "--out", str(tmp_path / "missing" / "r.html")],
        env={"POSBOT_DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite3"},
    )
    assert result.exit_code == 1
    assert "cannot write" in result.output
    assert "Traceback" not in result.output
