"""Incident notices: `/incident` in the support group, the summary block, one notice per case.

Support posts a range of transaction times something went wrong for (an acquirer's settlement
batch is late). It is stored with its text redacted; merchants whose transaction falls in it see
it in their summary (`flows` gets plain `Incident` records from `active_incidents`), and every
open case in range is told once through the outbox: those open when it is posted at once, those
opened later by the timer loop (`notify`). The (incident, case) pairs told are rows of
`incident_notices`, so running the notify step again never repeats a message. The notices are
decided in one transaction off the event loop and sent by the outbox in the background, paced by
the bot's rate limiter; what a restart interrupts, the periodic drain sends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta, tzinfo
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversation.outbox import Bot, Outbox, enqueue
from bot.conversation.rendering import Outgoing
from bot.storage.db import Database
from bot.storage.models import Case, IncidentNotice
from bot.storage.models import Incident as IncidentRow
from flows.case import OPEN_STATES
from flows.incidents import (
    MAX_AGE,
    MAX_AHEAD,
    MAX_SPAN,
    MAX_TEXT,
    Incident,
    IncidentDraft,
    InvalidIncident,
    affects,
    parse_incident,
    parse_incident_id,
)
from flows.redaction import redact_text
from flows.replies import Reply
from flows.settlement_calendar import SHANGHAI

T = TypeVar("T")


class Once(Protocol):
    """Runs an update's work in one transaction with its inbox mark; None when the update had
    already taken effect (`SupportDesk.once`)."""

    async def __call__(self, work: Callable[[Session], T], within: float = ...) -> T | None: ...


class Service(Protocol):
    """What incidents need of the conversation service (which itself reads incidents)."""

    db: Database
    clock: Callable[[], datetime]

    def render(
        self, replies: list[Reply], locale: str, quoted: str | None = None
    ) -> list[Outgoing]: ...


log = logging.getLogger(__name__)

#: Only merchants the bot can write to: Telegram chats (not the terminal, not erased cases).
CHANNEL = "telegram"
#: How long an ended incident still shows in /incidents.
RECENTLY_ENDED = timedelta(days=7)
#: At most this many incidents of each kind in /incidents.
LIST_LIMIT = 20
#: Longest wait for posting an incident and queueing its notices (thousands of cases).
BULK_SECONDS = 60.0
#: Stands for the case number in a notice rendered once and sent to many cases.
NUMBER_MARK = "PB-NUMBER-MARK"


def record_of(row: IncidentRow) -> Incident:
    return Incident(row.id, row.starts_at, row.ends_at, row.text)


def active_incidents(session: Session) -> list[Incident]:
    """Every incident not ended yet, as plain records for the summary."""
    rows = session.scalars(
        select(IncidentRow).where(IncidentRow.ended_at.is_(None)).order_by(IncidentRow.starts_at)
    )
    return [record_of(row) for row in rows]


def _transaction_time(facts: dict[str, Any]) -> time | None:
    when = facts.get("when") if isinstance(facts, dict) else None
    raw = when.get("time") if isinstance(when, dict) else None
    try:
        return time.fromisoformat(raw) if isinstance(raw, str) and raw else None
    except ValueError:
        return None


class IncidentDesk:
    """Posts, ends and lists incidents for the support group, and tells open cases in range."""

    def __init__(
        self,
        service: Service,
        outbox: Outbox,
        locale: str,
        tz: tzinfo = SHANGHAI,
    ) -> None:
        self.service = service
        self.db = service.db
        self.outbox = outbox
        self.locale = locale
        self.tz = tz

    def _render(self, template: str, context: dict[str, Any]) -> list[Outgoing]:
        return self.service.render([Reply(template, context)], self.locale)

    # -- /incident ---------------------------------------------------------------------------

    async def command(self, bot: Bot, actor: str, args: str, once: Once) -> list[Outgoing] | None:
        """`/incident <from> <to> <text>` or `/incident end <id>`: the group's answer (None:
        the update had already taken effect)."""
        head, _, rest = args.strip().partition(" ")
        if head.lower() == "end":
            return await once(lambda session: self.end(session, rest, actor))
        try:
            draft = parse_incident(args, self.service.clock(), self.tz)
        except InvalidIncident as error:
            return self._render(
                "incident_invalid",
                {
                    "reason": error.reason,
                    "max_days": MAX_SPAN.days,
                    "max_text": MAX_TEXT,
                    "max_age_days": MAX_AGE.days,
                    "max_ahead_days": MAX_AHEAD.days,
                },
            )
        # Thousands of cases may be in range: decide and queue them in a worker thread, with
        # more time than one merchant's update gets.
        posted = await once(lambda session: self.post(session, draft, actor), BULK_SECONDS)
        if posted is None:
            return None
        incident, existed, chats = posted
        self.outbox.deliver_later(bot, chats)
        log.info("incident %d posted, %d case(s) notified", incident.id, len(chats))
        return self._render(
            "incident_posted", {"incident": incident, "existed": existed, "notified": len(chats)}
        )

    def post(
        self, session: Session, draft: IncidentDraft, actor: str
    ) -> tuple[Incident, bool, list[int]]:
        """Store the incident (an identical active one is reused) and queue its case notices,
        all in the caller's transaction; returns it, whether it existed, and one chat id per
        notice."""
        now = self.service.clock()
        text = redact_text(draft.text)
        # Locked: the timer loop's `notify` may be telling the same incident's cases.
        row = session.scalars(
            select(IncidentRow)
            .where(
                IncidentRow.ended_at.is_(None),
                IncidentRow.starts_at == draft.starts,
                IncidentRow.ends_at == draft.ends,
                IncidentRow.text == text,
            )
            .limit(1)
            .with_for_update()
        ).first()
        existed = row is not None
        if row is None:
            row = IncidentRow(
                starts_at=draft.starts,
                ends_at=draft.ends,
                text=text,
                created_by=actor,
                created_at=now,
            )
            session.add(row)
            session.flush()
        incident = record_of(row)
        return incident, existed, self._notify(session, incident, now)

    def notify(self) -> list[int]:
        """Queue each active incident's notice for the open cases in its range not told yet
        (cases opened since it was posted); one chat id per notice. The timer loop runs it.

        Safe to run again, and from several workers at once: each incident row is locked while
        its cases are told (a worker finding it locked skips it this time), and the pairs told
        are unique rows.
        """
        now = self.service.clock()
        with self.db.transaction() as session:
            rows = session.scalars(
                select(IncidentRow)
                .where(IncidentRow.ended_at.is_(None))
                .order_by(IncidentRow.id)
                .with_for_update(skip_locked=True)
            ).all()
            return [chat for row in rows for chat in self._notify(session, record_of(row), now)]

    def _notify(self, session: Session, incident: Incident, now: datetime) -> list[int]:
        first_day = incident.starts.astimezone(self.tz).date()
        last_day = incident.ends.astimezone(self.tz).date()
        told = select(IncidentNotice.case_id).where(IncidentNotice.incident_id == incident.id)
        candidates = session.execute(
            select(
                Case.id,
                Case.number,
                Case.chat_id,
                Case.locale,
                Case.trade_date,
                Case.due_date,
                Case.facts,
            )
            .where(
                Case.status.in_(sorted(OPEN_STATES)),
                Case.channel == CHANNEL,
                Case.merchant_unreachable.is_(False),
                Case.trade_date.between(first_day, last_day),
                Case.id.not_in(told),
            )
            .order_by(Case.id)
        ).all()
        chats: list[int] = []
        texts: dict[tuple[str, bool], list[Outgoing]] = {}
        for case_id, number, chat_id, locale, trade_date, due_date, facts in candidates:
            if not affects(incident, trade_date, _transaction_time(facts or {}), self.tz):
                continue
            session.add(IncidentNotice(incident_id=incident.id, case_id=case_id, at=now))
            variant = (locale, due_date is not None)
            if variant not in texts:  # rendered once per variant: dates are slow to format
                notice = Reply(
                    "incident_notice",
                    {"case_number": NUMBER_MARK, "incident": incident, "has_due": variant[1]},
                )
                texts[variant] = self.service.render([notice], locale)
            messages = [
                Outgoing(part.text.replace(NUMBER_MARK, number), part.keyboard)
                for part in texts[variant]
            ]
            enqueue(session, chat_id, messages, now, case_id)
            chats.append(chat_id)
        return chats

    # -- /incident end, /incidents -----------------------------------------------------------

    def end(self, session: Session, given: str, actor: str) -> list[Outgoing]:
        """End an incident: the summary stops showing it (notices already queued still go)."""
        incident_id = parse_incident_id(given)
        now = self.service.clock()
        incident: Incident | None = None
        row = session.get(IncidentRow, incident_id) if incident_id is not None else None
        if row is None:
            status = "unknown"
        elif row.ended_at is not None:
            status = "already"
        else:
            row.ended_at, row.ended_by, status = now, actor, "ended"
        if row is not None:
            incident = record_of(row)
        return self._render(
            "incident_ended", {"status": status, "incident": incident, "given": given.strip()[:20]}
        )

    def listing(self, session: Session) -> list[Outgoing]:
        """Active incidents, and those ended in the last days, for `/incidents`."""
        since = self.service.clock() - RECENTLY_ENDED
        counts = dict(
            session.execute(
                select(IncidentNotice.incident_id, func.count()).group_by(
                    IncidentNotice.incident_id
                )
            ).all()
        )
        active = session.scalars(
            select(IncidentRow)
            .where(IncidentRow.ended_at.is_(None))
            .order_by(IncidentRow.starts_at)
            .limit(LIST_LIMIT)
        ).all()
        ended = session.scalars(
            select(IncidentRow)
            .where(IncidentRow.ended_at.is_not(None), IncidentRow.ended_at >= since)
            .order_by(IncidentRow.ended_at.desc())
            .limit(LIST_LIMIT)
        ).all()
        view = {
            "active": [self._view(row, counts) for row in active],
            "ended": [self._view(row, counts) for row in ended],
            "recent_days": RECENTLY_ENDED.days,
        }
        return self._render("incidents_list", view)

    @staticmethod
    def _view(row: IncidentRow, counts: dict[int, int]) -> dict[str, Any]:
        return {
            "id": row.id,
            "starts": row.starts_at,
            "ends": row.ends_at,
            "text": row.text,
            "notified": counts.get(row.id, 0),
            "ended_at": row.ended_at,
        }
