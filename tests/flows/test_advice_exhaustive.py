"""Every combination of the button answers, at dates around weekends, holidays, make-up days,
the cut-off and the grace day, in both languages: the advice's invariants hold everywhere.

The diagnosis is checked for every combination at every date. Rendering is the slow part, so
each distinct summary (same diagnosis, same way of paying, same date, same locale) is rendered
once: the answers that differ between two such combinations only change which labels the fact
list shows, and every label is rendered by `test_every_answer_label_renders`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from bot.conversation.rendering import MESSAGE_LIMIT, Renderer, split_message
from flows.advice import LADDER, Outcome, Rung, Timing
from flows.banks import ALIPAY, DEFAULT_BANKS, NFRA, PBOC, WECHAT_PAY
from flows.diagnosis import Diagnosis, climb, diagnose
from flows.facts import (
    AccountSignal,
    CardType,
    CycleAnswer,
    Facts,
    Method,
    Received,
    Records,
    SlipType,
    TerminalResult,
)
from flows.intake_replies import still_missing_reply, summary_reply
from flows.records_lookup import Found, RecordStatus, evidence
from flows.settlement_calendar import SHANGHAI
from flows.text import utf16_len
from tests.flows.dialogue import POLICY
from tests.templates.test_render import SETTINGS

RENDERER = Renderer(settings=SETTINGS)
LOCALES = ("zh", "en")


@dataclass(frozen=True)
class Moment:
    name: str
    day: date
    at: time | None
    now: datetime


def _now(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


MOMENTS = (
    Moment("Thu before cut-off", date(2026, 12, 3), time(22, 59), _now("2026-12-05 10:00")),
    Moment("Thu after cut-off", date(2026, 12, 3), time(23, 30), _now("2026-12-04 10:00")),
    Moment("Fri before make-up Sat", date(2026, 2, 13), time(15, 0), _now("2026-02-14 09:00")),
    Moment("National Day eve, holiday", date(2026, 9, 30), time(10, 0), _now("2026-10-05 12:00")),
    Moment("National Day eve, grace", date(2026, 9, 30), time(10, 0), _now("2026-10-09 12:00")),
    Moment("a week ago", date(2026, 11, 18), time(10, 0), _now("2026-11-25 14:00")),
    Moment("New Year's Eve late, 2027", date(2026, 12, 31), time(23, 59), _now("2027-01-04 09:00")),
    Moment("time unknown, Friday", date(2026, 12, 4), None, _now("2026-12-07 10:00")),
    Moment("ten months ago", date(2026, 1, 2), time(9, 0), _now("2026-12-05 10:00")),
    Moment("this morning", date(2026, 12, 4), time(9, 0), _now("2026-12-04 18:00")),
)  # fmt: skip

WAYS = (
    (Method.CARD, CardType.SALE),
    (Method.CARD, CardType.PREAUTH),
    (Method.CARD, CardType.UNSURE),
    (Method.UNIONPAY_QR, None),
    (Method.WECHAT, None),
    (Method.ALIPAY, None),
    (Method.OTHER, None),
)
BUTTONS = list(
    itertools.product(WAYS, TerminalResult, Records, Received, CycleAnswer, AccountSignal)
)
#: Slip types read off a photo, on card payments; the rest of the answers vary as above.
SLIPS = list(itertools.product(SlipType, TerminalResult, Records, Received))

#: What the acquirer's system answered a lookup (None: no payment with these keys), on the
#: payments that can be looked up. A found record replaces the merchant's records answer, so
#: that answer varies only when nothing was found.
LOOKED_UP_WAYS = tuple(way for way in WAYS if way[0] not in (Method.WECHAT, Method.ALIPAY))
LOOKUPS = [
    combo
    for combo in itertools.product(
        (*RecordStatus, None), LOOKED_UP_WAYS, TerminalResult, Records, Received,
        (CycleAnswer.T1, CycleAnswer.UNSURE),
    )
    if combo[0] is None or combo[3] is Records.CANNOT_CHECK
]  # fmt: skip
LOOKUP_BY = "Example Pay"
REASON = "冲正：终端超时 (timeout)"

BANKS = ("icbc", "cmbc", None)  # a known bank, another, and an unknown one typed as a name
ACQUIRERS = (None, "拉卡拉")

#: Every phone number the bot may print: the directory's, never one invented.
DIRECTORY_NUMBERS = {b.hotline for b in DEFAULT_BANKS.banks} | {
    WECHAT_PAY.hotline,
    ALIPAY.hotline,
    PBOC.hotline,
    NFRA.hotline,
}


def facts_for(index: int, combo: tuple[object, ...], moment: Moment) -> Facts:
    (method, card_type), terminal, records, received, cycle, account = combo  # type: ignore[misc]
    bank = BANKS[index % len(BANKS)]
    return Facts(
        day=moment.day,
        time=moment.at,
        amount=Decimal("50000.00") if index % 2 else Decimal("1280.50"),
        method=method,
        card_type=card_type,
        terminal=terminal,
        records=records,
        received=received,
        cycle=cycle,
        bank_code=bank,
        bank_name=None if bank else "蓬莱民生村镇银行",
        account=account,
        acquirer=ACQUIRERS[(index // 2) % len(ACQUIRERS)],
        reference="312345678901" if method in (Method.CARD, Method.UNIONPAY_QR) else None,
        merchant_id="102290053112345" if method is Method.CARD else None,
        order_no="4200001234202611181234567890" if method is Method.WECHAT else None,
    )


def slip_facts(index: int, combo: tuple[object, ...], moment: Moment) -> Facts:
    slip, terminal, records, received = combo  # type: ignore[misc]
    base = facts_for(
        index,
        ((Method.CARD, CardType.SALE), terminal, records, received, CycleAnswer.T1,
         AccountSignal.NONE),
        moment,
    )  # fmt: skip
    card_type = {
        SlipType.SALE: CardType.SALE,
        SlipType.PREAUTH: CardType.PREAUTH,
        SlipType.PREAUTH_COMPLETE: CardType.SALE,
    }.get(slip)  # type: ignore[call-overload]
    return replace(base, slip_type=slip, card_type=card_type)


def lookup_facts(index: int, combo: tuple[object, ...], moment: Moment) -> Facts:
    """The facts as the intake keeps them after the lookup answered (evidence merged in)."""
    status, way, terminal, records, received, cycle = combo  # type: ignore[misc]
    account = list(AccountSignal)[index % len(AccountSignal)]
    base = facts_for(index, (way, terminal, records, received, cycle, account), moment)
    answers = answers_of(base)
    if status is None:
        answers["records_lookup"] = {"status": "not_found", "by": LOOKUP_BY}
    else:
        found = Found(
            status=status,  # type: ignore[arg-type]
            amount=base.amount,
            settled_on=moment.day if status is RecordStatus.SUCCESS and index % 2 else None,
            reason=REASON if status is not RecordStatus.SUCCESS and index % 2 else None,
        )
        answers.update(evidence(found).answers())
        answers["records_lookup"] = {**found.stored(), "by": LOOKUP_BY}
    return Facts.from_answers(answers)


def every_case() -> Iterator[tuple[Facts, Moment]]:
    for moment in MOMENTS:
        for index, combo in enumerate(BUTTONS):
            yield facts_for(index, combo, moment), moment
        for index, combo in enumerate(SLIPS):
            yield slip_facts(index, combo, moment), moment
        for index, combo in enumerate(LOOKUPS):
            yield lookup_facts(index, combo, moment), moment


def answers_of(facts: Facts) -> dict[str, object]:
    """The stored answers a summary lists, as the intake would have kept them."""
    answers: dict[str, object] = {
        "when": {"day": facts.day.isoformat(), "time": facts.time and facts.time.strftime("%H:%M")},
        "amount": str(facts.amount),
        "method": facts.method.value,
        "terminal": facts.terminal.value,
        "records": facts.records.value,
        "received": facts.received.value,
        "cycle": facts.cycle.value,
        "bank": {"code": facts.bank_code} if facts.bank_code else {"name": facts.bank_name},
        "account": facts.account.value,
        "acquirer": facts.acquirer,
        "reference": facts.reference,
        "merchant_id": facts.merchant_id,
        "order_no": facts.order_no,
    }
    if facts.card_type is not None:
        answers["card_type"] = facts.card_type.value
    if facts.slip_type is not None:
        answers["slip_type"] = facts.slip_type.value
    return answers


def check_diagnosis(facts: Facts, moment: Moment, d: Diagnosis) -> None:
    # The records, or money that arrived, are never overruled into "no settlement".
    if facts.records is Records.SUCCESS or facts.received is Received.PARTIAL:
        assert d.outcome is not Outcome.NOT_COMPLETED
    # A failure is only ever concluded from the records or hedged on them.
    if d.outcome is Outcome.NOT_COMPLETED:
        assert d.headline in ("B_records", "B_void", "B_refund", "B_terminal")
    # The acquirer's system decides: a found record is never overruled by a weaker source, and
    # "not found" is always said.
    lookup = facts.records_lookup or {}
    status = lookup.get("status")
    if status in ("failed", "reversed", "voided", "refunded"):
        assert d.headline in ("B_records", "F_records")
    elif status == "preauth":
        assert d.outcome in (Outcome.PREAUTH, Outcome.PARTIAL)
    elif status == "success":
        assert d.outcome not in (Outcome.NOT_COMPLETED, Outcome.UNCERTAIN)
    elif status == "not_found":
        assert d.headline == "C_keys" or "keys_not_found" in d.warnings
        if d.headline == "C_keys":
            assert "check_keys" in [a.key for a in d.actions]
    # Every account notice leads the steps.
    if facts.account is not AccountSignal.NONE:
        assert d.actions[0].key == f"account_{facts.account.value}"
    # Dates: a day already past is never worded as the future.
    if d.due is not None and moment.now.date() > d.due.expected:
        assert "wait_until" not in [a.key for a in d.actions]
        assert d.timing in (Timing.GRACE, Timing.OVERDUE)
    if d.outcome is Outcome.OVERDUE:
        assert d.due is not None
        assert moment.now >= d.due.overdue_after
    # Whenever the cut-off moved the date, the summary says so.
    if d.due is not None and d.due.cutoff_moved:
        assert "cutoff_moved" in d.notes
    # The internal-process check closes every summary.
    assert d.actions[-1].key == "internal_check"
    # Every wallet contact names the party that settles it.
    for action in d.actions:
        if action.key == "contact_acquirer" and facts.acquirer:
            assert action.params["acquirer"] == facts.acquirer
        if action.key == "complaint":
            assert action.params["acquirer"] == facts.acquirer


def check_ladder(facts: Facts, moment: Moment, d: Diagnosis) -> None:
    """From the summary, "Still missing" reaches every rung (the legal route included), each
    once, then a person."""
    given = tuple(r.value for r in d.rungs)
    seen = list(given)
    for _ in range(len(LADDER) + 1):
        step = climb(facts, given, moment.now, POLICY)
        if step.step is None:
            break
        assert step.step.rung is not None
        assert step.step.rung.value not in seen
        seen.append(step.step.rung.value)
        given = (*given, *step.given)
    else:
        pytest.fail("the ladder never ends")
    assert set(seen) == {r.value for r in LADDER}
    assert Rung.LEGAL.value in seen


PHONE = re.compile(r"(?<![\d-])(?:95\d{3}|12\d{3}|400-?\d{3}-?\d{4})(?!\d)")
RAW_KEY = re.compile(r"\b(?:buttons|fields|outcomes|rungs|reasons)\.[a-z_]+|\{\{|\}\}|\{%")
FUTURE = {
    "zh": re.compile(r"预计 <b>[^<]*</b> 到账"),
    "en": re.compile(r"The money is expected on <b>"),
}


def check_text(text: str, facts: Facts, moment: Moment, d: Diagnosis, locale: str) -> None:
    parts = split_message(text)
    assert all(utf16_len(part) <= MESSAGE_LIMIT for part in parts)
    assert not RAW_KEY.search(text), RAW_KEY.search(text)
    allowed = set(DIRECTORY_NUMBERS)
    for number in PHONE.findall(text):
        assert number in allowed, number
    bank = DEFAULT_BANKS.by_code(facts.bank_code) if facts.bank_code else None
    if "call_bank" in [a.key for a in d.actions]:
        if bank is not None:
            assert bank.hotline in text
        else:  # an unknown (village) bank: the number on the card, never a big bank's
            others = {b.hotline for b in DEFAULT_BANKS.banks}
            assert not others & set(PHONE.findall(text))
    if d.due is not None and moment.now.date() > d.due.expected:
        assert not FUTURE[locale].search(text)
    lookup = facts.records_lookup or {}
    if d.evidence == "records" and lookup:
        assert f"(Based on {LOOKUP_BY}'s system" in text or f"依据：{LOOKUP_BY}的系统" in text
    if d.headline in ("B_records", "F_records") and lookup.get("reason"):
        assert lookup["reason"] in text
    if lookup.get("status") == "not_found":
        assert LOOKUP_BY in text
    if facts.records is Records.SUCCESS or facts.received is Received.PARTIAL:
        assert "不会产生结算款" not in text
        assert "no settlement money will come" not in text


def render_key(facts: Facts, moment: Moment, d: Diagnosis) -> tuple[object, ...]:
    """What the summary's words depend on beyond the fact list: two combinations with the
    same key read the same but for the labels of their answers."""
    keys = tuple(a.key for a in d.actions)
    return (
        moment.name,
        d.headline,
        d.warnings,
        d.notes,
        keys,
        facts.method if facts.method in (Method.WECHAT, Method.ALIPAY) else "receipt",
        facts.acquirer,
        facts.bank_code if "call_bank" in keys else None,
        facts.slip_type if "slip_vs_records" in d.warnings else None,
        (facts.records_lookup or {}).get("status"),
        bool((facts.records_lookup or {}).get("reason")),
    )


def test_the_whole_answer_space() -> None:
    rendered: set[tuple[object, ...]] = set()
    climbed: set[tuple[object, ...]] = set()
    combinations = 0
    for facts, moment in every_case():
        combinations += 1
        d = diagnose(facts, moment.now, POLICY)
        check_diagnosis(facts, moment, d)
        ladder_key = (moment.name, d.headline, d.rungs, facts.method, facts.acquirer)
        if ladder_key not in climbed:
            climbed.add(ladder_key)
            check_ladder(facts, moment, d)
        key = render_key(facts, moment, d)
        if key in rendered:
            continue
        rendered.add(key)
        reply = summary_reply("PB-20261205-0001", facts, answers_of(facts), d, moment.now, [])
        for locale in LOCALES:
            check_text(RENDERER.render(reply, locale).text, facts, moment, d, locale)
    # The README quotes these counts.
    assert combinations == len(MOMENTS) * (len(BUTTONS) + len(SLIPS) + len(LOOKUPS)) == 95_040
    assert len(rendered) > 5_000  # distinct summaries, each rendered in both languages


@pytest.mark.parametrize("locale", LOCALES)
def test_every_rung_renders_for_every_way_of_paying(locale: str) -> None:
    moment = MOMENTS[5]  # overdue
    for index, way in enumerate(WAYS):
        combo = (way, TerminalResult.SUCCESS, Records.SUCCESS, Received.NOTHING, CycleAnswer.T1,
                 AccountSignal.NONE)  # fmt: skip
        facts = facts_for(index, combo, moment)
        given: tuple[str, ...] = ()
        while True:
            step = climb(facts, given, moment.now, POLICY)
            reply = still_missing_reply("PB-20261205-0001", facts, step, None, moment.now)
            text = RENDERER.render(reply, locale).text
            assert not RAW_KEY.search(text)
            for number in PHONE.findall(text):
                assert number in DIRECTORY_NUMBERS
            if step.step is None:
                break
            given = (*given, *step.given)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_answer_label_renders(locale: str) -> None:
    for enum, field in (
        (Method, "method"),
        (CardType, "card_type"),
        (SlipType, "slip_type"),
        (TerminalResult, "terminal"),
        (Records, "records"),
        (Received, "received"),
        (CycleAnswer, "cycle"),
        (AccountSignal, "account"),
    ):
        for value in enum:
            assert RENDERER.label(locale, f"buttons.{field}.{value.value}")
        assert RENDERER.label(locale, f"fields.{field}")
    for rung in Rung:
        assert RENDERER.label(locale, f"rungs.{rung.value}")
