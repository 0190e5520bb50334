// The prefecture / region picker: a checkbox per prefecture, grouped by region, each
// region with a checkbox that selects all of it.

import { el } from "./dom.js";
import { extend, lang, t } from "./i18n.js";

extend({
  ja: {
    picker_title: "地域を選ぶ", picker_apply: "この地域を表示", picker_clear: "すべて解除",
  },
  en: {
    picker_title: "Choose area", picker_apply: "Show this area", picker_clear: "Clear",
  },
});

export function buildPicker(container, { prefectures, regions }, selected, onChange = () => {}) {
  const chosen = new Set(selected);
  const boxes = new Map();
  const regionBoxes = [];
  const sync = () => {
    for (const { box, region } of regionBoxes) {
      const n = region.prefs.filter((code) => chosen.has(code)).length;
      box.checked = n === region.prefs.length;
      box.indeterminate = n > 0 && n < region.prefs.length;
    }
    onChange(Array.from(chosen).sort());
  };
  const byCode = new Map(prefectures.map((p) => [p.code, p]));
  const fieldsets = regions.map((region) => {
    const regionBox = el("input", { type: "checkbox", "data-region": region.id });
    regionBoxes.push({ box: regionBox, region });
    regionBox.addEventListener("change", () => {
      for (const code of region.prefs) {
        if (regionBox.checked) chosen.add(code);
        else chosen.delete(code);
        boxes.get(code).checked = regionBox.checked;
      }
      sync();
    });
    const items = region.prefs.map((code) => {
      const p = byCode.get(code);
      const box = el("input", { type: "checkbox", value: code, name: "pref" });
      box.checked = chosen.has(code);
      box.addEventListener("change", () => {
        if (box.checked) chosen.add(code);
        else chosen.delete(code);
        sync();
      });
      boxes.set(code, box);
      return el("label", { class: "pref-option" }, box, ` ${lang() === "en" ? p.name_en : p.name}`);
    });
    return el("fieldset", { class: "region" },
      el("legend", null, el("label", null, regionBox, ` ${lang() === "en" ? region.name_en : region.name}`)),
      el("div", { class: "pref-options" }, items));
  });
  const clear = el("button", { type: "button", class: "link-button", onclick: () => {
    chosen.clear();
    for (const box of boxes.values()) box.checked = false;
    sync();
  } }, t("picker_clear"));
  container.replaceChildren(el("div", { class: "regions" }, fieldsets), clear);
  sync();
  return { selected: () => Array.from(chosen).sort() };
}
