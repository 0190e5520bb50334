"""Tests of ``yure geo`` through the real entry point ``yure.commands.main``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from yure.commands import main
from yure.geo import cli as geo_cli

Capture = pytest.CaptureFixture[str]


def _run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    status = main(["geo", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_point_on_land(capsys: Capture) -> None:
    status, out, err = _run(capsys, "38.2682", "140.8694")
    assert (status, err) == (0, "")
    assert out == '{"pref": "04", "name": "宮城県", "name_en": "Miyagi"}\n'
    assert json.loads(out) == {"pref": "04", "name": "宮城県", "name_en": "Miyagi"}


def test_point_at_sea(capsys: Capture) -> None:
    status, out, _ = _run(capsys, "37", "143")
    assert status == 0
    assert json.loads(out) == {"pref": None, "name": None, "name_en": None}


def test_negative_coordinates_are_positionals(capsys: Capture) -> None:
    status, out, _ = _run(capsys, "-33.87", "151.21")
    assert status == 0
    assert json.loads(out)["pref"] is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["abc", "140"], "latitude 'abc' is not a number"),
        (["35", "east"], "longitude 'east' is not a number"),
        (["91", "140"], "latitude 91.0 is out of range"),
        (["nan", "140"], "latitude must be finite"),
        (["35", "inf"], "longitude must be finite"),
        (["35"], "give LAT LON"),
        ([], "give LAT LON"),
    ],
)
def test_bad_point(capsys: Capture, argv: list[str], message: str) -> None:
    status, out, err = _run(capsys, *argv)
    assert status == 1
    assert out == ""
    assert err.startswith("yure geo: ") and message in err


def test_csv_jsonl_with_header_and_bad_rows(capsys: Capture, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text(
        "lat,lon\n35.6938,139.7034\n\n37,143\nabc,1\n95,135\n1,2,3\n43.0621,141.3544\n",
        encoding="utf-8",
    )
    status, out, err = _run(capsys, "--csv", str(path))
    assert status == 1
    assert [json.loads(line) for line in out.splitlines()] == [
        {"line": 2, "lat": 35.6938, "lon": 139.7034, "pref": "13", "name": "東京都",
         "name_en": "Tokyo"},
        {"line": 4, "lat": 37.0, "lon": 143.0, "pref": None, "name": None, "name_en": None},
        {"line": 8, "lat": 43.0621, "lon": 141.3544, "pref": "01", "name": "北海道",
         "name_en": "Hokkaido"},
    ]  # fmt: skip
    assert err.splitlines() == [
        "yure geo: line 5: latitude 'abc' is not a number",
        "yure geo: line 6: latitude 95.0 is out of range [-90, 90]",
        "yure geo: line 7: expected 2 fields (lat,lon), got 3",
    ]


def test_csv_without_header_as_csv_output(capsys: Capture, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("\ufeff34.6937,135.5023\n30,127\n", encoding="utf-8")
    status, out, err = _run(capsys, "--csv", str(path), "--format", "csv")
    assert (status, err) == (0, "")
    assert out == "lat,lon,pref\n34.6937,135.5023,27\n30.0,127.0,\n"


def test_csv_lon_lat_header_from_stdin(capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Longitude, Latitude\n127.6809,26.2124\n"))
    status, out, err = _run(capsys, "--csv", "-")
    assert (status, err) == (0, "")
    assert json.loads(out)["pref"] == "47"


@pytest.mark.parametrize(
    ("text", "message", "tagged_lines"),
    [
        ("lat,緯度\n35,139\n", "line 1: header needs one latitude and one longitude column", [2]),
        ("35.0,139.5\nlat,lon\n", "line 2: latitude 'lat' is not a number", [1]),
    ],
)
def test_csv_bad_header(
    capsys: Capture, tmp_path: Path, text: str, message: str, tagged_lines: list[int]
) -> None:
    """A header with two latitudes is reported; a header after the first row is data."""
    path = tmp_path / "points.csv"
    path.write_text(text, encoding="utf-8")
    status, out, err = _run(capsys, "--csv", str(path))
    assert (status, err) == (1, f"yure geo: {message}\n")
    assert [json.loads(line)["line"] for line in out.splitlines()] == tagged_lines


def test_csv_missing_file(capsys: Capture, tmp_path: Path) -> None:
    status, out, err = _run(capsys, "--csv", str(tmp_path / "absent.csv"))
    assert (status, out) == (1, "")
    assert "cannot read" in err


def test_csv_not_utf8(capsys: Capture, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_bytes(b"\xff\xfe35,139\n")
    status, _out, err = _run(capsys, "--csv", str(path))
    assert status == 1 and "cannot read" in err


def test_csv_size_cap(capsys: Capture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geo_cli, "MAX_CSV_BYTES", 8)
    path = tmp_path / "points.csv"
    path.write_text("35.6938,139.7034\n", encoding="utf-8")
    status, out, err = _run(capsys, "--csv", str(path))
    assert (status, out) == (1, "")
    assert "MAX_CSV_BYTES" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("35.6938,139.7034\n"))
    status, out, err = _run(capsys, "--csv", "-")
    assert (status, out) == (1, "")
    assert "MAX_CSV_BYTES" in err


def test_csv_and_point_together(capsys: Capture, tmp_path: Path) -> None:
    status, _out, err = _run(capsys, "35", "139", "--csv", str(tmp_path / "x.csv"))
    assert status == 1
    assert "not both" in err


def test_empty_csv(capsys: Capture, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("", encoding="utf-8")
    assert _run(capsys, "--csv", str(path)) == (0, "", "")
