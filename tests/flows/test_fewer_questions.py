"""Fewer questions, the same advice: wherever a question is not asked, no answer to it could
have changed the diagnosis (outcome, due date, notes, steps), over every combination of the
button answers at every moment of the exhaustive advice test."""

from __future__ import annotations

from dataclasses import replace

from flows.diagnosis import diagnose
from flows.facts import CardType, CycleAnswer, Method
from flows.questions import BY_FIELD
from tests.flows.dialogue import POLICY
from tests.flows.test_advice_exhaustive import answers_of, every_case


def test_a_question_not_asked_never_changes_the_diagnosis() -> None:
    skipped = {"cycle": 0, "card_type": 0}
    for facts, moment in every_case():
        answers = answers_of(facts)
        without_cycle = {k: v for k, v in answers.items() if k != "cycle"}
        if not BY_FIELD["cycle"].applies(without_cycle):
            skipped["cycle"] += 1
            # As the intake stores it (no cycle answer), and with every answer it could get.
            expected = diagnose(replace(facts, cycle=CycleAnswer.UNSURE), moment.now, POLICY)
            for cycle in CycleAnswer:
                assert diagnose(replace(facts, cycle=cycle), moment.now, POLICY) == expected
        without_type = {k: v for k, v in answers.items() if k != "card_type"}
        # With a slip the type is the printed one (Facts.from_answers), never asked.
        if (
            facts.method is Method.CARD
            and facts.slip_type is None
            and not BY_FIELD["card_type"].applies(without_type)
        ):
            skipped["card_type"] += 1
            expected = diagnose(replace(facts, card_type=None), moment.now, POLICY)
            for card_type in CardType:
                got = diagnose(replace(facts, card_type=card_type), moment.now, POLICY)
                assert got == expected
    # Both rules skip something (a test that skips nothing could not fail).
    assert skipped["cycle"] > 10_000, skipped
    assert skipped["card_type"] > 1_000, skipped


def test_the_questions_that_can_matter_are_still_asked() -> None:
    base = {"method": "card", "terminal": "success", "received": "none"}
    assert BY_FIELD["cycle"].applies({**base, "records": "success"})
    assert not BY_FIELD["cycle"].applies({**base, "records": "failed"})
    assert BY_FIELD["cycle"].applies({"method": "card"})  # not known yet: asked
    assert BY_FIELD["card_type"].applies({"method": "card"})
    assert not BY_FIELD["card_type"].applies({**base, "records": "failed"})
    assert BY_FIELD["card_type"].applies({**base, "records": "success"})  # preauth: D
    assert not BY_FIELD["card_type"].applies({"method": "wechat"})
