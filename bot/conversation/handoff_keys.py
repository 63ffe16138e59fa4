"""Keys the merchant gives after a hand-off (flows.handoff), kept where support reads them."""

from __future__ import annotations

from bot.storage.models import Case
from bot.support.cases import CaseOps
from flows.intake_core import IntakeRecord
from flows.readings import took_answer
from flows.replies import Reply


def take_keys(
    ops: CaseOps, record: IntakeRecord, live: Case, keys: dict[str, str], from_slip: bool
) -> Reply:
    """On the case (its card re-rendered for support) and, when the conversation is about that
    case, with its answers as if answered, so a later summary or "still missing" keeps them."""
    ops.add_keys(live, keys)
    if record.case_number == live.number:
        for name, value in keys.items():
            record.answers[name] = value
            took_answer(record.origins, name)
    return Reply("keys_noted", {"case_number": live.number, "keys": keys, "from_slip": from_slip})
