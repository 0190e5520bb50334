// The embed's map mode, loaded only in that mode: the whole map in any frame, a compact
// legend over its south-east (open sea), and where the list goes — beside the map when
// there is room (wide frames), under it (tall ones), else a compact overlay on it.

import { $, el, getJSON } from "./dom.js";
import { intensityText, t } from "./i18n.js";
import { JapanMap, MAP_RATIO } from "./map.js";
import { INTENSITIES } from "./model.js";
import { PALETTES, textOn } from "./palette.js";

/** Room (px) the list needs beside the map, or under it. */
const SIDE_MIN_PX = 220;
const BELOW_MIN_PX = 150;

function mapKey(palette, grades) {
  const colours = PALETTES[palette];
  const swatch = (text, colour) => {
    const node = el("span", null, text);
    node.style.backgroundColor = colour;
    node.style.color = textOn(colour);
    return node;
  };
  const line = (grade) => {
    const node = el("span", { class: "line", "data-grade": grade }, t(grade));
    node.style.borderBottomColor = colours.tsunami[grade];
    return node;
  };
  return el("div", { class: "mapkey", "aria-label": t("legend_intensity") },
    el("span", { class: "line" }, t("legend_intensity")),
    INTENSITIES.slice().reverse().map((v) => swatch(intensityText(v), colours.intensity[v])),
    ["major_warning", "warning", "advisory"].filter((g) => grades.includes(g)).map(line));
}

/** Decide the layout (body[data-layout]) from the frame's room; onChange when it changes. */
function layout(onChange) {
  const stage = $("#stage");
  const w = stage.clientWidth;
  const h = stage.clientHeight;
  const mapW = Math.min(w, h * MAP_RATIO);
  const before = document.body.dataset.layout;
  const now = w - mapW >= SIDE_MIN_PX ? "side" : h - mapW / MAP_RATIO >= BELOW_MIN_PX ? "below" : "overlay";
  document.body.dataset.layout = now;
  if (before !== now) onChange();
}

/** Show the map in #map; returns {update(mapState)}. */
export async function startMap({ palette, focus, onLayout }) {
  const node = $("#map");
  node.hidden = false;
  document.body.classList.add("mode-map");
  document.body.style.setProperty("--map-ratio", MAP_RATIO);
  layout(onLayout);
  addEventListener("resize", () => layout(onLayout));
  const geo = await getJSON("/static/japan_prefs.geojson", { credentials: "omit" });
  const map = new JapanMap(node, geo, { palette, focus });
  return {
    update(state) {
      map.update(state);
      $(".mapkey")?.remove();
      node.append(mapKey(palette, Object.values(state.tsunami)));
    },
  };
}
