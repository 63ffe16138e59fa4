"""Fewer questions, the same advice: wherever a question is not asked, no answer to it could
have changed the diagnosis (outcome, due date, notes, steps), over every combination of the
button answers at every moment of the exhaustive advice test."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flows.advice import LADDER
from flows.diagnosis import Action, Diagnosis, calls_bank, climb, diagnose
from flows.facts import CardType, CycleAnswer, Facts, Method
from flows.questions import BY_FIELD, keys_wanted, walked
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


#: Answers a trace needs, not the advice: where they are not asked, the steps only echo them.
KEY_PARAMS = frozenset({"reference", "terminal_id", "merchant_id", "voucher", "order_no"})
BANK_PARAMS = frozenset({"bank", "bank_name", "hotline"})


def _without(d: Diagnosis, params: frozenset[str]) -> Diagnosis:
    """The diagnosis with the words that only echo `params` left out (steps, rungs, the rest
    compared whole)."""
    actions = tuple(
        replace(a, params={k: v for k, v in a.params.items() if k not in params}) for a in d.actions
    )
    return replace(d, actions=actions)


def _ladder(facts: Facts, d: Diagnosis, now: datetime) -> list[Action | None]:
    given = tuple(r.value for r in d.rungs)
    steps = []
    for _ in range(len(LADDER) + 1):
        step = climb(facts, given, now, POLICY)
        steps.append(step.step)
        if step.step is None:
            break
        given = (*given, *step.given)
    return steps


def _strip(steps: list[Action | None], params: frozenset[str]) -> list[Action | None]:
    return [
        None
        if s is None
        else replace(s, params={k: v for k, v in s.params.items() if k not in params})
        for s in steps
    ]


def test_the_names_and_keys_not_asked_only_change_the_words_that_repeat_them() -> None:
    """The acquirer (asked for wallet payments only), the receipt keys (asked only with a
    records lookup) and the bank (asked only where the summary calls it): with any value, or
    none, the outcome, due date, notes and steps are the same, in the summary and on every rung
    of the ladder; only the words that repeat the value differ."""
    skipped = {"acquirer": 0, "keys": 0, "bank": 0}
    climbed: set[tuple[object, ...]] = set()
    for facts, moment in every_case():
        now = moment.now
        answers = {**answers_of(facts), "records_lookup": facts.records_lookup}
        d = diagnose(facts, now, POLICY)
        ladder_key = (moment.name, d.headline, d.rungs, facts.method, facts.records_lookup is None)
        check_ladder = ladder_key not in climbed
        climbed.add(ladder_key)
        if not walked(BY_FIELD["acquirer"], answers):
            skipped["acquirer"] += 1
            # The cases alternate between a named acquirer and none: compare with the other.
            other = replace(facts, acquirer=None if facts.acquirer else "拉卡拉")
            got = diagnose(other, now, POLICY)
            name = frozenset({"acquirer"})
            assert _without(got, name) == _without(d, name)
            if check_ladder:
                assert _strip(_ladder(other, got, now), name) == _strip(
                    _ladder(facts, d, now), name
                )
        if facts.records_lookup is None:  # without a lookup, no key is asked on the way
            skipped["keys"] += 1
            bare = replace(
                facts, reference=None, terminal_id=None, merchant_id=None, voucher=None,
                order_no=None,
            )  # fmt: skip
            got = diagnose(bare, now, POLICY)
            assert _without(got, KEY_PARAMS) == _without(d, KEY_PARAMS)
            if check_ladder:
                assert _strip(_ladder(bare, got, now), KEY_PARAMS) == _strip(
                    _ladder(facts, d, now), KEY_PARAMS
                )
        # The bank: asked exactly where the summary calls it, whatever the account notice
        # (not answered yet when the bank would be asked).
        unasked = {k: v for k, v in answers.items() if k not in ("bank", "account")}
        calls = "call_bank" in [a.key for a in d.actions]
        assert calls_bank(unasked, now, POLICY) == calls
        if not calls:
            skipped["bank"] += 1
            # The cases cycle through a directory bank, another, and one named in full.
            bankless = replace(facts, bank_code=None, bank_name=None)
            assert diagnose(bankless, now, POLICY) == d
            if check_ladder:
                assert _strip(_ladder(bankless, d, now), BANK_PARAMS) == _strip(
                    _ladder(facts, d, now), BANK_PARAMS
                )
    assert min(skipped.values()) > 10_000, skipped


def test_the_answers_a_trace_needs_are_asked_where_it_runs() -> None:
    card = {"method": "card"}
    assert not walked(BY_FIELD["reference"], card)
    assert walked(BY_FIELD["reference"], card, keys_first=True)  # the lookup needs it
    assert not walked(BY_FIELD["order_no"], {"method": "wechat"}, keys_first=True)
    assert not walked(BY_FIELD["acquirer"], card)
    assert walked(BY_FIELD["acquirer"], {"method": "alipay"})  # decides who to contact
    assert keys_wanted(card) == "receipt"
    assert keys_wanted({**card, "reference": "312345678901"}) is None
    assert keys_wanted({"method": "wechat"}) == "order"
    assert keys_wanted({}) is None
