// HQ's chase (催办) on the guide workbench: a banner per reminder not yet dismissed, saying how
// many tasks were overdue when HQ chased; "知道了" dismisses it. Polled like the queue.
import { createApi } from "./api.js";
import { $, h } from "./dom.js";
import { currentLang, onLangChange } from "./guide-i18n.js";
import { toast } from "./toast.js";

const POLL_MS = 5000;
const WORDS = {
  zh: { chased: (n) => `总部催办：你有 ${n} 个跟进任务已逾期，请尽快处理`, ok: "知道了" },
  en: { chased: (n) => `HQ is chasing: ${n} of your follow-up tasks are overdue`, ok: "Got it" },
};
const token = new URLSearchParams(location.search).get("token");
const api = createApi(() => token);
let reminders = [];

function render() {
  const words = WORDS[currentLang()] ?? WORDS.zh;
  $("#reminders").replaceChildren(
    ...reminders.map((r) =>
      h(
        "div",
        { class: "reminder", role: "alert", "data-testid": `reminder-${r.id}` },
        h("span", {}, words.chased(r.overdue)),
        h("button", { class: "small-btn", type: "button", onclick: () => dismiss(r.id) }, words.ok),
      ),
    ),
  );
}

async function dismiss(id) {
  try {
    await api.post(`/api/guide/reminders/${id}/seen`);
    reminders = reminders.filter((r) => r.id !== id);
    render();
  } catch (err) {
    toast(err.message, "error");
  }
}

async function poll() {
  try {
    reminders = await api.get("/api/guide/reminders");
    render();
  } catch {
    // the queue's own poll already says when the server is away
  }
  setTimeout(poll, POLL_MS);
}

onLangChange(render);
if (token) poll();
