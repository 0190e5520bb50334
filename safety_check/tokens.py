"""Bearer tokens, invite tokens and ids (pure apart from the OS random source).

A token is 32 random bytes (``secrets.token_urlsafe``, base64url, 43 characters). Only its
SHA-256 is stored, so a copy of the database does not let anyone log in; a tampered token
hashes to a key that does not exist.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from yure.safety_check.errors import Unauthorized

TOKEN_BYTES = 32
#: base64url of 32 bytes without padding (RFC 4648 §5).
TOKEN_RE = re.compile(r"[A-Za-z0-9_\-]{43}")
#: Anything longer in an Authorization header is refused before hashing.
MAX_AUTHORIZATION_CHARS = 256
ID_BYTES = 12
ID_RE = re.compile(r"[A-Za-z0-9_\-]{16}")
SESSION_COOKIE = "yure_session"


def new_token() -> str:
    """A fresh session or invite token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_id() -> str:
    """A fresh unguessable id (96 bits) for users, check-ins and posts."""
    return secrets.token_urlsafe(ID_BYTES)


def hash_token(token: str) -> str:
    """SHA-256 hex of a token: the form in which tokens are stored and looked up."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def is_token(value: str) -> bool:
    """Whether ``value`` has the shape of a token (checked before any lookup)."""
    return TOKEN_RE.fullmatch(value) is not None


def is_id(value: str) -> bool:
    """Whether ``value`` has the shape of an id made by :func:`new_id`."""
    return ID_RE.fullmatch(value) is not None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1), or None
    when there is no header.

    Raises:
        Unauthorized: a header that is not a well-formed Bearer token.
    """
    if authorization is None:
        return None
    if len(authorization) > MAX_AUTHORIZATION_CHARS:
        raise Unauthorized("malformed Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not is_token(token):
        raise Unauthorized("malformed Authorization header")
    return token
