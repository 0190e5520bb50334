// The 通知 panel on / (docs/api.md §Web Push): choose prefectures (or use my location),
// the minimum intensity, tsunami and EEW, quiet hours; subscribe this browser to Web
// Push; opt in to sound and voice while the page is open. Says why push cannot work
// here when it cannot (iOS: add to the Home Screen first).

import { $, el, getJSON } from "./dom.js";
import { extend, lang, t } from "./i18n.js";
import { playTone, speak, unlockAudio } from "./alerts.js";
import { buildPicker } from "./picker.js";
import { INTENSITY_CHOICES, loadSettings, pushFilter, saveSettings } from "./notify-settings.js";

extend({
  ja: {
    notify_title: "通知", notify_intro: "選んだ地域で基準以上の揺れや津波があったとき、このブラウザーに通知します。アカウントは不要です。",
    notify_prefs: "地域", notify_locate: "現在地の都道府県を追加", notify_locating: "現在地を確認しています…",
    notify_located: "{name}を追加しました", notify_locate_failed: "現在地を使えませんでした",
    notify_min: "通知する震度（以上）", notify_tsunami: "津波警報・注意報", notify_eew: "緊急地震速報",
    notify_quiet: "夜間などは通知を控える", notify_quiet_from: "開始", notify_quiet_to: "終了",
    notify_quiet_except: "この震度以上は控えない", notify_none: "なし",
    notify_page: "このページを開いているとき", notify_sound: "音で知らせる", notify_voice: "読み上げる",
    notify_test: "音を試す", notify_subscribe: "通知を受け取る", notify_update: "設定を保存",
    notify_unsubscribe: "通知を止める", notify_saved: "保存しました", notify_subscribed: "通知を受け取ります",
    notify_unsubscribed: "通知を止めました", notify_failed: "登録できませんでした：{why}",
    push_ok: "このブラウザーは通知を受け取れます", push_on: "通知を受け取る設定になっています",
    push_no_sw: "このブラウザーは通知（Web Push）に対応していません",
    push_insecure: "通知には https:// での接続が必要です",
    push_ios: "iPhone・iPad では、共有ボタンから「ホーム画面に追加」し、ホーム画面から開くと通知を受け取れます",
    push_denied: "通知がブロックされています。ブラウザーのサイト設定で許可してください",
    notify_page_only: "音と読み上げはこのページを開いている間だけ働きます（投稿・揺れの報告では鳴りません）",
  },
  en: {
    notify_title: "Notifications", notify_intro: "Get a notification in this browser when shaking or a tsunami above your threshold concerns the areas you choose. No account needed.",
    notify_prefs: "Areas", notify_locate: "Add the prefecture where I am", notify_locating: "Finding your location…",
    notify_located: "Added {name}", notify_locate_failed: "Your location is not available",
    notify_min: "Notify from intensity", notify_tsunami: "Tsunami warnings and advisories", notify_eew: "Earthquake Early Warnings",
    notify_quiet: "Quiet hours", notify_quiet_from: "From", notify_quiet_to: "To",
    notify_quiet_except: "Still notify from intensity", notify_none: "none",
    notify_page: "While this page is open", notify_sound: "Play a sound", notify_voice: "Read aloud",
    notify_test: "Test sound", notify_subscribe: "Get notifications", notify_update: "Save settings",
    notify_unsubscribe: "Stop notifications", notify_saved: "Saved", notify_subscribed: "Notifications are on",
    notify_unsubscribed: "Notifications are off", notify_failed: "Could not subscribe: {why}",
    push_ok: "This browser can receive notifications", push_on: "Notifications are on for this browser",
    push_no_sw: "This browser does not support notifications (Web Push)",
    push_insecure: "Notifications need an https:// connection",
    push_ios: "On iPhone and iPad, use Share → \"Add to Home Screen\" and open yure from the Home Screen to get notifications",
    push_denied: "Notifications are blocked: allow them in this site's browser settings",
    notify_page_only: "Sound and voice work only while this page is open (never for posts or felt reports)",
  },
});

/** Whether Web Push can work here, and if not, why (a message key). */
export function pushSupport(nav = navigator, win = window) {
  const ios = /iPad|iPhone|iPod/.test(nav.userAgent) || (nav.platform === "MacIntel" && nav.maxTouchPoints > 1);
  if (ios && !(nav.standalone === true || win.matchMedia?.("(display-mode: standalone)").matches)) return { ok: false, why: "push_ios" };
  if (!win.isSecureContext) return { ok: false, why: "push_insecure" };
  if (!("serviceWorker" in nav) || !("PushManager" in win) || !("Notification" in win)) return { ok: false, why: "push_no_sw" };
  if (win.Notification.permission === "denied") return { ok: false, why: "push_denied" };
  return { ok: true, why: "push_ok" };
}

