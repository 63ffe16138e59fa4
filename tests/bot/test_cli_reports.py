"""`posbot export cases` and `posbot stats`: masked columns, clear errors, the /stats numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bot.cli import EXPORT_COLUMNS, main
from bot.service import ChatRef, Incoming
from tests.bot.test_service_storage import STEPS


def with_a_case(tmp_path: Path, make_components: Any) -> dict[str, str]:
    url = f"sqlite:///{tmp_path}/r.sqlite3"
    parts = make_components(url)
    chat = ChatRef("telegram", 424242, 424242, "zh")
    for step in [*STEPS, Incoming("button", text="x:confirm")]:
        parts.service.handle(chat, step)
    parts.db.dispose()
    return {"POSBOT_DATABASE_URL": url}


def test_export_csv_and_jsonl_are_masked(tmp_path: Path, make_components: Any) -> None:
    env = with_a_case(tmp_path, make_components)
    result = CliRunner().invoke(main, ["export", "cases", "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [list(row) for row in rows] == [list(EXPORT_COLUMNS)]
    assert rows[0]["number"] == "PB-20261125-0001"
    assert rows[0]["outcome"] == "A"
    assert "424242" not in result.output
    lines = (
        CliRunner()
        .invoke(main, ["export", "cases", "--format", "jsonl", "--since", "2026-11-01"], env=env)
        .output.splitlines()
    )
    assert json.loads(lines[0])["amount"] == "1280.50"
    later = CliRunner().invoke(main, ["export", "cases", "--since", "2099-01-01"], env=env)
    assert later.output.strip() == ",".join(EXPORT_COLUMNS)


def test_export_refuses_a_bad_date_without_a_traceback(
    tmp_path: Path, make_components: Any
) -> None:
    env = with_a_case(tmp_path, make_components)
    result = CliRunner().invoke(main, ["export", "cases", "--since", "yesterday"], env=env)
    assert result.exit_code == 2
    assert "--since" in result.output
    assert "Traceback" not in result.output


def test_stats_prints_the_support_numbers(tmp_path: Path, make_components: Any) -> None:
    env = with_a_case(tmp_path, make_components)
    result = CliRunner().invoke(main, ["stats"], env=env)
    assert result.exit_code == 0, result.output
    assert "工单统计" in result.output
    assert "A 1" in result.output
