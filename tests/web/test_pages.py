"""The page routes over HTTP on a real server: headers (CSP, framing), caching, the
prefecture and map documents, the embed's size budget, and static checks that the
pages never inline code nor insert HTML."""

from __future__ import annotations

import gzip
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import pytest

from tests.broadcast.support import running_server
from yure.geo import codes
from yure.web import pages
from yure.web.security import Policy, content_security_policy, security_headers

STATIC = pages.STATIC_DIR
#: The embed page, its styles, its scripts and the loader, in bytes, uncompressed.
#: Was 50 kB; raised to 56 kB for issue 12/15's cards (measured: 47.6 kB before them,
#: 55.8 kB after = +2.9 kB tsunami.js arrivals/heights/observations in words, +2.0 kB
#: cards.js rows, observations, long-period classes, share, age; +1.9 kB model.js
#: arrival merge and order; 23.1 kB gzipped in all).
EMBED_BUDGET_BYTES = 56_000
#: Map mode adds its modules (loaded with ``import()`` only then) to the list mode's.
#: It fetches the prefecture shapes too (178 kB, 46 kB gzipped), which dwarf its code,
#: so its budget is the list mode's plus 14 kB (measured: 69.7 kB, 28.5 kB gzipped).
EMBED_MAP_BUDGET_BYTES = 70_000
#: The only absolute URLs allowed in the static files: the SVG namespace (never fetched)
#: and the documentation's example host (in comments).
ALLOWED_URLS = {"http://www.w3.org/2000/svg", "https://yure.example/embed.js"}


