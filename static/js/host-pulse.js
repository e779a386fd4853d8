// The chain's pulse on a store host's console: while the hub broadcast this store relays is
// live, what sells across the chain's rooms in the last 15 minutes (top items by units and by
// rooms selling them) and this room against the chain's median. Refreshed every 15 s; the
// panel stays hidden when no hub is live (or for HQ, who sees it per store on its dashboard).
import { createApi } from "./api.js";
import { $, h } from "./dom.js";
import { currentLang, onLangChange } from "./i18n.js";
import { yuan } from "./money.js";

const REFRESH_MS = 15_000;
const WORDS = {
  zh: {
    title: "全链路脉搏 · 近 {m} 分钟",
    by_units: "按件数",
    by_rooms: "按在售直播间数",
    units: "{n} 件",
    rooms: "{n} 间",
    mine: "本店 {amount}，全链路中位数 {median}",
    above: "高于中位数",
    below: "低于中位数",
    rank: "第 {rank} / {of} 名",
    quiet: "近 15 分钟全链路暂无成交",
  },
  en: {
    title: "Chain pulse · last {m} min",
    by_units: "By units",
    by_rooms: "By rooms selling",
    units: "{n} pcs",
    rooms: "{n} rooms",
    mine: "This store {amount}, chain median {median}",
    above: "above the median",
    below: "below the median",
    rank: "#{rank} of {of}",
    quiet: "No sales across the chain in the last 15 minutes",
  },
};
const params = new URLSearchParams(location.search);
const roomId = params.get("room");
const token = params.get("token");
const api = createApi(() => token);
let last = null; // { pulse, ownBroadcastId }

function say(key, vars = {}) {
  const text = (WORDS[currentLang()] ?? WORDS.zh)[key];
  return text.replace(/\{(\w+)\}/g, (_, name) => vars[name]);
}

const itemName = (item) => (currentLang() === "en" && item.name_en ? item.name_en : item.name);

function render() {
  const panel = $("#pulse");
  if (!last) return (panel.hidden = true);
  const { pulse, ownBroadcastId } = last;
  panel.hidden = false;
  const list = (items, figure) =>
    items.length
      ? h("ol", { class: "pulse-list" }, ...items.map((i) => h("li", {}, h("span", {}, itemName(i)), h("b", {}, figure(i)))))
      : h("p", { class: "muted" }, say("quiet"));
  const mine = pulse.rooms.find((r) => r.broadcast_id === ownBroadcastId);
  const rank = pulse.rooms.findIndex((r) => r.broadcast_id === ownBroadcastId) + 1;
  panel.replaceChildren(
    h("header", { class: "panel-head" }, h("h2", {}, say("title", { m: pulse.window_minutes }))),
    mine
      ? h(
          "p",
          { class: `pulse-mine ${mine.amount_fen >= pulse.median_fen ? "above" : "below"}`, "data-testid": "pulse-mine" },
          say("mine", { amount: yuan(mine.amount_fen), median: yuan(pulse.median_fen) }),
          " · ",
          say(mine.amount_fen >= pulse.median_fen ? "above" : "below"),
          " · ",
          say("rank", { rank, of: pulse.rooms.length }),
        )
      : null,
    h("h3", {}, say("by_units")),
    list(pulse.by_units, (i) => say("units", { n: i.units })),
    h("h3", {}, say("by_rooms")),
    list(pulse.by_rooms, (i) => say("rooms", { n: i.rooms })),
  );
}

async function refresh() {
  try {
    const room = await api.get(`/api/rooms/${roomId}`);
    const hub = room.hub_broadcast;
    if (room.broadcast.kind !== "store" || !hub || hub.status !== "live") {
      last = null;
    } else {
      last = { pulse: await api.get(`/api/hq/live/pulse/${hub.id}`), ownBroadcastId: room.broadcast.id };
    }
  } catch {
    last = null; // the console's own socket says when the server is away
  }
  render();
}

if (roomId && token && $("#pulse")) {
  onLangChange(render);
  refresh();
  setInterval(refresh, REFRESH_MS);
}
