"""The "not credited" conversation as a state machine declared as a table.

States are the questions being asked (plus welcome, review and summary); triggers are what the
merchant does (answer, back, change, confirm, cancel ...). The machine is built once; for each
update the service attaches a fresh `Intake` model at the stored state, fires one trigger, reads
the replies and persists the record. Nothing here sends, stores or renders anything.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from functools import partial

from transitions import EventData, Machine

from flows.callbacks import Action, Answer, Rating, encode
from flows.diagnosis import (
    Policy,
    climb,
    diagnose,
)
from flows.facts import Facts
from flows.intake_conditions import IntakeConditions
from flows.intake_core import CaseDesk, IntakeRecord, has_content, story_pending
from flows.intake_events import Event
from flows.intake_replies import IntakeReplies, still_missing_reply
from flows.intake_table import (
    CONFIRMING_SLIP,
    FAILURES_BEFORE_HELP,
    IDLE,
    LOCALES,
    STATES,
    SUMMARIZED,
    TRANSITIONS,
    TYPED_KEY,
)
from flows.questions import (
    BY_STATE,
    NO_RECEIPT,
    RECEIPT_FIELDS,
    keys_wanted,
    tailored,
    when_choice,
)
from flows.readings import ASK_KEY, SLIP, STORY, merge, took_answer
from flows.records_lookup import Found, LookupResult, NotFound, evidence, result_reply
from flows.replies import Button, Reply, rows
from flows.settlement_calendar import SHANGHAI
from flows.story import Intent, Story, read_story


class Intake(IntakeConditions, IntakeReplies):
    """The model the machine drives for one update; it records replies instead of sending.

    Its conditions and replies are mixed in from `flows.intake_conditions` and
    `flows.intake_replies`; the actions, which change the record, are here.
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

    def drop_answers(self, event: EventData) -> None:
        self.record.answers = {}
        self.record.revising = False
        self.record.failures = 0
        self._forget_reading()
        self.record.open_only = False
        self.replies.append(Reply("cancelled"))

    def _forget_reading(self) -> None:
        self.record.pending_slip = None
        self.record.pending_source = SLIP
        self.record.fresh = False
        self.record.origins = {}
        self.record.asked = []
        self.record.climbing = False

    # -- the slip -----------------------------------------------------------------------------

    def hold_slip(self, event: EventData) -> None:
        self.record.pending_slip = dict(self._slip_answers or {})
        self.record.pending_source = SLIP
        self.record.fresh = False

    def hold_new_story(self, event: EventData) -> None:
        """A new enquiry told as a story: nothing of an earlier one carries over, and before
        consent nothing else is kept (declining erases it, see drop_story)."""
        story: Story = event.kwargs["story"]
        self.record.answers = {}
        self.record.revising = False
        self.record.failures = 0
        self.record.case_number = None
        self.record.open_only = False
        self.record.origins = {}
        self.record.asked = []
        self.record.climbing = False
        self.record.pending_slip = story_pending(story, {})
        self.record.pending_source = STORY
        self.record.fresh = True

    def add_to_story(self, event: EventData) -> None:
        """More of the story before confirming: what the later message says wins."""
        story: Story = event.kwargs["story"]
        pending = dict(self.record.pending_slip or {})
        more = story_pending(story, self.record.answers)
        asked = [*pending.get(ASK_KEY, []), *more.pop(ASK_KEY, [])]
        pending.update(more)
        taken = {name for name in pending if not name.startswith("_")}
        asked = [a for a in asked if a["field"] not in taken]
        pending.pop(ASK_KEY, None)
        if asked:
            pending[ASK_KEY] = asked
        self.record.pending_slip = pending

    def hold_story(self, event: EventData) -> None:
        """At a question: the story's value for it is the answer, the rest is confirmed first."""
        story = self._story
        assert story is not None
        self._take_story_answer(story)
        self.record.pending_slip = story_pending(story, self.record.answers)
        self.record.pending_source = STORY
        self.record.fresh = False

    def take_story_answer(self, event: EventData) -> None:
        assert self._story is not None
        self._take_story_answer(self._story)
        self.record.open_only = True

    def _take_story_answer(self, story: Story) -> None:
        name = self._question().field
        if name not in story.facts:
            return  # asked again once the rest is confirmed
        self.record.answers[name] = story.facts[name]
        took_answer(self.record.origins, name)
        self.record.failures = 0
        if name == "when":
            self._check_age(date.fromisoformat(story.facts[name]["day"]))

    def drop_story(self, event: EventData) -> None:
        """Declined at the welcome: the story and anything read from it are erased."""
        consented = self.record.consented_at is not None
        self.record.answers = {}
        self._forget_reading()
        self.replies.append(Reply("story_discarded", {"consented": consented}))

    def report_unread_slip(self, event: EventData) -> None:
        """Nothing usable on the photo (or no reader here): say why, then ask as before."""
        problem = event.kwargs.get("problem") or "nothing_read"
        attached = bool(event.kwargs.get("attached"))
        self.replies.append(Reply("slip_unread", {"problem": problem, "attached": attached}))
        self.announce(event)

    def apply_slip(self, event: EventData) -> None:
        """The merchant confirmed a slip's or a story's values: they become answers through
        the one merge (flows.readings); only open questions remain. Confirming a story told
        before consent is the merchant's agreement to the privacy notice shown with it."""
        pending = dict(self.record.pending_slip or {})
        typed = pending.pop(TYPED_KEY, [])
        merge(self.record.answers, self.record.origins, pending, self.record.pending_source, typed)
        self.record.pending_slip = None
        self.record.pending_source = SLIP
        self.record.fresh = False
        self.record.revising = False
        self.record.open_only = True
        self.record.failures = 0
        if self.record.consented_at is None:
            self.record.consented_at = self.now
        if "when" in pending and self.record.answers.get("when") == pending["when"]:
            self._check_age(date.fromisoformat(pending["when"]["day"]))

    def drop_slip(self, event: EventData) -> None:
        story = self.record.pending_source == STORY
        self._forget_reading_only()
        self.replies.append(
            Reply("story_discarded" if story else "slip_discarded", {"consented": True})
        )

    def _forget_reading_only(self) -> None:
        self.record.pending_slip = None
        self.record.pending_source = SLIP
        self.record.fresh = False

    def correct_slip_value(self, event: EventData) -> None:
        """A corrected value replaces the one read; Skip or "no receipt" removes it."""
        pending = dict(self.record.pending_slip or {})
        name = self._question().field
        if self._parsed is None:
            pending.pop(name, None)
        else:
            pending[name] = self._parsed
        pending[TYPED_KEY] = sorted({*pending.get(TYPED_KEY, []), name})
        self.record.pending_slip = pending
        self.record.failures = 0

    def remove_slip_value(self, event: EventData) -> None:
        """A value no question asks for (card, batch, auth code) can only be removed."""
        pending = dict(self.record.pending_slip or {})
        pending.pop(event.kwargs.get("field", ""), None)
        self.record.pending_slip = pending
        self.announce(event)

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

    # -- what each state says on entry --------------------------------------------------------


def build_machine() -> Machine:
    """The one machine for the intake; models are attached per update and detached after."""
    return Machine(
        model=None,
        states=[{"name": name, "on_enter": "announce"} for name in STATES],
        transitions=TRANSITIONS,
        initial=IDLE,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=True,
    )


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
            return [Reply("stale_button"), *self.replay(record, now, desk)]
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
