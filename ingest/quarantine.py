"""Bad documents kept aside for a human to look at (driver: writes files).

When a telegram or message cannot be used, its bytes go to
``settings.data_dir/quarantine/`` as ``{UTC stamp}_{sha256 prefix}_{origin}.bin`` with a
``.txt`` beside it saying where it came from and why it was refused. At most
:data:`MAX_QUARANTINE_FILES` documents are kept: the oldest go first. Keeping is best
effort: a full disk is logged, never raised, because a bad document must not stop ingest.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

#: Documents kept; older ones are deleted when a new one arrives.
MAX_QUARANTINE_FILES = 200
#: Bytes kept of one document (callers already cap what they read).
MAX_QUARANTINE_BYTES = 4 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ORIGIN_CHARS = 80


def quarantine_dir(data_dir: Path) -> Path:
    """Where quarantined documents live under ``data_dir``."""
    return data_dir / "quarantine"


class Quarantine:
    """A bounded folder of refused documents."""

    def __init__(self, directory: Path, *, max_files: int = MAX_QUARANTINE_FILES) -> None:
        self.directory = directory
        self.max_files = max_files
        self.kept = 0

    def _write(self, data: bytes, origin: str, reason: str) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        digest = hashlib.sha256(data).hexdigest()[:16]
        tail = origin.rstrip("/").rsplit("/", 1)[-1]
        safe = _UNSAFE.sub("_", tail)[:_ORIGIN_CHARS] or "document"
        path = self.directory / f"{stamp}_{digest}_{safe}.bin"
        path.write_bytes(data[:MAX_QUARANTINE_BYTES])
        path.with_suffix(".txt").write_text(f"origin={origin}\nreason={reason}\n", "utf-8")
        kept = sorted(self.directory.glob("*.bin"))
        for old in kept[: max(0, len(kept) - self.max_files)]:
            old.unlink(missing_ok=True)
            old.with_suffix(".txt").unlink(missing_ok=True)
        return path

    async def keep(self, data: bytes, *, origin: str, reason: str) -> Path | None:
        """Store ``data`` with where it came from and why; None when it could not be
        written (logged)."""
        try:
            path = await asyncio.to_thread(self._write, data, origin, reason)
        except OSError as err:
            logger.warning("quarantine_failed origin=%s error=%s", origin, err)
            return None
        self.kept += 1
        logger.info("quarantined origin=%s path=%s bytes=%d", origin, path, len(data))
        return path
