// The check-in page (/safety): sign up / sign in, friends by handle or invite link
// (/safety#invite=<token>: the page names the inviter and befriends only on a click), one-tap 無事です / 助けが必要, and friends' statuses live over
// /api/live (docs/api.md). Cookie-authenticated writes carry X-Yure-CSRF: 1.

import { $, $$, el, getJSON } from "./dom.js";
import { ago, extend, formatTime, lang, prefName, setLang, setPrefectures, t, translatePage } from "./i18n.js";
import { readParams, urlWith } from "./params.js";
import { backoffMs } from "./stream.js";

extend({
  ja: {
    safety_title: "安否確認", map_link: "地震・津波情報", auth_title: "ログイン・新規登録",
    auth_note: "ハンドル名とパスワードだけで使えます。名前・メールアドレス・電話番号は要りません。",
    handle: "ハンドル名", password: "パスワード（8文字以上）", login: "ログイン", signup: "新規登録", logout: "ログアウト",
    whoami: "{handle} としてログイン中", checkin_title: "安否を知らせる",
    checkin_note: "友だちにだけ表示されます。公開タイムラインには載りません。", note_label: "ひとこと（任意・100文字まで）",
    pref_label: "都道府県（任意）", safe: "無事です", need_help: "助けが必要", unknown: "不明", no_checkin: "未報告",
    friends_title: "友だちの安否", friends_empty: "まだ友だちがいません。下で追加できます。", add_title: "友だちを追加",
    request: "友だち申請", invite: "招待リンクを作る", copy: "コピー", copied: "コピーしました",
    report_title: "揺れの報告・投稿", report_note: "公開タイムラインに「未確認」として表示されます（投稿者名は出ません）。",
    felt: "揺れた", post_label: "投稿（280文字まで）", post: "投稿",
    sent: "送信しました（{time}）", sending: "送信中…", you: "あなた", incoming: "申請が届いています：",
    outgoing: "申請中：", accept: "承認", decline: "拒否", withdraw: "取り消す", requested: "{handle} さんに申請しました",
    now_friends: "{handle} さんと友だちになりました", invite_pending: "招待リンクを受け取りました。ログインまたは新規登録すると、招待した人を確かめて承認できます。",
    invite_from: "{handle} さんからの招待", invite_explain: "承認すると、おたがいの安否（ひとこと・都道府県・共有した位置）が見えるようになります。",
    invite_accept: "承認する", invite_dismiss: "承認しない", invite_dismissed: "招待を承認しませんでした。",
    invite_invalid: "招待リンクが無効か、期限切れです。", invite_own: "自分の招待リンクです。", live_on: "自動で更新中",
    live_off: "再接続中…", felt_sent: "報告しました（{pref}：{n}件）", posted: "投稿しました（未確認として公開）",
    err_credentials: "ハンドル名またはパスワードが違います。", err_taken: "そのハンドル名は使われています。",
    err_rate: "操作が多すぎます。{n}秒後にもう一度お試しください。", err_input: "入力を確認してください：{m}",
    err_network: "送信できませんでした。通信を確認してください。", err_session: "ログインが切れました。もう一度ログインしてください。",
    friend_status: "{handle}：{status}",
    recovery_explain: "登録すると「回復コード」が10個表示されます。メールアドレスを使わないので、パスワードを忘れたときはこのコードで新しいパスワードを設定します。表示は1回だけです。保存しておいてください。",
    forgot_title: "パスワードを忘れたとき", recover_code: "回復コード", new_password: "新しいパスワード（8文字以上）",
    recover_submit: "新しいパスワードでログイン", recovered: "新しいパスワードを設定しました。残りの回復コード：{n}個",
    err_recover: "ハンドル名または回復コードが違います（使えるのは1回だけです）。",
    recovery_title: "回復コード（この1回だけ表示）", recovery_saved: "保存しました", new_codes: "回復コードを作り直す",
    recovery_note: "パスワードを忘れたとき、どれか1つで新しいパスワードを設定できます（各コード1回限り）。メモ帳などに保存するか、書き写してください。",
  },
  en: {
    safety_title: "Safety check", map_link: "Earthquake & tsunami information", auth_title: "Sign in or sign up",
    auth_note: "Only a handle and a password: no name, no e-mail address, no phone number.",
    handle: "Handle", password: "Password (8+ characters)", login: "Sign in", signup: "Sign up", logout: "Sign out",
    whoami: "Signed in as {handle}", checkin_title: "Tell your friends",
    checkin_note: "Only your friends see this. It never appears on the public timeline.", note_label: "Note (optional, up to 100 characters)",
    pref_label: "Prefecture (optional)", safe: "I'm safe", need_help: "I need help", unknown: "Unknown", no_checkin: "No check-in",
    friends_title: "Your friends", friends_empty: "No friends yet. Add them below.", add_title: "Add friends",
    request: "Send request", invite: "Create invite link", copy: "Copy", copied: "Copied",
    report_title: "Report shaking, post", report_note: "Shown on the public timeline as \"Unverified\" (your handle is not shown).",
    felt: "I felt shaking", post_label: "Post (up to 280 characters)", post: "Post",
    sent: "Sent ({time})", sending: "Sending…", you: "you", incoming: "Requests for you:", outgoing: "Pending:",
    accept: "Accept", decline: "Decline", withdraw: "Withdraw", requested: "Request sent to {handle}",
    now_friends: "You and {handle} are now friends", invite_pending: "You opened an invite link. Sign in or sign up to see who sent it and accept it.",
    invite_from: "Invitation from {handle}", invite_explain: "If you accept, you and they see each other's check-ins (note, prefecture, shared location).",
    invite_accept: "Accept invitation", invite_dismiss: "Do not accept", invite_dismissed: "You did not accept the invitation.",
    invite_invalid: "This invite link is invalid or has expired.", invite_own: "This is your own invite link.",
    live_on: "Updating live", live_off: "Reconnecting…", felt_sent: "Reported ({pref}: {n})",
    posted: "Posted (shown as unverified)", err_credentials: "Wrong handle or password.", err_taken: "That handle is taken.",
    err_rate: "Too many attempts. Try again in {n} s.", err_input: "Please check your input: {m}",
    err_network: "Could not send. Check your connection.", err_session: "Your session ended. Please sign in again.",
    friend_status: "{handle}: {status}",
    recovery_explain: "When you sign up you get 10 recovery codes. yure keeps no e-mail address, so if you forget your password one of these codes sets a new one. They are shown only once: save them.",
    forgot_title: "Forgot your password?", recover_code: "Recovery code", new_password: "New password (8+ characters)",
    recover_submit: "Set the new password and sign in", recovered: "New password set. Recovery codes left: {n}",
    err_recover: "Wrong handle or recovery code (each code works only once).",
    recovery_title: "Recovery codes (shown only this once)", recovery_saved: "I have saved them", new_codes: "New recovery codes",
    recovery_note: "If you forget your password, any one of these sets a new one (each works once). Save them in a notes app or write them down.",
  },
});

