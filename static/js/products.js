// How one product looks to a viewer: the card in the window and the on-air pop-up over
// the video. Both read the same deal phase, so a card never says "buy" while its pop-up
// says "sold out".

import { countdown, serverNow } from "./clock.js";
import { h, icon } from "./dom.js";
import { productName, t } from "./i18n.js";
import { yuan } from "./money.js";
import { dealPhase } from "./roomstate.js";

/** The price a buyer pays now: the deal's while it runs or is about to, else the window's. */
export function livePrice(item, deal) {
  const phase = dealPhase(deal, serverNow());
  return deal && ["live", "upcoming", "sold_out"].includes(phase) ? deal.price_fen : item.price_fen;
}

export function priceRow(item, deal) {
  const price = livePrice(item, deal);
  return h(
    "div",
    { class: "price-row" },
    h("b", { class: "price" }, yuan(price)),
    item.list_price_fen > price ? h("s", { class: "list-price" }, yuan(item.list_price_fen)) : null,
  );
}

/** The deal badge and what is happening with it: countdown, stock, sold out. */
export function dealRow(deal) {
  if (!deal) return null;
  const phase = dealPhase(deal, serverNow());
  // A flash sale the host has not launched yet is worth announcing; other drafts are not.
  if (phase === "draft" && deal.kind !== "flash_sale") return null;
  const row = h("div", { class: `deal-row deal-${phase}` });
  row.append(h("span", { class: "deal-badge" }, icon("bolt"), t(`deal.${deal.kind}`)));
  // 预售: sold before the show, where every other deal waits for the broadcast to go live.
  if (deal.presale) row.append(h("span", { class: "deal-badge deal-presale" }, t("deal.presale")));
  if (phase === "draft") {
    row.append(h("span", { class: "countdown" }, t("deal.not_started")));
  } else if (phase === "upcoming") {
    row.append(countdown("span", deal.starts_at_ms, "deal.starts_in"));
  } else if (phase === "live") {
    if (deal.ends_at_ms) row.append(countdown("span", deal.ends_at_ms, "deal.ends_in"));
    row.append(h("span", { class: "stock" }, t("deal.stock_left", { n: deal.stock_left })));
  } else if (phase === "sold_out") {
    row.append(h("span", { class: "stock" }, t("deal.sold_out")));
  } else {
    row.append(h("span", { class: "stock" }, t("deal.over")));
  }
  return row;
}


function buyButton(item, deal, onBuy) {
  const phase = dealPhase(deal, serverNow());
  if (!deal || phase === "draft" || phase === "over") return null;
  const buy = deal.kind === "group_buy" ? t("deal.group_buy") : t("buy");
  const label = phase === "sold_out" ? t("deal.sold_out") : phase === "upcoming" ? t("deal.not_started") : buy;
  return h(
    "button",
    {
      class: "buy-btn",
      type: "button",
      disabled: phase !== "live",
      "data-testid": "buy",
      onclick: (event) => {
        event.stopPropagation();
        onBuy(item);
      },
    },
    label,
  );
}

export function productCard(item, deal, { onAir, index, onOpen, onBuy }) {
  const phase = dealPhase(deal, serverNow());
  return h(
    "li",
    {
      class: `card${onAir ? " is-on-air" : ""}${phase === "sold_out" ? " is-sold-out" : ""}`,
      dataset: { itemId: item.item_id },
      tabindex: 0,
      onclick: () => onOpen(item),
      onkeydown: (e) => e.key === "Enter" && onOpen(item),
    },
    h(
      "div",
      { class: "thumb" },
      h("img", { src: item.image_url, alt: "", loading: "lazy" }),
      h("span", { class: "thumb-index" }, index + 1),
      onAir ? h("span", { class: "thumb-onair" }, h("i", { class: "eq" }), t("room.on_air")) : null,
      phase === "sold_out" ? h("span", { class: "thumb-soldout" }, t("deal.sold_out")) : null,
    ),
    h(
      "div",
      { class: "card-info" },
      h("h3", { class: "card-name" }, productName(item)),
      dealRow(deal),
      h("div", { class: "card-foot" }, priceRow(item, deal), buyButton(item, deal, onBuy)),
    ),
  );
}

/** The item being presented, popped up over the video. */
export function onAirCard(item, deal, { onOpen, onBuy }) {
  return h(
    "div",
    { class: "onair-card", onclick: () => onOpen(item), dataset: { itemId: item.item_id } },
    h("div", { class: "onair-label" }, h("i", { class: "eq" }), t("room.on_air")),
    h("img", { src: item.image_url, alt: "" }),
    h("div", { class: "onair-name" }, productName(item)),
    priceRow(item, deal),
    buyButton(item, deal, onBuy),
  );
}
