"""Routes of the pages: live map, check-in page, embed, and the files they load.

| route | what |
| --- | --- |
| ``GET /`` | live map + timeline (``?prefs=13,14&lang=en&palette=cb``) |
| ``GET /safety`` | check-in page (accounts, friends, "I'm safe") |
| ``GET /embed`` | the read-only widget other sites frame (``?prefs&kinds&theme&mode&lang``) |
| ``GET /embed.js`` | the one-line loader that inserts that frame |
| ``GET /embed/builder`` | builds the ``<script>`` snippet for an editor |
| ``GET /static/{name}`` | the pages' scripts, styles, icon, and ``japan_prefs.geojson`` |
| ``GET /api/prefectures`` | prefecture names (ja/en) and regions, as JSON |
| ``GET /sw.js`` | the service worker (Web Push notifications), scope ``/`` |
| ``GET /manifest.webmanifest`` | the web app manifest (install, iOS Home Screen) |

Every file is read once at start-up into memory (no per-request file system access, so
no path can escape ``web/static``), with a strong ETag and, when it helps, a gzip copy.
Pages are static HTML: all data reaches them as JSON and is inserted as text by their
scripts. Security headers come from :mod:`web.security`.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import orjson
from aiohttp import web

from yure.errors import YureError
from yure.geo import codes
from yure.web.security import SERVICE_WORKER_CSP, Policy, security_headers

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The project's prefecture shapes (``make data``), served as ``/static/japan_prefs.geojson``.
PREFS_GEOJSON = codes.DATA_DIR / "japan_prefs.geojson"
GEOJSON_NAME = "japan_prefs.geojson"
#: Each prefecture's coast edges by 津波予報区 (scripts/build_coast.py, ``make data``).
TSUNAMI_COAST = codes.DATA_DIR / "tsunami_coast.json"
TSUNAMI_COAST_FORMAT = 1

#: Largest file served (the GeoJSON is about 170 kB).
MAX_ASSET_BYTES = 1024 * 1024
#: Most files read from ``web/static``.
MAX_ASSETS = 64
#: Files smaller than this are not worth compressing.
GZIP_MIN_BYTES = 1024

#: Pages and scripts: always revalidated (ES modules carry no version in their URL).
CACHE_REVALIDATE = "no-cache"
#: The loader other sites include: a short lifetime, so fixes reach them soon.
CACHE_SHARED_SCRIPT = "public, max-age=300"
#: Map data and names: change only with a release.
CACHE_DATA = "public, max-age=86400"

CONTENT_TYPES: Mapping[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".geojson": "application/geo+json",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}
#: Served at the root: the service worker (its scope is the script's folder, RFC-less
#: but per the Service Workers spec §register) and the web app manifest.
SERVICE_WORKER = "sw.js"
MANIFEST = "manifest.webmanifest"

#: route → (page file, header policy)
PAGES: Mapping[str, tuple[str, Policy]] = {
    "/": ("index.html", Policy.PAGE),
    "/safety": ("safety.html", Policy.PAGE),
    "/history": ("history.html", Policy.PAGE),
    "/embed": ("embed.html", Policy.EMBED),
    "/embed/builder": ("builder.html", Policy.BUILDER),
}
#: Served at ``/embed.js`` for other sites.
EMBED_LOADER = "embed.js"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AssetError(YureError):
    """A page file is missing, too large, or of an unknown type (raised at start-up)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Asset:
    """One file, ready to send."""

    body: bytes
    content_type: str
    etag: str
    gzipped: bytes | None = None


