"""When the merchant paid: "昨天下午3点", "11/28 14:03", "last Friday 4pm", "3天前".

A date that reads two ways (3/4) is asked back with both readings, never guessed; a moment in the
future (beyond a clock's drift) is refused. The forms themselves are the table in
`flows.date_rules`; this module prepares the text, runs the table and checks the result.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flows.answers import CN_DIGIT_VALUES, SHANGHAI, InvalidAnswer, normalize_text, unrecognised
from flows.date_rules import WHEN_RULES, add_days

__all__ = ["FUTURE_TOLERANCE", "AmbiguousWhen", "When", "parse_when"]

# Clocks on phones and POS terminals drift; a merchant answering "14:03" at 14:00 is not lying.
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class When:
    """A payment moment as precisely as the merchant could say it.

    The time stays None instead of defaulting to midnight so that "some time yesterday" can be
    told apart from "yesterday at 00:00" when matching against the bank's records.
    """

    day: date
    time: time | None

    def as_datetime(self) -> datetime:
        """Midnight stands in for an unknown time so day-only answers still sort and compare."""
        clock = self.time if self.time is not None else time(0)
        return datetime.combine(self.day, clock, tzinfo=SHANGHAI)


class AmbiguousWhen(InvalidAnswer):
    """A date such as 3/4 that reads as 4 March or 3 April: the merchant must choose.

    `options` holds both readings (with the time, if one was typed), the month-first reading
    first. It is an InvalidAnswer so that callers that cannot ask back refuse it, never guess.
    """

    def __init__(self, options: tuple[When, When]) -> None:
        super().__init__("ambiguous")
        self.options = options


# Weekday names are rewritten before numerals so "周三十点" reads as Wednesday 10:00, not "周30点".
_WEEKDAY_NAME = re.compile(r"(周|星期|礼拜)\s*([一二三四五六七日天])")
_WEEKDAY_NUMBER = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "日": 7, "天": 7}
_CN_NUMERAL_RUN = re.compile(r"[零〇一二两三四五六七八九十]+")

_ISO_T = re.compile(r"(?<=[0-9])t(?=[0-9])")
_PUNCTUATION = re.compile(r"[,，。!！?？~～、;；()（）\[\]【】\"'“”‘’…]|\.(?=\s|$)")
_NOISE_CN = re.compile(
    "|".join(
        [
            "应该是",
            "应该",
            "可能是",
            "可能",
            "大概",
            "大约",
            "大致",
            "约莫",
            "差不多",
            "好像",
            "似乎",
            "估计",
            "左右",
            "前后",
            "的时候",
            "时候",
            "那天",
            "那会儿",
            "那会",
            "当时",
            "刷的卡",
            "刷卡",
            "刷的",
            "刷了",
            "交易",
            "付款",
            "消费",
            "约",
            "是",
            "(?<!现)在",
            "的",
            "了",
            "吧",
            "呢",
            "啊",
            "呀",
            "哦",
            "嗯",
        ]
    )
)
_NOISE_EN = re.compile(
    r"\b(?:around|about|approximately|approx|roughly|maybe|probably|sometime|circa"
    r"|at|on|in|the|of|ish)\b"
)


def _small_cn_numeral(match: re.Match[str]) -> str:
    run = match.group()
    if "十" not in run:
        # 二〇二六 is written digit by digit.
        return "".join(str(CN_DIGIT_VALUES[char]) for char in run)
    tens, _, units = run.partition("十")
    if len(tens) > 1 or len(units) > 1 or "十" in units:
        return run  # not a day or hour; leave it to fail as unrecognised
    value = (CN_DIGIT_VALUES[tens] if tens else 1) * 10 + (CN_DIGIT_VALUES[units] if units else 0)
    return str(value)


# "this afternoon at 2:30" is 14:30: an English part of the day carries on to the clock after it,
# as 下午 does, unless that clock says am or pm itself.
_EN_PART_OF_DAY = {
    "morning": "上午",
    "afternoon": "下午",
    "evening": "晚上",
    "night": "晚上",
    "tonight": "晚上",
}
_EN_PART_BEFORE_CLOCK = re.compile(
    r"\b(?P<part>morning|afternoon|evening|night|tonight)\b(?P<gap>\s*(?:at\s*)?)"
    r"(?=[0-9]{1,2}\s*:\s*[0-9]{2}(?![0-9])(?!\s*[ap]\.?m))"
)


def _prepare_when_text(text: str) -> str:
    s = normalize_text(text).lower()
    s = _EN_PART_BEFORE_CLOCK.sub(
        lambda m: f"{m['part']}{m['gap']} {_EN_PART_OF_DAY[m['part']]} ", s
    )
    s = _ISO_T.sub(" ", s)
    s = _PUNCTUATION.sub(" ", s)
    s = _WEEKDAY_NAME.sub(lambda m: f"{m.group(1)}{_WEEKDAY_NUMBER[m.group(2)]} ", s)
    s = _CN_NUMERAL_RUN.sub(_small_cn_numeral, s)
    s = _NOISE_CN.sub(" ", s)
    s = _NOISE_EN.sub(" ", s)
    return " ".join(s.split())


def parse_when(text: str, now: datetime) -> When:
    """Read a payment moment; refuse anything in the future, since a payment cannot be."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(SHANGHAI)
    today = local_now.date()
    s = _prepare_when_text(text)

    day: date | None = None
    readings: tuple[date, ...] = ()
    clock: time | None = None
    shift = 0
    pos = 0
    while pos < len(s):
        if s[pos] == " ":
            pos += 1
            continue
        for rule in WHEN_RULES:
            has_date = day is not None or bool(readings)
            if (rule.sets_date and has_date) or (rule.sets_time and clock is not None):
                continue
            match = rule.pattern.match(s, pos)
            if match is None or match.end() == pos:
                continue
            piece = rule.handler(match, local_now)
            if piece.day is not None:
                day = piece.day
            readings = readings or piece.readings
            if piece.clock is not None:
                clock, shift = piece.clock, piece.shift
            pos = match.end()
            break
        else:
            raise unrecognised()

    if day is None and not readings and clock is None:
        raise unrecognised()
    if not readings:
        # A bare time means today; a bare "晚上12点" means the night that has just ended.
        return _checked_when(day or add_days(today, -shift), clock, shift, local_now)
    options: list[When] = []
    for reading in readings:
        try:
            options.append(_checked_when(reading, clock, shift, local_now))
        except InvalidAnswer:
            continue  # a reading in the future cannot be the payment
    if not options:
        raise InvalidAnswer("future")
    if len(options) == 1:
        return options[0]
    raise AmbiguousWhen((options[0], options[1]))


def _checked_when(day: date, clock: time | None, shift: int, local_now: datetime) -> When:
    """The moment named, refused when it lies in the future, since a payment cannot."""
    day = add_days(day, shift)
    today = local_now.date()
    if day > today:
        raise InvalidAnswer("future")
    if (
        clock is not None
        and day == today
        and datetime.combine(day, clock, tzinfo=SHANGHAI) > local_now + FUTURE_TOLERANCE
    ):
        raise InvalidAnswer("future")
    return When(day, clock)


# =============================================================================== parse_amount
