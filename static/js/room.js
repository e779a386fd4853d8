// The viewer's room: sign in, open the room socket, and render the room from RoomState.

import { createApi } from "./api.js";
import { formatClock, startCountdowns, syncClock } from "./clock.js";
import { $, h, icon } from "./dom.js";
import { applyStatic, currentLang, onLangChange, t, toggleLang } from "./i18n.js";
import { newId } from "./ids.js";
import { GroupCards } from "./group-cards.js";
import { GroupSheet } from "./group-sheet.js";
import { Likes } from "./hearts.js";
import { CouponPicker, MyCoupons } from "./coupons.js";
import { MyOrders } from "./my-orders.js";
import { OrderSheet } from "./order-sheet.js";
import { onAirCard, productCard } from "./products.js";
import { RoomState } from "./roomstate.js";
import { RoomSocket } from "./socket.js";
import { StreamPlayer } from "./player.js";
import { toast } from "./toast.js";

const params = new URLSearchParams(location.search);
const roomId = params.get("room");
const shareCode = params.get("share");
const state = new RoomState();
const session = { token: "", customerId: null };
// HQ's "watch" link: HQ's own token, read-only (the gateway gives an observer no voice), no
// viewer sign-in, no buying or chatting on the page.
const observing = params.get("observe") === "1" && Boolean(params.get("token"));
if (observing) session.token = params.get("token");
const api = createApi(() => session.token);
const CHAT_KEEP = 60;
let shownLikes = 0; // the like count last shown, to tell others' likes from ours

// ---- signing in -----------------------------------------------------------------------

/** The mini-program hands us ?code=; a plain browser gets an id of its own, kept. */
function loginCode() {
  if (params.get("code")) return params.get("code");
  let openid = localStorage.getItem("storecast.openid");
  if (!openid) {
    openid = `web-${newId()}`;
    localStorage.setItem("storecast.openid", openid);
  }
  return openid;
}

const tokenKey = () => `storecast.viewer.${roomId}`;

async function login() {
  const code = loginCode();
  try {
    const result = await api.post("/api/auth/viewer", {
      code,
      nickname: params.get("nick") || localStorage.getItem("storecast.nickname") || "",
      share_code: shareCode || null,
    });
    session.token = result.token;
    session.customerId = result.customer_id;
    localStorage.setItem(tokenKey(), JSON.stringify({ code, ...result }));
  } catch (err) {
    // Offline for a moment: the token from the last visit still opens the room.
    const kept = JSON.parse(localStorage.getItem(tokenKey()) || "null");
    if (kept?.code === code && kept.token) {
      session.token = kept.token;
      session.customerId = kept.customer_id;
    } else {
      toast(t("room.login_failed", { detail: err.message }), "error", 6000);
      throw err;
    }
  }
}

let wsBase = null;
async function socketUrl({ failures }) {
  // Attempts that never opened may mean an expired token: sign in again before retrying.
  if (!observing && (!session.token || failures >= 2)) await login();
  if (!wsBase) wsBase = (await api.get("/api/config")).ws_url;
  const url = `${wsBase}/ws/rooms/${roomId}?token=${encodeURIComponent(session.token)}`;
  return observing ? `${url}&observe=1` : url;
}

// ---- rendering ------------------------------------------------------------------------

function renderBroadcast() {
  const own = state.broadcast;
  const relaying = state.showing() === "relay";
  const b = state.presented(); // the hub's while this store room relays it
  const badge = $("#status");
  badge.className = `status-badge status-${relaying ? "relay" : own.status}`;
  badge.textContent = t(relaying ? "status.relaying" : `status.${own.status}`);
  $("#title").textContent = own.title;
  $("#subtitle").textContent = relaying
    ? t("room.relaying", { title: b.title })
    : own.status === "scheduled"
      ? t("room.starts_at", { time: formatClock(own.scheduled_start_ms) })
      : "";
  if (b.poster_url) $("#poster").src = b.poster_url;
  const source = (b.status === "ended" ? b.replay_url : b.play_url) || "";
  if (source !== player.url) $("#video-note").hidden = true;
  player.play(source);
}

function renderCounts() {
  $("#viewers").replaceChildren(icon("eye"), t("room.viewers", { n: state.viewers.toLocaleString() }));
  $("#likes").textContent = compact(state.likes + likes.pending + likes.sent);
}

/** Like counts grow fast: 12345 -> "1.2万" / "12.3k", so the dock never reflows. */
function compact(n) {
  if (n <= 0) return ""; // no "0" badge on the like button
  if (currentLang() === "en") return n >= 1000 ? `${(n / 1000).toFixed(n >= 100_000 ? 0 : 1)}k` : String(n);
  return n >= 10_000 ? `${(n / 10_000).toFixed(n >= 1_000_000 ? 0 : 1)}万` : String(n);
}

function renderWindow() {
  const items = state.visibleItems();
  const onAir = state.onAirItemId();
  $("#window-count").textContent = t("room.window_count", { n: items.length });
  const cards = items.map((item, index) =>
    productCard(item, state.buyableDeal(item), { onAir: item.item_id === onAir, index, onOpen, onBuy: onOpen }),
  );
  $("#cards").replaceChildren(
    ...(cards.length ? cards : [h("li", { class: "empty muted" }, t("room.window_empty"))]),
  );
  groupCards.decorate(items.map((item) => [item, state.dealOf(item)]));
  renderOnAir();
  sheet.refresh();
}

function renderOnAir() {
  const box = $("#onair");
  const item = state.item(state.onAirItemId());
  box.hidden = !item;
  box.replaceChildren(item ? onAirCard(item, state.buyableDeal(item), { onOpen, onBuy: onOpen }) : "");
}

