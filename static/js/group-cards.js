// The group-buy cards of the room's window: under a group deal's card, how many groups are
// filling and the one closest to forming ("2 个团在拼 · 还差 1 人 · 剩 14:52"). Polled every
// POLL_MS for the group deals in the window (see group-sheet.js for why not socket frames).

import { countdown } from "./clock.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

const POLL_MS = 5000;

export class GroupCards {
  constructor({ api, root }) {
    Object.assign(this, { api, root });
    this.byDeal = new Map(); // deal id -> DealGroupsRead
    this.items = [];
    this.timer = setInterval(() => this.load(), POLL_MS);
  }

  /** After each render of the window: note its group deals and add their lines. */
  decorate(pairs) {
    const fresh = pairs.filter(([, deal]) => deal?.kind === "group_buy");
    const known = (id) => this.byDeal.has(id);
    this.items = fresh;
    if (fresh.some(([, deal]) => !known(deal.deal_id))) this.load();
    else this.paint();
  }

  async load() {
    if (!this.items.length) return;
    await Promise.all(
      this.items.map(async ([, deal]) => {
        try {
          this.byDeal.set(deal.deal_id, await this.api.get(`/api/group-buys/deals/${deal.deal_id}`));
        } catch {
          // the next poll tries again; the card keeps its last line
        }
      }),
    );
    this.paint();
  }

  paint() {
    for (const [item, deal] of this.items) {
      const card = this.root.querySelector(`.card[data-item-id="${item.item_id}"] .card-info`);
      const data = this.byDeal.get(deal.deal_id);
      if (!card || !data) continue;
      card.querySelector(".group-teaser")?.remove();
      const open = data.groups.filter((g) => g.members < g.size);
      const next = open[0];
      card.insertBefore(
        h(
          "div",
          { class: "group-teaser", "data-testid": "group-teaser" },
          next
            ? h("span", {}, t("group.filling", { n: open.length }), " · ", t("group.need", { n: next.size - next.members }), " · ", countdown("span", next.deadline_ms, "group.left"))
            : h("span", {}, t("group.none_short")),
        ),
        card.querySelector(".card-foot"),
      );
    }
  }
}
