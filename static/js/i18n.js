// Every string both pages show, in one place, so a translation is never half done.
// Chinese is the default: the viewers are in mainland China; ?lang=en or the toggle
// switches, and the choice is remembered across rooms.

const STRINGS = {
  zh: {
    "lang.toggle": "EN",
    "status.scheduled": "未开播",
    "status.live": "直播中",
    "status.ended": "已结束",
    "status.relaying": "总部直播转播中",
    "room.video_failed": "视频暂时无法播放，请稍后再试",
    "room.relaying": "正在转播：{title}",
    "host.viewers_see_relay": "观众正在看：总部直播（转播），本店开播后切换为本店画面",
    "host.viewers_see_own": "观众正在看：本店直播间",
    "room.starts_at": "开播时间 {time}",
    "room.viewers": "{n} 人在看",
    "room.likes": "{n} 赞",
    "room.window": "直播橱窗",
    "room.window_count": "共 {n} 件",
    "room.window_empty": "橱窗里还没有商品",
    "room.on_air": "讲解中",
    "room.chat_placeholder": "说点什么…",
    "room.send": "发送",
    "room.like": "点赞",
    "room.reconnecting": "重新连接中…",
    "room.connecting": "正在进入直播间…",
    "room.login_failed": "登录失败：{detail}",
    "room.welcome": "欢迎来到直播间，文明聊天哦～",
    "room.just_bought": "{name}（{store}）刚刚买了 {product}",
    "room.just_bought_nostore": "{name} 刚刚买了 {product}",
    "room.my_orders": "我的订单",
    "room.close": "关闭",
    "deal.flash_sale": "秒杀",
    "deal.group_buy": "拼团",
    "deal.coupon_pack": "券包",
    "deal.on_behalf": "代下单",
    "deal.regular": "直播价",
    "deal.starts_in": "{t} 后开抢",
    "deal.ends_in": "距结束 {t}",
    "deal.stock_left": "仅剩 {n} 件",
    "deal.sold_out": "已抢光",
    "deal.not_started": "即将开抢",
    "deal.over": "已结束",
    "deal.limit": "每人限购 {n} 件",
    "buy": "抢购",
    "order.title": "确认订单",
    "order.quantity": "数量",
    "order.unit": "单价",
    "order.total": "合计",
    "order.breakdown": "{unit} × {qty} = {total}",
    "order.confirm": "确认下单",
    "order.placing": "下单中…",
    "order.accepted": "抢到了！",
    "order.amount_due": "应付 {amount}",
    "order.pay_within": "请在 {t} 内完成支付",
    "order.pay_expired": "支付时间已过",
    "order.pay": "去支付",
    "order.not_live": "活动未开始或已结束",
    "order.offline": "网络已断开，重新连接后再试",
    "order.timeout": "网络超时，请重试",
    "reject.sold_out": "已抢光",
    "reject.limit_reached": "已达限购",
    "reject.deal_not_live": "活动未开始或已结束",
    "reject.rate_limited": "操作太频繁",
    "reject.other": "下单失败：{detail}",
    "orders.title": "我的订单",
    "orders.empty": "还没有订单",
    "orders.loading": "加载中…",
    "orders.qty": "× {n}",
    "orders.product": "商品 #{id}",
    "orders.pay": "去支付",
    "orders.refunded_units": "已退 {n} 件",
    "ostatus.pending_payment": "待支付",
    "ostatus.paid": "已支付",
    "ostatus.expired": "已过期",
    "ostatus.refunded": "已退款",
    "ostatus.partially_refunded": "部分退款",
    "ostatus.cancelled": "已取消",
    "error.rate_limited": "操作太频繁",
    "error.muted": "你已被主播禁言",
    "error.bad_chat": "消息需要 1-200 个字",
    "error.forbidden": "没有权限",
    "error.orders_unavailable": "暂时无法下单",
    "error.network": "网络错误，请稍后再试",
    "host.title": "主播控制台",
    "host.broadcast": "直播",
    "host.go_live": "开播",
    "host.end": "结束直播",
    "host.confirm_end": "确定结束直播吗？",
    "host.scheduled": "计划开播 {time}",
    "host.started": "开播于 {time}",
    "host.ended": "结束于 {time}",
    "host.viewers": "在看",
    "host.likes": "点赞",
    "host.window": "商品橱窗",
    "host.drag_hint": "拖动排序",
    "host.hub_item": "总部",
    "host.store_item": "本店",
    "host.put_on_air": "讲解",
    "host.on_air": "讲解中",
    "host.take_off_air": "下架讲解",
    "host.hub_on_air": "总部讲解中",
    "host.hide": "隐藏",
    "host.show": "恢复显示",
    "host.hidden": "已隐藏",
    "host.no_deal": "未设活动",
    "host.launch": "开抢",
    "host.stop": "停止",
    "host.deal_status.draft": "未开始",
    "host.deal_status.live": "进行中",
    "host.deal_status.stopped": "已停止",
    "host.deal_status.ended": "已结束",
    "host.deal_line": "{price} · 剩 {left} 件",
    "host.add_item": "添加本店商品",
    "host.product_id": "商品 ID",
    "host.price_yuan": "直播价（元）",
    "host.add": "添加",
    "host.added": "已添加",
    "host.chat": "评论",
    "host.chat_empty": "还没有评论",
    "host.mute": "禁言",
    "host.muted": "已禁言 {name}",
    "host.muted_tag": "已禁言",
    "host.unmute": "解除禁言",
    "host.unmuted": "已解除 {name} 的禁言",
    "host.orders": "实时订单",
    "host.orders_empty": "还没有订单",
    "host.orders_count": "订单",
    "host.orders_paid": "已支付",
    "host.orders_gmv": "成交额",
    "host.orders_units": "件数",
    "host.saved": "已保存",
    "host.need_token": "链接缺少 room 或 token 参数",
    "time.hms": "{h}:{m}:{s}",
  },
  en: {
    "lang.toggle": "中文",
    "status.scheduled": "Upcoming",
    "status.live": "LIVE",
    "status.ended": "Ended",
    "status.relaying": "Relaying HQ live",
    "room.video_failed": "The video cannot play right now",
    "room.relaying": "Relaying: {title}",
    "host.viewers_see_relay": "Your viewers see: HQ's live (relayed) until you go live",
    "host.viewers_see_own": "Your viewers see: this store's broadcast",
    "room.starts_at": "Starts {time}",
    "room.viewers": "{n} watching",
    "room.likes": "{n} likes",
    "room.window": "Shop the live",
    "room.window_count": "{n} items",
    "room.window_empty": "Nothing in the window yet",
    "room.on_air": "On air",
    "room.chat_placeholder": "Say something…",
    "room.send": "Send",
    "room.like": "Like",
    "room.reconnecting": "Reconnecting…",
    "room.connecting": "Joining the room…",
    "room.login_failed": "Sign-in failed: {detail}",
    "room.welcome": "Welcome! Please keep the chat friendly.",
    "room.just_bought": "{name} ({store}) just bought {product}",
    "room.just_bought_nostore": "{name} just bought {product}",
    "room.my_orders": "My orders",
    "room.close": "Close",
    "deal.flash_sale": "Flash sale",
    "deal.group_buy": "Group buy",
    "deal.coupon_pack": "Coupons",
    "deal.on_behalf": "Assisted",
    "deal.regular": "Live price",
    "deal.starts_in": "starts in {t}",
    "deal.ends_in": "ends in {t}",
    "deal.stock_left": "only {n} left",
    "deal.sold_out": "Sold out",
    "deal.not_started": "Coming up",
    "deal.over": "Ended",
    "deal.limit": "limit {n} per person",
    "buy": "Buy",
    "order.title": "Confirm order",
    "order.quantity": "Quantity",
    "order.unit": "Unit price",
    "order.total": "Total",
    "order.breakdown": "{unit} × {qty} = {total}",
    "order.confirm": "Place order",
    "order.placing": "Placing…",
    "order.accepted": "You got it!",
    "order.amount_due": "Amount due {amount}",
    "order.pay_within": "Pay within {t}",
    "order.pay_expired": "The payment window has passed",
    "order.pay": "Pay",
    "order.not_live": "The deal has not started or is over",
    "order.offline": "Offline; try again once reconnected",
    "order.timeout": "No answer; please retry",
    "reject.sold_out": "Sold out",
    "reject.limit_reached": "Purchase limit reached",
    "reject.deal_not_live": "The deal has not started or is over",
    "reject.rate_limited": "Too fast, slow down",
    "reject.other": "Order failed: {detail}",
    "orders.title": "My orders",
    "orders.empty": "No orders yet",
    "orders.loading": "Loading…",
    "orders.qty": "× {n}",
    "orders.product": "Product #{id}",
    "orders.pay": "Pay",
    "orders.refunded_units": "{n} refunded",
    "ostatus.pending_payment": "Awaiting payment",
    "ostatus.paid": "Paid",
    "ostatus.expired": "Expired",
    "ostatus.refunded": "Refunded",
    "ostatus.partially_refunded": "Partly refunded",
    "ostatus.cancelled": "Cancelled",
    "error.rate_limited": "Too fast, slow down",
    "error.muted": "The host has muted you",
    "error.bad_chat": "Messages are 1-200 characters",
    "error.forbidden": "Not allowed",
    "error.orders_unavailable": "Ordering is not open",
    "error.network": "Network error, try again later",
    "host.title": "Host console",
    "host.broadcast": "Broadcast",
    "host.go_live": "Go live",
    "host.end": "End",
    "host.confirm_end": "End the broadcast?",
    "host.scheduled": "Scheduled {time}",
    "host.started": "Live since {time}",
    "host.ended": "Ended {time}",
    "host.viewers": "Watching",
    "host.likes": "Likes",
    "host.window": "Product window",
    "host.drag_hint": "drag to reorder",
    "host.hub_item": "HQ",
    "host.store_item": "Store",
    "host.put_on_air": "Feature",
    "host.on_air": "On air",
    "host.take_off_air": "Take off air",
    "host.hub_on_air": "On air (HQ)",
    "host.hide": "Hide",
    "host.show": "Show",
    "host.hidden": "Hidden",
    "host.no_deal": "No deal",
    "host.launch": "Launch",
    "host.stop": "Stop",
    "host.deal_status.draft": "Draft",
    "host.deal_status.live": "Live",
    "host.deal_status.stopped": "Stopped",
    "host.deal_status.ended": "Ended",
    "host.deal_line": "{price} · {left} left",
    "host.add_item": "Add a store item",
    "host.product_id": "Product ID",
    "host.price_yuan": "Live price (yuan)",
    "host.add": "Add",
    "host.added": "Added",
    "host.chat": "Chat",
    "host.chat_empty": "No messages yet",
    "host.mute": "Mute",
    "host.muted": "Muted {name}",
    "host.muted_tag": "Muted",
    "host.unmute": "Unmute",
    "host.unmuted": "Unmuted {name}",
    "host.orders": "Orders, live",
    "host.orders_empty": "No orders yet",
    "host.orders_count": "Orders",
    "host.orders_paid": "Paid",
    "host.orders_gmv": "Paid sales",
    "host.orders_units": "Units",
    "host.saved": "Saved",
    "host.need_token": "The link needs room and token parameters",
    "time.hms": "{h}:{m}:{s}",
  },
};

const LANG_KEY = "storecast.lang";

function initialLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "en" || asked === "zh") return asked;
  return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
}

let lang = initialLang();
const listeners = new Set();

export function currentLang() {
  return lang;
}

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Product names come in both languages from the server; pick the one matching the page. */
export function productName(item) {
  return (lang === "en" && item.name_en) || item.name || "";
}

export function setLang(next) {
  lang = next === "en" ? "en" : "zh";
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  applyStatic();
  for (const listener of listeners) listener(lang);
}

export function onLangChange(listener) {
  listeners.add(listener);
}

/** Fill the fixed text of the HTML (data-i18n, data-i18n-placeholder) in the current language. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute("aria-label", el.title);
  }
}

/** A page's own strings, added beside the shared ones (the HQ dashboard keeps its many in
 * hq-strings.js so that file reads as the dashboard's vocabulary). */
export function addStrings(more) {
  for (const code of ["zh", "en"]) Object.assign(STRINGS[code], more[code]);
}

export function toggleLang() {
  setLang(lang === "en" ? "zh" : "en");
}
