"""Reading a photographed POS slip (签购单) on this machine: image bytes in, slip fields out.

The photo never leaves the machine: text is read by RapidOCR (PaddleOCR's PP-OCR Chinese and
English models run by ONNX Runtime), whose wheel ships its models, so nothing is downloaded at
run time either. The engine is an optional extra (``pip install -e '.[ocr]'``); without it
`ocr_available()` is False and the bot takes photos as it always did, as attachments for a human.

The bytes come from strangers, so they are decoded with Pillow from memory only, in a short
list of photo formats, after size and pixel-count checks that stop decompression bombs. Photos
are shrunk to `MAX_SIDE` before OCR, and the recognised boxes are put back into printed lines
(top to bottom, then left to right, allowing for a tilted photo) before `flows.receipt` reads
the fields. OCR takes seconds of CPU, so `read_slip` runs it on a worker thread, one image at a
time, and the event loop keeps serving other merchants meanwhile.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import io
import math
import statistics
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from flows.receipt import SlipFields, extract_fields

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "MAX_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "MIN_CONFIDENCE",
    "OCR_THREADS",
    "OcrUnavailable",
    "SlipReader",
    "TextBox",
    "UnreadableImage",
    "default_reader",
    "ocr_available",
    "order_lines",
    "read_slip",
    "scored_lines",
]

#: The largest photo read: a phone photo of a slip is a few MB (Telegram's own limit for a bot's
#: downloads is 20 MB). Checked against the size Telegram reports before downloading and against
#: the bytes before decoding; the merchant is told it (`photo_max_mb` in the templates).
MAX_BYTES = 10 * 1024 * 1024
#: Well above any phone camera (a 200 MP sensor bins to 50 MP photos); more is a bomb.
MAX_PIXELS = 60_000_000
#: Longest side handed to OCR. Slip text stays ~20 px high at this size, which PP-OCR reads
#: well; larger only costs seconds.
MAX_SIDE = 2000
#: ONNX Runtime threads for reading one slip. Left alone it takes every core, and the bot's event
#: loop and database work would wait behind the OCR for seconds; with one, the other cores keep
#: serving merchants (and field accuracy is the same: `benchmarks/slip_accuracy.py`).
OCR_THREADS = 1
#: Lines recognised with less confidence are dropped: a missing field is asked for again, a
#: wrong one would be sent on to the acquirer.
MIN_CONFIDENCE = 0.6

#: Photo and screenshot formats a merchant sends (JPEG covers the MPO some phones save);
#: anything else (EPS, PSD, ICNS...) is refused before Pillow picks a decoder for it.
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF")

Reason = Literal["too_large", "not_an_image", "unreadable"]

# Needed to read a slip; none of them is imported until a slip is read.
_REQUIRED_MODULES = ("rapidocr", "onnxruntime", "PIL", "numpy", "cv2")


class UnreadableImage(ValueError):
    """The bytes are not a photo OCR can be run on; `reason` says why, for the reply template.

    ``too_large``: over `MAX_BYTES` or `MAX_PIXELS`; ``not_an_image``: not a supported image
    format at all; ``unreadable``: looks like an image but cannot be decoded (truncated, corrupt).
    """

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: Reason = reason
        self.detail = detail


class OcrUnavailable(RuntimeError):
    """The optional OCR engine is not installed, or its bundled models are missing."""


@dataclass(frozen=True)
class TextBox:
    """One recognised piece of text with its quadrilateral, corners clockwise from top-left."""

    text: str
    score: float
    corners: tuple[tuple[float, float], ...]

    @property
    def angle(self) -> float:
        """Slope of the top edge, in radians (positive: the text runs down to the right)."""
        (x0, y0), (x1, y1) = self.corners[0], self.corners[1]
        return math.atan2(y1 - y0, x1 - x0)

    @property
    def width(self) -> float:
        (x0, y0), (x1, y1) = self.corners[0], self.corners[1]
        return math.hypot(x1 - x0, y1 - y0)

    @property
    def height(self) -> float:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.corners[:4]
        return (math.hypot(x3 - x0, y3 - y0) + math.hypot(x2 - x1, y2 - y1)) / 2

    @property
    def center(self) -> tuple[float, float]:
        xs = [x for x, _ in self.corners]
        ys = [y for _, y in self.corners]
        return sum(xs) / len(xs), sum(ys) / len(ys)


# ============================================================================= availability


def _package_dir(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _bundled_models() -> dict[str, Path] | None:
    """The detection, classification and recognition models inside the rapidocr wheel."""
    package = _package_dir("rapidocr")
    if package is None:
        return None
    models: dict[str, Path] = {}
    for task in ("det", "cls", "rec"):
        found = sorted((package / "models").glob(f"*_{task}_*.onnx"))
        if len(found) != 1:
            return None
        models[task] = found[0]
    return models


@functools.cache
def ocr_available() -> bool:
    """Whether slips can be read here: the `ocr` extra is installed and carries its models.

    Only looks for the packages; nothing heavy is imported.
    """
    for name in _REQUIRED_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return False
        except (ImportError, ValueError):
            return False
    return _bundled_models() is not None


# ================================================================================= decoding


def decode_image(
    image_bytes: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
) -> Image.Image:
    """An RGB image, upright per its EXIF, no side over `max_side`; or `UnreadableImage`."""
    if len(image_bytes) > max_bytes:
        raise UnreadableImage("too_large", f"{len(image_bytes)} bytes")
    if not image_bytes:
        raise UnreadableImage("not_an_image", "no bytes")
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        # Pillow warns, then refuses, past its own pixel limit; either way it is too large.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(image_bytes), formats=IMAGE_FORMATS)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise UnreadableImage("too_large", str(error)) from None
        except UnidentifiedImageError:
            raise UnreadableImage("not_an_image") from None
        except (OSError, ValueError, SyntaxError, EOFError) as error:
            raise UnreadableImage("unreadable", str(error)) from None
        width, height = image.size
        if width * height > max_pixels:
            raise UnreadableImage("too_large", f"{width}x{height} pixels")
        if width < 1 or height < 1:
            raise UnreadableImage("unreadable", f"{width}x{height} pixels")
        try:
            if image.format == "JPEG":
                # Decode big JPEGs at 1/2, 1/4 or 1/8 scale straight away: much less work.
                image.draft("RGB", (max_side, max_side))
            image.load()
            image = ImageOps.exif_transpose(image)
            image = _to_rgb(image)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            raise UnreadableImage("too_large", str(error)) from None
        except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError) as error:
            raise UnreadableImage("unreadable", str(error)) from None
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """Flatten to RGB; transparency becomes white paper rather than black."""
    from PIL import Image

    if image.mode in ("P", "PA"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode.startswith(("I", "F")):
        # 16-bit, 32-bit or float greyscale: stretch into 8 bits before dropping to RGB.
        image = image.convert("F")
        low, high = cast("tuple[float, float]", image.getextrema())
        scale = 255.0 / ((high - low) or 1.0)
        image = image.point(lambda value: value * scale - low * scale).convert("L")
    return image if image.mode == "RGB" else image.convert("RGB")


# ================================================================================= ordering


def scored_lines(boxes: Sequence[TextBox]) -> list[tuple[str, float]]:
    """Printed lines from OCR boxes, each with the score of its least sure box.

    Top to bottom, and left to right within a line. The score goes with the line because a
    name is free text that no format check can catch misread, so `flows.receipt` only takes
    one from a line the OCR was sure of.

    A slip photographed at an angle has its lines sloping, so boxes are first turned by the
    median slope of the wide boxes; boxes whose centres are then within half a text height of a
    line's centre belong to it ("商户编号:" on the left, its number on the right), and are
    joined with a space. A tilt of 7° moves the end of a 300 px line 37 px down, more than a
    line's height, which plain sorting by y would misorder.
    """
    if not boxes:
        return []
    wide = [box for box in boxes if box.width >= 2 * box.height] or list(boxes)
    angle = statistics.median(box.angle for box in wide)
    cos, sin = math.cos(angle), math.sin(angle)
    tolerance = 0.5 * statistics.median(box.height for box in boxes)

    placed: list[tuple[float, float, TextBox]] = []
    for box in boxes:
        x, y = box.center
        placed.append((-sin * x + cos * y, cos * x + sin * y, box))
    placed.sort(key=lambda item: item[0])

    rows: list[list[tuple[float, float, TextBox]]] = []
    row_y: list[float] = []
    for item in placed:
        if rows and abs(item[0] - row_y[-1]) <= tolerance:
            rows[-1].append(item)
            row_y[-1] = statistics.fmean(member[0] for member in rows[-1])
        else:
            rows.append([item])
            row_y.append(item[0])
    lines = []
    for row in rows:
        row.sort(key=lambda item: item[1])
        line = " ".join(item[2].text.strip() for item in row).strip()
        if line:
            lines.append((line, min(item[2].score for item in row)))
    return lines


def order_lines(boxes: Sequence[TextBox]) -> list[str]:
    """The printed lines of `scored_lines`, without their scores."""
    return [line for line, _ in scored_lines(boxes)]


# ================================================================================== reading


class _Engine(Protocol):
    def __call__(self, img_content: Any) -> Any: ...


class SlipReader:
    """Reads slip photos with a RapidOCR engine loaded on first use and shared by all threads.

    The engine keeps per-call settings on itself and a 2-core machine gains nothing from two
    concurrent recognitions, so calls take turns; `read_slip` queues them on one worker thread.
    """

    def __init__(
        self,
        *,
        min_confidence: float = MIN_CONFIDENCE,
        max_bytes: int = MAX_BYTES,
        max_pixels: int = MAX_PIXELS,
        max_side: int = MAX_SIDE,
    ) -> None:
        self.min_confidence = min_confidence
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.max_side = max_side
        self._engine: _Engine | None = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._executor_lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------------------ engine

    def load(self) -> None:
        """Load the engine and its models now (about a second) rather than on the first slip."""
        self._get_engine()

    def _get_engine(self) -> _Engine:
        engine = self._engine
        if engine is not None:
            return engine
        with self._load_lock:
            if self._engine is None:
                self._engine = self._create_engine()
            return self._engine

    def _create_engine(self) -> _Engine:
        models = _bundled_models() if ocr_available() else None
        if models is None:
            raise OcrUnavailable(
                "slip reading needs the 'ocr' extra (rapidocr and onnxruntime) with its models"
            )
        from rapidocr import RapidOCR

        # Explicit model paths: rapidocr would otherwise download a model that is missing or
        # differs from its checksum, and this bot must never fetch anything at run time.
        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.text_score": min(self.min_confidence, 0.5),
            "Global.max_side_len": self.max_side,
            "Det.model_path": str(models["det"]),
            "Cls.model_path": str(models["cls"]),
            "Rec.model_path": str(models["rec"]),
            "EngineConfig.onnxruntime.intra_op_num_threads": OCR_THREADS,
            "EngineConfig.onnxruntime.inter_op_num_threads": OCR_THREADS,
        }
        try:
            engine: _Engine = RapidOCR(params=params)
            # rapidocr 3 opens each model on first use; open them now, so that a broken install
            # fails here and the first merchant's slip does not pay for the loading.
            for loader in ("_load_det_model", "_load_cls_model", "_load_rec_model"):
                load = getattr(engine, loader, None)
                if callable(load):
                    load()
        except Exception as error:  # a broken install: say so once, clearly
            raise OcrUnavailable(f"the OCR engine failed to load: {error}") from error
        return engine

    # ----------------------------------------------------------------------------- reading

    def read_boxes(self, image_bytes: bytes) -> list[TextBox]:
        """Every text box recognised with at least `min_confidence`, in the engine's order."""
        image = decode_image(
            image_bytes,
            max_bytes=self.max_bytes,
            max_pixels=self.max_pixels,
            max_side=self.max_side,
        )
        engine = self._get_engine()
        with self._run_lock:
            result = engine(image)
        texts = getattr(result, "txts", None)
        corners = getattr(result, "boxes", None)
        scores = getattr(result, "scores", None)
        if texts is None or corners is None or scores is None:
            return []
        boxes = []
        for text, quad, score in zip(texts, corners.tolist(), scores, strict=True):
            if float(score) < self.min_confidence or not str(text).strip():
                continue
            points = tuple((float(x), float(y)) for x, y in quad)
            boxes.append(TextBox(str(text), float(score), points))
        return boxes

    def read_scored_lines(self, image_bytes: bytes) -> list[tuple[str, float]]:
        """The slip's printed lines, top to bottom, with their scores. Blocking: seconds of CPU.

        Raises `UnreadableImage` for bytes that are not a usable photo and `OcrUnavailable`
        when the engine is not installed.
        """
        return scored_lines(self.read_boxes(image_bytes))

    def read_lines(self, image_bytes: bytes) -> list[str]:
        """`read_scored_lines` without the scores."""
        return [line for line, _ in self.read_scored_lines(image_bytes)]

    async def read_slip(self, image_bytes: bytes, *, now: datetime | None = None) -> SlipFields:
        """`read_scored_lines` on the OCR worker thread, then the fields `flows.receipt` finds."""
        loop = asyncio.get_running_loop()
        scored = await loop.run_in_executor(self._worker(), self.read_scored_lines, image_bytes)
        return extract_fields(
            [line for line, _ in scored], now=now, confidences=[score for _, score in scored]
        )

    def _worker(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slip-ocr")
            return self._executor

    def close(self) -> None:
        """Stop the worker thread once queued slips are read (the engine stays loaded)."""
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


_default: SlipReader | None = None
_default_lock = threading.Lock()


def default_reader() -> SlipReader:
    """The process-wide reader, so the models are loaded once."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SlipReader()
        return _default


async def read_slip(
    image_bytes: bytes, *, now: datetime | None = None, reader: SlipReader | None = None
) -> SlipFields:
    """Read a slip photo's fields without blocking the event loop.

    Raises `UnreadableImage` (tell the merchant the photo could not be used) and
    `OcrUnavailable` (check `ocr_available()` first and skip reading).
    """
    return await (reader or default_reader()).read_slip(image_bytes, now=now)
