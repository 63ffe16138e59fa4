"""The support group: case cards, forum topics, relay both ways, agent actions, timers.

Everything an agent does is checked against the support group's membership (or the configured
agent ids) on every command and button. Each update of the group is one transaction, off the
event loop, that also takes the update in the inbox (`take_update`, as merchants' updates do):
its case change, its messages queued for the merchant and the mark that it was processed commit
together, so a redelivery after a lost connection neither repeats it nor loses it. Telegram
calls happen after the commit, from what that transaction read (`CardView`), so a connection
lost between the two costs neither the reply nor the group's notice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import Bot, Message, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram.keyboards import keyboard
from bot.channels.telegram.support_cards import Acted, SupportCards
from bot.conversation.case_views import case_view, rating_reply
from bot.conversation.inbox import take_update
from bot.conversation.outbox import enqueue
from bot.conversation.privacy import purge_inbox
from bot.conversation.rendering import Outgoing
from bot.extras import installed
from bot.storage.db import CALL_TIMEOUT
from bot.storage.models import Case
from bot.support.cases import FOLLOWUP, SLA_REPLY, SLA_UNCLAIMED, case_stats
from bot.support.incidents import BULK_SECONDS, Once
from flows.callbacks import AgentAction, decode
from flows.case import OPEN_STATES, WITH_PEOPLE, CaseState
from flows.redaction import redact_text
from flows.replies import Reply
from flows.report import ReportNumbers, report_period
from flows.settlement_calendar import SHANGHAI
from flows.text import storable

log = logging.getLogger(__name__)
T = TypeVar("T")

AGENT_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
#: How long a membership answer from Telegram is trusted before asking again.
MEMBERSHIP_TTL = 60.0
#: The longest period `/report N` draws (one bar per month beyond two years).
REPORT_MAX_DAYS = 3660


class SupportDesk(SupportCards):
    """The support group's updates (agents' replies, buttons, commands) and the timer loop."""

    def _case_for(self, session: Any, message: Message) -> Case | None:
        if message.message_thread_id and message.is_topic_message:
            case = session.scalars(
                select(Case).where(Case.support_thread_id == message.message_thread_id)
            ).first()
            if case is not None:
                return case
        reply = message.reply_to_message
        if reply is not None:
            return session.scalars(
                select(Case).where(Case.support_card_message_id == reply.message_id)
            ).first()
        return None

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Commands and replies in the support group."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or user.is_bot:
            return
        text = message.text or message.caption or ""
        command, _, args = text[1:].partition(" ") if text.startswith("/") else ("", "", text)
        command = command.split("@", 1)[0].lower()
        if command == "" and self._thread_of(message) is None:
            return  # ordinary chatter in the group, not about a case
        if not await self.is_agent(context.bot, user.id):
            await message.reply_text(
                self._render("support_refused", {})[0].text, parse_mode=ParseMode.HTML
            )
            return
        once = self.once(update)
        answer: list[Outgoing] | None = self._render("support_usage", {})
        if command == "cases":
            cases = await once(self.open_cases)
            answer = None if cases is None else self._render("cases_list", {"cases": cases})
        elif command == "stats":
            numbers = await once(case_stats)
            answer = None if numbers is None else self._render("stats", numbers)
        elif command == "incident":
            answer = await self.incidents.command(context.bot, f"agent:{user.id}", args, once)
        elif command == "incidents":
            answer = await once(self.incidents.listing)
        elif command == "report":
            answer = await self._send_report(message, args.strip(), once)
        elif command in ("resolve", "ask", "claim", "unclaim", ""):
            answer = await self._case_command(context.bot, message, user, command, args, once)
        if answer:  # None or empty: the update had taken effect already, or said nothing
            await self._reply(message, answer)

    def once(self, update: Update) -> Once:
        """Runs a piece of the update's work in one transaction with its inbox mark (as the
        merchants' `ConversationService.handle_update` does): None, without running it, when
        the update had already taken effect (a redelivery after a commit whose answer was lost).
        """

        async def run(work: Callable[[Session], T], within: float = CALL_TIMEOUT) -> T | None:
            def attempt(session: Session) -> T | None:
                if not take_update(session, update.update_id, self.chat_id, self.service.clock()):
                    log.info("update_id=%s already processed: skipped", update.update_id)
                    return None
                return work(session)

            return await self.db.run_async(attempt, within=within)

        return run

    def _thread_of(self, message: Message) -> int | None:
        if message.message_thread_id and message.is_topic_message:
            return message.message_thread_id
        if message.reply_to_message is not None:
            return message.reply_to_message.message_id
        return None

    async def _reply(self, message: Message, outgoings: list[Outgoing]) -> None:
        for outgoing in outgoings:
            await message.reply_text(
                outgoing.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(outgoing)
            )

    async def _case_command(
        self, bot: Bot, message: Message, user: Any, command: str, args: str, once: Once
    ) -> list[Outgoing] | None:
        """An agent's reply in a case's topic (or to its card), or a command about that case;
        returns what to answer in the group."""
        now = self.service.clock()
        agent = self.settings.support_team_name or user.first_name
        args = args.strip()

        def act(session: Session) -> Acted:
            case = self._case_for(session, message)
            if case is None:
                return Acted(known=False)
            acted = Acted(merchant_chat=case.chat_id)
            to_merchant: list[Outgoing] = []
            ops = self.service.ops(session, now)
            if command in ("claim", "unclaim"):
                if not ops.fire(
                    case,
                    command,
                    actor=f"agent:{user.id}",
                    agent_id=user.id,
                    agent_name=user.first_name,
                ):
                    acted.notice = self._render("support_not_now", {"case": case_view(case)})
            elif case.status not in WITH_PEOPLE:
                acted.notice = self._render("case_closed_notice", {"case": case_view(case)})
            elif command == "resolve":
                ops.fire(case, "resolve", actor=f"agent:{user.id}", reason=args or None)
                case.resolution_note = args or None
                to_merchant = self.service.render(
                    [
                        Reply(
                            "resolved_by_agent",
                            {"case_number": case.number, "note": args, "agent": agent},
                        ),
                        rating_reply("rate_request", case.number),
                    ],
                    case.locale,
                )
            else:
                body = redact_text(
                    storable(args if command == "ask" else (message.text or message.caption or ""))
                )
                if case.status in (CaseState.ESCALATED, CaseState.REOPENED):
                    ops.fire(
                        case,
                        "claim",
                        actor=f"agent:{user.id}",
                        agent_id=user.id,
                        agent_name=user.first_name,
                        reason="replied",
                    )
                case.first_reply_at = case.first_reply_at or now
                case.last_agent_reply_at = now
                ops.disarm(case, SLA_REPLY)
                ops.transcript(case, case.channel, case.chat_id, "agent", body)
                template = "ask_info" if command == "ask" else "agent_reply"
                to_merchant = self.service.render(
                    [Reply(template, {"agent": agent, "text": body, "case_number": case.number})],
                    case.locale,
                    quoted="text",
                )
            enqueue(session, case.chat_id, to_merchant, now, case.id)
            acted.to_merchant = bool(to_merchant)
            acted.events = [event for event in ops.events if event.kind != "escalated"]
            acted.views = self.card_views(session, acted.events)
            return acted

        acted = await once(act)
        if acted is None:
            return None
        if not acted.known:  # a case command outside a case's topic or card; chatter: nothing
            return self._render("support_usage", {}) if command else []
        if acted.notice:
            await self._reply(message, acted.notice)
        await self._deliver(bot, acted.merchant_chat, message)
        await self.publish(bot, acted.events, acted.views)
        return []

    async def _deliver(self, bot: Bot, chat_id: int, origin: Message | None) -> bool:
        """Flush the merchant's queued messages; a blocked bot is reported to support once."""
        delivery = await self.outbox.flush(bot, chat_id)
        if delivery.unreachable:
            await self.merchant_unreachable(bot, chat_id, origin)
        return not delivery.unreachable

    async def merchant_unreachable(
        self, bot: Bot, chat_id: int, origin: Message | None = None
    ) -> None:
        """Tell support, under each live case of the merchant, that the bot was blocked."""
        if not self.chat_id:
            return

        def load(session: Session) -> list[tuple[list[Outgoing], int | None, int | None]]:
            cases = session.scalars(
                select(Case).where(
                    Case.chat_id == chat_id,
                    Case.status.in_(sorted(WITH_PEOPLE)),
                    Case.support_card_message_id.is_not(None),
                )
            ).all()
            return [
                (
                    self._render("merchant_unreachable", {"case": case_view(case)}),
                    case.support_thread_id,
                    case.support_card_message_id,
                )
                for case in cases
            ]

        for note, thread, card in await self.db.run_async(load):
            try:
                if origin is not None and origin.chat.id == self.chat_id:
                    await self._reply(origin, note)
                    return
                target = {"message_thread_id": thread} if thread else {"reply_to_message_id": card}
                await self._send(bot, note, **target)
            except TelegramError as error:
                log.error("unreachable notice failed: %s", type(error).__name__)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Claim / Unclaim / Resolve on a case card; refused for non-agents and forged data."""
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        if not await self.is_agent(context.bot, user.id):
            await query.answer(self._render("support_refused", {})[0].text, show_alert=True)
            return
        pressed = decode(query.data or "")
        verb = pressed.verb if isinstance(pressed, AgentAction) else ""
        case_id = pressed.case_id if isinstance(pressed, AgentAction) else None
        origin = query.message if isinstance(query.message, Message) else None
        now = self.service.clock()

        def act(session: Session) -> Acted:
            case = session.get(Case, case_id) if case_id is not None else None
            if (
                case is None
                or origin is None
                or not self._button_belongs(case, origin, self.chat_id)
                or verb not in ("claim", "unclaim", "resolve")
            ):
                return Acted(notice=self._render("support_stale", {}))
            ops = self.service.ops(session, now)
            done = ops.fire(
                case,
                verb,
                actor=f"agent:{user.id}",
                agent_id=user.id,
                agent_name=user.first_name,
            )
            answer = self._render(
                "support_done" if done else "support_not_now",
                {"case": case_view(case), "verb": verb},
            )
            to_merchant: list[Outgoing] = []
            if done and verb == "resolve":
                agent = self.settings.support_team_name or user.first_name
                to_merchant = self.service.render(
                    [
                        Reply(
                            "resolved_by_agent",
                            {"case_number": case.number, "note": "", "agent": agent},
                        ),
                        rating_reply("rate_request", case.number),
                    ],
                    case.locale,
                )
            enqueue(session, case.chat_id, to_merchant, now, case.id)
            return Acted(
                notice=answer,
                events=ops.events,
                merchant_chat=case.chat_id,
                to_merchant=bool(to_merchant),
                views=self.card_views(session, ops.events),
            )

        acted = await self.once(update)(act)
        if acted is None:
            return
        await query.answer(acted.notice[0].text[:200])
        if acted.to_merchant:
            await self._deliver(context.bot, acted.merchant_chat, origin)
        await self.publish(context.bot, acted.events, acted.views)

    @staticmethod
    def _button_belongs(case: Case, message: Message, support_chat: int) -> bool:
        """A button must sit on this case's own card (or in its topic): old keyboards fail."""
        if message.chat.id != support_chat:
            return False
        if case.support_card_message_id == message.message_id:
            return True
        return bool(case.support_thread_id and message.message_thread_id == case.support_thread_id)

    # -- lists and numbers -------------------------------------------------------------------

    def open_cases(self, session: Session) -> list[dict[str, Any]]:
        now = self.service.clock()
        cases = session.scalars(
            select(Case)
            .where(Case.status.in_(sorted(OPEN_STATES)))
            .order_by(Case.created_at)
            .limit(50)
        ).all()
        return [
            {
                **case_view(case),
                "age_minutes": int((now - case.created_at).total_seconds() // 60),
            }
            for case in cases
        ]

    async def _send_report(self, message: Message, args: str, once: Once) -> list[Outgoing] | None:
        """/report [days]: the report's charts as one picture, drawn off the event loop;
        returns what to answer instead, if anything."""
        days = int(args) if args.isdecimal() else None
        if args and not (days and days <= REPORT_MAX_DAYS):
            return self._render("support_usage", {})
        if not installed("report"):
            return self._render("report_unavailable", {})
        from bot.ops.report import load_numbers  # matplotlib: on demand

        today = self.service.clock().astimezone(SHANGHAI).date()
        start, end = report_period(today, None, days)
        numbers = await once(lambda session: load_numbers(session, start, end))
        if numbers is None:
            return None
        picture, caption = await asyncio.to_thread(self._report, numbers)
        await message.reply_photo(picture, caption=caption, parse_mode=ParseMode.HTML)
        return []

    def _report(self, numbers: ReportNumbers) -> tuple[bytes, str]:
        from bot.ops.report import report_caption, report_png

        renderer = self.service.renderer
        return (
            report_png(renderer, numbers, self.locale),
            report_caption(renderer, numbers, self.locale),
        )

    # -- timers ------------------------------------------------------------------------------

    async def run_due(self, bot: Bot) -> int:
        """Fire every due timer once, and tell the open cases of active incidents not told yet
        (opened since the incident was posted); returns how many timers fired. Safe to call
        from any worker."""
        notified = await self.db.offload(self.incidents.notify, within=BULK_SECONDS)
        self.outbox.deliver_later(bot, notified)
        now = self.service.clock()
        Job = tuple[str, int, int, list[Outgoing]]

        def fire(session: Session) -> tuple[list[Job], dict[int, tuple[int | None, int | None]]]:
            jobs: list[Job] = []
            for timer in self.service.due_timers(session, now):
                timer.done_at = now
                case = session.get(Case, timer.case_id)
                if case is None:
                    continue
                if timer.kind == FOLLOWUP and case.status in (CaseState.OPEN, CaseState.WAITING):
                    enqueue(
                        session,
                        case.chat_id,
                        self.service.followup_message(session, case),
                        now,
                        case.id,
                    )
                    jobs.append(("merchant", case.chat_id, case.id, []))
                elif timer.kind == SLA_UNCLAIMED and case.status == CaseState.ESCALATED:
                    jobs.append(
                        (
                            "support",
                            0,
                            case.id,
                            self._render(
                                "sla_unclaimed",
                                {
                                    "case": case_view(case),
                                    "minutes": self.settings.sla_unclaimed_minutes,
                                },
                            ),
                        )
                    )
                elif (
                    timer.kind == SLA_REPLY
                    and case.status in WITH_PEOPLE
                    and (
                        case.last_agent_reply_at is None
                        or (
                            case.last_merchant_message_at is not None
                            and case.last_agent_reply_at < case.last_merchant_message_at
                        )
                    )
                ):
                    jobs.append(
                        (
                            "support",
                            0,
                            case.id,
                            self._render(
                                "sla_reply",
                                {
                                    "case": case_view(case),
                                    "hours": self.settings.sla_reply_hours,
                                },
                            ),
                        )
                    )
            targets = {
                case_id: (c.support_thread_id, c.support_card_message_id)
                for _, _, case_id, _ in jobs
                if (c := session.get(Case, case_id)) is not None
            }
            return jobs, targets

        jobs, targets = await self.db.run_async(fire)
        for audience, chat_id, case_id, messages in jobs:
            try:
                if audience == "merchant":
                    await self._deliver(bot, chat_id, None)
                elif self.chat_id:
                    thread, card = targets[case_id]
                    target = (
                        {"message_thread_id": thread}
                        if thread
                        else {"reply_to_message_id": card}
                        if card
                        else {}
                    )
                    if messages:
                        await self._send(bot, messages, **target)
            except TelegramError as error:
                log.error(
                    "timer delivery failed case_id=%s error=%s", case_id, type(error).__name__
                )
        return len(jobs)

    def forget_updates(self, session: Session) -> int:
        """One batch of the inbox's retention purge per tick (the index makes a tick with
        nothing to forget one short lookup); `posbot purge` runs the same `purge_inbox`."""
        kept = timedelta(hours=self.settings.inbox_retention_hours)
        return purge_inbox(session, self.service.clock() - kept)

    async def run_forever(self, bot: Bot) -> None:
        """The timer loop: timers live in the database, so a restart simply picks them up."""
        while True:
            try:
                await self.run_due(bot)
                await self.outbox.drain(bot)
                await self.db.run_async(self.forget_updates)
            except Exception:  # a bad tick must not stop the loop; the next one retries
                log.exception("timer tick failed")
            await asyncio.sleep(self.settings.timer_interval_seconds)
