"""The callback codec: what it writes it reads back, within Telegram's 64 bytes, and anything
else (old, foreign or forged data) reads as None."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.callbacks import (
    ACTIONS,
    AGENT_VERBS,
    CASE_VERBS,
    MAX_BYTES,
    Action,
    AgentAction,
    Answer,
    Callback,
    CaseReply,
    Change,
    Correct,
    Forget,
    Language,
    Rating,
    decode,
    encode,
)

WIRE = [
    (Answer("method", "card"), "a:method:card"),
    (Answer("when", "2026-03-04T10:00"), "a:when:2026-03-04T10:00"),
    (Change("amount"), "c:amount"),
    (Correct("reference"), "r:reference"),
    (Language("en"), "l:en"),
    (Action("begin"), "x:begin"),
    (Action("slip_ok"), "x:slip_ok"),
    (CaseReply("yes", "PB-20261205-0001"), "k:yes:PB-20261205-0001"),
    (CaseReply("next", "PB-20261205-0001"), "k:next:PB-20261205-0001"),
    (Rating("PB-20261205-0001", 5), "k:rate:PB-20261205-0001:5"),
    (Forget(True), "g:yes"),
    (Forget(False), "g:no"),
    (AgentAction("claim", 42), "s:claim:42"),
]


@pytest.mark.parametrize(("callback", "data"), WIRE)
def test_the_wire_format_is_stable(callback: Callback, data: str) -> None:
    """Buttons already sent to merchants carry this format: changing it spends them all."""
    assert encode(callback) == data
    assert decode(data) == callback


@pytest.mark.parametrize(
    "data",
    [
        "",
        "x",
        "x:",
        "x:launch",
        "a:",
        "a:method",
        "a:method:",
        "a::card",
        "c:",
        "c:a:b",
        "k:rate:PB-1:6",
        "k:rate:PB-1:0",
        "k:maybe:PB-1",
        "k:yes:",
        "g:maybe",
        "s:claim:",
        "s:claim:x1",
        "s:claim:٣",
        "s:claim:007",
        "s:delete:1",
        "q:anything",
        "ok",
    ],
)
def test_data_it_did_not_write_is_none(data: str) -> None:
    assert decode(data) is None


def test_what_cannot_be_read_back_is_not_written() -> None:
    with pytest.raises(ValueError, match="not a button's data"):
        encode(Action("launch"))
    with pytest.raises(ValueError, match="not a button's data"):
        encode(Change("a:b"))
    with pytest.raises(ValueError, match="not a button's data"):
        encode(Answer("note", "x" * MAX_BYTES))


names = st.text(
    st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
    min_size=1,
    max_size=20,
)
callbacks = st.one_of(
    st.builds(
        Answer,
        names,
        st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20).filter(
            lambda v: v.strip(":")
        ),
    ),
    st.builds(Change, names),
    st.builds(Correct, names),
    st.builds(Language, names),
    st.builds(Action, st.sampled_from(sorted(ACTIONS))),
    st.builds(CaseReply, st.sampled_from(sorted(CASE_VERBS)), names),
    st.builds(Rating, names, st.integers(1, 5)),
    st.builds(Forget, st.booleans()),
    st.builds(AgentAction, st.sampled_from(sorted(AGENT_VERBS)), st.integers(0, 10**12)),
)


@given(callbacks)
def test_what_it_writes_it_reads_back(callback: Callback) -> None:
    try:
        data = encode(callback)
    except ValueError:
        return  # refused to write: never on the wire
    assert len(data.encode()) <= MAX_BYTES
    assert decode(data) == callback


@given(st.text(max_size=80))
def test_any_data_decodes_or_is_none_without_raising(data: str) -> None:
    callback = decode(data)
    if callback is not None:
        assert encode(callback) == data


def test_every_action_button_has_a_trigger() -> None:
    from flows.intake_events import ACTION_TRIGGERS

    assert set(ACTION_TRIGGERS) == ACTIONS
