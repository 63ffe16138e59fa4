"""The README's diagram is generated from the machine's table and equals it."""

from __future__ import annotations

import re
from pathlib import Path

from flows.diagram import edges, mermaid
from flows.intake import IDLE, STATES, TRANSITIONS, build_machine

README = Path(__file__).resolve().parents[2] / "README.md"


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


def test_readme_embeds_the_current_diagram() -> None:
    readme = README.read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(.*?)```", readme, re.S)
    assert block is not None, "README has no mermaid block"
    assert block.group(1) == intake_mermaid(), "regenerate it with: posbot diagram"


def test_edges_expand_wildcards() -> None:
    table = [
        {"trigger": "go", "source": "*", "dest": "b"},
        {"trigger": "x", "source": "a", "dest": None},
    ]
    assert edges(table, ["a", "b"]) == [("a", "b", "go"), ("b", "b", "go")]
