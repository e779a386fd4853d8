// What a room looks like right now, rebuilt from the snapshot and kept current by the
// socket's frames. Both pages render from this, so the relay rules live in one place.
//
// A store room relaying the hub reads two streams. Each stream owns part of the window:
// the hub's stream the hub items and the hub's on-air choice, the store's own stream the
// store's items, the set of hub items this store hides and the store's on-air choice. A
// `window.changed` replaces the whole part its stream owns; `window.on_air` only its choice.
// The room presents its own stream's choice, else the hub's, and nothing when that item is
// hidden (the choice is kept, so an unhide shows it again). live/window.py is the server's
// side of this rule; the tests run this file itself (tests/live/js/roomstate_driver.mjs).

export class RoomState {
  constructor() {
    this.ready = false;
  }

  applySnapshot(s) {
    this.ready = true;
    this.roomId = s.room_id;
    this.storeId = s.store_id;
    this.broadcast = { ...s.broadcast };
    // A store room relaying the hub: the hub's broadcast, whose stream plays while it is
    // live and the store's own is not.
    this.hubBroadcast = s.hub_broadcast ? { ...s.hub_broadcast } : null;
    this.ownStream = `b${s.broadcast.id}`;
    const streams = Object.keys(s.streams || {});
    this.hubStream = streams.find((name) => name !== this.ownStream) || null;
    this.relays = s.broadcast.kind === "store" && this.hubStream !== null;
    const items = s.window || [];
    this.hubItems = this.relays ? items.filter((i) => !i.store_only) : items;
    this.storeItems = this.relays ? items.filter((i) => i.store_only) : [];
    this.hidden = new Set(s.hidden_item_ids || []);
    this.deals = new Map(Object.entries(s.deals || {}).map(([id, d]) => [Number(id), { ...d }]));
    // Each stream's own choice: a store presenting a hub item keeps it when HQ moves on.
    this.onAir = { ...(s.on_air_by_stream || {}) };
    this.viewers = s.viewers ?? 0;
    this.likes = s.likes ?? 0;
  }

  /** Apply one frame; returns what changed ("window", "on_air", ...) or null. */
  apply(f) {
    if (!this.ready) return null;
    switch (f.type) {
      case "window.changed":
        return this.applyWindow(f);
      case "window.on_air":
        this.onAir[f.stream || this.ownStream] = f.item_id ?? null;
        return "on_air";
      case "deal":
        return this.applyDeal(f.deal);
      case "stock": {
        const deal = this.deals.get(f.deal_id);
        if (!deal) return null;
        deal.stock_left = f.stock_left;
        return "deal";
      }
      case "counts":
        // Counts carry no offset; one that names a stream other than ours is the hub's.
        if (f.stream && f.stream !== this.ownStream) return null;
        // Zero counts are left out of the frame (the server omits default values).
        this.viewers = f.viewers ?? 0;
        this.likes = f.likes ?? 0;
        return "counts";
      case "broadcast.state":
        // A relaying store hears the hub's go-live too: its own status stays its own.
        if (!f.broadcast) return null;
        if (f.broadcast.id === this.broadcast.id) this.broadcast = { ...f.broadcast };
        else if (f.broadcast.id === this.hubBroadcast?.id) this.hubBroadcast = { ...f.broadcast };
        else return null;
        return "broadcast";
      default:
        return null;
    }
  }

  applyWindow(f) {
    const items = f.items || [];
    const stream = f.stream || this.ownStream;
    if (!this.relays) {
      this.hubItems = items;
      this.hidden = new Set(f.hidden_item_ids || []);
    } else if (stream === this.hubStream) {
      this.hubItems = items.filter((i) => !i.store_only);
    } else {
      this.storeItems = items.map((i) => ({ ...i, store_only: true }));
      this.hidden = new Set(f.hidden_item_ids || []);
    }
    this.onAir[stream] = f.on_air_item_id ?? null;
    return "window";
  }

