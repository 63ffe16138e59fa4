"""A deployment's own cycles and banks, as the pure flow sees them (no file, no channel)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows.banks import BANKS, BUTTON_BANKS, DEFAULT_BANKS, BankDirectory, Institution
from flows.diagnosis import Outcome, Policy, diagnose
from flows.facts import CycleAnswer
from flows.intake import IntakeFlow
from flows.questions import BY_STATE, tailored
from flows.settlement_calendar import Cycle, WorkCalendar
from tests.flows.dialogue import NOW, Dialogue
from tests.flows.test_diagnosis import BASE

NBCB = Institution("nbcb", "宁波银行", "Bank of Ningbo", "95574", ("宁行",))
ICBC_LOCAL = replace(BANKS[0], hotline="95588-1")
BANKS_PLUS = BankDirectory((ICBC_LOCAL, *BANKS[1:], NBCB), (*BUTTON_BANKS, "nbcb"))
POLICY = Policy(calendar=WorkCalendar(), cycles=(Cycle.T1, Cycle.D0), banks=BANKS_PLUS)


class TailoredDialogue(Dialogue):
    flow = IntakeFlow(POLICY)


def at_cycle_question() -> TailoredDialogue:
    dialogue = TailoredDialogue()
    dialogue.command("start")
    dialogue.answer_all(
        [
            "press:x:begin",
            "11月18日下午3点",  # a week ago: overdue, so the summary calls the bank
            "1280",
            "press:a:method:card",
            "press:a:card_type:sale",
            "press:a:terminal:success",
            "press:a:records:success",
            "press:a:received:none",
        ]
    )
    assert dialogue.state == "asking_cycle"
    return dialogue


def test_default_questions_are_the_module_questions() -> None:
    assert tailored(tuple(Cycle), DEFAULT_BANKS) == BY_STATE


def test_only_offered_cycles_are_buttons() -> None:
    dialogue = at_cycle_question()
    cycles = [b for b in dialogue.buttons() if b.startswith("a:cycle:")]
    assert cycles == ["a:cycle:t1", "a:cycle:d0", "a:cycle:unsure"]
    assert dialogue.last[-1].context["choices"] == ("t1", "d0", "unsure")


@pytest.mark.parametrize("refused", ["D+1", "次日", "press:a:cycle:d1"])
def test_a_cycle_not_offered_is_asked_again(refused: str) -> None:
    dialogue = at_cycle_question()
    dialogue.answer_all([refused])
    assert dialogue.state == "asking_cycle"
    assert dialogue.templates() == ["invalid"]
    assert "a:cycle:d1" not in dialogue.buttons()


def test_an_offered_cycle_typed_is_accepted() -> None:
    dialogue = at_cycle_question()
    dialogue.say("秒到")
    assert dialogue.record.answers["cycle"] == "d0"
    assert "a:bank:nbcb" in dialogue.buttons()


@pytest.mark.parametrize(
    ("step", "stored"),
    [
        ("press:a:bank:nbcb", {"code": "nbcb"}),
        ("宁行", {"code": "nbcb"}),
        ("工行", {"code": "icbc"}),
        ("press:a:bank:unsure", {"code": None, "unsure": True}),
    ],
)
def test_the_deployments_banks_are_matched(step: str, stored: dict[str, object]) -> None:
    dialogue = at_cycle_question()
    dialogue.answer_all(["press:a:cycle:t1", step])
    assert dialogue.record.answers["bank"] == stored


def test_a_bank_only_the_deployment_knows_is_free_text_elsewhere() -> None:
    dialogue = Dialogue()
    dialogue.command("start")
    dialogue.answer_all(["press:x:begin", "11月18日", "1", "press:a:method:wechat"])
    dialogue.answer_all(["press:a:terminal:success", "press:a:records:success"])
    dialogue.answer_all(["press:a:received:none", "press:a:cycle:t1", "宁行"])
    assert dialogue.record.answers["bank"] == {"name": "宁行"}


def test_the_call_bank_step_gives_the_deployments_hotline() -> None:
    overdue = replace(BASE, day=BASE.day.replace(day=2), cycle=CycleAnswer.T1)
    for code, hotline in (("icbc", "95588-1"), ("nbcb", "95574")):
        diagnosis = diagnose(replace(overdue, bank_code=code), NOW, POLICY)
        assert diagnosis.outcome is Outcome.OVERDUE
        call = next(a for a in diagnosis.actions if a.key == "call_bank")
        assert call.params == {"bank": code, "hotline": hotline}


def test_directory_lookups() -> None:
    assert BANKS_PLUS.by_code("nbcb") is NBCB
    assert BANKS_PLUS.by_code("nope") is None
    assert BANKS_PLUS.match("我的卡是宁波银行的") is NBCB
    assert DEFAULT_BANKS.match("宁波银行") is None
    assert BANKS_PLUS.match("Bank of China") == BANKS_PLUS.by_code("boc")


@pytest.mark.parametrize(
    ("banks", "buttons"), [((NBCB, NBCB), ()), ((NBCB,), ("icbc",))], ids=["twice", "unknown"]
)
def test_directory_rejects_inconsistent_lists(
    banks: tuple[Institution, ...], buttons: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="unique"):
        BankDirectory(banks, buttons)
