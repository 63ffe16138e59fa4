"""Every template renders in every locale with sample context, strictly and within limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from pathlib import Path

import pytest

from bot.rendering import MESSAGE_LIMIT, Renderer, split_message, templates_root
from flows.diagnosis import Outcome, diagnose
from flows.facts import AccountSignal, CardType, Method, Received, Records, TerminalResult
from flows.intake import IntakeRecord
from flows.replies import Reply
from tests.flows.dialogue import NOW, POLICY, Dialogue
from tests.flows.test_diagnosis import BASE
from tests.flows.test_intake import CARD_SALE

LOCALES = ("zh", "en")
RENDERER = Renderer(
    settings={"operator_name": "Test Pay", "retention_days": 180, "cutoff": "23:00"}
)
ROOT = templates_root()


def message_templates(locale: str) -> list[str]:
    return sorted(p.stem for p in (ROOT / locale).glob("*.j2") if not p.name.startswith("_"))


def test_both_locales_have_the_same_templates() -> None:
    assert message_templates("zh") == message_templates("en")
    zh = {p.name for p in (ROOT / "zh").iterdir()}
    en = {p.name for p in (ROOT / "en").iterdir()}
    assert zh == en


def _labels_keys(node: object, prefix: str = "") -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_labels_keys(v, f"{prefix}{k}.") for k, v in node.items()))
    return {prefix.rstrip(".")}


def test_labels_have_the_same_keys_in_both_locales() -> None:
    assert _labels_keys(RENDERER.labels("zh")) == _labels_keys(RENDERER.labels("en"))


def sample_contexts() -> dict[str, list[dict[str, object]]]:
    """Real contexts, captured from walks through the flow."""
    samples: dict[str, list[dict[str, object]]] = {}

    def collect(replies: list[Reply]) -> None:
        for reply in replies:
            samples.setdefault(reply.template, []).append(dict(reply.context))

    dialogue = Dialogue()
    collect(dialogue.command("start"))
    for step in CARD_SALE:
        dialogue.answer_all([step])
        collect(dialogue.last)
    collect(dialogue.press("c:amount"))
    collect(dialogue.say("abc"))
    collect(dialogue.say("abc"))
    collect(dialogue.say("abc"))
    collect(dialogue.say("100"))
    collect(dialogue.press("x:confirm"))
    collect(dialogue.press("x:arrived"))
    collect(dialogue.press("x:person"))
    collect(dialogue.command("help"))
    wallet = Dialogue()
    wallet.command("start")
    for step in [
        "press:x:begin",
        "今天",
        "88",
        "press:a:method:wechat",
        "press:a:terminal:success",
        "press:a:records:success",
        "press:a:received:none",
        "press:a:cycle:t1",
        "press:a:bank:cmb",
        "press:a:account:none",
        "press:a:acquirer:skip",
    ]:
        wallet.answer_all([step])
    collect(wallet.last)
    other = Dialogue()
    other.command("start")
    collect(other.answer_all(["press:x:begin"]) or other.last)
    collect(other.press("a:when:other"))
    collect(other.say("2026-01-05"))
    collect(other.command("start"))
    collect(other.command("cancel"))
    # Summaries for every outcome and every action.
    variants = [
        {},
        {"terminal": TerminalResult.FAILED},
        {"records": Records.FAILED},
        {"records": Records.MISSING},
        {"card_type": CardType.PREAUTH},
        {"received": Received.PARTIAL},
        {"day": date(2026, 11, 18)},
        {
            "day": date(2026, 11, 18),
            "method": Method.WECHAT,
            "card_type": None,
            "order_no": "4200001234202611181234567890",
        },
        {"day": date(2026, 11, 18), "method": Method.ALIPAY, "card_type": None},
        {"day": date(2026, 11, 18), "bank_code": None, "bank_name": "宁波银行"},
        {"day": date(2025, 1, 2), "time": None, "records": Records.CANNOT_CHECK},
        {"day": date(2026, 12, 31), "time": time(9, 0)},
        *({"day": date(2026, 11, 18), "account": s} for s in AccountSignal),
    ]
    for changes in variants:
        facts = replace(BASE, **changes)  # type: ignore[arg-type]
        diagnosis = diagnose(facts, NOW, POLICY)
        answers = {
            "when": {"day": facts.day.isoformat(), "time": None},
            "amount": "1.00",
            "method": facts.method.value,
        }
        samples["summary"].append(
            {
                "case_number": "PB-20261125-0001",
                "facts": facts,
                "answers": answers,
                "diagnosis": diagnosis,
                "now": NOW,
                "recheck": False,
            }
        )
    assert {d["diagnosis"].outcome for d in samples["summary"]} == set(Outcome)  # type: ignore[union-attr]
    for reason in (
        "unrecognised",
        "future",
        "not_positive",
        "too_many_decimals",
        "too_large",
        "wrong_length",
        "bad_characters",
        "choose",
    ):
        for field in (
            "when",
            "amount",
            "method",
            "bank",
            "acquirer",
            "reference",
            "terminal_id",
            "merchant_id",
            "voucher",
            "order_no",
        ):
            samples["invalid"].append(
                {
                    "field": field,
                    "reason": reason,
                    "attempt": 2,
                    "offer_help": False,
                    "optional": True,
                }
            )
    samples.setdefault("off_topic", []).extend([{"state": "idle"}, {"state": "summarized"}])
    for name in ("unknown_command", "non_text", "photo_received", "error", "stale_button"):
        samples.setdefault(name, []).append({})
    return samples


SAMPLES = sample_contexts()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", message_templates("zh"))
def test_template_renders(locale: str, template: str) -> None:
    assert template in SAMPLES, f"no sample context for {template}"
    for context in SAMPLES[template]:
        text = RENDERER.text(template, locale, context)
        assert text.strip()
        assert all(len(part) <= MESSAGE_LIMIT for part in split_message(text))
        if locale == "en":  # English, quoting at most the Chinese labels printed on a slip
            cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
            assert cjk <= 0.1 * len(text), text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_button_label_exists(locale: str) -> None:
    dialogue = Dialogue()
    dialogue.command("start")
    replies = list(dialogue.last)
    for step in [*CARD_SALE, "press:x:confirm"]:
        dialogue.answer_all([step])
        replies += dialogue.last
    for reply in replies:
        RENDERER.render(reply, locale)


def test_merchant_text_is_escaped() -> None:
    record = IntakeRecord(answers={"acquirer": "<b>x</b>"})
    text = RENDERER.text(
        "ask_acquirer",
        "zh",
        {"current": record.answers["acquirer"], "revising": True, "optional": True},
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in text


def test_split_message_keeps_parts_under_the_limit() -> None:
    text = "\n\n".join("段落" * 300 for _ in range(20))
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(p) <= MESSAGE_LIMIT for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_templates_ship_inside_the_package_tree() -> None:
    assert Path(ROOT / "zh" / "labels.toml").is_file()
