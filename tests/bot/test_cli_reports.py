"""`posbot export cases` and `posbot stats`: masked columns, clear errors, the /stats numbers."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.service import ChatRef, Incoming
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
    *STEPS[:-3],
    # A card number typed where no question asks for it: refused and redacted, never kept.
    Incoming("text", text=f"卡号 {CARD}"),
    *STEPS[-3:-1],
    Incoming("text", text="4123456789 01"),  # the reference, as typed, with a space
    Incoming("text", text="8765 4321"),
    Incoming("text", text="898 310 058 120 345"),
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


def test_stats_prints_the_support_numbers(tmp_path: Path, make_components: Any) -> None:
    env = with_a_case(tmp_path, make_components)
    result = CliRunner().invoke(main, ["stats"], env=env)
    assert result.exit_code == 0, result.output
    assert "工单统计" in result.output
    assert "A 1" in result.output
