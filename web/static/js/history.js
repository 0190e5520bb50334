// The history page (/history): filters kept in the URL (prefs, from, to, min_intensity,
// min_magnitude, max_depth_km, lang), the matching events newest first (GET /api/history,
// "more" follows the cursor), their epicentres on the map, and a count per day
// (GET /api/history/days). Each event links to its own page (/events/{event_id}).

import { $, el, getJSON, svg } from "./dom.js";
import { describeSelection, extend, formatTime, intensityText, lang, setLang, setPrefectures, t, translatePage } from "./i18n.js";
import { JapanMap, pointAt } from "./map.js";
import { intensityRank } from "./model.js";
import { PALETTES } from "./palette.js";
import { expandPrefs } from "./params.js";
import { buildPicker } from "./picker.js";

extend({
  ja: {
    history_tagline: "過去の地震・津波", live_link: "ライブ", settings: "表示設定", from: "開始日", to: "終了日",
    min_intensity: "最大震度", any: "指定なし", or_more: "以上", min_magnitude: "マグニチュード", max_depth: "深さ",
    km_or_less: "km以下", search: "検索", map_title: "地図", per_day: "日別の件数", list_title: "地震の一覧",
    more: "さらに表示", download: "ダウンロード", history_source: "出典：気象庁（防災情報XML）。取り消された情報も取消と明示して残しています。",
    found_n: "{n}件を表示", found_more: "{n}件を表示（さらにあります）", none_found: "条件に合う記録はありません。",
    cancelled_mark: "取消", magnitude: "M{m}", depth_km: "深さ{d}km", load_error: "読み込めませんでした：{m}",
    day_count: "{d}：{n}件", history_title: "yure 揺れ — 過去の地震・津波",
  },
  en: {
    history_tagline: "Past earthquakes & tsunamis", live_link: "Live", settings: "Display settings", from: "From",
    to: "To", min_intensity: "Max intensity", any: "Any", or_more: "or more", min_magnitude: "Magnitude",
    max_depth: "Depth", km_or_less: "km or less", search: "Search", map_title: "Map", per_day: "Events per day",
    list_title: "Events", more: "Show more", download: "Download",
    history_source: "Source: Japan Meteorological Agency (JMA XML). Cancelled information is kept and marked as cancelled.",
    found_n: "{n} shown", found_more: "{n} shown (more available)", none_found: "No records match.",
    cancelled_mark: "Cancelled", magnitude: "M{m}", depth_km: "depth {d} km", load_error: "Could not load: {m}",
    day_count: "{d}: {n}", history_title: "yure — Past earthquakes & tsunamis",
  },
});

const FILTERS = ["from", "to", "min_intensity", "min_magnitude", "max_depth_km"];
const FIELD_IDS = { from: "#from", to: "#to", min_intensity: "#min-intensity", min_magnitude: "#min-magnitude", max_depth_km: "#max-depth" };
const PAGE_SIZE = 100;

const query = new URLSearchParams(location.search);
setLang(query.get("lang") === "en" ? "en" : "ja");
translatePage();
document.title = t("history_title");

let map = null;
let shown = [];
let next = null;
let selectedPrefs = [];

/** The API query of the current filters (only known names, only set values). */
function apiQuery() {
  const q = new URLSearchParams();
  if (selectedPrefs.length) q.set("prefs", selectedPrefs.join(","));
  for (const name of FILTERS) {
    const value = $(FIELD_IDS[name]).value.trim();
    if (value) q.set(name, value);
  }
  return q;
}

function showError(message) {
  const box = $("#error");
  box.hidden = !message;
  box.textContent = message ? t("load_error", { m: message }) : "";
}

async function fetchJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail ?? body.title ?? `HTTP ${response.status}`); // problem details
  return body;
}

function describe(item) {
  const parts = [];
  if (item.hypocenter) parts.push(item.hypocenter);
  if (item.magnitude !== null) parts.push(t("magnitude", { m: item.magnitude.toFixed(1) }));
  if (item.depth_km !== null) parts.push(item.depth_km === 0 ? t("depth_shallow") : t("depth_km", { d: item.depth_km }));
  return parts.join(" · ");
}

function eventLink(item) {
  const suffix = lang() === "en" ? "?lang=en" : "";
  return `/events/${encodeURIComponent(item.event_id)}${suffix}`;
}

function card(item) {
  const badge = item.max_intensity
    ? el("span", { class: "badge-int", "data-intensity": item.max_intensity, title: t("max_int") }, intensityText(item.max_intensity))
    : null;
  return el("li", { "data-event-id": item.event_id },
    el("article", { class: item.cancelled ? "card cancelled" : "card" },
      el("div", { class: "card-head" },
        el("time", { datetime: item.time }, formatTime(item.time)),
        item.kinds.map((k) => el("span", { class: "kind" }, t(`kind_${k}`))),
        item.cancelled ? el("span", { class: "badge-cancel" }, t("cancelled_mark")) : null),
      el("p", { class: "what" }, badge, " ", el("a", { href: eventLink(item) }, item.title)),
      el("p", { class: "meta" }, describe(item)),
      item.headline ? el("p", { class: "line" }, item.headline) : null));
}

