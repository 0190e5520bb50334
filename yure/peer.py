"""The one place yure reads a client's address (for per-address limits).

Behind ``YURE_TRUSTED_PROXIES`` the web layer's proxy middleware has already replaced
``request.remote`` by the forwarded client (:mod:`yure.forwarded`), so every limit —
stream connections per address, the safety check's rate limits — sees the real client
by asking here, and nothing else reads the peer.
"""

from __future__ import annotations

from aiohttp import web

#: The address of a client whose socket has none (a Unix socket).
UNKNOWN_PEER = "unknown"


def client_address(request: web.Request) -> str:
    """The client's address of ``request`` (``"unknown"`` when the socket has none)."""
    return request.remote or UNKNOWN_PEER
