// Countdowns must end at the same instant on every phone, whatever its clock says, so
// every deadline is compared with the server's time: the snapshot (and each pong) tells
// us how far this device's clock is from it.

import { h } from "./dom.js";
import { t, currentLang } from "./i18n.js";

let offsetMs = 0;

export function syncClock(serverTimeMs, roundTripMs = 0) {
  if (typeof serverTimeMs === "number") offsetMs = serverTimeMs + roundTripMs / 2 - Date.now();
}

export function serverNow() {
  return Date.now() + offsetMs;
}

/** 3725000 -> "01:02:05"; under an hour "02:05". */
export function formatDuration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? t("time.hms", { h: pad(h), m: pad(m), s: pad(s) }) : `${pad(m)}:${pad(s)}`;
}

/** A wall-clock time in the viewer's zone: today as "20:00", another day with its date. */
export function formatClock(ms, { seconds = false } = {}) {
  if (!ms) return "";
  const at = new Date(ms);
  const sameDay = at.toDateString() === new Date(serverNow()).toDateString();
  const locale = currentLang() === "en" ? "en-GB" : "zh-CN";
  const options = { hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}) };
  if (!sameDay) Object.assign(options, { month: "numeric", day: "numeric" });
  return at.toLocaleString(locale, options);
}

/** A live countdown element, filled at once (the page timer only refreshes it). */
export function countdown(tag, deadline, template, cls = "countdown") {
  const text = t(template, { t: formatDuration(deadline - serverNow()) });
  return h(tag, { class: cls, dataset: { deadline, template } }, text);
}

/**
 * Elements with data-deadline (server ms) and data-template (an i18n key with {t}) are
 * rewritten every second; one timer for the whole page instead of one per card.
 * `onExpire` runs once per element when its deadline passes (a deal opening or closing).
 */
export function startCountdowns(root, onExpire = () => {}) {
  const tick = () => {
    const now = serverNow();
    for (const el of root.querySelectorAll("[data-deadline]")) {
      const left = Number(el.dataset.deadline) - now;
      el.textContent = t(el.dataset.template, { t: formatDuration(left) });
      if (left <= 0 && !el.dataset.expired) {
        el.dataset.expired = "1";
        onExpire(el);
      }
    }
  };
  tick();
  return setInterval(tick, 1000);
}
