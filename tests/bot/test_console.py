"""`posbot chat`: the terminal channel reaches a summary on the same service."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.channels.console import parse_line, plain
from bot.ops.cli import main
from tests.bot.conftest import Factory
from tests.console_script import run_console

SCRIPT = ["1", "昨天下午3点", "1280元", "1", "1", "1", "1", "1", "1", "1", "1", "拉卡拉", "#2", "1"]


def test_console_walks_to_a_summary(tmp_path: Path, make_components: Factory) -> None:
    parts = make_components(f"sqlite:///{tmp_path}/chat.sqlite3")
    transcript = run_console(parts.service, SCRIPT, "zh")
    assert "[1] 开始排查" in transcript
    assert "PB-20261125-0001" in transcript
    assert "<b>" not in transcript


def test_parse_line_numbers_are_buttons_only_when_there_is_a_choice() -> None:
    choice = [("今天", "a:when:today"), ("返回", "x:back")]
    text_only = [("跳过", "a:reference:skip"), ("返回", "x:back")]
    assert parse_line("1", choice).text == "a:when:today"
    assert parse_line("1", text_only).kind == "text"
    assert parse_line("#1", text_only).text == "a:reference:skip"
    assert parse_line("/lang en", choice).command == "lang"
    assert parse_line("99", choice).kind == "text"
    assert parse_line("²", choice).kind == "text"  # a digit to isdigit, not to int()
    assert parse_line("#²", choice).kind == "text"


def test_plain_drops_tags_and_decodes_entities() -> None:
    assert plain("<b>a &lt;b&gt;</b>") == "a <b>"


def test_posbot_chat_command(tmp_path: Path, monkeypatch: object) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["chat", "--lang", "en"],
        input="\n".join(SCRIPT) + "\n",
        env={"POSBOT_DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3"},
    )
    assert result.exit_code == 0, result.output
    assert "[1] Start" in result.output
    assert "Reference no." in result.output or "Review" in result.output or "PB-" in result.output
