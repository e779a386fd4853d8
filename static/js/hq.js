// The HQ dashboard: the week's schedule (drag a slot to move it), planning a slot, store
// proposals to approve, and the watch's no-show and missed alerts.
import { createApi } from "./api.js";
import { $, h } from "./dom.js";
import { startLiveView } from "./hq-live.js";
import { HQ_STRINGS } from "./hq-strings.js";
import { startTasks } from "./hq-tasks.js";
import { addStrings, applyStatic, currentLang, onLangChange, t, toggleLang } from "./i18n.js";
import { toast } from "./toast.js";

addStrings(HQ_STRINGS);
const token = new URLSearchParams(location.search).get("token");
const api = createApi(() => token);

const USUAL_FIRST_HOUR = 8; // from 08:00 (earlier when a slot starts earlier) to 24:00,
// in the browser's own time zone
const STEP_MIN = 30;
const DAY_MS = 86_400_000;

const state = {
  weekStart: mondayOf(new Date()),
  stores: new Map(),
  staff: [],
  slots: [],
  firstHour: USUAL_FIRST_HOUR,
};

function mondayOf(date) {
  const day = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const shift = (day.getDay() + 6) % 7; // Monday is the first day of a Chinese week
  return new Date(day.getTime() - shift * DAY_MS);
}

const pad = (n) => String(n).padStart(2, "0");
const hhmm = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
const dayLabel = (d) =>
  d.toLocaleDateString(currentLang() === "en" ? "en-GB" : "zh-CN", {
    weekday: "short",
    month: "numeric",
    day: "numeric",
  });
const hourPx = () => parseFloat(getComputedStyle($("#calendar")).getPropertyValue("--hour")) || 36;

async function loadWeek() {
  const from = state.weekStart;
  const to = new Date(from.getTime() + 7 * DAY_MS);
  state.slots = await api.get(
    `/api/schedule?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`,
  );
  renderCalendar();
}

function slotText(slot) {
  const store = slot.store_id ? state.stores.get(slot.store_id) : t("hq.kind_hub");
  const host = state.staff.find((s) => s.id === slot.host_id);
  return { store: store || `#${slot.store_id}`, host: host ? host.name : "" };
}

function renderCalendar() {
  const calendar = $("#calendar");
  calendar.replaceChildren();
  const from = state.weekStart;
  $("#week-label").textContent = t("hq.week_of", {
    from: from.toLocaleDateString("zh-CN"),
    to: new Date(from.getTime() + 6 * DAY_MS).toLocaleDateString("zh-CN"),
  });
  state.firstHour = Math.min(
    USUAL_FIRST_HOUR,
    ...state.slots.map((slot) => new Date(slot.starts_at).getHours()),
  );
  const hours = 24 - state.firstHour;
  calendar.append(h("div", { class: "cal-head" }));
  const today = new Date().toDateString();
  for (let d = 0; d < 7; d++) {
    const day = new Date(from.getTime() + d * DAY_MS);
    calendar.append(
      h("div", { class: `cal-head${day.toDateString() === today ? " today" : ""}` }, dayLabel(day)),
    );
  }
  calendar.append(
    h("div", { class: "cal-hours" }, ...Array.from({ length: hours }, (_, i) =>
      h("div", { class: "cal-hour" }, `${pad(state.firstHour + i)}:00`))),
  );
  const px = hourPx();
  for (let d = 0; d < 7; d++) {
    const dayStart = new Date(from.getTime() + d * DAY_MS);
    const column = h("div", { class: "cal-day", dataset: { day: String(d) } });
    column.style.height = `${hours * px}px`;
    const { shown, relaying } = relaysShown(
      state.slots.filter((slot) => new Date(slot.starts_at).toDateString() === dayStart.toDateString()),
    );
    for (const { slot, lane, lanes } of sideBySide(shown)) {
      const block = slotBlock(slot, new Date(slot.starts_at), new Date(slot.ends_at), px);
      const stores = relaying.get(slot.id);
      if (stores) block.append(h("span", { class: "slot-tag" }, t("hq.relayed_by", { stores: stores.join("、") })));
      block.style.left = `calc(${(100 * lane) / lanes}% + 2px)`;
      block.style.width = `calc(${100 / lanes}% - 4px)`;
      column.append(block);
    }
    calendar.append(column);
  }
}

/** Slots of one day that overlap share the column side by side; lanes are given greedily in
 * start order, and each run of overlapping slots is as wide as its own lanes need. */
