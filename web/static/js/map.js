// A map of Japan drawn as SVG from the project's prefecture GeoJSON, with its own
// small projection (equirectangular, x scaled by cos 36°; no tile server). 沖縄県 is
// drawn in an inset over the Sea of Japan, as Japanese maps do. Prefectures are
// filled by intensity; tsunami grades are drawn along each forecast area's coast.

import { svg } from "./dom.js";
import { intensityText, lang, prefName, t } from "./i18n.js";
import { INTENSITIES, intensityRank } from "./model.js";
import { LG_COLOURS, PALETTES, TSUNAMI_LINE, textOn } from "./palette.js";
import { arrivalText, heightText } from "./tsunami.js";

const SCALE = 100; // SVG units per degree of latitude
const KX = Math.cos((36 * Math.PI) / 180);
const VIEW = { west: 128.2, east: 149.0, south: 26.4, north: 45.8 };
/** Width / height of the drawing (its viewBox). */
export const MAP_RATIO = ((VIEW.east - VIEW.west) * KX) / (VIEW.north - VIEW.south);
/** 沖縄県 (and epicentres south-west of 奄美) are drawn 1.5× larger in a box over the
 * Sea of Japan: (lon, lat) → (x0 + (lon − lon0)·k, y0 + (lat − lat0)·k); the 大東諸島
 * (east of 130°E) move 2.1° west first, as Japanese maps bring them closer. */
const INSET = { code: "47", lon0: 122.9, lat0: 24.0, x0: 128.4, y0: 39.9, k: 1.5, daito: 2.1, box: [128.3, 39.85, 138.1, 45.8] };
const inInsetArea = (lon, lat) => lat < 27.0 && lon < 131.5;
/** Radius of a station's dot, in SVG units (about 2 px on a phone, 4 px on a desktop). */
const STATION_RADIUS = 9;

function project(lon, lat, inset) {
  if (inset) {
    if (lon > 130) lon -= INSET.daito;
    lon = INSET.x0 + (lon - INSET.lon0) * INSET.k;
    lat = INSET.y0 + (lat - INSET.lat0) * INSET.k;
  }
  return [(lon - VIEW.west) * KX * SCALE, (VIEW.north - lat) * SCALE];
}

/** SVG coordinates of a point; epicentres south-west of 奄美 go in the 沖縄 inset. */
export const pointAt = (lon, lat) => project(lon, lat, inInsetArea(lon, lat));

