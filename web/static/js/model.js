// The timeline as a page understands it: entries by id, retractions and replacements
// applied (via `ref`), items grouped per earthquake (JMA EventID), and what the map
// should show. No DOM here.

import { KIND, feltCounts, isCancel, isFelt, isHiddenPost, isOfficial, userStamp } from "./item.js";

export const INTENSITIES = ["1", "2", "3", "4", "5-", "5+", "6-", "6+", "7"];
/** Tsunami grades, weakest first. */
export const GRADES = ["none", "forecast", "advisory", "warning", "major_warning"];
export const intensityRank = (v) => INTENSITIES.indexOf(v) + 1;
export const gradeRank = (g) => Math.max(0, GRADES.indexOf(g));

/** Felt reports are drawn on the map for this long after their last report. */
const FELT_RECENT_MS = 3600 * 1000;
/** Entries kept in memory (oldest dropped first). */
const MAX_ENTRIES = 3000;

function idOrder(id) {
  const [ms, seq] = String(id).split("-");
  return Number(ms) * 1000 + Math.min(Number(seq) || 0, 999);
}

/** When it happened: JMA's EventID is the origin time (JST, yyyyMMddHHmmss). */
function eventTime(ev, fallbackMs) {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(ev.event_id ?? "");
  if (m) return Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+09:00`);
  const at = Date.parse(ev.reported_at ?? ev.created_at ?? "");
  return Number.isNaN(at) ? fallbackMs : at;
}

export const hasPoint = (h) => h && Number.isFinite(h.lat) && Number.isFinite(h.lon);

export class Feed {
  constructor() {
    this.entries = new Map();
  }

  reset() {
    this.entries.clear();
  }

  /** Add one timeline entry; returns it, or null when already known or malformed. */
  add(id, ev) {
    if (typeof id !== "string" || !ev || typeof ev !== "object" || this.entries.has(id)) return null;
    const entry = { id, ev, order: idOrder(id), retractedBy: null, supersededBy: null, hidden: false, silent: false };
    const old = typeof ev.ref === "string" ? this.entries.get(ev.ref) : undefined;
    if (isHiddenPost(ev)) {
      // The retraction of a hidden post: the old post shows as hidden, this shows nothing.
      entry.silent = true;
      if (old) old.hidden = true;
    } else if (old && isCancel(ev)) {
      old.retractedBy = id;
    } else if (old) {
      old.supersededBy = id;
    }
    this.entries.set(id, entry);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value);
    return entry;
  }

  /** Entries grouped: one group per official EventID, one per user item; newest first. */
  groups() {
    const byKey = new Map();
    for (const entry of this.entries.values()) {
      const ev = entry.ev;
      if (entry.silent || (isFelt(ev) && entry.supersededBy)) continue;
      const key = isOfficial(ev) && ev.event_id ? `e:${ev.event_id}` : `i:${entry.id}`;
      if (!byKey.has(key)) byKey.set(key, { key, entries: [] });
      byKey.get(key).entries.push(entry);
    }
    const groups = Array.from(byKey.values(), summarize);
    return groups.sort((a, b) => b.last - a.last);
  }
}

function summarize(group) {
  const entries = group.entries.sort((a, b) => a.order - b.order);
  const first = entries[0];
  const valid = entries.filter((e) => !e.retractedBy && !e.supersededBy && !isCancel(e.ev));
  const latestOf = (test) => valid.filter(test).at(-1);
  const official = isOfficial(first.ev);
  const withTsunami = latestOf((e) => e.ev.kind === KIND.TSUNAMI && e.ev.type_code === "VTSE41" && e.ev.tsunami?.length)
    ?? latestOf((e) => e.ev.kind === KIND.TSUNAMI && e.ev.tsunami?.length);
  const tsunami = withArrivals(withTsunami ? withTsunami.ev.tsunami : [],
    latestOf((e) => e.ev.kind === KIND.TSUNAMI && e.ev.tsunami?.some((a) => a.arrival_time || a.arrival_condition))?.ev.tsunami);
  const lg = latestOf((e) => e.ev.max_lg_intensity)?.ev;
  const maxIntRank = Math.max(0, ...valid.filter((e) => e.ev.kind === KIND.QUAKE).map((e) => intensityRank(e.ev.max_intensity)));
  const tsunamiRank = Math.max(0, ...tsunami.map((a) => gradeRank(a.grade)));
  const kinds = new Set(valid.map((e) => e.ev.kind));
  return Object.assign(group, {
    official,
    valid,
    latest: valid.at(-1) ?? entries.at(-1),
    kind: tsunamiRank >= gradeRank("advisory") ? KIND.TSUNAMI : kinds.has(KIND.QUAKE) ? KIND.QUAKE : (valid[0] ?? first).ev.kind,
    retracted: official && valid.length === 0,
    last: entries.at(-1).order,
    time: eventTime(first.ev, first.order / 1000),
    hypo: latestOf((e) => hasPoint(e.ev.hypocenter))?.ev.hypocenter ?? null,
    hypoName: latestOf((e) => e.ev.hypocenter?.name)?.ev.hypocenter.name ?? null,
    intensity: latestOf((e) => e.ev.intensity && Object.keys(e.ev.intensity).length)?.ev.intensity ?? {},
    maxIntRank,
    tsunami,
    tsunamiRank,
    /** Intensity stations (VXSE53/61/62), observed tsunami heights (VTSE51/52). */
    stations: latestOf((e) => e.ev.stations?.length)?.ev.stations ?? [],
    observations: latestOf((e) => e.ev.tsunami_observations?.length)?.ev.tsunami_observations ?? [],
    maxLg: lg?.max_lg_intensity ?? null,
    lgIntensity: lg?.lg_intensity ?? {},
  });
}

const ARRIVAL_FIELDS = ["arrival_time", "arrival_condition", "max_height_m", "max_height_text"];

/** The grades' areas, with first-arrival and height from the newest telegram giving
 * them (a VTSE51 after the VTSE41) where the grades' own telegram has none. */
function withArrivals(areas, newer) {
  if (!newer) return areas;
  const byCode = new Map(newer.map((a) => [a.area_code, a]));
  return areas.map((area) => {
    const other = byCode.get(area.area_code);
    if (!other || area === other) return area;
    const merged = { ...area };
    for (const field of ARRIVAL_FIELDS) merged[field] ??= other[field];
    if (!merged.stations?.length) merged.stations = other.stations;
    return merged;
  });
}

/** 「到達中」 (JMA: 津波到達中と推測, 第１波の到達を確認…) first, then 「ただちに津波来襲と予測」,
 * then by first-arrival time; areas with none last; ties strongest grade first. */
export function arrivalOrder(a, b) {
  const key = (area) => {
    const c = area.arrival_condition ?? "";
    return [/到達/.test(c) ? 0 : /ただちに/.test(c) ? 1 : 2, Date.parse(area.arrival_time ?? "") || Infinity];
  };
  const [ka, kb] = [key(a), key(b)];
  return ka[0] - kb[0] || (ka[1] === kb[1] ? 0 : ka[1] < kb[1] ? -1 : 1)
    || gradeRank(b.grade) - gradeRank(a.grade) || String(a.area_code).localeCompare(String(b.area_code));
}

/** What the map shows: the chosen (else the newest) earthquake's latest observed
 * intensities and epicentre, the newest tsunami state, and recent felt reports. */
export function mapState(feed, groups, chosenKey, now = Date.now()) {
  const candidates = groups.filter(
    (g) => g.official && !g.retracted && [KIND.QUAKE, KIND.EEW, KIND.TSUNAMI].includes(g.kind) && (g.hypo || Object.keys(g.intensity).length),
  );
  const current = candidates.find((g) => g.key === chosenKey) ?? candidates.sort((a, b) => b.time - a.time)[0] ?? null;
  const tsunamiGroup = groups
    .filter((g) => g.official && !g.retracted && g.tsunami.length)
    .sort((a, b) => b.last - a.last)[0];
  const tsunami = {};
  /** The areas under an advisory or more, as the telegram gives them (grade, prefs…). */
  const tsunamiAreas = (tsunamiGroup ? tsunamiGroup.tsunami : []).filter((a) => gradeRank(a.grade) >= gradeRank("advisory"));
  for (const area of tsunamiAreas) {
    if (gradeRank(area.grade) < gradeRank("advisory")) continue;
    for (const pref of area.prefs ?? []) {
      if (gradeRank(area.grade) > gradeRank(tsunami[pref])) tsunami[pref] = area.grade;
    }
  }
  const felt = {};
  for (const entry of feed.entries.values()) {
    const ev = entry.ev;
    if (!isFelt(ev) || entry.supersededBy) continue;
    if (now - Date.parse(userStamp(ev)) > FELT_RECENT_MS) continue;
    for (const pref of ev.prefs ?? []) felt[pref] = (felt[pref] ?? 0) + feltCounts(ev).total;
  }
  return {
    group: current,
    stations: current ? current.stations : [],
    lg: current ? current.lgIntensity : {},
    intensity: current ? current.intensity : {},
    epicenter: current && hasPoint(current.hypo) && !current.latest.ev.foreign ? current.hypo : null,
    tsunami,
    tsunamiAreas,
    felt,
  };
}
