// The embed (/embed?prefs=13,14&kinds=quake,tsunami&theme=dark&mode=map&lang=en):
// read-only, no cookies, no login; the newest items for the chosen prefectures, as a
// list or under a small map.

import { $, el, getJSON } from "./dom.js";
import { announcement, renderGroup } from "./cards.js";
import { describeSelection, extend, lang, setLang, setPrefectures, t, translatePage } from "./i18n.js";
import { JapanMap } from "./map.js";
import { Feed, mapState } from "./model.js";
import { expandPrefs, readParams, urlWith } from "./params.js";
import { LiveStream } from "./stream.js";
import { KIND, isOfficial } from "./item.js";

extend({
  ja: { embed_official: "気象庁の公式情報", embed_unverified: "ユーザーの投稿・報告" },
  en: { embed_official: "official JMA information", embed_unverified: "posts and reports by users" },
});

/** Without kinds=, the embed shows official information only. */
const DEFAULT_KINDS = [KIND.QUAKE, KIND.EEW, KIND.TSUNAMI, KIND.NOTICE];
const MAX_ITEMS = { list: 30, map: 6 };

const params = readParams();
setLang(params.lang);
if (params.theme) document.documentElement.dataset.theme = params.theme;
translatePage();
const kinds = params.kinds.length ? params.kinds : DEFAULT_KINDS;
const feed = new Feed();
let map = null;
let timer = null;

function render() {
  timer = null;
  const groups = feed.groups();
  const opts = { palette: params.palette, compact: true };
  $("#timeline").replaceChildren(...groups.slice(0, MAX_ITEMS[params.mode]).map((g) => el("li", null, renderGroup(g, opts))));
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
  if (params.mode === "map") {
    const node = $("#map");
    node.hidden = false;
    const geo = await getJSON("/static/japan_prefs.geojson", { credentials: "omit" });
    map = new JapanMap(node, geo, { palette: params.palette, focus: prefs });
    render();
  }
}

start();
