"""The intake's conditions: the questions the table asks of the model before a transition.

Each is a method named in `flows.intake_table`; none changes anything.
"""

from __future__ import annotations

import dataclasses

from transitions import EventData

from flows.diagnosis import climb
from flows.facts import Facts
from flows.intake_core import IntakeBase, last_asked, previous_asked, story_pending
from flows.intake_table import KEY_QUESTIONS, TOLD_FIRST, asking_state
from flows.questions import (
    BY_FIELD,
    NO_RECEIPT,
    applicable,
)
from flows.readings import STORY
from flows.receipt import SlipFields
from flows.records_lookup import Found, NotFound, Unavailable, evidence
from flows.slip import answers_from_slip
from flows.story import Intent, Story, read_story


class IntakeConditions(IntakeBase):
    """Guards of the transitions, read-only."""

    def wants_free_text(self, event: EventData) -> bool:
        self._parse(event)
        return self._wants_text

    def reads_two_ways(self, event: EventData) -> bool:
        """A date like 3/4: the merchant picks the reading, the bot never guesses."""
        self._parse(event)
        return bool(self._readings)

    def answer_is_valid(self, event: EventData) -> bool:
        return self._invalid is None

    def revising(self, event: EventData) -> bool:
        return self.record.revising

    def asks_card_type(self, event: EventData) -> bool:
        """Paid by card, and no confirmed slip printed the transaction type."""
        return BY_FIELD["card_type"].applies(self._answers_with_pending())

    def asks_acquirer(self, event: EventData) -> bool:
        """A wallet payment: a named acquirer, not the platform, is the one to contact."""
        return self._walked(BY_FIELD["acquirer"], self._answers_with_pending())

    def walks_keys(self, event: EventData) -> bool:
        """The receipt keys are asked on the way (keys first: the records lookup needs them)."""
        return self._walked(BY_FIELD["reference"], self._answers_with_pending())

    def asks_keys(self, event: EventData) -> bool:
        return self.walks_keys(event) and "reference" not in self.record.answers

    def keys_first(self, event: EventData) -> bool:
        """A lookup is configured and no slip gave the reference number yet."""
        return self.policy.keys_first and "reference" not in self.record.answers

    def keys_next(self, event: EventData) -> bool:
        """Keys first, when the date and amount came from a story or a slip."""
        answers = self.record.answers
        method_known = "method" in answers
        return (
            self.policy.keys_first
            and "reference" not in answers
            and "when" in answers
            and "amount" in answers
            and (not method_known or BY_FIELD["reference"].applies(answers))
        )

    def asked_keys_first(self, event: EventData) -> bool:
        """The reference question asked before the way of paying (keys first)."""
        return self.policy.keys_first and "method" not in self.record.answers

    def lookup_unavailable(self, event: EventData) -> bool:
        return isinstance(event.kwargs.get("result"), Unavailable)

    def lookup_not_found(self, event: EventData) -> bool:
        return isinstance(event.kwargs.get("result"), NotFound)

    def lookup_answers_current(self, event: EventData) -> bool:
        """The found record settles the question being asked (records, or card type)."""
        result = event.kwargs.get("result")
        if not isinstance(result, Found) or self.record.revising:
            return False
        return self._question().field in evidence(result).answers()

    def no_receipt_at_hand(self, event: EventData) -> bool:
        return event.kwargs.get("value") == NO_RECEIPT and bool(event.kwargs.get("pressed"))

    def is_chosen_field(self, event: EventData) -> bool:
        chosen = BY_FIELD.get(event.kwargs.get("field", ""))
        if chosen is None or chosen not in applicable(self.record.answers):
            return False
        if chosen.field in self._settled_by_records():
            return False
        return event.transition is not None and event.transition.dest == chosen.state

    def slip_has_answers(self, event: EventData) -> bool:
        """Whether the photo gave any value that validates (computed once per event)."""
        if self._slip_answers is None:
            slip = event.kwargs.get("slip")
            read = answers_from_slip(slip, self.now) if isinstance(slip, SlipFields) else {}
            self._slip_answers = read
        return bool(self._slip_answers)

    def correcting_slip(self, event: EventData) -> bool:
        """A question asked from the slip's confirmation: its answer goes back there."""
        return self.record.pending_slip is not None

    def open_only(self, event: EventData) -> bool:
        return self.record.open_only

    def is_chosen_slip_field(self, event: EventData) -> bool:
        name = event.kwargs.get("field", "")
        if name not in BY_FIELD or name not in (self.record.pending_slip or {}):
            return False
        return event.transition is not None and event.transition.dest == asking_state(name)

    def is_first_open(self, event: EventData) -> bool:
        """The first question that applies and has no answer yet is the destination."""
        answers = self.record.answers
        first = next(
            (q for q in applicable(answers) if q.field not in answers and self._walked(q, answers)),
            None,
        )
        if first is None or event.transition is None:
            return False
        return event.transition.dest == first.state

    def _previous_asked(self) -> str | None:
        return previous_asked(
            self._question().field, self.record.asked, self.record.answers, self.now, self.policy
        )

    def is_previous_asked(self, event: EventData) -> bool:
        """Back's destination: the previous question this merchant was shown (`step_back`)."""
        if self._back_to is None or event.transition is None:
            return False
        return event.transition.dest == asking_state(self._back_to)

    def is_last_shown(self, event: EventData) -> bool:
        """The review's Back: the destination is the last question this merchant was shown
        (never one a story, a slip or the keys-first order put out of the way)."""
        last = last_asked(self.record.asked, self.record.answers, self.now, self.policy)
        if last is None or event.transition is None:
            return False
        return event.transition.dest == asking_state(last)

    def first_asked(self, event: EventData) -> bool:
        return self._previous_asked() is None

    def reopens_story(self, event: EventData) -> bool:
        """Back from the first question shown after a story told before any question: the
        merchant was at its confirmation (with what of it is still the story's)."""
        return (
            TOLD_FIRST in self.record.asked
            and STORY in self.record.origins.values()
            and self.first_asked(event)
        )

    def asks_cycle(self, event: EventData) -> bool:
        """The cycle question, only where the cycle can move a due date (flows.questions)."""
        return BY_FIELD["cycle"].applies(self._answers_with_pending())

    def asks_bank(self, event: EventData) -> bool:
        """The settlement bank, only where the summary names it (flows.diagnosis.calls_bank)."""
        return self._walked(BY_FIELD["bank"], self._answers_with_pending())

    def bank_missing(self, event: EventData) -> bool:
        """At the review's Confirm: the date moved on, and the summary now calls the bank."""
        return "bank" not in self.record.answers and self._walked(
            BY_FIELD["bank"], self.record.answers
        )

    def cycle_missing(self, event: EventData) -> bool:
        question = BY_FIELD["cycle"]
        return question.applies(self.record.answers) and not self.record.answers.get("cycle")

    def climbing(self, event: EventData) -> bool:
        return self.record.climbing

    def bank_rung_needs_bank(self, event: EventData) -> bool:
        return self.bank_rung_open()

    def bank_rung_open(self) -> bool:
        """The next press of "Still missing" gives "call your bank's hotline", and the bank was
        never asked (it was not overdue at the summary): without it the step has no number."""
        number = self.record.case_number
        if number is None or self.record.answers.get("bank") is not None:
            return False
        try:
            facts = Facts.from_answers(self.record.answers)
        except (KeyError, ValueError, TypeError):
            return False
        step = climb(facts, self.desk.ladder(number), self.now, self.policy).step
        return step is not None and step.key == "call_bank"

    def story_pending(self, event: EventData) -> bool:
        return self.record.pending_source == STORY and self.record.pending_slip is not None

    def fresh_story(self, event: EventData) -> bool:
        return self.record.pending_source == STORY and self.record.fresh

    # -- a story typed at a question ----------------------------------------------------------

    def _story_of(self, event: EventData) -> Story | None:
        """The typed text read as a story, once per event (never a pressed button)."""
        if event.kwargs.get("pressed") or not isinstance(event.kwargs.get("value"), str):
            return None
        if self._story is None:
            story = read_story(
                event.kwargs["value"], self.now, self.policy.banks, self.policy.cycles
            )
            if self._question().field in KEY_QUESTIONS and "amount" in story.facts:
                # Digits typed at a receipt-key question are a mistyped key, not an amount.
                facts = {k: v for k, v in story.facts.items() if k != "amount"}
                story = dataclasses.replace(story, facts=facts)
            self._story = story
        return self._story

    def story_wants_person(self, event: EventData) -> bool:
        story = self._story_of(event)
        return story is not None and Intent.PERSON in story.intents

    def tells_more(self, event: EventData) -> bool:
        """Facts for other questions too ("5000，工行卡" at the amount question)."""
        story = self._story_of(event)
        if story is None:
            return False
        field_name = self._question().field
        if self._invalid is None and field_name in KEY_QUESTIONS:
            return False  # a receipt key is digits a story would misread as an amount
        return bool(story_pending(story, self.record.answers, exclude=field_name))

    def story_answers_it(self, event: EventData) -> bool:
        """The answer said in the merchant's words ("App里显示成功" at the records question)."""
        story = self._story_of(event)
        return story is not None and self._question().field in story.facts

    def story_cancels(self, event: EventData) -> bool:
        story = self._story_of(event)
        return story is not None and Intent.CANCEL in story.intents

    def story_restarts(self, event: EventData) -> bool:
        story = self._story_of(event)
        return story is not None and Intent.RESTART in story.intents

    def card_type_missing(self, event: EventData) -> bool:
        question = BY_FIELD["card_type"]
        return question.applies(self.record.answers) and not self.record.answers.get("card_type")
