"""A case as the merchant's and the support group's messages show it, and the rating buttons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.storage.models import Case
from bot.support.cases import (
    CaseOps,
)
from flows.callbacks import Rating, encode
from flows.replies import Button, Reply, rows


def rating_reply(template: str, number: str) -> Reply:
    buttons = rows(
        *(Button(f"rating.{n}", encode(Rating(number, n))) for n in range(1, 6)), per_row=5
    )
    return Reply(template, {"case_number": number}, buttons)


def last_text(ops: CaseOps, case: Case) -> str | None:
    from bot.storage.models import TranscriptLine

    line = ops.session.scalars(
        select(TranscriptLine)
        .where(TranscriptLine.chat_id == case.chat_id, TranscriptLine.author == "merchant")
        .order_by(TranscriptLine.id.desc())
        .limit(1)
    ).first()
    return line.text if line else None


def case_view(case: Case) -> dict[str, Any]:
    """What templates may show of a case (facts are already masked where needed)."""
    return {
        "number": case.number,
        "status": case.status,
        "outcome": case.outcome,
        "amount": case.amount,
        "trade_date": case.trade_date,
        "due_date": case.due_date,
        "due_estimated": case.due_estimated,
        "created_at": case.created_at,
        "owner_name": case.owner_name,
        "duplicate_of": case.duplicate_of,
        "ladder": list(case.ladder or []),
        "records_lookup": (case.facts or {}).get("records_lookup"),
    }
