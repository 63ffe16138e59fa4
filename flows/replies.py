"""What a flow wants said: replies as data, rendered and sent by the adapters in `bot/`.

Flows never format text themselves; they name a template, hand it a context and list the
buttons. That keeps every word in `templates/` and lets the same reply go to Telegram or to a
terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Telegram rejects callback data longer than this many bytes.
CALLBACK_DATA_LIMIT = 64


@dataclass(frozen=True)
class Button:
    """One inline button: a label key looked up in the locale's labels and its callback data."""

    label: str
    data: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.data.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {self.data!r}")


@dataclass(frozen=True)
class Reply:
    """A message to send: template name (without locale or suffix), its context and keyboard."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()


def rows(*buttons: Button, per_row: int = 2) -> tuple[tuple[Button, ...], ...]:
    """Lay buttons out `per_row` to a row: short labels side by side read best on a phone."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))
