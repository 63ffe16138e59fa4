"""Every template renders in every locale with sample context, strictly and within limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import Settings
from bot.conversation.rendering import MESSAGE_LIMIT, Renderer, split_message, templates_root
from bot.deployment import example_file, resolve
from flows.diagnosis import Outcome, climb, diagnose
from flows.facts import (
    AccountSignal,
    CardType,
    Method,
    Received,
    Records,
    SlipType,
    TerminalResult,
)
from flows.incidents import Incident, InvalidIncident
from flows.intake_core import IntakeRecord
from flows.intake_replies import still_missing_reply, summary_reply
from flows.receipt import SlipFields
from flows.records_lookup import (
    Found,
    LookupResult,
    NotFound,
    RecordStatus,
    checking_reply,
    result_reply,
)
from flows.replies import Button, Reply
from flows.report import CaseTimes, aggregate
from flows.settlement_calendar import SHANGHAI
from flows.text import utf16_len
from tests.flows.dialogue import NOW, POLICY, Dialogue
from tests.flows.test_diagnosis import BASE
from tests.flows.test_intake import CARD_SALE
from tests.flows.test_slip import REST, SLIP, SLIP_ANSWERS

LOCALES = ("zh", "en")
SETTINGS = {
    "operator_name": "Test Pay",
    "retention_days": 180,
    "cutoff": "23:00",
    "support_hours": "09:00-21:00",
    "operator_hotline": None,
    "support_timezone": "Asia/Shanghai",
    "wording": {
        "zh": {"welcome": None, "summary": None},
        "en": {"welcome": None, "summary": None},
    },
    "slip_reading": True,
    "photo_max_mb": 7,
}
#: A found record as the intake keeps it on the case (`Found.stored()` and who was asked).
LOOKED_UP = {
    "status": "reversed",
    "amount": "5000.00",
    "settled_on": None,
    "reason": "终端超时冲正",
    "by": "Example Pay",
}
RENDERER = Renderer(settings=SETTINGS)
ROOT = templates_root()
#: The shipped example deployment file: hotline, extra wording, an added bank button.
EXAMPLE = resolve(Settings(deployment_file=str(example_file())))
DEPLOYED = Renderer(
    settings={
        **EXAMPLE.template_globals(),
        "support_timezone": "Europe/Berlin",
        "slip_reading": True,
        "photo_max_mb": 7,
    },
    banks=EXAMPLE.banks,
)


def message_templates(locale: str) -> list[str]:
    return sorted(p.stem for p in (ROOT / locale).glob("*.j2") if not p.name.startswith("_"))


def test_both_locales_have_the_same_templates() -> None:
    assert message_templates("zh") == message_templates("en")
    zh = {p.name for p in (ROOT / "zh").iterdir()}
    en = {p.name for p in (ROOT / "en").iterdir()}
    assert zh == en


def _labels_keys(node: object, prefix: str = "") -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_labels_keys(v, f"{prefix}{k}.") for k, v in node.items()))
    return {prefix.rstrip(".")}


def test_labels_have_the_same_keys_in_both_locales() -> None:
    assert _labels_keys(RENDERER.labels("zh")) == _labels_keys(RENDERER.labels("en"))


def sample_contexts() -> dict[str, list[dict[str, object]]]:
    """Real contexts, captured from walks through the flow."""
    samples: dict[str, list[dict[str, object]]] = {}

    def collect(replies: list[Reply]) -> None:
        for reply in replies:
            samples.setdefault(reply.template, []).append(dict(reply.context))

    dialogue = Dialogue()
    collect(dialogue.command("start"))
    for step in CARD_SALE:
        dialogue.answer_all([step])
        collect(dialogue.last)
    collect(dialogue.press("c:amount"))
    collect(dialogue.say("xyz"))
    collect(dialogue.say("xyz"))
    collect(dialogue.say("xyz"))
    collect(dialogue.say("100"))
    collect(dialogue.press("x:confirm"))
    collect(dialogue.press("x:arrived"))
    collect(dialogue.press("x:arrived"))  # pressed again: already resolved
    samples["arrived"].append({"case_number": "PB-20261125-0001"})  # "yes" at the follow-up
    collect(dialogue.press("x:person"))
    collect(dialogue.command("help"))
    wallet = Dialogue()
    wallet.command("start")
    for step in [
        "press:x:begin",
        "今天",
        "88",
        "press:a:method:wechat",
        "press:a:terminal:success",
        "press:a:records:success",
        "press:a:received:none",
        "press:a:cycle:t1",
        "press:a:account:none",
        "press:a:acquirer:skip",
    ]:
        wallet.answer_all([step])
    collect(wallet.last)
    collect(wallet.press("c:order_no"))  # not asked on the way: added from the review
    collect(wallet.press("x:confirm"))
    collect(wallet.press("x:person"))  # handed over without the transaction number
    other = Dialogue()
    other.command("start")
    collect(other.answer_all(["press:x:begin"]) or other.last)
    collect(other.press("a:when:other"))
    collect(other.say("3/4 10:00"))
    collect(other.say("12/11"))
    collect(other.say("2026-01-05"))
    collect(other.command("start"))
    collect(other.command("cancel"))
    # A slip photo: unreadable, read, corrected, confirmed, discarded, changed on review.
    slip = Dialogue()
    slip.command("start")
    slip.answer_all(CARD_SALE[:3])
    for problem in (
        "unavailable",
        "too_large",
        "not_an_image",
        "unreadable",
        "download_failed",
        "not_the_bank",
    ):
        for attached in (True, False):
            collect(slip.photo(None, problem, attached=attached))
    collect(slip.photo(SlipFields()))
    collect(slip.photo(SLIP))
    collect(slip.say("对"))
    collect(slip.press("r:when"))
    collect(slip.press("r:amount"))
    collect(slip.say("1208.50"))
    collect(slip.press("r:slip_type"))
    collect(slip.press("a:slip_type:void"))
    for name in ("method", "acquirer", "merchant_id", "terminal_id", "reference", "voucher"):
        collect(slip.press(f"r:{name}"))
        collect(slip.command("back"))
    collect(slip.press("r:batch"))
    collect(slip.press("x:slip_no"))
    collect(slip.photo(SLIP))
    collect(slip.press("x:slip_ok"))
    slip.answer_all(REST)
    collect(slip.last)
    collect(slip.press("c:slip_type"))
    collect(slip.press("a:slip_type:refund"))
    collect(slip.press("x:confirm"))
    # A story: at the welcome before consent (declined, then agreed), with a value kept over
    # an earlier answer, with facts left to ask, and a pasted bank SMS.
    story = Dialogue()
    story.command("start")
    collect(story.tell("我昨天下午刷了一笔5000块的，到现在还没到账，怎么回事") or [])
    collect(story.press("x:slip_no"))
    collect(story.tell("3/4刷了5000，工行卡，T+1，只到了4970") or [])
    collect(story.press("r:bank"))
    collect(story.press("x:slip_ok"))
    told = Dialogue()
    told.command("start")
    told.answer_all(["press:x:begin", "昨天下午3点"])
    collect(told.say("1000元，T+1，支付宝"))
    collect(told.press("x:slip_no"))
    collect(told.say("5000，工行卡"))
    collect(told.press("x:slip_ok"))
    collect(told.say("您尾号1234的账户12月4日入账1,240.00元"))
    emptied = Dialogue()
    emptied.command("start")
    emptied.answer_all(CARD_SALE[:2])
    emptied.photo(SlipFields(batch="000123"))
    collect(emptied.press("r:batch"))
    # Summaries for every outcome and every action.
    variants = [
        {},
        {"terminal": TerminalResult.FAILED},
        {"records": Records.FAILED},
        {"records": Records.MISSING},
        {"card_type": CardType.PREAUTH},
        {"received": Received.PARTIAL},
        {"day": date(2026, 11, 18)},
        {
            "day": date(2026, 11, 18),
            "method": Method.WECHAT,
            "card_type": None,
            "order_no": "4200001234202611181234567890",
        },
        {"day": date(2026, 11, 18), "method": Method.ALIPAY, "card_type": None},
        {"day": date(2026, 11, 18), "bank_code": None, "bank_name": "宁波银行"},
        {"day": date(2025, 1, 2), "time": None, "records": Records.CANNOT_CHECK},
        {"day": date(2026, 12, 31), "time": time(9, 0)},
        *({"day": date(2026, 11, 18), "account": s} for s in AccountSignal),
        *({"slip_type": kind, "card_type": None} for kind in SlipType),
        {"slip_type": SlipType.REFUND, "terminal": TerminalResult.FAILED},
    ]
    for changes in variants:
        facts = replace(BASE, **changes)  # type: ignore[arg-type]
        diagnosis = diagnose(facts, NOW, POLICY)
        answers = {
            "when": {"day": facts.day.isoformat(), "time": None},
            "amount": "1.00",
            "method": facts.method.value,
        }
        if facts.slip_type is not None:
            answers = {**SLIP_ANSWERS, **answers, "slip_type": facts.slip_type.value}
        samples["summary"].append(
            dict(summary_reply("PB-20261125-0001", facts, answers, diagnosis, NOW, []).context)
        )
        given: tuple[str, ...] = ()
        while True:  # every rung of the ladder, then "a person"
            up = climb(facts, given, NOW, POLICY)
            reply = still_missing_reply("PB-20261125-0001", facts, up, Outcome.OVERDUE, NOW)
            samples.setdefault("still_missing", []).append(dict(reply.context))
            if up.step is None:
                break
            given = (*given, *up.given)
    assert {d["diagnosis"].outcome for d in samples["summary"]} == set(Outcome)  # type: ignore[union-attr]
    for reason in (
        "unrecognised",
        "future",
        "not_positive",
        "too_many_decimals",
        "too_large",
        "wrong_length",
        "bad_characters",
        "choose",
    ):
        for field in (
            "when",
            "amount",
            "method",
            "bank",
            "acquirer",
            "reference",
            "terminal_id",
            "merchant_id",
            "voucher",
            "order_no",
        ):
            samples["invalid"].append(
                {
                    "field": field,
                    "reason": reason,
                    "attempt": 2,
                    "offer_help": False,
                    "optional": True,
                }
            )
    samples.update(support_samples())
    samples.update(incident_samples())
    for outcome in Outcome:  # the notice block with every outcome, due date or not
        summary = next(d for d in samples["summary"] if d["diagnosis"].outcome == outcome)  # type: ignore[union-attr]
        samples["summary"].append({**summary, "incidents": [INCIDENT, OVERNIGHT]})
    samples.update(report_samples())
    samples.update(records_samples())
    for bank in ({"name": "宁波银行"}, {"code": None, "unsure": True}, {"code": "icbc"}):
        samples["review"].append({"items": [{"field": "bank", "value": bank, "answered": True}]})
        summary = dict(samples["summary"][-1])
        summary["answers"] = {**summary["answers"], "bank": bank}  # type: ignore[dict-item]
        samples["summary"].append(summary)
    samples.setdefault("off_topic", []).extend(
        [
            {"state": "idle"},
            {"state": "summarized"},
            {"state": "confirming_story"},
            {"state": "reviewing"},
        ]
    )
    for number in (1, 12):  # the number this merchant is at (flows.intake_core)
        samples["ask_amount"].append(
            {"current": None, "revising": False, "optional": False, "number": number}
        )
    samples["ask_bank"].append(  # at the ladder's bank rung, after the summary
        {"current": None, "revising": False, "optional": False, "ladder": True, "number": None}
    )
    for choices in (("t1", "unsure"), ("d1", "d0", "unsure")):  # a deployment's own cycles
        samples["ask_cycle"].append(
            {"current": None, "revising": False, "optional": False, "choices": choices}
        )
    for name in ("unknown_command", "non_text", "error", "stale_button"):
        samples.setdefault(name, []).append({})
    samples["command_not_now"] = [  # a typed command with no place where the merchant is
        {"state": state, "trigger": trigger}
        for state in ("idle", "summarized", "asking_amount")
        for trigger in ("back", "cancel", "ask_person")
    ]
    samples["photo_received"] = [
        {"state": state, "attached": attached}
        for state in ("idle", "summarized", "asking_amount")
        for attached in (True, False)
    ]
    return samples


def support_samples() -> dict[str, list[dict[str, object]]]:
    """Contexts of the hand-off messages, shaped as the service and the support desk build them."""
    case = {
        "number": "PB-20261125-0001",
        "status": "assigned",
        "outcome": "E",
        "amount": Decimal("1280.50"),
        "trade_date": date(2026, 11, 18),
        "due_date": date(2026, 11, 19),
        "due_estimated": False,
        "created_at": NOW,
        "owner_name": "Wang",
        "duplicate_of": "PB-20261124-0007",
        "ladder": ["acquirer_records", "acquirer_service", "bank_app"],
    }
    bare = {
        **case,
        "status": "escalated",
        "outcome": None,
        "amount": None,
        "trade_date": None,
        "due_date": None,
        "owner_name": None,
        "duplicate_of": None,
        "ladder": [],
    }
    facts = {
        "method": "card",
        "slip_type": "void",
        "terminal": "success",
        "records": "success",
        "received": "none",
        "cycle": "t1",
        "account": "changed",
        "acquirer": "<b>拉卡拉</b>",
        "reference": "312345678901",
        "terminal_id": "12345678",
        "merchant_id": "102100058120001",
    }
    transcript = [{"author": "merchant", "text": "钱没到 <i>"}, {"author": "agent", "text": "在查"}]
    reasons = ("asked", "invalid_answers", "amount", "followup")
    return {
        "person_requested": [
            {"case_number": n, "reason": r}
            for r in (*reasons, "already")
            for n in ("PB-20261125-0001", None)
        ],
        "followup_set": [
            {"at": at, "already": already, "has_due": at is not None or already}
            for at in (datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI), None)
            for already in (False, True)
        ],
        "followup_question": [{"case": case}, {"case": bare}],
        "relayed": [{"case_number": "PB-20261125-0001"}],
        "keys_noted": [
            {"case_number": "PB-20261125-0001", "keys": {"reference": "312345678901"}},
            {
                "case_number": "PB-20261125-0001",
                "keys": {"reference": "312345678901", "terminal_id": "12345678"},
                "from_slip": True,
            },
            {"case_number": "PB-1", "keys": {"order_no": "4200001234202612050123456789"}},
        ],
        "possible_duplicate": [{"case_number": "PB-20261125-0002", "other": "PB-20261125-0001"}],
        "reopened": [{"case_number": "PB-20261125-0001"}],
        "resolved_note": [{"case_number": "PB-20261125-0001"}],
        "noted_ask": [{}],
        "arrival_question": [{}],
        "status_list": [{"cases": [case, bare]}, {"cases": []}],
        "case_detail": [
            {"case": case},
            {"case": bare},
            {"case": {**case, "records_lookup": LOOKED_UP}},
            {"case": {**case, "records_lookup": {"status": "not_found", "by": "Example Pay"}}},
        ],
        "case_not_found": [{"number": "PB-x"}],
        "thanks_rating": [{"rating": 5}],
        "rate_request": [{"case_number": "PB-20261125-0001"}],
        "agent_reply": [{"agent": "Wang", "text": "<b>hi</b>", "case_number": "PB-1"}],
        "ask_info": [{"agent": "Team", "text": "照片?", "case_number": "PB-1"}],
        "resolved_by_agent": [
            {"case_number": "PB-1", "note": "done", "agent": "Wang"},
            {"case_number": "PB-1", "note": "", "agent": "Wang"},
        ],
        "support_card": [
            {"case": case, "facts": facts, "reason": r, "transcript": transcript, "topic": "PB-1"}
            for r in reasons
        ]
        + [{"case": bare, "facts": {}, "reason": None, "transcript": [], "topic": "PB-1"}]
        + [  # keys not given (not asked on the way): the card says so
            {"case": case, "facts": {"method": m}, "reason": None, "transcript": [], "topic": "P"}
            for m in ("card", "wechat")
        ]
        + [
            {
                "case": case,
                "facts": {**facts, "records_lookup": lookup},
                "reason": None,
                "transcript": [],
                "topic": "PB-1",
            }
            for lookup in (LOOKED_UP, {"status": "not_found", "by": "Example Pay"})
        ],
        "support_relay": [{"number": "PB-1", "text": "钱呢"}, {"number": "PB-1", "text": None}],
        "support_change": [
            {"case": case, "what": "duplicate", "detail": "PB-2"},
            {"case": case, "what": "changed", "detail": "summary"},
            {"case": case, "what": "changed", "detail": "ladder"},
            {"case": bare, "what": "changed", "detail": "claim"},
            {
                "case": case,
                "what": "changed",
                "detail": "keys",
                "facts": {"reference": "312345678901", "terminal_id": "12345678"},
            },
        ],
        "support_refused": [{}],
        "forget_confirm": [{}],
        "forget_kept": [{}],
        "slow_down": [{}],
        "forgotten": [{"cases": 2}],
        "sensitive_warning": [
            {
                "secret": True,
                "findings": ["account", "card", "expiry", "id_number", "mobile", "secret"],
            },
            {"secret": False, "findings": ["card"]},
        ],
        "support_stale": [{}],
        "support_done": [{"case": case, "verb": v} for v in ("claim", "unclaim", "resolve")],
        "support_not_now": [{"case": case}],
        "support_usage": [{}],
        "report_unavailable": [{}],
        "cases_list": [
            {"cases": [{**case, "age_minutes": 135}, {**bare, "age_minutes": 5}]},
            {"cases": []},
        ],
        "stats": [
            {
                "total": 3,
                "by_status": {"resolved": 2, "escalated": 1},
                "by_outcome": {"A": 2, "E": 1},
                "median_first_reply_minutes": 12.0,
                "median_resolution_hours": 30.5,
                "resolved": 2,
                "share_without_person": 0.5,
            },
            {
                "total": 0,
                "by_status": {},
                "by_outcome": {},
                "median_first_reply_minutes": None,
                "median_resolution_hours": None,
                "resolved": 0,
                "share_without_person": None,
            },
        ],
        "sla_unclaimed": [{"case": bare, "minutes": 30}],
        "sla_reply": [{"case": case, "hours": 4}],
        "case_closed_notice": [{"case": {**case, "status": "resolved"}}],
        "merchant_unreachable": [{"case": case}],
    }


INCIDENT = Incident(
    3,
    datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI),
    datetime(2026, 11, 24, 18, 0, tzinfo=SHANGHAI),
    "The acquirer's settlement batch of Nov 24 is late <b>",
)
OVERNIGHT = Incident(
    4,
    datetime(2026, 11, 23, 0, 0, tzinfo=SHANGHAI),
    datetime(2026, 11, 25, 23, 59, 59, tzinfo=SHANGHAI),
    "x" * 500,
)


def incident_samples() -> dict[str, list[dict[str, object]]]:
    """Contexts of the incident messages, shaped as bot/support/incidents.py builds them."""
    listed = {
        "id": 3,
        "starts": INCIDENT.starts,
        "ends": INCIDENT.ends,
        "text": INCIDENT.text,
        "notified": 12,
        "ended_at": None,
    }
    ended = {**listed, "id": 2, "text": "y" * 500, "ended_at": NOW}
    reasons = sorted(InvalidIncident.REASONS)
    return {
        "incident_notice": [
            {"case_number": "PB-20261125-0001", "incident": i, "has_due": due}
            for i in (INCIDENT, OVERNIGHT)
            for due in (True, False)
        ],
        "incident_posted": [
            {"incident": INCIDENT, "existed": existed, "notified": n}
            for existed in (False, True)
            for n in (0, 1250)
        ],
        "incident_invalid": [
            {
                "reason": r,
                "max_days": 31,
                "max_text": 500,
                "max_age_days": 365,
                "max_ahead_days": 31,
            }
            for r in reasons
        ],
        "incident_ended": [
            {"status": "ended", "incident": INCIDENT, "given": "3"},
            {"status": "already", "incident": INCIDENT, "given": "#3"},
            {"status": "unknown", "incident": None, "given": "x<b>"},
        ],
        "incidents_list": [
            {"active": [listed] * 20, "ended": [ended] * 20, "recent_days": 7},
            {"active": [], "ended": [ended], "recent_days": 7},
            {"active": [listed], "ended": [], "recent_days": 7},
            {"active": [], "ended": [], "recent_days": 7},
        ],
    }


def report_samples() -> dict[str, list[dict[str, object]]]:
    """The report page and the /report caption, with numbers and with none."""
    opened = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
    rows = [
        CaseTimes(opened, "A", resolved_at=datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI), rating=5),
        CaseTimes(opened, None, opened, datetime(2026, 11, 20, 10, 30, tzinfo=SHANGHAI)),
    ]
    full = aggregate(rows, date(2026, 11, 1), date(2026, 11, 25))
    empty = aggregate([], date(2026, 11, 25), date(2026, 11, 25))
    chart = {"name": "ratings", "title": "Ratings", "svg": '<svg viewBox="0 0 1 1"></svg>'}
    return {
        "report.html": [
            {"numbers": full, "charts": [chart], "generated_at": NOW},
            {"numbers": empty, "charts": [], "generated_at": NOW},
        ],
        "report_caption": [{"numbers": full}, {"numbers": empty}],
    }


def records_samples() -> dict[str, list[dict[str, object]]]:
    """The records lookup's messages, built by the port's own reply functions."""
    answers = {"reference": "123456789012", "amount": "1280.50", "when": {"day": "2026-12-01"}}
    results: list[LookupResult] = [
        *(Found(status, Decimal("1280.50")) for status in RecordStatus),
        Found(RecordStatus.SUCCESS, Decimal("1280.50"), date(2026, 12, 4)),
        Found(RecordStatus.SUCCESS, Decimal("1208.50"), date(2026, 12, 4)),  # amounts differ
        Found(RecordStatus.REVERSED, Decimal("1280.50"), reason="超时冲正 <b>timeout</b>"),
        Found(RecordStatus.FAILED, Decimal("1280.50"), reason="x" * 500),
        NotFound(),
    ]
    replies = [result_reply(result, "Example Pay", answers) for result in results]
    replies.append(result_reply(NotFound(), "<i>Pay</i>", {"amount": "1"}))  # no reference
    return {
        "records_checking": [
            dict(checking_reply(name).context) for name in ("Example Pay", "拉卡拉")
        ],
        "records_result": [dict(reply.context) for reply in replies if reply is not None],
    }


SAMPLES = sample_contexts()


@pytest.mark.parametrize("renderer", [RENDERER, DEPLOYED], ids=["defaults", "deployed"])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", message_templates("zh"))
def test_template_renders(renderer: Renderer, locale: str, template: str) -> None:
    assert template in SAMPLES, f"no sample context for {template}"
    for context in SAMPLES[template]:
        text = renderer.text(template, locale, context)
        assert text.strip()
        assert all(utf16_len(part) <= MESSAGE_LIMIT for part in split_message(text))
        if locale == "en":  # English, quoting at most the Chinese labels printed on a slip
            cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
            assert cjk <= 0.1 * len(text), text


@pytest.mark.parametrize("locale", LOCALES)
def test_every_button_label_exists(locale: str) -> None:
    dialogue = Dialogue()
    dialogue.command("start")
    replies = list(dialogue.last)
    for step in [*CARD_SALE, "press:x:confirm"]:
        dialogue.answer_all([step])
        replies += dialogue.last
    for reply in replies:
        RENDERER.render(reply, locale)


def test_merchant_text_is_escaped() -> None:
    record = IntakeRecord(answers={"acquirer": "<b>x</b>"})
    text = RENDERER.text(
        "ask_acquirer",
        "zh",
        {"current": record.answers["acquirer"], "revising": True, "optional": True},
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in text


def test_split_message_keeps_parts_under_the_limit() -> None:
    text = "\n\n".join("段落" * 300 for _ in range(20))
    parts = split_message(text)
    assert len(parts) > 1
    assert all(utf16_len(p) <= MESSAGE_LIMIT for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_templates_ship_inside_the_package_tree() -> None:
    assert Path(ROOT / "zh" / "labels.toml").is_file()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_deployment_file_shows_in_welcome_and_summary(locale: str) -> None:
    extra = EXAMPLE.wording[locale]
    assert extra["welcome"]
    assert extra["summary"]
    welcome = DEPLOYED.text("welcome", locale, {})
    assert "Example Pay" in welcome
    assert welcome.endswith(str(DEPLOYED.env.filters["e"](extra["welcome"])))
    summary = DEPLOYED.text("summary", locale, SAMPLES["summary"][0])
    assert "400-000-0000" in summary
    assert "Europe/Berlin" in summary
    assert summary.endswith(str(DEPLOYED.env.filters["e"](extra["summary"])))
    plain = RENDERER.text("summary", locale, SAMPLES["summary"][0])
    assert "400-000-0000" not in plain


def test_questions_show_only_the_offered_cycles() -> None:
    context = {"current": None, "revising": False, "optional": False, "choices": ("t1", "unsure")}
    text = RENDERER.text("ask_cycle", "en", context)
    assert "T+1" in text
    assert "D+1" not in text
    assert "D0" not in text


def test_a_bank_the_deployment_added_is_labelled_with_its_name() -> None:
    reply = Reply("ask_bank", SAMPLES["ask_bank"][0], ((Button("bank.nbcb", "a:bank:nbcb"),),))
    assert DEPLOYED.render(reply, "zh").keyboard == ((("宁波银行", "a:bank:nbcb"),),)
    assert DEPLOYED.render(reply, "en").keyboard == ((("Bank of Ningbo", "a:bank:nbcb"),),)
    with pytest.raises(KeyError):
        RENDERER.render(reply, "en")


@pytest.mark.parametrize("locale", LOCALES)
def test_photos_are_offered_only_where_slips_can_be_read(locale: str) -> None:
    without = Renderer(settings={**SETTINGS, "slip_reading": False})
    for template in ("ask_when", "ask_reference", "help"):
        context = {"current": None, "revising": False, "optional": True}
        offered = RENDERER.text(template, locale, context)
        plain = without.text(template, locale, context)
        assert len(plain) < len(offered)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_records_answer_shows_what_the_system_said(locale: str) -> None:
    found = Found(RecordStatus.REVERSED, Decimal("1208.50"), date(2026, 12, 4), "timeout <b>")
    answers = {"reference": "123456789012", "amount": "1280.50"}
    reply = result_reply(found, "Example Pay", answers)
    assert reply is not None
    text = RENDERER.text(reply.template, locale, dict(reply.context))
    for shown in ("Example Pay", "1,208.50", "1,280.50", "timeout &lt;b&gt;", "4"):
        assert shown in text
    assert RENDERER.label(locale, "record_status.reversed") in text
    missing = result_reply(NotFound(), "Example Pay", answers)
    assert missing is not None
    assert "123456789012" in RENDERER.text(missing.template, locale, dict(missing.context))


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("zh", ("少了 ¥30.00", "签购单照片", "参考号：未提供", "您的收单机构（给您装POS机")),
        (
            "en",
            (
                "CN¥30.00 less",
                "send a photo of the slip",
                "Reference no.: not given",
                "your acquirer (the company that gave you the POS terminal",
            ),
        ),
    ],
)
def test_what_was_not_asked_is_said_where_it_matters(locale: str, words: tuple[str, ...]) -> None:
    """The shortfall of a partial arrival, the acquirer named without its name, the keys asked
    at the hand-off and marked missing on the support card."""
    dialogue = Dialogue()
    dialogue.command("start")
    dialogue.tell("11月18日下午3点刷了5000，T+1，只到了4970")
    dialogue.press("x:slip_ok")
    for data in ("a:card_type:sale", "a:terminal:success", "a:records:success"):
        dialogue.press(data)
    dialogue.answer_all(["press:a:account:none", "press:x:confirm"])
    replies = list(dialogue.last)
    replies += dialogue.press("x:person")
    texts = [RENDERER.render(reply, locale).text for reply in replies]
    (card,) = [c for c in SAMPLES["support_card"] if c["facts"] == {"method": "card"}]
    texts.append(RENDERER.text("support_card", locale, card))
    joined = "\n".join(texts)
    for word in words:
        assert word in joined, word
