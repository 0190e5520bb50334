// The live page's main event (pinned) and its aftershocks. No DOM here.

import { hasPoint } from "./model.js";
import { KIND } from "./item.js";

/** A later quake this close to the main event's epicentre counts as its aftershock. */
const AFTERSHOCK_KM = 150;
/** A group is pinned as the main event from 震度4, or a tsunami advisory, upwards. */
const MAIN_EVENT_MIN_SCORE = 4;

function distanceKm(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function score(group) {
  const tsunamiScore = [0, 0, 4, 7, 9][group.tsunamiRank];
  return Math.max(group.maxIntRank, tsunamiScore);
}

/** The strongest official quake/tsunami group (newest on a tie), if strong enough. */
export function mainGroup(groups) {
  let best = null;
  for (const g of groups) {
    if (!g.official || g.retracted || ![KIND.QUAKE, KIND.TSUNAMI].includes(g.kind)) continue;
    if (score(g) < MAIN_EVENT_MIN_SCORE) continue;
    if (!best || score(g) > score(best) || (score(g) === score(best) && g.time > best.time)) best = g;
  }
  return best;
}

/** Later quakes near the main event: by distance between epicentres, else by the
 * same epicentre name. */
export function isAftershock(main, g) {
  if (!main || g === main || !g.official || g.kind !== KIND.QUAKE || g.time <= main.time) return false;
  if (hasPoint(main.hypo) && hasPoint(g.hypo)) return distanceKm(main.hypo, g.hypo) <= AFTERSHOCK_KM;
  return Boolean(main.hypoName) && main.hypoName === g.hypoName;
}

