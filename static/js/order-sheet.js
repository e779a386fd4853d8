// The product sheet a viewer opens from a card: details, and while the deal runs, the
// quantity, the price breakdown and the order itself.
//
// The idempotency key belongs to one attempt (deal + quantity). Retrying after a timeout
// reuses it, so an order that did land is answered again instead of placed twice; changing
// the quantity makes a new attempt, since the server refuses a key reused with new terms.

import { countdown, serverNow } from "./clock.js";
import { couponRejection, ct } from "./coupons.js";
import { h, icon } from "./dom.js";
import { productName, t } from "./i18n.js";
import { newId } from "./ids.js";
import { yuan } from "./money.js";
import { dealRow, livePrice, priceRow } from "./products.js";
import { dealPhase } from "./roomstate.js";
import { toast } from "./toast.js";

const ANSWER_WITHIN_MS = 8000;
const KNOWN_REJECTIONS = ["sold_out", "limit_reached", "deal_not_live", "rate_limited"];

export function rejectionText(reason, detail) {
  const coupon = couponRejection(reason, detail);
  if (coupon) return coupon;
  if (KNOWN_REJECTIONS.includes(reason)) return t(`reject.${reason}`);
  return t("reject.other", { detail: detail || reason });
}

export class OrderSheet {
  constructor({ el, backdrop, state, socket, onOpenItem, coupons = null }) {
    Object.assign(this, { el, backdrop, state, socket, onOpenItem, coupons });
    this.item = null;
    this.quantity = 1;
    this.attempt = null; // {key, dealId, quantity}
    this.waiting = null; // timer while an order is out
    this.accepted = null;
    this.error = "";
    backdrop.addEventListener("click", () => this.close());
  }

  get isOpen() {
    return !this.el.hidden;
  }

  open(item) {
    if (this.item?.item_id !== item.item_id) {
      this.quantity = 1;
      this.attempt = null;
      this.accepted = null;
      this.error = "";
    }
    this.item = item;
    this.el.hidden = false;
    this.backdrop.hidden = false;
    this.onOpenItem(item);
    this.render();
  }

  close() {
    this.el.hidden = true;
    if (document.querySelectorAll(".sheet:not([hidden])").length === 0) this.backdrop.hidden = true;
    this.accepted = null;
    this.error = "";
  }

  /** The window or a deal changed: show it, unless an answer is on screen. */
  refresh() {
    if (!this.isOpen || !this.item) return;
    const fresh = this.state.item(this.item.item_id);
    if (fresh) this.item = fresh;
    this.render();
  }

  limitFor(deal) {
    const caps = [99, deal.stock_left ?? 99];
    if (deal.per_customer_limit > 0) caps.push(deal.per_customer_limit);
    return Math.max(1, Math.min(...caps));
  }

  render() {
    const item = this.item;
    const deal = this.state.buyableDeal(item);
    const body = [
      h("button", { class: "sheet-close", type: "button", "aria-label": t("room.close"), onclick: () => this.close() }, icon("close")),
      h(
        "div",
        { class: "sheet-product" },
        h("img", { src: item.image_url, alt: "" }),
        h("div", {}, h("h3", {}, productName(item)), priceRow(item, deal), dealRow(deal)),
      ),
    ];
    body.push(this.accepted ? this.acceptedView() : this.orderForm(item, deal));
    this.el.replaceChildren(h("div", { class: "sheet-body" }, ...body));
  }

