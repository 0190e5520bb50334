// What the URL asks for (/?prefs=13,14&kinds=quake&lang=en&palette=cb, and for the
// embed &theme=dark&mode=map). Anything unknown is dropped, never echoed.

import { KINDS } from "./item.js";

const REGIONS = ["hokkaido", "tohoku", "kanto", "chubu", "kinki", "chugoku", "shikoku", "kyushu"];
const MAX_TOKENS = 64;

function list(value, accept) {
  if (!value) return [];
  const seen = new Set();
  for (const raw of value.split(",").slice(0, MAX_TOKENS)) {
    const token = raw.trim().toLowerCase();
    if (accept(token)) seen.add(token);
  }
  return Array.from(seen);
}

const isPref = (token) => /^(0[1-9]|[1-3][0-9]|4[0-7])$/.test(token);

export function readParams(search = location.search) {
  const q = new URLSearchParams(search);
  const pick = (name, allowed, fallback) => (allowed.includes(q.get(name)) ? q.get(name) : fallback);
  return {
    prefTokens: list(q.get("prefs"), (tok) => isPref(tok) || REGIONS.includes(tok)),
    kinds: list(q.get("kinds"), (tok) => KINDS.includes(tok)),
    lang: pick("lang", ["ja", "en"], "ja"),
    palette: pick("palette", ["jma", "cb"], "jma"),
    theme: pick("theme", ["light", "dark"], null),
    mode: pick("mode", ["list", "map"], "list"),
    /** A card's key (?item=e:<EventID> or i:<entry id>): the page opens at that item. */
    item: /^[ei]:[\w-]{1,64}$/.test(q.get("item") ?? "") ? q.get("item") : null,
  };
}

/** Region ids become their prefecture codes (regions from /api/prefectures). */
export function expandPrefs(tokens, regions) {
  const codes = new Set();
  for (const token of tokens) {
    const region = regions.find((r) => r.id === token);
    for (const code of region ? region.prefs : [token]) codes.add(code);
  }
  return Array.from(codes).sort();
}

/** This page's URL with some parameters changed (null removes one). */
export function urlWith(changes, base = location.href) {
  const url = new URL(base);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === "" || (Array.isArray(value) && value.length === 0)) url.searchParams.delete(name);
    else url.searchParams.set(name, Array.isArray(value) ? value.join(",") : value);
  }
  url.hash = "";
  // Values come from fixed sets and codes, so commas can stay readable: ?prefs=13,14
  return url.pathname + url.search.replace(/%2C/gi, ",");
}

/** The filter query (prefs, kinds) for /api/timeline. */
export function filterQuery(prefTokens, kinds) {
  const q = new URLSearchParams();
  if (prefTokens.length) q.set("prefs", prefTokens.join(","));
  if (kinds.length) q.set("kinds", kinds.join(","));
  return q;
}
