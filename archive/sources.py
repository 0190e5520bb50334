"""Backfill sources: paths in, documents out (files, folders, .tar.gz/.tgz/.tar, .zip).

Driver module (it reads files; what the documents say is :mod:`archive.importer`'s).
A document is one JMA XML telegram (``.xml``) or one P2P地震情報 JSON document
(``.json``: one item, an array of items as ``/v2/history``, ``/v2/jma/quake`` and
``/v2/jma/tsunami`` answer, or one item per line). Folders are walked in name order (a
folder's files, then its subfolders); archive members are read in their stored order;
anything else is skipped and counted. Every document is read with a size cap; archive
members that claim more are refused unread, and one that inflates past it is dropped
after reading the cap (no zip bomb is inflated whole).
"""

from __future__ import annotations

import dataclasses
import os
import tarfile
import zipfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

from yure.archive.errors import SourceError

#: Largest document read (a 551 DetailScale with every station is a few hundred kB; a
#: /v2/jma/quake page of 100 of those, some MB).
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
#: Members read from one .tar/.zip at most.
MAX_MEMBERS_PER_ARCHIVE = 1_000_000
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar")


class DocumentKind(StrEnum):
    """What a document is, by its name."""

    JMA_XML = "xml"
    P2P_JSON = "json"


@dataclasses.dataclass(frozen=True, slots=True)
class Document:
    """One document to import: where it came from, what it is, its bytes."""

    name: str
    kind: DocumentKind
    data: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Skipped:
    """A file or member that is not a document (wrong type, too large), and why."""

    name: str
    reason: str


def kind_of(name: str) -> DocumentKind | None:
    """The document kind of a file named ``name``, None when it is not a document."""
    lowered = name.lower()
    if lowered.endswith(".xml"):
        return DocumentKind.JMA_XML
    if lowered.endswith(".json") or lowered.endswith(".jsonl"):
        return DocumentKind.P2P_JSON
    return None


def _read_file(path: Path) -> bytes | Skipped:
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        return Skipped(str(path), f"{size} bytes is over {MAX_DOCUMENT_BYTES}")
    return path.read_bytes()


def _from_tar(path: Path) -> Iterator[Document | Skipped]:
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for count, member in enumerate(tar):
                if count >= MAX_MEMBERS_PER_ARCHIVE:
                    yield Skipped(str(path), f"more than {MAX_MEMBERS_PER_ARCHIVE} members")
                    return
                name = f"{path}!{member.name}"
                kind = kind_of(member.name)
                if not member.isfile() or kind is None:
                    continue
                if member.size > MAX_DOCUMENT_BYTES:
                    yield Skipped(name, f"{member.size} bytes is over {MAX_DOCUMENT_BYTES}")
                    continue
                handle = tar.extractfile(member)
                if handle is not None:
                    yield Document(name, kind, handle.read(MAX_DOCUMENT_BYTES + 1))
    except (tarfile.TarError, EOFError, OSError) as err:
        raise SourceError(f"{path}: not a readable tar archive: {err}") from err


def _from_zip(path: Path) -> Iterator[Document | Skipped]:
    try:
        with zipfile.ZipFile(path) as archive:
            for count, info in enumerate(archive.infolist()):
                if count >= MAX_MEMBERS_PER_ARCHIVE:
                    yield Skipped(str(path), f"more than {MAX_MEMBERS_PER_ARCHIVE} members")
                    return
                name = f"{path}!{info.filename}"
                kind = kind_of(info.filename)
                if info.is_dir() or kind is None:
                    continue
                if info.file_size > MAX_DOCUMENT_BYTES:
                    yield Skipped(name, f"{info.file_size} bytes is over {MAX_DOCUMENT_BYTES}")
                    continue
                with archive.open(info) as handle:
                    data = handle.read(MAX_DOCUMENT_BYTES + 1)
                if len(data) > MAX_DOCUMENT_BYTES:
                    yield Skipped(name, f"inflates past {MAX_DOCUMENT_BYTES} bytes")
                    continue
                yield Document(name, kind, data)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise SourceError(f"{path}: not a readable zip archive: {err}") from err


def _from_file(path: Path) -> Iterator[Document | Skipped]:
    lowered = path.name.lower()
    if lowered.endswith(_TAR_SUFFIXES):
        yield from _from_tar(path)
        return
    if lowered.endswith(".zip"):
        yield from _from_zip(path)
        return
    kind = kind_of(path.name)
    if kind is None:
        yield Skipped(str(path), "not .xml, .json, .tar.gz, .tgz, .tar or .zip")
        return
    data = _read_file(path)
    yield data if isinstance(data, Skipped) else Document(str(path), kind, data)


def documents(paths: list[Path]) -> Iterator[Document | Skipped]:
    """Every document under ``paths``, in order (folders recursively, by name).

    Raises:
        SourceError: a path does not exist or an archive is broken.
    """
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    try:
                        yield from _from_file(Path(root) / name)
                    except OSError as err:
                        raise SourceError(f"{Path(root) / name}: {err}") from err
        elif path.is_file():
            try:
                yield from _from_file(path)
            except OSError as err:
                raise SourceError(f"{path}: {err}") from err
        else:
            raise SourceError(f"{path}: no such file or folder")
