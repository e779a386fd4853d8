// The host console: the room socket with a staff token, plus the HTTP controls.

import { createApi } from "./api.js";
import { formatClock, syncClock } from "./clock.js";
import { $, h } from "./dom.js";
import { applyStatic, onLangChange, productName, t, toggleLang } from "./i18n.js";
import { mountAddItem } from "./catalogue-picker.js";
import { DealProgress, mountLimitsForm, openDealForm } from "./host-deals.js";
import { HostChat } from "./host-chat.js";
import { HostOrders } from "./host-orders.js";
import { HostWindow } from "./host-window.js";
import { RoomState } from "./roomstate.js";
import { RoomSocket } from "./socket.js";
import { StreamPlayer } from "./player.js";
import { toast } from "./toast.js";

const params = new URLSearchParams(location.search);
const roomId = params.get("room");
const token = params.get("token");
const api = createApi(() => token);
const state = new RoomState();
let role = null;

const windowList = new HostWindow({
  list: $("#items"),
  state,
  api,
  role: null,
  onNewDeal: (item) => openDealForm({ item, role, broadcastId: state.broadcast.id, api }),
});
const progress = new DealProgress({ root: $("#deal-progress"), api, state });
const chat = new HostChat({ list: $("#chat"), api, state });
const orders = new HostOrders({
  api,
  roomId,
  els: { count: $("#t-count"), paid: $("#t-paid"), gmv: $("#t-gmv"), units: $("#t-units"), list: $("#orders") },
});

// ---- rendering ------------------------------------------------------------------------

function renderBroadcast() {
  const b = state.broadcast;
  const badge = $("#status");
  badge.className = `status-badge status-${b.status}`;
  badge.textContent = t(`status.${b.status}`);
  $("#bc-title").textContent = b.title;
  document.title = `${b.title} · ${t("host.title")}`;
  const times = {
    scheduled: t("host.scheduled", { time: formatClock(b.scheduled_start_ms) }),
    live: t("host.started", { time: formatClock(b.started_ms) }),
    ended: t("host.ended", { time: formatClock(b.ended_ms) }),
  };
  $("#bc-time").textContent = times[b.status] || "";
  $("#go-live").disabled = b.status !== "scheduled";
  $("#end").disabled = b.status !== "live";
  if (b.poster_url) $("#poster").src = b.poster_url;
  // The preview plays what this room's viewers see: the hub's stream while relaying it.
  player.play(state.presented().play_url || "");
  // Which stream this room's viewers are watching: a store host not yet live sees that
  // their viewers are on the hub's relay.
  const relaying = state.showing() === "relay";
  const seen = $("#viewers-see");
  seen.hidden = state.broadcast.kind !== "store";
  seen.dataset.showing = state.showing();
  seen.textContent = t(relaying ? "host.viewers_see_relay" : "host.viewers_see_own");
  // HQ adds the hub's items, a store host their store's; each picks from the catalogue.
  $("#add-item").hidden = false;
  const addTitle = $("#add-item h2");
  addTitle.dataset.i18n = state.broadcast.kind === "store" ? "host.add_item" : "picker.add_hub_item";
  addTitle.textContent = t(addTitle.dataset.i18n);
}

function renderCounts() {
  $("#viewers").textContent = state.viewers.toLocaleString();
  $("#likes").textContent = state.likes.toLocaleString();
}

function renderOnAir() {
  const item = state.item(state.onAirItemId());
  const box = $("#now-on-air");
  box.hidden = !item;
  if (item) {
    box.replaceChildren(
      h("img", { src: item.image_url, alt: "" }),
      h("div", {}, h("small", {}, h("i", { class: "eq" }), t("host.on_air")), h("b", {}, productName(item))),
    );
  }
}

function renderWindow() {
  windowList.render();
  renderOnAir();
  progress.refresh();
}

function renderAll() {
  applyStatic();
  renderBroadcast();
  renderCounts();
  renderWindow();
}

function showConnection(connection) {
  const el = $("#conn");
  el.className = `conn conn-${connection}`;
  el.textContent = connection === "open" ? "●" : connection === "connecting" ? t("room.connecting") : t("room.reconnecting");
}

// ---- frames ---------------------------------------------------------------------------

function onFrame(f) {
  switch (f.type) {
    case "snapshot":
      state.applySnapshot(f);
      syncClock(f.server_time_ms);
      renderAll();
      fetchMissingDeals();
      return;
    case "chat":
      chat.add(f);
      return;
    case "chat.hidden":
      chat.drop(f);
      return;
    case "ticker":
      orders.refresh();
      progress.refresh();
      return;
    case "error":
      toast(f.message || f.code, "error");
      return;
    case "pong":
      syncClock(f.server_time_ms, f.round_trip_ms);
      return;
  }
  if (f.type === "stock") {
    orders.refresh();
    progress.refresh();
  }
  const changed = state.apply(f);
  if (changed === "counts") renderCounts();
  else if (changed === "broadcast") renderBroadcast();
  else if (changed === "window") {
    renderWindow();
    fetchMissingDeals();
  } else if (changed) renderWindow();
}

async function fetchMissingDeals() {
  if (await state.loadMissingDeals((path) => api.get(path))) renderWindow();
}

// ---- controls -------------------------------------------------------------------------

async function broadcastAction(action, button) {
  if (action === "end" && !confirm(t("host.confirm_end"))) return;
  button.disabled = true;
  try {
    const result = await api.post(`/api/broadcasts/${state.broadcast.id}/${action}`, {});
    state.broadcast.status = result.status;
    const now = Date.now();
    if (result.status === "live") state.broadcast.started_ms ??= now;
    if (result.status === "ended") state.broadcast.ended_ms ??= now;
  } catch (err) {
    toast(err.message, "error");
  }
  renderBroadcast();
}

$("#go-live").addEventListener("click", (e) => broadcastAction("live", e.currentTarget));
$("#end").addEventListener("click", (e) => broadcastAction("end", e.currentTarget));
$("#lang").addEventListener("click", toggleLang);
onLangChange(() => {
  if (state.ready) renderAll();
  orders.render();
  progress.render();
});

mountAddItem({ form: $("#add-item"), api, broadcastId: () => state.broadcast.id });

$("#chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("#chat-input");
  const text = input.value.trim();
  if (text && socket.send({ type: "chat.send", text })) input.value = "";
});

// ---- start ----------------------------------------------------------------------------

const player = new StreamPlayer({ video: $("#video") });
let wsBase = null;
const socket = new RoomSocket({
  url: async () => {
    if (!wsBase) wsBase = (await api.get("/api/config")).ws_url;
    return `${wsBase}/ws/rooms/${roomId}?token=${encodeURIComponent(token)}`;
  },
  onFrame,
  onState: showConnection,
});

applyStatic();
if (!roomId || !token) {
  toast(t("host.need_token"), "error", 60_000);
} else {
  api
    .get("/api/me")
    .then((me) => {
      role = me.role;
      windowList.role = role;
      if (role === "hq") mountLimitsForm({ root: $("#deal-limits"), api });
      document.body.dataset.role = role;
      if (state.ready) renderWindow();
    })
    .catch((err) => toast(err.message, "error"));
  showConnection("connecting");
  socket.start();
  orders.start();
}
