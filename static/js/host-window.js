// The host's product window: reorder by drag and drop (or the arrows, on a touch screen),
// put an item on air, launch or stop its deal, and in a store room hide hub items.
//
// Reordering is applied on screen at once and sent as the full order of this broadcast's
// own items; the server's window.changed then confirms it. On failure we put the old
// positions back, so the list never shows an order the server does not have.

import { h, icon } from "./dom.js";
import { productName, t } from "./i18n.js";
import { yuan } from "./money.js";
import { toast } from "./toast.js";

export class HostWindow {
  constructor({ list, state, api, role, onNewDeal = null }) {
    Object.assign(this, { list, state, api, role, onNewDeal });
    this.dragId = null;
    this.busy = new Set(); // buttons waiting for the server, by action key
  }

  get bid() {
    return this.state.broadcast.id;
  }

  render() {
    const onAir = this.state.onAirItemId();
    const ownOnAir = this.state.onAir[this.state.ownStream] ?? null;
    const items = this.state.allItems();
    this.list.replaceChildren(...items.map((item, i) => this.row(item, i, onAir, ownOnAir)));
  }

  row(item, index, onAir, ownOnAir) {
    const own = this.state.isOwn(item);
    const hidden = this.state.hidden.has(item.item_id);
    const deal = this.state.dealOf(item);
    const classes = ["item-row", own ? "own" : "relayed", item.item_id === onAir ? "on-air" : "", hidden ? "is-hidden" : ""];
    const li = h(
      "li",
      { class: classes.join(" "), draggable: own ? "true" : null, dataset: { itemId: item.item_id } },
      h("span", { class: "grip", title: own ? t("host.drag_hint") : "" }, own ? icon("grip") : ""),
      h("img", { src: item.image_url, alt: "" }),
      h(
        "div",
        { class: "item-main" },
        h(
          "div",
          { class: "item-name" },
          h("span", { class: "item-index" }, index + 1),
          productName(item),
          this.state.relays ? h("span", { class: `origin ${own ? "origin-store" : "origin-hub"}` }, t(own ? "host.store_item" : "host.hub_item")) : null,
          hidden ? h("span", { class: "origin origin-hidden" }, t("host.hidden")) : null,
        ),
        h("div", { class: "item-prices" }, h("b", {}, yuan(item.price_fen)), item.list_price_fen > item.price_fen ? h("s", {}, yuan(item.list_price_fen)) : null),
        this.dealLine(deal, item, own),
      ),
      h("div", { class: "item-actions" }, this.actions(item, own, hidden, onAir, ownOnAir)),
    );
    if (own) this.wireDrag(li, item);
    return li;
  }

  dealLine(deal, item, own) {
    // HQ plans deals on the hub's items, a store host on their own store's (host-deals.js).
    const mayPlan = this.onNewDeal && own && (this.role === "hq" || this.role === "host");
    const plan = () =>
      this.button(t("dealform.new"), "small-btn new-deal", `plan-${item.item_id}`, () => this.onNewDeal(item));
    if (!deal) return h("div", { class: "item-deal muted" }, t("host.no_deal"), mayPlan ? plan() : null);
    const status = deal.status || "draft";
    // HQ runs every deal; a store host only those its own broadcast sells.
    const mayRun = this.role === "hq" || (this.role === "host" && deal.broadcast_id === this.state.broadcast.id);
    const key = `deal-${deal.deal_id}`;
    return h(
      "div",
      { class: "item-deal" },
      h("span", { class: "deal-badge" }, icon("bolt"), t(`deal.${deal.kind || "flash_sale"}`)),
      h("span", {}, t("host.deal_line", { price: yuan(deal.price_fen ?? 0), left: deal.stock_left ?? "–" })),
      h("span", { class: `deal-status ds-${status}` }, t(`host.deal_status.${status}`)),
      mayRun && status !== "live" && status !== "ended"
        ? this.button(t("host.launch"), "launch", key, () => this.dealAction(deal, "launch"))
        : null,
      mayRun && status === "live" ? this.button(t("host.stop"), "stop", key, () => this.dealAction(deal, "stop")) : null,
      mayRun && status === "stopped" ? this.button(t("dealform.end"), "stop", key, () => this.dealAction(deal, "end")) : null,
      mayPlan && status === "ended" ? plan() : null,
    );
  }

