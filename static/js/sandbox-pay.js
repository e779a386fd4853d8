// The sandbox pay page (demo only): shows the order behind the pay link and pays it, asking
// the API as the signed-in viewer. The viewer's token is the one the room page keeps; a
// browser keeps one openid, so every room's token names the same customer.

const main = document.getElementById("pay");
const orderId = decodeURIComponent(location.pathname.split("/").pop());
const payToken = new URLSearchParams(location.search).get("pay_token") || "";
const path = `/api/pay/sandbox/${encodeURIComponent(orderId)}?pay_token=${encodeURIComponent(payToken)}`;

function viewerTokens() {
  const tokens = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key || !key.startsWith("storecast.viewer.")) continue;
    try {
      const kept = JSON.parse(localStorage.getItem(key) || "null");
      if (kept && kept.token && !tokens.includes(kept.token)) tokens.push(kept.token);
    } catch {
      // not ours to read
    }
  }
  return tokens;
}

async function ask(method) {
  let last = null;
  for (const token of viewerTokens()) {
    const response = await fetch(path, {
      method,
      headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
      cache: "no-store",
    });
    last = response;
    if (response.status !== 401 && response.status !== 404) return response;
  }
  return last;
}

function show(html) {
  main.innerHTML = html;
}

function text(value) {
  const span = document.createElement("span");
  span.textContent = String(value);
  return span.innerHTML;
}

async function load() {
  const response = await ask("GET");
  if (!response) return show("<p>请先在直播间登录 Sign in from the live room first.</p>");
  if (response.status === 409) {
    return show("<p>订单处理中，请稍候刷新 The order is being recorded; refresh in a moment.</p>");
  }
  const body = await response.json();
  if (!response.ok) return show(`<p>无法支付 Cannot pay: ${text(body.detail || response.status)}</p>`);
  show(
    `<p>订单 Order <code>${text(body.order_id)}</code></p>` +
      `<p>应付 Amount due: ¥${(body.amount_fen / 100).toFixed(2)}</p>` +
      `<p>状态 Status: <span id="status">${text(body.status)}</span></p>` +
      `<button type="button" id="confirm">确认支付 Pay</button>`,
  );
  document.getElementById("confirm").addEventListener("click", pay, { once: true });
}

/** Outcomes after which the provider would simply notify again: nothing was charged. */
const RETRY_OUTCOMES = new Set(["not_ready", "unknown_order"]);

async function pay() {
  const response = await ask("POST");
  const body = response ? await response.json() : {};
  const outcome = String(body.outcome || "");
  if (RETRY_OUTCOMES.has(outcome)) {
    // Nothing was charged: the order is not ready to take a payment yet (just placed, or
    // its deal is being restored); the same button tries again.
    show(
      `<p id="result" data-outcome="${text(outcome)}">处理中，请稍后再试 Not yet: try again in a moment.</p>` +
        `<button type="button" id="confirm">再试一次 Try again</button>`,
    );
    document.getElementById("confirm").addEventListener("click", pay, { once: true });
    return;
  }
  const words = body.paid
    ? "支付成功 Paid"
    : outcome.startsWith("refunded")
      ? `未支付 Not paid (${text(outcome)}); the money goes back.`
      : `未支付 Not paid (${text(outcome || body.detail || "?")}).`;
  show(`<p id="result" data-outcome="${text(outcome)}">${words}</p>`);
}

load();
