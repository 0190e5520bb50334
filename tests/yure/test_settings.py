"""Settings: defaults, every variable parsed, every bad value named in the error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from yure.errors import ConfigError
from yure.settings import DEFAULT_JMA_FEEDS, Settings


def test_defaults_run_on_one_machine() -> None:
    settings = Settings.from_env({})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.redis_url is None
    assert settings.jma_feeds == DEFAULT_JMA_FEEDS
    assert settings.jma_feeds[0].endswith("/eqvol.xml")
    assert settings.jma_backfill_feeds[0].endswith("/eqvol_l.xml")
    assert settings.retention_s >= 24 * 3600
    assert settings.p2p_ws_url is None


def test_every_variable_is_read() -> None:
    env = {
        "YURE_HOST": "0.0.0.0",
        "YURE_PORT": "0",
        "YURE_WORKERS": "4",
        "REDIS_URL": "redis://127.0.0.1:6390/1",
        "YURE_DATA_DIR": "/tmp/yure-x",
        "YURE_JMA_FEEDS": "http://127.0.0.1:9/a.xml, http://127.0.0.1:9/b.xml",
        "YURE_JMA_BACKFILL_FEEDS": "none",
        "YURE_POLL_INTERVAL": "2.5",
        "YURE_HTTP_TIMEOUT": "3",
        "YURE_P2P_WS_URL": "ws://127.0.0.1:9/v2/ws",
        "YURE_INGEST": "false",
        "YURE_PUSH": "false",
        "YURE_VAPID_PRIVATE_KEY": "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
        "YURE_VAPID_SUBJECT": "https://yure.example.org/contact",
        "YURE_PUSH_ALLOW_INSECURE_LOCAL": "1",
        "YURE_PUSH_MAX_SUBS_PER_IP": "3",
        "YURE_PUSH_CONCURRENCY": "16",
        "YURE_RETENTION_S": "90000",
        "YURE_FEED_STALE_S": "120",
        "YURE_LOG_LEVEL": "debug",
        "YURE_WS_MAX_CONNS_PER_IP": "8",
        "YURE_WS_MAX_EVENTS_PER_FRAME": "1",
        "YURE_CHECKIN_TTL_S": "3600",
        "YURE_HEADER_TIMEOUT_S": "2.5",
        "YURE_IDLE_TIMEOUT_S": "30",
        "YURE_MAX_PENDING_CONNECTIONS": "64",
        "YURE_ADDRESS_SECRET": "s" * 32,
        "YURE_METRICS_TOKEN": "t" * 32,
        "YURE_REDIS_WAIT_REPLICAS": "1",
        "YURE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1",
        "YURE_PUBLIC_URL": "https://yure.example.org/",
        "YURE_LOG_FORMAT": "JSON",
        "YURE_ACCESS_LOG": "true",
        "YURE_DATABASE_URL": "postgresql://yure@127.0.0.1:5439/yure",
        "YURE_ARCHIVE_RETENTION_DAYS": "365",
    }
    settings = Settings.from_env(env)
    assert settings.host == "0.0.0.0"
    assert settings.port == 0
    assert settings.workers == 4
    assert settings.redis_url == "redis://127.0.0.1:6390/1"
    assert settings.data_dir == Path("/tmp/yure-x")
    assert settings.jma_feeds == ("http://127.0.0.1:9/a.xml", "http://127.0.0.1:9/b.xml")
    assert settings.jma_backfill_feeds == ()
    assert settings.poll_interval_s == 2.5
    assert settings.http_timeout_s == 3.0
    assert settings.p2p_ws_url == "ws://127.0.0.1:9/v2/ws"
    assert settings.ingest_enabled is False
    assert settings.push_enabled is False
    assert settings.vapid_private_key == "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
    assert "yfWPiYE" not in repr(settings)
    assert settings.vapid_subject == "https://yure.example.org/contact"
    assert settings.push_allow_insecure_local is True
    assert settings.push_max_subs_per_ip == 3
    assert settings.push_concurrency == 16
    assert settings.retention_s == 90000
    assert settings.feed_stale_s == 120.0
    assert settings.log_level == "DEBUG"
    assert settings.ws_max_conns_per_ip == 8
    assert settings.ws_max_events_per_frame == 1
    assert settings.checkin_ttl_s == 3600
    assert settings.header_timeout_s == 2.5
    assert settings.idle_timeout_s == 30.0
    assert settings.max_pending_connections == 64
    assert settings.address_secret == "s" * 32
    assert settings.metrics_token == "t" * 32
    assert settings.redis_wait_replicas == 1
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert settings.public_url == "https://yure.example.org"
    assert settings.log_format == "json"
    assert settings.access_log is True
    assert settings.database_url == "postgresql://yure@127.0.0.1:5439/yure"
    assert settings.archive_retention_days == 365
    defaults = Settings()
    unread = [
        f.name
        for f in dataclasses.fields(Settings)
        if getattr(settings, f.name) == getattr(defaults, f.name)
    ]
    assert unread == []  # a new field needs its variable in this test


def test_blank_values_mean_default() -> None:
    assert Settings.from_env({"YURE_PORT": "  ", "REDIS_URL": ""}) == Settings.from_env({})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("YURE_PORT", "http"),
        ("YURE_PORT", "70000"),
        ("YURE_WORKERS", "0"),
        ("REDIS_URL", "http://localhost"),
        ("YURE_JMA_FEEDS", "ftp://x/y.xml"),
        ("YURE_JMA_FEEDS", " , "),
        ("YURE_JMA_BACKFILL_FEEDS", "file:///etc/passwd"),
        ("YURE_POLL_INTERVAL", "nan"),
        ("YURE_POLL_INTERVAL", "-1"),
        ("YURE_P2P_WS_URL", "https://api.p2pquake.net/v2/ws"),
        ("YURE_INGEST", "maybe"),
        ("YURE_PUSH", "sometimes"),
        ("YURE_VAPID_SUBJECT", "ops@example.org"),
        ("YURE_VAPID_SUBJECT", "http://example.org"),
        ("YURE_PUSH_MAX_SUBS_PER_IP", "0"),
        ("YURE_PUSH_CONCURRENCY", "-4"),
        ("YURE_RETENTION_S", "3600"),
        ("YURE_LOG_LEVEL", "LOUD"),
        ("YURE_WS_MAX_CONNS_PER_IP", "0"),
        ("YURE_WS_MAX_EVENTS_PER_FRAME", "many"),
        ("YURE_CHECKIN_TTL_S", "-1"),
        ("YURE_ADDRESS_SECRET", "short"),
        ("YURE_METRICS_TOKEN", "short"),
        ("YURE_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("YURE_TRUSTED_PROXIES", "nginx"),
        ("YURE_PUBLIC_URL", "yure.example.org"),
        ("YURE_PUBLIC_URL", "https://yure.example.org/path"),
        ("YURE_LOG_FORMAT", "xml"),
        ("YURE_ACCESS_LOG", "sometimes"),
        ("YURE_DATABASE_URL", "mysql://x/y"),
        ("YURE_ARCHIVE_RETENTION_DAYS", "0"),
    ],
)
def test_bad_values_fail_fast_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_p2p_can_be_switched_off_explicitly() -> None:
    assert Settings.from_env({"YURE_P2P_WS_URL": "none"}).p2p_ws_url is None


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
