"""Case operations on the database: open, escalate, claim, resolve, follow-ups and SLA timers.

Every lifecycle change goes through the case machine in `flows.case` and leaves an audit row.
What support must be told is collected as events and sent to the support group after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.models import Case, CaseCounter, CaseEvent, Conversation, Timer, TranscriptLine
from bot.support.incidents import active_incidents
from flows.case import (
    WITH_PEOPLE,
    CaseFlow,
    CaseRecord,
    CaseState,
    DuplicateKey,
    is_possible_duplicate,
    median,
)
from flows.diagnosis import Climb, Diagnosis, Outcome
from flows.facts import Facts
from flows.incidents import Incident
from flows.intake_core import FollowUp
from flows.redaction import redact_text
from flows.settlement_calendar import SHANGHAI, DueDate

log = logging.getLogger(__name__)

FOLLOWUP = "followup"
SLA_UNCLAIMED = "sla_unclaimed"
SLA_REPLY = "sla_reply"
#: When on the morning after the grace day the merchant is asked "has it arrived?".
FOLLOWUP_TIME = time(10, 0)


class Cases:
    def __init__(self, session: Session) -> None:
        self.session = session

    def next_number(self, day: date) -> str:
        """PB-YYYYMMDD-NNNN from a per-day counter row, safe under concurrent workers."""
        counters = cast(Table, CaseCounter.__table__)
        bump = (  # a plain UPDATE: the ORM's version evaluates it against loaded objects
            update(counters)
            .where(counters.c.day == day)
            .values(last=counters.c.last + 1)
            .returning(counters.c.last)
        )
        value = self.session.connection().execute(bump).scalar_one_or_none()
        if value is None:
            try:
                with self.session.begin_nested():
                    self.session.add(CaseCounter(day=day, last=1))
                value = 1
            except IntegrityError:
                value = self.session.connection().execute(bump).scalar_one()
        return f"PB-{day:%Y%m%d}-{value:04d}"

    def add(self, case: Case) -> Case:
        self.session.add(case)
        self.session.flush()
        return case

    def by_number(self, number: str) -> Case | None:
        return self.session.scalars(select(Case).where(Case.number == number)).one_or_none()


def case_record(case: Case) -> CaseRecord:
    """The lifecycle fields of a case row, as the case machine's model."""
    return CaseRecord(
        status=case.status,
        owner_id=case.owner_id,
        owner_name=case.owner_name,
        resolved_at=case.resolved_at,
        escalated_at=case.escalated_at,
        first_reply_at=case.first_reply_at,
    )


@dataclass(frozen=True)
class SupportEvent:
    """Something the support group must see: `kind` names it, `case_id` says which case."""

    kind: str
    case_id: int
    text: str | None = None
    photo_file_id: str | None = None


@dataclass(frozen=True)
class CasePolicy:
    """Deployment knobs of the hand-off."""

    sla_unclaimed_minutes: int = 30
    sla_reply_hours: int = 4
    reopen_window: timedelta = timedelta(days=7)