const INVITE_KEY = "yure-invite";
const RETRIES = 3;
const params = readParams();
setLang(params.lang);
translatePage();
document.title = `yure — ${t("safety_title")}`;

const state = { me: null, checkins: new Map(), socket: null, attempt: 0, timer: null };

/** An error answer: RFC 9457 problem details ({type, title, status, detail, code}). */
class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    Object.assign(this, { status, code: problem?.code, retryAfter });
  }
}

async function api(method, path, body, extraHeaders = {}) {
  const headers = { Accept: "application/json, application/problem+json", ...extraHeaders };
  if (method !== "GET") headers["X-Yure-CSRF"] = "1";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  if (response.status !== 204) data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data, response.headers.get("Retry-After"));
  return data;
}

function say(id, text, kind = "info") {
  const node = $(id);
  node.textContent = text;
  node.dataset.kind = kind;
}

function explain(err) {
  if (!(err instanceof ApiError)) return t("err_network");
  if (err.code === "unauthorized") return state.me ? t("err_session") : t("err_credentials");
  if (err.code === "conflict") return t("err_taken");
  if (err.code === "rate_limited") return t("err_rate", { n: err.retryAfter ?? "60" });
  return t("err_input", { m: err.message });
}

// --- accounts ------------------------------------------------------------------------

async function authenticate(path) {
  const handle = $("#handle").value.trim();
  const password = $("#password").value;
  if (!$("#auth-form").reportValidity()) return;
  say("#auth-message", t("sending"));
  try {
    const body = await api("POST", path, { handle, password });
    $("#password").value = "";
    say("#auth-message", "");
    await signedIn(body.handle);
    if (body.recovery_codes) showCodes(body.recovery_codes);
  } catch (err) {
    say("#auth-message", explain(err), "error");
  }
}

