// The live page (/): map + timeline, a prefecture picker kept in the URL
// (/?prefs=13,14), Japanese or English (lang=en), JMA or colour-blind-safe colours
// (palette=cb), connection and feed freshness, and aria-live announcements.

import { $, $$, el, getJSON } from "./dom.js";
import { announcement, refreshAges, renderGroup } from "./cards.js";
import { cardDetails, shareButton } from "./details.js";
import { ago, describeSelection, extend, formatTime, lang, setLang, setPrefectures, t, translatePage } from "./i18n.js";
import { legend } from "./legend.js";
import { JapanMap } from "./map.js";
import { Feed, arrivalOrder, gradeRank, mapState } from "./model.js";
import { PALETTES, textOn } from "./palette.js";
import { arrivalText, heightText } from "./tsunami.js";
import { expandPrefs, readParams, urlWith } from "./params.js";
import { buildPicker } from "./picker.js";
import { isAftershock, mainGroup } from "./pinning.js";
import { LiveStream, backoffMs } from "./stream.js";
import { KIND, isOfficial } from "./item.js";
import { alertFor } from "./alerts.js";

// Invite links are /#invite=<token> (docs/api.md): the check-in page takes them.
if (location.hash.startsWith("#invite=")) location.replace(`/safety${location.hash}`);

extend({
  ja: {
    tagline: "地震・津波情報", skip_to_timeline: "タイムラインへ移動", settings: "表示設定", palette_cb: "色覚配慮の配色",
    palette_jma: "気象庁の配色", safety_link: "安否確認", map_title: "地図", timeline_title: "タイムライン",
    source_note: "公式情報の出典：気象庁（防災情報XML）。「未確認」はユーザーの投稿・報告で、公式情報ではありません。", embed_link: "サイトに埋め込む",
    last_received: "最終受信 {ago}", feed_ok: "気象庁フィード：最終受信 {ago}", feed_stale: "気象庁フィード：最終受信 {ago}（遅延しています）",
    feed_none: "気象庁フィード：受信記録なし", feed_unknown: "サーバーの状態を確認できません", main_event: "主な地震",
    aftershocks: "余震・同じ地域の地震（{n}件）", legend_intensity: "震度",
    map_caption: "{title}（{time}）", map_caption_none: "表示中の地震はありません", show_on_map: "地図に表示",
    history: "発表履歴（{n}件）", legend_station: "観測点の震度", lg_legend: "長周期地震動階級", lite_link: "軽量版（回線が混雑しているとき）", share: "共有", link_copied: "リンクをコピーしました",
  },
  en: {
    tagline: "Earthquake & tsunami information", skip_to_timeline: "Skip to timeline",
    settings: "Display settings", palette_cb: "Colour-blind-safe colours", palette_jma: "JMA colours",
    safety_link: "Safety check", map_title: "Map", timeline_title: "Timeline",
    source_note: "Official information: Japan Meteorological Agency (JMA XML). \"Unverified\" items are posts and reports by users, not official information.",
    embed_link: "Embed on your site", last_received: "last received {ago}",
    feed_ok: "JMA feed: last received {ago}", feed_stale: "JMA feed: last received {ago} (delayed)",
    feed_none: "JMA feed: nothing received yet", feed_unknown: "Server status unknown",
    main_event: "Main event", aftershocks: "Aftershocks and nearby quakes ({n})",
    legend_intensity: "Intensity", map_caption: "{title} ({time})",
    map_caption_none: "No earthquake shown", show_on_map: "Show on map", history: "Issued telegrams ({n})",
    share: "Share", link_copied: "Link copied", legend_station: "Intensity at a station", lg_legend: "Long-period class", lite_link: "Lite page (for slow networks)",
  },
});

const MAX_CARDS = 100;
const HEALTH_EVERY_MS = 30000;
/** The stream counts as stalled after this long without any message (heartbeats included). */
const STALLED_AFTER_MS = 30000;

