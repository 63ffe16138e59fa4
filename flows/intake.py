"""The "not credited" conversation as a state machine declared as a table.

States are the questions being asked (plus welcome, review and summary); triggers are what the
merchant does (answer, back, change, confirm, cancel ...). The machine is built once; for each
update the service attaches a fresh `Intake` model at the stored state, fires one trigger, reads
the replies and persists the record. Nothing here sends, stores or renders anything.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from functools import partial

from transitions import EventData

from flows.callbacks import Action, Answer, Rating, encode
from flows.diagnosis import (
    Policy,
    climb,
    diagnose,
)
from flows.facts import Facts
from flows.intake_conditions import IntakeConditions
from flows.intake_core import CaseDesk, IntakeRecord, has_content
from flows.intake_events import Event
from flows.intake_readings import IntakeReadings
from flows.intake_replies import arrival_doubt_reply, still_missing_reply
from flows.intake_table import (
    CONFIRMING_SLIP,
    FAILURES_BEFORE_HELP,
    IDLE,
    LOCALES,
    SUMMARIZED,
    build_machine,
)
from flows.questions import (
    BY_STATE,
    NO_RECEIPT,
    RECEIPT_FIELDS,
    keys_wanted,
    tailored,
    when_choice,
)
from flows.readings import STORY, took_answer
from flows.records_lookup import Found, LookupResult, NotFound, evidence, result_reply
from flows.replies import Button, Reply, rows
from flows.settlement_calendar import SHANGHAI
from flows.story import Intent, read_story


class Intake(IntakeConditions, IntakeReadings):
    """The model the machine drives for one update; it records replies instead of sending.

    Its conditions, replies and the actions on slips and stories are mixed in from
    `flows.intake_conditions`, `flows.intake_replies` and `flows.intake_readings`; the other
    actions, which change the record, are here.
    """

    def start_over(self, event: EventData) -> None:
        self.record.answers = {}
        self.record.revising = False
        self.record.failures = 0
        self.record.case_number = None
        self._forget_reading()
        self.record.open_only = False
        if self.record.consented_at is None:
            self.record.consented_at = self.now

    def step_back(self, event: EventData) -> None:
        """Back to the previous question shown, through CHOOSING_NEXT (`first_asked` took the
        case of none), so the table has one Back row, not one per pair of questions."""
        self._back_to = self._previous_asked()

    def drop_answers(self, event: EventData) -> None:
        self.record.answers = {}
        self.record.revising = False
        self.record.failures = 0
        self._forget_reading()
        self.record.open_only = False
        self.replies.append(Reply("cancelled"))

    def climb_to_bank(self, event: EventData) -> None:
        self.record.climbing = True

    def stop_climbing(self, event: EventData) -> None:
        self.record.climbing = False

    def bank_for_ladder(self, event: EventData) -> None:
        """The bank answered for the ladder: on the case too; the rung follows (recheck), not
        the summary again."""
        self.record.climbing = False
        self._quiet = True
        if self.record.case_number:
            bank = self.record.answers.get("bank")
            self.desk.add_answers(self.record.case_number, {"bank": bank})

    def only_open_next(self, event: EventData) -> None:
        self.record.open_only = True

    def take_lookup(self, event: EventData) -> None:
        """What the records say replaces what an earlier lookup (for other keys) said; a found
        record is the records answer, said to the merchant in the acquirer's name."""
        result: LookupResult = event.kwargs["result"]
        by = event.kwargs.get("by") or ""
        answers = self.record.answers
        previous = answers.pop("records_lookup", None) or {}
        if previous.get("status") not in (None, "not_found"):
            answers.pop("records", None)
            if previous.get("status") == "preauth":
                answers.pop("card_type", None)
        if isinstance(result, Found):
            answers.update(evidence(result).answers())
            answers["records_lookup"] = {**result.stored(), "by": by}
        elif isinstance(result, NotFound):
            answers["records_lookup"] = {"status": "not_found", "by": by}
        reply = result_reply(result, by, answers)
        if reply is not None:
            self.replies.append(reply)

    def accept_answer(self, event: EventData) -> None:
        question = self._question()
        self.record.answers[question.field] = self._parsed
        took_answer(self.record.origins, question.field)
        self.record.failures = 0
        if event.kwargs.get("value") == NO_RECEIPT:
            for name in RECEIPT_FIELDS:
                self.record.answers.setdefault(name, None)

    def ask_free_text(self, event: EventData) -> None:
        self.replies.append(
            Reply(
                "ask_text",
                {"field": self._question().field},
                self._common_buttons(self._question()),
            )
        )

    def ask_which_reading(self, event: EventData) -> None:
        """One button per reading; pressed, it comes back as an answer like any other."""
        question = self._question()
        picks = [
            Button(
                "when_pick" if when.day.year == self.now.year else "when_pick_year",
                encode(Answer(question.field, when_choice(when.day, when.time))),
                {"date": when.day},
            )
            for when in self._readings
        ]
        self.replies.append(
            Reply(
                "ask_when_which",
                {
                    "options": [when.day.isoformat() for when in self._readings],
                    "time": self._readings[0].time.isoformat("minutes")
                    if self._readings[0].time
                    else None,
                },
                (*rows(*picks), *self._common_buttons(question)),
            )
        )

    def reject_answer(self, event: EventData) -> None:
        self.record.failures += 1
        question = self._question()
        assert self._invalid is not None
        offer_help = self.record.failures >= FAILURES_BEFORE_HELP
        buttons = self._choice_buttons(question) + self._common_buttons(
            question, offer_help=offer_help
        )
        self.replies.append(
            Reply(
                "invalid",
                {
                    "field": question.field,
                    "reason": self._invalid.reason,
                    "attempt": min(self.record.failures, FAILURES_BEFORE_HELP),
                    "offer_help": offer_help,
                    "optional": question.optional,
                },
                buttons,
            )
        )
        if self.record.failures == FAILURES_BEFORE_HELP:
            self._escalate("invalid_answers")

    def resume(self, event: EventData) -> None:
        self.replies.append(Reply("resume"))
        self.announce(event)

    def open_case(self, event: EventData) -> None:
        facts = Facts.from_answers(self.record.answers)
        diagnosis = diagnose(facts, self.now, self.policy)
        self.record.case_number = self.desk.open_case(
            facts, diagnosis, dict(self.record.answers), self.record.case_number
        )
        self.record.revising = False
        threshold = self.policy.escalation_amount
        if threshold is not None and facts.amount > threshold:
            self._escalate("amount", after_summary=True)

    def note_arrived(self, event: EventData) -> None:
        """Resolve the case and ask for a rating, once: pressed again, it only says so."""
        number = self.record.case_number
        resolved_now = bool(number) and self.desk.case_resolved(number or "")
        rating = (
            rows(
                *(Button(f"rating.{n}", encode(Rating(number, n))) for n in range(1, 6)), per_row=5
            )
            if resolved_now and number
            else ()
        )
        self.replies.append(
            Reply(
                "arrived",
                {"case_number": number, "already": bool(number) and not resolved_now},
                (*rating, (Button("new_case", encode(Action("begin"))),)),
            )
        )

    def recheck(self, event: EventData) -> None:
        """'Still missing' after the summary: one rung up the ladder, never the same summary."""
        facts = Facts.from_answers(self.record.answers)
        number = self.record.case_number
        given = self.desk.ladder(number) if number else ()
        step = climb(facts, given, self.now, self.policy)
        before = self.desk.climbed(number, step) if number else None
        incidents = self.desk.active_incidents()
        self.replies.append(still_missing_reply(number, facts, step, before, self.now, incidents))

    def show_help(self, event: EventData) -> None:
        self.replies.append(Reply("help"))
        self.announce(event)

    def switch_language(self, event: EventData) -> None:
        locale = event.kwargs.get("locale")
        if locale not in LOCALES:
            locale = "en" if self.record.locale == "zh" else "zh"
        self.record.locale = locale
        self.announce(event)

    def record_person_request(self, event: EventData) -> None:
        number = self.record.case_number
        if number and self.desk.with_people(number):  # pressed again: say so, hand off once
            self.replies.append(
                Reply("person_requested", {"case_number": number, "reason": "already"})
            )
            return
        self._escalate(event.kwargs.get("reason", "asked"))

    def _escalate(self, reason: str, after_summary: bool = False) -> None:
        """Hand the conversation to people; a case is opened from what we have so far."""
        self.record.person_requested = reason
        self.record.case_number = self.desk.escalate(
            reason, dict(self.record.answers), self.record.case_number
        )
        # The receipt keys are not asked on the way: the people tracing it need them.
        context = {
            "case_number": self.record.case_number,
            "reason": reason,
            "keys": keys_wanted(self.record.answers),
        }
        reply = Reply("person_requested", context)
        (self._after_summary if after_summary else self.replies).append(reply)

    def schedule_check_back(self, event: EventData) -> None:
        facts = Facts.from_answers(self.record.answers)
        due = diagnose(facts, self.now, self.policy).due
        followup = None
        if due is not None and self.record.case_number:
            followup = self.desk.schedule_followup(self.record.case_number, due)
        self.replies.append(
            Reply(
                "followup_set",
                {
                    "at": followup.at if followup else None,
                    "already": bool(followup and followup.already),
                    "has_due": due is not None,
                },
            )
        )