function linePath(points, inset) {
  let d = "";
  for (let i = 0; i < points.length; i++) {
    const [x, y] = project(points[i][0], points[i][1], inset);
    d += `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
  }
  return d;
}
const ringPath = (ring, inset) => `${linePath(ring, inset)}Z`;

/** Area-weighted centroid of a projected ring (shoelace formula), and its area. */
function centroid(ring, inset) {
  let a = 0;
  let cx = 0;
  let cy = 0;
  const pts = ring.map(([lon, lat]) => project(lon, lat, inset));
  for (let i = 0; i < pts.length - 1; i++) {
    const [x0, y0] = pts[i];
    const [x1, y1] = pts[i + 1];
    const f = x0 * y1 - x1 * y0;
    a += f;
    cx += (x0 + x1) * f;
    cy += (y0 + y1) * f;
  }
  return a ? { x: cx / (3 * a), y: cy / (3 * a), area: Math.abs(a / 2) } : { x: pts[0][0], y: pts[0][1], area: 0 };
}

export class JapanMap {
  /** onPick(text): a tsunami area was clicked or tapped (its arrival and height in words). */
  constructor(container, geojson, { palette = "jma", focus = [], onPick = null } = {}) {
    this.palette = palette;
    this.paths = new Map();
    this.centres = new Map();
    /** tsunami area code → (prefecture → path of its coast there) */
    this.coast = new Map();
    const width = (VIEW.east - VIEW.west) * KX * SCALE;
    const height = (VIEW.north - VIEW.south) * SCALE;
    this.root = svg("svg", {
      viewBox: `0 0 ${width.toFixed(0)} ${height.toFixed(0)}`, role: "img", "aria-label": t("map_label"),
      class: "japan", preserveAspectRatio: "xMidYMid meet",
    });
    const [ix0, iy0] = project(INSET.box[0], INSET.box[3], false);
    const [ix1, iy1] = project(INSET.box[2], INSET.box[1], false);
    this.root.append(svg("rect", { class: "inset", x: ix0, y: iy0, width: ix1 - ix0, height: iy1 - iy0 }));
    const land = svg("g", { class: "prefs" });
    const focusSet = new Set(focus);
    for (const feature of geojson.features ?? []) {
      const code = String(feature.id ?? feature.properties?.code);
      const inset = code === INSET.code;
      const polygons = feature.geometry?.type === "Polygon" ? [feature.geometry.coordinates] : feature.geometry?.coordinates ?? [];
      let d = "";
      let best = { area: -1 };
      for (const polygon of polygons) {
        // Islands beyond the drawing (沖ノ鳥島, 南鳥島, 硫黄島) would only stretch its box.
        if (!polygon[0].some(([lon, lat]) => inset || (lon > VIEW.west && lon < VIEW.east && lat > VIEW.south && lat < VIEW.north))) continue;
        for (const ring of polygon) d += ringPath(ring, inset);
        const c = centroid(polygon[0], inset);
        if (c.area > best.area) best = c;
      }
      const path = svg("path", {
        d, id: `pref-${code}`, "data-pref": code, class: focusSet.has(code) ? "pref focus" : "pref", "fill-rule": "evenodd",
      }, svg("title", null, prefName(code)));
      land.append(path);
      this.paths.set(code, path);
      // The coast of each 津波予報区 (web/pages.py: [polygon, first, last, area] runs).
      for (const [p, first, last, area] of feature.properties?.coast ?? []) {
        const ring = polygons[p]?.[0];
        if (!ring) continue;
        if (!this.coast.has(area)) this.coast.set(area, new Map());
        const byPref = this.coast.get(area);
        byPref.set(code, (byPref.get(code) ?? "") + linePath(ring.slice(first, last + 1), inset));
      }
      this.centres.set(code, best);
    }
    this.stationLayer = svg("g", { class: "stations" });
    this.lgLayer = svg("g", { class: "lg" });
    this.tsunamiLayer = svg("g", { class: "tsunami" });
    if (onPick) {
      this.tsunamiLayer.addEventListener("click", (e) => {
        const title = e.target.closest?.(".tsunami-line, .tsunami-hit")?.querySelector("title");
        if (title) onPick(title.textContent);
      });
    }
    this.labelLayer = svg("g", { class: "labels" });
    this.feltLayer = svg("g", { class: "felt" });
    this.markLayer = svg("g", { class: "epicenter-layer" });
    this.root.append(land, this.stationLayer, this.tsunamiLayer, this.labelLayer, this.lgLayer, this.feltLayer, this.markLayer);
    container.replaceChildren(this.root);
  }

  /** Intensity stations as dots coloured by JMA's scale: one path per class (a few
   * elements however many thousand stations), strongest drawn last. Redrawn only when
   * the stations change. */
  drawStations(stations, colours) {
    // The same telegram's stations as last time (any other item arrived): nothing to redo.
    if (stations === this.drawnStations) return;
    this.drawnStations = stations;
    const r = STATION_RADIUS;
    const d = new Map();
    for (const s of stations) {
      if (!Number.isFinite(s.lat) || !Number.isFinite(s.lon) || !colours.intensity[s.intensity]) continue;
      const [x, y] = project(s.lon, s.lat, s.pref === INSET.code);
      d.set(s.intensity, `${d.get(s.intensity) ?? ""}M${(x - r).toFixed(1)},${y.toFixed(1)}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`);
    }
    this.root.classList.toggle("has-stations", d.size > 0);
    this.stationLayer.replaceChildren(...INTENSITIES.filter((v) => d.has(v)).map((v) =>
      svg("path", { d: d.get(v), fill: colours.intensity[v], class: "station-dots", "data-intensity": v },
        svg("title", null, intensityText(v)))));
  }

  /** Show mapState's {intensity: {pref: "5-"}, stations: [{lat, lon, pref, intensity}],
   * lg: {pref: class}, tsunamiAreas: [area], felt: {pref: n}, epicenter}. */
  update(state) {
    const colours = PALETTES[this.palette];
    for (const [code, path] of this.paths) {
      const value = state.intensity[code];
      if (value && colours.intensity[value]) {
        path.setAttribute("fill", colours.intensity[value]);
        path.dataset.intensity = value;
      } else {
        path.removeAttribute("fill");
        delete path.dataset.intensity;
      }
    }
    this.tsunamiLayer.replaceChildren();
    for (const grade of ["advisory", "warning", "major_warning"]) {
      const line = TSUNAMI_LINE[grade];
      for (const area of state.tsunamiAreas.filter((a) => a.grade === grade)) {
        // Its coast; an area the coast table does not know: its prefectures' outlines.
        const lines = this.coast.get(area.area_code)
          ?? new Map((area.prefs ?? []).filter((c) => this.paths.has(c)).map((c) => [c, this.paths.get(c).getAttribute("d")]));
        const said = [area.area_name, t(grade), arrivalText(area), heightText(area)].filter(Boolean).join(" ");
        for (const [code, d] of lines) {
          // A wide invisible twin makes the thin coast line easy to tap on a phone.
          this.tsunamiLayer.append(svg("path", { d, class: "tsunami-hit", "data-area": area.area_code }, svg("title", null, said)));
          this.tsunamiLayer.append(svg("path", {
            d, class: `tsunami-line grade-${grade}`, "data-area": area.area_code, "data-pref": code, "data-grade": grade,
            fill: "none", stroke: colours.tsunami[grade], "stroke-width": line.width, "stroke-dasharray": line.dash,
            "stroke-linejoin": "round", "stroke-linecap": "round",
          }, svg("title", null, said)));
        }
      }
    }
    this.drawStations(state.stations ?? [], colours);
    this.lgLayer.replaceChildren();
    for (const [code, value] of Object.entries(state.lg ?? {})) {
      const c = this.centres.get(code);
      if (!c || !LG_COLOURS[value]) continue;
      const x = c.x - 34;
      const y = c.y + 34;
      this.lgLayer.append(svg("g", { class: "lg-mark", "data-pref": code, "data-lg": value },
        svg("title", null, `${prefName(code)} ${t("lg_class", { v: value })}`),
        svg("rect", { x: (x - 30).toFixed(1), y: (y - 17).toFixed(1), width: 60, height: 34, rx: 6, fill: LG_COLOURS[value] }),
        svg("text", { x: x.toFixed(1), y: y.toFixed(1), fill: textOn(LG_COLOURS[value]) }, `${lang() === "en" ? "L" : "長"}${value}`)));
    }
    this.labelLayer.replaceChildren();
    for (const [code, value] of Object.entries(state.intensity)) {
      const c = this.centres.get(code);
      if (!c || intensityRank(value) < 4) continue;
      const fill = colours.intensity[value];
      this.labelLayer.append(svg("text", {
        x: c.x.toFixed(1), y: c.y.toFixed(1), class: "int-label", fill: textOn(fill), "data-pref": code,
      }, lang() === "en" ? value : intensityText(value)));
    }
    this.feltLayer.replaceChildren();
    for (const [code, count] of Object.entries(state.felt)) {
      const c = this.centres.get(code);
      if (!c || !count) continue;
      const x = c.x + 30;
      const y = c.y - 30;
      this.feltLayer.append(svg("g", { class: "felt-mark", "data-pref": code, "data-count": count },
        svg("title", null, `${prefName(code)} ${t("legend_felt")} ${t("felt_count", { n: count })}`),
        svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 27 }),
        svg("text", { x: x.toFixed(1), y: y.toFixed(1) }, String(count))));
    }
    this.markLayer.replaceChildren();
    const e = state.epicenter;
    if (e) {
      const [x, y] = project(e.lon, e.lat, inInsetArea(e.lon, e.lat));
      this.markLayer.append(svg("g", { id: "epicenter", class: "epicenter", "data-lat": e.lat, "data-lon": e.lon,
        transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` },
      svg("title", null, t("legend_epicenter")),
      svg("path", { class: "halo", d: "M-22,-22L22,22M22,-22L-22,22" }),
      svg("path", { class: "cross", d: "M-22,-22L22,22M22,-22L-22,22" })));
    }
  }
}
