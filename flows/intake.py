"""The "not credited" conversation as a state machine declared as a table.

States are the questions being asked (plus welcome, review and summary); triggers are what the
merchant does (answer, back, change, confirm, cancel ...). The machine is built once; for each
update the service attaches a fresh `Intake` model at the stored state, fires one trigger, reads
the replies and persists the record. Nothing here sends, stores or renders anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from transitions import EventData, Machine

from flows.answers import InvalidAnswer
from flows.dates import AmbiguousWhen, When
from flows.diagnosis import TRACEABLE_DAYS, Climb, Diagnosis, Outcome, Policy, climb, diagnose
from flows.facts import Facts, visible_fields
from flows.incidents import Incident, affecting
from flows.questions import (
    BY_FIELD,
    BY_STATE,
    NO_RECEIPT,
    OTHER,
    QUESTIONS,
    RECEIPT_FIELDS,
    SKIP,
    Question,
    WantsFreeText,
    applicable,
    parse_answer,
    tailored,
    when_choice,
)
from flows.readings import ASK_KEY, SLIP, STORY, merge, received_partly, took_answer
from flows.readings import items as reading_items
from flows.receipt import SlipFields
from flows.records_lookup import Found, LookupResult, NotFound, Unavailable, evidence, result_reply
from flows.replies import Button, Reply, rows
from flows.settlement_calendar import SHANGHAI, DueDate
from flows.slip import SLIP_EXTRAS, SLIP_FIELDS, SLIP_QUESTIONS, answers_from_slip
from flows.story import Intent, Story, read_story

IDLE = "idle"
REVIEWING = "reviewing"
SUMMARIZED = "summarized"
#: What was read off a slip photo waits here for the merchant's "is this right?".
CONFIRMING_SLIP = "confirming_slip"
#: Passed through, never stored: picks the first question still open (or the review).
CHOOSING_NEXT = "choosing_next"

#: Failures after which the question offers Skip (when optional) and a person.
FAILURES_BEFORE_HELP = 3
LOCALES = ("zh", "en")


def _s(name: str) -> str:
    return BY_FIELD[name].state


ASKING = [question.state for question in QUESTIONS]
STATES = [IDLE, *ASKING, CONFIRMING_SLIP, CHOOSING_NEXT, REVIEWING, SUMMARIZED]
RECEIPT_STATES = [_s(name) for name in RECEIPT_FIELDS]
#: Questions asked to correct one value of a reading (a slip's or a story's) before confirming.
SLIP_STATES = list(ASKING)
#: What a story tells beside the answers: kept with them, removable before confirming.
STORY_EXTRAS: tuple[str, ...] = ("received_amount", "received_day")
#: Pending keys of the merchant's own corrections while confirming (they count as answers).
TYPED_KEY = "_typed"
#: Questions whose answers are digits a story would misread as an amount.
KEY_QUESTIONS = frozenset({*RECEIPT_FIELDS, "order_no"})
#: Where a slip photo is read: during the intake (after consent), on review, while confirming.
SLIP_SOURCES = [*ASKING, REVIEWING, CONFIRMING_SLIP]
READS_SLIPS = frozenset(SLIP_SOURCES)
#: Where the acquirer's records can answer: while the answers are still being given.
LOOKUP_SOURCES = [*ASKING, REVIEWING, CONFIRMING_SLIP]

ACCEPT = "accept_answer"


def _t(
    trigger: str, source: str | list[str], dest: str | None, **extra: str | list[str]
) -> dict[str, Any]:
    """One row of the table, in the dict form `transitions` takes."""
    return {"trigger": trigger, "source": source, "dest": dest, **extra}


# Order matters: for one trigger and source, the first transition whose conditions hold wins.
# One row per transition: trigger, source(s), destination (None: stay), then guards and actions.
# fmt: off
TRANSITIONS: list[dict[str, Any]] = [
    # Welcome, consent, starting over.
    _t("welcome", [IDLE, SUMMARIZED],   IDLE),
    _t("welcome", [*ASKING, CONFIRMING_SLIP, REVIEWING], None, after="resume"),
    _t("begin",   [IDLE, SUMMARIZED],   _s("when"), before="start_over"),
    _t("cancel",  [*ASKING, CONFIRMING_SLIP, REVIEWING], IDLE, before="drop_answers"),
    # A photo of the slip: what was read waits for "is this right?"; nothing read, re-ask.
    _t("read_slip", SLIP_SOURCES, None, unless="slip_has_answers", after="report_unread_slip"),
    _t("read_slip", SLIP_SOURCES, CONFIRMING_SLIP, before="hold_slip"),
    # A story typed at the welcome or after a summary: what was understood waits for "is this
    # right?" like a slip's fields (before consent, with the privacy notice and "Agree").
    _t("tell", [IDLE, SUMMARIZED], CONFIRMING_SLIP, before="hold_new_story"),
    _t("tell", CONFIRMING_SLIP, CONFIRMING_SLIP, conditions="story_pending",
       before="add_to_story"),
    # Answers: "Other" asks for text, a two-way date (3/4) asks which reading, invalid answers
    # are re-asked, a change returns to review (or to the slip's confirmation), and after a
    # slip only the questions still open are asked.
    _t("answer", ASKING, None, conditions="wants_free_text", after="ask_free_text"),
    _t("answer", ASKING, None, conditions="reads_two_ways", after="ask_which_reading"),
    # Typed text that is more than the answer is read as a story: a person asked for, facts for
    # other questions too (confirmed first), the answer said in other words, cancel, restart.
    _t("answer", ASKING, None, conditions="story_wants_person", unless="answer_is_valid",
       after="record_person_request"),
    _t("answer", ASKING, CONFIRMING_SLIP, conditions="tells_more", unless="correcting_slip",
       before="hold_story"),
    _t("answer", ASKING, CHOOSING_NEXT, conditions="story_answers_it",
       unless=["answer_is_valid", "correcting_slip"], before="take_story_answer"),
    _t("answer", ASKING, IDLE, conditions="story_cancels", unless="answer_is_valid",
       before="drop_answers"),
    _t("answer", ASKING, _s("when"), conditions="story_restarts", unless="answer_is_valid",
       before="start_over"),
    _t("answer", ASKING, None, unless="answer_is_valid", after="reject_answer"),
    _t("answer", SLIP_STATES, CONFIRMING_SLIP, conditions="correcting_slip",
       before="correct_slip_value"),
    _t("answer", ASKING, REVIEWING, conditions="revising", before=ACCEPT),
    _t("answer", ASKING, CHOOSING_NEXT, conditions="open_only", before=ACCEPT),
    # Keys first (a records lookup is configured): the slip or the reference number right after
    # the date and amount; from there on, the first question still open.
    _t("answer", _s("reference"), CHOOSING_NEXT, conditions="asked_keys_first",
       before=[ACCEPT, "only_open_next"]),
    _t("answer", RECEIPT_STATES, REVIEWING, conditions="no_receipt_at_hand", before=ACCEPT),
    _t("answer", _s("when"),        _s("amount"),      before=ACCEPT),
    _t("answer", _s("amount"),      _s("reference"),   before=ACCEPT, conditions="keys_first"),
    _t("answer", _s("amount"),      _s("method"),      before=ACCEPT),
    _t("answer", _s("method"),      _s("card_type"),   before=ACCEPT, conditions="asks_card_type"),
    _t("answer", _s("method"),      _s("terminal"),    before=ACCEPT),
    _t("answer", _s("card_type"),   _s("terminal"),    before=ACCEPT),
    _t("answer", _s("terminal"),    _s("records"),     before=ACCEPT),
    _t("answer", _s("records"),     _s("received"),    before=ACCEPT),
    _t("answer", _s("received"),    _s("bank"),        before=ACCEPT, unless="asks_cycle"),
    _t("answer", _s("received"),    _s("cycle"),       before=ACCEPT),
    _t("answer", _s("cycle"),       _s("bank"),        before=ACCEPT),
    _t("answer", _s("bank"),        _s("account"),     before=ACCEPT),
    _t("answer", _s("account"),     _s("acquirer"),    before=ACCEPT),
    _t("answer", _s("acquirer"),    _s("reference"),   before=ACCEPT,
       conditions="has_receipt_keys"),
    _t("answer", _s("acquirer"),    _s("order_no"),    before=ACCEPT),
    _t("answer", _s("reference"),   _s("terminal_id"), before=ACCEPT),
    _t("answer", _s("terminal_id"), _s("merchant_id"), before=ACCEPT),
    _t("answer", _s("merchant_id"), _s("voucher"),     before=ACCEPT),
    _t("answer", _s("voucher"),     REVIEWING,         before=ACCEPT),
    _t("answer", _s("order_no"),    REVIEWING,         before=ACCEPT),
    _t("answer", _s("slip_type"),   CHOOSING_NEXT,     before=ACCEPT),
    # Back: while changing a field it returns to the review (or the slip's confirmation);
    # otherwise to the previous question.
    _t("back", SLIP_STATES,      CONFIRMING_SLIP, conditions="correcting_slip"),
    _t("back", ASKING,           REVIEWING, conditions="revising"),
    _t("back", _s("when"),        IDLE),
    _t("back", _s("amount"),      _s("when")),
    _t("back", _s("method"),      _s("reference"), conditions="asked_keys_first"),
    _t("back", _s("method"),      _s("amount")),
    _t("back", _s("card_type"),   _s("method")),
    _t("back", _s("terminal"),    _s("card_type"), conditions="asks_card_type"),
    _t("back", _s("terminal"),    _s("method")),
    _t("back", _s("records"),     _s("terminal")),
    _t("back", _s("received"),    _s("records")),
    _t("back", _s("cycle"),       _s("received")),
    _t("back", _s("bank"),        _s("received"), unless="asks_cycle"),
    _t("back", _s("bank"),        _s("cycle")),
    _t("back", _s("account"),     _s("bank")),
    _t("back", _s("acquirer"),    _s("account")),
    _t("back", _s("reference"),   _s("amount"), conditions="asked_keys_first"),
    _t("back", _s("reference"),   _s("acquirer")),
    _t("back", _s("order_no"),    _s("acquirer")),
    _t("back", _s("terminal_id"), _s("reference")),
    _t("back", _s("merchant_id"), _s("terminal_id")),
    _t("back", _s("voucher"),     _s("merchant_id")),
    _t("back", REVIEWING,         _s("voucher"), conditions="has_receipt_keys"),
    _t("back", REVIEWING,         _s("order_no")),
    _t("back", _s("slip_type"),   CHOOSING_NEXT),
    # The slip's "is this right?": confirm, correct one value, or set it all aside.
    # A story told at the welcome: declined, nothing of it is kept (consent was never given).
    _t("confirm_slip", CONFIRMING_SLIP, CHOOSING_NEXT, before="apply_slip"),
    _t("discard_slip", CONFIRMING_SLIP, IDLE, conditions="fresh_story", before="drop_story"),
    _t("back",         CONFIRMING_SLIP, IDLE, conditions="fresh_story", before="drop_story"),
    _t("discard_slip", CONFIRMING_SLIP, CHOOSING_NEXT, before="drop_slip"),
    _t("back",         CONFIRMING_SLIP, CHOOSING_NEXT, before="drop_slip"),
    *[_t("correct_slip", CONFIRMING_SLIP, question.state, conditions="is_chosen_slip_field")
      for question in QUESTIONS],
    _t("correct_slip", CONFIRMING_SLIP, None, after="remove_slip_value"),
    # The next question: back to the review when changing, else the first one still open.
    _t("advance", CHOOSING_NEXT, REVIEWING, conditions="revising"),
    # Keys first after a story or a slip too: the date and amount known, the reference next.
    _t("advance", CHOOSING_NEXT, _s("reference"), conditions="keys_next"),
    *[_t("advance", CHOOSING_NEXT, question.state, conditions="is_first_open")
      for question in QUESTIONS],
    _t("advance", CHOOSING_NEXT, REVIEWING),
    # Review: change one field, or confirm (a required answer that became needed is asked first).
    *[_t("change", REVIEWING, question.state, conditions="is_chosen_field")
      for question in QUESTIONS],
    _t("confirm", REVIEWING, _s("card_type"), conditions="card_type_missing"),
    _t("confirm", REVIEWING, _s("cycle"), conditions="cycle_missing"),
    _t("confirm", REVIEWING, SUMMARIZED, before="open_case"),
    # The acquirer's records answered a lookup (run by the service off the event loop): found
    # settles the records question (never asked then), not found asks to check the reference
    # number, unavailable changes nothing (the merchant is asked, as without a lookup).
    _t("lookup", LOOKUP_SOURCES, None, conditions="lookup_unavailable", before="take_lookup"),
    _t("lookup", LOOKUP_SOURCES, _s("reference"), conditions="lookup_not_found",
       before="take_lookup"),
    _t("lookup", ASKING, CHOOSING_NEXT, conditions="lookup_answers_current",
       before="take_lookup"),
    _t("lookup", REVIEWING, None, before="take_lookup", after="announce"),
    # Elsewhere the question just asked stays open (its buttons are still on screen).
    _t("lookup", LOOKUP_SOURCES, None, before="take_lookup"),
    _t("lookup", [IDLE, SUMMARIZED], None),  # the conversation moved on: nothing to say
    _t("keys_ok", _s("reference"), REVIEWING, conditions="revising"),
    _t("keys_ok", _s("reference"), CHOOSING_NEXT, before="only_open_next"),
    # After the summary.
    _t("arrived",       SUMMARIZED, None, after="note_arrived"),
    _t("still_missing", SUMMARIZED, None, after="recheck"),
    _t("follow_up",     SUMMARIZED, None, after="schedule_check_back"),
    # Anytime.
    _t("help",         "*", None, after="show_help"),
    _t("set_language", "*", None, after="switch_language"),
    _t("ask_person",   "*", None, after="record_person_request"),
]
# fmt: on


@dataclass
class IntakeRecord:
    """The persisted part of a conversation: what the service loads and saves per update."""

    state: str = IDLE
    locale: str = "zh"
    answers: dict[str, Any] = field(default_factory=dict)
    failures: int = 0
    revising: bool = False
    consented_at: datetime | None = None
    person_requested: str | None = None
    case_number: str | None = None
    #: Answers read off a slip photo, waiting for the merchant's confirmation.
    pending_slip: dict[str, Any] | None = None
    #: After a confirmed slip: each answer leads to the first question still open.
    open_only: bool = False
    #: Where `pending_slip` comes from: a slip photo or a story (flows.readings).
    pending_source: str = SLIP
    #: The pending story was told at the welcome or after a summary: declining keeps nothing.
    fresh: bool = False
    #: Which source gave the answers that came from a reading rather than their question.
    origins: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FollowUp:
    """When the bot will ask "has it arrived?"; `already` if an earlier press had set it."""

    at: datetime
    already: bool = False


class CaseDesk(Protocol):
    """The service's side of the conversation: cases, hand-off to people, follow-ups."""

    def open_case(
        self, facts: Facts, diagnosis: Diagnosis, answers: dict[str, Any], existing: str | None
    ) -> str: ...

    def case_resolved(self, case_number: str) -> bool:
        """Mark the case resolved; False when it already was (or cannot be)."""
        ...

    def escalate(self, reason: str, answers: dict[str, Any], existing: str | None) -> str: ...

    def schedule_followup(self, case_number: str, due: DueDate) -> FollowUp | None:
        """Set the follow-up once; pressed again, say when it is set for (None: not waiting)."""
        ...

    def active_incidents(self) -> Sequence[Incident]: ...

    def with_people(self, case_number: str) -> bool:
        """Whether the case is already handed to people (and not yet resolved)."""
        ...

    def ladder(self, case_number: str) -> tuple[str, ...]:
        """The rungs of the "still missing" ladder the merchant was given on this case."""
        ...

    def climbed(self, case_number: str, climb: Climb) -> Outcome | None:
        """Record a press of "still missing" (the rung given, today's outcome); returns the
        outcome the case had before, so a change can be said."""
        ...


