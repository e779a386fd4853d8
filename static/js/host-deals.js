// Deals from the console: the form that plans a deal for a window item (HQ: any kind on the
// hub; a store host: their store's items within HQ's floor and stock share, which the server
// checks and names when refused), and the live panel of group-buy progress and pack sales.
//
// A new deal is planned (POST /api/deals) then linked to its window item (PATCH the item),
// so the room shows it on the item's card; launching stays the row's own button.

import { countdown, startCountdowns } from "./clock.js";
import { h } from "./dom.js";
import { addStrings, productName, t } from "./i18n.js";
import { fenFromYuanText, yuan } from "./money.js";
import { HOST_DEAL_STRINGS } from "./host-deals-strings.js";
import { toast } from "./toast.js";

addStrings(HOST_DEAL_STRINGS);

const HQ_KINDS = ["flash_sale", "regular", "group_buy", "coupon_pack"];
const STORE_KINDS = ["flash_sale", "regular", "group_buy"];
const DEMO_PACK = "11100/0x1,30000/100000x2,40000/130000x1"; // the 1.1-yuan pack's coupons
const REFRESH_MS = 2000; // the progress panel asks at most this often, however many frames land

function field(labelKey, input, cls = "") {
  return h("label", { class: `deal-field ${cls}` }, h("span", {}, t(labelKey)), input);
}

function msFromLocal(value) {
  return value ? new Date(value).getTime() : null; // datetime-local is the host's own zone
}

/** Opens the deal form for one window item; resolves once the deal is planned and linked. */
export async function openDealForm({ item, role, broadcastId, api }) {
  let floor = 0;
  if (role === "host") {
    try {
      const limits = await api.get("/api/deal-limits");
      floor = Math.max(limits.floor_fen, Math.ceil((item.list_price_fen * limits.floor_pct) / 100));
    } catch {
      floor = 0; // the server checks it anyway
    }
  }
  const kinds = role === "hq" ? HQ_KINDS : STORE_KINDS;
  const input = (name, attrs = {}) => h("input", { name, "data-testid": `deal-${name}`, ...attrs });
  const kind = h("select", { name: "kind", "data-testid": "deal-kind" }, ...kinds.map((k) => h("option", { value: k }, t(`deal.${k}`))));
  const policy = h(
    "select",
    { name: "stock_policy" },
    h("option", { value: "hold" }, t("dealform.policy.hold")),
    h("option", { value: "first_paid" }, t("dealform.policy.first_paid")),
  );
  const priceLabel = h("span", {}, t("dealform.price"));
  const price = input("price", { required: true, inputmode: "decimal", value: String(Math.max(item.price_fen, floor) / 100) });
  const group = h(
    "div",
    { class: "deal-kind-fields", hidden: true },
    field("dealform.group_size", input("group_size", { type: "number", min: 2, max: 50, value: 3 })),
    field("dealform.group_minutes", input("group_minutes", { type: "number", min: 1, value: 15 })),
  );
  const pack = h(
    "div",
    { class: "deal-kind-fields", hidden: true },
    field("dealform.coupons", input("coupons", { value: DEMO_PACK })),
    field("dealform.valid_days", input("valid_days", { type: "number", min: 1, value: 30 })),
    h("label", { class: "deal-check" }, input("stackable", { type: "checkbox", checked: true }), t("dealform.stackable")),
  );
  const onKind = () => {
    group.hidden = kind.value !== "group_buy";
    pack.hidden = kind.value !== "coupon_pack";
    priceLabel.textContent = t(kind.value === "group_buy" ? "dealform.group_price" : kind.value === "coupon_pack" ? "dealform.pack_price" : "dealform.price");
  };
  kind.addEventListener("change", onKind);
  const form = h(
    "form",
    { class: "deal-form", method: "dialog", "data-testid": "deal-form" },
    h("h2", {}, t("dealform.title", { name: productName(item) })),
    field("dealform.kind", kind),
    h("label", { class: "deal-field" }, priceLabel, price),
    floor ? h("p", { class: "deal-floor muted", "data-testid": "deal-floor" }, t("dealform.floor", { floor: yuan(floor) })) : null,
    field("dealform.stock", input("stock", { type: "number", min: 1, required: true, value: 10 })),
    field("dealform.limit", input("per_customer_limit", { type: "number", min: 0, value: 2 })),
    field("dealform.starts", input("starts", { type: "datetime-local" })),
    field("dealform.ends", input("ends", { type: "datetime-local" })),
    field("dealform.policy", policy),
    group,
    pack,
    h(
      "div",
      { class: "deal-form-actions" },
      h("button", { type: "button", class: "small-btn ghost", value: "cancel", onclick: () => dialog.close() }, t("dealform.cancel")),
      h("button", { type: "submit", class: "small-btn", "data-testid": "deal-create" }, t("dealform.create")),
    ),
  );
  const dialog = h("dialog", { class: "deal-dialog" }, form);
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(null));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = termsOf(form, item, broadcastId);
      if (!body) return toast(t("picker.pick_first"), "error");
      try {
        // Planned and linked to the item in one call: never a deal holding stock unshown.
        const linked = await api.post(`/api/broadcasts/${broadcastId}/window/${item.item_id}/deal`, body);
        toast(t("dealform.created"), "ok");
        resolve(linked);
        dialog.close();
      } catch (err) {
        toast(err.message, "error", 8000); // the server names the limit passed
      }
    });
    dialog.showModal();
  });
}

