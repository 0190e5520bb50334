"""yure.redis_url: every REDIS_URL form, and the errors that name what is wrong."""

from __future__ import annotations

import pytest

from yure.redis_url import MAX_URL_HOSTS, Topology, parse_redis_url

GOOD = [
    ("redis://127.0.0.1:6379/0", Topology.SINGLE, (), "", 0, None),
    ("rediss://h:6380", Topology.SINGLE, (), "", 0, None),
    ("unix:///run/redis.sock", Topology.SINGLE, (), "", 0, None),
    (
        "redis+cluster://10.0.0.1:7000,10.0.0.2:7001",
        Topology.CLUSTER, (("10.0.0.1", 7000), ("10.0.0.2", 7001)), "", 0, None,
    ),
    ("redis+cluster://:s3cret@h", Topology.CLUSTER, (("h", 6379),), "", 0, "s3cret"),
    (
        "redis+sentinel://a:26379,b:26380/mymaster/2",
        Topology.SENTINEL, (("a", 26379), ("b", 26380)), "mymaster", 2, None,
    ),
    ("redis+sentinel://[::1]:26379/m", Topology.SENTINEL, (("::1", 26379),), "m", 0, None),
]  # fmt: skip


@pytest.mark.parametrize(("url", "topology", "hosts", "master", "db", "password"), GOOD)
def test_urls(
    url: str,
    topology: Topology,
    hosts: tuple[tuple[str, int], ...],
    master: str,
    db: int,
    password: str | None,
) -> None:
    target = parse_redis_url(url)
    assert (target.topology, target.hosts, target.master_name, target.db, target.password) == (
        topology, hosts, master, db, password,
    )  # fmt: skip
    assert target.tls == url.startswith("rediss")


BAD = [
    ("http://h:1", "must be a redis://"),
    ("redis+pool://h:1", "must be a redis://"),
    ("redis://", "names no host"),
    ("redis+cluster://", "names no host"),
    ("redis+cluster://h:99999", "bad port"),
    ("redis+cluster://h:1/0", "only database 0"),
    ("redis+sentinel://h:1", "needs the master name"),
    ("redis+cluster://" + ",".join(f"h{i}:1" for i in range(MAX_URL_HOSTS + 1)), "more than"),
]


@pytest.mark.parametrize(("url", "reason"), BAD)
def test_bad_urls_name_the_problem(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_redis_url(url)
