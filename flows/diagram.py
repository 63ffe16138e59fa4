"""Mermaid drawn from a transitions table, so the picture cannot drift from the machine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _listify(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def edges(
    transitions: Iterable[Mapping[str, Any]], states: Iterable[str]
) -> list[tuple[str, str, str]]:
    """(source, dest, label) for every state-changing transition; '*' expands to all states."""
    all_states = list(states)
    result: list[tuple[str, str, str]] = []
    for transition in transitions:
        dest = transition.get("dest")
        if dest is None:
            continue
        guards = [
            *_listify(transition.get("conditions")),
            *(f"not {u}" for u in _listify(transition.get("unless"))),
        ]
        label = transition["trigger"] + (f" [{', '.join(guards)}]" if guards else "")
        sources = _listify(transition["source"])
        for source in all_states if sources == ["*"] else sources:
            edge = (source, dest, label)
            if edge not in result:
                result.append(edge)
    return result


def mermaid(transitions: Iterable[Mapping[str, Any]], states: Iterable[str], initial: str) -> str:
    """A `stateDiagram-v2`: one line per state and per edge, in table order."""
    state_list = list(states)
    lines = ["stateDiagram-v2", f"    [*] --> {initial}"]
    lines += [f"    state {name}" for name in state_list]
    lines += [
        f"    {source} --> {dest}: {label}"
        for source, dest, label in edges(transitions, state_list)
    ]
    return "\n".join(lines) + "\n"


def _quoted(*lines: str) -> str:
    """A DOT string; several lines are joined with DOT's own centred line break."""
    return '"' + "\\n".join(s.replace("\\", "\\\\").replace('"', '\\"') for s in lines) + '"'


def dot(transitions: Iterable[Mapping[str, Any]], states: Iterable[str], initial: str) -> str:
    """The same edges as Graphviz DOT, for `dot -Tsvg`: edges between the same two states are
    drawn once, with one label line per trigger."""
    state_list = list(states)
    labels: dict[tuple[str, str], list[str]] = {}
    for source, dest, label in edges(transitions, state_list):
        labels.setdefault((source, dest), []).append(label)
    lines = [
        "digraph {",
        '    graph [rankdir=TB, fontname="DejaVu Sans"];',
        '    node [shape=box, style=rounded, fontname="DejaVu Sans"];',
        '    edge [fontname="DejaVu Sans", fontsize=9];',
        '    "[*]" [shape=point, width=0.15];',
        f'    "[*]" -> {_quoted(initial)};',
    ]
    lines += [f"    {_quoted(name)};" for name in state_list]
    lines += [
        f"    {_quoted(source)} -> {_quoted(dest)} [label={_quoted(*names)}];"
        for (source, dest), names in labels.items()
    ]
    return "\n".join([*lines, "}"]) + "\n"
