"""Walks of the intake machine: order of questions, back, change, bad input, outcomes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from flows.intake import IntakeFlow, build_machine
from flows.intake_table import STATES, TRANSITIONS
from flows.replies import CALLBACK_DATA_LIMIT
from flows.settlement_calendar import SHANGHAI
from tests.flows.dialogue import POLICY, Dialogue

KEYS_FIRST = IntakeFlow(replace(POLICY, keys_first=True))

CARD_SALE = [
    "press:x:begin",
    "昨天下午3点",
    "1,280.50元",
    "press:a:method:card",
    "press:a:card_type:sale",
    "press:a:terminal:success",
    "press:a:records:success",
    "press:a:received:none",
    "press:a:cycle:t1",
    "press:a:account:none",
]
#: Asked only where a step or a trace needs them: the bank for an overdue payment (its
#: hotline), the acquirer for a wallet payment, the receipt keys with a records lookup.
CARD_SALE_KEYS = [
    "312345678901",
    "12345678",
    "press:a:merchant_id:skip",
    "004521",
]


def started() -> Dialogue:
    dialogue = Dialogue()
    dialogue.command("start")
    return dialogue


def test_welcome_offers_start_person_and_languages() -> None:
    dialogue = started()
    assert dialogue.templates() == ["welcome"]
    assert dialogue.buttons() == ["x:begin", "x:person", "l:zh", "l:en"]
    assert dialogue.state == "idle"


def test_card_sale_walks_every_question_in_order_to_review_and_summary() -> None:
    dialogue = started()
    asked = []
    for step in CARD_SALE:
        dialogue.answer_all([step])
        asked.append(dialogue.templates()[-1])
    assert asked == [
        "ask_when",
        "ask_amount",
        "ask_method",
        "ask_card_type",
        "ask_terminal",
        "ask_records",
        "ask_received",
        "ask_cycle",
        "ask_account",
        "review",
    ]
    assert dialogue.record.consented_at == dialogue.now
    assert dialogue.record.answers["when"] == {"day": "2026-11-24", "time": "15:00"}
    assert dialogue.record.answers["amount"] == "1280.50"
    # Not due yet: neither the bank (no hotline to give), nor the acquirer's name (it only
    # changes the words), nor the receipt keys (no trace yet) were asked.
    assert not {"bank", "acquirer", "reference", "merchant_id"} & set(dialogue.record.answers)
    review = dialogue.last[-1]
    assert [item["field"] for item in review.context["items"]] == [
        "when", "amount", "method", "card_type", "terminal", "records", "received", "cycle",
        "account",
    ]  # fmt: skip
    dialogue.press("x:confirm")
    assert dialogue.state == "summarized"
    (summary,) = dialogue.last
    assert summary.template == "summary"
    assert summary.context["case_number"] == "PB-20261125-0001"
    assert summary.context["diagnosis"].outcome == "A"
    assert set(dialogue.buttons()) == {
        "x:followup",
        "x:arrived",
        "x:missing",
        "x:person",
        "x:begin",
    }


def test_wallet_payment_skips_card_type_and_receipt_keys() -> None:
    dialogue = started()
    dialogue.answer_all(["press:x:begin", "press:a:when:today", "88", "press:a:method:wechat"])
    assert dialogue.templates() == ["ask_terminal"]
    dialogue.answer_all(
        [
            "press:a:terminal:success",
            "press:a:records:success",
            "press:a:received:none",
            "press:a:cycle:unsure",
            "press:a:account:none",
        ]
    )
    # Who gave the QR code decides who to contact: the platform, or that acquirer.
    assert dialogue.templates() == ["ask_acquirer"]
    dialogue.say("收钱吧")
    assert dialogue.state == "reviewing"  # the transaction number only at a hand-off
    dialogue.press("x:back")
    assert dialogue.state == "asking_acquirer"


def test_an_overdue_payment_asks_the_bank_for_its_hotline() -> None:
    dialogue = started()
    script = list(CARD_SALE)
    script[1] = "11月18日下午3点"  # a week ago, T+1: overdue
    dialogue.answer_all(script[:9])
    assert dialogue.state == "asking_bank"
    dialogue.press("a:bank:icbc")
    dialogue.press("x:back")
    assert dialogue.state == "asking_bank"
    dialogue.answer_all(["press:a:bank:icbc", "press:a:account:none", "press:x:confirm"])
    (call,) = [a for a in dialogue.last[0].context["diagnosis"].actions if a.key == "call_bank"]
    assert call.params["hotline"] == "95588"


def test_a_bank_not_asked_is_asked_at_confirm_when_the_payment_became_overdue() -> None:
    dialogue = started()
    dialogue.answer_all(CARD_SALE)  # yesterday: not due yet, the bank was not asked
    assert dialogue.state == "reviewing"
    assert "bank" not in dialogue.record.answers
    dialogue.press("c:when")
    dialogue.say("11月18日下午3点")
    dialogue.press("x:confirm")
    assert dialogue.state == "asking_bank"
    dialogue.press("a:bank:unsure")
    assert dialogue.state == "reviewing"
    dialogue.press("x:confirm")
    assert dialogue.state == "summarized"


def test_no_receipt_at_hand_skips_the_remaining_keys() -> None:
    dialogue = started()
    dialogue.flow = KEYS_FIRST
    dialogue.answer_all(CARD_SALE[:3])
    assert dialogue.state == "asking_reference"
    dialogue.press("a:reference:noreceipt")
    assert dialogue.state == "asking_method"
    dialogue.answer_all(CARD_SALE[3:])
    assert dialogue.state == "reviewing"
    assert all(
        dialogue.record.answers[k] is None
        for k in ("reference", "terminal_id", "merchant_id", "voucher")
    )


def test_typed_words_answer_choice_questions() -> None:
    dialogue = started()
    dialogue.answer_all(["press:x:begin", "今天", "100", "微信"])
    assert dialogue.record.answers["method"] == "wechat"
    assert dialogue.state == "asking_terminal"


def test_back_goes_to_the_previous_question_and_skips_card_type_for_wallets() -> None:
    dialogue = started()
    dialogue.answer_all(["press:x:begin", "今天", "100", "press:a:method:alipay"])
    dialogue.command("back")
    assert dialogue.state == "asking_method"
    dialogue.press("a:method:card")
    assert dialogue.state == "asking_card_type"
    dialogue.press("a:card_type:sale")
    dialogue.press("x:back")
    assert dialogue.state == "asking_card_type"
    dialogue.command("back")
    dialogue.command("back")
    dialogue.command("back")
    assert dialogue.state == "asking_when"
    dialogue.command("back")
    assert dialogue.state == "idle"


def test_change_on_review_returns_to_review() -> None:
    dialogue = started()
    dialogue.answer_all(CARD_SALE)
    dialogue.press("c:amount")
    assert dialogue.state == "asking_amount"
    assert dialogue.last[0].context["current"] == "1280.50"
    dialogue.say("¥99")
    assert dialogue.state == "reviewing"
    assert dialogue.record.answers["amount"] == "99.00"
    dialogue.press("c:bank")
    dialogue.command("back")
    assert dialogue.state == "reviewing"


def test_switching_to_card_on_review_asks_the_card_type_before_the_summary() -> None:
    dialogue = started()
    dialogue.answer_all(
        [
            "press:x:begin",
            "今天",
            "100",
            "press:a:method:wechat",
            "press:a:terminal:success",
            "press:a:records:success",
            "press:a:received:none",
            "press:a:cycle:t1",
            "press:a:account:none",
            "press:a:acquirer:skip",
        ]
    )
    assert dialogue.state == "reviewing"
    dialogue.press("c:method")
    dialogue.press("a:method:card")
    assert dialogue.state == "reviewing"
    dialogue.press("x:confirm")
    assert dialogue.state == "asking_card_type"
    dialogue.press("a:card_type:preauth")
    assert dialogue.state == "reviewing"
    dialogue.press("x:confirm")
    assert dialogue.last[0].context["diagnosis"].outcome == "D"


def test_invalid_answers_get_different_hints_then_skip_and_a_person() -> None:
    dialogue = started()
    dialogue.flow = KEYS_FIRST
    dialogue.answer_all(CARD_SALE[:3])
    hints = []
    for _ in range(3):
        dialogue.say("12345")
        reply = dialogue.last[0]
        hints.append((reply.template, reply.context["attempt"], reply.context["reason"]))
    assert dialogue.templates() == ["invalid", "person_requested"]
    assert dialogue.desk.escalated == [("invalid_answers", "PB-20261125-0099")]
    assert hints == [
        ("invalid", 1, "wrong_length"),
        ("invalid", 2, "wrong_length"),
        ("invalid", 3, "wrong_length"),
    ]
    assert "a:reference:skip" in dialogue.buttons()
    assert "x:person" in dialogue.buttons()
    assert dialogue.state == "asking_reference"
    dialogue.press("x:person")  # already handed to people after the third failure
    assert dialogue.last[0].context["reason"] == "already"
    assert dialogue.desk.escalated == [("invalid_answers", "PB-20261125-0099")]


def test_required_question_offers_a_person_but_no_skip_after_three_failures() -> None:
    dialogue = started()
    dialogue.answer_all(["press:x:begin", "今天"])
    for _ in range(3):
        dialogue.say("很多钱")
    assert "x:person" in dialogue.buttons()
    assert not any(data.endswith(":skip") for data in dialogue.buttons())
    dialogue.say("0")
    assert dialogue.last[0].context["reason"] == "not_positive"


def test_future_date_is_refused() -> None:
    dialogue = started()
    dialogue.answer_all(["press:x:begin", "明天"])
    assert dialogue.templates() == ["invalid"]


def test_old_date_warns_and_continues() -> None:
    dialogue = started()
    dialogue.answer_all(["press:x:begin", "2026-03-01"])
    assert dialogue.templates() == ["warn_old", "ask_amount"]


def test_other_date_asks_for_text() -> None:
    dialogue = started()
    dialogue.answer_all(["press:x:begin", "press:a:when:other"])
    assert dialogue.templates() == ["ask_text"]
    assert dialogue.state == "asking_when"
    dialogue.say("11月20日 10:00")
    assert dialogue.state == "asking_amount"


def test_stale_button_is_refused_and_the_question_repeated() -> None:
    dialogue = started()
    dialogue.answer_all(["press:x:begin", "今天"])
    dialogue.press("a:when:yesterday")
    assert dialogue.templates() == ["stale_button", "ask_amount"]
    dialogue.press("x:confirm")
    assert dialogue.templates() == ["stale_button", "ask_amount"]


def test_cancel_keeps_nothing() -> None:
    dialogue = started()
    dialogue.answer_all(CARD_SALE[:5])
    dialogue.command("cancel")
    assert dialogue.state == "idle"
    assert dialogue.record.answers == {}
    assert dialogue.templates() == ["cancelled", "welcome"]
    assert dialogue.desk.opened == []


def test_start_in_the_middle_resumes() -> None:
    dialogue = started()
    dialogue.answer_all(CARD_SALE[:3])
    dialogue.command("start")
    assert dialogue.templates() == ["resume", "ask_method"]


def test_language_switch_re_asks_in_the_new_language() -> None:
    dialogue = started()
    dialogue.answer_all(CARD_SALE[:2])
    dialogue.command("lang", "en")
    assert dialogue.record.locale == "en"
    assert dialogue.templates() == ["ask_amount"]
    dialogue.command("lang")
    assert dialogue.record.locale == "zh"


def test_after_the_summary_arrived_and_still_missing() -> None:
    dialogue = started()
    dialogue.answer_all([*CARD_SALE, "press:x:confirm"])
    dialogue.now = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    dialogue.press("x:missing")
    (reply,) = dialogue.last
    assert reply.template == "still_missing"
    assert reply.context["diagnosis"].outcome == "E"
    assert reply.context["changed"]  # A at the summary, overdue now
    dialogue.press("x:arrived")
    assert dialogue.desk.resolved == ["PB-20261125-0001"]
    dialogue.press("x:begin")
    assert dialogue.state == "asking_when"
    assert dialogue.record.answers == {}


def test_machine_table_is_consistent() -> None:
    machine = build_machine()
    assert set(machine.states) == set(STATES)
    for transition in TRANSITIONS:
        sources = transition["source"]
        for source in [sources] if isinstance(sources, str) else sources:
            assert source == "*" or source in STATES
        assert transition["dest"] is None or transition["dest"] in STATES


@pytest.mark.parametrize("state", [s for s in STATES if s.startswith("asking_")])
def test_every_question_is_reachable(state: str) -> None:
    dests = {t["dest"] for t in TRANSITIONS if t["trigger"] in ("answer", "change")}
    assert state in dests


def test_callback_data_fits_telegram_limit() -> None:
    dialogue = started()
    dialogue.answer_all([*CARD_SALE, "press:x:confirm"])
    assert all(len(data.encode()) <= CALLBACK_DATA_LIMIT for data in dialogue.buttons())


def test_asking_for_a_person_again_says_so_and_hands_off_once() -> None:
    dialogue = started()
    dialogue.press("x:person")
    dialogue.press("x:person")
    (again,) = dialogue.last
    assert again.context["reason"] == "already"
    assert len(dialogue.desk.escalated) == 1


@pytest.mark.parametrize(
    ("script", "keys"),
    [
        (CARD_SALE, "receipt"),  # no key was asked: the hand-off asks for the slip
        ([*CARD_SALE, "press:c:reference", "312345678901"], None),
        (["press:x:begin", "今天", "88", "press:a:method:wechat"], "order"),
        (["press:x:begin", "今天"], None),  # the way of paying not known yet: nothing to ask
    ],
)
def test_the_hand_off_asks_for_the_keys_nobody_asked_for(script: list[str], keys: str) -> None:
    dialogue = started()
    dialogue.answer_all(script)
    dialogue.press("x:person")
    (handed,) = [r for r in dialogue.last if r.template == "person_requested"]
    assert handed.context["keys"] == keys


def test_a_partial_arrival_names_the_shortfall() -> None:
    dialogue = started()
    dialogue.tell("昨天下午3点刷了5000，T+1，只到了4970")
    dialogue.press("x:slip_ok")
    for data in ("a:card_type:sale", "a:terminal:success", "a:records:success"):
        dialogue.press(data)
    dialogue.answer_all(["press:a:account:none", "press:x:confirm"])
    (summary,) = dialogue.last
    assert summary.context["diagnosis"].outcome == "F"
    assert str(summary.context["shortfall"]) == "30.00"
    assert "received_amount" in summary.context["fields"]