const params = readParams();
setLang(params.lang);
translatePage();
document.title = `yure 揺れ — ${t("tagline")}`;

const feed = new Feed();
const openDetails = new Set();
const status = { state: "connecting", lastMessageAt: null, health: null };
/** ?item=…: the card the page was opened at (shown on the map, scrolled to once). */
let chosenKey = params.item;
let scrollToItem = params.item !== null;
let map = null;
let renderTimer = null;

function setupLinks() {
  const toggle = $("#lang-toggle");
  toggle.textContent = t("lang_toggle");
  toggle.href = urlWith({ lang: lang() === "en" ? null : "en" });
  toggle.hreflang = lang() === "en" ? "ja" : "en";
  const palette = $("#palette-toggle");
  palette.textContent = t(params.palette === "cb" ? "palette_jma" : "palette_cb");
  palette.href = urlWith({ palette: params.palette === "cb" ? null : "cb" });
  const suffix = lang() === "en" ? "?lang=en" : "";
  $("#home-link").href = `/${suffix}`;
  $("#safety-link").href = `/safety${suffix}`;
  $("#embed-link").href = `/embed/builder${suffix}`;
  $("#lite-link").href = urlWith({ prefs: params.prefTokens, lang: lang() === "en" ? "en" : null }, `${location.origin}/lite`);
}

function announce(ev) {
  const urgent = ev.kind === KIND.EEW || (ev.tsunami ?? []).some((a) => gradeRank(a.grade) >= gradeRank("warning"));
  const region = $(urgent ? "#announce-alert" : "#announce-polite");
  region.textContent = announcement(ev);
}

function onEvents(items, { live }) {
  for (const { id, event } of items) {
    const entry = feed.add(id, event);
    if (entry && live && isOfficial(event)) announce(event);
    if (entry && live) alertFor(event); // opt-in sound/voice (alerts.js decides)
  }
  scheduleRender();
}

function scheduleRender() {
  if (renderTimer === null) renderTimer = setTimeout(render, 30);
}

function selectGroup(key) {
  chosenKey = chosenKey === key ? null : key;
  render();
  $("#map").scrollIntoView({ block: "nearest" });
}

function render() {
  renderTimer = null;
  const groups = feed.groups();
  const main = mainGroup(groups);
  const aftershocks = groups.filter((g) => isAftershock(main, g));
  const rest = groups.filter((g) => g !== main && !aftershocks.includes(g)).slice(0, MAX_CARDS);
  const opts = { palette: params.palette, share: shareButton, more: cardDetails(selectGroup, chosenKey) };
  const pinned = $("#pinned");
  if (main) {
    pinned.replaceChildren(el("section", { class: "pinned-event", "aria-label": t("main_event") },
      el("p", { class: "pin-label" }, t("main_event")),
      renderGroup(main, opts),
      aftershocks.length ? el("details", { class: "aftershocks", "data-open-key": `a:${main.key}` },
        el("summary", null, t("aftershocks", { n: aftershocks.length })),
        el("ol", { class: "timeline" }, aftershocks.map((g) => el("li", null, renderGroup(g, opts))))) : null));
  } else {
    pinned.replaceChildren();
  }
  $("#timeline").replaceChildren(...rest.map((g) => el("li", null, renderGroup(g, opts))));
  $("#empty").hidden = groups.length > 0;
  for (const details of $$("details[data-open-key]")) {
    const key = details.dataset.openKey;
    details.open = openDetails.has(key);
    details.addEventListener("toggle", () => (details.open ? openDetails.add(key) : openDetails.delete(key)));
  }
  showItem();
  const state = mapState(feed, groups, chosenKey);
  const g = state.group;
  $("#map-caption").textContent = g
    ? t("map_caption", { title: g.hypoName ?? g.latest.ev.title ?? "", time: formatTime(g.latest.ev.reported_at) })
    : t("map_caption_none");
  if (map) map.update(state);
  showTsunamiList(state.tsunamiAreas);
}