function base64UrlToBytes(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function api(method, url, body, token) {
  const headers = { Accept: "application/json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit" });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    // Errors are RFC 9457 problem details: {type, title, status, detail, code}.
    const error = new Error(data?.detail ?? data?.title ?? `HTTP ${response.status}`);
    Object.assign(error, { status: response.status, code: data?.code });
    throw error;
  }
  return data;
}

/** Register the service worker, subscribe with yure's VAPID key, tell yure. */
async function subscribe(settings) {
  if ((await Notification.requestPermission()) !== "granted") throw new Error(t("push_denied"));
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  await navigator.serviceWorker.ready;
  const { public_key: key } = await getJSON("/api/push/key", { credentials: "omit" });
  const existing = await registration.pushManager.getSubscription();
  const push = existing ?? await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key) });
  const json = push.toJSON();
  const answer = await api("POST", "/api/push/subscriptions", {
    subscription: { endpoint: json.endpoint, keys: json.keys },
    filter: pushFilter(settings),
  });
  return { id: answer.id, token: answer.token };
}

async function unsubscribe(settings) {
  const sub = settings.subscription;
  if (sub) {
    try {
      await api("DELETE", `/api/push/subscriptions/${encodeURIComponent(sub.id)}`, undefined, sub.token);
    } catch (error) {
      if (error.status !== 404) throw error;
    }
  }
  const registration = await navigator.serviceWorker?.getRegistration("/");
  const push = await registration?.pushManager.getSubscription();
  if (push) await push.unsubscribe();
}

function select(name, choices, value, labelOf) {
  return el("select", { name }, choices.map((v) => {
    const option = el("option", { value: v }, labelOf(v));
    option.selected = v === value;
    return option;
  }));
}

function intensityLabel(v) {
  const ja = { "5-": "5弱", "5+": "5強", "6-": "6弱", "6+": "6強" };
  const en = { "5-": "5 lower", "5+": "5 upper", "6-": "6 lower", "6+": "6 upper" };
  return (lang() === "en" ? en : ja)[v] ?? v;
}