  orderForm(item, deal) {
    const phase = dealPhase(deal, serverNow());
    if (!deal || phase !== "live") {
      const why = phase === "sold_out" ? t("deal.sold_out") : deal ? t("order.not_live") : "";
      return why ? h("p", { class: "sheet-note" }, why) : h("div");
    }
    const limit = this.limitFor(deal);
    this.quantity = Math.min(this.quantity, limit);
    const unit = livePrice(item, deal);
    const gross = unit * this.quantity;
    const pack = deal.kind === "coupon_pack";
    if (this.coupons && !pack) this.coupons.follow(deal.deal_id, this.quantity);
    const due = this.coupons && !pack ? this.coupons.due(gross) : gross;
    const placing = this.waiting !== null;
    const step = (delta) => {
      this.quantity = Math.min(limit, Math.max(1, this.quantity + delta));
      this.error = "";
      this.render();
    };
    return h(
      "div",
      { class: "order-form" },
      h(
        "div",
        { class: "qty-row" },
        h("span", {}, t("order.quantity")),
        deal.per_customer_limit > 0 ? h("small", { class: "muted" }, t("deal.limit", { n: deal.per_customer_limit })) : null,
        h(
          "div",
          { class: "stepper" },
          h("button", { type: "button", "aria-label": "-", disabled: placing || this.quantity <= 1, onclick: () => step(-1) }, "−"),
          h("output", { "data-testid": "quantity" }, this.quantity),
          h("button", { type: "button", "aria-label": "+", disabled: placing || this.quantity >= limit, onclick: () => step(1) }, "+"),
        ),
      ),
      h(
        "div",
        { class: "breakdown" },
        h("span", {}, t("order.total")),
        h("span", { class: "breakdown-math", "data-testid": "breakdown" }, t("order.breakdown", { unit: yuan(unit), qty: this.quantity, total: yuan(unit * this.quantity) })),
      ),
      pack ? h("p", { class: "sheet-note" }, ct("pack.note")) : this.coupons?.view(deal.deal_id, this.quantity, gross),
      this.error ? h("p", { class: "sheet-error", role: "alert" }, this.error) : null,
      h(
        "button",
        { class: "primary-btn", type: "button", disabled: placing, onclick: () => this.place(deal) },
        placing ? t("order.placing") : `${pack ? ct("pack.claim") : t("order.confirm")} · ${yuan(due)}`,
      ),
    );
  }

  acceptedView() {
    const a = this.accepted;
    const payBy = Date.parse(a.pay_by);
    return h(
      "div",
      { class: "accepted" },
      h("div", { class: "accepted-title" }, t("order.accepted")),
      h("div", { class: "accepted-amount" }, t("order.amount_due", { amount: yuan(a.amount_due_fen) })),
      !Number.isFinite(payBy)
        ? null
        : payBy > serverNow()
          ? countdown("p", payBy, "order.pay_within", "muted")
          : h("p", { class: "muted" }, t("order.pay_expired")),
      // Same tab on purpose: the sandbox page is ours, and Back brings the viewer home.
      h("a", { class: "primary-btn", href: a.pay_url || "#", "data-testid": "pay" }, t("order.pay")),
    );
  }

  place(deal) {
    if (!this.socket.isOpen) {
      toast(t("order.offline"), "error");
      return;
    }
    const a = this.attempt;
    const couponIds = deal.kind === "coupon_pack" ? [] : (this.coupons?.ids() ?? []);
    const chosen = couponIds.join(",");
    if (!a || a.dealId !== deal.deal_id || a.quantity !== this.quantity || a.coupons !== chosen) {
      this.attempt = { key: newId(), dealId: deal.deal_id, quantity: this.quantity, coupons: chosen };
    }
    this.socket.send({
      type: "order.place",
      idempotency_key: this.attempt.key,
      deal_id: deal.deal_id,
      quantity: this.quantity,
      coupon_ids: couponIds,
    });
    this.error = "";
    this.waiting = setTimeout(() => {
      this.waiting = null;
      this.error = t("order.timeout");
      this.render();
    }, ANSWER_WITHIN_MS);
    this.render();
  }

  /** order.accepted / order.rejected for one of our attempts. */
  answer(frame) {
    if (!this.attempt || frame.idempotency_key !== this.attempt.key) return;
    clearTimeout(this.waiting);
    this.waiting = null;
    if (frame.type === "order.accepted") {
      this.attempt = null;
      this.accepted = frame;
      if (this.coupons) this.coupons.key = null; // the coupons spent are no longer usable
    } else {
      if (frame.reason !== "rate_limited") this.attempt = null;
      this.error = rejectionText(frame.reason, frame.detail);
      toast(this.error, "error");
    }
    if (this.isOpen) this.render();
  }
}
