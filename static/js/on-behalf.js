// The customer's link to an order a guide built for them (代客下单): what, how many, the
// coupons applied, who built it and until when it is held; confirm, then pay.

import { createApi } from "./api.js";
import { $, h } from "./dom.js";
import { currentLang, productName } from "./i18n.js";
import { newId } from "./ids.js";
import { yuan } from "./money.js";

const STRINGS = {
  zh: {
    title: "导购为您下单",
    by: "导购 {name} 为您保留了以下商品",
    quantity: "数量",
    unit: "单价",
    off: "优惠券",
    due: "实付",
    held: "{time} 前确认并支付，逾期商品将释放",
    confirm: "确认订单",
    pay: "去支付",
    paid: "订单已支付，感谢购买",
    closed: "订单已失效（{status}）",
    missing: "找不到这个订单，请向导购确认链接",
    wait: "订单正在生成，请稍候刷新",
  },
  en: {
    title: "Your guide's order",
    by: "{name} is holding these for you",
    quantity: "Quantity",
    unit: "Unit price",
    off: "Coupons",
    due: "To pay",
    held: "Confirm and pay before {time}; after that the items are released",
    confirm: "Confirm order",
    pay: "Pay",
    paid: "Paid. Thank you!",
    closed: "This order is closed ({status})",
    missing: "No such order: ask your guide for the link",
    wait: "The order is on its way; refresh in a moment",
  },
};
const s = (key, vars = {}) =>
  (STRINGS[currentLang()]?.[key] ?? STRINGS.zh[key]).replace(/\{(\w+)\}/g, (_, n) => vars[n] ?? "");

const params = new URLSearchParams(location.search);
const orderId = params.get("order") || "";
const linkToken = params.get("token") || "";
const main = $("#confirm");
const session = { token: "" };
const api = createApi(() => session.token);
const path = `/api/on-behalf-orders/${encodeURIComponent(orderId)}`;
const query = `?token=${encodeURIComponent(linkToken)}`;

/** Tokens the room pages kept; a browser keeps one openid, so each names the same customer. */
function keptTokens() {
  const tokens = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key?.startsWith("storecast.viewer.")) continue;
    try {
      const kept = JSON.parse(localStorage.getItem(key) || "null");
      if (kept?.token && !tokens.includes(kept.token)) tokens.push(kept.token);
    } catch {
      // not ours to read
    }
  }
  return tokens;
}

async function signIn() {
  let code = params.get("code") || localStorage.getItem("storecast.openid");
  if (!code) {
    code = `web-${newId()}`;
    localStorage.setItem("storecast.openid", code);
  }
  const result = await api.post("/api/auth/viewer", { code, nickname: "", share_code: null });
  return result.token;
}

async function load() {
  for (const token of [...keptTokens(), null]) {
    session.token = token ?? (await signIn());
    try {
      return await api.get(path + query);
    } catch (err) {
      if (err.status === 409) return { waiting: true };
      if (err.status !== 404 && err.status !== 401) throw err;
    }
  }
  return null;
}

function render(order) {
  if (!order) return main.replaceChildren(h("p", { class: "muted" }, s("missing")));
  if (order.waiting) return main.replaceChildren(h("p", { class: "muted" }, s("wait")));
  const lines = [
    [s("unit"), yuan(order.unit_price_fen)],
    [s("quantity"), `× ${order.quantity}`],
    [s("off"), `-${yuan(order.discount_fen)}`],
  ];
  let action;
  if (order.status === "paid") action = h("p", { class: "confirm-done" }, s("paid"));
  else if (order.status !== "pending_payment") action = h("p", { class: "muted" }, s("closed", { status: order.status }));
  else if (order.pay_url) action = h("a", { class: "primary-btn", href: order.pay_url, "data-testid": "pay" }, `${s("pay")} · ${yuan(order.amount_fen)}`);
  else action = h("button", { class: "primary-btn", type: "button", onclick: confirm, "data-testid": "confirm" }, s("confirm"));
  main.replaceChildren(
    h(
      "section",
      { class: "confirm-card" },
      h("h1", {}, s("title")),
      h("p", { class: "muted" }, s("by", { name: order.guide_name })),
      h(
        "div",
        { class: "confirm-product" },
        h("img", { src: order.image_url, alt: "" }),
        h("b", {}, productName({ name: order.product_name, name_en: order.product_name_en })),
      ),
      h("dl", { class: "confirm-lines" }, ...lines.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]), h("dt", {}, s("due")), h("dd", { class: "confirm-due", "data-testid": "due" }, yuan(order.amount_fen))),
      h("p", { class: "muted" }, s("held", { time: new Date(order.pay_by).toLocaleString() })),
      action,
    ),
  );
}

async function confirm() {
  try {
    render(await api.post(`${path}/confirm${query}`));
  } catch (err) {
    main.append(h("p", { class: "sheet-error" }, err.message));
  }
}

load().then(render, (err) => main.replaceChildren(h("p", { class: "sheet-error" }, err.message)));
