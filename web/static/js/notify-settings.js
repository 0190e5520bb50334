// The notification settings of this browser (localStorage "yure.notify"), shared by the
// 通知 panel (notify.js) and the page alerts (alerts.js). Nothing here leaves the browser
// except through the push API when the user subscribes.

const KEY = "yure.notify";
export const INTENSITY_CHOICES = ["1", "2", "3", "4", "5-", "5+", "6-", "6+", "7"];

export const DEFAULTS = Object.freeze({
  prefs: [],
  min_intensity: "3",
  tsunami: true,
  eew: true,
  quiet: null, // {from: "23:00", to: "07:00", except_from: "5-"}
  sound: false,
  voice: false,
  subscription: null, // {id, token} from POST /api/push/subscriptions
});

export function loadSettings() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    return { ...DEFAULTS, ...(saved && typeof saved === "object" ? saved : {}) };
  } catch {
    return { ...DEFAULTS };
  }
}

export function saveSettings(settings) {
  try {
    localStorage.setItem(KEY, JSON.stringify(settings));
  } catch {
    // private mode or full storage: the settings last for this page only
  }
}

/** The push filter of docs/api.md from the settings. */
export function pushFilter(settings) {
  return {
    prefs: settings.prefs,
    min_intensity: settings.min_intensity,
    tsunami: settings.tsunami,
    eew: settings.eew,
    quiet: settings.quiet,
  };
}
