"""What the intake says: the question with its buttons, the slip or story confirmation, the
review and the summary, as replies-as-data (templates word them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from transitions import EventData

from flows.callbacks import Action, Answer, CaseReply, Change, Correct, Language, encode
from flows.diagnosis import (
    TRACEABLE_DAYS,
    Climb,
    Diagnosis,
    Outcome,
    diagnose,
)
from flows.facts import Facts, visible_fields
from flows.incidents import Incident, affecting
from flows.intake_core import IntakeBase, question_number
from flows.intake_table import (
    CHOOSING_NEXT,
    CONFIRMING_SLIP,
    IDLE,
    REVIEWING,
    STORY_EXTRAS,
    SUMMARIZED,
)
from flows.questions import (
    BY_FIELD,
    BY_STATE,
    NO_RECEIPT,
    RECEIPT_FIELDS,
    SKIP,
    Question,
    applicable,
)
from flows.readings import ASK_KEY, STORY
from flows.readings import items as reading_items
from flows.replies import Button, Reply, rows
from flows.slip import SLIP_EXTRAS, SLIP_FIELDS, SLIP_QUESTIONS


class IntakeReplies(IntakeBase):
    """The replies of the state the model has reached."""

    def announce(self, event: EventData) -> None:
        """Say what the current state says on entry: the welcome, a question, review, summary."""
        if self.state == IDLE:
            self.replies.append(
                Reply(
                    "welcome",
                    {},
                    (
                        (Button("start", encode(Action("begin"))),),
                        (Button("person", encode(Action("person"))),),
                        (
                            Button("lang_zh", encode(Language("zh"))),
                            Button("lang_en", encode(Language("en"))),
                        ),
                    ),
                )
            )
        elif self.state in BY_STATE:
            self.record.failures = 0
            question = self._question()
            correcting = self.record.pending_slip is not None
            source = self.record.pending_slip if correcting else self.record.answers
            current = (source or {}).get(question.field)
            revising = self.record.revising or correcting
            context: dict[str, Any] = {
                "current": current,
                "revising": revising,
                "optional": question.optional,
                "choices": question.choices,
                # Changing one answer is no step of the walk: no number then; nor the bank
                # asked at the ladder's bank rung, after the summary.
                "number": None if revising or self.record.climbing else self._number(question),
            }
            if question.field == "bank":
                context["ladder"] = self.record.climbing
            if question.field == "acquirer":
                # Asked on the way only for a wallet payment: who gave the collection code.
                context["wallet"] = self.record.answers.get("method") in ("wechat", "alipay")
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
        elif self.state == SUMMARIZED and not self._quiet:
            facts = Facts.from_answers(self.record.answers)
            diagnosis = diagnose(facts, self.now, self.policy)
            self.replies.append(self._summary_reply(facts, diagnosis))
            self.replies.extend(self._after_summary)

    def _number(self, question: Question) -> int:
        """Count this question as asked, and number it (flows.intake_core.question_number)."""
        if question.field not in self.record.asked:
            self.record.asked.append(question.field)
        return question_number(
            question.field, self.record.asked, self.record.answers, self.now, self.policy
        )

    def _keys_buttons(self, question: Question) -> tuple[tuple[Button, ...], ...]:
        if not self._keys_unconfirmed(question) or not self.record.answers.get("reference"):
            return ()
        return ((Button("keys_ok", encode(Action("keys_ok"))),),)

    def _choice_buttons(self, question: Question) -> tuple[tuple[Button, ...], ...]:
        buttons = [
            Button(f"{question.field}.{choice}", encode(Answer(question.field, choice)))
            for choice in question.choices
        ]
        return rows(*buttons, per_row=question.per_row)

    def _common_buttons(
        self, question: Question, offer_help: bool = False
    ) -> tuple[tuple[Button, ...], ...]:
        extra = []
        if question.optional:
            extra.append(Button("skip", encode(Answer(question.field, SKIP))))
        if question.field in RECEIPT_FIELDS:
            extra.append(Button("no_receipt", encode(Answer(question.field, NO_RECEIPT))))
        extra.append(Button("back", encode(Action("back"))))
        if offer_help:
            extra.append(Button("person", encode(Action("person"))))
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
            Button(
                f"{'fix' if item['question'] else 'drop'}.{item['field']}",
                encode(Correct(item["field"])),
            )
            for item in items
        ]
        if not story:
            buttons = (
                (Button("slip_ok", encode(Action("slip_ok"))),),
                *rows(*fixes, per_row=3),
                (Button("slip_no", encode(Action("slip_no"))),),
            )
            return Reply("slip_confirm", {"items": items}, buttons)
        consent = self.record.consented_at is None
        buttons = (
            (Button("story_agree" if consent else "story_ok", encode(Action("slip_ok"))),),
            *rows(*fixes, per_row=3),
            (Button("story_decline" if consent else "story_no", encode(Action("slip_no"))),),
        )
        return Reply(
            "story_confirm",
            {"items": items, "ask": list(pending.get(ASK_KEY, [])), "consent": consent},
            buttons,
        )

    def _review_reply(self) -> Reply:
        questions = applicable(self.record.answers)
        # Listed: the questions asked on the way and any other answer given (a slip's
        # reference number, an acquirer a story named). The rest were not asked (they change
        # no advice here): named on one line, each with its button, for a merchant who wants
        # to add them anyway.
        shown = tuple(
            q
            for q in questions
            if q.field in self.record.answers or self._walked(q, self.record.answers)
        )
        unasked = [q.field for q in questions if q not in shown]
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
            for q in shown
        ]
        # Read off a slip, asked by no question: shown so the merchant sees what goes on.
        items += [
            {"field": name, "value": self.record.answers[name], "answered": True}
            for name in (*SLIP_EXTRAS, *STORY_EXTRAS)
            if self.record.answers.get(name) is not None
        ]
        settled = self._settled_by_records()
        changes = [
            Button(f"change.{q.field}", encode(Change(q.field)))
            for q in questions
            if q.field not in settled
        ]
        buttons = (
            (Button("confirm", encode(Action("confirm"))),),
            *rows(*changes, per_row=3),
            (Button("back", encode(Action("back"))), Button("cancel", encode(Action("cancel")))),
        )
        return Reply("review", {"items": items, "unasked": unasked}, buttons)

    def _summary_reply(self, facts: Facts, diagnosis: Diagnosis, recheck: bool = False) -> Reply:
        buttons: tuple[tuple[Button, ...], ...] = (
            ARRIVED_OR_MISSING,
            (
                Button("person", encode(Action("person"))),
                Button("new_case", encode(Action("begin"))),
            ),
        )
        if diagnosis.outcome is Outcome.NOT_YET_DUE and self.record.case_number:
            buttons = ((Button("followup", encode(Action("followup"))),), *buttons)
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


def shortfall(facts: Facts, answers: Mapping[str, Any]) -> Decimal | None:
    """How much less than the sale arrived, where a story or a pasted bank SMS said how much
    arrived (`received_amount`): what the statement's fees and refunds must account for."""
    received = answers.get("received_amount")
    if received is None:
        return None
    try:
        short = facts.amount - Decimal(str(received))
    except ArithmeticError:
        return None
    return short if short > 0 else None


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
            "shortfall": shortfall(facts, answers),
        },
        buttons,
    )


#: The summary's answer to "did it arrive?", also offered where a typed answer is in doubt.
ARRIVED_OR_MISSING = (
    Button("arrived", encode(Action("arrived"))),
    Button("still_missing", encode(Action("missing"))),
)


def arrival_doubt_reply(asked: bool) -> Reply:
    """After a summary, "收到" (noted, or the money came?) or "到了吗" (asked, which the bot
    cannot see): the summary's two buttons, never an arrival taken from the words."""
    return Reply("arrival_question" if asked else "noted_ask", {}, (ARRIVED_OR_MISSING,))


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
    again = (
        encode(CaseReply("next", case_number))
        if case_buttons and case_number
        else encode(Action("missing"))
    )
    arrived = (
        encode(CaseReply("yes", case_number))
        if case_buttons and case_number
        else encode(Action("arrived"))
    )
    buttons: list[tuple[Button, ...]] = []
    if step.step is not None and step.remaining:
        buttons.append((Button("still_missing", again), Button("arrived", arrived)))
    else:
        buttons.append((Button("arrived", arrived),))
    buttons.append(
        (Button("person", encode(Action("person"))), Button("new_case", encode(Action("begin"))))
    )
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
