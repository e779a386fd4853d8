// The room socket: one connection that keeps coming back.
//
// A first connection sends `hello` and gets the snapshot. A reconnection opens with
// `?resume=1` and sends `resume` with each stream's [epoch, offset] (from the snapshot, then
// from each event) as its first frame: the gateway answers with only the missed events and
// `resumed`, or with one snapshot when they cannot all be given (docs/protocol.md), so a
// node's viewers coming back at once cost it history reads, not whole rooms. The positions
// also drop an event already applied. `socketLog` (on the page's global object) says how
// each connection got its state, for the people and the tests watching a page.

const SLOW = 4008; // the server closed us for lagging: catch up at once
const PING_EVERY_MS = 25_000;

export class RoomSocket {
  /**
   * url: async ({failures}) => the ws URL; called before every attempt, so the page can
   * refresh an expired token after attempts that never opened.
   * onFrame(frame): every frame worth applying, in order.
   * onState("connecting" | "open" | "reconnecting"): for the banner.
   */
  constructor({ url, onFrame, onState = () => {} }) {
    this.url = url;
    this.onFrame = onFrame;
    this.onState = onState;
    this.positions = {};
    this.ws = null;
    this.attempts = 0;
    this.failures = 0; // attempts in a row that never opened
    this.timer = null;
    this.pingTimer = null;
    this.pingSentAt = 0;
    this.stopped = false;
    this.everOpened = false;
    this.log = globalThis.socketLog ??= [];
    addEventListener("online", () => this.reconnectNow());
    addEventListener("offline", () => this.dropOffline());
    addEventListener("pageshow", (e) => e.persisted && this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
  }

  get isOpen() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** The device lost its network: the socket is dead even if no close has arrived yet (its
   * closing handshake cannot finish offline). Let it go and say so now; the "online" event
   * brings us back, with `resume`. */
  dropOffline() {
    const ws = this.ws;
    if (!ws || this.stopped) return;
    this.ws = null; // its late close event is then ignored
    clearInterval(this.pingTimer);
    clearTimeout(this.timer);
    ws.close();
    this.onState("reconnecting");
  }

  /** Skip the backoff wait (the network came back, the tab became visible). */
  reconnectNow() {
    if (this.stopped || this.isOpen || this.ws?.readyState === WebSocket.CONNECTING) return;
    clearTimeout(this.timer);
    this.connect();
  }

  async connect() {
    this.onState(this.everOpened ? "reconnecting" : "connecting");
    if (navigator.onLine === false) return; // the "online" event brings us back
    let url;
    try {
      url = await this.url({ failures: this.failures });
    } catch {
      this.scheduleReconnect();
      return;
    }
    const resuming = Object.keys(this.positions).length > 0;
    const ws = new WebSocket(resuming ? `${url}&resume=1` : url);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.failures = 0;
      this.everOpened = true;
      if (resuming) this.send({ type: "resume", streams: this.positions });
      else this.send({ type: "hello" });
      this.note(resuming ? "resume" : "hello");
      this.startPings();
    };
    ws.onmessage = (message) => this.receive(message.data);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      clearInterval(this.pingTimer);
      if (!opened) this.failures += 1;
      if (this.stopped) return;
      this.onState("reconnecting");
      this.scheduleReconnect(event.code === SLOW ? 0 : undefined);
    };
  }

  note(kind, events) {
    this.log.push(events === undefined ? { kind, at: Date.now() } : { kind, events, at: Date.now() });
    if (this.log.length > 100) this.log.shift();
  }

  scheduleReconnect(delay) {
    clearTimeout(this.timer);
    // Full-jitter backoff: after an app node restarts, its thousands of viewers must not
    // all come back in the same millisecond.
    const ceiling = Math.min(10_000, 500 * 2 ** this.attempts);
    this.attempts += 1;
    const wait = delay ?? ceiling / 2 + Math.random() * (ceiling / 2);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  startPings() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      this.pingSentAt = Date.now();
      this.send({ type: "ping" });
    }, PING_EVERY_MS);
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "snapshot" || frame.type === "resumed") {
      if (frame.type === "snapshot") this.positions = { ...(frame.streams || {}) };
      this.note(frame.type === "snapshot" ? "snapshot" : "replay", frame.events);
      this.attempts = 0;
      this.onState("open");
      // The snapshot's clock left the server a transit ago; a ping's round trip corrects it.
      this.pingSentAt = Date.now();
      this.send({ type: "ping" });
      if (frame.type === "resumed") return; // the missed events came before it
    } else if (frame.type === "pong") {
      frame.round_trip_ms = this.pingSentAt ? Date.now() - this.pingSentAt : 0;
    } else if (frame.stream && frame.offset) {
      const seen = this.positions[frame.stream];
      if (seen && frame.offset <= seen[1]) return; // already applied
      this.positions[frame.stream] = [seen ? seen[0] : "", frame.offset];
    }
    this.onFrame(frame);
  }
}
