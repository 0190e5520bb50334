"""``make bench``: run every benchmark and write ``bench/results/latest.json``.

Each benchmark module exposes ``run() -> dict[str, object]``. The broadcast benchmark
(the real server under load, with its baseline) is the main part and writes its numbers
at the top level; every other benchmark has its own key (``nchan``: yure against
nginx + Nchan when installed, ``geo``, ``takeover``, ``history``, …, see
:data:`BENCHMARKS`). Speed goals live here, never in timed tests.

``python -m bench.run --only nchan,scale`` runs some of them and merges their keys into
the results already in the file (each key's ``measured_at`` says when it was run).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
#: The result key of each benchmark and its module in ``bench``, in running order.
#: ``broadcast`` is special: its numbers go at the top level of the results.
BENCHMARKS: dict[str, str] = {
    "broadcast": "broadcast_bench",
    "nchan": "nchan_bench",
    "geo": "geo_bench",
    "hostile_readers": "hostile_bench",
    "timeline_index": "timeline_index_bench",
    "push": "push_bench",
    "map": "map_bench",
    "takeover": "takeover_bench",
    "login_flood": "safety_bench",
    "safety": "safety_live_bench",
    "history": "history_bench",
    "scale": "scale_bench",
}


def run_benchmarks(names: Sequence[str], previous: dict[str, Any]) -> dict[str, Any]:
    """Run the named benchmarks; merge their results into ``previous`` and return it."""
    results = dict(previous)
    for name in names:
        module = importlib.import_module(f"bench.{BENCHMARKS[name]}")
        started = time.time()
        print(f"== {name}", flush=True)
        measured = module.run()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
        if name == "broadcast":
            results.update(measured)
            results["measured_at"] = stamp
        else:
            results[name] = {**measured, "measured_at": stamp}
    results["machine"] = {
        "python": platform.python_version(),
        "cpus": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
    }
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and write their merged results as JSON."""
    parser = argparse.ArgumentParser(description="Run yure's benchmarks (make bench).")
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated keys to run, merged into {RESULTS.name} "
        f"(default: all of {', '.join(BENCHMARKS)})",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    previous: dict[str, Any] = {}
    if args.only and args.out.exists():
        previous = json.loads(args.out.read_text(encoding="utf-8"))
    started = time.time()
    results = run_benchmarks(names, previous)
    results["duration_s"] = round(time.time() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
