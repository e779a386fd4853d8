// The customers page: a host's store's customers (HQ: every store's) with masked phones,
// segment, tier and guide; a customer's card (binding and its history, last purchases with
// the reason each counts where it does); HQ's audited unmask; a guide's credited sales.

import { createApi } from "./api.js";
import { $, h } from "./dom.js";
import { addStrings, applyStatic, currentLang, onLangChange, t, toggleLang } from "./i18n.js";
import { yuan } from "./money.js";
import { toast } from "./toast.js";
import { CUSTOMERS_STRINGS } from "./customers-strings.js";

addStrings(CUSTOMERS_STRINGS);
const PAGE = 50;
const PERIODS = [7, 30, 90];
const token = new URLSearchParams(location.search).get("token") || "";
const api = createApi(() => token);
const state = { me: null, stores: new Map(), guides: new Map(), rows: [], done: false, card: null };

const day = (iso) => (iso ? iso.slice(0, 10) : "");
const guideName = (id) => (id == null ? t("cu.nobody") : state.guides.get(id)?.name ?? `#${id}`);
const reason = (credit) => (currentLang() === "en" ? credit.reason_en : credit.reason_zh);

function segmentTags(row) {
  return [
    row.segment ? h("span", { class: "tag" }, t(`rfm.${row.segment}`)) : h("span", { class: "muted" }, t("cu.no_segment")),
    row.tier ? h("span", { class: `tag tier-${row.tier}` }, t(`tier.${row.tier}`)) : null,
  ];
}

function customerRow(row) {
  const guide = row.guide_id == null ? h("span", { class: "tag pool" }, t("cu.pool")) : row.guide_name;
  const store = state.me.role === "hq" ? h("td", { class: "muted" }, state.stores.get(row.store_id) ?? "") : null;
  return h(
    "tr",
    { dataset: { customerId: row.id }, tabindex: 0, onclick: () => openCard(row.id), onkeydown: (e) => e.key === "Enter" && openCard(row.id) },
    h("td", {}, h("b", {}, row.nickname || `#${row.id}`)),
    h("td", { class: "phone" }, row.phone_masked),
    h("td", {}, guide),
    store,
    h("td", {}, segmentTags(row)),
  );
}

function renderRows() {
  const body = $("#customers");
  body.replaceChildren(...(state.rows.length ? state.rows.map(customerRow) : [h("tr", {}, h("td", { class: "muted" }, t("cu.empty")))]));
  $("#more").hidden = state.done;
}

async function loadCustomers(more = false) {
  const params = new URLSearchParams({ limit: PAGE, offset: more ? state.rows.length : 0 });
  const q = $("#q").value.trim();
  if (q) params.set("q", q);
  if ($("#store").value) params.set("store_id", $("#store").value);
  try {
    const rows = await api.get(`/api/customers?${params}`);
    state.rows = more ? state.rows.concat(rows) : rows;
    state.done = rows.length < PAGE;
    renderRows();
  } catch (err) {
    toast(err.message, "error");
  }
}

function creditItem(credit) {
  return h(
    "li",
    { class: `credit ${credit.kind}` },
    h("div", { class: "credit-head" }, h("b", {}, yuan(credit.amount_fen)), credit.kind === "reversal" ? h("span", { class: "tag pool" }, t("cu.reversal")) : null, h("span", { class: "when" }, day(credit.created_at))),
    h("span", { class: "reason" }, reason(credit)),
  );
}

function historyLine(change) {
  return h(
    "li",
    {},
    t("cu.change", {
      date: day(change.at),
      from: guideName(change.from_guide_id),
      to: guideName(change.to_guide_id),
      reason: t(`source.${change.reason}`),
      actor: change.actor,
    }),
  );
}

function renderCard() {
  const card = state.card;
  const sheet = $("#card .sheet");
  if (!card) return;
  const binding = card.binding
    ? t("cu.bound_since", { guide: card.binding.guide_name, date: day(card.binding.bound_at), source: t(`source.${card.binding.source}`) })
    : t("cu.unbound");
  const unmask =
    state.me.role === "hq"
      ? h("button", { class: "small-btn", type: "button", id: "unmask", onclick: () => unmaskPhone(card.id) }, t("cu.unmask"))
      : null;
  const parts = [
    h("h2", { id: "card-title" }, card.nickname || `#${card.id}`, h("span", { class: "phone muted" }, card.phone_masked)),
    h("p", { id: "unmasked", class: "unmasked", hidden: true }),
    unmask,
    h(
      "div",
      { class: "facts" },
      h("div", { class: "fact" }, h("b", {}, card.segment ? t(`rfm.${card.segment}`) : "—"), h("span", {}, t("cu.segment"))),
      h("div", { class: "fact" }, h("b", {}, card.tier ? t(`tier.${card.tier}`) : "—"), h("span", {}, t("cu.tier"))),
      h("div", { class: "fact" }, h("b", {}, yuan(card.total_credited_fen)), h("span", {}, t("cu.total"))),
    ),
    h("h3", {}, t("cu.binding")),
    h("p", { class: "binding" }, binding),
    h("h3", {}, t("cu.history")),
    card.history.length ? h("ul", { class: "history" }, card.history.map(historyLine)) : h("p", { class: "muted" }, t("cu.no_history")),
    h("h3", {}, t("cu.purchases")),
    card.last_purchases.length ? h("ul", { class: "credits" }, card.last_purchases.map(creditItem)) : h("p", { class: "muted" }, t("cu.no_purchases")),
    h("button", { class: "small-btn", type: "button", onclick: closeCard }, t("cu.close")),
  ];
  sheet.replaceChildren(...parts.filter(Boolean));
}

