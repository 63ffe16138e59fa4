"""Wording checks over every rendered message: sentences not glued together, hints said once."""

from __future__ import annotations

import re

import pytest

from bot.conversation.rendering import Renderer
from flows.questions import QUESTIONS
from tests.flows.dialogue import Dialogue
from tests.templates.test_render import DEPLOYED, LOCALES, RENDERER, SAMPLES, message_templates

REASONS = (
    "unrecognised",
    "future",
    "not_positive",
    "too_many_decimals",
    "too_large",
    "wrong_length",
    "bad_characters",
    "choose",
)
#: The wrong-answer message at every question, for every reason, attempt and optional-ness.
INVALID = [
    {"field": q.field, "reason": r, "attempt": a, "offer_help": a >= 3, "optional": o}
    for q in QUESTIONS
    for r in REASONS
    for a in (1, 2, 3)
    for o in (True, False)
]
# A sentence end followed at once by the next sentence: "question.Sorry", "Wang.Note".
GLUED = re.compile(r"[a-z0-9)\]][.!?][\"'”’)]?[A-Z]")
SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]")
TAG = re.compile(r"<[^>]+>")


def contexts(template: str) -> list[dict[str, object]]:
    return SAMPLES[template] + (INVALID if template == "invalid" else [])  # type: ignore[operator]


@pytest.mark.parametrize("renderer", [RENDERER, DEPLOYED], ids=["defaults", "deployed"])
@pytest.mark.parametrize("template", message_templates("en"))
def test_no_english_sentences_are_glued_together(renderer: Renderer, template: str) -> None:
    for context in contexts(template):
        text = TAG.sub("", renderer.text(template, "en", context))
        glued = [text[max(0, m.start() - 30) : m.end() + 10] for m in GLUED.finditer(text)]
        assert not glued, (template, context)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_wrong_answer_says_each_hint_once(locale: str) -> None:
    for context in INVALID:
        text = TAG.sub("", RENDERER.text("invalid", locale, context))
        sentences = [s.strip() for s in SENTENCE.findall(text)]
        assert len(sentences) == len(set(sentences)), (context, text)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_first_wrong_answer_at_a_button_question_prints_its_hint_once(locale: str) -> None:
    dialogue = Dialogue()
    dialogue.command("start")
    dialogue.answer_all(["press:x:begin", "昨天", "1280"])
    dialogue.say("no idea")
    assert dialogue.templates() == ["invalid"]
    text = RENDERER.render(dialogue.last[0], locale).text
    hint = "请点击下面的一个按钮来回答。" if locale == "zh" else "Please answer by pressing one"
    assert text.count(hint) == 1, text


#: The wallet's number for a payment, one name per locale (the one WeChat Pay's bill shows).
ORDER_TERM = {"zh": ("交易单号", ("订单号",)), "en": ("ransaction n", ("rder n",))}


@pytest.mark.parametrize("locale", LOCALES)
def test_the_wallet_order_number_has_one_name_everywhere(locale: str) -> None:
    term, others = ORDER_TERM[locale]
    named = [
        RENDERER.text("ask_order_no", locale, {"current": None, "revising": False}),
        RENDERER.label(locale, "fields.order_no"),
        RENDERER.label(locale, "buttons.change.order_no"),
        *(
            RENDERER.text("invalid", locale, {**context, "reason": "unrecognised"})
            for context in INVALID
            if context["field"] == "order_no"
        ),
    ]
    assert all(term in text for text in named), named
    everything = named + [
        RENDERER.text(template, locale, context)
        for template in message_templates(locale)
        for context in contexts(template)
    ]
    assert not [text for text in everything if any(other in text for other in others)]


def test_the_t1_button_says_next_working_day_as_the_question_does() -> None:
    label = RENDERER.label("zh", "buttons.cycle.t1")
    assert label == "T+1（下一个工作日）"
    question = RENDERER.text("ask_cycle", "zh", SAMPLES["ask_cycle"][0])  # type: ignore[arg-type]
    assert "下一个工作日" in question


@pytest.mark.parametrize(("typed", "cycle"), [("下一个工作日", "t1"), ("第二天", "d1")])
def test_the_cycle_words_of_the_buttons_can_be_typed(typed: str, cycle: str) -> None:
    dialogue = Dialogue()
    dialogue.command("start")
    dialogue.answer_all(["press:x:begin", "昨天", "1", "press:a:method:wechat"])
    dialogue.answer_all(["press:a:terminal:success", "press:a:records:success"])
    dialogue.answer_all(["press:a:received:none", typed])
    assert dialogue.record.answers["cycle"] == cycle
