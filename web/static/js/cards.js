// Timeline cards. Official items (JMA) carry the 気象庁 / JMA badge and alert colours;
// user posts and felt reports carry 未確認 / Unverified and a neutral look, never an
// alert's. All data is inserted as text (dom.js).

import { el } from "./dom.js";
import { ago, formatTime, intensityLabel, intensityText, lang, prefName, t } from "./i18n.js";
import { GRADES, arrivalOrder, gradeRank, intensityRank } from "./model.js";
import { LG_COLOURS, PALETTES, textOn } from "./palette.js";
import { arrivalText, heightText, observedText } from "./tsunami.js";
import { KIND, feltCounts, isCancel, isCorrection, isFelt, userStamp } from "./item.js";

/** When: 「3月11日 14:50」 and its age 「3分前」 (kept fresh by refreshAges). */
export function stamp(iso) {
  const ms = Date.parse(iso);
  return el("span", { class: "when" }, el("time", { datetime: iso }, formatTime(iso)), " ",
    Number.isNaN(ms) ? null : el("span", { class: "age", "data-at": ms }, ago(Date.now() - ms)));
}

export function refreshAges(root = document) {
  for (const node of root.querySelectorAll(".age[data-at]")) node.textContent = ago(Date.now() - Number(node.dataset.at));
}

/** The item's own address: an official event's page (/events/{EventID}, the archive's
 * record), else the live page opened at that item (/?item=i:<entry id>). */
export const itemUrl = (group) => (group.key.startsWith("e:")
  ? `${location.origin}/events/${encodeURIComponent(group.key.slice(2))}`
  : `${location.origin}/?item=${encodeURIComponent(group.key)}`);

function chip(text, colour, attrs = {}) {
  const node = el("span", { class: "chip", ...attrs }, text);
  if (colour) {
    node.style.backgroundColor = colour;
    node.style.color = textOn(colour);
  }
  return node;
}

const intensityChip = (value, palette) =>
  chip(intensityLabel(value), PALETTES[palette].intensity[value], { "data-intensity": value });

function gradeChip(grade, palette) {
  return chip(t(grade), PALETTES[palette].tsunami[grade], { "data-grade": grade, class: `chip grade grade-${grade}` });
}

function officialBadge(ev) {
  return el("span", { class: "badge badge-official" }, t("badge_official"),
    ev.source === "p2p" ? el("small", null, ` ${t("badge_p2p")}`) : null);
}

const unverifiedBadge = () => el("span", { class: "badge badge-unverified" }, t("badge_unverified"));

export function infoTag(ev) {
  if (isCancel(ev)) return el("span", { class: "tag tag-cancelled" }, t("info_cancelled"));
  if (isCorrection(ev)) return el("span", { class: "tag tag-corrected" }, t("info_corrected"));
  return null;
}

function hypoLine(ev) {
  const h = ev.hypocenter;
  if (!h || !h.name) return null;
  const parts = [`${t("hypocenter")} ${h.name}`];
  if (h.depth_km === 0) parts.push(t("depth_shallow"));
  else if (Number.isFinite(h.depth_km)) parts.push(t("depth", { d: Math.round(h.depth_km) }));
  if (lang() === "en" && Number.isFinite(h.magnitude)) parts.push(`M${h.magnitude.toFixed(1)}`);
  else if (h.magnitude_text) parts.push(h.magnitude_text);
  return el("p", { class: "hypo" }, parts.join(lang() === "en" ? ", " : "・"));
}

function intensityList(intensity, palette, compact) {
  const byValue = new Map();
  for (const [pref, value] of Object.entries(intensity)) {
    if (!byValue.has(value)) byValue.set(value, []);
    byValue.get(value).push(prefName(pref));
  }
  const levels = Array.from(byValue.keys()).sort((a, b) => intensityRank(b) - intensityRank(a));
  if (!levels.length) return null;
  return el("ul", { class: "levels" }, levels.slice(0, compact ? 2 : levels.length).map((value) =>
    el("li", null, intensityChip(value, palette), " ", byValue.get(value).join(lang() === "en" ? ", " : "、"))));
}

function tsunamiList(areas, palette, compact) {
  const min = compact ? gradeRank("advisory") : gradeRank("forecast");
  const shown = areas.filter((a) => gradeRank(a.grade) >= min || (!compact && gradeRank(a.last_grade) > gradeRank("none")));
  if (!shown.length) return null;
  const gradeMark = (grade) => (gradeRank(grade) >= gradeRank("advisory") ? gradeChip(grade, palette) : chip(t(grade), null, { class: "chip chip-plain" }));
  if (shown.some((a) => a.arrival_time || a.arrival_condition || a.max_height_text || Number.isFinite(a.max_height_m))) {
    // One line per area, soonest arrival first: 「[大津波警報] 岩手県 第1波 15:10 予想・予想される高さ 巨大」
    const sorted = shown.slice().sort(arrivalOrder);
    return el("ul", { class: "levels tsunami-areas arrivals" }, sorted.slice(0, compact ? 3 : sorted.length).map((a) =>
      el("li", { "data-grade": a.grade, "data-area": a.area_code }, gradeMark(a.grade), " ", el("b", null, a.area_name), " ",
        [arrivalText(a), heightText(a)].filter(Boolean).join(lang() === "en" ? ", " : "・"))));
  }
  const grades = GRADES.slice().reverse().filter((g) => shown.some((a) => a.grade === g));
  return el("ul", { class: "levels tsunami-areas" }, grades.map((grade) =>
    el("li", { "data-grade": grade }, gradeMark(grade), " ", shown.filter((a) => a.grade === grade).map((a) => a.area_name).join(lang() === "en" ? ", " : "、"))));
}