function sideBySide(slots) {
  const sorted = [...slots].sort((a, b) => new Date(a.starts_at) - new Date(b.starts_at));
  const out = [];
  let run = [];
  let laneEnds = [];
  const close = () => {
    for (const placed of run) out.push({ ...placed, lanes: laneEnds.length });
    run = [];
    laneEnds = [];
  };
  for (const slot of sorted) {
    const start = new Date(slot.starts_at);
    if (laneEnds.length && laneEnds.every((end) => end <= start)) close();
    let lane = laneEnds.findIndex((end) => end <= start);
    if (lane < 0) lane = laneEnds.length;
    laneEnds[lane] = new Date(slot.ends_at);
    run.push({ slot, lane });
  }
  close();
  return out;
}

/** A hub slot carries the stores relaying it; their own blocks would only repeat it. */
function relaysShown(slots) {
  const hubs = new Set(slots.filter((s) => s.kind === "hub").map((s) => s.id));
  const relaying = new Map();
  for (const slot of slots) {
    if (slot.relays_id && hubs.has(slot.relays_id)) {
      const names = relaying.get(slot.relays_id) || [];
      names.push(slotText(slot).store);
      relaying.set(slot.relays_id, names);
    }
  }
  return {
    shown: slots.filter((s) => !(s.relays_id && hubs.has(s.relays_id))),
    relaying,
  };
}

function slotBlock(slot, start, end, px) {
  const top = ((start.getHours() - state.firstHour) * 60 + start.getMinutes()) * (px / 60);
  const height = Math.max(18, ((end - start) / 60_000) * (px / 60) - 2);
  const { store, host } = slotText(slot);
  const tags = [`${hhmm(start)}–${hhmm(end)}`, store, host];
  if (slot.approval !== "approved") tags.push(t(`hq.approval.${slot.approval}`));
  if (slot.status === "missed") tags.push(t("hq.status.missed"));
  const block = h(
    "div",
    {
      class: `slot kind-${slot.kind} approval-${slot.approval} status-${slot.status}`,
      dataset: { slot: String(slot.id), testid: `slot-${slot.id}` },
      "data-testid": `slot-${slot.id}`,
      title: `${slot.title} · ${tags.join(" · ")}`,
    },
    h("b", {}, slot.title),
    h("span", { class: "slot-tag" }, tags.filter(Boolean).join(" · ")),
  );
  block.style.top = `${top}px`;
  block.style.height = `${height}px`;
  if (slot.status === "scheduled") draggable(block, slot, start, end, px);
  return block;
}

/** Drag a slot to another day or time; on release the server checks it like any plan. */
function draggable(block, slot, start, end, px) {
  block.addEventListener("pointerdown", (down) => {
    block.setPointerCapture(down.pointerId);
    block.classList.add("dragging");
    const columnWidth = block.parentElement.getBoundingClientRect().width;
    let days = 0;
    let steps = 0;
    const move = (ev) => {
      days = Math.round((ev.clientX - down.clientX) / columnWidth);
      steps = Math.round((ev.clientY - down.clientY) / (px / (60 / STEP_MIN)));
      block.style.transform = `translate(${days * columnWidth}px, ${steps * (px / (60 / STEP_MIN))}px)`;
    };
    const up = async () => {
      block.removeEventListener("pointermove", move);
      block.classList.remove("dragging");
      if (!days && !steps) return;
      const shift = days * DAY_MS + steps * STEP_MIN * 60_000;
      const starts = new Date(start.getTime() + shift);
      try {
        await api.patch(`/api/schedule/${slot.id}`, {
          starts_at: starts.toISOString(),
          ends_at: new Date(end.getTime() + shift).toISOString(),
        });
        toast(t("hq.moved", { time: `${starts.toLocaleDateString("zh-CN")} ${hhmm(starts)}` }), "info");
      } catch (err) {
        toast(t("hq.move_refused", { detail: err.message }), "error", 6000);
      }
      await loadWeek();
    };
    block.addEventListener("pointermove", move);
    block.addEventListener("pointerup", up, { once: true });
  });
}

function fillPlanForm() {
  const form = $("#plan");
  const stores = form.elements.store_id;
  stores.replaceChildren(...[...state.stores].map(([id, name]) => h("option", { value: id }, name)));
  const hosts = () => {
    const hub = form.elements.kind.value === "hub";
    const storeId = Number(stores.value);
    const fit = state.staff.filter((s) => (hub ? s.role === "hq" : s.store_id === storeId));
    form.elements.host_id.replaceChildren(
      h("option", { value: "" }, t("hq.no_host")),
      ...fit.map((s) => h("option", { value: s.id }, s.name)),
    );
    for (const el of form.querySelectorAll(".store-only")) el.hidden = hub;
  };
  form.elements.kind.onchange = hosts;
  stores.onchange = hosts;
  hosts();
  const hubs = state.slots.filter((s) => s.kind === "hub");
  form.elements.relays_id.replaceChildren(
    h("option", { value: "" }, t("hq.no_relay")),
    ...hubs.map((s) => h("option", { value: s.id }, `#${s.id} ${s.title}`)),
  );
  const tomorrow = new Date(Date.now() + DAY_MS);
  form.elements.day.value ||= `${tomorrow.getFullYear()}-${pad(tomorrow.getMonth() + 1)}-${pad(tomorrow.getDate())}`;
  form.elements.starts.value ||= "19:00";
  form.elements.ends.value ||= "21:00";
}

