"""The after-action report as people see it: Debian's Chromium, headless, renders the HTML file with
its chart. The screenshot is kept in ``test-artifacts/`` (or ``$BREACHOPS_TEST_ARTIFACTS``) for review."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from breachops.reports.after_action import AfterActionReport, write_report
from tests.drills.samples import sample_report

WIDTH, HEIGHT = 1280, 2000
MET_GREEN, MISSED_RED = (0x2E, 0x7D, 0x32), (0xC6, 0x28, 0x28)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it",
)
# Nothing but the file itself: no updates, no metrics, no sync, no first-run pages.
QUIET = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]


def artifacts() -> Path:
    folder = Path(
        os.environ.get("BREACHOPS_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *QUIET, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "HOME": str(profile)},
    )


def read_png(path: Path) -> tuple[int, int, list[bytes], int]:
    """Width, height, unfiltered rows and bytes per pixel of an 8-bit, non-interlaced PNG (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    chunks: list[tuple[bytes, bytes]] = []
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * bpp
    assert len(raw) == height * (stride + 1)
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif kind == 4:
            for i in range(stride):
                a, b = (line[i - bpp] if i >= bpp else 0), prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def pixels(rows: list[bytes], bpp: int) -> list[tuple[int, int, int]]:
    return [(row[i], row[i + 1], row[i + 2]) for row in rows for i in range(0, len(row), bpp)]


def tint(colour: tuple[int, int, int], opacity: float = 0.25) -> tuple[int, int, int]:
    r, g, b = (round(255 + opacity * (c - 255)) for c in colour)
    return r, g, b


def near(pixel: tuple[int, int, int], colour: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(p - c) <= tolerance for p, c in zip(pixel, colour, strict=True))


def test_chromium_renders_the_report_with_its_chart(tmp_path: Path) -> None:
    report = sample_report()
    assert isinstance(report, AfterActionReport)
    html_path, _ = write_report(report, tmp_path / "report")
    keep = artifacts()
    shot = keep / "after-action-report.png"
    shot.unlink(missing_ok=True)
    shutil.copyfile(html_path, keep / html_path.name)

    done = chromium(
        tmp_path / "profile", f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", html_path.as_uri()
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.is_file(), f"no screenshot; chromium said: {done.stderr[-2000:]}"

    width, height, rows, bpp = read_png(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    counts = Counter(pixels(rows, bpp))
    assert len(counts) > 100, "the screenshot is (nearly) blank"
    ink = WIDTH * HEIGHT - counts[(255, 255, 255)]
    assert ink / (WIDTH * HEIGHT) > 0.02, "almost nothing was drawn"
    # The chart's windows are its status colours at a quarter opacity on white: only the SVG draws them.
    assert sum(n for colour, n in counts.items() if near(colour, tint(MET_GREEN), 6)) > 500
    assert sum(n for colour, n in counts.items() if near(colour, tint(MISSED_RED), 6)) > 500
    assert sum(n for colour, n in counts.items() if near(colour, MET_GREEN)) > 20  # the dot where it was met


def test_the_chart_is_in_the_rendered_dom(tmp_path: Path) -> None:
    report = sample_report()
    assert isinstance(report, AfterActionReport)
    html_path, _ = write_report(report, tmp_path / "report")
    done = chromium(tmp_path / "profile", "--dump-dom", html_path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "<svg" in dom
    assert 'class="obligation missed"' in dom and 'data-key="gdpr-art-33/initial"' in dom
    assert "Improvement plan" in dom
    assert "<script" not in dom
