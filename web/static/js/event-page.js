// An event's page (/events/{event_id}): the permalink the feeds and notifications link
// to. Everything comes from GET /api/history/{event_id}: the summary, the map (intensity
// per prefecture, tsunami areas, epicentre), the tsunami areas and the stations of the
// latest telegrams that carry them, and every telegram in the order JMA issued them.
// The server already put the title and Open Graph tags in the page (web/event_page.py).

import { $, el, getJSON } from "./dom.js";
import { extend, formatTime, intensityText, lang, prefName, setLang, setPrefectures, t, translatePage } from "./i18n.js";
import { isCancel, isCorrection, KIND } from "./item.js";
import { JapanMap } from "./map.js";

extend({
  ja: {
    event_tagline: "地震・津波の記録", history_link: "過去の地震・津波", live_link: "ライブ", settings: "表示設定",
    map_title: "地図", event_cancelled: "この情報は取り消されました", tsunami_title: "津波", area: "予報区", grade: "種類",
    arrival: "到達予想", height: "予想高さ", stations_title: "観測点の震度", station: "観測点", pref: "都道府県",
    intensity_col: "震度", telegrams_title: "発表された情報", history_source: "出典：気象庁（防災情報XML）。取り消された情報も取消と明示して残しています。",
    f_time: "発表", f_hypocenter: "震源", f_magnitude: "マグニチュード", f_depth: "深さ", f_max: "最大震度", f_prefs: "地域",
    f_tsunami: "津波", f_count: "情報の数", depth_km: "{d}km", not_found: "この地震の記録はありません。", load_error: "読み込めませんでした：{m}",
    count_n: "{n}件",
  },
  en: {
    event_tagline: "Earthquake & tsunami record", history_link: "Past earthquakes & tsunamis", live_link: "Live",
    settings: "Display settings", map_title: "Map", event_cancelled: "This information was cancelled",
    tsunami_title: "Tsunami", area: "Forecast area", grade: "Level", arrival: "Expected arrival", height: "Expected height",
    stations_title: "Intensity by station", station: "Station", pref: "Prefecture", intensity_col: "Intensity",
    telegrams_title: "Issued information",
    history_source: "Source: Japan Meteorological Agency (JMA XML). Cancelled information is kept and marked as cancelled.",
    f_time: "Issued", f_hypocenter: "Epicentre", f_magnitude: "Magnitude", f_depth: "Depth", f_max: "Max intensity",
    f_prefs: "Areas", f_tsunami: "Tsunami", f_count: "Telegrams", depth_km: "{d} km",
    not_found: "No record of this event.", load_error: "Could not load: {m}", count_n: "{n}",
  },
});

const query = new URLSearchParams(location.search);
setLang(query.get("lang") === "en" ? "en" : "ja");
translatePage();

function fact(list, key, value) {
  if (value === null || value === undefined || value === "") return;
  list.append(el("dt", null, t(key)), el("dd", null, value));
}

/** The latest telegram (oldest first in `telegrams`) that is not a 取消 and has `has(ev)`. */
function latest(telegrams, has) {
  for (let i = telegrams.length - 1; i >= 0; i--) {
    const ev = telegrams[i].event;
    if (!isCancel(ev) && has(ev)) return ev;
  }
  return null;
}

function renderFacts(summary) {
  const list = $("#facts");
  fact(list, "f_time", formatTime(summary.time));
  fact(list, "f_hypocenter", summary.hypocenter);
  // JMA's words when there is no number (「M不明」, 「Ｍ８を超える巨大地震」).
  fact(list, "f_magnitude", summary.magnitude === null ? summary.magnitude_text : `M${summary.magnitude.toFixed(1)}`);
  if (summary.depth_km !== null) fact(list, "f_depth", summary.depth_km === 0 ? t("depth_shallow") : t("depth_km", { d: summary.depth_km }));
  fact(list, "f_max", summary.max_intensity ? intensityText(summary.max_intensity) : null);
  fact(list, "f_prefs", summary.prefs.map(prefName).join(lang() === "en" ? ", " : "、"));
  fact(list, "f_tsunami", summary.tsunami_grade && summary.tsunami_grade !== "none" ? t(summary.tsunami_grade) : null);
  fact(list, "f_count", t("count_n", { n: summary.telegrams }));
}

