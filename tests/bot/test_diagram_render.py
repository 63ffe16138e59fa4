"""`posbot diagram --format svg|png`: pictures drawn by Graphviz, or a clear word without it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.ops.cli import main

needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")


def test_mermaid_stays_the_default() -> None:
    result = CliRunner().invoke(main, ["diagram", "--flow", "case"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("stateDiagram-v2\n    [*] --> draft\n")


@needs_graphviz
@pytest.mark.parametrize(
    ("flow", "fmt", "header"),
    [
        ("intake", "svg", b"<svg"),
        ("case", "svg", b"<svg"),
        ("intake", "png", b"\x89PNG\r\n\x1a\n"),
        ("case", "png", b"\x89PNG\r\n\x1a\n"),
    ],
)
def test_pictures_have_a_valid_header(tmp_path: Path, flow: str, fmt: str, header: bytes) -> None:
    out = tmp_path / f"{flow}.{fmt}"
    result = CliRunner().invoke(
        main, ["diagram", "--flow", flow, "--format", fmt, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if fmt == "svg":
        assert data.startswith(b"<?xml")
        assert header in data
        assert b">escalated<" in data or b">asking_when<" in data
    else:
        assert data.startswith(header)


@needs_graphviz
def test_svg_goes_to_stdout_without_out() -> None:
    result = CliRunner().invoke(main, ["diagram", "--flow", "case", "--format", "svg"])
    assert result.exit_code == 0, result.output
    assert "<svg" in result.output


def test_without_graphviz_the_error_says_what_to_install(tmp_path: Path) -> None:
    out = tmp_path / "case.png"
    result = CliRunner().invoke(
        main,
        ["diagram", "--flow", "case", "--format", "png", "--out", str(out)],
        env={"PATH": str(tmp_path)},  # no `dot` here
    )
    assert result.exit_code == 1
    assert "apt-get install graphviz" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
