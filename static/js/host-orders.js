// Orders landing in the room, with running totals. Polled every 3 s, and at once when a
// ticker or stock frame says someone just ordered; polls never overlap, and a burst of
// frames collapses into one extra request.

import { formatClock } from "./clock.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { yuan } from "./money.js";
import { toast } from "./toast.js";

const EVERY_MS = 3000;
const STATUSES = ["pending_payment", "paid", "expired", "refunded", "partially_refunded", "cancelled"];

export class HostOrders {
  constructor({ api, roomId, els }) {
    Object.assign(this, { api, roomId, els });
    this.inFlight = false;
    this.again = false;
    this.warned = false;
    this.data = null;
  }

  start() {
    this.refresh();
    setInterval(() => this.refresh(), EVERY_MS);
  }

  async refresh() {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    try {
      this.data = await this.api.get(`/api/rooms/${this.roomId}/orders`);
      this.warned = false;
      this.render();
    } catch (err) {
      if (!this.warned) toast(err.message, "error");
      this.warned = true; // one toast per outage, not one every 3 s
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    }
  }

  render() {
    const d = this.data;
    if (!d) return;
    this.els.count.textContent = d.count ?? 0;
    this.els.paid.textContent = d.paid_count ?? 0;
    this.els.gmv.textContent = yuan(d.paid_fen ?? 0);
    this.els.units.textContent = d.units ?? 0;
    const rows = (d.orders || []).map((o) =>
      h(
        "li",
        { class: `host-order st-${o.status}`, dataset: { orderId: o.order_id, status: o.status } },
        h("div", { class: "ho-main" }, h("b", {}, o.product_name), h("span", { class: "muted" }, ` × ${o.quantity}`)),
        h("b", { class: "ho-amount" }, yuan(o.amount_fen)),
        h("div", { class: "ho-sub muted" }, `${o.buyer || ""} · ${formatClock(o.accepted_ms, { seconds: true })}`),
        h("span", { class: `order-status st-${o.status}` }, STATUSES.includes(o.status) ? t(`ostatus.${o.status}`) : o.status),
      ),
    );
    this.els.list.replaceChildren(...(rows.length ? rows : [h("li", { class: "muted center" }, t("host.orders_empty"))]));
  }
}