function renderAll() {
  applyStatic();
  renderBroadcast();
  renderCounts();
  renderWindow();
}

function addChat(name, text, kind = "", i18nKey = null) {
  const list = $("#chat");
  const line = h("li", { class: `chat-line ${kind}` }, name ? h("b", {}, `${name} `) : null, text);
  if (i18nKey) line.dataset.i18n = i18nKey; // our own lines follow the language toggle
  list.append(line);
  while (list.children.length > CHAT_KEEP) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
  return line;
}

let tickerTimer = null;
function showTicker(f) {
  const el = $("#ticker");
  const key = f.store_name ? "room.just_bought" : "room.just_bought_nostore";
  el.replaceChildren(icon("bag"), t(key, { name: f.name, store: f.store_name, product: f.product_name }));
  el.hidden = false;
  el.classList.remove("ticker-in");
  void el.offsetWidth; // restart the slide-in for each purchase
  el.classList.add("ticker-in");
  clearTimeout(tickerTimer);
  tickerTimer = setTimeout(() => (el.hidden = true), 4500);
}

function showBanner(connection) {
  const banner = $("#banner");
  banner.hidden = connection === "open";
  banner.textContent = connection === "connecting" ? t("room.connecting") : t("room.reconnecting");
}

// ---- frames ---------------------------------------------------------------------------

function onFrame(f) {
  switch (f.type) {
    case "snapshot":
      state.applySnapshot(f);
      shownLikes = state.likes;
      syncClock(f.server_time_ms);
      renderAll();
      fetchMissingDeals();
      return;
    case "chat":
      addChat(f.name, f.text).dataset.line = `${f.stream}:${f.offset}`;
      return;
    case "chat.hidden": // the host hid this line
      $("#chat").querySelector(`[data-line="${f.stream}:${f.line_offset}"]`)?.remove();
      return;
    case "ticker":
      showTicker(f);
      return;
    case "error":
      toast(t(`error.${f.code}`) === `error.${f.code}` ? f.message : t(`error.${f.code}`), "error");
      return;
    case "pong":
      syncClock(f.server_time_ms, f.round_trip_ms);
      return;
    case "order.accepted":
    case "order.rejected":
      sheet.answer(f);
      return;
    case "group.placed":
    case "group.rejected":
      groups.answer(f);
      return;
  }
  const changed = state.apply(f);
  if (changed === "counts") {
    // Other viewers' likes float up too (ours already did when tapped), a few per update.
    const others = state.likes - shownLikes - likes.takeSent();
    shownLikes = state.likes;
    renderCounts();
    for (let i = 0; i < Math.min(3, others); i++) likes.float();
  } else if (changed === "broadcast") renderBroadcast();
  else if (changed === "window") {
    renderWindow();
    fetchMissingDeals();
  } else if (changed) renderWindow();
}

async function fetchMissingDeals() {
  if (await state.loadMissingDeals((path) => api.get(path))) renderWindow();
}

// ---- wiring ---------------------------------------------------------------------------

const socket = new RoomSocket({ url: socketUrl, onFrame, onState: showBanner });
// A stream that cannot play leaves the poster, and says so.
const player = new StreamPlayer({
  video: $("#video"),
  onFail: () => ($("#video-note").hidden = false),
  onPlaying: () => ($("#video-note").hidden = true),
});
const likes = new Likes({ layer: $("#hearts"), send: (frame) => socket.send(frame) });
const backdrop = $("#sheet-backdrop");
const sheet = new OrderSheet({
  el: $("#order-sheet"),
  backdrop,
  state,
  socket,
  onOpenItem: (item) => socket.send({ type: "tap", item_id: item.item_id }),
  coupons: new CouponPicker({ api, onChange: () => sheet.isOpen && !sheet.accepted && sheet.render() }),
});
const myCoupons = new MyCoupons({ el: $("#coupons-sheet"), backdrop, api });
const orders = new MyOrders({ el: $("#orders-sheet"), backdrop, api, state });
const groups = new GroupSheet({ el: $("#group-sheet"), backdrop, api, socket, roomId, shareCode });
const groupCards = new GroupCards({ api, root: $("#cards") });

function onOpen(item) {
  const deal = state.dealOf(item);
  if (deal?.kind === "group_buy") groups.open(item, deal);
  else sheet.open(item);
}

$("#like").append(icon("heart"));
$("#like").addEventListener("click", () => {
  likes.tap();
  renderCounts();
});
$("#orders-open .dock-orders-icon").append(icon("bag"));
$("#orders-open").addEventListener("click", () => orders.open());
$("#coupons-open").addEventListener("click", () => myCoupons.open());
$("#lang").addEventListener("click", toggleLang);
$("#chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("#chat-input");
  const text = input.value.trim();
  if (!text) return;
  if (socket.send({ type: "chat.send", text: text.slice(0, 200) })) input.value = "";
  else toast(t("room.reconnecting"), "error");
});
addEventListener("keydown", (e) => {
  if (e.key === "Escape") {
    sheet.close();
    orders.close();
    groups.close();
    myCoupons.close();
  }
});
onLangChange(() => {
  if (state.ready) renderAll();
  if (sheet.isOpen) sheet.render();
  if (orders.isOpen) orders.render();
  if (groups.isOpen) groups.render();
  if (myCoupons.isOpen) myCoupons.render();
});

applyStatic();
document.body.classList.toggle("observing", observing);
startCountdowns(document, () => state.ready && renderWindow());
if (!roomId) {
  showBanner("connecting");
  $("#banner").textContent = "?room=";
} else {
  addChat("", t("room.welcome"), "system", "room.welcome");
  showBanner("connecting");
  socket.start();
}