  actions(item, own, hidden, onAir, ownOnAir) {
    const out = [];
    // A store host may present a hub item too; what it presents wins over the hub's.
    if (!hidden) {
      const isOn = ownOnAir === item.item_id;
      if (!own && !isOn && item.item_id === onAir) {
        out.push(h("span", { class: "hub-on-air" }, h("i", { class: "eq" }), t("host.hub_on_air")));
      }
      out.push(
        this.button(isOn ? t("host.on_air") : t("host.put_on_air"), isOn ? "on-air-btn active" : "on-air-btn", "air", () =>
          this.post(`/api/broadcasts/${this.bid}/on-air`, { item_id: isOn ? null : item.item_id }),
        ),
      );
    }
    if (own) {
      out.push(
        h(
          "span",
          { class: "move" },
          this.button("↑", "move-btn", `move-${item.item_id}`, () => this.move(item.item_id, -1)),
          this.button("↓", "move-btn", `move-${item.item_id}`, () => this.move(item.item_id, 1)),
        ),
      );
    } else {
      out.push(
        this.button(hidden ? t("host.show") : t("host.hide"), "hide-btn", `hide-${item.item_id}`, () => this.toggleHidden(item, !hidden)),
      );
    }
    return out;
  }

  button(label, cls, key, action) {
    return h(
      "button",
      {
        type: "button",
        class: cls,
        disabled: this.busy.has(key),
        onclick: async (e) => {
          e.stopPropagation();
          this.busy.add(key);
          this.render();
          try {
            await action();
          } finally {
            this.busy.delete(key);
            this.render();
          }
        },
      },
      label,
    );
  }

  async post(path, body) {
    try {
      return (await this.api.post(path, body)) ?? true; // 204s have no body
    } catch (err) {
      toast(err.message, "error");
      return null;
    }
  }

  async dealAction(deal, action) {
    const read = await this.post(`/api/deals/${deal.deal_id}/${action}`, {});
    if (read) this.state.applyDeal({ ...read, deal_id: read.id ?? deal.deal_id });
  }

  async toggleHidden(item, hidden) {
    const before = new Set(this.state.hidden);
    if (hidden) this.state.hidden.add(item.item_id);
    else this.state.hidden.delete(item.item_id);
    const ok = await this.post(`/api/broadcasts/${this.bid}/hidden`, { item_id: item.item_id, hidden });
    if (ok === null) this.state.hidden = before;
  }

  // ---- reordering ----

  move(itemId, delta) {
    const ids = this.state.ownItems().map((i) => i.item_id);
    const from = ids.indexOf(itemId);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= ids.length) return Promise.resolve();
    ids.splice(to, 0, ...ids.splice(from, 1));
    return this.saveOrder(ids);
  }

  async saveOrder(ids) {
    const own = this.state.ownItems();
    const before = new Map(own.map((i) => [i.item_id, i.position]));
    const base = Math.min(...own.map((i) => i.position));
    for (const item of own) item.position = base + ids.indexOf(item.item_id);
    this.render();
    try {
      await this.api.put(`/api/broadcasts/${this.bid}/window/order`, { item_ids: ids });
    } catch (err) {
      for (const item of own) item.position = before.get(item.item_id);
      toast(err.message, "error");
      this.render();
    }
  }

  wireDrag(li, item) {
    li.addEventListener("dragstart", (e) => {
      this.dragId = item.item_id;
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", String(item.item_id));
      li.classList.add("dragging");
    });
    li.addEventListener("dragend", () => {
      this.dragId = null;
      li.classList.remove("dragging");
      for (const el of this.list.querySelectorAll(".drop-before,.drop-after")) el.classList.remove("drop-before", "drop-after");
    });
    li.addEventListener("dragover", (e) => {
      if (this.dragId === null || this.dragId === item.item_id) return;
      e.preventDefault();
      const after = e.offsetY > li.offsetHeight / 2 || e.clientY > li.getBoundingClientRect().top + li.offsetHeight / 2;
      li.classList.toggle("drop-after", after);
      li.classList.toggle("drop-before", !after);
    });
    li.addEventListener("dragleave", () => li.classList.remove("drop-before", "drop-after"));
    li.addEventListener("drop", (e) => {
      e.preventDefault();
      const dragged = this.dragId ?? Number(e.dataTransfer.getData("text/plain"));
      const after = li.classList.contains("drop-after");
      li.classList.remove("drop-before", "drop-after");
      if (!dragged || dragged === item.item_id) return;
      const ids = this.state.ownItems().map((i) => i.item_id).filter((id) => id !== dragged);
      const at = ids.indexOf(item.item_id) + (after ? 1 : 0);
      ids.splice(at, 0, dragged);
      this.saveOrder(ids);
    });
  }
}
