// The host's chat feed. Chat frames never say who wrote them; the host mutes (or unmutes)
// "the author of the line at this offset" and the server looks the author up. Any line,
// staff's included, can be hidden from every viewer. Offsets are per stream, and a line
// from the hub's room (heard by a relaying store) is on the hub's stream, which this
// broadcast does not control: those lines get no buttons. Staff (主播, 总部) are not muted.

import { formatClock, serverNow } from "./clock.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { toast } from "./toast.js";

const KEEP = 200;
const STAFF_NAMES = new Set(["主播", "总部"]);

export class HostChat {
  constructor({ list, api, state }) {
    Object.assign(this, { list, api, state });
    this.renderEmpty();
  }

  renderEmpty() {
    if (!this.list.querySelector(".chat-row")) {
      this.list.replaceChildren(h("li", { class: "muted center empty" }, t("host.chat_empty")));
    }
  }

  add(frame) {
    this.list.querySelector(".empty")?.remove();
    const own = frame.offset > 0 && frame.stream === this.state.ownStream;
    const mutable = own && !STAFF_NAMES.has(frame.name);
    const stick = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 30;
    this.list.append(
      h(
        "li",
        { class: "chat-row", dataset: { line: `${frame.stream}:${frame.offset}` } },
        h("span", { class: "chat-time muted" }, formatClock(serverNow(), { seconds: true })),
        h("b", { class: "chat-name" }, frame.name || "**"),
        h("span", { class: "chat-text" }, frame.text),
        mutable
          ? h("button", { type: "button", class: "mute-btn", onclick: (e) => this.mute(frame, e.currentTarget) }, t("host.mute"))
          : null,
        own
          ? h("button", { type: "button", class: "mute-btn hide-line-btn", onclick: (e) => this.hide(frame, e.currentTarget) }, t("host.hide"))
          : null,
      ),
    );
    while (this.list.children.length > KEEP) this.list.firstElementChild.remove();
    // Follow new messages unless the host scrolled up to read.
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  /** A `chat.hidden` frame: the line is gone for every viewer, and here too. */
  drop(frame) {
    this.list.querySelector(`[data-line="${frame.stream}:${frame.line_offset}"]`)?.remove();
    this.renderEmpty();
  }

  async post(path, body, button) {
    button.disabled = true;
    try {
      await this.api.post(`/api/broadcasts/${this.state.broadcast.id}/${path}`, body);
      return true;
    } catch (err) {
      button.disabled = false;
      toast(err.message, "error");
      return false;
    }
  }

  async mute(frame, button) {
    if (!(await this.post("mute", { chat_offset: frame.offset }, button))) return;
    toast(t("host.muted", { name: frame.name }), "ok");
    const unmute = h("button", { type: "button", class: "mute-btn", onclick: () => this.unmute(frame, unmute) }, t("host.unmute"));
    button.replaceWith(h("span", { class: "muted-tag" }, t("host.muted_tag"), " "), unmute);
  }

  async unmute(frame, button) {
    if (!(await this.post("unmute", { chat_offset: frame.offset }, button))) return;
    toast(t("host.unmuted", { name: frame.name }), "ok");
    button.previousElementSibling?.remove();
    button.replaceWith(h("button", { type: "button", class: "mute-btn", onclick: (e) => this.mute(frame, e.currentTarget) }, t("host.mute")));
  }

  async hide(frame, button) {
    await this.post("chat/hide", { chat_offset: frame.offset }, button); // chat.hidden removes the row
  }
}
