// The index page: the rooms of this deployment as links, from GET /api/rooms.

const STATUS = {
  scheduled: "未开播 · Upcoming",
  live: "直播中 · Live",
  ended: "回放 · Replay",
  relay: "总部直播转播中 · Relaying HQ live",
};

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function roomCard(room) {
  const state = room.relaying_live_hub ? "relay" : room.status;
  const name = room.kind === "hub" ? "总部直播间 · HQ room" : `${room.store_name ?? ""} 门店直播间 · store room`;
  const badge = el("span", { className: `badge ${state}`, textContent: STATUS[state] ?? state });
  const actions = el(
    "span",
    { className: "room-actions" },
    el("a", { href: room.viewer_url, textContent: "观看 · Watch" }),
    el("a", { href: room.console_url, textContent: "主播控制台 · Console" }),
  );
  const card = el(
    "div",
    { className: "room" },
    el("img", { src: "/static/img/poster.svg", alt: "" }),
    el("div", {}, el("b", {}, room.title, badge), el("span", { textContent: name }), actions),
  );
  card.dataset.roomId = room.room_id;
  return card;
}

async function load() {
  const list = document.getElementById("rooms");
  try {
    const response = await fetch("/api/rooms");
    if (!response.ok) throw new Error(String(response.status));
    const { rooms } = await response.json();
    list.replaceChildren(...(rooms.length ? rooms.map(roomCard) : [el("p", { className: "note", textContent: "还没有直播间 · No rooms yet" })]));
  } catch (error) {
    list.replaceChildren(el("p", { className: "note", textContent: `无法加载直播间 · Could not load the rooms (${error.message})` }));
  }
}

load();