/** Observed heights at tide stations, in telegram order: 「宮古 観測 1.2m 上昇中」. */
function observationList(observations, compact) {
  const shown = observations.filter((o) => o.station_name).slice(0, compact ? 3 : 50);
  if (!shown.length) return null;
  return el("ul", { class: "levels observations" }, shown.map((o) =>
    el("li", { "data-station": o.station_code }, el("b", null, o.station_name), " ", observedText(o))));
}

/** 長周期地震動階級 per prefecture, strongest first (VXSE62). */
function lgList(maxLg, perPref, compact) {
  if (!maxLg) return null;
  const classes = Array.from(new Set(Object.values(perPref))).sort().reverse();
  const lgChip = (v, text) => chip(text, LG_COLOURS[v], { class: "chip lg", "data-lg": v });
  return el("ul", { class: "levels lg-levels" }, el("li", null, t("lg_max"), " ", lgChip(maxLg, maxLg)),
    compact ? null : classes.map((v) => el("li", null, lgChip(v, t("lg_class", { v })), " ",
      Object.keys(perPref).filter((p) => perPref[p] === v).map(prefName).join(lang() === "en" ? ", " : "、"))));
}

function officialCard(group, opts) {
  const { palette, compact } = opts;
  const cancel = group.entries.filter((e) => isCancel(e.ev)).at(-1);
  const content = group.retracted
    ? (group.entries.filter((e) => !isCancel(e.ev)).at(-1) ?? cancel)
    : group.latest;
  const ev = content.ev;
  const maxInt = ev.max_intensity ?? null;
  const card = el("article", {
    class: `card official kind-${group.kind}${group.retracted ? " retracted" : ""}`,
    "data-key": group.key,
    "data-event-id": ev.event_id ?? "",
    "data-max-intensity": maxInt,
    "data-tsunami": group.tsunamiRank ? GRADES[group.tsunamiRank] : null,
  });
  const accent = group.tsunamiRank >= gradeRank("advisory")
    ? PALETTES[palette].tsunami[GRADES[group.tsunamiRank]]
    : PALETTES[palette].intensity[maxInt];
  if (accent) card.style.borderLeftColor = accent;
  const body = el("div", { class: "card-body" },
    el("h3", { class: "card-title" }, ev.title ?? "", " ", infoTag(ev)),
    ev.headline ? el("p", { class: "headline" }, ev.headline) : null,
    ev.foreign ? el("p", { class: "muted" }, t("foreign")) : null,
    hypoLine(ev),
    maxInt ? el("p", { class: "maxint" }, `${t(ev.kind === KIND.EEW ? "eew_max" : "max_int")} `, intensityChip(maxInt, palette)) : null,
    intensityList(group.retracted ? ev.intensity ?? {} : group.intensity, palette, compact),
    lgList(group.retracted ? null : group.maxLg, group.lgIntensity, compact),
    tsunamiList(group.retracted ? ev.tsunami ?? [] : group.tsunami, palette, compact),
    group.retracted ? null : observationList(group.observations, compact));
  card.append(
    el("header", { class: "card-head" }, officialBadge(ev), " ",
      el("span", { class: "kind" }, t(`kind_${group.kind}`)), " ",
      stamp(ev.reported_at), opts.share?.(group, ev.title)),
    body);
  if (group.retracted && cancel && cancel !== content) {
    card.append(el("p", { class: "retraction", role: "note" },
      el("span", { class: "tag tag-cancelled" }, t("retracted")), " ", cancel.ev.headline ?? ""));
  }
  if (opts.more) opts.more(group, card);
  return card;
}

function userCard(group, opts) {
  const entry = group.entries.at(-1);
  const ev = entry.ev;
  const prefs = (ev.prefs ?? []).map(prefName).join(lang() === "en" ? ", " : "、");
  const at = userStamp(ev);
  const head = el("header", { class: "card-head" }, unverifiedBadge(), " ",
    el("span", { class: "kind" }, t(isFelt(ev) ? "kind_felt" : "kind_post")), " ",
    prefs ? el("span", { class: "where" }, prefs) : null, " ",
    stamp(at), opts.share?.(group, t(isFelt(ev) ? "kind_felt" : "kind_post")));
  let body;
  if (isFelt(ev)) {
    const c = feltCounts(ev);
    body = el("p", { class: "felt-count" }, t("felt_count", { n: c.total }), " ",
      el("span", { class: "muted" }, t("felt_detail", { u: c.user, p: c.p2p })));
  } else if (entry.hidden || typeof ev.text !== "string") {
    body = el("p", { class: "muted post-hidden" }, t("post_hidden"));
  } else {
    body = el("p", { class: "post-text" }, ev.text);
  }
  return el("article", { class: `card unverified kind-${isFelt(ev) ? KIND.FELT : KIND.POST}`, "data-key": group.key }, head, body);
}

/** One group as a card; opts: {palette, compact, share(group, title) → a share control,
 * more(group, card) adds to official cards}. */
export function renderGroup(group, opts) {
  return group.official ? officialCard(group, opts) : userCard(group, opts);
}

/** The text read out by screen readers for a new official item. */
export function announcement(ev) {
  return [t("badge_official"), t(`kind_${ev.kind}`) , ev.title, ev.headline, ev.max_intensity ? intensityLabel(ev.max_intensity) : ""]
    .filter(Boolean).join(" ");
}