// --- recovery codes (no e-mail: these are how a forgotten password is replaced) -------

function showCodes(codes) {
  $("#recovery-codes").value = codes.join("\n");
  $("#recovery").hidden = false;
  $("#recovery-codes").focus();
}

function hideCodes() {
  $("#recovery-codes").value = "";
  $("#recovery").hidden = true;
}

async function recover() {
  if (!$("#recover-form").reportValidity()) return;
  const body = {
    handle: $("#recover-handle").value.trim(),
    code: $("#recover-code").value.trim(),
    new_password: $("#recover-password").value,
  };
  say("#recover-message", t("sending"));
  try {
    const answer = await api("POST", "/api/accounts/recover", body);
    $("#recover-password").value = "";
    $("#recover-code").value = "";
    say("#recover-message", "");
    $("#forgot").open = false;
    await signedIn(answer.handle);
    say("#checkin-message", t("recovered", { n: answer.codes_left }));
  } catch (err) {
    say("#recover-message", err instanceof ApiError && err.status === 401 ? t("err_recover") : explain(err), "error");
  }
}

function showAuth() {
  state.me = null;
  hideCodes();
  closeLive();
  $("#app").hidden = true;
  $("#auth").hidden = false;
}

async function signedIn(handle) {
  state.me = handle;
  $("#auth").hidden = true;
  $("#app").hidden = false;
  $("#whoami").textContent = t("whoami", { handle });
  await offerPendingInvite();
  await loadFriends();
  connectLive();
}

// --- friends -------------------------------------------------------------------------

function inviteFailed(err) {
  const banner = $("#invite-banner");
  banner.hidden = false;
  $("#invite-offer").hidden = true;
  if (err instanceof ApiError && err.status < 500 && err.status !== 429) {
    sessionStorage.removeItem(INVITE_KEY);
    banner.textContent = err.status === 400 ? t("invite_own") : t("invite_invalid");
  } else {
    banner.textContent = explain(err);
  }
}

// An invite is only ever accepted by a click on the offer that names the inviter: a link
// opened by accident (or by another site) changes nothing. The token goes in POST bodies.
async function offerPendingInvite() {
  const token = sessionStorage.getItem(INVITE_KEY);
  if (!token) return;
  try {
    const body = await api("POST", "/api/invites/preview", { token });
    $("#invite-banner").hidden = true;
    $("#invite-offer-title").textContent = t("invite_from", { handle: body.handle });
    $("#invite-offer").hidden = false;
  } catch (err) {
    inviteFailed(err);
  }
}

async function acceptInvite() {
  const token = sessionStorage.getItem(INVITE_KEY);
  if (!token) return;
  try {
    const body = await api("POST", "/api/invites/accept", { token });
    sessionStorage.removeItem(INVITE_KEY);
    $("#invite-offer").hidden = true;
    const banner = $("#invite-banner");
    banner.hidden = false;
    banner.textContent = t("now_friends", { handle: body.handle });
    await loadFriends();
  } catch (err) {
    inviteFailed(err);
  }
}

function dismissInvite() {
  sessionStorage.removeItem(INVITE_KEY);
  $("#invite-offer").hidden = true;
  const banner = $("#invite-banner");
  banner.hidden = false;
  banner.textContent = t("invite_dismissed");
}

async function loadFriends() {
  let body;
  try {
    body = await api("GET", "/api/friends");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showAuth();
    return say("#friend-message", explain(err), "error");
  }
  for (const handle of body.friends) if (!state.checkins.has(handle)) state.checkins.set(handle, null);
  for (const handle of Array.from(state.checkins.keys())) if (!body.friends.includes(handle)) state.checkins.delete(handle);
  const action = (label, method, handle) => el("button", { type: "button", class: "link-button", onclick: async () => {
    try {
      if (method === "POST") await api("POST", "/api/friends", { handle });
      else await api("DELETE", `/api/friends/${encodeURIComponent(handle)}`);
    } catch (err) {
      say("#friend-message", explain(err), "error");
    }
    await loadFriends();
  } }, t(label));
  $("#requests").replaceChildren(
    body.incoming.length ? el("p", { class: "incoming" }, t("incoming"), body.incoming.map((h) =>
      el("span", { class: "request", "data-handle": h }, " ", el("b", null, h), " ", action("accept", "POST", h), action("decline", "DELETE", h)))) : "",
    body.outgoing.length ? el("p", { class: "outgoing muted" }, t("outgoing"), body.outgoing.map((h) =>
      el("span", { class: "request", "data-handle": h }, " ", h, " ", action("withdraw", "DELETE", h)))) : "",
  );
  renderFriends();
}

