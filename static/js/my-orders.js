// "My orders": the viewer's orders as the database has them. Refreshed whenever the panel
// opens and whenever the page comes back into view, because paying happens on another
// page and the viewer returns here with the Back button.

import { formatClock } from "./clock.js";
import { h, icon } from "./dom.js";
import { productName, t } from "./i18n.js";
import { yuan } from "./money.js";
import { toast } from "./toast.js";

const REFRESH_MS = 5000;
const STATUSES = ["pending_payment", "paid", "expired", "refunded", "partially_refunded", "cancelled"];

export class MyOrders {
  constructor({ el, backdrop, api, state }) {
    Object.assign(this, { el, backdrop, api, state });
    this.orders = null;
    this.loading = false;
    const again = () => this.isOpen && this.load();
    document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && again());
    addEventListener("pageshow", again);
    // While open, keep it current: a new order reaches the database moments after its
    // acceptance, and a payment made on another device should show here too.
    setInterval(() => document.visibilityState === "visible" && again(), REFRESH_MS);
    backdrop.addEventListener("click", () => this.close());
  }

  get isOpen() {
    return !this.el.hidden;
  }

  open() {
    this.el.hidden = false;
    this.backdrop.hidden = false;
    this.render();
    this.load();
  }

  close() {
    this.el.hidden = true;
    if (document.querySelectorAll(".sheet:not([hidden])").length === 0) this.backdrop.hidden = true;
  }

  async load() {
    if (this.loading) return;
    this.loading = true;
    try {
      this.orders = await this.api.get("/api/orders/mine");
      this.warned = false;
    } catch (err) {
      if (!this.warned) toast(err.message, "error"); // once per outage, not every refresh
      this.warned = true;
    } finally {
      this.loading = false;
    }
    this.render();
  }

  nameOf(order) {
    const item = this.state.ready && this.state.allItems().find((i) => i.product_id === order.product_id);
    return item ? productName(item) : t("orders.product", { id: order.product_id });
  }

  render() {
    const head = h(
      "header",
      { class: "sheet-head" },
      h("h2", {}, t("orders.title")),
      h("button", { class: "sheet-close", type: "button", "aria-label": t("room.close"), onclick: () => this.close() }, icon("close")),
    );
    let list;
    if (this.orders === null) list = h("p", { class: "muted center" }, t("orders.loading"));
    else if (this.orders.length === 0) list = h("p", { class: "muted center" }, t("orders.empty"));
    else list = h("ul", { class: "order-list" }, this.orders.map((o) => this.row(o)));
    this.el.replaceChildren(h("div", { class: "sheet-body" }, head, list));
  }

  row(order) {
    const item = this.state.ready && this.state.allItems().find((i) => i.product_id === order.product_id);
    const status = STATUSES.includes(order.status) ? t(`ostatus.${order.status}`) : order.status;
    return h(
      "li",
      { class: "order-row", dataset: { orderId: order.id, status: order.status } },
      item ? h("img", { src: item.image_url, alt: "" }) : h("div", { class: "order-thumb" }),
      h(
        "div",
        { class: "order-main" },
        h("div", { class: "order-name" }, this.nameOf(order)),
        h(
          "div",
          { class: "muted" },
          `${yuan(order.unit_price_fen)} ${t("orders.qty", { n: order.quantity })} · ${formatClock(Date.parse(order.accepted_at))}`,
          order.refunded_quantity ? ` · ${t("orders.refunded_units", { n: order.refunded_quantity })}` : "",
        ),
      ),
      h(
        "div",
        { class: "order-side" },
        h("b", {}, yuan(order.amount_fen)),
        h("span", { class: `order-status st-${order.status}`, "data-testid": "order-status" }, status),
        order.status === "pending_payment" && order.pay_url
          ? h("a", { class: "small-btn", href: order.pay_url }, t("orders.pay"))
          : null,
      ),
    );
  }
}
