// How a group-buy looks on the room's sheet and on the share page: progress ("2/3 人"),
// the members as masked nicknames, the time left, and why a join was refused.

import { countdown, serverNow } from "./clock.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

/** The reason a refusal's detail starts with ("group_full: ..."), in words. */
export function refusalText(err) {
  const message = String(err?.message || err || "");
  const reason = message.split(":")[0];
  const known = t(`reject.${reason}`);
  return known === `reject.${reason}` ? t("reject.other", { detail: message }) : known;
}

export function groupStatusText(group) {
  if (group.status === "open" && group.deadline_ms <= serverNow()) return t("group.time_up");
  return t(`group.status.${group.status}`);
}

/** One group: seats (filled and empty), names, progress, countdown, and an action. */
export function groupRow(group, { mine = false, action = null } = {}) {
  const seats = [];
  for (let i = 0; i < group.size; i++) {
    const name = group.member_names[i];
    seats.push(
      h(
        "span",
        { class: `seat${name ? " is-taken" : ""}`, title: name || "" },
        name ? name.slice(0, 1) : "?",
        i === 0 && name ? h("small", { class: "seat-leader" }, t("group.leader")) : null,
      ),
    );
  }
  const open = group.status === "open" && group.deadline_ms > serverNow();
  return h(
    "li",
    { class: `group-row group-${group.status}${mine ? " is-mine" : ""}`, dataset: { groupId: group.group_id } },
    h("div", { class: "seats" }, ...seats),
    h(
      "div",
      { class: "group-info" },
      h("b", { "data-testid": "group-progress" }, t("group.progress", { n: group.members, size: group.size })),
      h("span", { class: "muted names" }, group.member_names.join("、")),
      open
        ? h(
            "span",
            { class: "group-line" },
            group.size > group.members ? t("group.need", { n: group.size - group.members }) + " · " : "",
            countdown("span", group.deadline_ms, "group.left"),
          )
        : h("span", { class: "group-line", "data-testid": "group-row-status" }, groupStatusText(group)),
      mine ? h("span", { class: "group-mine" }, t("group.mine")) : null,
    ),
    action,
  );
}

export function shareUrl(sharePath) {
  return new URL(sharePath, location.origin).toString();
}
