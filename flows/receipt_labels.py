"""The labels printed on a 签购单 and how OCR damages them: each field's Chinese and English label
patterns, and finding every label (and where its value starts) on one text line."""

import re
from dataclasses import dataclass

# ==================================================================================== labels

# Field keys used while reading; the ones not in SlipFields name labels whose values are
# recognised only so that they are not mistaken for another field's value.
DATE, TIME, DATETIME, TOTAL, CARD, IGNORED = "date", "time", "datetime", "total", "card", "-"

_NO = r"(?:N[O0]\.?|NUM(?:BER)?\.?|#)"
_CODE = r"C[O0]DE"  # "AUTH C0DE": OCR reads the label's O as a zero too
# A short Chinese label such as 时间 also occurs inside names ("时间咖啡馆"); it only counts
# as a label when what follows looks like a separator or the start of a value.
_CN_WEAK = r"(?=$|[\s:;(\[/0-9¥$.\-OolI|RrCc人])"


def _cn(pattern: str, *, weak: bool = False) -> str:
    return pattern + (_CN_WEAK if weak else "")


def _en(pattern: str, *, left: str = "", right: str = "") -> str:
    """English labels ignore case; `left`/`right` are the characters that may not touch them.

    Multi-word labels ("REF. NO.") are distinctive enough to be found glued to anything. Bare
    words ("BATCH") must not touch letters, and acronyms ("RRN") not even digits, because an
    auth code or id can contain them.
    """
    before = f"(?<![{left}])" if left else ""
    after = f"(?![{right}])" if right else ""
    return f"{before}(?i:{pattern}){after}"


_WORD = {"left": "A-Za-z0-9", "right": "A-Za-z"}
_ACRONYM = {"left": "A-Za-z0-9", "right": "A-Za-z0-9"}

# Tried in this order at each position; where two fields' labels start alike ("日期/时间" and
# "日期", "REFERENCE NO." and the remarks heading "REFERENCE") the longer one comes first.
_LABEL_SPECS: tuple[tuple[str, str], ...] = (
    ("merchant_name", _cn(r"(?:特约)?商户名称?")),
    ("merchant_name", _en(r"MERCHANT\s*NAME")),
    ("merchant_name", _en(r"MER(?:CH)?\.?\s*NAME", left="A-Za-z")),
    ("merchant_id", _cn(r"(?:特约)?商户(?:编号|号码?|代码|代号)")),
    ("merchant_id", _en(rf"MERCHANT\s*(?:{_NO}|ID|{_CODE})")),
    ("merchant_id", _en(rf"MER(?:CH)?\.?\s*(?:{_NO}|ID)", left="A-Za-z")),
    ("merchant_id", _en(r"MID", **_ACRONYM)),
    ("terminal_id", _cn(r"终端(?:编号|号码?|代码|ID)")),
    ("terminal_id", _en(rf"TERM(?:INAL)?\.?\s*(?:{_NO}|ID)")),
    ("terminal_id", _en(r"TERMINAL", **_WORD)),
    ("terminal_id", _en(r"TID", **_ACRONYM)),
    ("acquirer", _cn(r"收单(?:机构|银行|行|方)(?:名称)?")),
    ("acquirer", _en(r"ACQUIRING\s*BANK|ACQUIRER", left="A-Za-z0-9")),
    ("acquirer", _en(r"ACQ\.?", **_ACRONYM)),
    ("issuer", _cn(r"发卡(?:机构|银行|行|方)(?:名称)?")),
    ("issuer", _en(r"ISSUING\s*BANK|ISSUER", left="A-Za-z0-9")),
    ("issuer", _en(r"ISS\.?", **_ACRONYM)),
    (CARD, _cn(r"(?:银行)?卡号码?")),
    (CARD, _en(rf"CARD\s*{_NO}")),
    ("trans_type", _cn(r"交易(?:类型|类别|种类|名称)")),
    ("trans_type", _en(r"(?:TRANS(?:ACTION)?|TXN)\.?\s*TYPE")),
    ("batch", _cn(r"批次号码?") + "|" + _cn("批次", weak=True)),
    ("batch", _en(rf"BATCH\s*{_NO}")),
    ("batch", _en(r"BATCH", **_WORD)),
    ("voucher", _cn(r"凭证(?:号码?|编号)|(?:终端|POS|交易)?流水号") + "|" + _cn("凭证", weak=True)),
    ("voucher", _en(rf"(?:VOUCHER|TRACE)\s*{_NO}")),
    ("voucher", _en(r"VOUCHER|TRACE", **_WORD)),
    ("voucher", _en(r"STAN", **_ACRONYM)),
    ("auth_code", _cn(r"授权(?:码|号码?)")),
    ("auth_code", _en(rf"AUTH(?:ORI[SZ]ATION)?\.?\s*(?:{_NO}|{_CODE})")),
    ("auth_code", _en(rf"APP(?:R(?:OVAL)?)?\.?\s*(?:{_CODE}|{_NO})")),
    ("reference", _cn(r"(?:系统|检索|交易)?参考号码?")),
    ("reference", _en(rf"REF(?:ER(?:ENCE)?)?\.?\s*{_NO}")),
    ("reference", _en(r"RRN", **_ACRONYM)),
    (DATETIME, _cn(r"(?:交易)?日期\s*/?\s*时间")),
    (DATETIME, _en(r"DATE\s*(?:/|&|AND)?\s*TIME", left="A-Za-z", right="A-Za-z")),
    (DATE, _cn("交易日期") + "|" + _cn("日期", weak=True)),
    (DATE, _en(r"(?:TRANS\.?\s*)?DATE", left="A-Za-z", right="A-Za-z")),
    (TIME, _cn("交易时间") + "|" + _cn("时间", weak=True)),
    (TIME, _en(r"(?:TRANS\.?\s*)?TIME", left="A-Za-z", right="A-Za-z")),
    ("amount", _cn(r"(?:交易|消费)金额") + "|" + _cn("金额", weak=True)),
    # "AMOUNTRMB1280.50": the currency glued after the label is still a label boundary.
    ("amount", _en(r"AMOUNT|AMT", left="A-Za-z0-9") + r"(?:(?![A-Za-z])|(?=(?i:RMB|CNY)))"),
    (TOTAL, _cn(r"总金额|总计|合计", weak=True)),
    (TOTAL, _en(r"TOTAL", left="A-Za-z0-9") + r"(?:(?![A-Za-z])|(?=(?i:RMB|CNY|AMOUNT)))"),
    # Printed on slips but not wanted; recognised so their values are not read as another's.
    (IGNORED, _cn(r"卡?有效期|操作员号?|卡(?:类型|类别|种类?)|余额|小费|备注|持卡人签名|签名")),
    (IGNORED, _cn(r"(?:商户|持卡人|银行)存根")),
    (IGNORED, _en(r"EXP(?:IRY|IRATION)?\.?\s*DATE|VALID\s*THRU|CARD\s*TYPE")),
    (IGNORED, _en(rf"OPER(?:ATOR)?\.?\s*(?:{_NO}|ID)|CARDHOLDER\s*SIGNATURE")),
    (IGNORED, _en(r"OPERATOR|BALANCE|TIPS?|REMARKS?|REFERENCE|SIGNATURE", **_WORD)),
    (IGNORED, _en(r"EXP\.?", **_ACRONYM)),
)

# "原凭证号", "ORIG. REF. NO.": a void or refund reprints the original transaction's keys,
# which must not be taken for the keys of the slip itself.
_ORIGINAL = r"(?P<orig>原(?:交易)?|(?i:[O0]RIG(?:INAL)?|[O0]RG)\.?\s*)?"
_LABEL = re.compile(
    _ORIGINAL
    + "(?:"
    + "|".join(f"(?P<l{index}>{pattern})" for index, (_, pattern) in enumerate(_LABEL_SPECS))
    + ")"
)
# Between the two halves of a bilingual label: "商户编号(MERCHANT NO.)".
_LABEL_GAP = re.compile(r"[\s()\[\]/:;]*")
_VALUE_LEAD = " :;,=)]}/."
_VALUE_TRAIL = " :;,=([{/"


@dataclass(frozen=True)
class _Label:
    field: str
    start: int
    end: int
    original: bool


# Keys a slip reprints for the original transaction (原参考号, 原流水号).
_REPRINTED_KEYS = frozenset({"reference", "voucher"})


def _misread_prefix(line: str, start: int, spec_field: str) -> bool:
    """An unknown Chinese character glued before a key's label: 原 misread ("照参考号").

    The prefixes a key's own label has (检索, 系统, 终端...) are part of the label's pattern,
    so what is left in front can only be a prefix the OCR garbled, most likely the 原 of the
    original transaction's key: the label is ignored rather than taken for the slip's own.
    """
    if spec_field not in _REPRINTED_KEYS or start == 0:
        return False
    return "\u4e00" <= line[start - 1] <= "\u9fff"


def find_labels(line: str) -> list[_Label]:
    found: list[_Label] = []
    for match in _LABEL.finditer(line):
        group = match.lastgroup  # the label alternative, "l<index>"; "orig" never closes last
        if group is None:
            continue
        spec_field = _LABEL_SPECS[int(group[1:])][0]
        original = match["orig"] is not None or _misread_prefix(line, match.start(), spec_field)
        label = _Label(IGNORED if original else spec_field, match.start(), match.end(), original)
        if found:
            previous = found[-1]
            adjacent = _LABEL_GAP.fullmatch(line, previous.end, label.start) is not None
            if adjacent and (previous.field == label.field or previous.original):
                found[-1] = _Label(previous.field, previous.start, label.end, previous.original)
                continue
        found.append(label)
    return found


def clean(value: str) -> str:
    return value.lstrip(_VALUE_LEAD).rstrip(_VALUE_TRAIL)
