"""Speed of the history archive: search p95 per filter over 10 years, and backfill.

Goals (issue 14): ``GET /api/history`` p95 ≤ 50 ms for any filter over a 10-year
archive of ~30,000 events (:mod:`bench.history_data`), on SQLite and — when the
PostgreSQL binaries are installed — on a PostgreSQL started for the run
(:mod:`tests.postgres_server`); ``yure archive import`` of 10,000 telegrams ≤ 60 s.
Requests go through the real HTTP routes (:mod:`archive.http`) on a local port.
Run: ``.venv/bin/python -m bench.history_bench`` (prints JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import statistics
import tarfile
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.history_data import FILTERS, synthetic_history
from tests.ingest import telegrams as jma
from tests.support import base_url, serving
from yure.archive import http as archive_http
from yure.archive.cli import run_import
from yure.archive.store import Archive
from yure.geo import codes
from yure.settings import Settings
from yure.web.problems import problem_middleware

EVENTS = 30_000
YEARS = 10
#: Requests per filter (after WARMUP unmeasured ones).
REQUESTS = 60
WARMUP = 5
INSERT_BATCH = 2000
IMPORT_TELEGRAMS = 10_000
GOAL_P95_MS = 50.0
GOAL_IMPORT_S = 60.0


def _resolve(tokens: Any) -> frozenset[str]:
    return codes.resolve_pref_tokens(list(tokens))


async def _fill(archive: Archive) -> dict[str, float]:
    started = time.perf_counter()
    batch = []
    telegrams = 0
    for item in synthetic_history(EVENTS, years=YEARS):
        batch.append(item)
        if len(batch) >= INSERT_BATCH:
            telegrams += await archive.add(batch)
            batch = []
    telegrams += await archive.add(batch)
    seconds = time.perf_counter() - started
    return {"telegrams": telegrams, "fill_s": round(seconds, 1)}


async def _measure(base: str) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    async with aiohttp.ClientSession() as client:
        queries = {name: f"/api/history?{q}" for name, q in FILTERS.items()}
        queries["days_year"] = "/api/history/days?from=2024-01-01&to=2024-12-31"
        for name, path in queries.items():
            times: list[float] = []
            count = 0
            for n in range(WARMUP + REQUESTS):
                started = time.perf_counter()
                async with client.get(base + path) as response:
                    body = await response.read()
                    assert response.status == 200, (path, body[:200])
                if n >= WARMUP:
                    times.append((time.perf_counter() - started) * 1000)
                count = len(json.loads(body).get("items", json.loads(body).get("days", [])))
            times.sort()
            results[name] = {
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
                "items": count,
            }
        # A deep page: the 40th page of 50 following cursors.
        cursor, started = "", time.perf_counter()
        for _ in range(40):
            async with client.get(f"{base}/api/history?limit=50{cursor}") as response:
                cursor = f"&cursor={(await response.json())['next']}"
        results["cursor_40_pages"] = {"total_ms": round((time.perf_counter() - started) * 1000, 1)}
        started = time.perf_counter()
        async with client.get(f"{base}/api/history.csv?prefs=13") as response:
            rows = len((await response.read()).splitlines()) - 1
        results["csv_tokyo"] = {
            "rows": rows,
            "total_ms": round((time.perf_counter() - started) * 1000, 1),
        }
    return results


async def _bench_backend(database_url: str | None, folder: Path) -> dict[str, Any]:
    archive = await Archive.open(database_url, folder)
    try:
        filled = await _fill(archive)
    finally:
        await archive.close()
    app = web.Application(middlewares=[problem_middleware])
    archive_http.setup(
        app, settings=Settings(data_dir=folder, database_url=database_url), resolve=_resolve
    )
    async with serving(app) as runner:
        filters = await _measure(base_url(runner))
    worst = max(v["p95_ms"] for k, v in filters.items() if "p95_ms" in v)
    return {**filled, "filters": filters, "worst_p95_ms": worst}


def _telegram_archive(folder: Path, count: int) -> Path:
    """``count`` JMA-format telegrams (yure's own test documents) in one .tar.gz."""
    path = folder / "telegrams.tar.gz"
    t0 = datetime(2016, 1, 1, tzinfo=jma.JST)
    prefs = (jma.MIYAGI, jma.FUKUSHIMA)
    with tarfile.open(path, "w:gz") as tar:
        for n in range(count):
            at = t0 + timedelta(hours=3 * (n // 3), minutes=n % 3)
            code = ("VXSE51", "VXSE52", "VXSE53")[n % 3]
            data = jma.quake(
                code,
                event_id=(t0 + timedelta(hours=3 * (n // 3))).strftime("%Y%m%d%H%M%S"),
                report_time=at,
                serial=1 if code == "VXSE53" else None,
                max_int=str(1 + n % 4),
                prefs=prefs,
            )
            info = tarfile.TarInfo(jma.file_name(at, code, n % 10))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


async def _bench_import(folder: Path) -> dict[str, Any]:
    source = _telegram_archive(folder, IMPORT_TELEGRAMS)
    settings = Settings(data_dir=folder / "import")
    started = time.perf_counter()
    status, stats = await run_import(settings, [source], err=io.StringIO(), quiet=True)
    seconds = time.perf_counter() - started
    assert status == 0 and stats is not None and stats.added == IMPORT_TELEGRAMS, stats
    again = time.perf_counter()
    await run_import(settings, [source], err=io.StringIO(), quiet=True)
    return {
        "telegrams": IMPORT_TELEGRAMS,
        "import_s": round(seconds, 1),
        "reimport_s": round(time.perf_counter() - again, 1),
        "per_s": round(IMPORT_TELEGRAMS / seconds),
    }


@contextlib.contextmanager
def _postgres() -> Iterator[str | None]:
    from tests.postgres_server import find_postgres_bin, running_postgres

    try:
        find_postgres_bin()
    except RuntimeError:
        yield None
        return
    with running_postgres() as server:
        yield server.url


async def _run_async() -> dict[str, Any]:
    results: dict[str, Any] = {"events": EVENTS, "years": YEARS}
    with tempfile.TemporaryDirectory(prefix="yure-history-bench-") as tmp:
        folder = Path(tmp)
        results["sqlite"] = await _bench_backend(None, folder / "sqlite")
        with _postgres() as url:
            if url is not None:
                results["postgresql"] = await _bench_backend(url, folder / "pg")
        results["import"] = await _bench_import(folder)
    worst = max(results[b]["worst_p95_ms"] for b in ("sqlite", "postgresql") if b in results)
    results["goals"] = {
        "p95_ms_max": GOAL_P95_MS,
        "p95_met": worst <= GOAL_P95_MS,
        "import_10k_s_max": GOAL_IMPORT_S,
        "import_met": results["import"]["import_s"] <= GOAL_IMPORT_S,
    }
    return results


def run() -> dict[str, Any]:
    """Run the history benchmark; the results go under ``history`` in latest.json."""
    return asyncio.run(_run_async())


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