/** The tsunami areas under the map, soonest first arrival first (「到達中」 at the top). */
function showTsunamiList(areas) {
  const list = $("#tsunami-list");
  list.hidden = !areas.length;
  list.replaceChildren(...areas.slice().sort(arrivalOrder).map((a) => {
    const chip = el("span", { class: "chip" }, t(a.grade));
    chip.style.backgroundColor = PALETTES[params.palette].tsunami[a.grade];
    chip.style.color = textOn(PALETTES[params.palette].tsunami[a.grade]);
    return el("li", { "data-area": a.area_code, "data-grade": a.grade }, chip, " ", el("b", null, a.area_name), " ",
      [arrivalText(a), heightText(a)].filter(Boolean).join(lang() === "en" ? ", " : "・"));
  }));
}

function showItem() {
  const card = params.item && document.querySelector(`article[data-key="${CSS.escape(params.item)}"]`);
  if (!card) return;
  card.classList.add("highlight");
  const details = card.closest("details");
  if (details && !details.open) {
    details.open = true;
    openDetails.add(details.dataset.openKey);
  }
  if (scrollToItem) card.scrollIntoView({ block: "center" });
  scrollToItem = false;
}

function showStatus() {
  const now = Date.now();
  let state = status.state;
  if (state === "live" && status.lastMessageAt && now - status.lastMessageAt > STALLED_AFTER_MS) state = "stalled";
  const node = $("#stream-state");
  node.dataset.state = state;
  node.textContent = t(`state_${state}`);
  $("#stream-age").textContent = status.lastMessageAt ? t("last_received", { ago: ago(now - status.lastMessageAt) }) : "";
  const feedNode = $("#feed-state");
  const h = status.health;
  let key = "feed_unknown";
  let age = "";
  if (h && h.ageS === null) key = "feed_none";
  else if (h) {
    key = h.fresh ? "feed_ok" : "feed_stale";
    age = ago(h.ageS * 1000 + (now - h.at));
  }
  feedNode.dataset.fresh = h && h.fresh ? "true" : "false";
  feedNode.textContent = t(key, { ago: age });
}

async function pollHealth() {
  try {
    const body = await getJSON("/healthz", { credentials: "omit" });
    status.health = { fresh: body.feed.fresh === true, ageS: body.feed.last_success_age_s, at: Date.now() };
  } catch {
    status.health = null;
  }
  showStatus();
  setTimeout(pollHealth, HEALTH_EVERY_MS);
}

/** GET a JSON document, retrying with capped, jittered backoff until it arrives. */
async function fetchPatiently(url) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await getJSON(url);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
    }
  }
}

async function start() {
  setupLinks();
  legend($("#legend"), params.palette);
  const names = await fetchPatiently("/api/prefectures");
  setPrefectures(names.prefectures);
  const prefs = expandPrefs(params.prefTokens, names.regions);
  $("#picker-summary").textContent = `(${describeSelection(prefs)})`;
  const pickerBody = $("#picker-body");
  const picker = buildPicker(pickerBody, names, prefs);
  pickerBody.append(el("button", { type: "button", class: "apply", onclick: () => {
    location.assign(urlWith({ prefs: picker.selected() }));
  } }, t("picker_apply")));
  if (prefs.length) document.body.dataset.prefs = prefs.join(",");
  const stream = new LiveStream({
    prefTokens: prefs,
    kinds: params.kinds,
    onEvents,
    onReset: () => feed.reset(),
    onStatus: ({ state, lastMessageAt }) => {
      status.state = state;
      status.lastMessageAt = lastMessageAt;
      showStatus();
    },
  });
  stream.start();
  pollHealth();
  setInterval(showStatus, 1000);
  setInterval(refreshAges, 15000);
  const geo = await fetchPatiently("/static/japan_prefs.geojson");
  map = new JapanMap($("#map"), geo, {
    palette: params.palette, focus: prefs, onPick: (text) => ($("#map-pick").textContent = text),
  });
  $("#map").removeAttribute("aria-busy");
  render();
}

start();
