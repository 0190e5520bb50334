"""``yure parse FILE...`` (ingest.cli), run through yure's real command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from yure.commands import main
from yure.ingest.telegram import MAX_TELEGRAM_BYTES

FIXTURES = Path(__file__).parent / "fixtures"

#: The keys of the ``yure parse`` contract (docs/cli.md); extra keys are allowed.
CONTRACT_KEYS = {
    "type_code",
    "kind",
    "status",
    "info_type",
    "event_id",
    "serial",
    "reported_at",
    "title",
    "headline",
    "foreign",
    "hypocenter",
    "max_intensity",
    "intensity",
    "tsunami",
    "prefs",
}


def run(capsysbinary: pytest.CaptureFixture[bytes], *files: str) -> tuple[int, list[str], str]:
    status = main(["parse", *files])
    captured = capsysbinary.readouterr()
    return status, captured.out.decode().splitlines(), captured.err.decode()


def test_one_line_per_file_in_input_order(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    names = ["VTSE41_lifted.xml", "VXSE51_exercise.xml", "VXSE43_warning.xml"]
    status, lines, err = run(capsysbinary, *(str(FIXTURES / name) for name in names))
    assert (status, err) == (0, "")
    events = [orjson.loads(line) for line in lines]
    assert [e["type_code"] for e in events] == ["VTSE41", "VXSE51", "VXSE43"]
    for event in events:
        assert set(event) >= CONTRACT_KEYS
    assert events[1]["intensity"] == {"08": "5+", "11": "4", "12": "4", "13": "3"}
    assert events[1]["status"] == "exercise"


def test_bad_files_get_one_stderr_line_each_and_the_rest_is_parsed(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.xml"
    oversized = tmp_path / "huge_VXSE53.xml"
    oversized.write_bytes(b" " * (MAX_TELEGRAM_BYTES + 10))
    files = [
        str(FIXTURES / "not_xml.bin"),
        str(FIXTURES / "VXSE52_test_shallow.xml"),
        str(missing),
        str(tmp_path),
        str(FIXTURES / "billion_laughs.xml"),
        str(oversized),
        str(FIXTURES / "not_jma.xml"),
        str(FIXTURES / "VXSE53_cancelled.xml"),
    ]
    status, lines, err = run(capsysbinary, *files)
    assert status == 1
    assert [orjson.loads(line)["type_code"] for line in lines] == ["VXSE52", "VXSE53"]
    errors = err.splitlines()
    assert errors == [
        f"yure parse: {files[0]}: not well-formed XML: not well-formed (invalid token): "
        "line 1, column 0",
        f"yure parse: {missing}: No such file or directory",
        f"yure parse: {tmp_path}: Is a directory",
        f"yure parse: {files[4]}: forbidden XML construct (DTDForbidden): DTDs, entity "
        "declarations and external references are not accepted",
        f"yure parse: {oversized}: document larger than MAX_TELEGRAM_BYTES={MAX_TELEGRAM_BYTES}",
        f"yure parse: {files[6]}: root element '{{http://www.w3.org/2005/Atom}}feed' is not "
        "a JMA Report (http://xml.kishou.go.jp/jmaxml1/)",
    ]


def test_type_code_comes_from_the_path_given(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    renamed = tmp_path / "20240520031510_0_VXSE53_400000.xml"
    renamed.write_bytes((FIXTURES / "VXSE52_test_shallow.xml").read_bytes())
    status, lines, _ = run(capsysbinary, str(renamed))
    assert status == 0
    assert orjson.loads(lines[0])["type_code"] == "VXSE53"


def test_at_least_one_file_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["parse"])
    assert exit_info.value.code == 2
    assert "FILE" in capsys.readouterr().err
