"""Reading slip photos: fields off generated slips, refused images, and a free event loop.

Tests that run the OCR engine are skipped without the `ocr` extra or the CJK font, so the plain
test command passes on a laptop without them; the image checks and line ordering only need
Pillow and always run.
"""

from __future__ import annotations

import asyncio
import io
import math
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import pytest

pytest.importorskip("PIL")

from PIL import Image

from bot.conversation import ocr
from bot.conversation.ocr import (
    MAX_BYTES,
    MAX_SIDE,
    OCR_THREADS,
    OcrUnavailable,
    SlipReader,
    TextBox,
    UnreadableImage,
    decode_image,
    ocr_available,
    order_lines,
    read_slip,
    scored_lines,
)
from bot.conversation.slip_reading import problem_before_reading
from flows.receipt import SlipFields, extract_fields
from tests.slips import NOW, GeneratedSlip, font_available, make_slip, score

needs_ocr = pytest.mark.skipif(
    not ocr_available() or not font_available(),
    reason="needs the 'ocr' extra (pip install -e '.[ocr]') and fonts-wqy-microhei",
)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds no pixels: only its header is ever read."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


# ========================================================================= refused images


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"", "not_an_image", id="empty"),
        pytest.param(b"%PDF-1.7 definitely not a photo" * 20, "not_an_image", id="garbage"),
        pytest.param(_png(Image.new("RGB", (300, 200), "white"))[:200], "unreadable", id="cut"),
        pytest.param(b"\0" * (MAX_BYTES + 1), "too_large", id="over-max-bytes"),
        pytest.param(_png_header(9000, 7000), "too_large", id="63-megapixels"),
        pytest.param(_png_header(12_000, 8_000), "too_large", id="pillow-bomb-warning"),
        pytest.param(_png_header(30_000, 30_000), "too_large", id="pillow-bomb-error"),
    ],
)
def test_refuses_what_is_not_a_usable_photo(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableImage) as caught:
        SlipReader().read_lines(data)
    assert caught.value.reason == reason


def test_one_size_limit_before_downloading_and_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.conversation.slip_reading.ocr_available", lambda: True)
    assert problem_before_reading(MAX_BYTES) is None
    assert problem_before_reading(MAX_BYTES + 1) == "too_large"
    with pytest.raises(UnreadableImage) as caught:
        SlipReader().read_lines(b"\0" * MAX_BYTES)
    assert caught.value.reason == "not_an_image"  # not too large: the same limit
    with pytest.raises(UnreadableImage) as caught:
        SlipReader().read_lines(b"\0" * (MAX_BYTES + 1))
    assert caught.value.reason == "too_large"


def test_refuses_formats_no_phone_sends() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PPM")
    with pytest.raises(UnreadableImage) as caught:
        decode_image(buffer.getvalue())
    assert caught.value.reason == "not_an_image"


async def test_read_slip_raises_unreadable_image_from_the_worker() -> None:
    reader = SlipReader()
    try:
        with pytest.raises(UnreadableImage) as caught:
            await read_slip(_png(Image.new("L", (300, 200), 255))[:100], reader=reader)
        assert caught.value.reason == "unreadable"
    finally:
        reader.close()


# ================================================================================= decoding


def test_large_photos_are_shrunk_before_ocr() -> None:
    image = decode_image(_png(Image.new("L", (3000, 1200), 255)))
    assert image.size == (MAX_SIDE, 800)
    assert image.mode == "RGB"

    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), "white").save(buffer, "JPEG")
    assert max(decode_image(buffer.getvalue()).size) == MAX_SIDE


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # the phone was held sideways: rotate 90° clockwise to view
    buffer = io.BytesIO()
    Image.new("RGB", (60, 20), "white").save(buffer, "JPEG", exif=exif)
    assert decode_image(buffer.getvalue()).size == (20, 60)


def test_transparency_becomes_white_paper() -> None:
    image = decode_image(_png(Image.new("RGBA", (10, 10), (0, 0, 0, 0))))
    assert image.getpixel((5, 5)) == (255, 255, 255)


# ================================================================================= ordering


