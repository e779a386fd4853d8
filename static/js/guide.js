// The guide workbench: my follow-up queue (polled every few seconds, so new tasks appear
// without a reload), a task's customer card with its script to copy, done/skip with an
// outcome, my share link with its server-drawn QR code, and my execution rate.

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

async function loadRate() {
  const figures = await api.get("/api/followups/figures");
  $("#rate").textContent = figures.issued ? `${Math.round(figures.execution_rate * 100)}%` : "–";
  $("#rate-means").textContent = figures.execution_rate_means;
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
    task.kind === "care" ? null : h("p", { class: "muted", style: "font-size:12px" }, t("wb.taps_note")),
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
  sheet.replaceChildren(...parts.filter(Boolean));
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

function showTab(name) {
  for (const tab of ["queue", "share"]) {
    $(`#tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`#${tab}-view`).hidden = tab !== name;
  }
  if (name === "share") loadShare().catch((err) => toast(err.message, "error"));
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
$("#sheet-bg").addEventListener("click", (event) => event.target === $("#sheet-bg") && closeCard());
onLangChange(() => {
  renderQueue();
  if (openTask) renderCard(openTask);
  loadRate().catch(() => {});
});
applyStatic();
if (!token) {
  $("#queue").replaceChildren(h("li", { class: "empty" }, t("wb.no_token")));
} else {
  poll();
  loadRate().catch((err) => toast(err.message, "error"));
}
