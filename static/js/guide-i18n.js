// The workbench's strings in both languages. The language choice is the one the other pages
// keep (localStorage "storecast.lang", ?lang=), so a guide who reads English reads it here too.

const STRINGS = {
  zh: {
    "lang.toggle": "EN",
    "wb.title": "导购工作台",
    "wb.queue": "待跟进",
    "wb.share": "我的分享码",
    "wb.execution_rate": "执行率",
    "wb.empty": "都跟进完了，辛苦了！",
    "wb.no_token": "请从店长或总部发来的链接打开工作台（缺少 ?token=）",
    "wb.pool": "门店公海",
    "wb.did": "看播 {min} 分钟 · 点商品 {taps} 次 · 评论 {chats} · 点赞 {likes}",
    "wb.ordered": "下单未付：{items}",
    "wb.bought": "已购：{items}",
    "wb.script": "话术（点击复制）",
    "wb.copy_script": "复制话术",
    "wb.copied": "已复制，去微信粘贴发送吧",
    "wb.copy_failed": "复制失败，请长按文字手动复制",
    "wb.outcome": "跟进结果",
    "wb.skip": "跳过",
    "wb.skip_reason": "跳过原因（可选）",
    "wb.done": "已记录",
    "wb.skipped": "已跳过",
    "wb.past": "历史消费",
    "wb.no_past": "暂无消费记录",
    "wb.refunded": "已退款",
    "wb.close": "关闭",
    "wb.share_hint": "顾客扫码或点链接进入直播间，即绑定为你的顾客",
    "wb.copy_link": "复制链接",
    "wb.new_tasks": "来了 {n} 个新任务",
    "wb.items": "看了 / 点了哪些商品",
    "wb.item_taps": "点了 {n} 次",
    "wb.item_on_air": "在看时讲解了 {min} 分钟",
    "wb.item_off_air": "在看时未在讲解",
    "wb.sales": "我的业绩",
    "wb.sales_total": "近 30 天业绩",
    "wb.no_sales": "近 30 天还没有记到你名下的成交",
    "wb.figures": "我的指标",
    "wb.conversion_rate": "触达转化率",
    "wb.add_fan_rate": "加粉率",
    "wb.repurchase_rate": "复购率",
    "kind.watched": "看播未买",
    "kind.ordered_unpaid": "下单未付",
    "kind.care": "售后关怀",
    "kind.retouch": "二次触达",
    "kind.recall": "唤醒邀约",
    "outcome.reached": "已联系上",
    "outcome.no_answer": "未接通",
    "outcome.not_interested": "不感兴趣",
    "outcome.booked_visit": "预约到店",
    "f.watch": "分钟",
    "f.taps": "点商品",
    "f.chats": "评论",
    "f.likes": "点赞",
  },
  en: {
    "lang.toggle": "中文",
    "wb.title": "Guide workbench",
    "wb.queue": "To follow up",
    "wb.share": "My share code",
    "wb.execution_rate": "Done rate",
    "wb.empty": "All followed up. Well done!",
    "wb.no_token": "Open the workbench from the link your manager sent (no ?token=)",
    "wb.pool": "Store pool",
    "wb.did": "Watched {min} min · {taps} taps · {chats} chats · {likes} likes",
    "wb.ordered": "Ordered, not paid: {items}",
    "wb.bought": "Bought: {items}",
    "wb.script": "Script (tap to copy)",
    "wb.copy_script": "Copy script",
    "wb.copied": "Copied: paste it in WeChat",
    "wb.copy_failed": "Copy failed: press and hold the text to copy it",
    "wb.outcome": "Outcome",
    "wb.skip": "Skip",
    "wb.skip_reason": "Why skip (optional)",
    "wb.done": "Recorded",
    "wb.skipped": "Skipped",
    "wb.past": "Past purchases",
    "wb.no_past": "No purchases yet",
    "wb.refunded": "refunded",
    "wb.close": "Close",
    "wb.share_hint": "A customer who scans or opens the link enters the room bound to you",
    "wb.copy_link": "Copy link",
    "wb.new_tasks": "{n} new tasks",
    "wb.items": "What they looked at and tapped",
    "wb.item_taps": "tapped {n}×",
    "wb.item_on_air": "on air {min} min while watching",
    "wb.item_off_air": "not on air while watching",
    "wb.sales": "My sales",
    "wb.sales_total": "Last 30 days",
    "wb.no_sales": "No sales credited to you in the last 30 days",
    "wb.figures": "My figures",
    "wb.conversion_rate": "Touch-to-pay",
    "wb.add_fan_rate": "Add-fan rate",
    "wb.repurchase_rate": "Repurchase rate",
    "kind.watched": "Watched",
    "kind.ordered_unpaid": "Unpaid order",
    "kind.care": "Care",
    "kind.retouch": "Re-touch",
    "kind.recall": "Recall",
    "outcome.reached": "Reached",
    "outcome.no_answer": "No answer",
    "outcome.not_interested": "Not interested",
    "outcome.booked_visit": "Booked a visit",
    "f.watch": "min",
    "f.taps": "taps",
    "f.chats": "chats",
    "f.likes": "likes",
  },
};

const LANG_KEY = "storecast.lang";
const asked = new URLSearchParams(location.search).get("lang");
let lang = asked === "en" || asked === "zh" ? asked : localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
const listeners = new Set();

export const currentLang = () => lang;

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

export function applyStatic(root = document) {
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

export function toggleLang() {
  lang = lang === "en" ? "zh" : "en";
  localStorage.setItem(LANG_KEY, lang);
  applyStatic();
  for (const listener of listeners) listener(lang);
}

export const onLangChange = (listener) => listeners.add(listener);
