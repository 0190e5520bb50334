"""The built wheel, installed into a fresh venv outside the checkout, runs from another folder.

What an operator does with ``pipx install yure``: no checkout on the path, no ``data/``
beside the packages, only what the wheel carries. ``PYTHONPATH`` is removed from the
children's environment so that nothing of this checkout can be imported by accident.
The venv is made without pip and filled by this interpreter's pip (``--python``) without
byte-compiling, which keeps the install to a few seconds (pip's wheel cache is used).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "ingest" / "fixtures"
#: Bound of one install or build step.
STEP_TIMEOUT_S = 300
#: Bound of the wait for ``yure serve`` to answer /healthz.
SERVE_TIMEOUT_S = 60.0
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "test-artifacts",
    ".coverage*",
)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "REDIS_URL"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built with ``pip wheel --no-deps``."""
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools leaves build/ and *.egg-info beside the sources, and a
    # stale build/lib would put deleted modules into the next wheel.
    source = tmp_path_factory.mktemp("source") / "yure"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_NOT_SOURCE)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
        check=True,
        timeout=STEP_TIMEOUT_S,
        env=_clean_env(),
    )
    (built,) = out.glob("yure-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (outside the checkout) with the wheel and its runtime dependencies."""
    home = tmp_path_factory.mktemp("venv")
    assert not home.is_relative_to(ROOT)
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(home)], check=True, timeout=60
    )
    pip = [sys.executable, "-m", "pip", "--python", str(home / "bin" / "python")]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-compile", str(wheel)],
        check=True,
        timeout=STEP_TIMEOUT_S,
        env=_clean_env(),
    )
    return home


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working folder that is not the checkout."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_only_yure_is_a_top_level_import_name(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top = {name.split("/", 1)[0] for name in names}
        dist_info = next(name for name in top if name.endswith(".dist-info"))
        declared = archive.read(f"{dist_info}/top_level.txt").decode().split()
    assert top == {"yure", dist_info}
    assert declared == ["yure"]
    # The data files travel as package data.
    assert "yure/data/prefectures.csv" in names
    assert "yure/data/pref_index.npz" in names
    assert "yure/web/static/index.html" in names


def test_installed_yure_is_the_wheel(venv: Path, elsewhere: Path) -> None:
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import yure; print(yure.__file__)"],
        cwd=elsewhere,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert Path(result.stdout.strip()).is_relative_to(venv)


def test_parse_from_another_folder(venv: Path, elsewhere: Path) -> None:
    # The bug was: the second file died on a missing prefectures.csv.
    names = ("VXSE53_prefixed.xml", "VTSE41_major_tokyo_bay.xml", "VXSE61_degree_minute.xml")
    files = [FIXTURES / name for name in names]
    result = subprocess.run(
        [str(venv / "bin" / "yure"), "parse", *map(str, files)],
        cwd=elsewhere,
        env=_clean_env(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == len(files)
    assert all(event["official"] is True for event in events)
    assert any(event["prefs"] for event in events)


def test_geo_from_another_folder(venv: Path, elsewhere: Path) -> None:
    result = subprocess.run(
        [str(venv / "bin" / "yure"), "geo", "35.6895", "139.6917"],
        cwd=elsewhere,
        env=_clean_env(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout)["pref"] == "13"


@pytest.fixture
def served(venv: Path, elsewhere: Path) -> Iterator[str]:
    env = _clean_env(YURE_PORT="0", YURE_INGEST="false", YURE_DATA_DIR=str(elsewhere / "data"))
    process = subprocess.Popen(
        [str(venv / "bin" / "yure"), "serve"],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=(elsewhere / "serve.log").open("wb"),
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("yure: listening on http://"), (
            line + (elsewhere / "serve.log").read_text()
        )
        yield line.split(" on ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_from_another_folder(served: str, elsewhere: Path) -> None:
    deadline = time.monotonic() + SERVE_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"{served}/healthz", timeout=5) as resp:
                body = json.loads(resp.read())
                break
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < deadline, "yure serve never answered /healthz"
            time.sleep(0.05)
    assert body["status"] == "ok"
    assert body["redis"] is True
    with urllib.request.urlopen(f"{served}/", timeout=5) as resp:
        assert "yure" in resp.read().decode()
    # The data dir holds password hashes and check-ins: the owner's only.
    data = elsewhere / "data"
    assert data.stat().st_mode & 0o777 == 0o700
    aof = [p for p in data.rglob("*") if p.is_file() and ".aof" in p.name]
    assert aof
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in aof)
