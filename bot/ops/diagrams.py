"""State diagrams as pictures: the flows' DOT (`flows.diagram.dot`) drawn by Graphviz's `dot`."""

from __future__ import annotations

import shutil
import subprocess

FORMATS = ("svg", "png")
INSTALL = "apt-get install graphviz (Debian, Ubuntu) or brew install graphviz (macOS)"


class RendererMissing(RuntimeError):
    """Graphviz is not installed: the message says how to install it."""


def render(dot_text: str, fmt: str, timeout: float = 60.0) -> bytes:
    """SVG or PNG bytes of a DOT graph; raises RendererMissing without Graphviz."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    program = shutil.which("dot")
    if program is None:
        raise RendererMissing(
            f"drawing {fmt} needs Graphviz's `dot` program, which is not on PATH: {INSTALL}"
        )
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"],
            input=dot_text.encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"Graphviz took longer than {timeout:.0f} s") from None
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        raise RuntimeError(f"Graphviz could not draw the diagram: {reason}")
    return done.stdout
