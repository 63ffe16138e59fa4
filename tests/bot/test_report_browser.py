"""The report page renders in headless Chromium: every chart in the DOM, nothing on the console.

The page has no script and a Content-Security-Policy of `default-src 'none'`, so any console line
(an error, or a blocked attempt to load something from outside) is a failure. Skipped without
Chromium (CI installs Debian's `chromium`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.ops import charts
from bot.ops.report import report_html
from flows.report import ReportNumbers
from tests.bot.helpers import NOW
from tests.bot.test_report import RENDERER, seeded_numbers

BROWSER = next(
    (
        path
        for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
        if (path := shutil.which(name))
    ),
    None,
)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed")


@pytest.fixture
def numbers(tmp_path: Path, make_components: Any) -> ReportNumbers:
    return seeded_numbers(tmp_path, make_components)


def render_in_chromium(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM after loading, and the console lines Chromium logged."""
    assert BROWSER is not None
    done = subprocess.run(
        [
            BROWSER,
            "--headless=new",
            "--disable-gpu",
            "--no-sandbox",  # CI runs as root
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # never the network, whatever the page says
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LANG": "C.UTF-8"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_report_renders_with_every_chart_and_no_console_message(
    tmp_path: Path, numbers: ReportNumbers, locale: str
) -> None:
    page = tmp_path / f"report.{locale}.html"
    page.write_text(report_html(RENDERER, numbers, locale, NOW), encoding="utf-8")
    dom, console = render_in_chromium(page, tmp_path / "profile")
    assert console == []
    for name in charts.CHARTS:
        figure = re.search(rf'<figure id="{name}">(.*?)</figure>', dom, re.S)
        assert figure is not None, f"{name} missing from the rendered DOM"
        svg = re.search(r"<svg\b[^>]*>(.*)</svg>", figure.group(1), re.S)
        assert svg is not None, name
        assert len(re.findall(r"<path\b", svg.group(1))) > 5, name


def test_the_console_check_catches_errors_and_outside_loads(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
        "<img src='https://example.invalid/x.png'><script>throw new Error('kaput')</script>"
        "</body></html>",
        encoding="utf-8",
    )
    _, console = render_in_chromium(page, tmp_path / "profile")
    assert any("Uncaught Error: kaput" in line for line in console), console
    assert any("Content Security Policy" in line for line in console), console
