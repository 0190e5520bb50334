"""Every real JMA telegram in ../shared/reference/jma/xml through the real ``yure parse``.

Runs the console entry point in a subprocess once, then checks invariants on every
line and exact values on several telegrams. Skips where the reference set is absent.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from yure.geo.codes import PREF_CODES
from yure.ingest.event import TsunamiGrade, event_to_json
from yure.ingest.telegram import parse_telegram

pytestmark = pytest.mark.reference

KIND_OF = {
    "VXSE51": "quake", "VXSE52": "quake", "VXSE53": "quake", "VXSE61": "quake", "VXSE62": "quake",
    "VXSE43": "eew", "VXSE44": "eew", "VXSE45": "eew",
    "VTSE41": "tsunami", "VTSE51": "tsunami", "VTSE52": "tsunami",
    "VZSE40": "notice", "VYSE50": "notice", "VYSE60": "notice",
}  # fmt: skip
INTENSITIES = {"1", "2", "3", "4", "5-", "5+", "6-", "6+", "7"}
GRADES = {grade.value for grade in TsunamiGrade}


def _no_constants(name: str) -> float:
    raise AssertionError(f"non-JSON constant {name} in output")


@pytest.fixture(scope="module")
def telegram_files(reference_dir: Path) -> list[Path]:
    files = sorted((reference_dir / "jma" / "xml").glob("*.xml"))
    assert len(files) >= 25
    return files


@pytest.fixture(scope="module")
def parsed(telegram_files: list[Path]) -> dict[str, dict[str, Any]]:
    """``yure parse`` over every file: name → JSON object (one line per file, in order)."""
    result = subprocess.run(
        [sys.executable, "-m", "yure", "parse", *map(str, telegram_files)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    lines = result.stdout.decode().splitlines()
    assert len(lines) == len(telegram_files)
    return {
        path.name: json.loads(line, parse_constant=_no_constants)
        for path, line in zip(telegram_files, lines, strict=True)
    }


def test_invariants(parsed: dict[str, dict[str, Any]]) -> None:
    for name, event in parsed.items():
        code = name.removesuffix(".xml").rsplit("_", 1)[-1]
        assert event["type_code"] == code, name
        assert event["kind"] == KIND_OF.get(code, "other"), name
        assert event["official"] is True
        assert event["status"] in {"actual", "exercise", "test"}
        assert event["info_type"] in {"issued", "corrected", "cancelled"}
        assert event["event_id"], name
        assert event["serial"] is None or event["serial"] >= 1
        assert datetime.fromisoformat(event["reported_at"]).utcoffset() is not None
        assert event["title"] and event["headline"] == event["headline"].strip()
        prefs = event["prefs"]
        assert prefs == sorted(set(prefs)) and set(prefs) <= set(PREF_CODES), name
        assert event["max_intensity"] is None or event["max_intensity"] in INTENSITIES
        assert set(event["intensity"]) <= set(prefs)
        assert set(event["intensity"].values()) <= INTENSITIES
        hypo = event["hypocenter"]
        if hypo is not None:
            assert hypo["lat"] is None or -90 <= hypo["lat"] <= 90
            assert hypo["lon"] is None or -180 <= hypo["lon"] <= 180
            assert hypo["depth_km"] is None or hypo["depth_km"] >= 0
            assert hypo["magnitude"] is None or math.isfinite(hypo["magnitude"])
            assert hypo["magnitude_text"], name
        for area in event["tsunami"]:
            assert area["grade"] in GRADES and area["last_grade"] in GRADES | {None}
            assert area["prefs"] and set(area["prefs"]) <= set(prefs), (name, area)
        if event["info_type"] == "cancelled":
            assert (hypo, prefs, event["tsunami"]) == (None, [], []), name
        elif event["kind"] == "tsunami":
            assert prefs, name
        if event["kind"] in {"other", "notice"}:
            assert (prefs, event["tsunami"], event["intensity"]) == ([], [], {}), name


def test_same_as_in_process(telegram_files: list[Path], parsed: dict[str, dict[str, Any]]) -> None:
    for path in telegram_files:
        event = parse_telegram(path.read_bytes(), file_name=path.name)
        assert event_to_json(event) == parsed[path.name], path.name


def test_specific_values(parsed: dict[str, dict[str, Any]]) -> None:
    big = parsed["32-35_06_03_240613_VXSE53.xml"]  # 岩手・宮城内陸地震 2008
    assert big["max_intensity"] == "6+"
    assert big["hypocenter"] == {
        "name": "岩手県内陸南部", "lat": 39.0, "lon": 140.9, "depth_km": 10.0,
        "magnitude": 7.0, "magnitude_text": "Ｍ７．０",
    }  # fmt: skip
    assert {k: big["intensity"][k] for k in ("03", "04", "05", "06", "01")} == {
        "03": "6+", "04": "6+", "05": "5+", "06": "5-", "01": "3",
    }  # fmt: skip
    assert len(big["prefs"]) == 19

    exercise = parsed["32-35_01_02_240613_VXSE52.xml"]
    assert (exercise["status"], exercise["serial"], exercise["prefs"]) == ("exercise", None, ["22"])

    fiji = parsed["32-35_01_03_100514_VXSE53.xml"]
    assert fiji["foreign"] is True and fiji["prefs"] == []
    assert (fiji["hypocenter"]["lat"], fiji["hypocenter"]["depth_km"]) == (-17.2, 570.0)
    chile = parsed["32-39_05_04_100831_VXSE53.xml"]
    assert chile["foreign"] is True
    assert (chile["hypocenter"]["lon"], chile["hypocenter"]["depth_km"]) == (-72.6, None)

    update = parsed["32-35_06_09_240613_VXSE61.xml"]["hypocenter"]
    assert (update["lat"], update["lon"], update["depth_km"]) == (39.028333, 140.88, 8.0)

    tohoku = parsed["32-39_11_02_250206_VTSE41.xml"]
    assert tohoku["hypocenter"]["magnitude"] is None
    assert tohoku["hypocenter"]["magnitude_text"] == "Ｍ８を超える巨大地震"
    assert len(tohoku["tsunami"]) == 43
    assert tohoku["tsunami"][0] == {
        "area_code": "210", "area_name": "岩手県", "grade": "major_warning",
        "last_grade": "none", "prefs": ["03"], "arrival_time": None,
        "arrival_condition": "津波到達中と推測", "max_height_m": None,
        "max_height_text": "巨大", "stations": [],
    }  # fmt: skip
    grades = {a["area_code"]: a["grade"] for a in tohoku["tsunami"]}
    assert (grades["101"], grades["100"]) == ("warning", "advisory")

    lifted = parsed["32-39_11_13_250206_VTSE41.xml"]
    assert len(lifted["tsunami"]) == 66
    first = lifted["tsunami"][0]
    assert (first["area_code"], first["grade"], first["last_grade"]) == (
        "100", "forecast", "advisory",
    )  # fmt: skip
    assert all(a["grade"] == "forecast" for a in lifted["tsunami"])

    offshore = parsed["61_11_01_250206_VTSE52.xml"]
    assert (offshore["tsunami"], offshore["prefs"]) == ([], ["03"])

    eew = parsed["37_01_01_240613_VXSE43.xml"]
    assert (eew["max_intensity"], eew["prefs"]) == ("5-", ["34", "35", "38", "39", "44"])
    assert parsed["77_01_04_240613_VXSE45.xml"]["prefs"] == eew["prefs"]
    assert parsed["36_01_01_240613_VXSE44.xml"]["max_intensity"] == "3"

    assert parsed["54_01_01_100514_VXSE42.xml"]["status"] == "test"
    assert parsed["67_01_01_140927_VFVO56.xml"]["event_id"] == "20140927120000_312"
    cancelled = [name for name, e in parsed.items() if e["info_type"] == "cancelled"]
    assert sorted(cancelled) == [
        "32-35_06_06_100915_VXSE53.xml",
        "32-35_10_01_220510_VXSE51.xml",
        "37_01_03_240613_VXSE43.xml",
        "38-39_03_01_210805_VTSE41.xml",
    ]
