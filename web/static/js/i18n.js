// Words of the pages, Japanese first, English with ?lang=en. Pages add their own
// words with extend(); elements carrying data-i18n get their text from here.

const STRINGS = {
  ja: {
    lang_toggle: "English", state_connecting: "接続中…", state_live: "ライブ", state_reconnecting: "再接続中…",
    state_stalled: "受信が止まっています", state_error: "接続できません", picker_all: "全国", selected_n: "{n}都道府県",
    empty: "まだ情報はありません。", just_now: "たった今", s_ago: "{n}秒前", m_ago: "{n}分前", h_ago: "{n}時間前", d_ago: "{n}日前",
    badge_official: "気象庁", badge_p2p: "P2P地震情報経由", badge_unverified: "未確認", kind_quake: "地震情報",
    kind_eew: "緊急地震速報", kind_tsunami: "津波情報", kind_notice: "お知らせ", kind_other: "その他の情報", kind_post: "投稿",
    kind_felt: "揺れた報告", info_cancelled: "取消", info_corrected: "訂正", retracted: "取り消されました",
    superseded: "更新済み", hypocenter: "震源", depth: "深さ{d}km", depth_shallow: "ごく浅い", max_int: "最大震度",
    intensity: "震度{v}", foreign: "海外の地震", major_warning: "大津波警報", warning: "津波警報", advisory: "津波注意報",
    forecast: "津波予報", none: "解除", post_hidden: "この投稿は非表示になりました", felt_count: "{n}件",
    felt_detail: "yure {u}件・P2P地震情報 {p}件", legend_epicenter: "震央", legend_felt: "揺れた報告（未確認）",
    map_label: "日本地図：震度・津波・震央", eew_max: "予想最大震度", lg_class: "長周期地震動階級{v}",
    lg_max: "最大長周期地震動階級",
  },
  en: {
    lang_toggle: "日本語", state_connecting: "Connecting…", state_live: "Live",
    state_reconnecting: "Reconnecting…", state_stalled: "No data is arriving", state_error: "Cannot connect",
    picker_all: "All Japan", selected_n: "{n} prefectures", empty: "Nothing yet.", just_now: "just now",
    s_ago: "{n} s ago", m_ago: "{n} min ago", h_ago: "{n} h ago", d_ago: "{n} d ago", badge_official: "JMA",
    badge_p2p: "via P2PQuake", badge_unverified: "Unverified", kind_quake: "Earthquake",
    kind_eew: "Earthquake Early Warning", kind_tsunami: "Tsunami", kind_notice: "Notice",
    kind_other: "Other information", kind_post: "User post", kind_felt: "Felt reports",
    info_cancelled: "Cancellation", info_corrected: "Correction", retracted: "Cancelled",
    superseded: "Superseded", hypocenter: "Epicentre", depth: "depth {d} km", depth_shallow: "very shallow",
    max_int: "Max intensity", intensity: "Shindo {v}", foreign: "Earthquake abroad",
    major_warning: "Major Tsunami Warning", warning: "Tsunami Warning", advisory: "Tsunami Advisory",
    forecast: "Tsunami Forecast", none: "Lifted", post_hidden: "This post was hidden",
    felt_count: "{n} reports", felt_count_one: "1 report", felt_detail: "yure {u}, P2PQuake {p}", legend_epicenter: "Epicentre",
    legend_felt: "Felt reports (unverified)", map_label: "Map of Japan: intensities, tsunami, epicentre",
    eew_max: "Forecast max intensity", lg_class: "Long-period class {v}", lg_max: "Max long-period ground motion",
  },
};

const INTENSITY_EN = { "5-": "5 Lower", "5+": "5 Upper", "6-": "6 Lower", "6+": "6 Upper" };
const INTENSITY_JA = { "5-": "5弱", "5+": "5強", "6-": "6弱", "6+": "6強" };
const prefNames = new Map();
let current = "ja";

export const lang = () => current;

export function setLang(value) {
  current = value === "en" ? "en" : "ja";
  document.documentElement.lang = current;
}

export function extend(words) {
  for (const code of ["ja", "en"]) Object.assign(STRINGS[code], words[code]);
}

export function t(key, vars) {
  if (vars && vars.n === 1 && STRINGS[current][`${key}_one`]) key = `${key}_one`;
  const text = STRINGS[current][key] ?? STRINGS.ja[key] ?? key;
  return vars ? text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? "")) : text;
}

/** Give every [data-i18n] element its text, [data-i18n-label] its aria-label. */
export function translatePage() {
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
}

export function intensityText(value) {
  return (current === "en" ? INTENSITY_EN : INTENSITY_JA)[value] ?? String(value);
}

export const intensityLabel = (value) => t("intensity", { v: intensityText(value) });

export function setPrefectures(list) {
  for (const p of list) prefNames.set(p.code, p);
}

export function prefName(code) {
  const p = prefNames.get(code);
  if (!p) return code;
  return current === "en" ? p.name_en : p.name;
}

const jstParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Asia/Tokyo", year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
const MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");
/** {y, mo, d, h, mi} of an instant, always in JST, whatever the reader's time zone. */
function jst(ms) {
  const p = {};
  for (const { type, value } of jstParts.formatToParts(ms)) p[type] = value;
  return { y: p.year, mo: Number(p.month), d: Number(p.day), hm: `${p.hour}:${p.minute}` };
}

/** JST, unambiguous: 「3月11日 14:50」 (today: 「14:50」), "11 Mar 14:50 JST"; the year
 * is added when it is not this year's. */
export function formatTime(iso, now = Date.now()) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return "";
  const a = jst(ms);
  const b = jst(now);
  const en = current === "en";
  let day = "";
  if (a.y !== b.y) day = en ? `${a.d} ${MONTHS_EN[a.mo - 1]} ${a.y} ` : `${a.y}年${a.mo}月${a.d}日 `;
  else if (a.mo !== b.mo || a.d !== b.d) day = en ? `${a.d} ${MONTHS_EN[a.mo - 1]} ` : `${a.mo}月${a.d}日 `;
  return `${day}${a.hm}${en ? " JST" : ""}`;
}

/** "3分前" / "3 min ago" for a duration in milliseconds. */
export function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 5) return t("just_now");
  if (s < 60) return t("s_ago", { n: s });
  if (s < 3600) return t("m_ago", { n: Math.floor(s / 60) });
  if (s < 86400) return t("h_ago", { n: Math.floor(s / 3600) });
  return t("d_ago", { n: Math.floor(s / 86400) });
}

/** "東京都、神奈川県", or "5都道府県" past three, or "全国" for none. */
export function describeSelection(codes) {
  if (!codes.length) return t("picker_all");
  if (codes.length <= 3) return codes.map(prefName).join(current === "en" ? ", " : "、");
  return t("selected_n", { n: codes.length });
}
