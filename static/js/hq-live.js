// HQ's grid of every room on air. Live over the HQ socket (/ws/hq): the whole view first,
// then the rows that changed, at most once a second. While the socket is down (a proxy
// without websockets, a node restarting) the grid polls /api/hq/live every 3 s and tries the
// socket again with a growing wait. `hqLiveMode` (on the page's global object) says which.
import { $, h } from "./dom.js";
import { t } from "./i18n.js";
import { yuan } from "./money.js";

const POLL_MS = 3_000;
const RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

export function startLiveView(api, token) {
  const rooms = new Map();
  let poller = null;
  let failures = 0;
  let wsBase = null;
  const show = () => render([...rooms.values()], token);
  const setMode = (mode) => {
    globalThis.hqLiveMode = mode;
    $("#live-rooms").dataset.mode = mode;
  };

  async function poll() {
    const list = await api.get("/api/hq/live");
    rooms.clear();
    for (const room of list) rooms.set(room.room_id, room);
    show();
  }

  function startPolling() {
    if (poller) return;
    setMode("polling");
    poll().catch(() => {});
    poller = setInterval(() => poll().catch(() => {}), POLL_MS);
  }

  async function connect() {
    try {
      if (!wsBase) wsBase = (await api.get("/api/config")).ws_url;
    } catch {
      return retry();
    }
    const ws = new WebSocket(`${wsBase}/ws/hq?token=${encodeURIComponent(token)}`);
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "hq.rooms") {
        failures = 0;
        clearInterval(poller);
        poller = null;
        setMode("socket");
        rooms.clear();
      } else if (frame.type !== "hq.changed") return;
      for (const id of frame.gone ?? []) rooms.delete(id);
      for (const room of frame.rooms) rooms.set(room.room_id, room);
      show();
    };
    ws.onclose = () => {
      startPolling();
      retry();
    };
  }

  function retry() {
    setTimeout(connect, RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]);
  }

  startPolling(); // until the socket's first frame
  connect();
  return { refresh: show };
}

/** Hub first, then stores, each by when it went live; a card opens the room to watch it. */
function render(rooms, token) {
  rooms.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "hub" ? -1 : 1) || String(a.started_at).localeCompare(String(b.started_at)) || a.room_id - b.room_id);
  const grid = $("#live-rooms");
  const paid = rooms.reduce((sum, r) => sum + r.paid, 0);
  const fen = rooms.reduce((sum, r) => sum + r.paid_fen, 0);
  $("#live-total").textContent = t("hq.live_total", { rooms: rooms.length, paid, amount: yuan(fen) });
  if (!rooms.length) return grid.replaceChildren(h("p", { class: "muted" }, t("hq.no_live_rooms")));
  const figure = (label, value) => h("span", {}, h("b", {}, value), label);
  grid.replaceChildren(
    ...rooms.map((room) =>
      h(
        "article",
        { class: "live-card", "data-testid": `live-room-${room.room_id}` },
        h("h3", {}, h("span", { class: "status-badge status-live" }, t("status.live")), room.store_name || t("hq.hub")),
        h("span", { class: "muted" }, room.title),
        h(
          "div",
          { class: "figures" },
          figure(t("hq.viewers"), room.viewers),
          figure(t("hq.likes"), room.likes),
          figure(t("hq.orders"), room.orders),
          figure(t("hq.sales"), yuan(room.paid_fen)),
        ),
        room.has_stream ? null : h("span", { class: "no-stream" }, t("hq.no_stream")),
        h(
          "a",
          {
            class: "small-btn",
            href: `/static/room.html?room=${room.room_id}&observe=1&token=${encodeURIComponent(token)}`,
            target: "_blank",
            "data-testid": `observe-${room.room_id}`,
          },
          t("hq.observe"),
        ),
      ),
    ),
  );
}
