"""Who the client is behind a reverse proxy (pure): ``Forwarded`` and ``X-Forwarded-*``.

A request's headers say who the client was only when the peer that sent them is one of
the operator's proxies (``YURE_TRUSTED_PROXIES``); anyone else could write any address
into them. :func:`resolve_origin` takes the TCP peer, the headers and the trusted networks
and returns the :class:`Origin` (client address, scheme, host) yure acts on:

* ``Forwarded`` (RFC 7239 §4) wins over the ``X-Forwarded-*`` family when present.
* The address list is read right to left (RFC 7239 §7.4: each proxy appends the address
  it saw); trusted proxies are skipped, and the first address that is not one of them is
  the client. When every hop is trusted, the leftmost is.
* Scheme and host come from the hop that saw the client (``Forwarded``), or the last
  ``X-Forwarded-Proto`` / ``X-Forwarded-Host`` value (the one our own proxy wrote).
* A malformed header is ignored as a whole (the peer then stays the client), so a
  proxy's bug never lets a client choose its address.

``YURE_PUBLIC_URL`` pins scheme and host for every request (:func:`resolve_origin`'s
``public`` argument), whatever the headers say.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Longest forwarding header we read; a longer one is ignored.
MAX_FORWARDED_HEADER_CHARS = 4096
#: Hops of a forwarding chain we read; a longer chain is ignored.
MAX_FORWARDED_HOPS = 32
#: Longest host name we accept from a header (RFC 1035 §2.3.4, plus a port).
MAX_HOST_CHARS = 261

_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PAIR = re.compile(rf'\s*({_TCHARS})\s*=\s*({_TCHARS}|"(?:[^"\\]|\\.)*")\s*')
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$")
_SCHEMES = frozenset({"http", "https"})


@dataclasses.dataclass(frozen=True, slots=True)
class Origin:
    """What yure treats as the client's view of a request."""

    #: The client's address ("unknown" when the socket has none, e.g. a Unix socket).
    remote: str
    scheme: str
    #: ``host[:port]`` as the client addressed it.
    host: str

    @property
    def secure(self) -> bool:
        """Whether the client talks to us over TLS (cookies get ``Secure``, HSTS is sent)."""
        return self.scheme == "https"

    @property
    def base_url(self) -> str:
        """``scheme://host`` of the public site, e.g. for invite links and Atom self links."""
        return f"{self.scheme}://{self.host}"


def parse_networks(raw: str) -> tuple[Network, ...]:
    """Parse ``YURE_TRUSTED_PROXIES``: comma-separated CIDRs or single addresses.

    Raises:
        ValueError: an item is not an address or network.
    """
    networks = []
    for item in raw.split(","):
        item = item.strip()
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def parse_public_url(raw: str) -> tuple[str, str]:
    """Parse ``YURE_PUBLIC_URL`` into (scheme, host).

    Raises:
        ValueError: not ``http(s)://host[:port]`` with nothing after the host.
    """
    parts = urlsplit(raw.strip())
    if parts.scheme not in _SCHEMES or not parts.netloc or not _HOST.match(parts.netloc):
        raise ValueError(f"not an http(s)://host[:port] URL: {raw!r}")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ValueError("must have no path, query or fragment")
    return parts.scheme, parts.netloc


def is_trusted(address: str | None, trusted: Sequence[Network]) -> bool:
    """Whether ``address`` (a textual IP) is inside one of the ``trusted`` networks."""
    ip = _address(address)
    return ip is not None and any(ip in net for net in trusted)


def resolve_origin(
    *,
    peer: str | None,
    scheme: str,
    host: str,
    headers: Mapping[str, str],
    trusted: Sequence[Network],
    public: tuple[str, str] | None = None,
) -> Origin:
    """The client's origin of one request.

    Args:
        peer: the TCP peer's address (``None`` for a Unix socket).
        scheme: the scheme of the connection (``http`` unless yure terminates TLS).
        host: the ``Host`` the request carried.
        headers: the request headers (case-insensitive mapping; first value of each).
        trusted: the networks of the operator's proxies.
        public: ``(scheme, host)`` of ``YURE_PUBLIC_URL``, which wins when set.
    """
    remote, fwd_scheme, fwd_host = peer or "unknown", scheme, host
    if is_trusted(peer, trusted):
        hops = _forwarded_hops(headers)
        if hops is not None:
            remote, fwd_scheme, fwd_host = _pick(hops, trusted, remote, scheme, host)
        else:
            remote, fwd_scheme, fwd_host = _x_forwarded(headers, trusted, remote, scheme, host)
    if public is not None:
        fwd_scheme, fwd_host = public
    return Origin(remote=remote, scheme=fwd_scheme, host=fwd_host)


