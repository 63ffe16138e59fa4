"""The one redaction function for every text that is stored or logged: `redact`.

Answers, relayed messages, transcripts, log records and exception messages all pass through
`redact` before they reach a database row or a log line. The domain forbids keeping full card
numbers, CVV2, PINs, passwords, SMS codes, expiry dates and full ID numbers, and PIPL treats
financial accounts as sensitive, so those are masked. The receipt keys a merchant needs for a trace
(12-digit reference, 8-char terminal, labelled 15-char merchant number, 6-digit voucher and batch
numbers, amounts, dates, case numbers, long QR order numbers) are deliberately left alone: a
redactor that eats them would make the bot useless.

Detection runs on one normalised copy of the text (`normalise`): NFKC, every Unicode decimal
digit as ASCII, dashes and invisible spaces as plain separators, middle dots as one, the
traditional forms of the label characters as simplified (密碼 -> 密码, 驗證碼 -> 验证码), spaces
between Chinese characters dropped (密 码 -> 密码), and runs of three or more Chinese numerals
read digit by digit (四八二九一六, 幺三八...). Full-width digits, traditional labels and spoken
numbers therefore meet the same rules as the textbook forms. An index map leads every position
of the copy back to the original, and the replacements are spliced into the original text, so
the mask sits exactly where the secret was and everything else stays as the merchant wrote it.

Separators between digit groups are not simply deleted: "1,280.50 2026-11-24" would become one
long number. The rules say which separators join one number instead: spaces and dashes (runs of
up to eight spaces) in any grouping, and one punctuation mark repeated (. , / _ ·) only in the
shapes cards, IDs and mobiles are written in.

Rules, in the order they claim text (a claimed span is invisible to later rules):

1. Protected receipt keys: a 15-char value after 商户号/merchant no., 8 after 终端号/terminal,
   12 after 参考号/reference, 6 after 凭证号/批次号/授权码/..., and case numbers (PB-20261125-0042).
2. Secrets: a CVV/PIN/password/verification-code label followed by a value containing a digit,
   or by 4-8 digits a few filler words later ("验证码我刚收到了 482915").
3. Expiry dates after 有效期/expiry/exp/valid thru.
4. Accounts: 8+ digits after 账号/卡号/account/acct/a/c.
5. ID numbers ending in X: 17 digits (optionally grouped) and X.
6. Punctuation-grouped numbers: one mark repeated between groups, shaped as a card (fours, or
   4-6-5), an 18-digit ID (checksum) or an 11-digit mobile; amounts are never so shaped
   (thousands groups, a currency sign or 元 next to them).
7. Codes and accounts written before their label ("短信里的 482915 就是验证码", "1234 is my
   PIN"), joined to it by a copula ("是", "is") or with the label ending the clause.
8. Cards in fours whatever mix of separators joins them ("6222.0214 3456-7892").
9. Card-like runs: digit groups joined by spaces or dashes (or by a line break next to a
   4-digit group) whose total is 15-19 digits. Luhn is not checked (some Chinese debit cards
   fail it); a contiguous run of 20+ digits is an order number and is kept. 18-digit runs with a
   valid ID checksum and birth date are reported as IDs.
10. Mainland mobile numbers, 11 digits in any space/dash grouping (not grouped by thousands),
    with an optional +86/0086 prefix (those standing alone are taken before rule 9, so
    "0086 138..." is not read as a card).

docs/privacy.md lists the forms caught and those deliberately not caught.

The folding lives in `flows.redaction_forms` and the patterns in `flows.redaction_patterns`;
the scan that applies the rules stays here, in one module over 500 lines, because the rules'
order is their meaning: each claims text that the rules after it no longer see, and reading
them apart would hide that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from flows.redaction_forms import fold, normalise
from flows.redaction_patterns import (
    ACCOUNT,
    ACCOUNT_ALONE,
    ACCOUNT_MIN,
    ANY_DIGIT,
    BLANK,
    CARD_GROUP,
    CARD_MAX,
    CARD_MIN,
    CASE_NUMBER,
    CLAUSE_END,
    COPULA,
    DIGIT_GROUP,
    DIGIT_THEN_GAP,
    DIGITS_AND_DASHES,
    EXPIRY,
    FILLER,
    GAP_THEN_DIGIT,
    ID_WITH_X,
    LINK,
    LOOK_BACK,
    MIXED_SEQUENCE,
    MOBILE,
    MOBILE_START,
    MONEY_AFTER,
    MONEY_BEFORE,
    NOT_A_CODE_AFTER,
    NUMBER_RUN,
    NUMBER_SEQUENCE,
    PROTECTED,
    PUNCT_SEQUENCE,
    SECRET_ALONE,
    SECRET_LABEL,
    SECRET_MIN,
    SECRET_TOKEN,
    SPACED_CODE_GROUP,
    SPACED_CODE_TOTAL,
    VALUE_BEFORE,
    WINDOW,
    card_mask,
    digits_of,
    looks_like_id,
)

__all__ = ["Finding", "Redaction", "mask_card", "redact", "redact_text"]


class Finding(StrEnum):
    """What kind of sensitive datum a redaction removed; callers pick warnings by it."""

    CARD = "card"
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    ACCOUNT = "account"
    SECRET = "secret"  # CVV, PIN, password, SMS/verification code
    EXPIRY = "expiry"


@dataclass(frozen=True)
class Redaction:
    """The redacted text and what was found, so callers can warn the merchant as well as store."""

    text: str
    findings: frozenset[Finding]

    @property
    def changed(self) -> bool:
        """Whether anything was masked (every mask records a finding)."""
        return bool(self.findings)

    @property
    def had_secret(self) -> bool:
        """The merchant sent a PIN, password or code: tell them to change it and to beware of
        fake "customer service", since official channels never ask for one."""
        return Finding.SECRET in self.findings


# ============================================================================== scanning


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    replacement: str | None  # None: protected, nothing to replace
    findings: frozenset[Finding]


class Scan:
    """The detection copy and the spans claimed so far; each rule sees only unclaimed text."""

    def __init__(self, folded: str) -> None:
        self.text = folded
        self.hits: list[_Hit] = []

    def claim(self, hits: list[_Hit]) -> None:
        """Record one rule's (non-overlapping) hits and blank them out for later rules."""
        if not hits:
            return
        hits.sort(key=lambda h: h.start)
        pieces: list[str] = []
        cursor = 0
        for hit in hits:
            pieces.append(self.text[cursor : hit.start])
            pieces.append(BLANK * (hit.end - hit.start))
            cursor = hit.end
        pieces.append(self.text[cursor:])
        self.text = "".join(pieces)
        self.hits.extend(h for h in hits if h.replacement is not None)

    def protect(self) -> None:
        for pattern in PROTECTED:
            self.claim(
                [_Hit(*m.span("value"), None, frozenset()) for m in pattern.finditer(self.text)]
            )
        self.claim([_Hit(*m.span(), None, frozenset()) for m in CASE_NUMBER.finditer(self.text)])

    def secrets(self) -> None:
        hits = []
        for m in SECRET_LABEL.finditer(self.text):
            span = self._secret_value(m.end())
            if span is None:
                span = self._secret_in_window(m.end())
            if span is not None:
                hits.append(_Hit(*span, "[secret]", frozenset({Finding.SECRET})))
        self.claim(_disjoint(hits))

    def secrets_before_labels(self) -> None:
        """Codes and accounts written before their label. Run after the grouped numbers are
        taken, so "6222.0214.3456.7892 是我的密码" loses no group of its card to the code."""
        found = frozenset({Finding.SECRET})
        self.claim(
            [
                _Hit(*span, "[secret]", found)
                for span in self._before_label(SECRET_ALONE, SECRET_MIN, SPACED_CODE_TOTAL)
            ]
        )
        self.claim(
            [
                _Hit(start, end, *masked)
                for start, end in self._before_label(ACCOUNT_ALONE, ACCOUNT_MIN, 40)
                if (masked := _account_mask(self.text[start:end])) is not None
            ]
        )

    def _secret_in_window(self, start: int) -> tuple[int, int] | None:
        """A code a few words after its label ("验证码我收到了 482915"): 4-8 digits, and
        neither a count, a time, an amount nor a phone's last digits. English words in between
        must end in "is"/"was"/":" ("the code I got was 482915")."""
        m = WINDOW.match(self.text, start)
        if m is None:
            return None
        filler, value = m.group("filler"), m.group("value")
        if not FILLER.fullmatch(filler) or NOT_A_CODE_AFTER.match(self.text, m.end()):
            return None
        if self._card_from(m.start("value")):
            return None
        if GAP_THEN_DIGIT.match(self.text, m.end()):  # part of a longer number: not a code
            return None
        groups = value.split(" ")
        digits = len(value) - len(groups) + 1
        if not 4 <= digits <= SPACED_CODE_TOTAL:
            return None
        if len(groups) > 1 and any(len(g) > SPACED_CODE_GROUP for g in groups):
            return None
        return m.span("value")

    def _card_from(self, start: int) -> bool:
        """A card-length number starts here, its groups joined by any separators ("6200 0100
        0100.0100 0"): left whole to the card rule, never cut into a code and a remainder."""
        run = MIXED_SEQUENCE.match(self.text, start)
        return run is not None and CARD_MIN <= len(digits_of(run.group())) <= CARD_MAX

    def _before_label(
        self, pattern: re.Pattern[str], fewest: int, most: int
    ) -> list[tuple[int, int]]:
        """Numbers written before their label ("482915 就是验证码"), joined to it by the few
        words `LINK` allows, with a copula or with the label ending the clause.

        Of a spaced number only the groups next to the label count ("1280 482915 是验证码":
        the code is 482915), as many as fit `most` digits.
        """
        spans = []
        for label in pattern.finditer(self.text):
            m = VALUE_BEFORE.search(self.text, max(0, label.start() - LOOK_BACK), label.start())
            if m is None:
                continue
            link = m.group("link")
            if not LINK.fullmatch(link):
                continue
            if not COPULA.search(link) and not CLAUSE_END.match(self.text, label.end()):
                continue
            groups = [g.span() for g in DIGIT_GROUP.finditer(self.text, *m.span("value"))]
            if sum(e - s for s, e in groups) >= CARD_MIN:  # a card, whatever it is called
                continue
            start, end = groups[-1]
            total = end - start
            for group_start, group_end in reversed(groups[:-1]):
                size = group_end - group_start
                if total + size > most or max(size, end - groups[-1][0]) > SPACED_CODE_GROUP:
                    break
                total += size
                start = group_start
            if fewest <= total <= most and not NOT_A_CODE_AFTER.match(self.text, end):
                spans.append((start, end))
        return spans

    def _secret_value(self, start: int) -> tuple[int, int] | None:
        """Where the secret after a label ends, or None if there is none to take.

        A value must contain a digit (a digit-free password is indistinguishable from prose).
        A spaced code ("384 912") is taken whole. A value that starts with a 15-19 digit number
        is left to the card rule, so a card after "PIN" is still reported (and masked) as a card.
        """
        token = SECRET_TOKEN.match(self.text, start)
        if token is None:
            return None
        value = token.group().rstrip(".-")
        if not ANY_DIGIT.search(value):
            return None
        end = start + len(value)
        punct = PUNCT_SEQUENCE.match(self.text, start)
        if punct is not None and any(
            run_start == start and self._punct_run(run_start, run_end) is not None
            for run_start, run_end in _uniform_runs(self.text, start, punct.end())
        ):
            return None  # "6222.0214.3456.7892" after "PIN" is still a card
        if self._card_from(start):
            return None
        groups: list[tuple[int, int]] = []
        run = NUMBER_RUN.match(self.text, start)
        if run is not None:
            groups = [g.span() for g in DIGIT_GROUP.finditer(self.text, start, run.end())]
            if CARD_MIN <= sum(e - s for s, e in groups) <= CARD_MAX:
                return None
        if not DIGITS_AND_DASHES.fullmatch(value) or any(
            len(part) > SPACED_CODE_GROUP for part in value.split("-")
        ):
            return (start, end) if len(value) >= SECRET_MIN else None
        taken = len(digits_of(value))
        for group_start, group_end in groups:
            size = group_end - group_start
            if group_start < end:  # part of the token itself
                continue
            if size > SPACED_CODE_GROUP or taken + size > SPACED_CODE_TOTAL:
                break
            taken += size
            end = group_end
        return (start, end) if taken >= SECRET_MIN else None

    def expiry(self) -> None:
        self._labelled(EXPIRY, lambda value: ("[expiry]", frozenset({Finding.EXPIRY})))

    def accounts(self) -> None:
        self._labelled(ACCOUNT, _account_mask)

    def _labelled(
        self,
        pattern: re.Pattern[str],
        mask: Callable[[str], tuple[str, frozenset[Finding]] | None],
    ) -> None:
        hits = []
        for m in pattern.finditer(self.text):
            masked = mask(m.group("value"))
            if masked is not None:
                hits.append(_Hit(m.start("value"), m.end("value"), *masked))
        self.claim(hits)

    def ids_with_x(self) -> None:
        if "x" not in self.text:
            return
        found = frozenset({Finding.ID_NUMBER})
        self.claim([_Hit(*m.span(), "[ID ****]", found) for m in ID_WITH_X.finditer(self.text)])

    def punct_runs(self) -> None:
        """Numbers grouped by one repeated punctuation mark: a card in groups of four (or
        4-6-5), an 18-digit ID, a mobile. Anything else so grouped is an amount, a date, an
        address or a version and stays: "1,280,000.50", "2026/11/24", "13,800,000,000"."""
        hits = []
        for m in PUNCT_SEQUENCE.finditer(self.text):
            for start, end in _uniform_runs(self.text, m.start(), m.end()):
                hit = self._punct_run(start, end)
                if hit is not None:
                    hits.append(hit)
        self.claim(_disjoint(hits))

    def mixed_fours(self) -> None:
        """A card in fours whatever joins its groups ("6222.0214 3456-7892"): four or more
        groups of four, and a shorter last group if any. Other mixed groupings stay (an amount
        next to a date)."""
        hits = []
        for m in MIXED_SEQUENCE.finditer(self.text):
            groups = [g.span() for g in DIGIT_GROUP.finditer(self.text, m.start(), m.end())]
            index = 0
            while index < len(groups):
                last = index
                while last < len(groups) and groups[last][1] - groups[last][0] == CARD_GROUP:
                    last += 1
                if last < len(groups) and last > index and groups[last][1] - groups[last][0] < 4:
                    last += 1  # the shorter last group
                sizes = [e - s for s, e in groups[index:last]]
                window = (0, len(sizes) - 1) if _card_grouping(sizes) else None
                window = window or _card_in_fives(sizes, joined_before=index > 0)
                if len(sizes) >= 4 and window is not None:
                    start, end = groups[index + window[0]][0], groups[index + window[1]][1]
                    digits = digits_of(self.text[start:end])
                    if digits[0] != "0":
                        hits.append(_Hit(start, end, card_mask(digits), frozenset({Finding.CARD})))
                index = max(last, index + 1)
        self.claim(hits)

    def _punct_run(self, start: int, end: int) -> _Hit | None:
        if MONEY_BEFORE.search(self.text, max(0, start - 4), start) or MONEY_AFTER.match(
            self.text, end
        ):
            return None
        sizes = [len(g) for g in DIGIT_GROUP.findall(self.text, start, end)]
        digits = digits_of(self.text[start:end])
        if thousands(sizes):
            return None
        if len(digits) == 18 and looks_like_id(digits):
            return _Hit(start, end, "[ID ****]", frozenset({Finding.ID_NUMBER}))
        if _card_grouping(sizes) and digits[0] != "0":
            return _Hit(start, end, card_mask(digits), frozenset({Finding.CARD}))
        five = _card_in_fives(sizes, bool(_JOINED_BEFORE.search(self.text, 0, start)))
        if five is not None:
            groups = [g.span() for g in DIGIT_GROUP.finditer(self.text, start, end)]
            first, last = groups[five[0]][0], groups[five[1]][1]
            card = digits_of(self.text[first:last])
            if card[0] != "0":
                return _Hit(first, last, card_mask(card), frozenset({Finding.CARD}))
        if len(digits) == 11 and MOBILE_START.match(digits):
            return _Hit(start, end, f"[mobile ****{digits[-4:]}]", frozenset({Finding.MOBILE}))
        return None

    def card_runs(self) -> None:
        hits = []
        for m in NUMBER_SEQUENCE.finditer(self.text):
            if m.end() - m.start() < CARD_MIN:  # cannot hold 15 digits: most numbers
                continue
            for groups in self._split_at_line_breaks(m.start(), m.end()):
                for first, last in _card_windows([e - s for s, e in groups]):
                    start, end = groups[first][0], groups[last][1]
                    digits = digits_of(self.text[start:end])
                    if looks_like_id(digits):
                        found, mask = frozenset({Finding.ID_NUMBER}), "[ID ****]"
                    else:
                        found, mask = frozenset({Finding.CARD}), card_mask(digits)
                    hits.append(_Hit(start, end, mask, found))
        self.claim(hits)

    def _split_at_line_breaks(self, start: int, end: int) -> list[list[tuple[int, int]]]:
        """The digit groups of one sequence, cut at line breaks that do not wrap a card.

        "6222 0212" + newline + "3456 7890 123" is one card wrapped by hand; a reference number
        on one line and a voucher number on the next are two receipt keys.
        """
        runs: list[list[tuple[int, int]]] = [[]]
        previous: tuple[int, int] | None = None
        for group in DIGIT_GROUP.finditer(self.text, start, end):
            span = group.span()
            if (
                previous is not None
                and "\n" in self.text[previous[1] : span[0]]
                and not _wrapped_card_groups(previous[1] - previous[0], span[1] - span[0])
            ):
                runs.append([])
            runs[-1].append(span)
            previous = span
        return runs

    def mobiles(self, *, standalone: bool) -> None:
        """Mobile numbers; with `standalone`, only those not joined to other digits by a gap.

        Standalone ones go before the card rule so "0086 138 1234 5678" (15 digits) reads as a
        mobile; the rest go after it, so a card group that happens to look like a mobile
        ("6222 13812345678 0123") is masked as part of the card.
        """
        found = frozenset({Finding.MOBILE})
        hits = []
        for m in MOBILE.finditer(self.text):
            if standalone and (
                GAP_THEN_DIGIT.match(self.text, m.end())
                or DIGIT_THEN_GAP.search(self.text, max(0, m.start() - 9), m.start())
            ):
                continue
            if thousands([len(g) for g in DIGIT_GROUP.findall(m.group())]):
                continue
            hits.append(_Hit(*m.span(), f"[mobile ****{m.group()[-4:]}]", found))
        self.claim(hits)


