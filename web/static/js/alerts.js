// Alerts while the page is open (opt-in, in the 通知 panel): a tone made with Web Audio
// (one pattern each for 緊急地震速報, 津波警報 and strong shaking), a voice read-out
// (speechSynthesis, ja or en), a system notification when the tab is hidden, and
// vibration on phones. Only official items that concern the chosen prefectures; never
// posts or felt reports.

import { announcement } from "./cards.js";
import { lang } from "./i18n.js";
import { KIND, isOfficial } from "./item.js";
import { gradeRank, intensityRank } from "./model.js";
import { loadSettings } from "./notify-settings.js";

/** Tone patterns: [frequency Hz, seconds] steps; 0 Hz is a pause. */
export const TONES = Object.freeze({
  eew: [[960, 0.18], [0, 0.06], [960, 0.18], [0, 0.06], [960, 0.18], [0, 0.3], [960, 0.18], [0, 0.06], [960, 0.18], [0, 0.06], [960, 0.18]],
  tsunami: [[440, 0.5], [0, 0.15], [660, 0.5], [0, 0.15], [440, 0.5], [0, 0.15], [660, 0.5]],
  strong: [[784, 0.25], [0, 0.08], [523, 0.4]],
});
const VIBRATION = Object.freeze({ eew: [400, 150, 400, 150, 400], tsunami: [800, 300, 800], strong: [300, 100, 300] });
const STRONG_FROM = "5-";

let audio = null;
/** What the last alert did (for people who test their settings, and for the tests). */
export const lastAlert = { level: null, spoken: null, at: null };

/** Create/resume the AudioContext: call from a click (browsers need a gesture). */
export function unlockAudio() {
  const Context = window.AudioContext ?? window.webkitAudioContext;
  if (!Context) return false;
  audio ??= new Context();
  if (audio.state === "suspended") audio.resume();
  return true;
}

export function playTone(level) {
  if (!unlockAudio()) return;
  let at = audio.currentTime + 0.02;
  for (const [frequency, seconds] of TONES[level] ?? []) {
    if (frequency > 0) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = level === "eew" ? "square" : "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.setValueAtTime(0.25, at + seconds - 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + seconds);
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + seconds);
    }
    at += seconds;
  }
}

export function speak(text) {
  if (!("speechSynthesis" in window)) return;
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = lang() === "en" ? "en-US" : "ja-JP";
  window.speechSynthesis.speak(utterance);
}

/** How alarming ``ev`` is for someone watching ``prefs`` ([] = all of Japan):
 * "eew", "tsunami", "strong", or null (no tone for it). */
export function alertLevel(ev, prefs) {
  if (!isOfficial(ev) || ev.kind === KIND.POST || ev.kind === KIND.FELT) return null;
  const mine = (code) => prefs.length === 0 || prefs.includes(code);
  if (ev.kind === KIND.EEW) return (ev.prefs ?? []).some(mine) ? "eew" : null;
  if (ev.kind === KIND.TSUNAMI) {
    const warned = (ev.tsunami ?? []).some((area) =>
      gradeRank(area.grade) >= gradeRank("warning") && (area.prefs ?? []).some(mine));
    return warned ? "tsunami" : null;
  }
  if (ev.kind === KIND.QUAKE) {
    const values = Object.entries(ev.intensity ?? {}).filter(([code]) => mine(code)).map(([, v]) => v);
    if (values.length === 0 && prefs.length === 0 && ev.max_intensity) values.push(ev.max_intensity);
    return values.some((v) => intensityRank(v) >= intensityRank(STRONG_FROM)) ? "strong" : null;
  }
  return null;
}

/** The hook live.js calls for every live item. */
export function alertFor(ev) {
  const settings = loadSettings();
  if (!settings.sound && !settings.voice) return;
  const level = alertLevel(ev, settings.prefs);
  if (level === null) return;
  const text = announcement(ev);
  lastAlert.level = level;
  lastAlert.at = Date.now();
  lastAlert.spoken = settings.voice ? text : null;
  document.body.dataset.lastAlert = level;
  if (settings.sound) playTone(level);
  if (settings.voice) speak(text);
  if ("vibrate" in navigator) navigator.vibrate(VIBRATION[level]);
  if (document.hidden && "Notification" in window && Notification.permission === "granted") {
    systemNotification(ev.title || "yure 揺れ", { body: text, tag: `${ev.kind}:${ev.event_id ?? ""}`, lang: "ja" });
  }
}

/** Through the service worker where there is one (phones allow no other way). */
async function systemNotification(title, options) {
  try {
    const registration = await navigator.serviceWorker?.getRegistration("/");
    if (registration) await registration.showNotification(title, options);
    else new Notification(title, options);
  } catch {
    // not allowed in this browser: the sound and the voice still ran
  }
}