# -- Forwarded (RFC 7239) --------------------------------------------------------------------

Hop = dict[str, str]


def parse_forwarded(value: str) -> list[Hop] | None:
    """The elements of a ``Forwarded`` header (RFC 7239 §4), each a dict of lower-cased
    parameter names to unquoted values; ``None`` when malformed or over the caps."""
    if len(value) > MAX_FORWARDED_HEADER_CHARS:
        return None
    hops: list[Hop] = []
    for element in _split_outside_quotes(value, ","):
        hop: Hop = {}
        for pair in _split_outside_quotes(element, ";"):
            if not pair.strip():
                continue
            match = _PAIR.fullmatch(pair)
            if match is None:
                return None
            name, raw = match.group(1).lower(), match.group(2)
            if raw.startswith('"'):
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            hop[name] = raw
        hops.append(hop)
        if len(hops) > MAX_FORWARDED_HOPS:
            return None
    return hops or None


def _forwarded_hops(headers: Mapping[str, str]) -> list[Hop] | None:
    value = headers.get("Forwarded")
    if value is None:
        return None
    return parse_forwarded(value)


def _pick(
    hops: list[Hop], trusted: Sequence[Network], remote: str, scheme: str, host: str
) -> tuple[str, str, str]:
    """Walk the ``for=`` chain right to left past trusted proxies."""
    chosen: Hop | None = None
    for hop in reversed(hops):
        node = _node_address(hop.get("for"))
        if node is None:
            return remote, scheme, host  # an obfuscated or missing hop: trust stops here
        chosen = hop
        if not is_trusted(node, trusted):
            break
    assert chosen is not None  # hops is never empty
    client = _node_address(chosen.get("for")) or remote
    proto = chosen.get("proto", "").lower()
    via_host = chosen.get("host", "")
    return (
        client,
        proto if proto in _SCHEMES else scheme,
        via_host if _valid_host(via_host) else host,
    )


def _node_address(node: str | None) -> str | None:
    """The IP of an RFC 7239 §6 node (``192.0.2.1``, ``"[2001:db8::1]:4711"``)."""
    if node is None:
        return None
    text = node.strip()
    if text.startswith("["):
        end = text.find("]")
        text = text[1:end] if end > 0 else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    ip = _address(text)
    return None if ip is None else str(ip)


# -- X-Forwarded-For / -Proto / -Host -----------------------------------------------------


def _x_forwarded(
    headers: Mapping[str, str], trusted: Sequence[Network], remote: str, scheme: str, host: str
) -> tuple[str, str, str]:
    chain = _list(headers.get("X-Forwarded-For"))
    if chain:
        addresses = [_node_address(item) for item in chain]
        if all(a is not None for a in addresses):
            picked = [a for a in addresses if a is not None]
            remote = picked[0]
            for address in reversed(picked):
                remote = address
                if not is_trusted(address, trusted):
                    break
    protos = _list(headers.get("X-Forwarded-Proto"))
    if protos and protos[-1].lower() in _SCHEMES:
        scheme = protos[-1].lower()
    hosts = _list(headers.get("X-Forwarded-Host"))
    if hosts and _valid_host(hosts[-1]):
        host = hosts[-1]
    return remote, scheme, host


def _list(value: str | None) -> list[str]:
    if value is None or len(value) > MAX_FORWARDED_HEADER_CHARS:
        return []
    items = [item.strip() for item in value.split(",")]
    if len(items) > MAX_FORWARDED_HOPS or not all(items):
        return []
    return items


# -- helpers --------------------------------------------------------------------------------


def _address(text: str | None) -> Address | None:
    if not text:
        return None
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _valid_host(host: str) -> bool:
    return 0 < len(host) <= MAX_HOST_CHARS and _HOST.match(host) is not None


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts
