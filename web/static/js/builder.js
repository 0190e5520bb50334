// The embed builder (/embed/builder): pick prefectures and options, see a preview,
// copy the one-line <script> snippet.

import { $, el, getJSON } from "./dom.js";
import { extend, lang, setLang, setPrefectures, t, translatePage } from "./i18n.js";
import { readParams, urlWith } from "./params.js";
import { buildPicker } from "./picker.js";
import { KIND, KINDS } from "./item.js";

extend({
  ja: {
    builder_title: "埋め込みコードを作る",
    builder_intro: "地域と種類を選ぶと、ニュースサイトなどに貼り付ける1行のコードができます。読み取り専用で、ログインもCookieも使いません。",
    builder_where: "地域", builder_kinds: "種類", builder_look: "表示", builder_mode: "形式", mode_list: "リスト",
    mode_map: "地図＋リスト", builder_theme: "テーマ", theme_auto: "端末の設定", theme_light: "ライト", theme_dark: "ダーク", builder_lang: "言語",
    builder_height: "高さ (px)", builder_snippet: "コード", builder_copy: "コピー", builder_copied: "コピーしました",
    builder_copy_failed: "コピーできませんでした。コードを選択してコピーしてください。", builder_preview: "プレビュー",
    builder_notify: "読者が自分の地域の通知を受け取るには：通知の設定ページ",
  },
  en: {
    builder_title: "Embed code builder",
    builder_intro: "Choose prefectures and kinds of information to get a one-line snippet for your site. It is read-only and uses no login and no cookies.",
    builder_where: "Area", builder_kinds: "Kinds", builder_look: "Display", builder_mode: "Layout", mode_list: "List",
    mode_map: "Map and list", builder_theme: "Theme", theme_auto: "Reader's setting", theme_light: "Light", theme_dark: "Dark", builder_lang: "Language",
    builder_height: "Height (px)", builder_snippet: "Snippet", builder_copy: "Copy", builder_copied: "Copied",
    builder_copy_failed: "Could not copy. Select the snippet and copy it.", builder_preview: "Preview",
    builder_notify: "For readers who want notifications for their own area: the notification settings",
  },
});

/** The embed's defaults (docs/embed.md, embed-main.js, embed.js): the snippet leaves
 * out every attribute that equals its default. */
const DEFAULTS = { kinds: [KIND.QUAKE, KIND.EEW, KIND.TSUNAMI, KIND.NOTICE].join(","), theme: "auto", mode: "list", lang: "ja", height: 420 };
const params = readParams();
setLang(params.lang);
translatePage();
document.title = `yure — ${t("builder_title")}`;
document.getElementById("notify-link").href = params.lang === "en" ? "/?lang=en#notify" : "/#notify";

/** Snippet attributes come from fixed sets, codes and a clamped number: nothing to escape. */
function snippet(origin, { prefs, kinds, theme, mode, lang: embedLang, height }) {
  const attrs = [`src="${origin}/embed.js"`, 'crossorigin="anonymous"'];
  if (prefs.length) attrs.push(`data-prefs="${prefs.join(",")}"`);
  const chosen = { kinds: kinds.join(","), theme, mode, lang: embedLang, height };
  for (const [name, value] of Object.entries(chosen)) {
    if (value !== DEFAULTS[name] && value !== "") attrs.push(`data-${name}="${value}"`);
  }
  return `<script ${attrs.join(" ")} async></script>`;
}

async function start() {
  const toggle = $("#lang-toggle");
  toggle.textContent = t("lang_toggle");
  toggle.href = urlWith({ lang: lang() === "en" ? null : "en" });
  $("#embed-lang").value = lang();
  const names = await getJSON("/api/prefectures");
  setPrefectures(names.prefectures);
  const chosenKinds = new Set(params.kinds.length ? params.kinds : DEFAULTS.kinds.split(","));
  const kindBoxes = KINDS.map((kind) => {
    const box = el("input", { type: "checkbox", name: "kind", value: kind });
    box.checked = chosenKinds.has(kind);
    box.addEventListener("change", update);
    return el("label", { class: "pref-option" }, box, ` ${t(`kind_${kind}`)}`);
  });
  $("#kinds").replaceChildren(...kindBoxes);
  let picker = null;
  picker = buildPicker($("#picker-body"), names, params.prefTokens.filter((tok) => /^\d\d$/.test(tok)), () => picker && update());
  for (const id of ["mode", "theme", "embed-lang", "height"]) $(`#${id}`).addEventListener("input", update);
  $("#builder-form").addEventListener("submit", (e) => e.preventDefault());
  let previewSrc = "";

  function options() {
    const height = Math.min(2000, Math.max(120, Math.round(Number($("#height").value) || 420)));
    return {
      prefs: picker.selected(),
      kinds: Array.from(document.querySelectorAll('input[name="kind"]:checked'), (b) => b.value),
      theme: ["light", "dark"].includes($("#theme").value) ? $("#theme").value : "auto",
      mode: $("#mode").value === "map" ? "map" : "list",
      lang: $("#embed-lang").value === "en" ? "en" : "ja",
      height,
    };
  }

  function update() {
    const o = options();
    $("#snippet").value = snippet(location.origin, o);
    const src = urlWith({
      prefs: o.prefs, kinds: o.kinds, theme: o.theme === "auto" ? null : o.theme, mode: o.mode, lang: o.lang,
    }, `${location.origin}/embed`);
    if (src !== previewSrc) {
      previewSrc = src;
      $("#preview").src = src;
    }
    $("#preview").style.height = `${o.height}px`;
    $("#copied").textContent = "";
  }

  $("#copy").addEventListener("click", async () => {
    const text = $("#snippet").value;
    const message = $("#copied");
    try {
      await navigator.clipboard.writeText(text);
      message.textContent = t("builder_copied");
    } catch {
      $("#snippet").select();
      message.textContent = document.execCommand && document.execCommand("copy") ? t("builder_copied") : t("builder_copy_failed");
    }
  });
  update();
}

start();
