"""The support case lifecycle as a state machine declared as a table, plus the small case policies.

A case is drafted while the merchant answers, opened when the summary is sent, may wait for its due
date, is escalated to people, claimed by an agent, resolved, closed, and reopened when the merchant
writes again soon after resolution. The service loads a `CaseRecord`, fires one trigger and stores
the record and the returned `Change` (the audit row). Nothing here reads or writes a database.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from transitions import EventData, Machine


class CaseState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    WAITING = "waiting"
    ESCALATED = "escalated"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


# Plain strings for the table: `transitions` names Enum states by member name ("DRAFT"), and the
# database, the templates and the diagram all speak the values.
DRAFT = CaseState.DRAFT.value
OPEN = CaseState.OPEN.value
WAITING = CaseState.WAITING.value
ESCALATED = CaseState.ESCALATED.value
ASSIGNED = CaseState.ASSIGNED.value
RESOLVED = CaseState.RESOLVED.value
CLOSED = CaseState.CLOSED.value
REOPENED = CaseState.REOPENED.value

STATES: list[str] = [state.value for state in CaseState]
INITIAL = DRAFT
#: Cases support still has to act on, or that may still change without the merchant starting over.
OPEN_STATES: frozenset[str] = frozenset({OPEN, WAITING, ESCALATED, ASSIGNED, REOPENED})
#: Cases people are working on: merchant messages are relayed, a second "person" is not queued.
WITH_PEOPLE: frozenset[str] = frozenset({ESCALATED, ASSIGNED, REOPENED})

DEFAULT_REOPEN_WINDOW = timedelta(days=7)


def _t(trigger: str, source: str | list[str], dest: str | None, **extra: str) -> dict[str, Any]:
    """One row of the table, in the dict form `transitions` takes."""
    return {"trigger": trigger, "source": source, "dest": dest, **extra}


# Every move not listed here is refused: the trigger returns False and the record is untouched.
# One row per transition: trigger, source(s), destination, then guards and actions.
# fmt: off
TRANSITIONS: list[dict[str, Any]] = [
    # The merchant's side: the summary opens the case, a follow-up makes it wait for its due date.
    _t("summarize", DRAFT,                              OPEN),
    _t("await_due", OPEN,                               WAITING),
    # Hand-off to people; an escalated case is unclaimed by definition.
    _t("escalate",  [DRAFT, OPEN, WAITING, REOPENED],   ESCALATED, before="hand_off"),
    _t("claim",     [ESCALATED, REOPENED],              ASSIGNED,  before="take_ownership"),
    _t("claim",     ASSIGNED,                           ASSIGNED,  before="take_ownership",
       conditions="is_new_owner"),
    _t("unclaim",   ASSIGNED,                           ESCALATED, before="release"),
    # The end: resolved (money arrived or an agent settled it), closed (done, or cancelled early).
    _t("resolve",   [OPEN, WAITING, ESCALATED, ASSIGNED, REOPENED], RESOLVED,
       before="mark_resolved"),
    _t("close",     [RESOLVED, OPEN, WAITING],          CLOSED),
    _t("reopen",    RESOLVED,                           REOPENED,  before="clear_resolved",
       conditions="inside_reopen_window"),
]
# fmt: on

#: Trigger names in table order, each once.
TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(row["trigger"] for row in TRANSITIONS))


@dataclass
class CaseRecord:
    """The persisted part of a case the machine reads and changes; the service maps rows to it."""

    status: str = INITIAL
    owner_id: int | None = None  # agent's Telegram user id
    owner_name: str | None = None
    resolved_at: datetime | None = None
    escalated_at: datetime | None = None
    first_reply_at: datetime | None = None  # first agent reply to the merchant


@dataclass(frozen=True)
class Change:
    """One audit row: who moved the case, when, from where to where and why."""

    trigger: str
    source: str
    dest: str
    actor: str
    at: datetime
    reason: str | None


class _Case:
    """The model the machine drives for one trigger; it works on a copy of the record."""

    state: str
    trigger: Callable[..., bool]

    def __init__(self, record: CaseRecord, now: datetime, reopen_window: timedelta) -> None:
        self.record = record
        self.now = now
        self.reopen_window = reopen_window

    # -- conditions ---------------------------------------------------------------------------

    def is_new_owner(self, event: EventData) -> bool:
        """A claim on an owned case is a reassignment, so it must name someone else.

        Without an agent (`CaseFlow.allowed` asking in general) the answer is "someone could".
        """
        agent_id = event.kwargs.get("agent_id")
        return agent_id is None or agent_id != self.record.owner_id

    def inside_reopen_window(self, event: EventData) -> bool:
        return can_reopen(self.record, self.now, self.reopen_window)

    # -- actions ------------------------------------------------------------------------------

    def hand_off(self, event: EventData) -> None:
        """Keep the first hand-off time: first-reply statistics are measured from it."""
        self.record.escalated_at = self.record.escalated_at or self.now
        self.record.owner_id = None
        self.record.owner_name = None

    def take_ownership(self, event: EventData) -> None:
        self.record.owner_id = event.kwargs.get("agent_id")
        self.record.owner_name = event.kwargs.get("agent_name")

    def release(self, event: EventData) -> None:
        self.record.owner_id = None
        self.record.owner_name = None

    def mark_resolved(self, event: EventData) -> None:
        """The owner stays: who resolved it is worth showing on a resolved or closed case."""
        self.record.resolved_at = self.now

    def clear_resolved(self, event: EventData) -> None:
        """A reopened case is not resolved (for /stats); the last owner stays until a claim."""
        self.record.resolved_at = None


def build_machine() -> Machine:
    """The one machine for case lifecycles; models are attached per trigger and detached after."""
    return Machine(
        model=None,
        states=STATES,
        transitions=TRANSITIONS,
        initial=INITIAL,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=True,
    )


class CaseFlow:
    """Applies lifecycle triggers to case records through the shared machine."""

    def __init__(self, reopen_window: timedelta = DEFAULT_REOPEN_WINDOW) -> None:
        self.reopen_window = reopen_window
        self.machine = build_machine()

    def fire(
        self,
        record: CaseRecord,
        trigger: str,
        *,
        actor: str,
        now: datetime,
        reason: str | None = None,
        agent_id: int | None = None,
        agent_name: str | None = None,
    ) -> Change | None:
        """Apply one trigger to the record in place and return the audit row.

        None when the move is not allowed; the record is then untouched. A claim without an
        agent is a caller's mistake (the owner could not be recorded), so it raises.
        """
        if trigger == "claim" and agent_id is None:
            raise ValueError("a claim needs the claiming agent's agent_id")
        result = self._run(record, trigger, now, agent_id=agent_id, agent_name=agent_name)
        if result is None:
            return None
        source = record.status
        for item in fields(CaseRecord):
            setattr(record, item.name, getattr(result, item.name))
        return Change(trigger, source, record.status, actor, now, reason)

    def allowed(
        self, record: CaseRecord, trigger: str, now: datetime, *, agent_id: int | None = None
    ) -> bool:
        """Whether `fire` would accept the trigger now (the record is not changed).

        For a claim without `agent_id` this answers whether some agent other than the owner could
        claim; pass the agent to ask about that agent.
        """
        return self._run(record, trigger, now, agent_id=agent_id) is not None

    def _run(
        self, record: CaseRecord, trigger: str, now: datetime, **kwargs: Any
    ) -> CaseRecord | None:
        """Fire on a copy, so a refused or failing trigger can never leave a half-changed record."""
        if record.status not in STATES:
            raise ValueError(f"unknown case status {record.status!r}")
        if trigger not in TRIGGERS:
            return None
        work = replace(record)
        model = _Case(work, now, self.reopen_window)
        self.machine.add_model(model, initial=record.status)
        try:
            fired = model.trigger(trigger, **kwargs)
            work.status = model.state
        finally:
            self.machine.remove_model(model)
        return work if fired else None


# -- policies the service applies around the machine --------------------------------------------


def can_reopen(record: CaseRecord, now: datetime, window: timedelta) -> bool:
    """A merchant writing again soon after resolution reopens the case instead of starting anew."""
    if record.status != RESOLVED or record.resolved_at is None:
        return False
    return now - record.resolved_at <= window


def sla_unclaimed_due(escalated_at: datetime, minutes: int) -> datetime:
    """When support is reminded of an escalated case nobody has claimed."""
    if minutes < 0:
        raise ValueError("SLA minutes must not be negative")
    return escalated_at + timedelta(minutes=minutes)


def sla_reply_due(merchant_wrote_at: datetime, hours: int) -> datetime:
    """When support is reminded that a merchant's message is still unanswered."""
    if hours < 0:
        raise ValueError("SLA hours must not be negative")
    return merchant_wrote_at + timedelta(hours=hours)


@dataclass(frozen=True)
class DuplicateKey:
    """What identifies a transaction well enough to suspect two cases are about the same one."""

    reference: str | None
    amount: Decimal
    day: date


def is_possible_duplicate(new: DuplicateKey, old: DuplicateKey) -> bool:
    """Flag, never merge: the same reference number, or the same amount on the same trade day."""
    new_ref = (new.reference or "").strip()
    if new_ref and new_ref == (old.reference or "").strip():
        return True
    return new.amount == old.amount and new.day == old.day


def median(values: Sequence[float]) -> float | None:
    """The middle value for /stats, which one slow case must not skew; None when nothing yet."""
    if not values:
        return None
    return float(statistics.median(values))


__all__ = [
    "INITIAL",
    "OPEN_STATES",
    "STATES",
    "TRANSITIONS",
    "TRIGGERS",
    "WITH_PEOPLE",
    "CaseFlow",
    "CaseRecord",
    "CaseState",
    "Change",
    "DuplicateKey",
    "build_machine",
    "can_reopen",
    "is_possible_duplicate",
    "median",
    "sla_reply_due",
    "sla_unclaimed_due",
]
