// The console's "add an item" form: the host picks a product from the catalogue (searched by
// name or code, with its image and stock), then sets the window price. The catalogue is
// scoped by the server to what the caller may sell: a store host sees their store's items.

import { h } from "./dom.js";
import { onLangChange, productName, t } from "./i18n.js";
import { fenFromYuanText, yuan } from "./money.js";
import { toast } from "./toast.js";

const WAIT_MS = 250; // between keystrokes: one search per pause, not per letter

export class CataloguePicker {
  constructor({ root, api, onPick }) {
    Object.assign(this, { root, api, onPick });
    this.items = [];
    this.picked = null;
    this.timer = null;
    this.input = h("input", {
      type: "search",
      class: "picker-search",
      placeholder: t("picker.search"),
      "data-testid": "catalogue-search",
      autocomplete: "off",
      oninput: () => this.later(),
    });
    this.list = h("ul", { class: "picker-results", "data-testid": "catalogue-results" });
    root.replaceChildren(this.input, this.list);
  }

  later() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(), WAIT_MS);
  }

  async search() {
    const q = this.input.value.trim();
    try {
      this.items = await this.api.get(`/api/catalogue?q=${encodeURIComponent(q)}`);
    } catch (err) {
      toast(err.message, "error");
      this.items = [];
    }
    this.render();
  }

  render() {
    this.input.placeholder = t("picker.search");
    if (!this.items.length) {
      this.list.replaceChildren(h("li", { class: "picker-empty muted" }, t("picker.none")));
      return;
    }
    this.list.replaceChildren(...this.items.map((item) => this.row(item)));
  }

  row(item) {
    const picked = this.picked?.product_id === item.product_id;
    return h(
      "li",
      {
        class: `picker-row${picked ? " picked" : ""}${item.stock > 0 ? "" : " no-stock"}`,
        dataset: { productId: item.product_id },
        "data-testid": "catalogue-item",
        tabindex: 0,
        onclick: () => this.pick(item),
        onkeydown: (e) => e.key === "Enter" && this.pick(item),
      },
      h("img", { src: item.image_url || "/static/img/poster.svg", alt: "" }),
      h(
        "div",
        { class: "picker-main" },
        h("b", {}, productName(item)),
        h("small", { class: "muted" }, `${item.sku} · ${yuan(item.list_price_fen)}`),
      ),
      h("span", { class: "picker-stock" }, t("picker.stock", { n: item.stock })),
    );
  }

  pick(item) {
    this.picked = item;
    this.render();
    this.onPick(item);
  }

  clear() {
    this.picked = null;
    this.input.value = "";
    this.items = [];
    this.list.replaceChildren();
  }
}

/** Wires the console's add-item form: picker, price, add. */
export function mountAddItem({ form, api, broadcastId }) {
  const chosen = form.querySelector("[data-picked]");
  const picker = new CataloguePicker({
    root: form.querySelector("#catalogue-picker"),
    api,
    onPick: (item) => {
      chosen.textContent = `${productName(item)} · ${item.sku}`;
      form.price.value = (item.list_price_fen / 100).toString();
    },
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const priceFen = fenFromYuanText(form.price.value);
    if (!picker.picked) return toast(t("picker.pick_first"), "error");
    if (priceFen === null) return;
    try {
      await api.post(`/api/broadcasts/${broadcastId()}/window`, { product_id: picker.picked.product_id, price_fen: priceFen });
      toast(t("host.added"), "ok");
      form.reset();
      chosen.textContent = "";
      picker.clear();
    } catch (err) {
      toast(err.message, "error");
    }
  });
  onLangChange(() => picker.render());
  // A first screenful at once: a host with a few items need not type at all.
  picker.search();
  return picker;
}