@dataclass
class CaseOps:
    """Lifecycle operations inside one transaction; `events` collects what support must see."""

    session: Session
    flow: CaseFlow
    policy: CasePolicy
    now: datetime
    events: list[SupportEvent] = field(default_factory=list)

    def fire(
        self,
        case: Case,
        trigger: str,
        actor: str,
        reason: str | None = None,
        agent_id: int | None = None,
        agent_name: str | None = None,
    ) -> bool:
        record = case_record(case)
        change = self.flow.fire(
            record,
            trigger,
            actor=actor,
            now=self.now,
            reason=reason,
            agent_id=agent_id,
            agent_name=agent_name,
        )
        if change is None:
            return False
        case.status, case.owner_id, case.owner_name = (
            record.status,
            record.owner_id,
            record.owner_name,
        )
        case.resolved_at, case.escalated_at = record.resolved_at, record.escalated_at
        case.first_reply_at = record.first_reply_at
        self.session.add(
            CaseEvent(
                case_id=case.id,
                at=change.at,
                actor=change.actor,
                trigger=change.trigger,
                source=change.source,
                dest=change.dest,
                reason=change.reason,
            )
        )
        log.info("case %s %s->%s by %s", case.number, change.source, change.dest, trigger)
        self._after(case, change.trigger)
        return True

    def _after(self, case: Case, trigger: str) -> None:
        if trigger == "escalate":
            self.arm(
                case, SLA_UNCLAIMED, self.now + timedelta(minutes=self.policy.sla_unclaimed_minutes)
            )
            self.events.append(SupportEvent("escalated", case.id))
        elif trigger in ("claim", "unclaim", "resolve", "close", "reopen"):
            if trigger != "unclaim":
                self.disarm(case, SLA_UNCLAIMED)
            if trigger in ("resolve", "close"):
                self.disarm(case, SLA_REPLY)
                self.disarm(case, FOLLOWUP)
            self.events.append(SupportEvent("changed", case.id, text=trigger))

    def add_keys(self, case: Case, keys: Mapping[str, str]) -> None:
        """Trace keys the merchant gave after the hand-off (flows.handoff): into the case's
        facts, so support sees the case complete; its card is re-rendered ("changed": keys)."""
        if all((case.facts or {}).get(name) == value for name, value in keys.items()):
            return
        case.facts = {**(case.facts or {}), **keys}
        if keys.get("reference"):
            case.reference = keys["reference"]
        case.updated_at = self.now
        self.events.append(SupportEvent("changed", case.id, text="keys"))
        if keys.get("reference") and case.duplicate_of is None:
            self.flag_duplicate(case)

    def arm(self, case: Case, kind: str, due_at: datetime) -> None:
        """One pending timer of a kind per case: re-arming moves it."""
        self.disarm(case, kind)
        self.session.add(Timer(kind=kind, case_id=case.id, due_at=due_at))

    def disarm(self, case: Case, kind: str) -> None:
        for timer in self.session.scalars(
            select(Timer).where(
                Timer.case_id == case.id, Timer.kind == kind, Timer.done_at.is_(None)
            )
        ):
            timer.done_at = self.now

    def transcript(
        self, case: Case | None, channel: str, chat_id: int, author: str, text: str
    ) -> None:
        self.session.add(
            TranscriptLine(
                channel=channel,
                chat_id=chat_id,
                case_id=case.id if case else None,
                at=self.now,
                author=author,
                text=redact_text(text)[:4000],
            )
        )

    def latest_case(self, channel: str, chat_id: int) -> Case | None:
        return self.session.scalars(
            select(Case)
            .where(Case.channel == channel, Case.chat_id == chat_id)
            .order_by(Case.id.desc())
            .limit(1)
        ).first()

    def flag_duplicate(self, case: Case) -> None:
        if case.amount is None or case.trade_date is None:
            return
        key = DuplicateKey(case.reference, case.amount, case.trade_date)
        candidates = self.session.scalars(
            select(Case)
            .where(
                Case.id != case.id,
                or_(
                    and_(Case.reference.is_not(None), Case.reference == case.reference),
                    and_(
                        Case.channel == case.channel,
                        Case.chat_id == case.chat_id,
                        Case.amount == case.amount,
                        Case.trade_date == case.trade_date,
                    ),
                ),
            )
            .order_by(Case.id)
        )
        # The merchant's own earlier case first: that one they may be told about.
        mine = (case.channel, case.chat_id)
        for other in sorted(candidates, key=lambda c: (c.channel, c.chat_id) != mine):
            if other.amount is None or other.trade_date is None:
                continue
            if is_possible_duplicate(
                key, DuplicateKey(other.reference, other.amount, other.trade_date)
            ):
                case.duplicate_of = other.number
                self.events.append(SupportEvent("duplicate", case.id, text=other.number))
                return


def followup_time(due: DueDate) -> datetime:
    """The morning after the last day the money may still arrive in time."""
    grace_day = (due.overdue_after - timedelta(days=1)).date()
    return datetime.combine(grace_day + timedelta(days=1), FOLLOWUP_TIME, SHANGHAI)