async function refreshCheckins() {
  try {
    const body = await api("GET", "/api/checkins/friends");
    state.checkins = new Map(body.checkins.map((item) => [item.handle, item.checkin]));
    renderFriends();
  } catch {
    // The live channel's next snapshot brings the same state.
  }
}

function statusText(checkin) {
  return checkin ? t(checkin.status) : t("no_checkin");
}

function renderFriends() {
  const handles = Array.from(state.checkins.keys()).sort();
  $("#friends-empty").hidden = handles.length > 0;
  $("#friends").replaceChildren(...handles.map((handle) => {
    const c = state.checkins.get(handle);
    return el("li", { "data-handle": handle, "data-status": c ? c.status : "none" },
      el("span", { class: "friend-handle" }, handle),
      el("span", { class: "status-badge", "data-status": c ? c.status : "none" }, statusText(c)),
      c && c.note ? el("span", { class: "note" }, c.note) : null,
      c && c.pref ? el("span", { class: "muted" }, prefName(c.pref)) : null,
      c ? el("time", { class: "muted", datetime: c.created_at, title: formatTime(c.created_at) }, ago(Date.now() - Date.parse(c.created_at))) : null);
  }));
}

function onCheckin(checkin) {
  if (checkin.handle === state.me) {
    say("#checkin-message", `${t("you")}: ${t(checkin.status)} (${formatTime(checkin.created_at)})`);
    return;
  }
  state.checkins.set(checkin.handle, checkin);
  renderFriends();
  $("#friend-announce").textContent = t("friend_status", { handle: checkin.handle, status: statusText(checkin) });
}

// --- the live channel ----------------------------------------------------------------

