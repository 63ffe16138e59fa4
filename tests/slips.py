"""Synthetic POS sales slips (签购单) as photos, for the OCR tests and the accuracy benchmark.

`make_slip(seed)` prints a slip with Pillow in a CJK font (Debian's fonts-wqy-microhei), in one
of five layouts (Chinese labels; bilingual "商户编号(MERCHANT NO.)" labels as on UnionPay
terminals; English labels; and a Chinese and an English one whose labels, date forms and
amount forms are drawn from the other wordings terminals print: 流水号, 检索参考号, 2026-11-24,
¥1,280.50, TID, RRN...), then spoils it the way phone photos of thermal paper are spoilt
(tilt, blur, sensor noise, low contrast, faded print, a keystone from a phone held at an angle,
heavy JPEG compression as messengers apply it). Everything comes from the seed, so a
failing slip can be rebuilt and looked at. What was printed comes back beside the image, in the
form `SlipFields.found()` gives, so a reading can be checked field by field with `score`.

Slips also carry what a real one carries and must not be read as a field: the operator number,
the card's expiry date, the original voucher and reference of a void or refund, the footer.
"""

from __future__ import annotations

import io
import random
import statistics
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from flows.answers import SHANGHAI

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
#: Install command for the font (Debian/Ubuntu), as CI runs it.
FONT_PACKAGE = "fonts-wqy-microhei"

LAYOUTS = ("chinese", "bilingual", "english", "chinese_alt", "english_alt")
#: One name per look; "photo" is the realistic mix (tilted on a table, uneven light, soft focus,
#: noise, taken from further away, JPEG).
DEGRADATIONS = (
    "clean",
    "rotate",
    "blur",
    "noise",
    "low_contrast",
    "thermal_fade",
    "perspective",
    "jpeg",
    "photo",
)

#: Slips are dated in the half year before this moment; pass it as `now` when extracting.
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)

#: Fields as `SlipFields.found()` names them, in slip order.
FIELDS = (
    "merchant_name",
    "merchant_id",
    "terminal_id",
    "acquirer",
    "issuer",
    "card_masked",
    "trans_type",
    "batch",
    "voucher",
    "auth_code",
    "reference",
    "day",
    "time",
    "amount",
)
#: Free text: compared on letters and digits only, since OCR may drop the space in "BANK OF
#: CHINA" and the extractor the full stop of "TRADING CO.".
TEXT_FIELDS = frozenset({"merchant_name", "acquirer", "issuer"})


def font_available() -> bool:
    return FONT_PATH.is_file()


# ==================================================================================== values