def _box(text: str, x: float, y: float, width: float, angle_deg: float) -> TextBox:
    """A box `width` x 24 whose top-left corner sits at (x, y) on a slip tilted by the angle."""
    angle = math.radians(angle_deg)
    cos, sin = math.cos(angle), math.sin(angle)

    def turn(px: float, py: float) -> tuple[float, float]:
        return (500 + cos * px - sin * py, 100 + sin * px + cos * py)

    corners = (turn(x, y), turn(x + width, y), turn(x + width, y + 24), turn(x, y + 24))
    return TextBox(text, 0.99, corners)


@pytest.mark.parametrize("angle", [-7.0, -3.0, 0.0, 4.0, 7.0])
def test_lines_are_rebuilt_on_a_tilted_photo(angle: float) -> None:
    boxes = [
        _box("商户编号:", 0, 0, 110, angle),
        _box("898310058120345", 400, 0, 190, angle),
        _box("终端编号:12345678", 0, 38, 200, angle),
        _box("操作员号:01", 470, 38, 120, angle),
        _box("批次号:000123", 0, 76, 160, angle),
        _box("凭证号:000456", 430, 76, 160, angle),
        _box("金额:", 0, 114, 60, angle),
        _box("RMB 1,280.50", 440, 114, 150, angle),
    ]
    assert order_lines(list(reversed(boxes))) == [
        "商户编号: 898310058120345",
        "终端编号:12345678 操作员号:01",
        "批次号:000123 凭证号:000456",
        "金额: RMB 1,280.50",
    ]


def test_no_boxes_no_lines() -> None:
    assert order_lines([]) == []
    assert scored_lines([]) == []


def test_a_line_scores_as_its_least_sure_box() -> None:
    """A name glued to a sure label must not borrow the label's score."""
    label = _box("商户名称:", 0, 0, 110, 0.0)
    name = replace(_box("北京金莲烘培坊", 300, 0, 200, 0.0), score=0.96)
    amount = replace(_box("金额:RMB 12.00", 0, 38, 200, 0.0), score=0.995)
    assert scored_lines([amount, name, label]) == [
        ("商户名称: 北京金莲烘培坊", 0.96),
        ("金额:RMB 12.00", 0.995),
    ]


# ============================================================================= availability


def test_without_the_extra_photos_are_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "_REQUIRED_MODULES", (*ocr._REQUIRED_MODULES, "no_such_ocr_engine"))
    ocr_available.cache_clear()
    try:
        assert not ocr_available()
        with pytest.raises(OcrUnavailable):
            SlipReader().read_lines(_png(Image.new("RGB", (64, 64), "white")))
    finally:
        monkeypatch.undo()
        ocr_available.cache_clear()


class _Quads(list[list[list[float]]]):
    """Stands in for the engine's numpy array of box corners."""

    def tolist(self) -> list[list[list[float]]]:
        return list(self)


@dataclass
class _FakeOutput:
    txts: tuple[str, ...]
    scores: tuple[float, ...]
    boxes: _Quads


def _fake_output(*rows: tuple[str, float, float, float]) -> _FakeOutput:
    """Rows of (text, score, x, y): 100 x 20 boxes."""
    quads = _Quads([[x, y], [x + 100, y], [x + 100, y + 20], [x, y + 20]] for _, _, x, y in rows)
    return _FakeOutput(tuple(row[0] for row in rows), tuple(row[1] for row in rows), quads)


def test_engine_loads_once_for_all_threads_and_unsure_text_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created: list[int] = []
    seen_sizes: list[tuple[int, int]] = []

    def engine(image: Image.Image) -> _FakeOutput:
        seen_sizes.append(image.size)
        return _fake_output(
            ("金额:", 0.98, 10, 60),
            ("RMB 1,280.50", 0.97, 300, 62),
            ("商户编号:", 0.99, 10, 10),
            ("898310058120345", 0.95, 300, 8),
            ("凭证号:0O0456", 0.41, 10, 35),
        )

    def create_engine(self: SlipReader) -> object:
        created.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive while it loads
        return engine

    monkeypatch.setattr(SlipReader, "_create_engine", create_engine)
    reader = SlipReader()
    photo = _png(Image.new("RGB", (2400, 600), "white"))
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(reader.read_lines, [photo] * 6))
    assert created == [1]
    assert seen_sizes == [(MAX_SIDE, 500)] * 6
    assert results == [["商户编号: 898310058120345", "金额: RMB 1,280.50"]] * 6