def _not_here(event: Event, state: str) -> Reply:
    """What to say of an event with no place in `state`: a typed command is not an old button,
    so it is not called one. (Photos where no slip is read never get here: the service answers
    them itself, `photo_received`.)"""
    if event.kwargs.get("typed"):
        return Reply("command_not_now", {"trigger": event.trigger, "state": state})
    return Reply("stale_button")


class IntakeFlow:
    """Runs one event of one conversation through the shared machine."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.questions = tailored(policy.cycles, policy.banks)
        self.machine = build_machine()

    def current_field(self, record: IntakeRecord) -> str | None:
        question = BY_STATE.get(record.state)
        return question.field if question else None

    def handle(
        self, record: IntakeRecord, event: Event, now: datetime, desk: CaseDesk
    ) -> list[Reply]:
        """Fire the event's trigger; the record is updated in place and replies returned."""
        model = Intake(record, now, self.policy, desk, self.questions)
        pressed = event.trigger == "answer" and event.kwargs.get("pressed")
        if pressed and event.kwargs.get("field") != self.current_field(record):
            return [Reply("stale_button"), *self.replay(record, now, desk)]
        if event.trigger == "answer" and record.state not in BY_STATE:
            again = self.replay(record, now, desk) if record.state == CONFIRMING_SLIP else []
            story = record.state == CONFIRMING_SLIP and record.pending_source == STORY
            state = "confirming_story" if story else record.state
            return [Reply("off_topic", {"state": state}), *again]
        # Not `add_model`: the model needs only `state` and `trigger` (the per-state and
        # per-event helpers add_model binds cost more than the event itself, and the machine,
        # shared by the database threads, stays untouched).
        model.state = record.state
        model.trigger = partial(self.machine._get_trigger, model)
        try:
            fired = model.trigger(event.trigger, **event.kwargs)
        finally:
            record.state = model.state
        if not fired:
            return [_not_here(event, record.state), *self.replay(record, now, desk)]
        return model.replies

    def tell(
        self,
        record: IntakeRecord,
        text: str,
        now: datetime,
        desk: CaseDesk,
        about_case: bool = False,
    ) -> list[Reply] | None:
        """Typed text outside a question (the welcome, after a summary, while confirming a
        story) read as a story: what it asks for, or its facts to confirm. None: neither, the
        caller carries on as before (a hint, or the confirmation again). `about_case`: a
        recent case the message may be about (the caller reopens it), so only a new payment's
        facts count here, not "still missing" or "it arrived"."""
        story = read_story(text, now.astimezone(SHANGHAI), self.policy.banks, self.policy.cycles)
        if about_case:
            story = dataclasses.replace(story, intents=story.intents & {Intent.PERSON})
        summarized = record.state == SUMMARIZED
        if Intent.PERSON in story.intents:
            told: list[Reply] = []
            if record.state in (IDLE, SUMMARIZED) and has_content(story):
                # "转人工 我昨天刷的钱没到": handed over, and the facts wait for "is this right?"
                told = self.handle(record, Event("tell", {"story": story}), now, desk)
            return [*self.handle(record, Event("ask_person"), now, desk), *told]
        if record.state == CONFIRMING_SLIP:
            if Intent.CANCEL in story.intents:
                return self.handle(record, Event("cancel"), now, desk)
            if record.pending_source == STORY and has_content(story):
                return self.handle(record, Event("tell", {"story": story}), now, desk)
            return None
        if summarized and Intent.ARRIVED in story.intents:
            return self.handle(record, Event("arrived"), now, desk)
        doubt = story.intents & {Intent.NOTED, Intent.ASKS_IF_ARRIVED}
        if summarized and doubt:  # "收到" ("noted", or "it came"?), "到了吗": asked, not taken
            return [arrival_doubt_reply(Intent.ASKS_IF_ARRIVED in doubt)]
        if summarized and Intent.STILL_MISSING in story.intents:
            return self.handle(record, Event("still_missing"), now, desk)
        if Intent.RESTART in story.intents and record.state in (IDLE, SUMMARIZED):
            return self.handle(record, Event("begin"), now, desk)
        new_payment = set(story.facts) - {"received"} or story.received_amount
        if (summarized or about_case) and not new_payment:
            return None  # "还是没到账" after a summary is about that case, not a new one
        if record.state in (IDLE, SUMMARIZED) and has_content(story):
            return self.handle(record, Event("tell", {"story": story}), now, desk)
        return None

    def bank_first(self, record: IntakeRecord, now: datetime, desk: CaseDesk) -> bool:
        """At the summary, the next "Still missing" asks the bank first (the bank rung): for a
        press outside the conversation (the follow-up's buttons), to come here instead."""
        if record.state != SUMMARIZED:
            return False
        return Intake(record, now, self.policy, desk, self.questions).bank_rung_open()

    def replay(self, record: IntakeRecord, now: datetime, desk: CaseDesk) -> list[Reply]:
        """What the current state says on entry, again (after a hint or a stale button)."""
        model = Intake(record, now, self.policy, desk, self.questions)
        model.state = record.state
        model.announce(EventData(None, None, self.machine, model, (), {}))
        return model.replies


__all__ = ["Intake", "IntakeFlow", "build_machine"]