async function openCard(customerId) {
  try {
    state.card = await api.get(`/api/customers/${customerId}/card`);
  } catch (err) {
    toast(err.message, "error");
    return;
  }
  renderCard();
  $("#card").hidden = false;
}

function closeCard() {
  $("#card").hidden = true;
  state.card = null;
}

async function unmaskPhone(customerId) {
  const why = window.prompt(t("cu.unmask_reason"), "") ?? "";
  try {
    const { phone } = await api.post(`/api/customers/${customerId}/unmask`, { reason: why.slice(0, 64) });
    const line = $("#unmasked");
    line.textContent = t("cu.unmasked", { phone });
    line.hidden = false;
  } catch (err) {
    toast(err.message, "error");
  }
}

async function loadSales() {
  const guideId = $("#guide").value;
  const list = $("#sales");
  if (!guideId) return;
  const days = Number($("#days").value);
  const since = new Date(Date.now() - days * 86_400_000).toISOString();
  try {
    const sales = await api.get(`/api/guides/${guideId}/sales?since=${encodeURIComponent(since)}`);
    $("#sales-total").textContent = t("cu.sales_total", { guide: guideName(sales.guide_id), days, amount: yuan(sales.total_fen), n: sales.credits.length });
    list.replaceChildren(...(sales.credits.length ? sales.credits.map(creditItem) : [h("li", { class: "muted" }, t("cu.no_sales"))]));
  } catch (err) {
    toast(err.message, "error");
  }
}

function fillSelectors() {
  const guide = $("#guide");
  const chosen = guide.value;
  guide.replaceChildren(
    ...[...state.guides.values()].map((g) =>
      h("option", { value: g.id }, `${g.name}${state.me.role === "hq" ? ` · ${state.stores.get(g.store_id) ?? ""}` : ""}${g.active ? "" : ` (${t("cu.inactive")})`}`),
    ),
  );
  if (chosen) guide.value = chosen;
  const days = $("#days");
  const period = days.value || "30";
  days.replaceChildren(...PERIODS.map((d) => h("option", { value: d }, t("cu.period", { days: d }))));
  days.value = period;
  const store = $("#store");
  if (state.me.role === "hq") {
    const storeChoice = store.value;
    store.replaceChildren(h("option", { value: "" }, t("cu.all_stores")), ...[...state.stores].map(([id, name]) => h("option", { value: id }, name)));
    store.value = storeChoice;
    store.hidden = false;
  }
}

function redraw() {
  $("#lang").textContent = currentLang() === "en" ? "中文" : "EN";
  fillSelectors();
  renderRows();
  renderCard();
  loadSales();
}

async function start() {
  applyStatic();
  $("#lang").textContent = currentLang() === "en" ? "中文" : "EN";
  $("#lang").addEventListener("click", toggleLang);
  onLangChange(redraw);
  if (!token) return toast(t("cu.need_token"), "error", 60_000);
  try {
    state.me = await api.get("/api/me");
  } catch (err) {
    return toast(err.message, "error", 60_000);
  }
  if (!["hq", "host"].includes(state.me.role)) return toast(t("cu.not_allowed"), "error", 60_000);
  const [stores, guides] = await Promise.all([
    state.me.role === "hq" ? api.get("/api/stores") : Promise.resolve([]),
    api.get("/api/guides"),
  ]);
  for (const store of stores) state.stores.set(store.id, store.name);
  for (const guide of guides) state.guides.set(guide.id, guide);
  const own = guides.find((g) => g.store_id === state.me.store_id);
  $("#who").textContent = state.me.role === "hq" ? "HQ" : own?.store_name ?? t("cu.store", { id: state.me.store_id });
  fillSelectors();
  let typing = 0;
  $("#q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => loadCustomers(), 250);
  });
  $("#search").addEventListener("submit", (e) => {
    e.preventDefault();
    loadCustomers();
  });
  $("#store").addEventListener("change", () => loadCustomers());
  $("#more").addEventListener("click", () => loadCustomers(true));
  $("#guide").addEventListener("change", loadSales);
  $("#days").addEventListener("change", loadSales);
  $("#card").addEventListener("click", (e) => e.target === $("#card") && closeCard());
  await loadCustomers();
  await loadSales();
}

start();
