// What the live page adds to an official card: the list of telegrams issued for the
// event (取消 struck through) and a button to show the event on the map.

import { infoTag } from "./cards.js";
import { el } from "./dom.js";
import { formatTime, t } from "./i18n.js";
import { isCancel } from "./item.js";

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