function renderTsunami(ev) {
  if (!ev) return;
  $("#tsunami").hidden = false;
  $("#tsunami-rows").replaceChildren(...ev.tsunami.map((area) => el("tr", { "data-area": area.area_code },
    el("td", null, area.area_name), el("td", null, t(area.grade)),
    el("td", null, area.arrival_time ? formatTime(area.arrival_time) : (area.arrival_condition ?? "—")),
    el("td", null, area.max_height_text ?? "—"))));
}

function renderStations(ev) {
  if (!ev) return;
  $("#stations").hidden = false;
  $("#station-rows").replaceChildren(...ev.stations.map((s) => el("tr", { "data-station": s.code },
    el("td", null, s.name), el("td", null, s.pref ? prefName(s.pref) : "—"),
    el("td", null, s.intensity ? intensityText(s.intensity) : "—"))));
}

function renderTelegrams(telegrams) {
  $("#telegrams").replaceChildren(...telegrams.map(({ key, event: ev }) => {
    const mark = isCancel(ev) ? t("info_cancelled") : isCorrection(ev) ? t("info_corrected") : null;
    return el("li", { class: isCancel(ev) ? "cancelled" : null, "data-key": key, "data-type": ev.type_code },
      el("p", { class: "telegram-head" },
        el("time", { datetime: ev.reported_at }, formatTime(ev.reported_at)), ` · ${ev.type_code} · `,
        t(`kind_${ev.kind}`), mark ? el("strong", { class: "badge-cancel" }, ` ${mark}`) : null),
      el("p", { class: "telegram-title" }, ev.title),
      ev.headline ? el("p", null, ev.headline) : null);
  }));
}

function mapStateOf(summary, telegrams) {
  const quake = latest(telegrams, (ev) => ev.kind === KIND.QUAKE && Object.keys(ev.intensity ?? {}).length);
  const tsunamiEv = latest(telegrams, (ev) => ev.kind === KIND.TSUNAMI && (ev.tsunami ?? []).length);
  const stationsEv = latest(telegrams, (ev) => (ev.stations ?? []).length);
  const lgEv = latest(telegrams, (ev) => Object.keys(ev.lg_intensity ?? {}).length);
  const epicenter = summary.lat !== null && summary.lon !== null ? { lat: summary.lat, lon: summary.lon } : null;
  const state = {
    intensity: quake?.intensity ?? {}, tsunamiAreas: tsunamiEv?.tsunami ?? [], stations: stationsEv?.stations ?? [],
    lg: lgEv?.lg_intensity ?? {}, felt: {}, epicenter,
  };
  return { state, tsunamiEv, stationsEv };
}

async function main() {
  const toggle = $("#lang-toggle");
  toggle.textContent = t("lang_toggle");
  toggle.href = lang() === "en" ? "?" : "?lang=en";
  const eventId = decodeURIComponent(location.pathname.split("/").pop());
  const [names, geojson, response] = await Promise.all([
    getJSON("/api/prefectures"), getJSON("/static/japan_prefs.geojson"),
    fetch(`/api/history/${encodeURIComponent(eventId)}`, { headers: { Accept: "application/json" } }),
  ]);
  setPrefectures(names.prefectures);
  const map = new JapanMap($("#map"), geojson, { palette: "jma" });
  $("#map").removeAttribute("aria-busy");
  if (!response.ok) {
    const box = $("#error");
    box.hidden = false;
    box.textContent = response.status === 404 ? t("not_found") : t("load_error", { m: `HTTP ${response.status}` });
    document.body.dataset.loaded = "true";
    return;
  }
  const { event: summary, telegrams } = await response.json();
  $("#event-title").textContent = summary.title;
  $("#cancelled").hidden = !summary.cancelled;
  renderFacts(summary);
  const { state, tsunamiEv, stationsEv } = mapStateOf(summary, telegrams);
  map.update(state);
  renderTsunami(tsunamiEv);
  renderStations(stationsEv);
  renderTelegrams(telegrams);
  document.body.dataset.loaded = "true";
}

main();