def csp_directives(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in value.split(";"):
        name, _, rest = part.strip().partition(" ")
        assert name not in out, f"duplicate directive {name}"
        out[name] = rest.strip()
    return out


# --- pure: the policies -----------------------------------------------------------------


@pytest.mark.parametrize("policy", list(Policy))
def test_every_policy_is_strict(policy: Policy) -> None:
    headers = security_headers(policy)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in {"no-referrer", "strict-origin"}
    csp = content_security_policy(policy)
    assert headers["Content-Security-Policy"] == csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    directives = csp_directives(csp)
    assert directives["default-src"] == "'none'"
    if policy in (Policy.ASSET, Policy.SHARED_SCRIPT):
        assert directives["frame-ancestors"] == "'none'"
        return
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["base-uri"] == "'none'"


def test_only_the_embed_may_be_framed_by_others() -> None:
    embed = csp_directives(content_security_policy(Policy.EMBED))
    assert embed["frame-ancestors"] == "*"
    assert "X-Frame-Options" not in security_headers(Policy.EMBED)
    assert set(embed) == {
        "default-src",
        "script-src",
        "style-src",
        "img-src",
        "connect-src",
        "base-uri",
        "form-action",
        "frame-ancestors",
    }
    for policy in (Policy.PAGE, Policy.BUILDER):
        directives = csp_directives(content_security_policy(policy))
        assert directives["frame-ancestors"] == "'self'"
        assert security_headers(policy)["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-src" not in csp_directives(content_security_policy(Policy.PAGE))
    assert csp_directives(content_security_policy(Policy.BUILDER))["frame-src"] == "'self'"


# --- over HTTP ---------------------------------------------------------------------------


async def test_pages_answer_with_their_policies(redis_url: str, tmp_path: Path) -> None:
    expected = {
        "/": Policy.PAGE,
        "/safety": Policy.PAGE,
        "/embed": Policy.EMBED,
        "/embed/builder": Policy.BUILDER,
        "/embed.js": Policy.SHARED_SCRIPT,
        "/static/js/live.js": Policy.ASSET,
        "/static/css/site.css": Policy.ASSET,
        "/api/prefectures": Policy.ASSET,
    }
    async with running_server(redis_url, tmp_path) as server, aiohttp.ClientSession() as http:
        for path, policy in expected.items():
            async with http.get(server.base + path) as resp:
                assert resp.status == 200, path
                body = await resp.read()
                for name, value in security_headers(policy).items():
                    assert resp.headers[name] == value, (path, name)
                assert "Set-Cookie" not in resp.headers, path
                assert resp.headers["ETag"].startswith('"')
            if path.endswith(".js"):
                assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
            elif path in pages.PAGES:
                assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
                assert resp.headers["Cache-Control"] == "no-cache"
                assert b"<script" in body
        async with http.get(server.base + "/embed.js") as resp:
            assert resp.headers["Cache-Control"] == pages.CACHE_SHARED_SCRIPT
            assert resp.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


async def test_static_files_cache_and_compress(redis_url: str, tmp_path: Path) -> None:
    async with running_server(redis_url, tmp_path) as server, aiohttp.ClientSession() as http:
        url = f"{server.base}/static/{pages.GEOJSON_NAME}"
        async with http.get(url, headers={"Accept-Encoding": "gzip"}, auto_decompress=False) as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == "application/geo+json"
            assert r.headers["Content-Encoding"] == "gzip"
            assert r.headers["Cache-Control"] == pages.CACHE_DATA
            assert r.headers["Vary"] == "Accept-Encoding"
            packed = await r.read()
            etag = r.headers["ETag"]
        document = json.loads(gzip.decompress(packed))
        assert len(document["features"]) == 47
        assert sorted(f["id"] for f in document["features"]) == list(codes.PREF_CODES)
        assert len(packed) < 60_000, len(packed)
        async with http.get(url, headers={"Accept-Encoding": "identity"}) as r:
            assert "Content-Encoding" not in r.headers
            assert json.loads(await r.read()) == document
        for refusal in ("gzip;q=0", "gzip;q=0.000", "gzip;q=bad", "br, deflate"):
            async with http.get(url, headers={"Accept-Encoding": refusal}) as r:
                assert "Content-Encoding" not in r.headers, refusal
        async with http.get(url, headers={"Accept-Encoding": "br, GZIP;q=0.5"}) as r:
            assert r.headers["Content-Encoding"] == "gzip"
        for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            async with http.get(url, headers={"If-None-Match": header}) as r:
                assert r.status == 304, header
                assert await r.read() == b""
                assert r.headers["ETag"] == etag
        async with http.get(url, headers={"If-None-Match": '"stale"'}) as r:
            assert r.status == 200
        for bad in (
            "/static/nope.js",
            "/static/index.html",
            "/static/../pages.py",
            "/static/%2e%2e/pages.py",
            "/static/js/../../pages.py",
            "/static/",
        ):
            async with http.get(server.base + bad) as r:
                assert r.status == 404, bad
        async with http.head(server.base + "/") as r:
            assert r.status == 200
        async with http.get(server.base + "/static/icon.svg") as r:  # too small to compress
            assert r.headers["Content-Type"] == "image/svg+xml"
            assert "Vary" not in r.headers and "Content-Encoding" not in r.headers


async def test_prefectures_document(redis_url: str, tmp_path: Path) -> None:
    async with (
        running_server(redis_url, tmp_path) as server,
        aiohttp.ClientSession() as http,
        http.get(server.base + "/api/prefectures") as resp,
    ):
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        body = await resp.json()
    prefs = body["prefectures"]
    assert [p["code"] for p in prefs] == list(codes.PREF_CODES)
    assert prefs[12] == {"code": "13", "name": "東京都", "name_en": "Tokyo", "region": "kanto"}
    covered = [code for region in body["regions"] for code in region["prefs"]]
    assert sorted(covered) == list(codes.PREF_CODES)  # every prefecture in exactly one region
    kyushu = body["regions"][-1]
    assert kyushu["id"] == "kyushu" and kyushu["name"] == "九州・沖縄" and "47" in kyushu["prefs"]
    assert all(region["name_en"] for region in body["regions"])


# --- the files themselves ----------------------------------------------------------------


def module_graph(entry: Path, *, dynamic: bool = False) -> set[Path]:
    """``entry`` and every module it imports, transitively: static ES imports, and with
    ``dynamic`` also ``import("./x.js")`` (what a page loads only in some mode)."""
    pattern = r'^import [^;]*? from "(\./[\w.-]+)";'
    if dynamic:
        pattern += r'|\bimport\("(\./[\w.-]+)"\)'
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for names in re.findall(pattern, path.read_text(), re.M):
            for name in names if isinstance(names, tuple) else (names,):
                if name:
                    todo.append((path.parent / name).resolve())
    return seen


def page_assets(html: Path, *, dynamic: bool = False) -> set[Path]:
    """The page, its stylesheets and its scripts with their imports."""
    text = html.read_text()
    out = {html.resolve()}
    for ref in re.findall(r'(?:href|src)="/static/([\w/.-]+\.(?:css|js))"', text):
        path = (STATIC / ref).resolve()
        out |= module_graph(path, dynamic=dynamic) if ref.endswith(".js") else {path}
    return out


def embed_sizes(*, dynamic: bool) -> dict[str, int]:
    files = page_assets(STATIC / "embed.html", dynamic=dynamic)
    files |= {(STATIC / pages.EMBED_LOADER).resolve()}
    return {str(p.relative_to(STATIC.resolve())): p.stat().st_size for p in files}


def test_embed_fits_its_budget() -> None:
    sizes = embed_sizes(dynamic=False)
    total = sum(sizes.values())
    packed = sum(len(gzip.compress((STATIC / name).read_bytes(), 9)) for name in sizes)
    print(f"embed list mode bytes={total} gzip={packed} files={sorted(sizes.items())}")
    assert {"embed.html", "css/embed.css", "js/embed-main.js", "js/stream.js"} <= set(sizes)
    assert "js/safety.js" not in sizes and "js/live.js" not in sizes
    assert "js/map.js" not in sizes, "list mode must not load the map"
    assert total < EMBED_BUDGET_BYTES, sizes


def test_embed_map_mode_fits_its_budget() -> None:
    sizes = embed_sizes(dynamic=True)
    total = sum(sizes.values())
    packed = sum(len(gzip.compress((STATIC / name).read_bytes(), 9)) for name in sizes)
    print(f"embed map mode bytes={total} gzip={packed} files={sorted(sizes.items())}")
    assert {"js/map.js", "js/embed-map.js"} <= set(sizes)
    assert "js/live.js" not in sizes and "js/legend.js" not in sizes
    assert total < EMBED_MAP_BUDGET_BYTES, sizes


class _Inline(HTMLParser):
    """Collects what a strict CSP would block or what would be fetched elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        values = dict(attrs)
        if tag == "script":
            self._in_script = True
            if "src" not in names:
                self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"handler {name} on <{tag}>")
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if (
                name in {"src", "href", "action"}
                and value
                and not value.startswith(("/", "?", "#"))
            ):
                self.problems.append(f"{name}={value!r} on <{tag}>")
        if tag == "link" and values.get("rel") == "stylesheet":
            assert (values.get("href") or "").startswith("/static/")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script code")


@pytest.mark.parametrize("name", sorted({page for page, _ in pages.PAGES.values()}))
def test_pages_have_no_inline_code_and_load_only_from_here(name: str) -> None:
    parser = _Inline()
    parser.feed((STATIC / name).read_text())
    assert parser.problems == []
    for asset in page_assets(STATIC / name):
        assert asset.is_file(), asset


def test_scripts_insert_text_never_html() -> None:
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
        r"setTimeout\(\s*['\"`]|setAttribute\(\s*['\"]on|\.srcdoc|createContextualFragment|"
        r"DOMParser"
    )
    for path in sorted(STATIC.rglob("*.js")):
        text = path.read_text()
        assert not forbidden.search(text), (path, forbidden.search(text))
        for url in re.findall(r"https?://[^\s\"'`)]+", text):
            assert url in ALLOWED_URLS, (path, url)
    for path in sorted(STATIC.rglob("*.css")):
        text = path.read_text()
        assert "@import" not in text and "url(" not in text, path
        assert "@font-face" not in text, path


def test_load_assets_refuses_incomplete_or_oversized_dirs(tmp_path: Path) -> None:
    with pytest.raises(pages.AssetError, match="missing"):
        pages.load_assets(tmp_path)
    for page, _ in pages.PAGES.values():
        (tmp_path / page).write_text("<!doctype html>")
    (tmp_path / pages.EMBED_LOADER).write_text("")
    with pytest.raises(pages.AssetError, match=r"missing sw\.js, manifest\.webmanifest"):
        pages.load_assets(tmp_path)
    (tmp_path / pages.SERVICE_WORKER).write_text("")
    (tmp_path / pages.MANIFEST).write_text("{}")
    with pytest.raises(pages.AssetError, match="map data missing"):
        pages.load_assets(tmp_path, geojson=tmp_path / "absent.geojson")
    with pytest.raises(pages.AssetError, match="map data missing"):
        pages.load_assets(tmp_path, coast=tmp_path / "absent.json")
    assets = pages.load_assets(tmp_path)
    assert set(assets) == {
        *(p for p, _ in pages.PAGES.values()),
        "embed.js",
        "sw.js",
        "manifest.webmanifest",
        "japan_prefs.geojson",
    }
    (tmp_path / "big.js").write_bytes(b"x" * (pages.MAX_ASSET_BYTES + 1))
    with pytest.raises(pages.AssetError, match="MAX_ASSET_BYTES"):
        pages.load_assets(tmp_path)
    (tmp_path / "big.js").unlink()
    for i in range(pages.MAX_ASSETS):
        (tmp_path / f"m{i}.css").write_text("a{}")
    with pytest.raises(pages.AssetError, match="MAX_ASSETS"):
        pages.load_assets(tmp_path)


def test_small_files_are_not_compressed() -> None:
    small = pages.make_asset(b"x" * 10, "text/css; charset=utf-8")
    assert small.gzipped is None
    big = pages.make_asset(b"yure " * 1000, "text/css; charset=utf-8")
    assert big.gzipped is not None and gzip.decompress(big.gzipped) == b"yure " * 1000
    assert pages.make_asset(b"yure " * 1000, "text/css").etag == big.etag
