"""Where the VAPID key lives: ``YURE_VAPID_PRIVATE_KEY``, or a file in the data dir.

Driver module (files). On first start the key is generated and written to
``<data_dir>/vapid_private_key`` with mode 0600.
Changing the key invalidates every browser subscription (they were made for the
old public key), so the file must be kept with the rest of the data dir.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from yure.push.errors import VapidKeyError
from yure.push.vapid import generate_private_key, private_key_from_b64, private_key_to_b64

log = logging.getLogger(__name__)

KEY_FILE_NAME = "vapid_private_key"
#: The key file is a line of 43 characters; anything much longer is not ours.
MAX_KEY_FILE_BYTES = 256


def load_or_create(data_dir: Path, configured: str | None) -> ec.EllipticCurvePrivateKey:
    """The VAPID key: ``configured`` (from the environment) if given, else the data dir's
    key file, made on first start (mode 0600).

    Raises:
        VapidKeyError: the configured key or the file is unusable, or cannot be written.
    """
    if configured is not None:
        return private_key_from_b64(configured)
    path = data_dir / KEY_FILE_NAME
    if path.exists():
        return _read(path)
    key = generate_private_key()
    # Written to a private temporary file, then linked into place: link() fails when the
    # name exists, so of two workers starting together one key wins and both use it.
    tmp = data_dir / f".{KEY_FILE_NAME}.{os.getpid()}.tmp"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(private_key_to_b64(key) + "\n")
        os.link(tmp, path)
    except FileExistsError:
        return _read(path)
    except OSError as err:
        raise VapidKeyError(f"cannot create {path}: {err}") from err
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    log.info("vapid key created path=%s", path)
    return key


def _read(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        with path.open("rb") as src:
            raw = src.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as err:
        raise VapidKeyError(f"cannot read {path}: {err}") from err
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise VapidKeyError(f"{path} is larger than {MAX_KEY_FILE_BYTES} bytes")
    return private_key_from_b64(raw.decode("ascii", errors="replace"))
