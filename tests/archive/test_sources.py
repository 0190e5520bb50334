"""Backfill sources: a member that claims or inflates past the cap is refused unread,
folders are walked in name order, only documents are read."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from yure.archive import sources
from yure.archive.errors import SourceError
from yure.archive.sources import Document, DocumentKind, Skipped, documents


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sources, "MAX_DOCUMENT_BYTES", 100)
    return 100


def test_oversized_members_are_refused_unread(tmp_path: Path, small_cap: int) -> None:
    tgz = tmp_path / "a.tar.gz"
    with tarfile.open(tgz, "w:gz") as tar:
        for name, size in (("ok.xml", 10), ("big.xml", small_cap + 1), ("notes.txt", 5)):
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(b"x" * size))
    bomb = tmp_path / "b.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.json", b"0" * (small_cap * 1000))  # compresses to little
        archive.writestr("ok.json", b"{}")
    (tmp_path / "c.xml").write_bytes(b"y" * (small_cap + 1))
    found = list(documents([tgz, bomb, tmp_path / "c.xml"]))
    assert [type(f) for f in found] == [Document, Skipped, Skipped, Document, Skipped]
    assert found[0] == Document(f"{tgz}!ok.xml", DocumentKind.JMA_XML, b"x" * 10)
    assert found[3] == Document(f"{bomb}!ok.json", DocumentKind.P2P_JSON, b"{}")
    assert all("over 100" in f.reason for f in found if isinstance(f, Skipped))


def test_folders_in_name_order_and_missing_paths(tmp_path: Path) -> None:
    for name in ("b/2.xml", "a/9.json", "a/1.jsonl", "c.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"1")
    names = [Path(d.name).relative_to(tmp_path).as_posix() for d in documents([tmp_path])]
    assert names == ["c.txt", "a/1.jsonl", "a/9.json", "b/2.xml"]  # a folder's files first
    with pytest.raises(SourceError, match="no such file"):
        list(documents([tmp_path / "missing"]))
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"\x1f\x8b not gzip")
    with pytest.raises(SourceError, match="tar"):
        list(documents([broken]))
