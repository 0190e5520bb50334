"""Security headers of yure's pages: Content-Security-Policy, framing, sniffing, referrer.

Pure values; :mod:`web.pages` attaches them to every response it makes.

* Every page runs under a strict CSP (CSP Level 3, https://www.w3.org/TR/CSP3/):
  ``default-src 'none'`` and exactly what the page needs, all same-origin: scripts and
  styles are external files under ``/static/`` — never ``'unsafe-inline'`` or
  ``'unsafe-eval'`` — images ``'self' data:``, and ``connect-src 'self'`` for ``fetch``
  and the WebSocket (CSP3 §6.7.2.8: ``'self'`` matches ``ws:``/``wss:`` of the same
  host and port).
* Framing: the embed (``/embed``) may be framed by any site (``frame-ancestors *``);
  every other page only by yure itself (``frame-ancestors 'self'``, plus the legacy
  ``X-Frame-Options: SAMEORIGIN``).
* ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer`` everywhere
  (invite links carry their token in the fragment, and no page needs a Referer).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Policy(StrEnum):
    """Which set of headers a response gets."""

    #: The live map, the check-in page.
    PAGE = "page"
    #: The embed builder: a page that also frames a preview of the embed.
    BUILDER = "builder"
    #: ``/embed``: framed by other sites, read-only.
    EMBED = "embed"
    #: Same-origin scripts, styles and data files.
    ASSET = "asset"
    #: ``/embed.js``: a script that other sites load.
    SHARED_SCRIPT = "shared_script"


#: Directives every document shares.
_BASE_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'none'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data:"),
    ("connect-src", "'self'"),
    ("base-uri", "'none'"),
)

_DOCUMENT_DIRECTIVES: Mapping[Policy, tuple[tuple[str, str], ...]] = {
    # The live page links a web app manifest (notifications on iOS need "Add to Home Screen").
    Policy.PAGE: (
        *_BASE_DIRECTIVES,
        ("manifest-src", "'self'"),
        ("form-action", "'self'"),
        ("frame-ancestors", "'self'"),
    ),
    Policy.BUILDER: (
        *_BASE_DIRECTIVES,
        ("frame-src", "'self'"),
        ("form-action", "'self'"),
        ("frame-ancestors", "'self'"),
    ),
    Policy.EMBED: (*_BASE_DIRECTIVES, ("form-action", "'none'"), ("frame-ancestors", "*")),
}

#: Non-document responses: nothing may run or be framed under their URL.
ASSET_CSP = "default-src 'none'; frame-ancestors 'none'"

#: Documents use none of these powerful features.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"
#: ... except the live page's "use my location" for notifications (never when framed).
PAGE_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(self), payment=()"
#: ``/sw.js``: the service worker loads nothing but its notification icons.
SERVICE_WORKER_CSP = "default-src 'none'; img-src 'self'; frame-ancestors 'none'"

_COMMON: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def content_security_policy(policy: Policy) -> str:
    """The CSP header value of ``policy``, directives joined by ``"; "``."""
    directives = _DOCUMENT_DIRECTIVES.get(policy)
    if directives is None:
        return ASSET_CSP
    return "; ".join(f"{name} {value}" for name, value in directives)


def security_headers(policy: Policy) -> dict[str, str]:
    """Every security header of a response under ``policy``."""
    headers = dict(_COMMON)
    headers["Content-Security-Policy"] = content_security_policy(policy)
    if policy in (Policy.PAGE, Policy.BUILDER):
        headers["X-Frame-Options"] = "SAMEORIGIN"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = (
            PAGE_PERMISSIONS_POLICY if policy is Policy.PAGE else PERMISSIONS_POLICY
        )
    elif policy is Policy.EMBED:
        # Sites that isolate themselves (COEP require-corp) can still frame the widget.
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
    elif policy is Policy.SHARED_SCRIPT:
        headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    else:
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return headers
