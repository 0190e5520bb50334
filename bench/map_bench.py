"""The map with thousands of intensity stations, on a slow phone: headless Chromium at
390×844 (device scale 3) with the CPU throttled 4× through the DevTools protocol
(``Emulation.setCPUThrottlingRate``, as Lighthouse's mobile preset), timing
``JapanMap.update`` with N stations up to the next two animation frames (so style,
layout and paint are in), and a re-render with the same state (what each new telegram
costs). Every station of JMA's table is 4,361.

Run alone: ``.venv/bin/python -m bench.map_bench``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from typing import Any

from aiohttp import web
from playwright.async_api import async_playwright

from tests.support import base_url, serving
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS
from yure.web import pages

#: Station counts measured; 4,361 is every 震度観測点.
STATION_COUNTS = (500, 1500, 4361)
CPU_SLOWDOWN = 4
REPEATS = 5

MEASURE = """async ({ n, repeats }) => {
  const { JapanMap } = await import("/static/js/map.js");
  const geo = await (await fetch("/static/japan_prefs.geojson")).json();
  const levels = ["1", "2", "3", "4", "5-", "5+", "6-", "6+", "7"];
  const stations = Array.from({ length: n }, (_, i) => ({
    pref: "13", intensity: levels[i % 9],
    lat: 31 + (i % 97) * 0.12, lon: 130 + Math.floor(i / 97) * 0.25,
  }));
  const state = {
    intensity: {}, stations, lg: {}, tsunamiAreas: [], tsunami: {}, felt: {}, epicenter: null,
  };
  const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const box = document.createElement("div");
  box.style.width = "390px";
  document.body.replaceChildren(box);
  let t = performance.now();
  const map = new JapanMap(box, geo, {});
  await frames();
  const build = performance.now() - t;
  const first = [];
  const again = [];
  for (let i = 0; i < repeats; i++) {
    map.update({ ...state, stations: [] });
    await frames();
    t = performance.now();
    map.update(state);
    await frames();
    first.push(performance.now() - t);
    t = performance.now();
    map.update(state);
    await frames();
    again.push(performance.now() - t);
  }
  return { build, first, again, dots: document.querySelectorAll("path.station-dots").length };
}"""


async def measure() -> dict[str, Any]:
    app = web.Application()
    pages.setup(app)
    out: dict[str, Any] = {"cpu_slowdown": CPU_SLOWDOWN, "viewport": "390x844@3"}
    async with serving(app) as runner, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True
            )
            page = await context.new_page()
            await page.goto(base_url(runner) + "/embed/builder")
            cdp = await context.new_cdp_session(page)
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
            for n in STATION_COUNTS:
                result = await page.evaluate(MEASURE, {"n": n, "repeats": REPEATS})
                out[f"stations_{n}"] = {
                    "map_build_ms": round(result["build"], 1),
                    "update_to_frame_ms_median": round(statistics.median(result["first"]), 1),
                    "update_to_frame_ms_max": round(max(result["first"]), 1),
                    "rerender_ms_median": round(statistics.median(result["again"]), 1),
                    "paths": result["dots"],
                }
        finally:
            await browser.close()
    return out


def run() -> dict[str, Any]:
    """The numbers for bench/results/latest.json (``map`` key)."""
    return asyncio.run(measure())


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
