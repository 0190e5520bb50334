"""The server secret that keys stored address hashes (driver: one file).

``YURE_ADDRESS_SECRET`` (Settings.address_secret) wins; otherwise the secret is the file
``<data_dir>/address_secret``, made with 32 random bytes on first start (mode 0600,
created exclusively so that workers starting together agree on one secret). Every node
of a cluster must share it: set the variable, or copy the file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from yure.errors import ConfigError
from yure.settings import Settings

SECRET_FILE = "address_secret"  # noqa: S105 - a file name, not a secret
SECRET_BYTES = 32


def address_secret(settings: Settings) -> bytes:
    """The secret of this deployment.

    Raises:
        ConfigError: the data directory cannot hold the secret file.
    """
    if settings.address_secret is not None:
        return settings.address_secret.encode("utf-8")
    return load_or_create(settings.data_dir / SECRET_FILE)


def load_or_create(path: Path) -> bytes:
    """The secret in ``path``, made first if the file does not exist.

    Raises:
        ConfigError: the file cannot be read or made, or is too short.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(SECRET_BYTES) + "\n")
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot keep the address secret in {path}: {err}") from err
    if len(value) < 2 * SECRET_BYTES:
        raise ConfigError(f"{path} holds no usable secret (delete it to make a new one)")
    return value.encode("ascii")
