// Tsunami arrivals and heights in words: 「第1波 15:10 予想」「予想される高さ 巨大」「観測 1.2m
// 上昇中」. JMA's own phrases (conditions, 巨大, １０ｍ超) are kept as JMA wrote them in
// Japanese; English gives the known ones in English and the rest verbatim.

import { extend, formatTime, lang, t } from "./i18n.js";

extend({
  ja: {
    first_wave: "第1波 {time} 予想", first_wave_cond: "第1波 {cond}", expected_height: "予想される高さ {h}",
    observed: "観測 {h}", observed_first: "第1波 {time} {init}",
  },
  en: {
    first_wave: "1st wave expected {time}", first_wave_cond: "1st wave: {cond}", expected_height: "expected height {h}",
    observed: "observed {h}", observed_first: "1st wave {time} {init}",
  },
});

/** JMA's words in English (JMA 技術情報 tsunami conditions and height descriptions). */
const EN = {
  "津波到達中と推測": "arriving now (estimated)", "第１波の到達を確認": "arrival observed",
  "ただちに津波来襲と予測": "expected immediately", "巨大": "huge", "高い": "high",
  "上昇中": "rising", "観測中": "being observed", "押し": "rise first", "引き": "fall first",
  "第１波識別不能": "first wave not identifiable",
};
const en = (text) => (lang() === "en" ? EN[text] ?? text : text);

/** A height: JMA's description first for forecasts (「巨大」「１０ｍ超」), the number first
 * for observations (「1.2m」); "over 10 m" in English. */
function metres(m, text, numberFirst) {
  const known = m !== null && m !== undefined;
  if (lang() === "en") return known ? (/超/.test(text ?? "") ? `over ${m} m` : `${m} m`) : en(text ?? "");
  if (numberFirst && known) return `${m}m`;
  return text ?? (known ? `${m}m` : "");
}

/** 「第1波 15:10 予想」, or with JMA's condition 「第1波 15:10 ただちに津波来襲と予測」
 * (「第1波 津波到達中と推測」 without a time). */
export function arrivalText(area) {
  const time = area.arrival_time ? formatTime(area.arrival_time) : "";
  if (area.arrival_condition) return t("first_wave_cond", { cond: [time, en(area.arrival_condition)].filter(Boolean).join(" ") });
  return time ? t("first_wave", { time }) : "";
}

/** 「予想される高さ 巨大」 */
export function heightText(area) {
  const h = metres(area.max_height_m, area.max_height_text, false);
  return h ? t("expected_height", { h }) : "";
}

/** 「観測 1.2m 上昇中」 (and the first wave when known). */
export function observedText(obs) {
  const h = metres(obs.max_height_m, obs.max_height_text, true);
  const parts = [];
  if (obs.first_arrival_time) parts.push(t("observed_first", { time: formatTime(obs.first_arrival_time), init: en(obs.first_initial ?? "") }).trim());
  else if (obs.first_condition) parts.push(en(obs.first_condition));
  if (h || obs.max_height_condition) parts.push(t("observed", { h: [h, en(obs.max_height_condition ?? "")].filter(Boolean).join(" ") }));
  return parts.join(lang() === "en" ? ", " : "・");
}
