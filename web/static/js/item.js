// The public item format, read in one place: official items are ingest.event's
// event_to_json, posts and felt reports safety_check.wire's (docs/protocol.md).

/** ingest.event.Kind */
export const KIND = Object.freeze({
  QUAKE: "quake", EEW: "eew", TSUNAMI: "tsunami", NOTICE: "notice", OTHER: "other", POST: "post", FELT: "felt",
});
export const KINDS = Object.values(KIND);

/** JMA information (directly or via P2P地震情報), not a user's post or report. */
export const isOfficial = (ev) => ev.official === true;
export const isCancel = (ev) => ev.info_type === "cancelled";
export const isCorrection = (ev) => ev.info_type === "corrected";
export const isFelt = (ev) => ev.kind === KIND.FELT;
/** The retraction of a hidden post (same id, no text). */
export const isHiddenPost = (ev) => ev.kind === KIND.POST && ev.hidden === true;
export const userStamp = (ev) => ev.updated_at ?? ev.created_at;
export function feltCounts(ev) {
  const c = ev.counts ?? {};
  return { total: Number(c.total) || 0, user: Number(c.user) || 0, p2p: Number(c.p2p) || 0 };
}
