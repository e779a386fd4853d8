// The guide workbench: my follow-up queue (polled every few seconds, so new tasks appear
// without a reload), a task's customer card (what they tapped and saw on air, with product
// images) with its script to copy, done/skip with an outcome, my share link with its
// server-drawn QR code, my credited sales with their reasons, and my figures.

import { createApi } from "./api.js";
import { $, h } from "./dom.js";
import { applyStatic, currentLang, onLangChange, t, toggleLang } from "./guide-i18n.js";
import { yuan } from "./money.js";
import { toast } from "./toast.js";

const POLL_MS = 5000;
const OUTCOMES = ["reached", "no_answer", "not_interested", "booked_visit"];
const params = new URLSearchParams(location.search);
const token = params.get("token");
const api = createApi(() => token);
let tasks = [];
let seen = null; // task ids of the last poll, to say when new ones arrive
let openTask = null;

const script = (task) => (currentLang() === "en" ? task.script_en : task.script_zh);

function did(task) {
  return t("wb.did", {
    min: Math.round(task.watch_seconds / 60),
    taps: task.taps,
    chats: task.chats,
    likes: task.likes,
  });
}

function orderedLine(task) {
  if (!task.ordered.length) return null;
  const key = task.kind === "care" ? "wb.bought" : "wb.ordered";
  return h("p", { class: "ordered" }, t(key, { items: task.ordered.join(currentLang() === "en" ? ", " : "、") }));
}

const itemName = (item) => (currentLang() === "en" && item.name_en) || item.name;

function thumb(item, size) {
  // The catalogue's image; a product without one shows its first character instead.
  return item.image_url
    ? h("img", { class: `thumb thumb-${size}`, src: item.image_url, alt: itemName(item), loading: "lazy" })
    : h("span", { class: `thumb thumb-${size} thumb-none`, "aria-hidden": "true" }, itemName(item).slice(0, 1));
}

function thumbs(task) {
  const items = task.items || [];
  if (!items.length) return null;
  return h("div", { class: "thumbs" }, items.slice(0, 5).map((item) => thumb(item, "s")));
}

function itemLine(item) {
  const min = Math.round(item.on_air_seconds / 60);
  const parts = [];
  if (item.taps) parts.push(t("wb.item_taps", { n: item.taps }));
  parts.push(item.on_air_seconds ? t("wb.item_on_air", { min: Math.max(1, min) }) : t("wb.item_off_air"));
  return parts.join(" · ");
}

function itemsSeen(task) {
  const items = task.items || [];
  if (!items.length) return null;
  return [
    h("h3", {}, t("wb.items")),
    h(
      "ul",
      { class: "items", id: "items" },
      items.map((item) =>
        h(
          "li",
          { dataset: { item: item.item_id } },
          thumb(item, "m"),
          h(
            "div",
            {},
            h("b", {}, itemName(item)),
            h("span", {}, itemLine(item)),
          ),
        ),
      ),
    ),
  ];
}

function taskCard(task) {
  return h(
    "li",
    {},
    h(
      "button",
      {
        class: "task",
        type: "button",
        dataset: { task: task.id, kind: task.kind, pool: task.in_pool ? "1" : "0", customer: task.customer_id },
        onclick: () => openCard(task.id),
      },
      h(
        "div",
        { class: "task-head" },
        h("span", { class: "task-name" }, task.customer_name || `#${task.customer_id}`),
        h("span", { class: "task-phone" }, task.phone_masked),
        task.in_pool ? h("span", { class: "pool" }, t("wb.pool")) : null,
        h("span", { class: `kind kind-${task.kind}` }, t(`kind.${task.kind}`)),
      ),
      task.kind === "care" ? null : h("p", { class: "did" }, did(task)),
      orderedLine(task),
      thumbs(task),
    ),
  );
}

function renderQueue() {
  const list = $("#queue");
  list.replaceChildren(...(tasks.length ? tasks.map(taskCard) : [h("li", { class: "empty" }, t("wb.empty"))]));
}