async function plan(event) {
  event.preventDefault();
  const form = event.target;
  const value = (name) => form.elements[name].value;
  const hub = value("kind") === "hub";
  const body = {
    kind: value("kind"),
    title: value("title"),
    starts_at: new Date(`${value("day")}T${value("starts")}`).toISOString(),
    ends_at: new Date(`${value("day")}T${value("ends")}`).toISOString(),
  };
  if (!hub) body.store_id = Number(value("store_id"));
  if (value("host_id")) body.host_id = Number(value("host_id"));
  if (!hub && value("relays_id")) body.relays_id = Number(value("relays_id"));
  const result = $("#plan-result");
  try {
    const slot = await api.post("/api/schedule", body);
    result.className = "plan-result planned";
    result.textContent = t("hq.planned", { title: slot.title });
    state.weekStart = mondayOf(new Date(slot.starts_at));
    await loadWeek();
  } catch (err) {
    result.className = "plan-result refused";
    result.textContent = t("hq.refused", { detail: err.message });
  }
}

async function loadProposals() {
  const now = new Date();
  const later = new Date(now.getTime() + 60 * DAY_MS);
  const slots = await api.get(
    `/api/schedule?from=${encodeURIComponent(now.toISOString())}&to=${encodeURIComponent(later.toISOString())}`,
  );
  const waiting = slots.filter((s) => s.approval === "proposed");
  const list = $("#proposals");
  if (!waiting.length) return list.replaceChildren(h("li", { class: "muted" }, t("hq.no_proposals")));
  list.replaceChildren(
    ...waiting.map((slot) => {
      const start = new Date(slot.starts_at);
      const decide = (verdict) => async () => {
        try {
          await api.post(`/api/schedule/${slot.id}/${verdict}`);
        } catch (err) {
          toast(err.message, "error", 6000);
        }
        await Promise.all([loadProposals(), loadWeek()]);
      };
      return h(
        "li",
        { "data-testid": `proposal-${slot.id}` },
        h("span", {}, `${slot.title} · ${slotText(slot).store} · ${start.toLocaleDateString("zh-CN")} ${hhmm(start)}`),
        h(
          "span",
          { class: "actions" },
          h("button", { class: "small-btn", type: "button", onclick: decide("approve") }, t("hq.approve")),
          h("button", { class: "small-btn", type: "button", onclick: decide("reject") }, t("hq.reject")),
        ),
      );
    }),
  );
}

async function loadAlerts() {
  const notices = await api.get("/api/schedule/notices");
  const list = $("#alerts");
  if (!notices.length) return list.replaceChildren(h("li", { class: "muted" }, t("hq.no_alerts")));
  list.replaceChildren(
    ...notices.slice(0, 20).map((n) =>
      h(
        "li",
        { class: `alert-${n.kind}` },
        h(
          "span",
          {},
          h("b", {}, t(`hq.alert.${n.kind}`)),
          h("br"),
          `${n.title} · ${new Date(n.starts_at).toLocaleString("zh-CN", { dateStyle: "short", timeStyle: "short" })}`,
        ),
      ),
    ),
  );
}

async function start() {
  applyStatic();
  $("#lang").onclick = toggleLang;
  onLangChange(() => {
    renderCalendar();
    fillPlanForm();
  });
  if (!token) return toast(t("hq.need_token"), "error", 60_000);
  const [stores, staff] = await Promise.all([api.get("/api/stores"), api.get("/api/schedule/hosts")]);
  state.stores = new Map(stores.map((s) => [s.id, s.name]));
  state.staff = staff;
  const week = (offset) => async () => {
    state.weekStart = offset === 0 ? mondayOf(new Date()) : new Date(state.weekStart.getTime() + offset * 7 * DAY_MS);
    await loadWeek();
  };
  $("#prev-week").onclick = week(-1);
  $("#next-week").onclick = week(1);
  $("#this-week").onclick = week(0);
  $("#plan").addEventListener("submit", plan);
  await loadWeek();
  fillPlanForm();
  const live = startLiveView(api, token);
  const tasks = startTasks(api);
  onLangChange(() => {
    live.refresh();
    tasks.refresh();
  });
  await Promise.all([loadProposals(), loadAlerts()]);
  setInterval(loadAlerts, 30_000); // the watch runs each minute
}

start().catch((err) => toast(err.message, "error", 10_000));
