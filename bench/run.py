"""``make bench``: run every benchmark and write ``bench/results/latest.json``.

Each benchmark module exposes ``run() -> dict[str, object]``. The broadcast benchmark
(the real server under load, with its baseline) is the main part; the geo benchmark
adds its numbers under ``geo``, the ingest takeover benchmark under ``takeover``, the
history archive's under ``history``, yure against nginx + Nchan (when installed) under
``nchan``. Speed goals live here, never in timed tests.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def main() -> int:
    """Run the benchmarks and write their merged results as JSON."""
    from bench import (
        broadcast_bench,
        geo_bench,
        history_bench,
        hostile_bench,
        map_bench,
        nchan_bench,
        push_bench,
        safety_bench,
        takeover_bench,
        timeline_index_bench,
    )

    started = time.time()
    results: dict[str, Any] = {}
    results.update(broadcast_bench.run())
    results["nchan"] = nchan_bench.run()
    results["geo"] = geo_bench.run()
    results["hostile_readers"] = hostile_bench.run()
    results["timeline_index"] = timeline_index_bench.run()
    results["push"] = push_bench.run()
    results["map"] = map_bench.run()
    results["takeover"] = takeover_bench.run()
    results["login_flood"] = safety_bench.run()
    results["history"] = history_bench.run()
    results["machine"] = {
        "python": platform.python_version(),
        "cpus": _cpu_count(),
        "platform": platform.platform(),
    }
    results["duration_s"] = round(time.time() - started, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
