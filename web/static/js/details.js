// What the live page adds to an official card: the list of telegrams issued for the
// event (取消 struck through) and a button to show the event on the map.

import { infoTag, itemUrl } from "./cards.js";
import { el } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { isCancel } from "./item.js";

/** opts.share for renderGroup: the Web Share API where the browser has it, else the
 * link is copied (or, without clipboard access, shown selected to copy by hand). */
export function shareButton(group, title) {
  const url = itemUrl(group);
  const button = el("button", { type: "button", class: "share", "data-url": url, onclick: async () => {
    if (navigator.share) {
      try {
        await navigator.share({ title: title || "yure", url });
        return;
      } catch (err) {
        if (err?.name === "AbortError") return;
      }
    }
    try {
      await navigator.clipboard.writeText(url);
      button.textContent = t("link_copied");
    } catch {
      const field = el("input", { type: "text", class: "share-url", readonly: true, value: url, "aria-label": t("share") });
      button.replaceWith(field);
      field.select();
    }
  } }, t("share"));
  return button;
}

function historyList(group) {
  return el("details", { class: "history", "data-open-key": `h:${group.key}` },
    el("summary", null, t("history", { n: group.entries.length })),
    el("ol", null, group.entries.slice().reverse().map((e) => el("li", {
      class: e.retractedBy ? "retracted" : e.supersededBy ? "superseded" : isCancel(e.ev) ? "cancel" : null,
      "data-id": e.id,
    },
    el("time", { datetime: e.ev.reported_at }, formatTime(e.ev.reported_at)), " ",
    el("span", { class: "what" }, e.ev.title ?? ""), " ", infoTag(e.ev),
    e.retractedBy ? el("span", { class: "tag tag-cancelled" }, t("retracted")) : null,
    e.supersededBy ? el("span", { class: "tag" }, t("superseded")) : null,
    e.ev.headline ? el("span", { class: "line" }, e.ev.headline) : null))));
}

/** opts.more for renderGroup: history and "show on map". */
export function cardDetails(onSelect, selectedKey) {
  return (group, card) => {
    if (group.entries.length > 1) card.append(historyList(group));
    if (!group.retracted && (group.hypo || Object.keys(group.intensity).length)) {
      card.append(el("button", {
        type: "button", class: "show-on-map", "aria-pressed": String(selectedKey === group.key),
        onclick: () => onSelect(group.key),
      }, t("show_on_map")));
    }
  };
}
