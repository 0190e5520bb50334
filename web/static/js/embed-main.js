// The embed (/embed?prefs=13,14&kinds=quake,tsunami&theme=dark&mode=map&lang=en):
// read-only, no cookies, no login; the newest items for the chosen prefectures, as a
// list or under a small map.

import { $, el, getJSON } from "./dom.js";
import { announcement, itemUrl, refreshAges, renderGroup } from "./cards.js";
import { describeSelection, extend, lang, setLang, setPrefectures, t, translatePage } from "./i18n.js";
import { Feed, mapState } from "./model.js";
import { expandPrefs, readParams, urlWith } from "./params.js";
import { LiveStream } from "./stream.js";
import { KIND, isOfficial } from "./item.js";

extend({
  ja: { embed_official: "気象庁の公式情報", embed_unverified: "ユーザーの投稿・報告", link: "リンク", legend_intensity: "震度" },
  en: { embed_official: "official JMA information", embed_unverified: "posts and reports by users", link: "Link", legend_intensity: "Shindo" },
});

/** Without kinds=, the embed shows official information only. */
const DEFAULT_KINDS = [KIND.QUAKE, KIND.EEW, KIND.TSUNAMI, KIND.NOTICE];
const MAX_ITEMS = { list: 30, map: 6, overlay: 3 };

const params = readParams();
setLang(params.lang);
if (params.theme) document.documentElement.dataset.theme = params.theme;
translatePage();
const kinds = params.kinds.length ? params.kinds : DEFAULT_KINDS;
const feed = new Feed();
let map = null;
let timer = null;

/** The item's own page, in a new tab (a framed page may not share or copy). */
const shareLink = (group) => el("a", { class: "share", href: itemUrl(group), target: "_blank", rel: "noopener noreferrer" }, t("link"));

function render() {
  timer = null;
  const groups = feed.groups();
  const opts = { palette: params.palette, compact: true, share: shareLink };
  const max = MAX_ITEMS[document.body.dataset.layout === "overlay" ? "overlay" : params.mode];
  $("#timeline").replaceChildren(...groups.slice(0, max).map((g) => el("li", null, renderGroup(g, opts))));
  $("#empty").hidden = groups.length > 0;
  if (map) map.update(mapState(feed, groups, null));
}

async function start() {
  const names = await getJSON("/api/prefectures", { credentials: "omit" });
  setPrefectures(names.prefectures);
  const prefs = expandPrefs(params.prefTokens, names.regions);
  $("#where").textContent = describeSelection(prefs);
  const brand = $("#brand");
  brand.href = urlWith({ prefs, lang: lang() === "en" ? "en" : null, kinds: null, theme: null, mode: null }, `${location.origin}/`);
  const state = $("#stream-state");
  const stream = new LiveStream({
    prefTokens: prefs,
    kinds,
    credentials: "omit",
    onEvents: (items, { live }) => {
      for (const { id, event } of items) {
        if (feed.add(id, event) && live && isOfficial(event)) $("#announce").textContent = announcement(event);
      }
      timer ??= setTimeout(render, 30);
    },
    onReset: () => feed.reset(),
    onStatus: ({ state: s }) => {
      state.dataset.state = s;
      state.textContent = t(`state_${s}`);
    },
  });
  stream.start();
  setInterval(refreshAges, 15000);
  if (params.mode === "map") {
    // Only map mode loads the map's code (and the shapes): list mode stays small.
    const { startMap } = await import("./embed-map.js");
    map = await startMap({ palette: params.palette, focus: prefs, onLayout: render });
    render();
  }
}

start();