function connectLive() {
  closeLive();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/live`);
  state.socket = socket;
  socket.onmessage = (frame) => {
    let msg;
    try {
      msg = JSON.parse(frame.data);
    } catch {
      return;
    }
    if (msg.type === "ready") {
      state.attempt = 0;
      $("#live-state").textContent = t("live_on");
    } else if (msg.type === "snapshot") {
      state.checkins = new Map(msg.checkins.map((item) => [item.handle, item.checkin]));
      renderFriends();
    } else if (msg.type === "checkin") {
      onCheckin(msg.checkin);
    } else if (msg.type === "checkin_deleted") {
      for (const [handle, c] of state.checkins) if (c && c.id === msg.id) state.checkins.set(handle, null);
      renderFriends();
    } else if (msg.type === "friend_added" || msg.type === "friend_removed") {
      loadFriends().then(refreshCheckins);
    }
  };
  socket.onclose = (e) => {
    if (socket !== state.socket) return;
    state.socket = null;
    $("#live-state").textContent = t("live_off");
    if (e.code === 4401) {
      say("#checkin-message", t("err_session"), "error");
      showAuth();
      return;
    }
    const delay = backoffMs(state.attempt);
    state.attempt = Math.min(state.attempt + 1, 16);
    state.timer = setTimeout(() => state.me && connectLive(), delay);
  };
}

function closeLive() {
  clearTimeout(state.timer);
  const socket = state.socket;
  state.socket = null;
  if (socket) socket.close();
}

// --- check-ins, reports --------------------------------------------------------------

async function checkIn(status) {
  const body = { status };
  const note = $("#note").value.trim();
  if (note) body.note = note;
  if ($("#checkin-pref").value) body.pref = $("#checkin-pref").value;
  // One key per tap: a retry after a lost answer never creates a second check-in.
  const key = crypto.randomUUID();
  say("#checkin-message", t("sending"));
  for (let attempt = 0; ; attempt++) {
    try {
      const checkin = await api("POST", "/api/checkins", body, { "Idempotency-Key": key });
      say("#checkin-message", `${t(checkin.status)} — ${t("sent", { time: formatTime(checkin.created_at) })}`);
      return;
    } catch (err) {
      const retriable = !(err instanceof ApiError) || err.status === 503;
      if (!retriable || attempt + 1 >= RETRIES) {
        say("#checkin-message", explain(err), "error");
        if (err instanceof ApiError && err.status === 401) showAuth();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt + 1)));
    }
  }
}

async function start() {
  const toggle = $("#lang-toggle");
  toggle.textContent = t("lang_toggle");
  toggle.href = urlWith({ lang: lang() === "en" ? null : "en" });
  $("#map-link").href = lang() === "en" ? "/?lang=en" : "/";
  const invite = /^#invite=([A-Za-z0-9_-]{16,128})$/.exec(location.hash);
  if (invite) {
    sessionStorage.setItem(INVITE_KEY, invite[1]);
    // The token leaves the address bar (and the history) at once.
    history.replaceState(null, "", location.pathname + location.search);
  }
  if (sessionStorage.getItem(INVITE_KEY)) {
    const banner = $("#invite-banner");
    banner.hidden = false;
    banner.textContent = t("invite_pending");
  }
  $("#recover-form").addEventListener("submit", (e) => {
    e.preventDefault();
    recover();
  });
  $("#recovery-saved").addEventListener("click", hideCodes);
  $("#recovery-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("#recovery-codes").value);
    } catch {
      $("#recovery-codes").select();
    }
  });
  $("#new-codes").addEventListener("click", async () => {
    try {
      const body = await api("POST", "/api/recovery-codes");
      showCodes(body.recovery_codes);
    } catch (err) {
      say("#checkin-message", explain(err), "error");
    }
  });
  $("#invite-accept").addEventListener("click", acceptInvite);
  $("#invite-dismiss").addEventListener("click", dismissInvite);
  $("#auth-form").addEventListener("submit", (e) => {
    e.preventDefault();
    authenticate("/api/sessions");
  });
  $("#signup").addEventListener("click", () => authenticate("/api/accounts"));
  $("#logout").addEventListener("click", async () => {
    await api("DELETE", "/api/sessions/current").catch(() => null);
    showAuth();
  });
  for (const button of $$(".big-buttons button")) button.addEventListener("click", () => checkIn(button.dataset.status));
  $("#friend-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const handle = $("#friend-handle").value.trim();
    try {
      const body = await api("POST", "/api/friends", { handle });
      say("#friend-message", body.status === "friends" ? t("now_friends", { handle }) : t("requested", { handle }));
      $("#friend-handle").value = "";
    } catch (err) {
      say("#friend-message", explain(err), "error");
    }
    loadFriends();
  });
  $("#invite").addEventListener("click", async () => {
    try {
      const body = await api("POST", "/api/invites");
      $("#invite-out").hidden = false;
      $("#invite-url").value = body.url;
      $("#invite-url").select();
    } catch (err) {
      say("#friend-message", explain(err), "error");
    }
  });
  $("#invite-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("#invite-url").value);
      say("#friend-message", t("copied"));
    } catch {
      $("#invite-url").select();
    }
  });
  $("#felt").addEventListener("click", async () => {
    const pref = $("#report-pref").value;
    try {
      const body = await api("POST", "/api/felt", { pref });
      say("#report-message", t("felt_sent", { pref: prefName(body.pref), n: body.counts ? body.counts.user + body.counts.p2p : 1 }));
    } catch (err) {
      say("#report-message", explain(err), "error");
    }
  });
  $("#post-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("#post-text").value;
    const pref = $("#report-pref").value;
    try {
      await api("POST", "/api/posts", pref ? { text, pref } : { text });
      $("#post-text").value = "";
      say("#report-message", t("posted"));
    } catch (err) {
      say("#report-message", explain(err), "error");
    }
  });
  const names = await getJSON("/api/prefectures");
  setPrefectures(names.prefectures);
  for (const select of [$("#checkin-pref"), $("#report-pref")]) {
    for (const p of names.prefectures) select.append(el("option", { value: p.code }, prefName(p.code)));
  }
  $("#report-pref").value = "13";
  try {
    const session = await api("GET", "/api/sessions/current");
    await signedIn(session.handle);
  } catch {
    showAuth();
  }
  setInterval(() => state.me && renderFriends(), 30000);
}

start();
