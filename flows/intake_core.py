"""What every part of the intake model shares: the persisted record, the service's side of the
conversation (`CaseDesk`), and the model's state and the answers it looks at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from transitions import EventData

from flows.answers import InvalidAnswer
from flows.dates import AmbiguousWhen, When
from flows.diagnosis import (
    TRACEABLE_DAYS,
    Climb,
    Diagnosis,
    Outcome,
    Policy,
    calls_bank,
)
from flows.facts import Facts
from flows.incidents import Incident
from flows.intake_table import IDLE
from flows.questions import (
    BY_FIELD,
    BY_STATE,
    QUESTIONS,
    Question,
    WantsFreeText,
    parse_answer,
    tailored,
    walked,
)
from flows.readings import ASK_KEY, SLIP, received_partly
from flows.records_lookup import Found, evidence
from flows.replies import Reply
from flows.settlement_calendar import SHANGHAI, DueDate
from flows.story import Story


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
    #: The questions shown on the way in this enquiry (whatever answered them since): what
    #: numbers the next one (`question_number`).
    asked: list[str] = field(default_factory=list)
    #: The bank question is asked for the "still missing" ladder (its hotline), not the walk.
    climbing: bool = False


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

    def add_answers(self, case_number: str, answers: dict[str, Any]) -> None:
        """Answers given after the summary (the bank, asked at the ladder's bank rung)."""
        ...

    def climbed(self, case_number: str, climb: Climb) -> Outcome | None:
        """Record a press of "still missing" (the rung given, today's outcome); returns the
        outcome the case had before, so a change can be said."""
        ...


def asked_on_the_way(
    question: Question, answers: Mapping[str, Any], now: datetime, policy: Policy
) -> bool:
    """Whether the intake asks `question` on its way to the review (flows.questions.walked);
    the bank only where the summary tells the merchant to call it, which depends on the date."""
    if not walked(question, answers, policy.keys_first, policy.lookup_keys):
        return False
    return question.field != "bank" or calls_bank(answers, now, policy)


def walk_order(keys_first: bool) -> tuple[str, ...]:
    """The order the intake walks its questions in: with a records lookup the reference
    number comes right after the date and amount (keys first)."""
    fields = [question.field for question in QUESTIONS if question.field != "reference"]
    if keys_first:
        fields.insert(fields.index("amount") + 1, "reference")
    else:
        fields.insert(fields.index("acquirer") + 1, "reference")
    return tuple(fields)


def question_number(
    name: str, asked: Sequence[str], answers: Mapping[str, Any], now: datetime, policy: Policy
) -> int:
    """The number `name` shows: one more than the questions this merchant was asked before it
    on the way. Counted in walk order, not in time, so /back shows the number a question had,
    and a question a story or a slip made unnecessary leaves no gap.

    An asked question still counts when a later answer made it moot (the card type, once the
    records failed: it was asked), but not when an earlier answer changed since took it off
    the way (the card type, after going back to say it was WeChat Pay): each is judged on the
    answers before it, as when it was asked."""
    order = walk_order(policy.keys_first)
    place = order.index(name)
    return 1 + sum(
        1
        for other in dict.fromkeys(asked)
        if other in order
        and order.index(other) < place
        and _on_the_way_then(other, order, answers, now, policy)
    )


def previous_asked(
    name: str, asked: Sequence[str], answers: Mapping[str, Any], now: datetime, policy: Policy
) -> str | None:
    """The question Back returns to from `name`: the last one before it in walk order that
    this merchant was shown and that still counts (`question_number`'s rule, so its number is
    one less); None from the first one shown. A question a story, a slip or earlier answers
    settled was never shown, so Back never brings it up with a number already used."""
    order = walk_order(policy.keys_first)
    if name not in order:
        return None
    return _last_shown_before(order.index(name), order, asked, answers, now, policy)


def last_asked(
    asked: Sequence[str], answers: Mapping[str, Any], now: datetime, policy: Policy
) -> str | None:
    """The question the review's Back returns to: the last one in walk order this merchant was
    shown and that still counts (as `previous_asked` from past the last question); None when
    a story or a slip answered every one."""
    order = walk_order(policy.keys_first)
    return _last_shown_before(len(order), order, asked, answers, now, policy)


def _last_shown_before(
    place: int,
    order: Sequence[str],
    asked: Sequence[str],
    answers: Mapping[str, Any],
    now: datetime,
    policy: Policy,
) -> str | None:
    before = [
        other
        for other in dict.fromkeys(asked)
        if other in order
        and order.index(other) < place
        and _on_the_way_then(other, order, answers, now, policy)
    ]
    return max(before, key=order.index, default=None)


def _on_the_way_then(
    name: str, order: Sequence[str], answers: Mapping[str, Any], now: datetime, policy: Policy
) -> bool:
    earlier = set(order[: order.index(name)])
    known = {k: v for k, v in answers.items() if k in earlier or k not in order}
    if name == "reference" and policy.keys_first and "method" not in known:
        return True  # keys first: asked before the way of paying is known
    return asked_on_the_way(BY_FIELD[name], known, now, policy)


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


class IntakeBase:
    """The model's state, set up once per update; conditions, replies and actions build on it."""

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
        #: Entering the summary says nothing (the ladder's rung follows instead).
        self._quiet = False
        #: Back passes through CHOOSING_NEXT on its way to this question (`step_back`).
        self._back_to: str | None = None

    def _question(self) -> Question:
        return self.questions[self.state]

    def _walked(self, question: Question, answers: Mapping[str, Any]) -> bool:
        return asked_on_the_way(question, answers, self.now, self.policy)

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

    def _forget_reading(self) -> None:
        self.record.pending_slip = None
        self.record.pending_source = SLIP
        self.record.fresh = False
        self.record.origins = {}
        self.record.asked = []
        self.record.climbing = False
