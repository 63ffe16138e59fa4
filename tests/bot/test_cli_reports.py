"""`posbot export cases` and `posbot stats`: masked columns, clear errors, the /stats numbers."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.conversation.messages import ChatRef, Incoming
from bot.conversation.rendering import Renderer
from bot.ops.cli import main
from bot.ops.terminal_table import display_width, stats_table
from bot.storage.models import Case
from tests.bot.test_service_storage import STEPS

#: What a merchant typed that identifies them or their card: none of it may leave in an export.
MERCHANT_ID = "898310058120345"
REFERENCE = "412345678901"
TERMINAL_ID = "87654321"
VOUCHER = "004521"
CARD = "6222021234567890123"
TYPED_AMOUNT = "1,280.50"
CHAT_ID = 424242
STEPS_WITH_KEYS = [
    *STEPS[:-1],
    # A card number typed where no question asks for it: refused and redacted, never kept.
    Incoming("text", text=f"卡号 {CARD}"),
    STEPS[-1],
    # The keys are not asked on the way: the merchant adds them on the review.
    Incoming("button", text="c:reference"),
    Incoming("text", text="4123456789 01"),  # the reference, as typed, with a space
    Incoming("button", text="c:terminal_id"),
    Incoming("text", text="8765 4321"),
    Incoming("button", text="c:merchant_id"),
    Incoming("text", text="898 310 058 120 345"),
    Incoming("button", text="c:voucher"),
    Incoming("text", text=VOUCHER),
    Incoming("button", text="x:confirm"),
]
#: The export's columns, written out: a new column must be added here on purpose.
EXPECTED_COLUMNS = [
    "number",
    "status",
    "outcome",
    "amount",
    "trade_date",
    "due_date",
    "due_estimated",
    "escalation_reason",
    "duplicate_of",
    "rating",
    "created_at",
    "escalated_at",
    "first_reply_at",
    "resolved_at",
]


def with_a_case(tmp_path: Path, make_components: Any) -> dict[str, str]:
    url = f"sqlite:///{tmp_path}/r.sqlite3"
    parts = make_components(url)
    chat = ChatRef("telegram", CHAT_ID, CHAT_ID, "zh")
    for step in STEPS_WITH_KEYS:
        parts.service.handle(chat, step)
    with parts.db.transaction() as session:  # the case does hold them: the export must not
        facts = session.scalars(select(Case.facts)).one()
    assert (facts["merchant_id"], facts["reference"]) == (MERCHANT_ID, REFERENCE)
    assert (facts["terminal_id"], facts["voucher"]) == (TERMINAL_ID, VOUCHER)
    parts.db.dispose()
    return {"POSBOT_DATABASE_URL": url}


def assert_nothing_personal(output: str) -> None:
    digits = re.sub(r"[^0-9]", "", output)
    for secret in (MERCHANT_ID, REFERENCE, TERMINAL_ID, VOUCHER, CARD, str(CHAT_ID)):
        assert secret not in output, secret
        assert secret not in digits, f"{secret} with separators"
    # Not even part of the card: at most a masked form's first six and last four digits.
    assert CARD[6:-4] not in digits
    assert TYPED_AMOUNT not in output


def test_export_csv_and_jsonl_are_masked(tmp_path: Path, make_components: Any) -> None:
    env = with_a_case(tmp_path, make_components)
    result = CliRunner().invoke(main, ["export", "cases", "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == ",".join(EXPECTED_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 1
    (row,) = rows
    assert row["number"] == "PB-20261125-0001"
    assert row["outcome"] == "A"
    assert row["amount"] == "1280.50"  # the amount, in its column only
    assert [name for name, value in row.items() if "1280" in value] == ["amount"]
    assert_nothing_personal(result.output)

    jsonl = CliRunner().invoke(
        main, ["export", "cases", "--format", "jsonl", "--since", "2026-11-01"], env=env
    )
    assert jsonl.exit_code == 0, jsonl.output
    (line,) = jsonl.output.splitlines()
    record = json.loads(line)
    assert list(record) == EXPECTED_COLUMNS
    assert record["amount"] == "1280.50"
    assert [name for name, value in record.items() if "1280" in str(value)] == ["amount"]
    assert_nothing_personal(jsonl.output)

    later = CliRunner().invoke(main, ["export", "cases", "--since", "2099-01-01"], env=env)
    assert later.output.strip() == ",".join(EXPECTED_COLUMNS)


def test_export_refuses_a_bad_date_without_a_traceback(
    tmp_path: Path, make_components: Any
) -> None:
    env = with_a_case(tmp_path, make_components)
    result = CliRunner().invoke(main, ["export", "cases", "--since", "yesterday"], env=env)
    assert result.exit_code == 2
    assert "--since" in result.output
    assert "Traceback" not in result.output


def test_stats_prints_a_table(tmp_path: Path, make_components: Any) -> None:
    env = with_a_case(tmp_path, make_components)
    result = CliRunner().invoke(main, ["stats"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output == (
        "查询单统计\n"
        "-----------------------\n"
        "查询单总数            1\n"
        "状态：已给出结果      1\n"
        "判断：A 未到结算时间  1\n"
        "首次回复中位数        —\n"
        "解决用时中位数        —\n"
        "无需人工即解决        —\n"
    )


#: Numbers as `case_stats` gives them, with every kind of row filled.
NUMBERS = {
    "total": 7,
    "by_status": {"resolved": 4, "open": 2, "escalated": 1},
    "by_outcome": {"E": 2, "A": 5},
    "median_first_reply_minutes": 12.4,
    "median_resolution_hours": 26.3,
    "resolved": 4,
    "share_without_person": 0.75,
}


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "zh",
            """\
查询单统计
----------------------------------------
查询单总数            7
状态：已给出结果      2
状态：待认领          1
状态：已解决          4
判断：A 未到结算时间  5
判断：E 已逾期        2
首次回复中位数        12 分钟
解决用时中位数        26.3 小时
无需人工即解决        75%（已解决 4 单）""",
        ),
        (
            "en",
            """\
Case statistics
-----------------------------------------------
Cases                       7
State: answered             2
State: unclaimed            1
State: resolved             4
Outcome: A not yet due      5
Outcome: E overdue          2
Median time to first reply  12 min
Median time to resolution   26.3 h
Resolved without a person   75% (of 4 resolved)""",
        ),
    ],
)
def test_stats_table_aligns_values_in_both_languages(locale: str, expected: str) -> None:
    assert stats_table(Renderer(settings={}), locale, NUMBERS) == expected


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("工单 A") == 6
    assert display_width("１２") == 4  # full-width digits
    assert display_width("e\u0301") == 1  # a combining accent takes no column
