// Coupons in the viewer room: the order sheet's coupon picker with its price breakdown, and
// the "my coupons" sheet. The server decides: the picker shows its quote (POST
// /api/coupons/quote), and the order itself is checked again in the intake.

import { h } from "./dom.js";
import { currentLang } from "./i18n.js";
import { yuan } from "./money.js";

const STRINGS = {
  zh: {
    "coupons.title": "优惠券",
    "coupons.mine": "我的券",
    "coupons.none": "还没有优惠券，领个券包吧",
    "coupons.no_threshold": "无门槛",
    "coupons.threshold": "满{min}可用",
    "coupons.saves": "本单省 {amount}",
    "coupons.short_by": "还差 {amount}",
    "coupons.not_here": "本商品不可用",
    "coupons.until": "{date} 前有效",
    "coupons.usable": "可用",
    "coupons.used": "已使用",
    "coupons.expired": "已过期",
    "coupons.stackable": "可叠加",
    "coupons.alone": "不可叠加",
    "coupons.gross": "商品金额",
    "coupons.off": "优惠券",
    "coupons.due": "实付",
    "pack.claim": "领取券包",
    "pack.note": "支付后券立即到账，每人限领一次",
    "reject.pack_claimed": "券包已领取过",
    "reject.invalid_coupon": "优惠券不可用：{detail}",
  },
  en: {
    "coupons.title": "Coupons",
    "coupons.mine": "Coupons",
    "coupons.none": "No coupons yet: grab a pack",
    "coupons.no_threshold": "No minimum",
    "coupons.threshold": "On {min} or more",
    "coupons.saves": "Saves {amount} here",
    "coupons.short_by": "{amount} short",
    "coupons.not_here": "Not for this item",
    "coupons.until": "Valid until {date}",
    "coupons.usable": "Usable",
    "coupons.used": "Used",
    "coupons.expired": "Expired",
    "coupons.stackable": "Stackable",
    "coupons.alone": "Not stackable",
    "coupons.gross": "Items",
    "coupons.off": "Coupons",
    "coupons.due": "To pay",
    "pack.claim": "Get the pack",
    "pack.note": "Coupons arrive once paid; one pack per person",
    "reject.pack_claimed": "You already have this pack",
    "reject.invalid_coupon": "Coupon not usable: {detail}",
  },
};

