// The host's chat feed. Chat frames never say who wrote them; the host mutes "the author
// of the line at this offset" and the server looks the author up. Offsets are per stream,
// and a line from the hub's room (heard by a relaying store) is on the hub's stream, which
// this broadcast does not control: those lines get no mute button.

import { formatClock, serverNow } from "./clock.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { toast } from "./toast.js";

const KEEP = 200;

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
    const mutable = frame.customer_id != null || (frame.offset > 0 && frame.stream === this.state.ownStream);
    const stick = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 30;
    this.list.append(
      h(
        "li",
        { class: "chat-row", dataset: { offset: frame.offset ?? "" } },
        h("span", { class: "chat-time muted" }, formatClock(serverNow(), { seconds: true })),
        h("b", { class: "chat-name" }, frame.name || "**"),
        h("span", { class: "chat-text" }, frame.text),
        mutable
          ? h("button", { type: "button", class: "mute-btn", onclick: (e) => this.mute(frame, e.currentTarget) }, t("host.mute"))
          : null,
      ),
    );
    while (this.list.children.length > KEEP) this.list.firstElementChild.remove();
    // Follow new messages unless the host scrolled up to read.
    if (stick) this.list.scrollTop = this.list.scrollHeight;
  }

  async mute(frame, button) {
    button.disabled = true;
    try {
      const who = frame.customer_id != null ? { customer_id: frame.customer_id } : { chat_offset: frame.offset };
      await this.api.post(`/api/broadcasts/${this.state.broadcast.id}/mute`, who);
      toast(t("host.muted", { name: frame.name }), "ok");
      button.replaceWith(h("span", { class: "muted-tag" }, t("host.muted_tag")));
    } catch (err) {
      button.disabled = false;
      toast(err.message, "error");
    }
  }
}