class ConversationDesk:
    """The intake's CaseDesk, bound to one update's transaction and conversation row."""

    def __init__(self, ops: CaseOps, row: Conversation) -> None:
        self.ops = ops
        self.cases = Cases(ops.session)
        self.row = row

    def _new_case(self) -> Case:
        number = self.cases.next_number(self.ops.now.astimezone(SHANGHAI).date())
        return self.cases.add(
            Case(
                number=number,
                channel=self.row.channel,
                chat_id=self.row.chat_id,
                user_id=self.row.user_id,
                locale=self.row.locale,
                status=CaseState.DRAFT.value,
                facts={},
                photo_file_ids=list(self.row.photo_file_ids or []),
                created_at=self.ops.now,
                updated_at=self.ops.now,
            )
        )

    def _existing(self, number: str | None) -> Case | None:
        return self.cases.by_number(number) if number else None

    def open_case(
        self, facts: Facts, diagnosis: Diagnosis, answers: dict[str, Any], existing: str | None
    ) -> str:
        case = self._existing(existing)
        if case is None or case.outcome is not None:
            case = self._new_case()
        due = diagnosis.due
        case.outcome = diagnosis.outcome.value
        case.amount = facts.amount
        case.trade_date = facts.day
        case.due_date = due.expected if due else None
        case.due_estimated = bool(due and due.estimated)
        case.overdue_after = due.overdue_after if due else None
        case.reference = facts.reference
        case.facts = answers
        case.ladder = [rung.value for rung in diagnosis.rungs]
        case.photo_file_ids = list(self.row.photo_file_ids or [])
        self.ops.fire(case, "summarize", actor="bot")
        self.ops.flag_duplicate(case)
        if case.status in (CaseState.ESCALATED, CaseState.ASSIGNED):
            self.ops.events.append(SupportEvent("changed", case.id, text="summary"))
        return case.number

    def case_resolved(self, case_number: str) -> bool:
        case = self._existing(case_number)
        return case is not None and self.ops.fire(
            case, "resolve", actor="merchant", reason="arrived"
        )

    def escalate(self, reason: str, answers: dict[str, Any], existing: str | None) -> str:
        case = self._existing(existing)
        if case is None or case.status in (CaseState.RESOLVED, CaseState.CLOSED):
            case = self._new_case()
            case.facts = answers
            amount = answers.get("amount")
            case.amount = Decimal(amount) if amount else None
        case.escalation_reason = reason
        self.ops.fire(
            case, "escalate", actor="merchant" if reason == "asked" else "bot", reason=reason
        )
        return case.number

    def active_incidents(self) -> list[Incident]:
        return active_incidents(self.ops.session)

    def with_people(self, case_number: str) -> bool:
        case = self._existing(case_number)
        return case is not None and case.status in WITH_PEOPLE

    def ladder(self, case_number: str) -> tuple[str, ...]:
        case = self._existing(case_number)
        return tuple(case.ladder or ()) if case is not None else ()

    def add_answers(self, case_number: str, answers: dict[str, Any]) -> None:
        case = self._existing(case_number)
        if case is None:
            return
        case.facts = {**(case.facts or {}), **answers}
        case.updated_at = self.ops.now

    def climbed(self, case_number: str, climb: Climb) -> Outcome | None:
        case = self._existing(case_number)
        if case is None:
            return None
        before = Outcome(case.outcome) if case.outcome else None
        case.ladder = [*(case.ladder or []), *climb.given]
        case.outcome = climb.diagnosis.outcome.value
        case.updated_at = self.ops.now
        if case.status in (CaseState.ESCALATED, CaseState.ASSIGNED):
            self.ops.events.append(SupportEvent("changed", case.id, text="ladder"))
        return before

    def schedule_followup(self, case_number: str, due: DueDate) -> FollowUp | None:
        case = self._existing(case_number)
        if case is None:
            return None
        pending = self.ops.session.scalars(
            select(Timer.due_at).where(
                Timer.case_id == case.id, Timer.kind == FOLLOWUP, Timer.done_at.is_(None)
            )
        ).first()
        if pending is not None:
            return FollowUp(pending.astimezone(SHANGHAI), already=True)
        if not self.ops.fire(case, "await_due", actor="merchant", reason="followup"):
            return None  # resolved, closed or with a person: nothing left to check back on
        at = followup_time(due)
        self.ops.arm(case, FOLLOWUP, at)
        return FollowUp(at)


def case_stats(session: Session) -> dict[str, Any]:
    """The numbers behind /stats and `posbot stats`: counts, medians, share without a person."""
    by_status = dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
    by_outcome = dict(
        session.execute(
            select(Case.outcome, func.count())
            .where(Case.outcome.is_not(None))
            .group_by(Case.outcome)
        ).all()
    )
    cases = session.scalars(select(Case)).all()
    first_reply = [
        (c.first_reply_at - c.escalated_at).total_seconds() / 60
        for c in cases
        if c.first_reply_at and c.escalated_at
    ]
    resolution = [
        (c.resolved_at - c.created_at).total_seconds() / 3600 for c in cases if c.resolved_at
    ]
    resolved = [c for c in cases if c.resolved_at]
    without_person = [c for c in resolved if c.escalated_at is None]
    return {
        "total": len(cases),
        "by_status": by_status,
        "by_outcome": by_outcome,
        "median_first_reply_minutes": median(first_reply),
        "median_resolution_hours": median(resolution),
        "resolved": len(resolved),
        "share_without_person": (len(without_person) / len(resolved)) if resolved else None,
    }