export function ct(key, vars = {}) {
  const text = STRINGS[currentLang()]?.[key] ?? STRINGS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** The words for a coupon refusal, or null for reasons the order sheet words itself. */
export function couponRejection(reason, detail) {
  if (reason === "pack_claimed" || reason === "invalid_coupon") return ct(`reject.${reason}`, { detail });
  return null;
}

function couponLabel(coupon) {
  const terms = coupon.min_spend_fen > 0 ? ct("coupons.threshold", { min: yuan(coupon.min_spend_fen) }) : ct("coupons.no_threshold");
  return [h("b", { class: "coupon-off" }, yuan(coupon.amount_off_fen)), h("span", { class: "coupon-terms" }, terms)];
}

function couponNote(coupon) {
  if (coupon.saves_fen > 0) return ct("coupons.saves", { amount: yuan(coupon.saves_fen) });
  if (coupon.short_by_fen > 0) return ct("coupons.short_by", { amount: yuan(coupon.short_by_fen) });
  return ct("coupons.not_here");
}

export class CouponPicker {
  constructor({ api, onChange }) {
    Object.assign(this, { api, onChange });
    this.key = null; // "deal:quantity" the list was fetched for
    this.coupons = [];
    this.chosen = new Set();
    this.quote = null;
  }

  /** Fetch the usable coupons for this deal and quantity, once per change of either. */
  follow(dealId, quantity) {
    const key = `${dealId}:${quantity}`;
    if (key === this.key) return;
    const sameDeal = this.key?.startsWith(`${dealId}:`);
    this.key = key;
    if (!sameDeal) this.chosen.clear();
    this.api
      .get(`/api/coupons/mine?deal_id=${dealId}&quantity=${quantity}`)
      .then((list) => {
        if (this.key !== key) return;
        this.coupons = list.filter((c) => c.state === "usable");
        for (const id of [...this.chosen]) if (!this.coupons.some((c) => c.id === id && c.saves_fen > 0)) this.chosen.delete(id);
        return this.requote(dealId, quantity);
      })
      .catch(() => {
        this.coupons = [];
        this.onChange();
      });
  }

  async requote(dealId, quantity) {
    if (this.chosen.size === 0) {
      this.quote = null;
    } else {
      this.quote = await this.api.post("/api/coupons/quote", { deal_id: dealId, quantity, coupon_ids: this.ids() });
    }
    this.onChange();
  }

  ids() {
    return [...this.chosen].sort((a, b) => a - b);
  }

  /** What the order will cost with the coupons chosen (the quote's, when it has one). */
  due(gross) {
    return this.quote && !this.quote.refusal ? this.quote.due_fen : gross;
  }

  view(dealId, quantity, gross) {
    if (this.coupons.length === 0) return null;
    const toggle = (coupon) => {
      if (this.chosen.has(coupon.id)) this.chosen.delete(coupon.id);
      else this.chosen.add(coupon.id);
      this.requote(dealId, quantity);
    };
    const chips = this.coupons.map((coupon) =>
      h(
        "button",
        {
          type: "button",
          class: `coupon-chip${this.chosen.has(coupon.id) ? " chosen" : ""}`,
          "aria-pressed": this.chosen.has(coupon.id) ? "true" : "false",
          disabled: coupon.saves_fen === 0 && !this.chosen.has(coupon.id),
          dataset: { couponId: coupon.id },
          onclick: () => toggle(coupon),
        },
        ...couponLabel(coupon),
        h("small", {}, couponNote(coupon)),
      ),
    );
    const quote = this.quote;
    const off = quote && !quote.refusal ? quote.discount_fen : 0;
    return h(
      "div",
      { class: "coupon-picker" },
      h("div", { class: "coupon-head" }, ct("coupons.title")),
      h("div", { class: "coupon-chips" }, ...chips),
      quote?.refusal ? h("p", { class: "sheet-error" }, quote.refusal) : null,
      h(
        "dl",
        { class: "coupon-breakdown", "data-testid": "coupon-breakdown" },
        h("dt", {}, ct("coupons.gross")),
        h("dd", {}, yuan(gross)),
        h("dt", {}, ct("coupons.off")),
        h("dd", { "data-testid": "coupon-off" }, `-${yuan(off)}`),
        h("dt", {}, ct("coupons.due")),
        h("dd", { "data-testid": "coupon-due" }, yuan(this.due(gross))),
      ),
    );
  }
}

/** The "my coupons" sheet: every coupon, usable first, with its terms and dates. */
export class MyCoupons {
  constructor({ el, backdrop, api }) {
    Object.assign(this, { el, backdrop, api });
    this.coupons = [];
  }

  get isOpen() {
    return !this.el.hidden;
  }

  async open() {
    this.el.hidden = false;
    this.backdrop.hidden = false;
    try {
      this.coupons = await this.api.get("/api/coupons/mine");
    } catch {
      this.coupons = [];
    }
    this.render();
  }

  close() {
    this.el.hidden = true;
    if (document.querySelectorAll(".sheet:not([hidden])").length === 0) this.backdrop.hidden = true;
  }

  render() {
    const rows = this.coupons.map((coupon) =>
      h(
        "li",
        { class: `coupon-row coupon-${coupon.state}`, dataset: { couponId: coupon.id } },
        h("div", { class: "coupon-face" }, ...couponLabel(coupon)),
        h(
          "div",
          { class: "coupon-meta" },
          h("span", {}, ct(`coupons.${coupon.state}`)),
          h("span", {}, ct(coupon.stackable ? "coupons.stackable" : "coupons.alone")),
          h("small", { class: "muted" }, ct("coupons.until", { date: coupon.valid_until.slice(0, 10) })),
        ),
      ),
    );
    this.el.replaceChildren(
      h(
        "div",
        { class: "sheet-body" },
        h("button", { class: "sheet-close", type: "button", "aria-label": "×", onclick: () => this.close() }, "×"),
        h("h3", {}, ct("coupons.mine")),
        rows.length ? h("ul", { class: "coupon-list" }, ...rows) : h("p", { class: "muted" }, ct("coupons.none")),
      ),
    );
  }
}
