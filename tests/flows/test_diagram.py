"""The architecture page's diagram is generated from the machine's table and equals it."""

from __future__ import annotations

import re
from pathlib import Path

from flows import case
from flows.diagram import dot, edges, mermaid
from flows.intake import build_machine
from flows.intake_table import IDLE, STATES, TRANSITIONS

README = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def intake_mermaid() -> str:
    return mermaid(TRANSITIONS, STATES, IDLE)


def test_diagram_nodes_and_edges_equal_the_machine() -> None:
    machine = build_machine()
    text = intake_mermaid()
    nodes = set(re.findall(r"^    state (\w+)$", text, re.M))
    assert nodes == set(machine.states)
    drawn = set(re.findall(r"^    (\w+) --> (\w+): (\w+)", text, re.M))
    expected = set()
    for trigger, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                if transition.dest is not None:
                    expected.add((source, transition.dest, trigger))
    assert drawn == expected


def test_readme_embeds_the_current_diagrams() -> None:
    blocks = re.findall(r"```mermaid\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks[:2] == [intake_mermaid(), mermaid(case.TRANSITIONS, case.STATES, case.INITIAL)], (
        "regenerate them with: posbot diagram; posbot diagram --flow case"
    )


def test_edges_expand_wildcards() -> None:
    table = [
        {"trigger": "go", "source": "*", "dest": "b"},
        {"trigger": "x", "source": "a", "dest": None},
    ]
    assert edges(table, ["a", "b"]) == [("a", "b", "go"), ("b", "b", "go")]


def test_dot_draws_the_same_edges_once_per_pair_of_states() -> None:
    text = dot(case.TRANSITIONS, case.STATES, case.INITIAL)
    assert text.startswith("digraph {")
    assert set(re.findall(r'^    "(\w+)";$', text, re.M)) == set(case.STATES)
    drawn = {
        (source, dest, label)
        for source, dest, labels in re.findall(
            r'^    "(\w+)" -> "(\w+)" \[label="(.*)"\];$', text, re.M
        )
        for label in labels.split("\\n")
    }
    assert drawn == set(edges(case.TRANSITIONS, case.STATES))
    pairs = re.findall(r'^    "(\w+)" -> "(\w+)"', text, re.M)
    assert len(pairs) == len(set(pairs))


def test_dot_quotes_what_it_does_not_control() -> None:
    text = dot([{"trigger": 'say "hi"', "source": "a\\b", "dest": "c"}], ["a\\b", "c"], "a\\b")
    assert '"a\\\\b" -> "c" [label="say \\"hi\\""];' in text
