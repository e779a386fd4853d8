// The group-buy sheet of the viewer room: the deal's open groups with their progress and
// countdowns, "start a group" and "join", then the member's order to pay and the share link.
//
// Opening and joining go over the room socket (`group.place`, answered `group.placed` or
// `group.rejected` with our idempotency key), or over HTTP while the socket is down. Progress is
// polled (every POLL_MS while the sheet is open) rather than pushed on the room socket: a group
// changes a few times in its life, and the share page, outside any room, reads the same endpoint.

import { countdown, serverNow } from "./clock.js";
import { h, icon } from "./dom.js";
import { productName, t } from "./i18n.js";
import { newId } from "./ids.js";
import { yuan } from "./money.js";
import { groupRow, groupStatusText, refusalText, shareUrl } from "./group-view.js";
import { toast } from "./toast.js";

const POLL_MS = 3000;
const ANSWER_WITHIN_MS = 8000;

export class GroupSheet {
  constructor({ el, backdrop, api, socket, roomId, shareCode }) {
    Object.assign(this, { el, backdrop, api, socket, roomId, shareCode });
    this.waiting = null; // timer while a socket request is out
    this.item = null;
    this.dealId = null;
    this.data = null; // DealGroupsRead
    this.placed = null; // GroupPlaced of this viewer, for this deal
    this.mine = null; // GroupRead of the placed group
    this.attempt = null; // {key, action}: a retry after a timeout reuses the key
    this.busy = false;
    this.timer = null;
    backdrop.addEventListener("click", () => this.close());
  }

  get isOpen() {
    return !this.el.hidden;
  }

