// Likes: every tap shows a heart at once, but taps go to the server as one `like` frame
// per ~300 ms (the server counts up to 50 per frame and rate-limits frames, not taps).

import { h, icon } from "./dom.js";

const BATCH_MS = 300;
const MAX_PER_FRAME = 50;
const COLORS = ["#ff3b6b", "#ff8a3d", "#ffc93c", "#c86bff", "#4dd0e1", "#ff5fa2"];

export class Likes {
  constructor({ layer, send }) {
    this.layer = layer;
    this.send = send;
    this.pending = 0;
    this.sent = 0; // sent but not yet seen in a counts frame
    this.timer = null;
  }

  /** Likes of ours that the latest counts frame includes; counted once. */
  takeSent() {
    const sent = this.sent;
    this.sent = 0;
    return sent;
  }

  tap() {
    this.pending += 1;
    this.float();
    if (!this.timer) this.timer = setTimeout(() => this.flush(), BATCH_MS);
  }

  flush() {
    this.timer = null;
    const count = Math.min(this.pending, MAX_PER_FRAME);
    if (count === 0) return;
    // Offline taps stay pending and go out with the next batch.
    if (this.send({ type: "like", count })) {
      this.pending -= count;
      this.sent += count;
    }
    if (this.pending > 0) this.timer = setTimeout(() => this.flush(), BATCH_MS);
  }

  /** One heart rising from the like button; others' likes float a few too. */
  float() {
    if (this.layer.childElementCount > 24) return; // a frantic tapper must not stall the page
    const heart = h("span", { class: "heart" }, icon("heart"));
    heart.style.setProperty("--drift", `${Math.round(Math.random() * 60 - 30)}px`);
    heart.style.setProperty("--tilt", `${Math.round(Math.random() * 40 - 20)}deg`);
    heart.style.color = COLORS[Math.floor(Math.random() * COLORS.length)];
    heart.addEventListener("animationend", () => heart.remove());
    this.layer.append(heart);
  }
}