async function loadQueue() {
  const queue = await api.get("/api/followups/queue");
  tasks = queue.tasks;
  for (const [kind, n] of Object.entries(queue.counts)) {
    const el = $(`#n-${kind}`);
    if (el) el.textContent = String(n);
  }
  const ids = new Set(tasks.map((task) => task.id));
  if (seen) {
    const fresh = [...ids].filter((id) => !seen.has(id)).length;
    if (fresh) toast(t("wb.new_tasks", { n: fresh }), "ok");
  }
  seen = ids;
  renderQueue();
}

const percent = (rate) => `${Math.round(rate * 1000) / 10}%`;

async function loadRate() {
  const figures = await api.get("/api/followups/figures");
  $("#rate").textContent = figures.issued ? percent(figures.execution_rate) : "–";
  $("#rate-means").textContent = figures.execution_rate_means;
  // My other figures, each with its definition beside it (shown on the sales tab).
  const rows = [
    ["wb.execution_rate", figures.issued ? percent(figures.execution_rate) : "–", figures.execution_rate_means],
    ["wb.conversion_rate", figures.touched ? percent(figures.conversion_rate) : "–", figures.conversion_rate_means],
    ["wb.add_fan_rate", figures.store_transactions ? percent(figures.add_fan_rate) : "–", figures.add_fan_rate_means],
    ["wb.repurchase_rate", figures.buyers ? percent(figures.repurchase_rate) : "–", figures.repurchase_rate_means],
  ];
  $("#figures").replaceChildren(
    ...rows.map(([label, value, means]) =>
      h("li", {}, h("div", { class: "fig-head" }, h("span", {}, t(label)), h("b", {}, value)), h("p", { class: "means" }, means)),
    ),
  );
}

function creditLine(credit) {
  const reason = currentLang() === "en" ? credit.reason_en : credit.reason_zh;
  return h(
    "li",
    { class: `credit credit-${credit.kind}`, dataset: { order: credit.order_id } },
    h(
      "div",
      { class: "credit-head" },
      h("span", {}, new Date(credit.created_at).toLocaleDateString(currentLang() === "en" ? "en" : "zh-CN")),
      h("b", {}, yuan(credit.amount_fen)),
    ),
    h("p", { class: "reason" }, reason || credit.rule),
  );
}

async function loadSales() {
  const sales = await api.get("/api/guides/me/sales");
  $("#sales-total").textContent = yuan(sales.total_fen);
  $("#sales").replaceChildren(
    ...(sales.credits.length ? sales.credits.map(creditLine) : [h("li", { class: "empty" }, t("wb.no_sales"))]),
  );
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Older WebViews: a selected textarea and the legacy command.
    const area = h("textarea", { style: "position:fixed;opacity:0" }, text);
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    if (!ok) {
      toast(t("wb.copy_failed"), "error");
      return;
    }
  }
  toast(t("wb.copied"), "ok");
}

function fact(value, label) {
  return h("div", { class: "fact" }, h("b", {}, value), h("span", {}, t(label)));
}

