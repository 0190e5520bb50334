"""The embed gets none of the notification code: no panel, no alerts, no service worker."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
IMPORT = re.compile(r"""(?:from\s+|import\s*\(\s*)["']\./([\w.-]+\.js)["']""")
NOTIFY_MODULES = {"notify.js", "alerts.js", "notify-settings.js"}


def reachable(entry: str) -> set[str]:
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += IMPORT.findall((STATIC / "js" / name).read_text())
    return seen


def test_the_embed_loads_no_notification_code() -> None:
    graph = reachable("embed-main.js")
    assert "cards.js" in graph  # the walk does follow imports
    assert not graph & NOTIFY_MODULES
    page = (STATIC / "embed.html").read_text()
    assert "sw.js" not in page and "manifest" not in page and "notify" not in page


def test_the_live_page_has_the_panel_the_manifest_and_the_alert_hook() -> None:
    assert {"alerts.js", "notify-settings.js"} <= reachable("live.js")
    assert reachable("notify.js") >= NOTIFY_MODULES
    page = (STATIC / "index.html").read_text()
    assert 'id="notify"' in page
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert 'rel="apple-touch-icon"' in page
