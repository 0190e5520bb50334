// The legend under the live map, in the page's palette (the embed has its own, embed-map.js).

import { svg } from "./dom.js";
import { intensityText, t } from "./i18n.js";
import { INTENSITIES } from "./model.js";
import { LG_COLOURS, PALETTES, TSUNAMI_LINE } from "./palette.js";

export function legend(container, palette) {
  const colours = PALETTES[palette];
  const row = (cls, items) => {
    const list = document.createElement("ul");
    list.className = cls;
    for (const node of items) list.append(node);
    return list;
  };
  const swatch = (colour, text, shape = "box", extra = {}) => {
    const li = document.createElement("li");
    const icon = svg("svg", { width: 22, height: 14, viewBox: "0 0 22 14", "aria-hidden": "true" });
    if (shape === "box") icon.append(svg("rect", { x: 1, y: 1, width: 20, height: 12, fill: colour, stroke: "#888" }));
    if (shape === "line") icon.append(svg("path", { d: "M1,7H21", stroke: colour, "stroke-width": Math.min(6, extra.width), "stroke-dasharray": extra.dash }));
    if (shape === "cross") icon.append(svg("path", { class: "cross", d: "M5,1L17,13M17,1L5,13" }));
    if (shape === "felt") icon.append(svg("circle", { class: "felt-dot", cx: 11, cy: 7, r: 5 }));
    if (shape === "dot") icon.append(svg("circle", { class: "station-dots", cx: 11, cy: 7, r: 4, fill: colour }));
    li.append(icon, document.createTextNode(` ${text}`));
    return li;
  };
  container.replaceChildren(
    row("legend-row", [
      Object.assign(document.createElement("li"), { textContent: t("legend_intensity"), className: "legend-title" }),
      ...INTENSITIES.map((v) => swatch(colours.intensity[v], intensityText(v))),
    ]),
    row("legend-row", [
      ...["major_warning", "warning", "advisory"].map((g) => swatch(colours.tsunami[g], t(g), "line", TSUNAMI_LINE[g])),
      swatch(null, t("legend_epicenter"), "cross"),
      swatch(null, t("legend_felt"), "felt"),
      swatch(colours.intensity["4"], t("legend_station"), "dot"),
    ]),
    row("legend-row", [
      Object.assign(document.createElement("li"), { textContent: t("lg_legend"), className: "legend-title" }),
      ...Object.entries(LG_COLOURS).map(([v, colour]) => swatch(colour, v)),
    ]),
  );
}
