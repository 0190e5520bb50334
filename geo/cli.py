"""``yure geo``: the prefecture at a point, or of every point in a CSV file.

    yure geo 38.27 140.87                 → {"pref": "04", "name": "宮城県", "name_en": "Miyagi"}
    yure geo --csv points.csv             → one JSON object per row (JSON Lines)
    yure geo --csv points.csv --format csv → the rows with a ``pref`` column added

Bad input is reported on stderr (``yure geo: line 3: …``) and the exit status is
1; the other rows are still tagged. Formats are described in docs/geo.md.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from yure.geo.codes import prefecture
from yure.geo.errors import GeoError
from yure.geo.locate import pref_at, tag_points, validate_point
from yure.settings import Settings

#: Cap on a ``--csv`` input file.
MAX_CSV_BYTES = 64 * 1024 * 1024
LAT_HEADERS = frozenset({"lat", "latitude", "緯度"})
LON_HEADERS = frozenset({"lon", "lng", "long", "longitude", "経度"})


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """One usable input row: its 1-based line number and coordinates."""

    line: int
    lat: float
    lon: float


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``yure geo`` on ``subparsers``."""
    parser = subparsers.add_parser(
        "geo",
        help="tag coordinates with a prefecture",
        description="Print the prefecture (JIS code and names) at LAT LON, or tag a CSV file.",
    )
    parser.add_argument("lat", nargs="?", help="latitude in degrees (WGS 84)")
    parser.add_argument("lon", nargs="?", help="longitude in degrees (WGS 84)")
    parser.add_argument(
        "--csv",
        dest="csv_path",
        metavar="FILE",
        help="tag every 'lat,lon' row of FILE ('-' = stdin); a header row is optional",
    )
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv"),
        default="jsonl",
        help="output of --csv: one JSON object per row (default) or CSV with a pref column",
    )
    parser.set_defaults(handler=run)


def describe(pref: str | None) -> dict[str, str | None]:
    """The JSON object printed for one point."""
    if pref is None:
        return {"pref": None, "name": None, "name_en": None}
    info = prefecture(pref)
    return {"pref": pref, "name": info.name, "name_en": info.name_en}


def _number(text: str, what: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise GeoError(f"{what} {text.strip()!r} is not a number") from None


def parse_rows(text: str) -> tuple[list[Row], list[str]]:
    """Parse ``lat,lon`` rows; return (usable rows, error messages).

    The first non-blank row may be a header naming the columns (``lat,lon`` or
    ``lon,lat``, also ``latitude``/``lng``/``緯度``/``経度``). Blank rows are skipped.
    """
    rows: list[Row] = []
    errors: list[str] = []
    order = (0, 1)
    seen_first = False
    for line, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or all(not f.strip() for f in fields):
            continue
        names = [f.strip().casefold() for f in fields]
        if not seen_first and len(names) == 2 and set(names) <= LAT_HEADERS | LON_HEADERS:
            seen_first = True
            if names[0] in LON_HEADERS and names[1] in LAT_HEADERS:
                order = (1, 0)
            elif not (names[0] in LAT_HEADERS and names[1] in LON_HEADERS):
                errors.append(f"line {line}: header needs one latitude and one longitude column")
            continue
        seen_first = True
        if len(fields) != 2:
            errors.append(f"line {line}: expected 2 fields (lat,lon), got {len(fields)}")
            continue
        try:
            lat = _number(fields[order[0]], "latitude")
            lon = _number(fields[order[1]], "longitude")
            validate_point(lat, lon)
        except GeoError as err:
            errors.append(f"line {line}: {err}")
            continue
        rows.append(Row(line, lat, lon))
    return rows, errors


def _read_input(path: str, stdin: TextIO) -> str:
    if path == "-":
        text = stdin.read(MAX_CSV_BYTES + 1)
        if len(text.encode()) > MAX_CSV_BYTES:
            raise GeoError(f"stdin is larger than MAX_CSV_BYTES={MAX_CSV_BYTES}")
        return text
    file = Path(path)
    try:
        if file.stat().st_size > MAX_CSV_BYTES:
            raise GeoError(f"{path} is larger than MAX_CSV_BYTES={MAX_CSV_BYTES}")
        return file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise GeoError(f"cannot read {path}: {err}") from err


def _write_rows(rows: Sequence[Row], prefs: Sequence[str | None], fmt: str, out: TextIO) -> None:
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("lat", "lon", "pref"))
        for row, pref in zip(rows, prefs, strict=True):
            writer.writerow((repr(row.lat), repr(row.lon), pref or ""))
        return
    for row, pref in zip(rows, prefs, strict=True):
        record = {"line": row.line, "lat": row.lat, "lon": row.lon, **describe(pref)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Handle ``yure geo``; return the exit status (0 ok, 1 bad input)."""
    del settings
    if args.csv_path is not None:
        if args.lat is not None:
            print("yure geo: give either LAT LON or --csv FILE, not both", file=sys.stderr)
            return 1
        try:
            text = _read_input(args.csv_path, sys.stdin)
        except GeoError as err:
            print(f"yure geo: {err}", file=sys.stderr)
            return 1
        rows, errors = parse_rows(text)
        prefs = tag_points([r.lat for r in rows], [r.lon for r in rows])
        _write_rows(rows, prefs, args.format, sys.stdout)
        for message in errors:
            print(f"yure geo: {message}", file=sys.stderr)
        return 1 if errors else 0
    if args.lat is None or args.lon is None:
        print("yure geo: give LAT LON (e.g. yure geo 38.27 140.87) or --csv FILE", file=sys.stderr)
        return 1
    try:
        lat = _number(args.lat, "latitude")
        lon = _number(args.lon, "longitude")
        pref = pref_at(lat, lon)
    except GeoError as err:
        print(f"yure geo: {err}", file=sys.stderr)
        return 1
    print(json.dumps(describe(pref), ensure_ascii=False))
    return 0
