"""The one place a merchant's message is handled, whatever the channel.

Load the conversation row (locked), turn the incoming message into a flow event, fire it,
save the record and any case in the same transaction, then render the replies. Telegram,
the terminal and (later) webhooks all call `ConversationService.handle`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation.case_views import case_view, last_text, rating_reply
from bot.conversation.handoff_keys import take_keys
from bot.conversation.inbox import take_update
from bot.conversation.messages import ChatRef, Incoming, Result, locale_for
from bot.conversation.outbox import enqueue
from bot.conversation.privacy import forget_chat, reset_conversation
from bot.conversation.rendering import Outgoing, Renderer
from bot.conversation.rows import Conversations, answers_key_question, record_of, store_record
from bot.storage.db import Database
from bot.storage.models import Case, Conversation, Timer
from bot.support.cases import (
    SLA_REPLY,
    CaseOps,
    CasePolicy,
    Cases,
    ConversationDesk,
    SupportEvent,
    case_record,
)
from bot.support.incidents import active_incidents
from flows.callbacks import CaseReply, Forget, Rating, decode, encode
from flows.case import WITH_PEOPLE, CaseFlow, CaseState, can_reopen
from flows.diagnosis import Outcome, climb, diagnose
from flows.facts import Facts
from flows.handoff import keys_from_slip, keys_in_message
from flows.intake import IntakeFlow
from flows.intake_core import IntakeRecord
from flows.intake_events import Event, event_from_button, event_from_command
from flows.intake_replies import still_missing_reply
from flows.intake_table import CONFIRMING_SLIP, IDLE, KEY_QUESTIONS, READS_SLIPS, SUMMARIZED
from flows.questions import BY_STATE, keys_wanted
from flows.records_lookup import LookupKeys, keys_ready
from flows.redaction import Finding, redact
from flows.replies import Button, Reply, rows
from flows.story import only_small_talk

if TYPE_CHECKING:
    from bot.records.http import RecordsClient

log = logging.getLogger(__name__)

#: Key in the answers of the keys last looked up (a lookup runs once per set of keys).
LOOKUP_KEYS = "records_keys"


class ConversationService:
    """Channel-neutral conversation handling on top of the database."""

    def __init__(
        self,
        db: Database,
        flow: IntakeFlow,
        renderer: Renderer,
        default_locale: str = "zh",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        case_flow: CaseFlow | None = None,
        case_policy: CasePolicy | None = None,
        records: RecordsClient | None = None,
    ) -> None:
        self.db = db
        #: The acquirer's records ([records] in the deployment file); None: never looked up.
        self.records = records
        self.flow = flow
        self.renderer = renderer
        self.default_locale = default_locale
        self.clock = clock
        self.case_policy = case_policy or CasePolicy()
        self.case_flow = case_flow or CaseFlow(self.case_policy.reopen_window)

    def ops(self, session: Session, now: datetime) -> CaseOps:
        return CaseOps(session, self.case_flow, self.case_policy, now)

    def handle(self, chat: ChatRef, incoming: Incoming, outbox: bool = False) -> Result:
        """Handle one message; with `outbox`, the replies are queued in the same transaction.
        Blocking: the terminal chat's way; the bot's handlers use `handle_update`."""
        return self.db.run(lambda session: self._handle(session, chat, incoming, outbox, None))

    async def handle_update(
        self, chat: ChatRef, incoming: Incoming, update_id: int | None
    ) -> Result:
        """Handle a Telegram update off the event loop, in one transaction with its outbox rows
        and the inbox mark that makes it count as processed: it takes effect once, or not at
        all (and then a redelivery runs it). No `update_id`: a turn of the bot's own making
        (what the records lookup answered), which no redelivery can repeat."""
        return await self.db.run_async(
            lambda session: self._handle(session, chat, incoming, True, update_id)
        )

    def _handle(
        self,
        session: Session,
        chat: ChatRef,
        incoming: Incoming,
        outbox: bool,
        update_id: int | None,
    ) -> Result:
        """One attempt, inside the transaction `Database.run` gives (and may give again)."""
        now = self.clock()
        if update_id is not None and not take_update(session, update_id, chat.chat_id, now):
            log.info("update_id=%s already processed: skipped", update_id)
            return Result([], [], duplicate=True)
        row = Conversations(session).get_or_create(
            chat.channel,
            chat.chat_id,
            chat.user_id,
            locale_for(chat.language_code, self.default_locale),
            IDLE,
        )
        record = record_of(row)
        before = record.state
        ops = self.ops(session, now)
        incoming, warning = self._screen(record, incoming)
        replies = self._dispatch(ops, row, record, incoming, warning)
        lookup = self._lookup_due(record)
        store_record(row, record, now)
        messages = self.render(replies, record.locale)
        claimed = enqueue(session, chat.chat_id, messages, now, claim=True) if outbox else []
        # DEBUG: a webhook worker's log holds one line per request, uvicorn's access line.
        log.debug("handled kind=%s state=%s->%s", incoming.kind, before, record.state)
        queued = outbox and bool(messages) and not claimed
        return Result(
            messages,
            ops.events,
            warning is not None,
            claimed,
            queued,
            lookup=lookup,
            locale=record.locale,
        )

    def _lookup_due(self, record: IntakeRecord) -> LookupKeys | None:
        """Keys to look up now: all the configured request needs are known, and they are not
        the ones already asked about (each set of keys is asked once per conversation)."""
        if self.records is None or record.state in (IDLE, SUMMARIZED):
            return None
        answers = record.answers
        if not keys_ready(answers, self.records.config):
            return None
        keys = LookupKeys.from_answers(answers)
        if answers.get(LOOKUP_KEYS) == keys.values():
            return None
        answers[LOOKUP_KEYS] = keys.values()
        return keys

    @staticmethod
    def _screen(record: IntakeRecord, incoming: Incoming) -> tuple[Incoming, Reply | None]:
        """Card, ID, phone numbers and secrets never go further than this.

        A receipt key typed where it is asked for (a 15-digit merchant number looks like a
        card number) is the one exception.
        """
        if incoming.kind not in ("text", "command") or not incoming.text:
            return incoming, None
        if (
            incoming.kind == "text"
            and not incoming.found
            and answers_key_question(record.state, incoming.text)
        ):
            return incoming, None
        redaction = redact(incoming.text)
        findings = redaction.findings | incoming.found
        if not findings:
            return incoming, None
        warning = Reply(
            "sensitive_warning",
            {
                "secret": Finding.SECRET in findings,
                "findings": sorted(finding.value for finding in findings),
            },
        )
        return replace(incoming, text=redaction.text), warning

    def reads_slip(self, session: Session, chat: ChatRef) -> bool:
        """Whether a photo from this chat would be read now (saves OCR on other photos)."""
        row = session.execute(
            select(Conversation.state, Conversation.consented_at).where(
                Conversation.channel == chat.channel, Conversation.chat_id == chat.chat_id
            )
        ).first()
        if row is None:
            return False
        # Before consent (a story waiting for "Agree") nothing is read or kept.
        if row.state in READS_SLIPS and row.consented_at is not None:
            return True
        # With people, the photo the hand-off asked for: its keys go on the case.
        latest = self.ops(session, self.clock()).latest_case(chat.channel, chat.chat_id)
        return latest is not None and latest.status in WITH_PEOPLE

    def render(
        self, replies: list[Reply], locale: str, quoted: str | None = None
    ) -> list[Outgoing]:
        """Messages within Telegram's limit (see Renderer.render_parts for `quoted`)."""
        return [
            part for reply in replies for part in self.renderer.render_parts(reply, locale, quoted)
        ]

    def notice(self, template: str, language_code: str | None) -> list[Outgoing]:
        """A message outside any conversation step (flood notice), in the sender's language."""
        return self.render([Reply(template)], locale_for(language_code, self.default_locale))

    def error_reply(self, language_code: str | None) -> list[Outgoing]:
        """What the merchant sees when handling failed: never silence, never a traceback."""
        return self.render([Reply("error")], locale_for(language_code, self.default_locale))

    def _dispatch(
        self,
        ops: CaseOps,
        row: Conversation,
        record: IntakeRecord,
        incoming: Incoming,
        warning: Reply | None = None,
    ) -> list[Reply]:
        desk = ConversationDesk(ops, row)
        now = ops.now
        live = None
        if incoming.kind in ("text", "photo"):  # button presses never go to people
            live = self._live_case(ops, row)
            if record.consented_at is not None or live is not None:
                # Before consent a message is read in memory only (PRODUCT 2.1, PIPL).
                self._note_merchant_message(ops, row, live, incoming)
        if warning is not None:  # never used as an answer; the question is asked again
            return [warning, *self.flow.replay(record, now, desk)]
        event: Event | None
        if incoming.kind == "command":
            if incoming.command.lower() in ("status", "case"):
                return self._status(ops, row, incoming.command.lower(), incoming.text)
            if incoming.command.lower() == "forget":
                buttons = rows(
                    Button("forget_yes", encode(Forget(True))),
                    Button("forget_no", encode(Forget(False))),
                )
                return [Reply("forget_confirm", {}, buttons)]
            event = event_from_command(incoming.command, incoming.text)
            if event is None:
                return [Reply("unknown_command")]
        elif incoming.kind == "button":
            pressed = decode(incoming.text)
            if isinstance(pressed, CaseReply | Rating):
                return self._case_button(ops, row, record, pressed)
            if isinstance(pressed, Forget):
                return self._forget(ops, row, record, pressed.confirmed)
            event = event_from_button(incoming.text)
            if event is None:
                return [Reply("stale_button"), *self.flow.replay(record, now, desk)]
        elif incoming.kind == "text":
            if live is not None and self._may_give_keys(record):
                policy = self.flow.policy
                facts = live.facts or {}
                keys = keys_in_message(incoming.text, facts, now, policy.banks, policy.cycles)
                if keys:
                    return self._take_keys(ops, record, live, keys, desk)
            if record.state not in BY_STATE:
                told = None
                if live is None:
                    # "还是没到账" on a resolved case reopens it; a new story starts a new one.
                    reopens = self._reopenable(ops, row)
                    told = self.flow.tell(record, incoming.text, now, desk, about_case=reopens)
                if told is not None:
                    return told
                if record.state != CONFIRMING_SLIP:
                    return self._free_text(ops, row, live, incoming.text)
            event = Event("answer", {"value": incoming.text, "pressed": False})
        elif incoming.kind == "photo":
            if record.consented_at is None and live is None:  # nothing kept before consent
                return [Reply("photo_received", {"state": IDLE, "attached": False})]
            attached = bool(incoming.file_id)
            if attached:
                row.photo_file_ids = [*(row.photo_file_ids or []), incoming.file_id][-5:]
            if attached and live is not None:
                live.photo_file_ids = [*(live.photo_file_ids or []), incoming.file_id][-5:]
            keys = keys_from_slip(incoming.slip, now) if incoming.slip is not None else {}
            if live is not None and keys:
                # The photo the hand-off asked for: its keys go on the case right away; during
                # the intake the slip is still confirmed as any other.
                taken = self._take_keys(ops, record, live, keys, desk, from_slip=True)
                if record.state not in READS_SLIPS:
                    return taken
            if record.state not in READS_SLIPS:
                return [Reply("photo_received", {"state": record.state, "attached": attached})]
            event = Event(
                "read_slip",
                {"slip": incoming.slip, "problem": incoming.slip_problem, "attached": attached},
            )
        elif incoming.kind == "records" and self.records is not None:
            event = Event("lookup", {"result": incoming.lookup, "by": self.records.config.name})
        else:
            return [Reply("non_text")]
        replies = self.flow.handle(record, event, now, desk)
        for duplicate in (e for e in ops.events if e.kind == "duplicate"):
            # A merchant hears only of their own cases; a match with another merchant's case
            # (the same reference number) is for support alone (the card and the notice).
            other = Cases(ops.session).by_number(duplicate.text or "")
            if other is not None and (other.channel, other.chat_id) == (row.channel, row.chat_id):
                replies.append(
                    Reply(
                        "possible_duplicate",
                        {"case_number": record.case_number, "other": duplicate.text},
                    )
                )
        return replies

    def _may_give_keys(self, record: IntakeRecord) -> bool:
        """Outside the intake, or at a question that does not itself ask for a key (there the
        intake takes it as the answer)."""
        field = self.flow.current_field(record)
        return field is None or field not in KEY_QUESTIONS

    def _take_keys(
        self,
        ops: CaseOps,
        record: IntakeRecord,
        live: Case,
        keys: dict[str, str],
        desk: ConversationDesk,
        from_slip: bool = False,
    ) -> list[Reply]:
        noted = take_keys(ops, record, live, keys, from_slip)
        if record.state in BY_STATE or record.state == CONFIRMING_SLIP:
            return [noted, *self.flow.replay(record, ops.now, desk)]  # the question still open
        return [noted]

    def _forget(
        self, ops: CaseOps, row: Conversation, record: IntakeRecord, confirmed: bool
    ) -> list[Reply]:
        """/forget, confirmed: erase the merchant's data and start them afresh."""
        if not confirmed:
            return [Reply("forget_kept")]
        count = forget_chat(ops.session, row.channel, row.chat_id, ops.now)
        reset_conversation(row)
        fresh = IntakeRecord(locale=record.locale)
        for name in vars(fresh):
            setattr(record, name, getattr(fresh, name))
        log.info("merchant data erased cases=%d", count)
        return [Reply("forgotten", {"cases": count})]

    # -- the merchant and their cases --------------------------------------------------------

    def _live_case(self, ops: CaseOps, row: Conversation) -> Case | None:
        case = ops.latest_case(row.channel, row.chat_id)
        return case if case is not None and case.status in WITH_PEOPLE else None

    def _note_merchant_message(
        self, ops: CaseOps, row: Conversation, live: Case | None, incoming: Incoming
    ) -> None:
        """Keep the transcript, and pass messages on a live case to support."""
        text = incoming.text if incoming.kind == "text" else "[photo]"
        ops.transcript(live, row.channel, row.chat_id, "merchant", text)
        if live is None:
            return
        live.last_merchant_message_at = ops.now
        ops.arm(live, SLA_REPLY, ops.now + timedelta(hours=self.case_policy.sla_reply_hours))
        ops.events.append(
            SupportEvent(
                "merchant_message",
                live.id,
                text=incoming.text if incoming.kind == "text" else None,
                photo_file_id=incoming.file_id or None,
            )
        )

    def _reopenable(self, ops: CaseOps, row: Conversation) -> bool:
        latest = ops.latest_case(row.channel, row.chat_id)
        return latest is not None and can_reopen(
            case_record(latest), ops.now, self.case_policy.reopen_window
        )

    def _free_text(
        self, ops: CaseOps, row: Conversation, live: Case | None, text: str
    ) -> list[Reply]:
        if live is not None:
            return [Reply("relayed", {"case_number": live.number})]
        latest = ops.latest_case(row.channel, row.chat_id)
        if latest is not None and can_reopen(
            case_record(latest), ops.now, self.case_policy.reopen_window
        ):
            if only_small_talk(text):  # "谢谢" after the money came reopens nothing
                return [Reply("resolved_note", {"case_number": latest.number})]
            ops.fire(latest, "reopen", actor="merchant", reason="merchant wrote again")
            # A reopened case goes to people, whether or not they saw it before.
            latest.escalation_reason = latest.escalation_reason or "reopened"
            ops.fire(latest, "escalate", actor="merchant", reason="reopened")
            ops.events.append(
                SupportEvent("merchant_message", latest.id, text=last_text(ops, latest))
            )
            return [Reply("reopened", {"case_number": latest.number})]
        return [Reply("off_topic", {"state": row.state})]

    def _status(self, ops: CaseOps, row: Conversation, command: str, args: str) -> list[Reply]:
        cases = Cases(ops.session)
        if command == "case" and args.strip():  # a bare /case lists them, as /status
            case = cases.by_number(args.strip().upper())
            if case is None or (case.channel, case.chat_id) != (row.channel, row.chat_id):
                return [Reply("case_not_found", {"number": args.strip()[:32]})]
            return [Reply("case_detail", {"case": case_view(case)})]
        mine = ops.session.scalars(
            select(Case)
            .where(Case.channel == row.channel, Case.chat_id == row.chat_id)
            .order_by(Case.id.desc())
            .limit(10)
        ).all()
        return [Reply("status_list", {"cases": [case_view(case) for case in mine]})]

    def _case_button(
        self, ops: CaseOps, row: Conversation, record: IntakeRecord, pressed: CaseReply | Rating
    ) -> list[Reply]:
        """Merchant buttons about a case (follow-up answers, rating): checked to be theirs."""
        case = Cases(ops.session).by_number(pressed.case_number)
        if case is None or (case.channel, case.chat_id) != (row.channel, row.chat_id):
            return [Reply("stale_button")]
        if isinstance(pressed, Rating):
            if case.status not in (CaseState.RESOLVED, CaseState.CLOSED) or case.rating is not None:
                return [Reply("stale_button")]
            case.rating = pressed.stars
            return [Reply("thanks_rating", {"rating": case.rating})]
        verb = pressed.verb
        if verb == "yes" and case.status in (CaseState.OPEN, CaseState.WAITING):
            ops.fire(case, "resolve", actor="merchant", reason="arrived at follow-up")
            return [rating_reply("arrived", case.number)]
        if verb == "no" and case.status in (CaseState.OPEN, CaseState.WAITING):
            outcome, replies = self._climb(ops, row, record, case)
            if outcome is not Outcome.OVERDUE:
                return replies
            ops.fire(case, "escalate", actor="merchant", reason="still missing at follow-up")
            case.escalation_reason = "followup"
            return [
                *replies,
                Reply(
                    "person_requested",
                    {
                        "case_number": case.number,
                        "reason": "followup",
                        "keys": keys_wanted(case.facts or {}),
                    },
                ),
            ]
        if verb == "next" and case.status not in (CaseState.RESOLVED, CaseState.CLOSED):
            return self._climb(ops, row, record, case)[1]
        return [Reply("stale_button")]

    def _climb(
        self, ops: CaseOps, row: Conversation, record: IntakeRecord, case: Case
    ) -> tuple[Outcome, list[Reply]]:
        """'Still missing' about a case, outside its conversation: the next rung (the bank's
        hotline with a bank never asked: the conversation asks it first, as in the intake)."""
        facts = Facts.from_answers(case.facts)
        desk = ConversationDesk(ops, row)
        if record.case_number == case.number and self.flow.bank_first(record, ops.now, desk):
            outcome = diagnose(facts, ops.now, self.flow.policy).outcome
            return outcome, self.flow.handle(record, Event("still_missing"), ops.now, desk)
        step = climb(facts, desk.ladder(case.number), ops.now, self.flow.policy)
        before = desk.climbed(case.number, step)
        incidents = active_incidents(ops.session)
        reply = still_missing_reply(
            case.number, facts, step, before, ops.now, incidents, case_buttons=True
        )
        return step.diagnosis.outcome, [reply]

    # -- timers ------------------------------------------------------------------------------

    def followup_message(self, session: Session, case: Case) -> list[Outgoing]:
        """The "has it arrived?" question for a due follow-up."""
        reply = Reply(
            "followup_question",
            {"case": case_view(case)},
            rows(
                Button("yes_arrived", encode(CaseReply("yes", case.number))),
                Button("no_missing", encode(CaseReply("no", case.number))),
            ),
        )
        return self.render([reply], case.locale)

    def due_timers(self, session: Session, now: datetime, limit: int = 50) -> list[Timer]:
        """Pending timers that are due, locked so only one worker fires each."""
        query = (
            select(Timer)
            .where(Timer.done_at.is_(None), Timer.due_at <= now)
            .order_by(Timer.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(session.scalars(query))
