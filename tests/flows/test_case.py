"""The case lifecycle: every allowed move, every refused one, owners, windows and policy helpers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from flows.case import (
    INITIAL,
    OPEN_STATES,
    STATES,
    TRANSITIONS,
    TRIGGERS,
    CaseFlow,
    CaseRecord,
    CaseState,
    Change,
    DuplicateKey,
    build_machine,
    can_reopen,
    is_possible_duplicate,
    median,
    sla_reply_due,
    sla_unclaimed_due,
)
from flows.diagram import mermaid

NOW = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
EARLIER = NOW - timedelta(days=2)
OWNER, OWNER_NAME = 1001, "Li Na"
OTHER, OTHER_NAME = 2002, "Wang Wei"

#: Every (state, trigger) the lifecycle accepts, and where it leads. Anything else is refused.
ALLOWED: dict[tuple[str, str], str] = {
    ("draft", "summarize"): "open",
    ("draft", "escalate"): "escalated",
    ("open", "await_due"): "waiting",
    ("open", "escalate"): "escalated",
    ("open", "resolve"): "resolved",
    ("open", "close"): "closed",
    ("waiting", "escalate"): "escalated",
    ("waiting", "resolve"): "resolved",
    ("waiting", "close"): "closed",
    ("escalated", "claim"): "assigned",
    ("escalated", "resolve"): "resolved",
    ("assigned", "claim"): "assigned",
    ("assigned", "unclaim"): "escalated",
    ("assigned", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("resolved", "reopen"): "reopened",
    ("reopened", "escalate"): "escalated",
    ("reopened", "claim"): "assigned",
    ("reopened", "resolve"): "resolved",
}


def record_in(state: str) -> CaseRecord:
    """A plausible record for a state: owned where someone owns it, resolved two days ago."""
    record = CaseRecord(status=state)
    if state in ("escalated", "assigned", "resolved", "closed", "reopened"):
        record.escalated_at = EARLIER
    if state in ("assigned", "resolved", "closed", "reopened"):
        record.owner_id, record.owner_name = OWNER, OWNER_NAME
        record.first_reply_at = EARLIER + timedelta(minutes=5)
    if state in ("resolved", "closed"):
        record.resolved_at = EARLIER + timedelta(hours=1)
    return record


def fire(
    flow: CaseFlow,
    record: CaseRecord,
    trigger: str,
    now: datetime = NOW,
    reason: str | None = None,
) -> Change | None:
    """Fire as another agent would (a claim always names its agent)."""
    return flow.fire(
        record,
        trigger,
        actor="agent:2002",
        now=now,
        reason=reason,
        agent_id=OTHER,
        agent_name=OTHER_NAME,
    )


# -- the table ------------------------------------------------------------------------------


def test_states_and_triggers_are_the_documented_ones() -> None:
    assert [state.value for state in CaseState] == STATES
    assert STATES == [
        "draft",
        "open",
        "waiting",
        "escalated",
        "assigned",
        "resolved",
        "closed",
        "reopened",
    ]
    assert INITIAL == "draft"
    assert set(TRIGGERS) == {
        "summarize",
        "await_due",
        "escalate",
        "claim",
        "unclaim",
        "resolve",
        "close",
        "reopen",
    }
    assert {"open", "waiting", "escalated", "assigned", "reopened"} == OPEN_STATES
    assert all(type(state) is str for state in STATES)  # not Enum members: see flows.case


def test_the_allowed_set_is_exactly_what_the_table_declares() -> None:
    machine = build_machine()
    declared = {
        (source, trigger): transition.dest
        for trigger, event in machine.events.items()
        for source, transitions in event.transitions.items()
        for transition in transitions
    }
    assert declared == ALLOWED


@pytest.mark.parametrize(("state", "trigger"), sorted(ALLOWED))
def test_every_allowed_move_reaches_its_destination(state: str, trigger: str) -> None:
    flow = CaseFlow()
    record = record_in(state)
    change = fire(flow, record, trigger, reason="because")
    assert change == Change(
        trigger=trigger,
        source=state,
        dest=ALLOWED[state, trigger],
        actor="agent:2002",
        at=NOW,
        reason="because",
    )
    assert record.status == ALLOWED[state, trigger]


REFUSED = sorted(
    (state, trigger) for state in STATES for trigger in TRIGGERS if (state, trigger) not in ALLOWED
)


def test_the_refused_set_is_large_and_covers_the_terminal_state() -> None:
    assert len(REFUSED) + len(ALLOWED) == len(STATES) * len(TRIGGERS)
    assert {trigger for state, trigger in REFUSED if state == "closed"} == set(TRIGGERS)


@pytest.mark.parametrize(("state", "trigger"), REFUSED)
def test_every_other_move_is_refused_and_leaves_the_record_alone(state: str, trigger: str) -> None:
    flow = CaseFlow()
    record = record_in(state)
    before = replace(record)
    assert fire(flow, record, trigger) is None
    assert record == before
    assert not flow.allowed(record, trigger, NOW)


@pytest.mark.parametrize(("state", "trigger"), sorted(ALLOWED))
def test_allowed_answers_without_touching_the_record(state: str, trigger: str) -> None:
    flow = CaseFlow()
    record = record_in(state)
    before = replace(record)
    assert flow.allowed(record, trigger, NOW)
    assert record == before


def test_unknown_triggers_are_refused() -> None:
    flow = CaseFlow()
    record = record_in("open")
    assert fire(flow, record, "frobnicate") is None
    assert fire(flow, record, "to_closed") is None  # no auto transitions
    assert not flow.allowed(record, "frobnicate", NOW)
    assert record == record_in("open")


def test_an_unknown_stored_status_is_an_error_not_a_silent_refusal() -> None:
    with pytest.raises(ValueError, match="unknown case status"):
        fire(CaseFlow(), CaseRecord(status="limbo"), "resolve")


def test_the_shared_machine_keeps_no_models_between_calls() -> None:
    flow = CaseFlow()
    for state, trigger in sorted(ALLOWED):
        fire(flow, record_in(state), trigger)
    fire(flow, record_in("closed"), "reopen")
    assert flow.machine.models == []


def test_a_whole_life_leaves_one_change_per_move() -> None:
    flow = CaseFlow()
    record = CaseRecord()
    steps = [
        ("summarize", "bot"),
        ("await_due", "merchant"),
        ("escalate", "merchant"),
        ("claim", "agent:1001"),
        ("resolve", "agent:1001"),
        ("reopen", "merchant"),
        ("claim", "agent:1001"),
        ("resolve", "agent:1001"),
        ("close", "bot"),
    ]
    changes = []
    for minute, (trigger, actor) in enumerate(steps):
        change = flow.fire(
            record,
            trigger,
            actor=actor,
            now=NOW + timedelta(minutes=minute),
            agent_id=OWNER,
            agent_name=OWNER_NAME,
        )
        assert change is not None, trigger
        changes.append(change)
    assert [(c.source, c.dest) for c in changes] == [
        ("draft", "open"),
        ("open", "waiting"),
        ("waiting", "escalated"),
        ("escalated", "assigned"),
        ("assigned", "resolved"),
        ("resolved", "reopened"),
        ("reopened", "assigned"),
        ("assigned", "resolved"),
        ("resolved", "closed"),
    ]
    assert [c.at for c in changes] == [NOW + timedelta(minutes=m) for m in range(len(steps))]
    assert record.status == "closed"


# -- owners ---------------------------------------------------------------------------------


def test_claim_sets_the_owner() -> None:
    record = record_in("escalated")
    change = CaseFlow().fire(
        record, "claim", actor="agent:1001", now=NOW, agent_id=OWNER, agent_name=OWNER_NAME
    )
    assert change is not None
    assert (record.status, record.owner_id, record.owner_name) == ("assigned", OWNER, OWNER_NAME)


def test_another_agent_claiming_reassigns() -> None:
    record = record_in("assigned")
    change = fire(CaseFlow(), record, "claim", reason="shift change")
    assert change is not None
    assert (change.source, change.dest, change.reason) == ("assigned", "assigned", "shift change")
    assert (record.owner_id, record.owner_name) == (OTHER, OTHER_NAME)


def test_the_owner_claiming_again_is_refused() -> None:
    flow = CaseFlow()
    record = record_in("assigned")
    before = replace(record)
    change = flow.fire(
        record, "claim", actor="agent:1001", now=NOW, agent_id=OWNER, agent_name="New name"
    )
    assert change is None
    assert record == before
    assert not flow.allowed(record, "claim", NOW, agent_id=OWNER)
    assert flow.allowed(record, "claim", NOW, agent_id=OTHER)
    assert flow.allowed(record, "claim", NOW)  # someone else could


def test_a_claim_must_name_its_agent() -> None:
    record = record_in("escalated")
    with pytest.raises(ValueError, match="agent_id"):
        CaseFlow().fire(record, "claim", actor="agent:?", now=NOW)
    assert record == record_in("escalated")


def test_reopened_keeps_the_last_owner_until_someone_claims_it() -> None:
    flow = CaseFlow()
    record = record_in("resolved")
    assert fire(flow, record, "reopen") is not None
    assert (record.owner_id, record.owner_name) == (OWNER, OWNER_NAME)
    assert fire(flow, record, "claim") is not None
    assert (record.status, record.owner_id, record.owner_name) == ("assigned", OTHER, OTHER_NAME)


def test_the_previous_owner_may_take_a_reopened_case_back() -> None:
    record = record_in("resolved")
    flow = CaseFlow()
    assert fire(flow, record, "reopen") is not None
    change = flow.fire(record, "claim", actor="agent:1001", now=NOW, agent_id=OWNER)
    assert change is not None
    assert (record.status, record.owner_id) == ("assigned", OWNER)


def test_unclaim_clears_the_owner() -> None:
    record = record_in("assigned")
    assert fire(CaseFlow(), record, "unclaim") is not None
    assert (record.status, record.owner_id, record.owner_name) == ("escalated", None, None)


def test_escalating_a_reopened_case_leaves_it_unclaimed() -> None:
    record = record_in("resolved")
    flow = CaseFlow()
    fire(flow, record, "reopen")
    assert fire(flow, record, "escalate") is not None
    assert (record.status, record.owner_id, record.owner_name) == ("escalated", None, None)


def test_resolve_keeps_who_owned_it() -> None:
    record = record_in("assigned")
    assert fire(CaseFlow(), record, "resolve") is not None
    assert (record.owner_id, record.owner_name) == (OWNER, OWNER_NAME)


# -- timestamps -----------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["open", "waiting", "escalated", "assigned", "reopened"])
def test_resolve_sets_resolved_at(state: str) -> None:
    record = record_in(state)
    assert fire(CaseFlow(), record, "resolve") is not None
    assert record.resolved_at == NOW


def test_reopen_clears_resolved_at_and_resolving_again_sets_it() -> None:
    flow = CaseFlow()
    record = record_in("resolved")
    fire(flow, record, "reopen")
    assert record.resolved_at is None
    later = NOW + timedelta(hours=3)
    fire(flow, record, "resolve", now=later)
    assert record.resolved_at == later


@pytest.mark.parametrize("state", ["draft", "open", "waiting"])
def test_escalate_sets_escalated_at(state: str) -> None:
    record = record_in(state)
    assert fire(CaseFlow(), record, "escalate") is not None
    assert record.escalated_at == NOW


def test_escalating_again_keeps_the_first_hand_off_time() -> None:
    flow = CaseFlow()
    record = record_in("resolved")
    fire(flow, record, "reopen")
    fire(flow, record, "escalate", now=NOW + timedelta(hours=1))
    assert record.escalated_at == EARLIER


def test_first_reply_at_is_not_the_machines_business() -> None:
    flow = CaseFlow()
    record = record_in("escalated")
    fire(flow, record, "claim")
    fire(flow, record, "resolve")
    assert record.first_reply_at is None


# -- reopen window --------------------------------------------------------------------------


def resolved_ago(age: timedelta) -> CaseRecord:
    return CaseRecord(status="resolved", resolved_at=NOW - age)


@pytest.mark.parametrize(
    ("age", "inside"),
    [
        (timedelta(0), True),
        (timedelta(days=3), True),
        (timedelta(days=7), True),
        (timedelta(days=7, seconds=1), False),
        (timedelta(days=30), False),
    ],
)
def test_reopen_only_inside_the_default_seven_days(age: timedelta, inside: bool) -> None:
    flow = CaseFlow()
    record = resolved_ago(age)
    before = replace(record)
    assert flow.allowed(record, "reopen", NOW) is inside
    change = fire(flow, record, "reopen")
    if inside:
        assert change is not None
        assert record.status == "reopened"
    else:
        assert change is None
        assert record == before


def test_the_reopen_window_is_configurable() -> None:
    short = CaseFlow(reopen_window=timedelta(hours=12))
    long = CaseFlow(reopen_window=timedelta(days=30))
    assert short.reopen_window == timedelta(hours=12)
    assert not short.allowed(resolved_ago(timedelta(days=1)), "reopen", NOW)
    assert short.allowed(resolved_ago(timedelta(hours=11)), "reopen", NOW)
    assert long.allowed(resolved_ago(timedelta(days=20)), "reopen", NOW)
    assert CaseFlow().reopen_window == timedelta(days=7)


def test_a_resolved_record_without_a_time_cannot_be_reopened() -> None:
    record = CaseRecord(status="resolved")
    assert not can_reopen(record, NOW, timedelta(days=7))
    assert fire(CaseFlow(), record, "reopen") is None


@pytest.mark.parametrize("state", [s for s in STATES if s != "resolved"])
def test_can_reopen_needs_a_resolved_case(state: str) -> None:
    record = CaseRecord(status=state, resolved_at=NOW - timedelta(hours=1))
    assert not can_reopen(record, NOW, timedelta(days=7))


def test_can_reopen_is_inclusive_at_the_window_edge() -> None:
    window = timedelta(days=7)
    assert can_reopen(resolved_ago(window), NOW, window)
    assert not can_reopen(resolved_ago(window + timedelta(microseconds=1)), NOW, window)


# -- the diagram ----------------------------------------------------------------------------


def test_the_diagram_draws_exactly_the_machine() -> None:
    machine = build_machine()
    text = mermaid(TRANSITIONS, STATES, INITIAL)
    assert text.startswith("stateDiagram-v2\n    [*] --> draft\n")
    nodes = set(re.findall(r"^    state (\w+)$", text, re.M))
    assert nodes == set(machine.states) == set(STATES)
    drawn = set(re.findall(r"^    (\w+) --> (\w+): (\w+)", text, re.M))
    expected = {
        (source, transition.dest, trigger)
        for trigger, event in machine.events.items()
        for source, transitions in event.transitions.items()
        for transition in transitions
    }
    assert drawn == expected == {(s, d, t) for (s, t), d in ALLOWED.items()}


def test_the_diagram_labels_guarded_edges() -> None:
    text = mermaid(TRANSITIONS, STATES, INITIAL)
    assert "    resolved --> reopened: reopen [inside_reopen_window]\n" in text
    assert "    assigned --> assigned: claim [is_new_owner]\n" in text


# -- SLA ------------------------------------------------------------------------------------


def test_sla_unclaimed_due_is_minutes_after_the_hand_off() -> None:
    assert sla_unclaimed_due(NOW, 30) == NOW + timedelta(minutes=30)
    assert sla_unclaimed_due(NOW, 0) == NOW


def test_sla_reply_due_is_hours_after_the_merchant_wrote() -> None:
    assert sla_reply_due(NOW, 4) == NOW + timedelta(hours=4)
    late = datetime(2025, 3, 10, 22, 0, tzinfo=UTC)
    assert sla_reply_due(late, 4) == datetime(2025, 3, 11, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("helper", [sla_unclaimed_due, sla_reply_due])
def test_sla_helpers_refuse_negative_durations(helper: Callable[[datetime, int], datetime]) -> None:
    with pytest.raises(ValueError, match="negative"):
        helper(NOW, -1)


# -- duplicates -----------------------------------------------------------------------------

DAY = date(2025, 3, 9)


@pytest.mark.parametrize(
    ("new", "old", "duplicate"),
    [
        # Same reference number, whatever else differs.
        (
            DuplicateKey("312345678901", Decimal("100"), DAY),
            DuplicateKey("312345678901", Decimal("999"), date(2025, 1, 1)),
            True,
        ),
        (
            DuplicateKey(" 312345678901 ", Decimal("1"), DAY),
            DuplicateKey("312345678901", Decimal("2"), DAY),
            True,
        ),
        # Same amount on the same trade day.
        (
            DuplicateKey(None, Decimal("1280.50"), DAY),
            DuplicateKey(None, Decimal("1280.5"), DAY),
            True,
        ),
        (
            DuplicateKey("1", Decimal("1280.50"), DAY),
            DuplicateKey("2", Decimal("1280.50"), DAY),
            True,
        ),
        (DuplicateKey("", Decimal("88"), DAY), DuplicateKey("", Decimal("88"), DAY), True),
        # Empty references never match each other.
        (DuplicateKey(None, Decimal("1"), DAY), DuplicateKey(None, Decimal("2"), DAY), False),
        (DuplicateKey("", Decimal("1"), DAY), DuplicateKey("", Decimal("2"), DAY), False),
        (DuplicateKey("  ", Decimal("1"), DAY), DuplicateKey("  ", Decimal("2"), DAY), False),
        # Same amount on another day, or another amount on the same day.
        (
            DuplicateKey("1", Decimal("50"), DAY),
            DuplicateKey("2", Decimal("50"), DAY + timedelta(days=1)),
            False,
        ),
        (
            DuplicateKey(None, Decimal("50.00"), DAY),
            DuplicateKey(None, Decimal("50.01"), DAY),
            False,
        ),
    ],
)
def test_possible_duplicates(new: DuplicateKey, old: DuplicateKey, duplicate: bool) -> None:
    assert is_possible_duplicate(new, old) is duplicate
    assert is_possible_duplicate(old, new) is duplicate


# -- median ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([5.0], 5.0),
        ([3.0, 1.0, 2.0], 2.0),
        ([4.0, 1.0, 3.0, 2.0], 2.5),
        ((10, 20), 15.0),
    ],
)
def test_median(values: list[float], expected: float | None) -> None:
    result = median(values)
    assert result == expected
    assert result is None or type(result) is float