_CITIES = ("北京", "上海", "广州", "深圳", "杭州", "成都", "南京", "武汉", "西安", "苏州")
_BRANDS = ("鑫源", "巧味", "福满楼", "金莲", "老街", "顺达", "和记", "晨光", "四季", "聚福")
_KINDS = ("便利店", "餐饮有限公司", "茶庄", "超市", "五金店", "服装店", "药房", "面馆", "烘焙坊")
_EN_FIRST = ("GOLDEN", "JADE", "LUCKY", "RED", "SILVER", "EASTERN", "HAPPY", "GRAND")
_EN_SECOND = ("LOTUS", "DRAGON", "BAMBOO", "PEARL", "PHOENIX", "GARDEN", "HARBOUR")
_EN_KINDS = ("TEA HOUSE", "NOODLE BAR", "MART", "BAKERY", "TRADING CO.", "PHARMACY")
# (Chinese, English) bank and acquirer names.
_BANKS = (
    ("工商银行", "ICBC"),
    ("建设银行", "CHINA CONSTRUCTION BANK"),
    ("中国银行", "BANK OF CHINA"),
    ("农业银行", "AGRICULTURAL BANK OF CHINA"),
    ("交通银行", "BANK OF COMMUNICATIONS"),
    ("招商银行", "CHINA MERCHANTS BANK"),
    ("民生银行", "CMBC"),
    ("浦发银行", "SPD BANK"),
    ("平安银行", "PING AN BANK"),
)
_ACQUIRERS = (
    ("银联商务", "CHINA UMS", "48480000"),
    ("中国银行", "BANK OF CHINA", "01040000"),
    ("工商银行", "ICBC", "01020000"),
    ("拉卡拉", "LAKALA", "48450000"),
    ("通联支付", "ALLINPAY", "48470000"),
)
_BINS = ("622202", "621700", "622588", "621661", "623052", "436742", "625807", "622848")
# Letters an auth code is printed with here: not ones the extractor must refuse as look-alike
# digits (O, I, S, B, G, Z, Q, D), so a dropped code is a reading failure, not a design choice.
_AUTH_LETTERS = "ACEFHJKLMNPRTUVWXY"
# kind -> (Chinese, bilingual, English) as printed after the trans type label.
_TRANS = {
    "sale": (("消费",), ("消费(SALE)", "消费/SALE"), ("SALE",)),
    "preauth": (("预授权",), ("预授权(AUTH)", "预授权/AUTH"), ("PRE-AUTH", "AUTH")),
    "void": (("消费撤销", "撤销"), ("消费撤销(VOID)", "撤销/VOID"), ("VOID",)),
    "refund": (("退货",), ("退货(REFUND)", "退货/REFUND"), ("REFUND",)),
}
_TRANS_WEIGHTS = {"sale": 6, "preauth": 1, "void": 2, "refund": 1}
# Which of the three printed forms above each layout uses.
_TRANS_COLUMN = {"chinese": 0, "bilingual": 1, "english": 2, "chinese_alt": 1, "english_alt": 2}


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _auth_code(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return _digits(rng, 6)
    chars = [rng.choice("0123456789") for _ in range(6)]
    for index in rng.sample(range(6), rng.randint(1, 3)):
        chars[index] = rng.choice(_AUTH_LETTERS)
    return "".join(chars)


def _amount(rng: random.Random) -> Decimal:
    yuan = rng.choice(
        [
            rng.randint(1, 99),
            rng.randint(100, 999),
            rng.randint(1000, 9999),
            rng.randint(10000, 49999),
        ]
    )
    cents = rng.choice([0, 0, 50, rng.randint(1, 99)])
    return Decimal(f"{yuan}.{cents:02d}")


def _grouped(amount: Decimal) -> str:
    return f"{amount:,.2f}"


@dataclass(frozen=True)
class _Values:
    """One transaction: printed text by field, and what the extractor should return."""

    printed: dict[str, str]
    expected: dict[str, str]
    extras: dict[str, str]  # printed decoys: operator, expiry, original voucher/reference


def _values(rng: random.Random, layout: str) -> _Values:
    english = layout.startswith("english")
    if english:
        name = f"{rng.choice(_EN_FIRST)} {rng.choice(_EN_SECOND)} {rng.choice(_EN_KINDS)}"
    else:
        name = rng.choice(_CITIES) + rng.choice(_BRANDS) + rng.choice(_KINDS)
    acquirer_cn, acquirer_en, acquirer_code = rng.choice(_ACQUIRERS)
    acquirer = acquirer_en if english else acquirer_cn
    if rng.random() < 0.4:
        acquirer = f"{acquirer} {acquirer_code}"
    issuer_cn, issuer_en = rng.choice(_BANKS)
    issuer = issuer_en if english else issuer_cn
    bin_, last4 = rng.choice(_BINS), _digits(rng, 4)
    pan_length = rng.choice((16, 16, 16, 19))
    card = bin_ + "*" * (pan_length - 10) + last4
    kind = rng.choices(list(_TRANS_WEIGHTS), weights=list(_TRANS_WEIGHTS.values()))[0]
    trans = rng.choice(_TRANS[kind][_TRANS_COLUMN[layout]])
    moment = NOW - timedelta(days=rng.randint(1, 180), seconds=rng.randint(0, 86_399))
    amount = _amount(rng)
    printed = {
        "merchant_name": name,
        "merchant_id": rng.choice(("898", "102", "310", "440")) + _digits(rng, 12),
        "terminal_id": _digits(rng, 8),
        "acquirer": acquirer,
        "issuer": issuer,
        "card_masked": card,
        "trans_type": trans,
        "batch": _digits(rng, 6),
        "voucher": _digits(rng, 6),
        "auth_code": _auth_code(rng),
        "reference": _digits(rng, 12),
        "day": moment.strftime("%Y/%m/%d"),
        "time": moment.strftime("%H:%M:%S"),
        "amount": _grouped(amount),
    }
    expected = dict(printed)
    expected.update(
        trans_type=kind,
        day=moment.date().isoformat(),
        time=moment.time().replace(microsecond=0).isoformat(),
        amount=str(amount),
    )
    extras = {
        "operator": rng.choice(("01", "02", "001")),
        "expiry": f"{rng.randint(2027, 2032)}/{rng.randint(1, 12):02d}",
        "orig_voucher": _digits(rng, 6) if kind in ("void", "refund") else "",
        "orig_reference": _digits(rng, 12) if kind in ("void", "refund") else "",
        "card_mode": rng.choice(("", " /C", " /S", " /I", " (C)")),
    }
    return _Values(printed, expected, extras)


# =================================================================================== layouts


@dataclass(frozen=True)
class _Row:
    """A printed line: left text, optional right-aligned text, or centred (a heading)."""

    left: str
    right: str = ""
    centre: bool = False
    scale: float = 1.0


def _money(values: _Values) -> str:
    sign = "-" if values.expected["trans_type"] in ("void", "refund") else ""
    return f"RMB {sign}{values.printed['amount']}"


def _chinese(values: _Values, rng: random.Random) -> list[_Row]:
    p, x = values.printed, values.extras
    aligned = rng.random() < 0.5  # labels on the left, values flush right

    def kv(label: str, value: str) -> _Row:
        return _Row(f"{label}:", value) if aligned else _Row(f"{label}:{value}")

    rows = [
        _Row("中国银联 签购单", centre=True, scale=1.3),
        _Row("商户存根", centre=True),
        _Row("-" * 30, centre=True),
        _Row(f"商户名称:{p['merchant_name']}"),
        kv("商户编号", p["merchant_id"]),
        _Row(f"终端编号:{p['terminal_id']}", f"操作员号:{x['operator']}"),
        kv("收单机构", p["acquirer"]),
        kv("发卡行", p["issuer"]),
        _Row("卡号:"),
        _Row(p["card_masked"] + x["card_mode"]),
        kv("有效期", x["expiry"]),
        kv("交易类型", p["trans_type"]),
    ]
    if rng.random() < 0.5:
        rows.append(_Row(f"批次号:{p['batch']}", f"凭证号:{p['voucher']}"))
    else:
        rows += [kv("批次号", p["batch"]), kv("凭证号", p["voucher"])]
    rows += [kv("授权码", p["auth_code"]), kv("参考号", p["reference"])]
    if rng.random() < 0.5:
        rows.append(_Row(f"日期/时间:{p['day']} {p['time']}"))
    else:
        rows += [kv("日期", p["day"]), kv("时间", p["time"])]
    rows += [kv("金额", _money(values)), _Row("-" * 30, centre=True), _Row("备注:")]
    if x["orig_voucher"]:
        rows += [_Row(f"原凭证号:{x['orig_voucher']}"), _Row(f"原参考号:{x['orig_reference']}")]
    rows += [
        _Row("持卡人签名:"),
        _Row(""),
        _Row("本人确认以上交易,同意将其记入本卡账户", scale=0.85),
    ]
    return rows


def _bilingual(values: _Values, rng: random.Random) -> list[_Row]:
    p, x = values.printed, values.extras

    def kv(label: str, value: str, *, below: bool | None = None) -> list[_Row]:
        if below is None:
            below = rng.random() < 0.5
        return [_Row(f"{label}:"), _Row(value)] if below else [_Row(f"{label}:{value}")]

    rows = [
        _Row("银联商务 POS签购单", centre=True, scale=1.3),
        _Row("商户存根 MERCHANT COPY", centre=True),
        *kv("商户名称(MERCHANT NAME)", p["merchant_name"], below=True),
        *kv("商户编号(MERCHANT NO.)", p["merchant_id"], below=True),
        *kv("终端编号(TERMINAL NO.)", p["terminal_id"], below=False),
        _Row(f"操作员号(OPERATOR NO.):{x['operator']}"),
        *kv("收单机构(ACQUIRER)", p["acquirer"]),
        *kv("发卡行(ISSUER)", p["issuer"]),
        *kv("卡号(CARD NO.)", p["card_masked"] + x["card_mode"], below=True),
        _Row(f"有效期(EXP. DATE):{x['expiry']}"),
        *kv("交易类型(TRANS TYPE)", p["trans_type"]),
        *kv("批次号(BATCH NO.)", p["batch"], below=False),
        *kv("凭证号(VOUCHER NO.)", p["voucher"], below=False),
        *kv("授权码(AUTH NO.)", p["auth_code"], below=False),
        *kv("参考号(REFER NO.)", p["reference"]),
        *kv("日期/时间(DATE/TIME)", f"{p['day']} {p['time']}", below=True),
        *kv("金额(AMOUNT)", _money(values), below=True),
        _Row("备注(REFERENCE):"),
    ]
    if x["orig_voucher"]:
        rows += [
            _Row(f"原凭证号(ORIG. VOUCHER):{x['orig_voucher']}"),
            _Row(f"原参考号(ORIG. REF. NO.):{x['orig_reference']}"),
        ]
    rows += [
        _Row("持卡人签名(CARDHOLDER SIGNATURE):"),
        _Row(""),
        _Row("本人确认以上交易,同意将其记入本卡账户", scale=0.85),
        _Row("I ACKNOWLEDGE SATISFACTORY RECEIPT", scale=0.85),
        _Row("OF RELATIVE GOODS/SERVICES", scale=0.85),
    ]
    return rows


def _english(values: _Values, rng: random.Random) -> list[_Row]:
    p, x = values.printed, values.extras
    compact = rng.random() < 0.5
    day = datetime.strptime(p["day"], "%Y/%m/%d")
    rows = [
        _Row("CHINA UNIONPAY", centre=True, scale=1.3),
        _Row("MERCHANT COPY", centre=True),
        _Row(f"MERCHANT NAME: {p['merchant_name']}"),
        _Row(f"MERCHANT NO.: {p['merchant_id']}"),
        _Row(f"TERMINAL NO.: {p['terminal_id']}", f"OPERATOR: {x['operator']}"),
        _Row(f"ACQUIRER: {p['acquirer']}"),
        _Row(f"ISSUER: {p['issuer']}"),
        _Row(f"CARD NO.: {p['card_masked']}{x['card_mode']}"),
        _Row(f"EXP. DATE: {x['expiry'][5:]}/{x['expiry'][2:4]}"),
        _Row(f"TRANS TYPE: {p['trans_type']}"),
        _Row(f"BATCH NO.: {p['batch']}", f"TRACE NO.: {p['voucher']}"),
        _Row(f"AUTH CODE: {p['auth_code']}"),
        _Row(f"REF. NO.: {p['reference']}"),
    ]
    if compact:
        rows.append(
            _Row(f"DATE: {day:%Y%m%d}", "TIME: " + p["time"].replace(":", "")),
        )
    else:
        rows.append(_Row(f"DATE/TIME: {p['day']} {p['time']}"))
    rows.append(_Row(f"AMOUNT: {_money(values)}"))
    if x["orig_voucher"]:
        rows += [
            _Row(f"ORIG. TRACE NO.: {x['orig_voucher']}"),
            _Row(f"ORIG. REF. NO.: {x['orig_reference']}"),
        ]
    rows += [
        _Row("SIGNATURE:"),
        _Row(""),
        _Row("I ACKNOWLEDGE SATISFACTORY RECEIPT", scale=0.85),
        _Row("OF RELATIVE GOODS/SERVICES", scale=0.85),
    ]
    return rows


def _label(rng: random.Random, *choices: str) -> str:
    return rng.choice(choices)


def _alt_day(day: datetime, rng: random.Random, *, english: bool) -> str:
    forms = ["%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d"] + ([] if english else ["%Y年%m月%d日"])
    return day.strftime(rng.choice(forms))


def _alt_money(values: _Values, rng: random.Random, *, english: bool) -> str:
    sign = "-" if values.expected["trans_type"] in ("void", "refund") else ""
    amount = values.printed["amount"]
    forms = [f"RMB{sign}{amount}", f"CNY {sign}{amount}", f"¥{sign}{amount}"]
    if not english:
        forms += [f"{sign}{amount}元", f"人民币 {sign}{amount}"]
    return rng.choice(forms)


def _chinese_alt(values: _Values, rng: random.Random) -> list[_Row]:
    """Other Chinese wordings: 商户号, 终端号, 收单行, 流水号, 检索参考号, 交易日期 ..."""
    p, x = values.printed, values.extras
    day = datetime.strptime(p["day"], "%Y/%m/%d")
    sep = rng.choice((":", "：", " "))

    def kv(label: str, value: str) -> _Row:
        return _Row(f"{label}{sep}{value}")

    rows = [
        _Row(_label(rng, "POS签购单", "银联POS签购单", "签购单"), centre=True, scale=1.3),
        _Row(_label(rng, "商户存根", "商户联"), centre=True),
        kv(_label(rng, "商户名称", "商户名", "特约商户名称"), p["merchant_name"]),
        kv(_label(rng, "商户编号", "商户号", "商户代码"), p["merchant_id"]),
        kv(_label(rng, "终端编号", "终端号", "终端ID"), p["terminal_id"]),
        kv("操作员", x["operator"]),
        kv(_label(rng, "收单机构", "收单行", "收单银行"), p["acquirer"]),
        kv(_label(rng, "发卡行", "发卡机构", "发卡银行"), p["issuer"]),
        kv(_label(rng, "卡号", "银行卡号"), p["card_masked"] + x["card_mode"]),
        kv(_label(rng, "交易类型", "交易类别"), p["trans_type"]),
        kv(_label(rng, "批次号", "批次"), p["batch"]),
        kv(_label(rng, "凭证号", "流水号", "凭证号码"), p["voucher"]),
        kv(_label(rng, "授权码", "授权号"), p["auth_code"]),
        kv(_label(rng, "参考号", "检索参考号", "系统参考号"), p["reference"]),
    ]
    stamp = f"{_alt_day(day, rng, english=False)} {p['time']}"
    if rng.random() < 0.5:
        rows.append(kv(_label(rng, "日期时间", "交易日期时间", "日期/时间"), stamp))
    else:
        day_text, time_text = stamp.split(" ")
        rows += [kv("交易日期", day_text), kv("交易时间", time_text)]
    rows += [
        kv(_label(rng, "金额", "交易金额", "消费金额"), _alt_money(values, rng, english=False)),
        _Row("-" * 30, centre=True),
    ]
    if x["orig_voucher"]:
        rows += [kv("原流水号", x["orig_voucher"]), kv("原参考号", x["orig_reference"])]
    rows += [
        _Row("持卡人签名:"),
        _Row(""),
        _Row("本人确认以上交易,同意将其记入本卡账户", scale=0.85),
    ]
    return rows


def _english_alt(values: _Values, rng: random.Random) -> list[_Row]:
    """Other English wordings: MID, TID, ACQUIRING BANK, STAN, APPR CODE, RRN, DATE & TIME ..."""
    p, x = values.printed, values.extras
    day = datetime.strptime(p["day"], "%Y/%m/%d")

    def kv(label: str, value: str) -> _Row:
        return _Row(f"{label}: {value}")

    rows = [
        _Row(_label(rng, "UNIONPAY", "SALES SLIP", "POS RECEIPT"), centre=True, scale=1.3),
        _Row("MERCHANT COPY", centre=True),
        kv(_label(rng, "MERCHANT NAME", "MERCH NAME"), p["merchant_name"]),
        kv(_label(rng, "MERCHANT ID", "MID", "MERCHANT NO"), p["merchant_id"]),
        kv(_label(rng, "TERMINAL ID", "TID", "TERM NO"), p["terminal_id"]),
        kv(_label(rng, "ACQUIRING BANK", "ACQUIRER", "ACQ"), p["acquirer"]),
        kv(_label(rng, "ISSUING BANK", "ISSUER"), p["issuer"]),
        kv(_label(rng, "CARD NO", "CARD NUMBER"), p["card_masked"] + x["card_mode"]),
        kv(_label(rng, "TXN TYPE", "TRANSACTION TYPE"), p["trans_type"]),
        kv(_label(rng, "BATCH", "BATCH NO"), p["batch"]),
        kv(_label(rng, "TRACE", "STAN", "VOUCHER NO"), p["voucher"]),
        kv(_label(rng, "APPR CODE", "AUTH NO", "APPROVAL CODE"), p["auth_code"]),
        kv(_label(rng, "RRN", "REFERENCE NO", "REF NO"), p["reference"]),
        kv(
            _label(rng, "DATE & TIME", "DATE TIME", "DATE/TIME"),
            f"{_alt_day(day, rng, english=True)} {p['time']}",
        ),
        kv(_label(rng, "AMOUNT", "AMT", "TOTAL"), _alt_money(values, rng, english=True)),
    ]
    if x["orig_voucher"]:
        rows += [kv("ORIG TRACE", x["orig_voucher"]), kv("ORIG RRN", x["orig_reference"])]
    rows += [_Row("SIGNATURE:"), _Row(""), _Row("NO REFUND WITHOUT RECEIPT", scale=0.85)]
    return rows


_LAYOUT_BUILDERS = {
    "chinese": _chinese,
    "bilingual": _bilingual,
    "english": _english,
    "chinese_alt": _chinese_alt,
    "english_alt": _english_alt,
}


# ================================================================================= rendering

_MARGIN = 24


def _font(size: int, mono: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size, index=1 if mono else 0)


def _render(rows: Sequence[_Row], rng: random.Random) -> Image.Image:
    """Dark print on white paper, greyscale, about 1.5x a 58 mm thermal printer's 8 dots/mm."""
    size = rng.randint(22, 26)
    mono = rng.random() < 0.5
    spacing = rng.uniform(1.45, 1.7)
    ink = rng.randint(0, 40)
    fonts = [_font(round(size * row.scale), mono) for row in rows]
    widest = max(
        font.getlength(text)
        for row, font in zip(rows, fonts, strict=True)
        for text in (row.left, row.right)
    )
    width = max(rng.randint(580, 660), int(widest) + 2 * _MARGIN)
    # Where each piece of text goes: (x, y, text, font).
    pieces: list[tuple[float, float, str, ImageFont.FreeTypeFont]] = []
    y = float(_MARGIN)
    for row, font in zip(rows, fonts, strict=True):
        pitch = size * row.scale * spacing
        left_width = font.getlength(row.left)
        x = (width - left_width) / 2 if row.centre else _MARGIN
        pieces.append((x, y, row.left, font))
        if row.right:
            right_x = width - _MARGIN - font.getlength(row.right)
            if right_x < _MARGIN + left_width + size:  # would touch: print it on the next line
                y += pitch
            pieces.append((right_x, y, row.right, font))
        y += pitch
    paper = Image.new("L", (width, int(y) + _MARGIN), 255)
    draw = ImageDraw.Draw(paper)
    for x, top, text, font in pieces:
        draw.text((x, top), text, ink, font)
    return paper


# ============================================================================== degradations


def _noise(size: tuple[int, int], sigma: float, rng: random.Random) -> Image.Image:
    """Gaussian noise centred on 128, from the seed (Pillow's effect_noise is not seedable)."""
    normal = statistics.NormalDist(128, sigma)
    table = [max(0, min(255, round(normal.inv_cdf((value + 0.5) / 256)))) for value in range(256)]
    uniform = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    return uniform.point(table)


def _add_noise(image: Image.Image, sigma: float, rng: random.Random) -> Image.Image:
    return ImageChops.add(image, _noise(image.size, sigma, rng), scale=1.0, offset=-128)


def _stretch(image: Image.Image, low: int, high: int) -> Image.Image:
    return image.point(lambda value: low + value * (high - low) // 255)


def _gradient(size: tuple[int, int], start: float, end: float, rng: random.Random) -> Image.Image:
    """A linear ramp from `start` to `end` (0-255) in a random direction."""
    ramp = Image.linear_gradient("L").rotate(rng.uniform(0, 360), Image.Resampling.BILINEAR)
    ramp = ramp.crop((64, 64, 192, 192)).resize(size, Image.Resampling.BILINEAR)
    return ramp.point(lambda value: int(start + (end - start) * value / 255))


def _fade(image: Image.Image, rng: random.Random) -> Image.Image:
    """Thermal paper fading: lighter, uneven print with streaks from worn heater dots."""
    width, height = image.size
    amount = _gradient(image.size, rng.uniform(70, 110), rng.uniform(140, 175), rng)
    draw = ImageDraw.Draw(amount)
    for _ in range(rng.randint(3, 7)):
        x = rng.randint(_MARGIN, width - _MARGIN)
        draw.rectangle((x, 0, x + rng.randint(1, 2), height), fill=rng.randint(185, 215))
    ink = ImageChops.invert(image)
    kept = ImageChops.multiply(ink, ImageChops.invert(amount))
    paper = rng.randint(232, 246)
    return _stretch(ImageChops.invert(kept), 0, paper)


def _on_table(image: Image.Image, rng: random.Random) -> tuple[Image.Image, int]:
    """The slip on a darker surface, as photographed."""
    background = rng.randint(70, 150)
    border = rng.randint(30, 60)
    canvas = Image.new("L", (image.width + 2 * border, image.height + 2 * border), background)
    canvas.paste(image, (border, border))
    return canvas, background


def _rotate(image: Image.Image, rng: random.Random, low: float, high: float) -> Image.Image:
    image, background = _on_table(image, rng)
    angle = rng.choice((-1, 1)) * rng.uniform(low, high)
    return image.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=background)


def _keystone(image: Image.Image, rng: random.Random) -> Image.Image:
    """A phone held at an angle: one edge of the slip further away, so narrower and shorter.

    Pillow's QUAD transform maps a quadrilateral of the source onto the output rectangle; a
    source quadrilateral wider than the paper at one end makes the paper narrow at that end.
    """
    image, background = _on_table(image, rng)
    width, height = image.size
    squeeze = rng.uniform(0.12, 0.22) * width
    lift = rng.uniform(0.0, 0.05) * height
    skew = rng.uniform(-0.03, 0.03) * width
    if rng.random() < 0.5:  # the top edge is further away
        quad = (-squeeze + skew, -lift, 0.0, height, width, height, width + squeeze + skew, -lift)
    else:  # the bottom edge is
        quad = (
            0.0,
            0.0,
            -squeeze + skew,
            height + lift,
            width + squeeze + skew,
            height + lift,
            width,
            0.0,
        )
    return image.transform(
        image.size, Image.Transform.QUAD, quad, Image.Resampling.BICUBIC, fillcolor=background
    )


def _degrade(image: Image.Image, name: str, rng: random.Random) -> Image.Image:
    if name == "clean":
        return image
    if name == "rotate":
        return _rotate(image, rng, 3.0, 12.0)
    if name == "blur":
        return image.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 2.2)))
    if name == "noise":
        return _add_noise(image, rng.uniform(22, 48), rng)
    if name == "low_contrast":
        low = rng.randint(95, 125)
        return _stretch(image, low, low + rng.randint(40, 80))
    if name == "thermal_fade":
        return _fade(image, rng)
    if name == "perspective":
        return _keystone(image, rng)
    if name == "jpeg":
        # A messenger's recompression: smaller, and blocky at low quality.
        factor = rng.uniform(0.55, 0.7)
        image = image.resize(
            (round(image.width * factor), round(image.height * factor)),
            Image.Resampling.BILINEAR,
        )
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=rng.randint(8, 18))
        return Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    if name == "photo":
        image = _rotate(image, rng, 2.0, 5.0)
        shade = _gradient(image.size, rng.uniform(150, 190), 255, rng)
        image = ImageChops.multiply(image, shade)
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.0)))
        image = _add_noise(image, rng.uniform(8, 14), rng)
        # Taken from further away: text 14-20 px high instead of 22-26.
        factor = rng.uniform(0.6, 0.8)
        size = (round(image.width * factor), round(image.height * factor))
        return image.resize(size, Image.Resampling.BILINEAR)
    raise ValueError(f"unknown degradation: {name!r}")