  applyDeal(deal) {
    if (!deal || deal.deal_id == null) return null;
    const known = this.deals.get(deal.deal_id) || {};
    this.deals.set(deal.deal_id, { ...known, ...deal });
    return "deal";
  }

  /** What the room's viewers see: "relay" (a store room whose own broadcast is not live,
   * playing the live hub's) or "own". */
  showing() {
    return this.hubBroadcast?.status === "live" && this.broadcast.status !== "live" ? "relay" : "own";
  }

  /** The broadcast whose stream the room plays. */
  presented() {
    return this.showing() === "relay" ? this.hubBroadcast : this.broadcast;
  }

  /** Every item, hidden ones included (the store host un-hides from this list). */
  allItems() {
    const byPosition = (a, b) => a.position - b.position;
    return [...[...this.hubItems].sort(byPosition), ...[...this.storeItems].sort(byPosition)];
  }

  visibleItems() {
    return this.allItems().filter((i) => !this.hidden.has(i.item_id));
  }

  /** Items this room's broadcast owns: what its host may reorder or put on air. */
  ownItems() {
    return this.relays ? this.allItems().filter((i) => i.store_only) : this.allItems();
  }

  isOwn(item) {
    return !this.relays || Boolean(item.store_only);
  }

  /** Its own stream's choice, else the hub's; nothing while that item is hidden. */
  onAirItemId() {
    const mine = this.onAir[this.ownStream];
    const id = mine ?? (this.relays ? this.onAir[this.hubStream] : null) ?? null;
    return id != null && !this.hidden.has(id) ? id : null;
  }

  item(id) {
    return this.allItems().find((i) => i.item_id === id) || null;
  }

  dealOf(item) {
    return item?.deal_id != null ? this.deals.get(item.deal_id) || null : null;
  }

  /** The deal as a buyer in this room sees it. It sells only while a broadcast showing it is
   * live or in its replay (its own, and for a hub deal in a relaying store room the hub's or
   * the store's): before that it reads as not started. live/snapshot.py `not_on_sale` is
   * the server's side of this rule. */
  buyableDeal(item) {
    const deal = this.dealOf(item);
    if (!deal || deal.broadcast_id == null) return deal;
    const showing = [this.broadcast];
    if (this.hubBroadcast && deal.broadcast_id === this.hubBroadcast.id) showing.push(this.hubBroadcast);
    else if (deal.broadcast_id !== this.broadcast.id) return deal;
    const onSale = showing.some((b) => b.status === "live" || b.status === "ended");
    return onSale || deal.status !== "live" ? deal : { ...deal, status: "draft" };
  }

  /** A window item may name a deal no snapshot or frame described yet: ask for each once.
   * `get` fetches an API path; returns whether any deal was added. */
  async loadMissingDeals(get) {
    const missing = this.missingDealIds();
    for (const id of missing) {
      try {
        const d = await get(`/api/deals/${id}`);
        this.applyDeal({ ...d, deal_id: d.id });
      } catch {
        this.applyDeal({ deal_id: id, status: "draft" });
      }
    }
    return missing.length > 0;
  }

  /** Deals the window points at that no snapshot or frame has described yet. */
  missingDealIds() {
    return [
      ...new Set(
        this.allItems()
          .map((i) => i.deal_id)
          .filter((id) => id != null && !this.deals.has(id)),
      ),
    ];
  }
}

/**
 * Where a deal stands for a buyer, at server time `now`:
 * "live" | "upcoming" (live but before its start) | "sold_out" | "over" | "draft".
 */
export function dealPhase(deal, now) {
  if (!deal) return null;
  if (deal.status === "ended" || deal.status === "stopped") return "over";
  if (deal.status !== "live") return "draft";
  if (deal.ends_at_ms && now >= deal.ends_at_ms) return "over";
  if (deal.starts_at_ms && now < deal.starts_at_ms) return "upcoming";
  if ((deal.stock_left ?? 1) <= 0) return "sold_out";
  return "live";
}
