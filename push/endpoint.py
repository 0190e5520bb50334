"""Which push endpoints yure will contact: https:// on public addresses only.

A subscription hands yure a URL that yure will POST to, so an unchecked endpoint
would let anyone make the server send requests into its own network (SSRF). The
URL check (:func:`check_endpoint`) and the address check (:func:`address_allowed`)
are pure; the delivery client (:mod:`yure.push.wire`) applies the address check to every
DNS answer when it connects (so a name that later resolves to 10.0.0.1 — DNS rebinding —
is refused too), and :func:`check_resolves_public` to the answer at subscription time.

``YURE_PUSH_ALLOW_INSECURE_LOCAL=1`` admits ``http://`` and loopback addresses (and
nothing else private), for tests and local development.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from yure.push.errors import EndpointError
from yure.push.limits import MAX_ENDPOINT_CHARS, RESOLVE_TIMEOUT_S

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoint:
    """A checked endpoint URL."""

    url: str
    host: str
    port: int
    #: The host is an IP literal (already checked; nothing to resolve).
    literal: bool


def address_allowed(address: IPAddress, *, allow_local: bool) -> bool:
    """Whether yure may connect to ``address``: globally routable (not private,
    loopback, link-local, CGNAT, multicast, reserved, documentation…), or loopback
    when ``allow_local``. IPv4-mapped IPv6 addresses are judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if allow_local and address.is_loopback:
        return True
    return address.is_global and not address.is_multicast


def check_endpoint(url: object, *, allow_local: bool) -> Endpoint:
    """Check an endpoint URL's shape (and its address when it is an IP literal).

    Raises:
        EndpointError: not a string, too long, not https:// (http:// only with
            ``allow_local``), credentials or a fragment in it, no host, a bad port,
            or an IP literal that is not public.
    """
    if not isinstance(url, str) or not url:
        raise EndpointError("subscription.endpoint must be a URL")
    if len(url) > MAX_ENDPOINT_CHARS:
        raise EndpointError(f"subscription.endpoint is longer than {MAX_ENDPOINT_CHARS}")
    parts = urlsplit(url)
    schemes = {"https", "http"} if allow_local else {"https"}
    if parts.scheme not in schemes:
        raise EndpointError("subscription.endpoint must be an https:// URL")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise EndpointError("subscription.endpoint must not carry credentials or a fragment")
    host = parts.hostname
    if not host:
        raise EndpointError("subscription.endpoint has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise EndpointError("subscription.endpoint has a bad port") from err
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not address_allowed(literal, allow_local=allow_local):
        raise EndpointError("subscription.endpoint must be on a public address")
    local_name = host == "localhost" or host.endswith((".localhost", ".local"))
    if literal is None and local_name and not allow_local:
        raise EndpointError("subscription.endpoint must be on a public address")
    return Endpoint(url=url, host=host, port=port, literal=literal is not None)


async def check_resolves_public(endpoint: Endpoint, *, allow_local: bool) -> None:
    """Resolve the endpoint's host now and refuse it unless every address is allowed.

    Raises:
        EndpointError: the name does not resolve (in time), or resolves to any
            address that is not public.
    """
    if endpoint.literal:
        return
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            infos: list[Any] = await loop.getaddrinfo(
                endpoint.host, endpoint.port, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError) as err:
        raise EndpointError("subscription.endpoint's host does not resolve") from err
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address_allowed(address, allow_local=allow_local):
            raise EndpointError("subscription.endpoint must be on a public address")
