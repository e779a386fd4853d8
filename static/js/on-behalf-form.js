// The host console's 代客下单 form: the host (naming the guide the customer asked) or a guide
// holds a window deal's units for a customer; the answer is the link to send them.

import { createApi } from "./api.js";
import { $, h } from "./dom.js";
import { currentLang, onLangChange, productName } from "./i18n.js";
import { yuan } from "./money.js";
import { newId } from "./ids.js";

const STRINGS = {
  zh: {
    title: "代客下单",
    customer: "顾客编号",
    deal: "商品",
    quantity: "数量",
    guide: "导购编号",
    hold: "保留（分钟）",
    coupons: "优惠券编号（逗号分隔，可空）",
    submit: "生成订单并发送链接",
    placed: "已为顾客保留，应付 {amount}，{time} 前有效。把链接发给顾客：",
    copy: "复制链接",
    copied: "已复制",
  },
  en: {
    title: "Order on behalf",
    customer: "Customer id",
    deal: "Item",
    quantity: "Quantity",
    guide: "Guide id",
    hold: "Hold (minutes)",
    coupons: "Coupon ids (comma separated, optional)",
    submit: "Hold and make the link",
    placed: "Held for the customer: {amount} due by {time}. Send them this link:",
    copy: "Copy link",
    copied: "Copied",
  },
};
const s = (key, vars = {}) =>
  (STRINGS[currentLang()]?.[key] ?? STRINGS.zh[key]).replace(/\{(\w+)\}/g, (_, n) => vars[n] ?? "");

const params = new URLSearchParams(location.search);
const roomId = params.get("room");
const api = createApi(() => params.get("token"));
const panel = $("#on-behalf");
let items = [];
let result = null;
let error = "";

function field(label, input) {
  return h("label", { class: "ob-field" }, h("span", {}, label), input);
}

function render() {
  const form = h(
    "form",
    { class: "ob-form", autocomplete: "off", onsubmit: submit },
    field(s("customer"), h("input", { name: "customer_id", type: "number", min: 1, required: true })),
    field(
      s("deal"),
      h(
        "select",
        { name: "deal_id", required: true },
        ...items.map((item) => h("option", { value: item.deal_id }, `${productName(item)} · ${yuan(item.price_fen)}`)),
      ),
    ),
    field(s("quantity"), h("input", { name: "quantity", type: "number", min: 1, max: 99, value: 1 })),
    field(s("guide"), h("input", { name: "guide_id", type: "number", min: 1 })),
    field(s("hold"), h("input", { name: "hold_minutes", type: "number", min: 5, max: 1440, value: 30 })),
    field(s("coupons"), h("input", { name: "coupon_ids", inputmode: "numeric" })),
    error ? h("p", { class: "sheet-error", role: "alert" }, error) : null,
    h("button", { type: "submit", class: "small-btn" }, s("submit")),
  );
  const answer = result
    ? h(
        "div",
        { class: "ob-result", "data-testid": "on-behalf-link" },
        h("p", {}, s("placed", { amount: yuan(result.amount_due_fen), time: new Date(result.pay_by).toLocaleString() })),
        h("input", { readonly: true, value: result.confirm_url, onfocus: (e) => e.target.select() }),
        h("button", { type: "button", class: "small-btn", onclick: copy }, s("copy")),
      )
    : null;
  panel.replaceChildren(h("header", { class: "panel-head" }, h("h2", {}, s("title"))), form, ...(answer ? [answer] : []));
}

async function copy(event) {
  try {
    await navigator.clipboard.writeText(result.confirm_url);
    event.target.textContent = s("copied");
  } catch {
    // the field stays selectable
  }
}

async function submit(event) {
  event.preventDefault();
  const data = new FormData(event.target);
  const number = (name) => (data.get(name) ? Number(data.get(name)) : null);
  const body = {
    idempotency_key: newId(),
    customer_id: number("customer_id"),
    deal_id: number("deal_id"),
    quantity: number("quantity") || 1,
    hold_minutes: number("hold_minutes") || 30,
    coupon_ids: String(data.get("coupon_ids") || "")
      .split(/[,\s，]+/)
      .filter(Boolean)
      .map(Number),
  };
  if (number("guide_id")) body.guide_id = number("guide_id");
  try {
    result = await api.post("/api/on-behalf-orders", body);
    error = "";
  } catch (err) {
    result = null;
    error = err.message;
  }
  render();
}

async function start() {
  if (!panel || !roomId) return;
  try {
    const room = await api.get(`/api/rooms/${roomId}`);
    items = (room.window || []).filter((item) => item.deal_id != null);
  } catch {
    items = [];
  }
  render();
}

onLangChange(render);
start();