function drawDots() {
  if (!map) return;
  map.update({ intensity: {}, tsunamiAreas: [], stations: [], lg: {}, felt: {}, epicenter: null });
  const colours = PALETTES.jma.intensity;
  // Oldest first, so the newest (and the strongest of a day) is drawn on top.
  const located = shown.filter((item) => item.lat !== null && item.lon !== null).reverse();
  located.sort((a, b) => intensityRank(a.max_intensity) - intensityRank(b.max_intensity));
  for (const item of located) {
    const [x, y] = pointAt(item.lon, item.lat);
    const r = 8 + Math.max(0, (item.magnitude ?? 3) - 3) * 6;
    const dot = svg("circle", {
      class: "history-dot", cx: x.toFixed(1), cy: y.toFixed(1), r: r.toFixed(1),
      fill: colours[item.max_intensity] ?? "#888888", "data-event-id": item.event_id,
    }, svg("title", null, `${formatTime(item.time)} ${item.title} ${describe(item)}`));
    dot.addEventListener("click", () => { location.href = eventLink(item); });
    map.markLayer.append(dot);
  }
}

function drawChart(days) {
  const box = $("#chart");
  if (!days.length) {
    box.replaceChildren();
    return;
  }
  const dayMs = 86400000;
  const first = Date.parse(days[0].date);
  const span = Math.round((Date.parse(days[days.length - 1].date) - first) / dayMs) + 1;
  const top = Math.max(...days.map((d) => d.count));
  const width = Math.max(span, 30);
  const chart = svg("svg", { viewBox: `0 0 ${width} 100`, preserveAspectRatio: "none", role: "img", "aria-label": t("per_day") });
  for (const day of days) {
    const x = Math.round((Date.parse(day.date) - first) / dayMs);
    const h = Math.max(2, (day.count / top) * 100);
    chart.append(svg("rect", { x, y: (100 - h).toFixed(1), width: 0.9, height: h.toFixed(1), "data-date": day.date, "data-count": day.count },
      svg("title", null, t("day_count", { d: day.date, n: day.count }))));
  }
  box.replaceChildren(chart);
}

function renderList() {
  $("#events").replaceChildren(...shown.map(card));
  $("#more").hidden = next === null;
  $("#summary").textContent = shown.length
    ? t(next === null ? "found_n" : "found_more", { n: shown.length })
    : t("none_found");
  drawDots();
}

async function load({ append = false } = {}) {
  const q = apiQuery();
  q.set("limit", String(PAGE_SIZE));
  if (append && next) q.set("cursor", next);
  try {
    const page = await fetchJSON(`/api/history?${q}`);
    shown = append ? shown.concat(page.items) : page.items;
    next = page.next;
    showError(null);
    renderList();
    if (!append) {
      q.delete("limit");
      q.delete("cursor");
      drawChart((await fetchJSON(`/api/history/days?${q}`)).days);
      $("#csv-link").href = `/api/history.csv?${q}`;
      $("#geojson-link").href = `/api/history.geojson?${q}`;
    }
  } catch (err) {
    showError(err.message);
  }
  document.body.dataset.loaded = "true";
}

function keepInUrl() {
  const q = apiQuery();
  if (lang() === "en") q.set("lang", "en");
  history.replaceState(null, "", `${location.pathname}${q.size ? `?${q}` : ""}`);
}

async function main() {
  for (const name of FILTERS) {
    const value = query.get(name);
    if (value) $(FIELD_IDS[name]).value = value;
  }
  const toggle = $("#lang-toggle");
  toggle.textContent = t("lang_toggle");
  toggle.href = lang() === "en" ? "?" : "?lang=en";
  const [names, geojson] = await Promise.all([getJSON("/api/prefectures"), getJSON("/static/japan_prefs.geojson")]);
  setPrefectures(names.prefectures);
  const tokens = (query.get("prefs") ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  selectedPrefs = expandPrefs(tokens, names.regions);
  buildPicker($("#picker-body"), names, selectedPrefs, (codes) => {
    selectedPrefs = codes;
    $("#picker-summary").textContent = describeSelection(codes);
  });
  map = new JapanMap($("#map"), geojson, { palette: "jma" });
  $("#map").removeAttribute("aria-busy");
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    keepInUrl();
    load();
  });
  $("#more").addEventListener("click", () => load({ append: true }));
  await load();
}

main();
