"""Draw the app icons (PNG) for the web app manifest and iOS: no image library needed.

The same picture as ``web/static/icon.svg``: a navy rounded square with a white
seismogram line. Run ``python scripts/make_icons.py`` after changing it; the PNGs are
committed (web/static/icons/).
"""

from __future__ import annotations

import itertools
import struct
import sys
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "web" / "static" / "icons"
NAVY = (0x0B, 0x2D, 0x5B)
WHITE = (0xFF, 0xFF, 0xFF)
#: The seismogram of icon.svg in its 32×32 box: M3 17h5l3-8 4 14 4-11 3 5h7.
LINE = [(3, 17), (8, 17), (11, 9), (15, 23), (19, 12), (22, 17), (29, 17)]
STROKE = 2.5 / 2


def _distance(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return float(((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) ** 0.5)


def draw(size: int) -> bytes:
    """RGB rows of the icon at ``size`` pixels (full bleed, so it also works maskable)."""
    scale = size / 32
    rows = []
    for y in range(size):
        row = bytearray([0])  # PNG filter: none
        for x in range(size):
            px, py = (x + 0.5) / scale, (y + 0.5) / scale
            near = min(_distance(px, py, a, b) for a, b in itertools.pairwise(LINE))
            # one pixel of anti-aliasing at the stroke's edge
            cover = max(0.0, min(1.0, (STROKE - near) * scale + 0.5))
            row += bytes(round(n + (w - n) * cover) for n, w in zip(NAVY, WHITE, strict=True))
        rows.append(bytes(row))
    return b"".join(rows)


def png(size: int) -> bytes:
    """A PNG file of the icon."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack("!I", len(data)) + body + struct.pack("!I", zlib.crc32(body))

    header = struct.pack("!IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(draw(size), 9))
        + chunk(b"IEND", b"")
    )


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size in (("icon-192.png", 192), ("icon-512.png", 512), ("apple-touch-icon.png", 180)):
        (OUT / name).write_bytes(png(size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