function termsOf(form, item, broadcastId) {
  const priceFen = fenFromYuanText(form.price.value);
  if (priceFen === null) return null;
  const kind = form.kind.value;
  const params = {};
  if (kind === "group_buy") {
    params.group_size = Number(form.group_size.value);
    params.group_minutes = Number(form.group_minutes.value);
  } else if (kind === "coupon_pack") {
    params.coupons = form.coupons.value.trim();
    params.valid_days = Number(form.valid_days.value);
    params.stackable = form.stackable.checked;
  }
  const body = {
    kind,
    product_id: item.product_id,
    broadcast_id: broadcastId,
    price_fen: priceFen,
    stock: Number(form.stock.value),
    per_customer_limit: Number(form.per_customer_limit.value || 0),
    stock_policy: form.stock_policy.value,
    params,
  };
  const starts = msFromLocal(form.starts.value);
  const ends = msFromLocal(form.ends.value);
  if (starts) body.starts_at_ms = starts;
  if (ends) body.ends_at_ms = ends;
  return body;
}

/** The host console's panel of group-buys (open groups: "2 of 3, 14:52 left") and coupon
 * packs (packs sold, coupons issued and used), refreshed as the room's frames land. */
export class DealProgress {
  constructor({ root, api, state }) {
    Object.assign(this, { root, api, state });
    this.lines = new Map(); // deal id -> the last answer
    this.pending = null;
    this.last = 0;
    startCountdowns(root, () => this.refresh());
    setInterval(() => this.refresh(), 10_000);
  }

  deals() {
    const out = [];
    for (const item of this.state.allItems?.() ?? []) {
      const deal = this.state.dealOf(item);
      if (deal && (deal.kind === "group_buy" || deal.kind === "coupon_pack")) out.push({ item, deal });
    }
    return out;
  }

  /** Throttled: frames may come many a second while orders land. */
  refresh() {
    if (this.pending) return;
    const wait = Math.max(0, this.last + REFRESH_MS - Date.now());
    this.pending = setTimeout(() => this.load().finally(() => (this.pending = null)), wait);
  }