function renderCard(card) {
  const task = card.task;
  const sheet = $("#sheet");
  const reason = h("input", { id: "skip-reason", placeholder: t("wb.skip_reason"), maxlength: "200" });
  const parts = [
    h(
      "h2",
      {},
      task.customer_name || `#${task.customer_id}`,
      h("span", { class: "task-phone" }, task.phone_masked),
      h("span", { class: `kind kind-${task.kind}` }, t(`kind.${task.kind}`)),
    ),
    task.kind === "care"
      ? null
      : h(
          "div",
          { class: "facts" },
          fact(Math.round(task.watch_seconds / 60), "f.watch"),
          fact(task.taps, "f.taps"),
          fact(task.chats, "f.chats"),
          fact(task.likes, "f.likes"),
        ),
    itemsSeen(task),
    orderedLine(task),
    h("h3", {}, t("wb.script")),
    h("p", { class: "script", id: "script", onclick: () => copy(script(task)) }, script(task)),
    h("button", { class: "primary-btn", id: "copy-script", type: "button", onclick: () => copy(script(task)) }, t("wb.copy_script")),
    h("h3", {}, t("wb.outcome")),
    h(
      "div",
      { class: "outcomes" },
      OUTCOMES.map((outcome) =>
        h(
          "button",
          { class: "outcome", type: "button", dataset: { outcome }, onclick: () => finish(task.id, "done", { outcome }) },
          t(`outcome.${outcome}`),
        ),
      ),
    ),
    h(
      "div",
      { class: "skip-row" },
      reason,
      h("button", { class: "small-btn", type: "button", id: "skip", onclick: () => finish(task.id, "skip", { reason: reason.value }) }, t("wb.skip")),
    ),
    h("h3", {}, t("wb.past")),
    card.past_purchases.length
      ? h(
          "ul",
          { class: "past" },
          card.past_purchases.map((p) =>
            h(
              "li",
              {},
              h("span", {}, new Date(p.at).toLocaleDateString(currentLang() === "en" ? "en" : "zh-CN")),
              h("span", {}, yuan(p.amount_fen) + (p.refunded ? ` · ${t("wb.refunded")}` : "")),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("wb.no_past")),
    h("button", { class: "small-btn", type: "button", onclick: closeCard, style: "justify-self:center" }, t("wb.close")),
  ];
  sheet.replaceChildren(...parts.flat().filter(Boolean));
}

async function openCard(taskId) {
  try {
    openTask = await api.get(`/api/followups/tasks/${taskId}`);
  } catch (err) {
    toast(err.message, "error");
    return;
  }
  renderCard(openTask);
  $("#sheet-bg").hidden = false;
}

function closeCard() {
  openTask = null;
  $("#sheet-bg").hidden = true;
}

async function finish(taskId, action, body) {
  try {
    await api.post(`/api/followups/tasks/${taskId}/${action}`, body);
    toast(t(action === "done" ? "wb.done" : "wb.skipped"), "ok");
  } catch (err) {
    toast(err.message, "error");
  }
  closeCard();
  tasks = tasks.filter((task) => task.id !== taskId);
  renderQueue();
  await Promise.allSettled([loadQueue(), loadRate()]);
}

async function loadShare() {
  const card = await api.get("/api/guides/me/share");
  $("#qr").innerHTML = card.qr_svg; // drawn by our server (segno), not by a person
  $("#share-link").textContent = card.url;
  $("#copy-link").onclick = () => copy(card.url);
}

let shown = "queue";

function showTab(name) {
  shown = name;
  for (const tab of ["queue", "sales", "share"]) {
    $(`#tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`#${tab}-view`).hidden = tab !== name;
  }
  if (name === "share") loadShare().catch((err) => toast(err.message, "error"));
  if (name === "sales") {
    loadSales().catch((err) => toast(err.message, "error"));
    loadRate().catch((err) => toast(err.message, "error"));
  }
}

async function poll() {
  try {
    await loadQueue();
  } catch (err) {
    toast(err.message, "error");
  }
  setTimeout(poll, POLL_MS);
}

$("#lang").addEventListener("click", toggleLang);
$("#tab-queue").addEventListener("click", () => showTab("queue"));
$("#tab-share").addEventListener("click", () => showTab("share"));
$("#tab-sales").addEventListener("click", () => showTab("sales"));
$("#sheet-bg").addEventListener("click", (event) => event.target === $("#sheet-bg") && closeCard());
onLangChange(() => {
  renderQueue();
  if (openTask) renderCard(openTask);
  loadRate().catch(() => {});
  if (shown === "sales") loadSales().catch(() => {});
});
applyStatic();
if (!token) {
  $("#queue").replaceChildren(h("li", { class: "empty" }, t("wb.no_token")));
} else {
  poll();
  loadRate().catch((err) => toast(err.message, "error"));
}