class Intake:
    """The model the machine drives for one update; it records replies instead of sending."""

    state: str
    trigger: Callable[..., bool]

    def __init__(
        self,
        record: IntakeRecord,
        now: datetime,
        policy: Policy,
        desk: CaseDesk,
        questions: Mapping[str, Question] | None = None,
    ) -> None:
        self.record = record
        self.now = now.astimezone(SHANGHAI)
        self.policy = policy
        self.desk = desk
        #: The questions by state as this deployment asks them (its cycles, its banks).
        self.questions = questions or tailored(policy.cycles, policy.banks)
        self.replies: list[Reply] = []
        self._parsed: Any = None
        self._invalid: InvalidAnswer | None = None
        self._wants_text = False
        self._readings: tuple[When, ...] = ()
        self._after_summary: list[Reply] = []
        self._slip_answers: dict[str, Any] | None = None
        self._story: Story | None = None

    # -- conditions ---------------------------------------------------------------------------

    def _question(self) -> Question:
        return self.questions[self.state]

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

    def has_receipt_keys(self, event: EventData) -> bool:
        return BY_FIELD["reference"].applies(self._answers_with_pending())

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
        return event.transition is not None and event.transition.dest == _s(name)

    def is_first_open(self, event: EventData) -> bool:
        """The first question that applies and has no answer yet is the destination."""
        answers = self.record.answers
        first = next((q for q in applicable(answers) if q.field not in answers), None)
        if first is None or event.transition is None:
            return False
        return event.transition.dest == first.state

    def asks_cycle(self, event: EventData) -> bool:
        """The cycle question, only where the cycle can move a due date (flows.questions)."""
        return BY_FIELD["cycle"].applies(self._answers_with_pending())

    def cycle_missing(self, event: EventData) -> bool:
        question = BY_FIELD["cycle"]
        return question.applies(self.record.answers) and not self.record.answers.get("cycle")

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

    def _parse(self, event: EventData) -> None:
        """Parse the answer once per event (conditions of several transitions share it)."""
        if "parsed" in event.kwargs:
            return
        event.kwargs["parsed"] = True
        try:
            self._parsed = parse_answer(
                self._question(),
                event.kwargs["value"],
                pressed=bool(event.kwargs.get("pressed")),
                now=self.now,
            )
        except WantsFreeText:
            self._wants_text = True
        except AmbiguousWhen as ambiguous:
            self._readings = ambiguous.options
        except InvalidAnswer as error:
            self._invalid = error
        else:
            if self._question().field == "when" and self._parsed.get("day"):
                self._check_age(date.fromisoformat(self._parsed["day"]))

    def _answers_with_pending(self) -> dict[str, Any]:
        answers = dict(self.record.answers)
        if self.state in BY_STATE and self._invalid is None and not self._wants_text:
            answers[self._question().field] = self._parsed
        return answers

    def _check_age(self, day: date) -> None:
        if self.now.date() - day > timedelta(days=TRACEABLE_DAYS):
            self.replies.append(Reply("warn_old", {"days": TRACEABLE_DAYS}))

    # -- actions ------------------------------------------------------------------------------

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
                f"a:{question.field}:{when_choice(when.day, when.time)}",
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
            rows(*(Button(f"rating.{n}", f"k:rate:{number}:{n}") for n in range(1, 6)), per_row=5)
            if resolved_now
            else ()
        )
        self.replies.append(
            Reply(
                "arrived",
                {"case_number": number, "already": bool(number) and not resolved_now},
                (*rating, (Button("new_case", "x:begin"),)),
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
        reply = Reply(
            "person_requested", {"case_number": self.record.case_number, "reason": reason}
        )
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

    def announce(self, event: EventData) -> None:
        """Say what the current state says on entry: the welcome, a question, review, summary."""
        if self.state == IDLE:
            self.replies.append(
                Reply(
                    "welcome",
                    {},
                    (
                        (Button("start", "x:begin"),),
                        (Button("person", "x:person"),),
                        (Button("lang_zh", "l:zh"), Button("lang_en", "l:en")),
                    ),
                )
            )
        elif self.state in BY_STATE:
            self.record.failures = 0
            question = self._question()
            correcting = self.record.pending_slip is not None
            source = self.record.pending_slip if correcting else self.record.answers
            current = (source or {}).get(question.field)
            context: dict[str, Any] = {
                "current": current,
                "revising": self.record.revising or correcting,
                "optional": question.optional,
                "choices": question.choices,
            }
            if question.field == "reference":
                context["keys_first"] = (
                    self.policy.keys_first and "method" not in self.record.answers
                )
                context["not_found"] = self._keys_unconfirmed(question)
            self.replies.append(
                Reply(
                    f"ask_{question.field}",
                    context,
                    self._keys_buttons(question)
                    + self._choice_buttons(question)
                    + self._common_buttons(question),
                )
            )
        elif self.state == CONFIRMING_SLIP:
            self.replies.append(self._slip_reply())
        elif self.state == CHOOSING_NEXT:
            self.trigger("advance")
        elif self.state == REVIEWING:
            self.record.revising = True
            self.record.open_only = False
            self.replies.append(self._review_reply())
        elif self.state == SUMMARIZED:
            facts = Facts.from_answers(self.record.answers)
            diagnosis = diagnose(facts, self.now, self.policy)
            self.replies.append(self._summary_reply(facts, diagnosis))
            self.replies.extend(self._after_summary)

    def _settled_by_records(self) -> frozenset[str]:
        """Answers the acquirer's system gave: never asked, and not changed by the merchant."""
        lookup = self.record.answers.get("records_lookup") or {}
        if lookup.get("status") in (None, "not_found"):
            return frozenset()
        return frozenset(evidence(Found.from_stored(lookup)).answers())

    def _keys_unconfirmed(self, question: Question) -> bool:
        """Asking for the reference number again because the records had no such payment."""
        lookup = self.record.answers.get("records_lookup") or {}
        return question.field == "reference" and lookup.get("status") == "not_found"

    def _keys_buttons(self, question: Question) -> tuple[tuple[Button, ...], ...]:
        if not self._keys_unconfirmed(question) or not self.record.answers.get("reference"):
            return ()
        return ((Button("keys_ok", "x:keys_ok"),),)

    def _choice_buttons(self, question: Question) -> tuple[tuple[Button, ...], ...]:
        buttons = [
            Button(f"{question.field}.{choice}", f"a:{question.field}:{choice}")
            for choice in question.choices
        ]
        return rows(*buttons, per_row=question.per_row)

    def _common_buttons(
        self, question: Question, offer_help: bool = False
    ) -> tuple[tuple[Button, ...], ...]:
        extra = []
        if question.optional:
            extra.append(Button("skip", f"a:{question.field}:{SKIP}"))
        if question.field in RECEIPT_FIELDS:
            extra.append(Button("no_receipt", f"a:{question.field}:{NO_RECEIPT}"))
        extra.append(Button("back", "x:back"))
        if offer_help:
            extra.append(Button("person", "x:person"))
        return rows(*extra)

    def _slip_reply(self) -> Reply:
        """The "is this right?" of a slip or of a story: the same buttons, their own words."""
        pending = self.record.pending_slip or {}
        story = self.record.pending_source == STORY
        items = reading_items(
            pending,
            self.record.answers,
            self.record.origins,
            self.record.pending_source,
            (*BY_FIELD, *SLIP_EXTRAS, *STORY_EXTRAS) if story else SLIP_FIELDS,
            BY_FIELD if story else SLIP_QUESTIONS,
        )
        fixes = [
            Button(f"{'fix' if item['question'] else 'drop'}.{item['field']}", f"r:{item['field']}")
            for item in items
        ]
        if not story:
            buttons = (
                (Button("slip_ok", "x:slip_ok"),),
                *rows(*fixes, per_row=3),
                (Button("slip_no", "x:slip_no"),),
            )
            return Reply("slip_confirm", {"items": items}, buttons)
        consent = self.record.consented_at is None
        buttons = (
            (Button("story_agree" if consent else "story_ok", "x:slip_ok"),),
            *rows(*fixes, per_row=3),
            (Button("story_decline" if consent else "story_no", "x:slip_no"),),
        )
        return Reply(
            "story_confirm",
            {"items": items, "ask": list(pending.get(ASK_KEY, [])), "consent": consent},
            buttons,
        )

    def _review_reply(self) -> Reply:
        questions = applicable(self.record.answers)
        items = [
            {
                "field": q.field,
                "value": self.record.answers.get(q.field),
                "answered": q.field in self.record.answers,
                # The records question answered by the acquirer's system, not the merchant.
                "lookup": self.record.answers.get("records_lookup")
                if q.field == "records"
                else None,
            }
            for q in questions
        ]
        # Read off a slip, asked by no question: shown so the merchant sees what goes on.
        items += [
            {"field": name, "value": self.record.answers[name], "answered": True}
            for name in SLIP_EXTRAS
            if self.record.answers.get(name) is not None
        ]
        settled = self._settled_by_records()
        changes = [
            Button(f"change.{q.field}", f"c:{q.field}") for q in questions if q.field not in settled
        ]
        buttons = (
            (Button("confirm", "x:confirm"),),
            *rows(*changes, per_row=3),
            (Button("back", "x:back"), Button("cancel", "x:cancel")),
        )
        return Reply("review", {"items": items}, buttons)

    def _summary_reply(self, facts: Facts, diagnosis: Diagnosis, recheck: bool = False) -> Reply:
        buttons: tuple[tuple[Button, ...], ...] = (
            (Button("arrived", "x:arrived"), Button("still_missing", "x:missing")),
            (Button("person", "x:person"), Button("new_case", "x:begin")),
        )
        if diagnosis.outcome is Outcome.NOT_YET_DUE and self.record.case_number:
            buttons = ((Button("followup", "x:followup"),), *buttons)
        return summary_reply(
            self.record.case_number,
            facts,
            self.record.answers,
            diagnosis,
            self.now,
            self.desk.active_incidents(),
            recheck=recheck,
            buttons=buttons,
        )


def summary_reply(
    case_number: str | None,
    facts: Facts,
    answers: Mapping[str, Any],
    diagnosis: Diagnosis,
    now: datetime,
    incidents: Iterable[Incident],
    *,
    recheck: bool = False,
    buttons: tuple[tuple[Button, ...], ...] = (),
) -> Reply:
    """The diagnosis summary, at the end of the intake and when a case is rechecked at its
    follow-up: the active `incidents` narrowed to those covering the transaction."""
    return Reply(
        "summary",
        {
            "case_number": case_number,
            "facts": facts,
            "answers": answers,
            "diagnosis": diagnosis,
            "now": now,
            "recheck": recheck,
            "incidents": affecting(incidents, facts.day, facts.time),
            "fields": visible_fields(facts.method, answers),
            "traceable_days": TRACEABLE_DAYS,
        },
        buttons,
    )


def still_missing_reply(
    case_number: str | None,
    facts: Facts,
    step: Climb,
    before: Outcome | None,
    now: datetime,
    incidents: Iterable[Incident] = (),
    *,
    case_buttons: bool = False,
) -> Reply:
    """The next rung of the ladder (or, when none is left, a person), in the intake and at the
    follow-up alike. `case_buttons`: pressed outside the conversation (the follow-up), so the
    buttons name the case instead of the conversation's state."""
    diagnosis = step.diagnosis
    again = f"k:next:{case_number}" if case_buttons and case_number else "x:missing"
    arrived = f"k:yes:{case_number}" if case_buttons and case_number else "x:arrived"
    buttons: list[tuple[Button, ...]] = []
    if step.step is not None and step.remaining:
        buttons.append((Button("still_missing", again), Button("arrived", arrived)))
    else:
        buttons.append((Button("arrived", arrived),))
    buttons.append((Button("person", "x:person"), Button("new_case", "x:begin")))
    return Reply(
        "still_missing",
        {
            "case_number": case_number,
            "facts": facts,
            "diagnosis": diagnosis,
            "step": step.step,
            "remaining": step.remaining,
            "changed": before is not None and before is not diagnosis.outcome,
            "now": now,
            "incidents": affecting(incidents, facts.day, facts.time),
        },
        tuple(buttons),
    )


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


@dataclass(frozen=True)
class Event:
    """What the merchant did, channel-neutral: a trigger name and its arguments."""

    trigger: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def event_from_button(data: str) -> Event | None:
    """Decode our own callback data; None for anything we did not issue."""
    kind, _, rest = data.partition(":")
    if kind == "a":
        name, _, value = rest.partition(":")
        if name in BY_FIELD and value:
            return Event("answer", {"field": name, "value": value, "pressed": True})
    elif kind == "c" and rest in BY_FIELD:
        return Event("change", {"field": rest})
    elif kind == "r" and rest in (*BY_FIELD, *SLIP_EXTRAS, *STORY_EXTRAS):
        return Event("correct_slip", {"field": rest})
    elif kind == "l" and rest in LOCALES:
        return Event("set_language", {"locale": rest})
    elif kind == "x":
        trigger = {
            "begin": "begin",
            "back": "back",
            "cancel": "cancel",
            "confirm": "confirm",
            "person": "ask_person",
            "arrived": "arrived",
            "missing": "still_missing",
            "followup": "follow_up",
            "slip_ok": "confirm_slip",
            "slip_no": "discard_slip",
            "keys_ok": "keys_ok",
        }.get(rest)
        if trigger:
            return Event(trigger)
    return None


COMMANDS = {
    "start": "welcome",
    "back": "back",
    "cancel": "cancel",
    "help": "help",
    "lang": "set_language",
    "person": "ask_person",
}


def event_from_command(name: str, args: str) -> Event | None:
    trigger = COMMANDS.get(name.lower())
    if trigger is None:
        return None
    kwargs: dict[str, Any] = {}
    if trigger == "set_language" and args.strip():
        kwargs["locale"] = args.strip().lower()[:2]
    return Event(trigger, kwargs)


def story_pending(story: Story, answers: Mapping[str, Any], exclude: str = "") -> dict[str, Any]:
    """What a story adds to `answers` for the merchant to confirm: its facts (but the one the
    current question takes, and those already answered alike), what arrived, and the facts it
    saw but could not take (to be asked, under ASK_KEY)."""
    pending = {
        name: value
        for name, value in story.facts.items()
        if name != exclude and answers.get(name) != value
    }
    if story.received_amount is not None:
        pending["received_amount"] = story.received_amount
        amount = story.facts.get("amount") or answers.get("amount")
        if (
            "received" not in story.facts
            and answers.get("received") is None
            and amount is not None
            and received_partly(story.received_amount, amount)
        ):
            pending["received"] = "partial"  # a pasted SMS: less arrived than was paid
    if story.received_day is not None:
        pending["received_day"] = story.received_day
    ask = [
        {"field": a.field, "text": a.text}
        for a in story.ambiguous
        if a.field != exclude and answers.get(a.field) is None
    ]
    if ask and pending:
        pending[ASK_KEY] = ask
    elif ask:
        pending = {ASK_KEY: ask}
    return pending


def has_content(story: Story) -> bool:
    """Anything to confirm: facts, what arrived, or facts seen but left to ask."""
    return bool(story_pending(story, {}))


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
        self.machine.add_model(model, initial=record.state)
        try:
            fired = model.trigger(event.trigger, **event.kwargs)
        finally:
            record.state = model.state
            self.machine.remove_model(model)
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

    def replay(self, record: IntakeRecord, now: datetime, desk: CaseDesk) -> list[Reply]:
        """What the current state says on entry, again (after a hint or a stale button)."""
        model = Intake(record, now, self.policy, desk, self.questions)
        model.state = record.state
        model.announce(EventData(None, None, self.machine, model, (), {}))
        return model.replies


__all__ = [
    "CONFIRMING_SLIP",
    "OTHER",
    "READS_SLIPS",
    "STATES",
    "TRANSITIONS",
    "Event",
    "FollowUp",
    "IntakeFlow",
    "IntakeRecord",
    "summary_reply",
]