  open(item, deal) {
    if (this.dealId !== deal.deal_id) {
      // The group this viewer opened or joined stays on the sheet after paying and coming back.
      this.placed = JSON.parse(localStorage.getItem(placedKey(deal.deal_id)) || "null");
      this.mine = null;
      this.data = null;
      this.attempt = null;
    }
    this.item = item;
    this.dealId = deal.deal_id;
    this.el.hidden = false;
    this.backdrop.hidden = false;
    this.render();
    this.load();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.load(), POLL_MS);
  }

  close() {
    clearInterval(this.timer);
    this.timer = null;
    this.el.hidden = true;
    if (document.querySelectorAll(".sheet:not([hidden])").length === 0) this.backdrop.hidden = true;
  }

  async load() {
    try {
      this.data = await this.api.get(`/api/group-buys/deals/${this.dealId}`);
      if (this.placed) this.mine = await this.api.get(`/api/group-buys/groups/${this.placed.group_id}`);
    } catch (err) {
      if (!this.data) toast(refusalText(err), "error");
      return;
    }
    if (this.isOpen) this.render();
  }

  async place(action, groupId = null) {
    if (this.busy) return;
    const same = this.attempt && this.attempt.action === `${action}:${groupId}`;
    if (!same) this.attempt = { key: newId(), action: `${action}:${groupId}` };
    const body = { idempotency_key: this.attempt.key, room_id: Number(this.roomId) || null };
    this.busy = true;
    this.render();
    if (this.socket?.isOpen) {
      const frame = { type: "group.place", idempotency_key: this.attempt.key, deal_id: this.dealId };
      if (groupId) frame.group_id = groupId;
      else frame.share_code = this.shareCode || "";
      this.socket.send(frame);
      this.waiting = setTimeout(() => {
        this.waiting = null;
        this.busy = false; // the key is kept: a retry is answered as the same request
        toast(t("order.timeout"), "error");
        this.render();
      }, ANSWER_WITHIN_MS);
      return;
    }
    try {
      if (action === "open") {
        this.placed = await this.api.post(`/api/group-buys/deals/${this.dealId}/open`, {
          ...body,
          share_code: this.shareCode || "",
        });
      } else {
        this.placed = await this.api.post(`/api/group-buys/groups/${groupId}/join`, body);
      }
      this.placed.action = action;
      this.attempt = null;
      localStorage.setItem(placedKey(this.dealId), JSON.stringify(this.placed));
    } catch (err) {
      if (err.status !== 0) this.attempt = null; // refused: a new try is a new request
      toast(refusalText(err), "error");
    } finally {
      this.busy = false;
    }
    await this.load();
    this.render();
  }

  /** group.placed / group.rejected for one of our socket requests. */
  answer(frame) {
    if (!this.attempt || frame.idempotency_key !== this.attempt.key) return;
    clearTimeout(this.waiting);
    this.waiting = null;
    this.busy = false;
    if (frame.type === "group.placed") {
      this.placed = { ...frame, action: this.attempt.action.startsWith("open") ? "open" : "join" };
      localStorage.setItem(placedKey(this.dealId), JSON.stringify(this.placed));
    } else {
      toast(refusalText(`${frame.reason}: ${frame.detail || ""}`), "error");
    }
    this.attempt = null;
    this.load();
    this.render();
  }

  render() {
    if (!this.item) return;
    const d = this.data;
    const body = [
      h("button", { class: "sheet-close", type: "button", "aria-label": t("room.close"), onclick: () => this.close() }, icon("close")),
      h(
        "div",
        { class: "sheet-product" },
        h("img", { src: this.item.image_url, alt: "" }),
        h(
          "div",
          {},
          h("h3", {}, productName(this.item)),
          d
            ? h(
                "div",
                { class: "price-row" },
                h("b", { class: "price", "data-testid": "group-price" }, yuan(d.group_price_fen)),
                h("span", { class: "deal-badge" }, t("group.size", { n: d.group_size })),
                d.list_price_fen > d.group_price_fen ? h("s", { class: "list-price" }, yuan(d.list_price_fen)) : null,
              )
            : null,
        ),
      ),
    ];
    if (this.placed) body.push(this.placedView());
    if (d) body.push(this.groupsView(d));
    this.el.replaceChildren(h("div", { class: "sheet-body group-sheet" }, ...body));
  }

  placedView() {
    const p = this.placed;
    const group = this.mine;
    const payBy = Date.parse(p.pay_by);
    const link = shareUrl(p.share_path);
    return h(
      "div",
      { class: "accepted group-placed" },
      h("div", { class: "accepted-title" }, t(p.action === "open" ? "group.opened" : "group.joined")),
      group ? h("ul", { class: "groups" }, groupRow(group, { mine: true })) : null,
      group && group.status !== "open"
        ? h("p", { class: "group-done", "data-testid": "my-group-status" }, groupStatusText(group))
        : h("div", {},
            h("div", { class: "accepted-amount" }, t("order.amount_due", { amount: yuan(p.amount_due_fen) })),
            Number.isFinite(payBy) && payBy > serverNow() ? countdown("p", payBy, "order.pay_within", "muted") : null,
            h("p", { class: "muted" }, t("group.pay_to_hold")),
            h("a", { class: "primary-btn", href: p.pay_url || "#", "data-testid": "group-pay" }, t("order.pay")),
          ),
      h(
        "div",
        { class: "share-box" },
        h("span", {}, t("group.invite")),
        h("input", { class: "share-link", readonly: true, value: link, "data-testid": "group-share-link" }),
        h("button", { type: "button", class: "chip", onclick: () => copy(link) }, t("group.copy")),
      ),
    );
  }

  groupsView(d) {
    // A group of ours that formed or failed no longer stops us opening or joining another.
    const done = this.mine && this.mine.status !== "open";
    const mineId = done ? null : this.placed?.group_id;
    const rows = d.groups
      .filter((g) => g.group_id !== mineId)
      .map((g) =>
        groupRow(g, {
          action: h(
            "button",
            {
              class: "buy-btn",
              type: "button",
              disabled: this.busy || Boolean(mineId) || g.members >= g.size || d.deal_status !== "live",
              "data-testid": "group-join",
              onclick: () => this.place("join", g.group_id),
            },
            t("group.join"),
          ),
        }),
      );
    return h(
      "div",
      { class: "group-list" },
      h("h4", {}, t("group.open_groups")),
      rows.length ? h("ul", { class: "groups" }, ...rows) : h("p", { class: "muted" }, t("group.none")),
      mineId
        ? null
        : h(
            "button",
            {
              class: "primary-btn",
              type: "button",
              disabled: this.busy || d.deal_status !== "live" || d.stock_left <= 0,
              "data-testid": "group-open",
              onclick: () => this.place("open"),
            },
            `${t("group.open")} · ${yuan(d.group_price_fen)}`,
          ),
    );
  }
}

function placedKey(dealId) {
  return `storecast.group.deal.${dealId}`;
}

export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t("group.copied"));
  } catch {
    toast(text); // no clipboard (an insecure origin): show it to copy by hand
  }
}