def _uniform_runs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The stretches of three or more digit groups joined by the same separator each time:
    "6222,110000.19900307.1233" holds one ("110000.19900307.1233"), "1,280.50" none."""
    groups = [g.span() for g in DIGIT_GROUP.finditer(text, start, end)]
    runs: list[tuple[int, int]] = []
    first = 0
    for index in range(1, len(groups) + 1):
        if index < len(groups) and (
            index == first + 1
            or text[groups[index - 1][1] : groups[index][0]]
            == text[groups[first][1] : groups[first + 1][0]]
        ):
            continue
        if index - first >= 3:
            runs.append((groups[first][0], groups[index - 1][1]))
        first = index - 1
    return runs


def _account_mask(value: str) -> tuple[str, frozenset[Finding]] | None:
    digits = digits_of(value)
    if len(digits) < ACCOUNT_MIN:
        return None
    found = {Finding.ACCOUNT}
    if CARD_MIN <= len(digits) <= CARD_MAX:
        found.add(Finding.CARD)
    return f"[account ****{digits[-4:]}]", frozenset(found)


def thousands(sizes: list[int]) -> bool:
    """Groups as an amount is written ("13 800 000 000", "1,280,000"): 1-3 digits, then 3s."""
    return len(sizes) >= 3 and sizes[0] <= 3 and all(size == 3 for size in sizes[1:])


def _card_grouping(sizes: list[int]) -> bool:
    """How cards are printed: fours with a shorter last group (4-4-4-4, 4-4-4-4-3), or the
    4-6-5 of 15-digit cards. More fours than one card has are several cards in a row."""
    if sizes == [4, 6, 5]:
        return True
    return (
        len(sizes) >= 4
        and all(size == CARD_GROUP for size in sizes[:-1])
        and 1 <= sizes[-1] <= CARD_GROUP
        and CARD_MIN <= sum(sizes) <= CARD_MAX
    )


#: A digit group joined by a separator right before a position.
_JOINED_BEFORE = re.compile(r"[0-9][ \-.,/_·]\Z")


def _card_in_fives(sizes: list[int], joined_before: bool) -> tuple[int, int] | None:
    """Five groups of four hold a card and one more number: the card is the last four groups
    when the run is joined to a number before it ("身份证 110000 20010101 0008，6200 0000 0000
    0000"), else the first four ("6200,0100,0100,0100，0000 就是验证码"). (first, last) indexes."""
    if sizes != [CARD_GROUP] * 5:
        return None
    return (1, 4) if joined_before else (0, 3)


def _disjoint(hits: list[_Hit]) -> list[_Hit]:
    """The first of overlapping hits (two labels can reach for the same value)."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: h.start):
        if not kept or hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


def _wrapped_card_groups(before: int, after: int) -> bool:
    """Whether groups of these sizes on two lines read as one card wrapped by hand: 4-digit
    groups, the last one possibly shorter ("7890" / "123")."""
    return max(before, after) == CARD_GROUP


def _card_windows(lengths: list[int]) -> list[tuple[int, int]]:
    """Maximal stretches of digit groups covered by some window of 15-19 digits in total.

    Groups are the digit runs of one separator-joined number. A card typed as "6222 0212 3456
    7890 123", or glued to a terminal number by a space, is covered; two receipt keys side by
    side ("12345678 312345678901", 20 digits) are not. Linear in the number of groups (two
    pointers), so a hostile "1 1 1 1 ..." message stays cheap.
    """
    count = len(lengths)
    covered = [False] * count
    reach = -1  # the last group covered by a qualifying window started so far
    right = 0  # exclusive end of the longest window from `left` within the maximum
    total = 0
    for left in range(count):
        right = max(right, left)
        if right == left:
            total = 0
        while right < count and total + lengths[right] <= CARD_MAX:
            total += lengths[right]
            right += 1
        if right > left and total >= CARD_MIN:
            reach = max(reach, right - 1)
        covered[left] = left <= reach
        if right > left:
            total -= lengths[left]
    stretches: list[tuple[int, int]] = []
    index = 0
    while index < count:
        if covered[index]:
            first = index
            while index + 1 < count and covered[index + 1]:
                index += 1
            stretches.append((first, index))
        index += 1
    return stretches


def _apply(text: str, origin: list[int] | None, hits: list[_Hit]) -> str:
    """Splice the masks into the original text (mapping folded positions back if needed)."""
    spans: list[tuple[int, int, str]] = []
    for hit in sorted(hits, key=lambda h: h.start):
        assert hit.replacement is not None
        if origin is None:
            start, end = hit.start, hit.end
        else:
            start, end = origin[hit.start], origin[hit.end - 1] + 1
        if spans and start < spans[-1][1]:  # two hits inside one expanded character
            previous = spans.pop()
            spans.append((previous[0], max(end, previous[1]), previous[2] + hit.replacement))
        else:
            spans.append((start, end, hit.replacement))
    pieces: list[str] = []
    cursor = 0
    for start, end, replacement in spans:
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


# ============================================================================ public API


def redact(text: str) -> Redaction:
    """Mask every card, ID, mobile, account number, secret and expiry date in `text`.

    Idempotent (masks are not re-detected) and linear in the text; text without any digit is
    returned unchanged, since every rule needs one.
    """
    normalised = normalise(text)
    if normalised is None:
        return Redaction(text, frozenset())
    folded, origin = normalised
    scan = Scan(folded)
    scan.protect()
    scan.secrets()
    scan.expiry()
    scan.accounts()
    scan.ids_with_x()
    # Cards in fours before other groupings: "4000 1300.0000.000" is a card, not a mobile.
    scan.mixed_fours()
    scan.punct_runs()
    scan.secrets_before_labels()
    scan.mobiles(standalone=True)
    scan.card_runs()
    scan.mobiles(standalone=False)
    if not scan.hits:
        return Redaction(text, frozenset())
    findings = frozenset(f for hit in scan.hits for f in hit.findings)
    return Redaction(_apply(text, origin, scan.hits), findings)


def redact_text(text: str) -> str:
    """`redact(text).text`, for log filters and storage code that only need the safe string."""
    return redact(text).text


def mask_card(number: str) -> str:
    """A card number as a POS slip prints it: at most its first six and last four digits shown,
    e.g. "6222021234567890123" -> "622202*********0123".

    The one card masker: slips read by OCR, and card numbers found in names read off a slip.
    Spaces, dashes and full-width digits are accepted, stars already printed stay stars and
    count towards the length. Fewer than 13 digits and stars is no card number (a PIN passed
    here by mistake): nothing of it is shown.
    """
    plain = "".join(c for c in fold(number)[0] if "0" <= c <= "9" or c == "*")
    if len(plain) < 13:
        return "*" * len(plain)
    return plain[:6] + "*" * (len(plain) - 10) + plain[-4:]
