"""A pure test driver for the intake: 'merchant says X, bot asks Y', no channel, no database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flows.diagnosis import Climb, Diagnosis, Outcome, Policy
from flows.facts import Facts
from flows.incidents import Incident
from flows.intake import IntakeFlow
from flows.intake_core import FollowUp, IntakeRecord
from flows.intake_events import Event, event_from_button, event_from_command
from flows.receipt import SlipFields
from flows.replies import Reply
from flows.settlement_calendar import SHANGHAI, DueDate, WorkCalendar

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)
POLICY = Policy(calendar=WorkCalendar())


class FakeDesk:
    def __init__(self) -> None:
        self.opened: list[tuple[Facts, Diagnosis]] = []
        self.resolved: list[str] = []
        self.escalated: list[tuple[str, str]] = []
        self.followups: list[tuple[str, datetime]] = []
        self.incidents: list[Incident] = []
        self.ladders: dict[str, tuple[str, ...]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.added: list[tuple[str, dict[str, Any]]] = []

    def open_case(
        self, facts: Facts, diagnosis: Diagnosis, answers: dict[str, Any], existing: str | None
    ) -> str:
        self.opened.append((facts, diagnosis))
        number = existing or f"PB-20261125-{len(self.opened):04d}"
        self.ladders[number] = tuple(rung.value for rung in diagnosis.rungs)
        self.outcomes[number] = diagnosis.outcome
        return number

    def case_resolved(self, case_number: str) -> bool:
        if case_number in self.resolved:
            return False
        self.resolved.append(case_number)
        return True

    def escalate(self, reason: str, answers: dict[str, Any], existing: str | None) -> str:
        number = existing or "PB-20261125-0099"
        self.escalated.append((reason, number))
        return number

    def schedule_followup(self, case_number: str, due: DueDate) -> FollowUp | None:
        if self.followups:
            return FollowUp(self.followups[-1][1], already=True)
        at = due.overdue_after
        self.followups.append((case_number, at))
        return FollowUp(at)

    def active_incidents(self) -> list[Incident]:
        return self.incidents

    def with_people(self, case_number: str) -> bool:
        return any(number == case_number for _, number in self.escalated)

    def ladder(self, case_number: str) -> tuple[str, ...]:
        return self.ladders.get(case_number, ())

    def add_answers(self, case_number: str, answers: dict[str, Any]) -> None:
        self.added.append((case_number, answers))

    def climbed(self, case_number: str, climb: Climb) -> Outcome | None:
        before = self.outcomes.get(case_number)
        self.ladders[case_number] = (*self.ladder(case_number), *climb.given)
        self.outcomes[case_number] = climb.diagnosis.outcome
        return before


class Dialogue:
    flow = IntakeFlow(POLICY)

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now
        self.record = IntakeRecord()
        self.desk = FakeDesk()
        self.last: list[Reply] = []

    def fire(self, event: Event) -> list[Reply]:
        self.last = self.flow.handle(self.record, event, self.now, self.desk)
        return self.last

    def say(self, text: str) -> list[Reply]:
        return self.fire(Event("answer", {"value": text, "pressed": False}))

    def tell(self, text: str) -> list[Reply] | None:
        """Text typed outside a question (the welcome, after a summary), as the service does."""
        told = self.flow.tell(self.record, text, self.now, self.desk)
        self.last = told or []
        return told

    def press(self, data: str) -> list[Reply]:
        event = event_from_button(data)
        assert event is not None, data
        return self.fire(event)

    def photo(
        self, slip: SlipFields | None = None, problem: str | None = None, attached: bool = True
    ) -> list[Reply]:
        """The merchant sends a slip photo: what the reader found, or why it found nothing."""
        return self.fire(
            Event("read_slip", {"slip": slip, "problem": problem, "attached": attached})
        )

    def command(self, name: str, args: str = "") -> list[Reply]:
        event = event_from_command(name, args)
        assert event is not None, name
        return self.fire(event)

    @property
    def state(self) -> str:
        return self.record.state

    def templates(self) -> list[str]:
        return [reply.template for reply in self.last]

    def buttons(self) -> list[str]:
        return [b.data for reply in self.last for row in reply.buttons for b in row]

    def answer_all(self, script: list[str]) -> None:
        """Each step: 'press:<data>' or text to type."""
        for step in script:
            if step.startswith("press:"):
                self.press(step.removeprefix("press:"))
            else:
                self.say(step)