async function setup() {
  const root = $("#notify-body");
  const names = await getJSON("/api/prefectures", { credentials: "omit" });
  const settings = loadSettings();
  const support = pushSupport();
  const status = el("p", { id: "push-support", class: support.ok ? "push-ok" : "push-problem", "data-why": support.why },
    t(settings.subscription && support.ok ? "push_on" : support.why));
  const message = el("p", { id: "notify-message", role: "status", class: "muted" });
  const pickerBox = el("div", { class: "notify-picker" });
  const picker = buildPicker(pickerBox, names, settings.prefs, (codes) => { settings.prefs = codes; });
  // The page's own area picker uses name="pref"; these boxes are the notification's.
  for (const box of pickerBox.querySelectorAll('input[name="pref"]')) box.name = "notify_pref";
  for (const box of pickerBox.querySelectorAll("input[data-region]")) {
    box.dataset.notifyRegion = box.dataset.region;
    delete box.dataset.region;
  }
  const locate = el("button", { type: "button", id: "notify-locate", onclick: () => useLocation() }, t("notify_locate"));
  const min = select("min_intensity", INTENSITY_CHOICES, settings.min_intensity, intensityLabel);
  const tsunami = el("input", { type: "checkbox", name: "tsunami" });
  tsunami.checked = settings.tsunami;
  const eew = el("input", { type: "checkbox", name: "eew" });
  eew.checked = settings.eew;
  const quietOn = el("input", { type: "checkbox", name: "quiet" });
  quietOn.checked = settings.quiet !== null;
  const quietFrom = el("input", { type: "time", name: "quiet_from", value: settings.quiet?.from ?? "23:00" });
  const quietTo = el("input", { type: "time", name: "quiet_to", value: settings.quiet?.to ?? "07:00" });
  const quietExcept = select("quiet_except", ["", ...INTENSITY_CHOICES], settings.quiet?.except_from ?? "5-", (v) => (v ? intensityLabel(v) : t("notify_none")));
  const sound = el("input", { type: "checkbox", name: "sound" });
  sound.checked = settings.sound;
  const voice = el("input", { type: "checkbox", name: "voice" });
  voice.checked = settings.voice;
  const subscribeButton = el("button", { type: "button", id: "notify-subscribe", class: "apply" },
    t(settings.subscription ? "notify_update" : "notify_subscribe"));
  const unsubscribeButton = el("button", { type: "button", id: "notify-unsubscribe", hidden: !settings.subscription }, t("notify_unsubscribe"));
  subscribeButton.disabled = !support.ok;

  function read() {
    settings.prefs = picker.selected();
    settings.min_intensity = min.value;
    settings.tsunami = tsunami.checked;
    settings.eew = eew.checked;
    settings.quiet = quietOn.checked ? { from: quietFrom.value, to: quietTo.value, except_from: quietExcept.value || null } : null;
    settings.sound = sound.checked;
    settings.voice = voice.checked;
    saveSettings(settings);
  }
  for (const input of [min, tsunami, eew, quietOn, quietFrom, quietTo, quietExcept, voice]) input.addEventListener("change", read);
  pickerBox.addEventListener("change", read);
  sound.addEventListener("change", () => {
    if (sound.checked) unlockAudio();
    read();
  });

  async function useLocation() {
    message.textContent = t("notify_locating");
    try {
      const position = await new Promise((resolve, reject) =>
        navigator.geolocation.getCurrentPosition(resolve, reject, { maximumAge: 600000, timeout: 15000 }));
      const { latitude, longitude } = position.coords;
      const { pref } = await getJSON(`/api/locate?lat=${latitude.toFixed(4)}&lon=${longitude.toFixed(4)}`, { credentials: "omit" });
      if (!pref) throw new Error("outside Japan");
      const box = pickerBox.querySelector(`input[name="notify_pref"][value="${pref}"]`);
      if (box && !box.checked) box.click();
      read();
      const p = names.prefectures.find((x) => x.code === pref);
      message.textContent = t("notify_located", { name: lang() === "en" ? p.name_en : p.name });
    } catch {
      message.textContent = t("notify_locate_failed");
    }
  }

  subscribeButton.addEventListener("click", async () => {
    read();
    subscribeButton.disabled = true;
    try {
      if (settings.subscription) {
        try {
          await api("PUT", `/api/push/subscriptions/${encodeURIComponent(settings.subscription.id)}`, { filter: pushFilter(settings) }, settings.subscription.token);
        } catch (error) {
          if (error.status !== 404 && error.status !== 401) throw error;
          settings.subscription = await subscribe(settings);
        }
        message.textContent = t("notify_saved");
      } else {
        settings.subscription = await subscribe(settings);
        message.textContent = t("notify_subscribed");
      }
      saveSettings(settings);
      status.textContent = t("push_on");
      subscribeButton.textContent = t("notify_update");
      unsubscribeButton.hidden = false;
    } catch (error) {
      message.textContent = t("notify_failed", { why: error.message });
    } finally {
      subscribeButton.disabled = false;
    }
  });
  unsubscribeButton.addEventListener("click", async () => {
    try {
      await unsubscribe(settings);
      settings.subscription = null;
      saveSettings(settings);
      message.textContent = t("notify_unsubscribed");
      status.textContent = t(support.why);
      subscribeButton.textContent = t("notify_subscribe");
      unsubscribeButton.hidden = true;
    } catch (error) {
      message.textContent = t("notify_failed", { why: error.message });
    }
  });

  const label = (input, key) => el("label", null, input, ` ${t(key)}`);
  root.replaceChildren(
    el("p", { class: "muted" }, t("notify_intro")),
    status,
    el("fieldset", null, el("legend", null, t("notify_prefs")), pickerBox, locate),
    el("p", null, el("label", null, `${t("notify_min")} `, min)),
    el("p", null, label(tsunami, "notify_tsunami")),
    el("p", null, label(eew, "notify_eew")),
    el("fieldset", { class: "quiet" }, el("legend", null, label(quietOn, "notify_quiet")),
      el("label", null, `${t("notify_quiet_from")} `, quietFrom), " ",
      el("label", null, `${t("notify_quiet_to")} `, quietTo), " ",
      el("label", null, `${t("notify_quiet_except")} `, quietExcept)),
    el("p", null, subscribeButton, " ", unsubscribeButton),
    el("fieldset", null, el("legend", null, t("notify_page")),
      label(sound, "notify_sound"), " ", label(voice, "notify_voice"), " ",
      el("button", { type: "button", id: "notify-test", onclick: () => {
        playTone("eew");
        if (voice.checked) speak(t("notify_test"));
      } }, t("notify_test")),
      el("p", { class: "muted" }, t("notify_page_only"))),
    message,
  );
}

// Built when first opened (most visitors never open it); /#notify opens it.
const panel = $("#notify");
if (panel) {
  $("#notify summary span").textContent = t("notify_title");
  let built = false;
  panel.addEventListener("toggle", () => {
    if (panel.open && !built) {
      built = true;
      setup();
    }
  });
  if (location.hash === "#notify") panel.open = true;
}
