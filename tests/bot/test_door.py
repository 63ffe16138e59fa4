"""Redaction at the webhook's door: what `redact_update` keeps of an update, and what not."""

from __future__ import annotations

import json
from typing import Any

from telegram import Update

from bot.channels.telegram.door import FINDINGS_KEY, door_findings, redact_update
from flows.redaction import Finding
from tests.fake_bot_api import FakeBotApi

CHAT = 5001
CARD = "6222.0214.3456.7892"


def update_with(text: str, **message: Any) -> dict[str, Any]:
    api = FakeBotApi()
    update = {**api.text_update(CHAT, text), "update_id": 1}
    update["message"].update(message)
    return update


def test_the_stored_update_holds_the_masked_text_and_what_was_found() -> None:
    raw = update_with(f"卡 {CARD}，短信里的 482915 就是验证码")
    safe = redact_update(raw)
    stored = json.dumps(safe, ensure_ascii=False)
    assert "0214" not in stored
    assert "482915" not in stored
    assert safe["message"]["text"] == "卡 [card ****7892]，短信里的 [secret] 就是验证码"
    assert safe["message"][FINDINGS_KEY] == ["card", "secret"]
    assert raw["message"]["text"].startswith("卡 6222")  # the caller's dict is not changed
    message = Update.de_json(safe, None).message
    assert message is not None
    assert door_findings(message) == frozenset({Finding.CARD, Finding.SECRET})


def test_names_captions_quotes_and_contacts_are_masked_and_ids_kept() -> None:
    raw = update_with(
        "hello",
        caption="密碼是135790",
        contact={"phone_number": "+86 138 1234 5678", "first_name": "张", "user_id": 42},
        reply_to_message={"message_id": 3, "date": 0, "chat": {"id": CHAT, "type": "private"}},
        quote={"text": "手机1371 234 5670", "position": 0},
    )
    raw["message"]["from"]["first_name"] = "李 13712345670"
    raw["message"]["photo"] = [{"file_id": "AgAD6222021434567892", "file_unique_id": "u1"}]
    safe = redact_update(raw)
    stored = json.dumps(safe, ensure_ascii=False)
    for secret in ("135790", "1381234", "1371", "13712345670"):
        assert secret not in stored
    assert safe["message"]["photo"][0]["file_id"] == "AgAD6222021434567892"
    assert safe["message"]["chat"]["id"] == CHAT
    assert FINDINGS_KEY not in safe["message"]  # the text itself was clean


def test_button_data_is_kept_and_a_forged_finding_is_dropped() -> None:
    api = FakeBotApi()
    press = {**api.callback_update(CHAT, "k:rate:PB-20261125-0001:5"), "update_id": 2}
    assert redact_update(press)["callback_query"]["data"] == "k:rate:PB-20261125-0001:5"
    forged = update_with("你好", **{FINDINGS_KEY: ["secret"]})
    assert FINDINGS_KEY not in redact_update(forged)["message"]


def test_clean_text_is_stored_as_typed() -> None:
    raw = update_with("参考号 312345678901，金额 1,280.50，2026-11-24 15:30")
    assert redact_update(raw) == raw
