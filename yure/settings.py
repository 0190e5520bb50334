"""The one ``Settings`` of a yure process, read once from the environment.

Nothing else in yure reads ``os.environ``: the command line builds a
:class:`Settings` with :meth:`Settings.from_env` and passes it down. Every field
has a default that runs yure on one machine with no configuration at all.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import platformdirs

from yure.errors import ConfigError
from yure.forwarded import Network, parse_networks, parse_public_url
from yure.redis_url import parse_redis_url

JMA_FEED_BASE = "https://www.data.jma.go.jp/developer/xml/feed/"
DEFAULT_JMA_FEEDS = (JMA_FEED_BASE + "eqvol.xml",)
DEFAULT_JMA_BACKFILL_FEEDS = (JMA_FEED_BASE + "eqvol_l.xml",)

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Configuration of one yure process. Built once; never mutated."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    #: ``None`` means: start an embedded redis-server as a child process.
    redis_url: str | None = None
    data_dir: Path = dataclasses.field(
        default_factory=lambda: Path(platformdirs.user_data_dir("yure"))
    )
    jma_feeds: tuple[str, ...] = DEFAULT_JMA_FEEDS
    jma_backfill_feeds: tuple[str, ...] = DEFAULT_JMA_BACKFILL_FEEDS
    poll_interval_s: float = 20.0
    http_timeout_s: float = 10.0
    #: P2P地震情報 WebSocket API; ``None`` disables the second source.
    p2p_ws_url: str | None = None
    ingest_enabled: bool = True
    #: Web Push: run the delivery job on this node (under the lease ``yure:lease:push``).
    push_enabled: bool = True
    #: VAPID private key (raw P-256 scalar, base64url); ``None``: a key file in data_dir.
    vapid_private_key: str | None = dataclasses.field(default=None, repr=False)
    #: VAPID ``sub`` claim (RFC 8292 §2.1): how push services reach the operator.
    vapid_subject: str = "mailto:yure@localhost"
    #: Accept http:// and loopback push endpoints (tests and local development only).
    push_allow_insecure_local: bool = False
    #: Push subscriptions one client address may hold.
    push_max_subs_per_ip: int = 20
    #: Push requests in flight at once.
    push_concurrency: int = 256
    retention_s: int = 48 * 3600
    feed_stale_s: float = 600.0
    log_level: str = "INFO"
    #: Open stream connections (WebSocket + SSE) per client address per worker process.
    ws_max_conns_per_ip: int = 256
    #: Events one coalesced WebSocket frame may carry (1 turns coalescing off).
    ws_max_events_per_frame: int = 256
    #: A connection must complete its first request's headers within this (slowloris).
    header_timeout_s: float = 10.0
    #: A keep-alive connection with no request in progress is closed after this.
    idle_timeout_s: float = 75.0
    #: Connections that have not completed a request yet, per worker; the oldest go first.
    max_pending_connections: int = 1024
    #: A safety check-in is deleted this long after its event (default 7 days).
    checkin_ttl_s: int = 7 * 24 * 3600
    #: Key of the stored address hashes; None: a random one kept in ``data_dir``.
    address_secret: str | None = None
    #: Bearer token for /metrics and the details of /healthz from other machines; None:
    #: only this machine's own (loopback) clients see them.
    metrics_token: str | None = None
    #: Replicas that must hold a timeline append before it counts as done (``WAIT``; 0 = off).
    #: Set 1 on Redis Cluster / Sentinel with one replica per master (docs/operations.md).
    redis_wait_replicas: int = 0
    #: Reverse proxies whose Forwarded / X-Forwarded-* headers are believed (CIDRs).
    trusted_proxies: tuple[Network, ...] = ()
    #: ``scheme://host[:port]`` the public reaches yure at; pins invite/Atom/self URLs.
    public_url: str | None = None
    #: ``text`` (key=value lines) or ``json`` (one JSON object per line).
    log_format: str = "text"
    #: One log line per HTTP request (logger ``yure.access``).
    access_log: bool = False
    #: PostgreSQL URL of the history archive; ``None`` means an SQLite file in data_dir.
    database_url: str | None = None
    #: Archived events older than this many days are deleted; ``None`` keeps them for ever.
    archive_retention_days: int | None = None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, defaults_seen: dict[str, object] | None = None
    ) -> Settings:
        """Build settings from an environment mapping.

        Args:
            env: the environment.
            defaults_seen: when given, gets each variable's name → default, in the order
                read (for ``--help``, :func:`environment_help`).

        Raises:
            ConfigError: a variable is present but unusable; the message names it.
        """
        defaults = cls()

        def get(name: str, parse: Callable[[str], T], default: T) -> T:
            if defaults_seen is not None:
                defaults_seen[name] = default
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                return default
            try:
                return parse(raw.strip())
            except (ValueError, ConfigError) as err:
                raise ConfigError(f"{name}={raw!r}: {err}") from err

        return cls(
            host=get("YURE_HOST", str, defaults.host),
            port=get("YURE_PORT", _port, defaults.port),
            workers=get("YURE_WORKERS", _positive_int, defaults.workers),
            redis_url=get("REDIS_URL", _redis_url, defaults.redis_url),
            data_dir=get("YURE_DATA_DIR", Path, defaults.data_dir),
            jma_feeds=get("YURE_JMA_FEEDS", _url_list, defaults.jma_feeds),
            jma_backfill_feeds=get(
                "YURE_JMA_BACKFILL_FEEDS", _url_list_or_none, defaults.jma_backfill_feeds
            ),
            poll_interval_s=get("YURE_POLL_INTERVAL", _positive_float, defaults.poll_interval_s),
            http_timeout_s=get("YURE_HTTP_TIMEOUT", _positive_float, defaults.http_timeout_s),
            p2p_ws_url=get("YURE_P2P_WS_URL", _ws_url, defaults.p2p_ws_url),
            ingest_enabled=get("YURE_INGEST", _bool, defaults.ingest_enabled),
            push_enabled=get("YURE_PUSH", _bool, defaults.push_enabled),
            vapid_private_key=get("YURE_VAPID_PRIVATE_KEY", str, defaults.vapid_private_key),
            vapid_subject=get("YURE_VAPID_SUBJECT", _vapid_subject, defaults.vapid_subject),
            push_allow_insecure_local=get(
                "YURE_PUSH_ALLOW_INSECURE_LOCAL", _bool, defaults.push_allow_insecure_local
            ),
            push_max_subs_per_ip=get(
                "YURE_PUSH_MAX_SUBS_PER_IP", _positive_int, defaults.push_max_subs_per_ip
            ),
            push_concurrency=get("YURE_PUSH_CONCURRENCY", _positive_int, defaults.push_concurrency),
            retention_s=get("YURE_RETENTION_S", _retention, defaults.retention_s),
            feed_stale_s=get("YURE_FEED_STALE_S", _positive_float, defaults.feed_stale_s),
            log_level=get("YURE_LOG_LEVEL", _log_level, defaults.log_level),
            ws_max_conns_per_ip=get(
                "YURE_WS_MAX_CONNS_PER_IP", _positive_int, defaults.ws_max_conns_per_ip
            ),
            ws_max_events_per_frame=get(
                "YURE_WS_MAX_EVENTS_PER_FRAME", _positive_int, defaults.ws_max_events_per_frame
            ),
            header_timeout_s=get(
                "YURE_HEADER_TIMEOUT_S", _positive_float, defaults.header_timeout_s
            ),
            idle_timeout_s=get("YURE_IDLE_TIMEOUT_S", _positive_float, defaults.idle_timeout_s),
            max_pending_connections=get(
                "YURE_MAX_PENDING_CONNECTIONS", _positive_int, defaults.max_pending_connections
            ),
            checkin_ttl_s=get("YURE_CHECKIN_TTL_S", _positive_int, defaults.checkin_ttl_s),
            address_secret=get("YURE_ADDRESS_SECRET", _secret, defaults.address_secret),
            metrics_token=get("YURE_METRICS_TOKEN", _secret, defaults.metrics_token),
            redis_wait_replicas=get(
                "YURE_REDIS_WAIT_REPLICAS", _non_negative_int, defaults.redis_wait_replicas
            ),
            trusted_proxies=get("YURE_TRUSTED_PROXIES", parse_networks, defaults.trusted_proxies),
            public_url=get("YURE_PUBLIC_URL", _public_url, defaults.public_url),
            log_format=get("YURE_LOG_FORMAT", _log_format, defaults.log_format),
            access_log=get("YURE_ACCESS_LOG", _bool, defaults.access_log),
            database_url=get("YURE_DATABASE_URL", _database_url, defaults.database_url),
            archive_retention_days=get(
                "YURE_ARCHIVE_RETENTION_DAYS", _positive_int, defaults.archive_retention_days
            ),
        )


def environment_help() -> str:
    """Every environment variable yure reads, with its default: the epilog of ``--help``."""
    seen: dict[str, object] = {}
    Settings.from_env({}, defaults_seen=seen)
    width = max(len(name) for name in seen)
    lines = ["environment (read once at start; default in brackets):"]
    for name, default in seen.items():
        lines.append(f"  {name.ljust(width)}  [{_shown(default)}]")
    lines.append("REDIS_URL unset: yure serve runs its own redis-server under YURE_DATA_DIR.")
    return "\n".join(lines)


def _shown(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "none"
    return str(value)


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("must be 0..65535")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be >= 1")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a positive number")
    return value


def _retention(raw: str) -> int:
    value = int(raw)
    if value < 24 * 3600:
        raise ValueError("retention must be at least 86400 seconds (24 h)")
    return value


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {raw!r}")
    return raw


def _url_list(raw: str) -> tuple[str, ...]:
    urls = tuple(_http_url(u.strip()) for u in raw.split(",") if u.strip())
    if not urls:
        raise ValueError("needs at least one URL")
    return urls


def _url_list_or_none(raw: str) -> tuple[str, ...]:
    if raw.lower() == "none":
        return ()
    return _url_list(raw)


def _ws_url(raw: str) -> str | None:
    if raw.lower() == "none":
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"ws", "wss"} or not parts.netloc:
        raise ValueError(f"not a ws(s) URL: {raw!r}")
    return raw


def _redis_url(raw: str) -> str:
    parse_redis_url(raw)  # raises ValueError naming what is wrong
    return raw


def _secret(raw: str) -> str:
    if len(raw) < 32:
        raise ValueError("must be at least 32 characters (e.g. openssl rand -hex 32)")
    return raw


def _public_url(raw: str) -> str:
    scheme, host = parse_public_url(raw)
    return f"{scheme}://{host}"


def _log_format(raw: str) -> str:
    value = raw.lower()
    if value not in {"text", "json"}:
        raise ValueError("must be text or json")
    return value


def _database_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"postgresql", "postgres"}:
        raise ValueError("must be a postgresql:// URL")
    return raw


def _vapid_subject(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme == "mailto" and "@" in parts.path:
        return raw
    if parts.scheme == "https" and parts.netloc:
        return raw
    raise ValueError("must be a mailto: address or an https:// URL (RFC 8292 §2.1)")


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level


#: The validators of YURE_PORT and YURE_WORKERS, reused by the command line's overrides
#: (``yure serve --port/--workers``) so both refuse the same values with the same words.
parse_port = _port
parse_positive_int = _positive_int