# ===================================================================================== slips


@dataclass(frozen=True)
class GeneratedSlip:
    """A slip photo and what was printed on it."""

    seed: int
    layout: str
    degradation: str
    image: bytes
    mime: str
    #: Field values as printed ("RMB 1,280.50" is printed as amount "1,280.50").
    printed: dict[str, str]
    #: The same fields as `SlipFields.found()` should give them.
    expected: dict[str, str]
    #: Every printed line, for reading failures side by side with the OCR lines.
    lines: tuple[str, ...] = field(default=())


def make_slip(
    seed: int,
    *,
    layout: str | None = None,
    degradation: str | None = None,
    image_format: str | None = None,
) -> GeneratedSlip:
    """A slip photo decided entirely by `seed` (and the layout and degradation, if given).

    Clean slips are PNG, like a screenshot; degraded ones JPEG, like a phone photo.
    """
    if not font_available():
        raise FileNotFoundError(f"{FONT_PATH} is missing: apt-get install -y {FONT_PACKAGE}")
    rng = random.Random(seed)
    layout = layout or rng.choice(LAYOUTS)
    degradation = degradation or rng.choice(DEGRADATIONS)
    if layout not in _LAYOUT_BUILDERS:
        raise ValueError(f"unknown layout: {layout!r}")
    values = _values(rng, layout)
    rows = _LAYOUT_BUILDERS[layout](values, rng)
    image = _degrade(_render(rows, rng), degradation, rng)
    image_format = image_format or ("PNG" if degradation == "clean" else "JPEG")
    buffer = io.BytesIO()
    if image_format == "JPEG":
        image.save(buffer, "JPEG", quality=rng.randint(75, 90))
    else:
        image.save(buffer, image_format)
    lines = tuple(" ".join(part for part in (row.left, row.right) if part) for row in rows)
    return GeneratedSlip(
        seed=seed,
        layout=layout,
        degradation=degradation,
        image=buffer.getvalue(),
        mime=Image.MIME[image_format],
        printed=values.printed,
        expected=values.expected,
        lines=lines,
    )


# =================================================================================== scoring


@dataclass(frozen=True)
class Score:
    """A reading compared with what was printed."""

    right: tuple[str, ...]
    missing: tuple[str, ...]
    #: field -> (printed, read): a value read but not the one printed.
    wrong: dict[str, tuple[str, Any]]


def _letters(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKC", text) if char.isalnum())


def _same(name: str, expected: str, found: Any) -> bool:
    if name in TEXT_FIELDS:
        return _letters(expected) == _letters(str(found))
    return str(found) == expected


def score(expected: Mapping[str, str], found: Mapping[str, Any]) -> Score:
    """Fields right, missing and wrong; a field read that was never printed is wrong too."""
    right, missing, wrong = [], [], {}
    for name in FIELDS:
        if name in expected and name not in found:
            missing.append(name)
        elif name in found and name not in expected:
            wrong[name] = ("", found[name])
        elif name in found and _same(name, expected[name], found[name]):
            right.append(name)
        elif name in found:
            wrong[name] = (expected[name], found[name])
    return Score(tuple(right), tuple(missing), wrong)