def make_asset(body: bytes, content_type: str) -> Asset:
    """An :class:`Asset` with its strong ETag and, for text over ``GZIP_MIN_BYTES``, a
    gzip copy (``mtime=0``: the same bytes on every start, and on every worker)."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    packed = None
    if len(body) >= GZIP_MIN_BYTES:
        candidate = gzip.compress(body, compresslevel=9, mtime=0)
        packed = candidate if len(candidate) < len(body) else None
    return Asset(body=body, content_type=content_type, etag=etag, gzipped=packed)


def _read_capped(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_ASSET_BYTES:
        raise AssetError(f"{path}: {size} bytes is over MAX_ASSET_BYTES={MAX_ASSET_BYTES}")
    return path.read_bytes()


def load_assets(
    static_dir: Path = STATIC_DIR, geojson: Path = PREFS_GEOJSON, coast: Path = TSUNAMI_COAST
) -> dict[str, Asset]:
    """Every servable file under ``static_dir`` by its relative POSIX path, plus the map
    (the prefecture shapes with their tsunami coast, :func:`map_document`).

    Raises:
        AssetError: a file is over ``MAX_ASSET_BYTES``, there are more than
            ``MAX_ASSETS``, a page named in :data:`PAGES` is missing, or the GeoJSON
            or the coast is missing or does not fit the other.
    """
    assets: dict[str, Asset] = {}
    for path in sorted(static_dir.rglob("*")):
        if not path.is_file() or path.suffix not in CONTENT_TYPES:
            continue
        if len(assets) >= MAX_ASSETS:
            raise AssetError(f"{static_dir}: more than MAX_ASSETS={MAX_ASSETS} files")
        name = path.relative_to(static_dir).as_posix()
        assets[name] = make_asset(_read_capped(path), CONTENT_TYPES[path.suffix])
    missing = [page for page, _ in PAGES.values() if page not in assets]
    missing += [name for name in (EMBED_LOADER, SERVICE_WORKER, MANIFEST) if name not in assets]
    if missing:
        raise AssetError(f"{static_dir}: missing {', '.join(missing)}")
    for data in (geojson, coast):
        if not data.is_file():
            raise AssetError(f"{data}: map data missing (run make data)")
    body = map_document(_read_capped(geojson), _read_capped(coast))
    assets[GEOJSON_NAME] = make_asset(body, CONTENT_TYPES[".geojson"])
    return assets


def map_document(shapes: bytes, coast: bytes) -> bytes:
    """The prefecture shapes with each one's coast runs in ``properties.coast``:
    ``[polygon, first_vertex, last_vertex, tsunami_area_code]`` into the outer ring of
    that polygon (the map draws a tsunami area's grade along these, not the prefecture's
    whole outline).

    Raises:
        AssetError: not JSON, an unknown coast format, or a run outside its ring (the
            shapes were rebuilt without the coast: run make data).
    """
    try:
        document = orjson.loads(shapes)
        runs = orjson.loads(coast)
    except orjson.JSONDecodeError as err:
        raise AssetError(f"map data is not JSON: {err}") from err
    if not isinstance(runs, dict) or runs.get("format") != TSUNAMI_COAST_FORMAT:
        raise AssetError(f"tsunami coast: format is not {TSUNAMI_COAST_FORMAT}")
    for feature in document["features"]:
        mine = runs["runs"].get(feature["id"], [])
        polygons = feature["geometry"]["coordinates"]
        for polygon, first, last, area in mine:
            if not (0 <= polygon < len(polygons) and 0 <= first < last < len(polygons[polygon][0])):
                raise AssetError(
                    f"tsunami coast: run {polygon},{first},{last},{area} of "
                    f"{feature['id']} is outside the shapes (run make data)"
                )
        feature["properties"]["coast"] = mine
    body: bytes = orjson.dumps(document)
    return body


def prefectures_document() -> bytes:
    """``/api/prefectures``: every prefecture (code, names, region) and every region
    (id, names, prefecture codes), in code order."""
    prefectures = [codes.prefecture(code) for code in codes.PREF_CODES]
    body = {
        "prefectures": [
            {"code": p.code, "name": p.name, "name_en": p.name_en, "region": p.region.value}
            for p in prefectures
        ],
        "regions": [
            {
                "id": region.value,
                "name": codes.region_name(region),
                "name_en": codes.region_name_en(region),
                "prefs": list(codes.prefs_in_region(region)),
            }
            for region in codes.Region
        ],
    }
    return orjson.dumps(body)


def respond(
    request: web.Request, asset: Asset, *, policy: Policy, cache_control: str
) -> web.Response:
    """``asset`` with its headers: 304 when ``If-None-Match`` matches, gzip when accepted."""
    headers = security_headers(policy)
    headers["ETag"] = asset.etag
    headers["Cache-Control"] = cache_control
    if asset.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    tags = _etags(request.headers.get("If-None-Match", ""))
    if asset.etag in tags or "*" in tags:
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = asset.content_type
    body = asset.body
    if asset.gzipped is not None and accepts_gzip(request.headers.get("Accept-Encoding", "")):
        headers["Content-Encoding"] = "gzip"
        body = asset.gzipped
    return web.Response(body=body, headers=headers)


def _etags(header: str) -> set[str]:
    # RFC 9110 §13.1.2: a list of entity tags, or "*"; weak tags compare weakly.
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return tags - {""}


def accepts_gzip(header: str) -> bool:
    """Whether ``Accept-Encoding`` ``header`` accepts gzip."""
    # RFC 9110 §12.5.3: "gzip;q=0" refuses gzip.
    for part in header.split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() != "gzip":
            continue
        quality = params.strip().lower().removeprefix("q=")
        try:
            return not params.strip() or float(quality) > 0
        except ValueError:
            return False
    return False


def _page_handler(asset: Asset, policy: Policy, cache_control: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return respond(request, asset, policy=policy, cache_control=cache_control)

    return handle


def _static_handler(assets: Mapping[str, Asset]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        asset = assets.get(name)
        if asset is None or name.endswith(".html"):
            raise web.HTTPNotFound(headers=security_headers(Policy.ASSET))
        cache = CACHE_DATA if name == GEOJSON_NAME else CACHE_REVALIDATE
        return respond(request, asset, policy=Policy.ASSET, cache_control=cache)

    return handle


def setup(app: web.Application) -> None:
    """Register the page and static-file routes on ``app``. The pages need no setting:
    everything they show comes from the API at run time.

    Raises:
        AssetError: the page files are incomplete (see :func:`load_assets`).
    """
    assets = load_assets()
    for route, (name, policy) in PAGES.items():
        app.router.add_get(route, _page_handler(assets[name], policy, CACHE_REVALIDATE))
    loader = assets[EMBED_LOADER]

    async def loader_route(request: web.Request) -> web.StreamResponse:
        response = respond(
            request, loader, policy=Policy.SHARED_SCRIPT, cache_control=CACHE_SHARED_SCRIPT
        )
        # Lets sites load it with crossorigin="anonymous": then no cookie is ever sent.
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    app.router.add_get("/embed.js", loader_route)
    service_worker = assets[SERVICE_WORKER]

    async def service_worker_route(request: web.Request) -> web.StreamResponse:
        response = respond(
            request, service_worker, policy=Policy.ASSET, cache_control=CACHE_REVALIDATE
        )
        response.headers["Content-Security-Policy"] = SERVICE_WORKER_CSP
        return response

    app.router.add_get("/sw.js", service_worker_route)
    manifest = assets[MANIFEST]

    async def manifest_route(request: web.Request) -> web.StreamResponse:
        return respond(request, manifest, policy=Policy.ASSET, cache_control=CACHE_REVALIDATE)

    app.router.add_get("/manifest.webmanifest", manifest_route)
    app.router.add_get("/static/{name:.+}", _static_handler(assets))
    prefectures = make_asset(prefectures_document(), "application/json")

    async def prefectures_route(request: web.Request) -> web.StreamResponse:
        response = respond(request, prefectures, policy=Policy.ASSET, cache_control=CACHE_DATA)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    app.router.add_get("/api/prefectures", prefectures_route)
    log.info(
        "pages ready assets=%d bytes=%d", len(assets), sum(len(a.body) for a in assets.values())
    )
