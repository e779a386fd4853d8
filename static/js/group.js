// The share page of one group (static/group.html?g=<group>&share=<guide code>): works without
// a broadcast. Shows the product, the group's members as masked nicknames and its countdown;
// "join" signs the viewer in through the link's share code (the binding rule of any share
// link: an unbound customer is bound to that guide, a bound one stays where they are), then
// orders a seat. Progress is polled every POLL_MS.

import { createApi } from "./api.js";
import { startCountdowns, serverNow } from "./clock.js";
import { $, h } from "./dom.js";
import { applyStatic, onLangChange, productName, t, toggleLang } from "./i18n.js";
import { groupRow, groupStatusText, refusalText, shareUrl } from "./group-view.js";
import { copy } from "./group-sheet.js";
import { newId } from "./ids.js";
import { yuan } from "./money.js";
import { toast } from "./toast.js";

const POLL_MS = 3000;
const params = new URLSearchParams(location.search);
const groupId = params.get("g") || "";
const shareCode = params.get("share") || "";
const TOKEN_KEY = "storecast.viewer.group"; // the sandbox pay page reads storecast.viewer.*
const PLACED_KEY = `storecast.group.${groupId}`;
const session = { token: JSON.parse(localStorage.getItem(TOKEN_KEY) || "null")?.token || "" };
const api = createApi(() => session.token);
let group = null;
let deal = null;
let placed = JSON.parse(localStorage.getItem(PLACED_KEY) || "null");
let attemptKey = null;
let busy = false;

function loginCode() {
  let openid = localStorage.getItem("storecast.openid");
  if (!openid) {
    openid = `web-${newId()}`;
    localStorage.setItem("storecast.openid", openid);
  }
  return openid;
}

async function login() {
  const code = params.get("code") || loginCode();
  const result = await api.post("/api/auth/viewer", {
    code,
    nickname: params.get("nick") || localStorage.getItem("storecast.nickname") || "",
    share_code: shareCode || null,
  });
  session.token = result.token;
  localStorage.setItem(TOKEN_KEY, JSON.stringify({ code, ...result }));
}

async function load() {
  try {
    group = await api.get(`/api/group-buys/groups/${encodeURIComponent(groupId)}`);
    if (!deal) deal = await api.get(`/api/group-buys/deals/${group.deal_id}`);
  } catch (err) {
    if (!group) $("#group").replaceChildren(h("p", {}, t("group.not_found")));
    return;
  }
  render();
}

async function join() {
  if (busy) return;
  busy = true;
  render();
  try {
    if (!session.token) await login();
    attemptKey ||= newId();
    placed = await api.post(`/api/group-buys/groups/${encodeURIComponent(groupId)}/join`, {
      idempotency_key: attemptKey,
    });
    localStorage.setItem(PLACED_KEY, JSON.stringify(placed));
  } catch (err) {
    if (err.status === 401) session.token = ""; // an expired token: sign in again next tap
    if (err.status !== 0) attemptKey = null;
    toast(refusalText(err), "error");
  } finally {
    busy = false;
  }
  await load();
}

function render() {
  if (!group || !deal) return;
  const open = group.status === "open" && group.deadline_ms > serverNow();
  const actions = [];
  if (placed && open) {
    actions.push(
      h("div", { class: "accepted-amount" }, t("order.amount_due", { amount: yuan(placed.amount_due_fen) })),
      h("p", { class: "muted" }, t("group.pay_to_hold")),
      h("a", { class: "primary-btn", href: placed.pay_url || "#", "data-testid": "group-pay" }, t("order.pay")),
    );
  } else if (!placed && open && group.members < group.size) {
    actions.push(
      h(
        "button",
        { class: "primary-btn", type: "button", disabled: busy, "data-testid": "group-join", onclick: join },
        `${t(session.token ? "group.join" : "group.login_join")} · ${yuan(deal.group_price_fen)}`,
      ),
    );
  }
  if (!open || group.status !== "open") {
    actions.push(h("p", { class: "group-done", "data-testid": "group-status" }, groupStatusText(group)));
  }
  const link = shareUrl(group.share_path);
  $("#group").replaceChildren(
    h("img", { class: "group-hero", src: deal.image_url || "/static/img/poster.svg", alt: "" }),
    h(
      "div",
      { class: "group-head" },
      h("h1", {}, productName({ name: deal.product_name, name_en: deal.product_name_en })),
    ),
    h(
      "div",
      { class: "price-row" },
      h("b", { class: "price" }, yuan(deal.group_price_fen)),
      h("span", { class: "deal-badge" }, t("group.size", { n: deal.group_size })),
      deal.list_price_fen > deal.group_price_fen ? h("s", { class: "list-price" }, yuan(deal.list_price_fen)) : null,
    ),
    h("ul", { class: "groups" }, groupRow(group, { mine: Boolean(placed) })),
    h("div", { class: "group-actions" }, ...actions),
    h(
      "div",
      { class: "share-box" },
      h("span", {}, t("group.invite")),
      h("input", { class: "share-link", readonly: true, value: link }),
      h("button", { type: "button", class: "chip", onclick: () => copy(link) }, t("group.copy")),
    ),
  );
}

$("#lang").addEventListener("click", toggleLang);
onLangChange(render);
applyStatic();
startCountdowns(document, () => load());
load();
setInterval(load, POLL_MS);