# ==================================================================================== reading


@pytest.fixture(scope="module")
def reader() -> Iterator[SlipReader]:
    reader = SlipReader()
    reader.load()
    yield reader
    reader.close()


def _check(slip: GeneratedSlip, fields: SlipFields, lines: list[str] | None = None) -> None:
    """Every value read is the printed one; a degraded photo may lose one field."""
    result = score(slip.expected, fields.found())
    context = f"seed {slip.seed} {slip.layout}/{slip.degradation}; OCR lines: {lines}"
    assert result.wrong == {}, context
    allowed = 0 if slip.degradation == "clean" else 1
    assert len(result.missing) <= allowed, f"missing {result.missing}; {context}"


@needs_ocr
@pytest.mark.parametrize(
    ("seed", "layout", "degradation"),
    [
        (11, "chinese", "clean"),
        (12, "bilingual", "rotate"),
        (13, "english", "blur"),
        (14, "chinese", "photo"),
        (16, "bilingual", "noise"),
        (18, "chinese", "noise"),
        (17, "english", "low_contrast"),  # its "AUTH CODE" label is read as "AUTH C0DE"
        (19, "chinese", "low_contrast"),
        (21, "chinese_alt", "perspective"),
        (22, "english_alt", "jpeg"),
        (23, "chinese_alt", "jpeg"),
        (24, "english_alt", "perspective"),
    ],
)
def test_reads_the_printed_fields(
    reader: SlipReader, seed: int, layout: str, degradation: str
) -> None:
    slip = make_slip(seed, layout=layout, degradation=degradation)
    lines = reader.read_lines(slip.image)
    _check(slip, extract_fields(lines, now=NOW), lines)


@needs_ocr
async def test_read_slip_leaves_the_event_loop_free(
    reader: SlipReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The OCR runs on another thread, and another merchant is served while it runs."""
    slip = make_slip(15, layout="bilingual", degradation="thermal_fade")
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()
    order: list[str] = []
    ran_on: list[int] = []
    started = asyncio.Event()
    other_served = threading.Event()
    read_scored_lines = reader.read_scored_lines

    def reading(image_bytes: bytes) -> list[tuple[str, float]]:
        ran_on.append(threading.get_ident())
        order.append("ocr started")
        loop.call_soon_threadsafe(started.set)
        # The OCR goes on only once another coroutine has run to its end: on a blocked loop
        # it never could (the wait's limit only keeps a broken build from hanging).
        if not other_served.wait(timeout=60):
            raise AssertionError("no other coroutine ran while the slip was being read")
        lines = read_scored_lines(image_bytes)
        order.append("ocr finished")
        return lines

    async def another_merchant() -> None:
        await started.wait()
        order.append("another merchant served")
        other_served.set()

    monkeypatch.setattr(reader, "read_scored_lines", reading)
    other = asyncio.create_task(another_merchant())
    fields = await read_slip(slip.image, now=NOW, reader=reader)
    await other
    assert ran_on
    assert ran_on[0] != loop_thread
    assert order == ["ocr started", "another merchant served", "ocr finished"]
    _check(slip, fields)


@needs_ocr
def test_the_engine_reads_on_one_thread_leaving_the_other_cores_to_the_bot(
    reader: SlipReader,
) -> None:
    engine = reader._get_engine()
    sessions = [
        getattr(engine, part).session.session for part in ("text_det", "text_cls", "text_rec")
    ]
    for session in sessions:
        options = session.get_session_options()
        assert options.intra_op_num_threads == OCR_THREADS == 1
        assert options.inter_op_num_threads == OCR_THREADS


@needs_ocr
def test_a_blank_photo_has_no_lines(reader: SlipReader) -> None:
    assert reader.read_lines(_png(Image.new("L", (400, 600), 255))) == []
