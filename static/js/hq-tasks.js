// HQ's task follow-through: tasks issued, done, open, overdue and expired per region, store
// or guide (most overdue first, refreshed every 10 s), with the definitions beside them and a
// chase (催办) button on each store or guide with overdue tasks: their guides find a reminder
// on their workbench. Chasing again within half an hour reminds nobody twice (the server's).
import { $, h } from "./dom.js";
import { HQ_TASKS_STRINGS } from "./hq-tasks-strings.js";
import { addStrings, t } from "./i18n.js";
import { toast } from "./toast.js";

addStrings(HQ_TASKS_STRINGS);
const REFRESH_MS = 10_000;

export function startTasks(api) {
  let level = "store";
  let table = null;

  async function load() {
    table = await api.get(`/api/hq/tasks?by=${level}`);
    render();
  }

  async function chase(row) {
    const body = level === "guide" ? { guide_id: row.id } : { store_id: row.id };
    try {
      const answer = await api.post("/api/hq/tasks/chase", body);
      if (answer.reminded.length) toast(t("tasks.chased", { n: answer.reminded.length }), "ok");
      else toast(t(answer.already.length ? "tasks.already" : "tasks.nobody_late"), "info");
    } catch (err) {
      toast(err.message, "error");
    }
  }

  function render() {
    for (const button of document.querySelectorAll("#task-levels button")) {
      button.textContent = t(`tasks.by.${button.dataset.level}`);
      button.classList.toggle("active", button.dataset.level === level);
    }
    $("#tasks-period").textContent = t("tasks.period");
    if (!table) return;
    $("#tasks-means").textContent = table.means;
    const box = $("#task-table");
    if (!table.rows.length) return box.replaceChildren(h("p", { class: "muted" }, t("tasks.none")));
    const columns = ["issued", "done", "open", "overdue", "expired"];
    box.replaceChildren(
      h(
        "table",
        { class: "task-table" },
        h("thead", {}, h("tr", {}, h("th", {}, t("tasks.name")), ...columns.map((c) => h("th", {}, t(`tasks.${c}`))), h("th", {}, t("tasks.rate")), h("th"))),
        h(
          "tbody",
          {},
          ...table.rows.map((row) =>
            h(
              "tr",
              { "data-testid": `task-row-${level}-${row.id}`, class: row.overdue ? "late" : "" },
              h("td", {}, row.name),
              ...columns.map((c) => h("td", { class: c }, row[c])),
              h("td", {}, `${(row.execution_rate * 100).toFixed(1)}%`),
              h(
                "td",
                {},
                level !== "region" && row.overdue
                  ? h("button", { class: "small-btn chase-btn", type: "button", "data-testid": `chase-${level}-${row.id}`, onclick: () => chase(row) }, t("tasks.chase"))
                  : "",
              ),
            ),
          ),
        ),
      ),
    );
  }

  for (const button of document.querySelectorAll("#task-levels button")) {
    button.onclick = () => {
      level = button.dataset.level;
      load().catch((err) => toast(err.message, "error"));
    };
  }
  load().catch((err) => toast(err.message, "error"));
  setInterval(() => load().catch(() => {}), REFRESH_MS);
  return { refresh: render };
}
