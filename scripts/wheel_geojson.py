"""Fetch the ``reversejp`` wheel and pull JMA's GeoJSON out of its compiled extension.

``reversejp`` 0.1.1 (MIT, github.com/ringsaturn/reversejp) embeds JMA's area
GeoJSON as small ZIP archives inside ``reversejp.abi3.so``. We neither install
nor import it: the wheel is fetched with ``pip download`` (the ordinary client),
its SHA-256 is checked against the pin below (the hash PyPI's simple index lists
for this file), and the archives are located by their ZIP end-of-central-directory
records (APPNOTE.TXT §4.3.16: signature ``PK\\x05\\x06``; the central directory
of ``size`` bytes starts ``offset`` bytes after the archive's first byte).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

WHEEL_REQUIREMENT = "reversejp==0.1.1"
WHEEL_FILE = "reversejp-0.1.1-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WHEEL_SHA256 = "2711a4ba9f60822753e7e6c03e7c904d01c5d9f5f9ab1e2c6091bc05e1675647"
EXTENSION_MEMBER = "reversejp/reversejp.abi3.so"
MAX_WHEEL_BYTES = 16 * 1024 * 1024
MAX_MEMBER_BYTES = 8 * 1024 * 1024

#: The archives the extension must contain, each with one JSON member of the same name.
#: ``class10s`` = 一次細分区域 (153 features), ``landslides_*`` = 市町村等 (1,855 in all).
EXPECTED_MEMBERS = ("class10s.json", *(f"landslides_{i}.json" for i in range(10)))
EXPECTED_CLASS10_FEATURES = 153
EXPECTED_CITY_FEATURES = 1855

_EOCD = b"PK\x05\x06"
_EOCD_FORMAT = "<4sHHHHIIH"  # APPNOTE.TXT 4.3.16, 22 bytes without the comment
_EOCD_SIZE = struct.calcsize(_EOCD_FORMAT)

Feature = Mapping[str, Any]  # a GeoJSON feature: the wire edge, so Any is allowed here


class SourceError(Exception):
    """The downloaded source is not the one this build was written for."""


def fetch_wheel(cache_dir: Path) -> bytes:
    """Return the wheel's bytes, downloading it into ``cache_dir`` when absent.

    Raises:
        SourceError: pip failed, or the file's SHA-256 is not the pinned one.
    """
    target = cache_dir / WHEEL_FILE
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            cmd = [
                sys.executable, "-m", "pip", "download", WHEEL_REQUIREMENT,
                "--no-deps", "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
                "--python-version", "3.11", "--implementation", "cp", "--dest", tmp,
            ]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
            if done.returncode != 0:
                raise SourceError(f"pip download failed: {done.stderr.strip()[-2000:]}")
            got = Path(tmp) / WHEEL_FILE
            if not got.exists():
                raise SourceError(
                    f"pip did not produce {WHEEL_FILE}: {sorted(Path(tmp).iterdir())}"
                )
            got.replace(target)
    data = target.read_bytes()
    if len(data) > MAX_WHEEL_BYTES:
        raise SourceError(f"{target} larger than MAX_WHEEL_BYTES")
    digest = hashlib.sha256(data).hexdigest()
    if digest != WHEEL_SHA256:
        raise SourceError(
            f"{target}: sha256 {digest} != pinned {WHEEL_SHA256} (delete it to download again)"
        )
    return data


def embedded_archives(blob: bytes) -> dict[str, bytes]:
    """Return ``{member name: bytes}`` of every ZIP archive embedded in ``blob``.

    Byte runs that look like an end-of-central-directory record but do not open
    as a ZIP (machine code happens to contain the signature) are skipped.
    """
    found: dict[str, bytes] = {}
    at = blob.find(_EOCD)
    while at != -1:
        if at + _EOCD_SIZE <= len(blob):
            _sig, _d, _cd, _n_here, _n, cd_size, cd_offset, comment = struct.unpack_from(
                _EOCD_FORMAT, blob, at
            )
            start = at - cd_size - cd_offset
            end = at + _EOCD_SIZE + comment
            if start >= 0 and end <= len(blob):
                found.update(_open_archive(blob[start:end]))
        at = blob.find(_EOCD, at + 1)
    return found


def _open_archive(data: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = {}
            for info in archive.infolist():
                if info.file_size > MAX_MEMBER_BYTES:
                    raise SourceError(f"embedded {info.filename} larger than MAX_MEMBER_BYTES")
                members[info.filename] = archive.read(info)
            return members
    except (zipfile.BadZipFile, ValueError, NotImplementedError):
        return {}


def load_features(wheel: bytes) -> tuple[list[Feature], list[Feature]]:
    """Return (市町村等 features, 一次細分区域 features) from the wheel.

    Raises:
        SourceError: members or feature counts differ from the expected ones.
    """
    with zipfile.ZipFile(io.BytesIO(wheel)) as whl:
        extension = whl.read(EXTENSION_MEMBER)
    members = embedded_archives(extension)
    if tuple(sorted(members)) != tuple(sorted(EXPECTED_MEMBERS)):
        raise SourceError(f"embedded archives changed: {sorted(members)}")
    collections = {name: json.loads(members[name]) for name in EXPECTED_MEMBERS}
    for name, doc in collections.items():
        if doc.get("type") != "FeatureCollection":
            raise SourceError(f"{name} is not a FeatureCollection")
    cities = [f for name in EXPECTED_MEMBERS[1:] for f in collections[name]["features"]]
    class10s = list(collections["class10s.json"]["features"])
    if len(cities) != EXPECTED_CITY_FEATURES:
        raise SourceError(f"{len(cities)} 市町村等 features, expected {EXPECTED_CITY_FEATURES}")
    if len(class10s) != EXPECTED_CLASS10_FEATURES:
        raise SourceError(f"{len(class10s)} 一次細分区域, expected {EXPECTED_CLASS10_FEATURES}")
    return cities, class10s
