// The live timeline over /ws (docs/protocol.md): history from /api/timeline, then a
// WebSocket subscribed with `since` = the last id seen. It reconnects with capped,
// jittered exponential backoff and resumes after the last id, so nothing is lost or
// repeated; a connection silent for longer than two heartbeats is dropped and redone.

import { filterQuery } from "./params.js";

const HISTORY_LIMIT = 200;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
/** The server sends a heartbeat at least every 15 s. */
const SILENCE_LIMIT_MS = 35000;
/** Close codes after which retrying unchanged cannot help (RFC 6455 §7.4.1). */
const FATAL_CODES = new Set([1003, 1008, 1009]);

/** Full jitter: a random delay up to min(cap, base × 2^attempt), so that clients cut off
 * together do not all come back at once. */
export function backoffMs(attempt) {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

export class LiveStream {
  /**
   * onEvents(items, {live}) gets [{id, event}] oldest first; onReset() means "forget
   * everything, a fresh history follows"; onStatus({state, lastMessageAt}) tells how
   * the connection is.
   */
  constructor({ prefTokens = [], kinds = [], onEvents, onReset = () => {}, onStatus = () => {}, credentials = "same-origin" }) {
    Object.assign(this, { prefTokens, kinds, onEvents, onReset, onStatus, credentials });
    this.lastId = null;
    this.lastMessageAt = null;
    this.heardAt = 0;
    this.attempt = 0;
    this.state = "connecting";
    this.socket = null;
    this.timer = null;
    this.historyLoaded = false;
    setInterval(() => this.watch(), 5000);
    addEventListener("online", () => this.state === "reconnecting" && this.retryNow());
  }

  start() {
    this.run();
  }

  setState(state) {
    this.state = state;
    this.onStatus({ state, lastMessageAt: this.lastMessageAt });
  }

  async run() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.historyLoaded) {
      try {
        await this.loadHistory();
      } catch {
        this.scheduleRetry();
        return;
      }
    }
    this.connect();
  }

  async loadHistory() {
    const q = filterQuery(this.prefTokens, this.kinds);
    q.set("limit", String(HISTORY_LIMIT));
    const response = await fetch(`/api/timeline?${q}`, { credentials: this.credentials, cache: "no-store" });
    if (!response.ok) throw new Error(`timeline: HTTP ${response.status}`);
    const body = await response.json();
    this.lastMessageAt = Date.now();
    this.onEvents(body.items.map((m) => ({ id: m.id, event: m.event })), { live: false });
    // An empty timeline answers next=null: "0" then means "everything from now on".
    this.lastId = body.next ?? (body.items.length ? body.items[body.items.length - 1].id : "0");
    this.historyLoaded = true;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}/ws`);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    this.heardAt = Date.now();
    let ready = false;
    socket.onopen = () => {
      const subscribe = { type: "subscribe", since: this.lastId };
      if (this.prefTokens.length) subscribe.prefs = this.prefTokens;
      if (this.kinds.length) subscribe.kinds = this.kinds;
      socket.send(JSON.stringify(subscribe));
    };
    socket.onmessage = (frame) => {
      if (socket !== this.socket) return;
      let msg;
      try {
        msg = JSON.parse(frame.data);
      } catch {
        return;
      }
      this.lastMessageAt = this.heardAt = Date.now();
      // A coalesced frame carries several event messages (docs/protocol.md).
      const messages = msg.type === "events" ? msg.items : [msg];
      const batch = [];
      for (const m of messages) {
        if (m.type === "event") {
          batch.push({ id: m.id, event: m.event });
          this.lastId = m.id;
        } else if (m.type === "ready") {
          ready = true;
          this.attempt = 0;
        } else if (m.type === "cursor_expired") {
          this.resync();
          return;
        }
      }
      if (batch.length) this.onEvents(batch, { live: ready });
      if (ready && this.state !== "live") this.setState("live");
      else if (this.state === "live") this.onStatus({ state: "live", lastMessageAt: this.lastMessageAt });
    };
    socket.onclose = (e) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (FATAL_CODES.has(e.code)) {
        this.setState("error");
        return;
      }
      this.scheduleRetry();
    };
  }

  /** The server no longer has what we missed: start over from a fresh history. */
  resync() {
    this.historyLoaded = false;
    this.lastId = null;
    this.onReset();
    this.drop();
    this.run();
  }

  drop() {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
  }

  scheduleRetry() {
    this.setState("reconnecting");
    const delay = backoffMs(this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), delay);
  }

  retryNow() {
    this.drop();
    this.run();
  }

  watch() {
    if (this.socket && Date.now() - this.heardAt > SILENCE_LIMIT_MS) {
      this.drop();
      this.scheduleRetry();
    }
    this.onStatus({ state: this.state, lastMessageAt: this.lastMessageAt });
  }
}