  async load() {
    this.last = Date.now();
    if (!this.state.ready) return;
    await Promise.all(
      this.deals().map(async ({ deal }) => {
        const path = deal.kind === "group_buy" ? `/api/group-buys/deals/${deal.deal_id}` : `/api/deals/${deal.deal_id}/sales`;
        try {
          this.lines.set(deal.deal_id, await this.api.get(path));
        } catch {
          // keep the last answer: the next frame asks again
        }
      }),
    );
    this.render();
  }

  render() {
    const shown = this.deals();
    const head = h("header", { class: "panel-head" }, h("h2", {}, t("progress.title")), h("span", { class: "live-dot" }));
    if (!shown.length) {
      this.root.replaceChildren(head, h("p", { class: "muted" }, t("progress.empty")));
      return;
    }
    this.root.replaceChildren(head, h("ol", { class: "deal-progress" }, ...shown.map(({ item, deal }) => this.row(item, deal))));
  }

  row(item, deal) {
    const data = this.lines.get(deal.deal_id);
    const title = h("div", { class: "progress-title" }, h("span", { class: "deal-badge" }, t(`deal.${deal.kind}`)), h("b", {}, productName(item)));
    if (!data) return h("li", { dataset: { dealId: deal.deal_id } }, title);
    if (deal.kind === "coupon_pack") {
      return h(
        "li",
        { dataset: { dealId: deal.deal_id }, "data-testid": "pack-progress" },
        title,
        h("div", {}, t("progress.pack_line", { n: data.paid_units, amount: yuan(data.paid_fen), pending: data.pending_orders })),
        h("small", { class: "muted" }, t("progress.coupons", { issued: data.coupons_issued, used: data.coupons_used })),
      );
    }
    const groups = data.groups.filter((g) => g.status === "open");
    return h(
      "li",
      { dataset: { dealId: deal.deal_id }, "data-testid": "group-progress" },
      title,
      h("small", { class: "muted" }, groups.length ? t("progress.open_groups", { n: groups.length }) : t("progress.no_groups")),
      h(
        "ul",
        { class: "group-lines" },
        ...groups.map((g) =>
          h(
            "li",
            { "data-testid": "group-line" },
            h("span", {}, t("progress.group_line", { n: g.members, size: g.size })),
            ", ",
            countdown("span", g.deadline_ms, "progress.left"),
            h("small", { class: "muted" }, ` ${g.member_names.join(" · ")}`),
          ),
        ),
      ),
    );
  }
}

/** HQ's limits on the deals store hosts plan (price floor, share of a store's stock), set
 * from the hub's console. */
export function mountLimitsForm({ root, api }) {
  const number = (name, min, max) =>
    h("input", { name, type: "number", min, max, required: true, "data-testid": `limits-${name}` });
  const form = h(
    "form",
    { class: "deal-limits", "data-testid": "deal-limits" },
    h("h2", {}, t("limits.title")),
    h("p", { class: "muted" }, t("limits.hint")),
    field("limits.floor_pct", number("floor_pct", 1, 100)),
    field("limits.floor_yuan", h("input", { name: "floor_yuan", inputmode: "decimal", required: true })),
    field("limits.stock_pct", number("stock_pct", 1, 100)),
    h("button", { type: "submit", class: "small-btn", "data-testid": "limits-save" }, t("limits.save")),
  );
  root.replaceChildren(form);
  root.hidden = false;
  api
    .get("/api/deal-limits")
    .then((limits) => {
      form.floor_pct.value = limits.floor_pct;
      form.floor_yuan.value = String(limits.floor_fen / 100);
      form.stock_pct.value = limits.stock_pct;
    })
    .catch((err) => toast(err.message, "error"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const floorFen = fenFromYuanText(form.floor_yuan.value);
    if (floorFen === null) return;
    try {
      await api.put("/api/deal-limits", {
        floor_pct: Number(form.floor_pct.value),
        floor_fen: floorFen,
        stock_pct: Number(form.stock_pct.value),
      });
      toast(t("host.saved"), "ok");
    } catch (err) {
      toast(err.message, "error");
    }
  });
}
