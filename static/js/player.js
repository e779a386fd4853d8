// A room's stream in its <video>: HLS through hls.js (the browser's own player only where
// there are no Media Source Extensions, as on older iOS), HTTP-FLV through mpegts.js, anything else as a plain
// `src`. Both libraries are vendored (static/vendor/, with their licences) and loaded only
// when a room has such a stream. When the stream fails the poster stays and `onFail` says so.

const HLS_MODULE = "/static/vendor/hls.js/hls.light.min.mjs";
const MPEGTS_SCRIPT = "/static/vendor/mpegts.js/mpegts.js";

export function streamKind(url) {
  const path = new URL(url, location.href).pathname.toLowerCase();
  if (path.endsWith(".m3u8")) return "hls";
  if (path.endsWith(".flv")) return "flv";
  return "file";
}

let mpegtsLoading = null;
function loadMpegts() {
  // A UMD build: it sets `globalThis.mpegts` when run as a classic script.
  mpegtsLoading ??= new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), { src: MPEGTS_SCRIPT });
    script.onload = () => resolve(globalThis.mpegts);
    script.onerror = () => reject(new Error("mpegts.js did not load"));
    document.head.append(script);
  });
  return mpegtsLoading;
}

export class StreamPlayer {
  /** video: the <video>; onFail(reason): the stream cannot play (the poster shows). */
  constructor({ video, onFail = () => {}, onPlaying = () => {} }) {
    this.video = video;
    this.onFail = onFail;
    this.onPlaying = onPlaying;
    this.url = "";
    this.engine = null;
    video.addEventListener("playing", () => this.onPlaying());
  }

  /** Play `url` (empty: nothing, the poster). The same URL again changes nothing. */
  async play(url) {
    if (url === this.url) return;
    this.stop();
    this.url = url;
    if (!url) return;
    const video = this.video;
    video.hidden = false;
    video.onerror = () => this.fail("media_error");
    try {
      const kind = streamKind(url);
      if (kind === "hls") await this.playHls(url);
      else if (kind === "flv") await this.playFlv(url);
      else {
        video.dataset.engine = "native";
        video.src = url;
      }
      if (this.url === url) video.play?.()?.catch?.(() => {}); // muted autoplay; a refusal is no failure
    } catch (error) {
      if (this.url === url) this.fail(error.message || "unsupported");
    }
  }

  async playHls(url) {
    const { default: Hls } = await import(HLS_MODULE);
    if (this.url !== url) return;
    if (!Hls.isSupported()) {
      // No Media Source Extensions (older iOS): the browser's own HLS player, if any.
      if (!this.video.canPlayType("application/vnd.apple.mpegurl")) throw new Error("unsupported");
      this.video.dataset.engine = "native";
      this.video.src = url;
      return;
    }
    this.video.dataset.engine = "hls.js";
    const hls = new Hls({ lowLatencyMode: true, manifestLoadingMaxRetry: 2 });
    hls.on(Hls.Events.ERROR, (_, data) => data.fatal && this.fail(data.details || "hls_error"));
    hls.loadSource(url);
    hls.attachMedia(this.video);
    this.engine = { destroy: () => hls.destroy() };
  }

  async playFlv(url) {
    const mpegts = await loadMpegts();
    if (this.url !== url) return;
    this.video.dataset.engine = "mpegts.js";
    if (!mpegts?.isSupported()) throw new Error("unsupported");
    const player = mpegts.createPlayer({ type: "flv", isLive: true, url });
    player.on(mpegts.Events.ERROR, (type) => this.fail(String(type || "flv_error")));
    player.attachMediaElement(this.video);
    player.load();
    this.engine = { destroy: () => player.destroy() };
  }

  fail(reason) {
    this.release();
    this.video.hidden = true;
    this.onFail(reason);
  }

  stop() {
    this.release();
    this.url = "";
    this.video.hidden = true;
    delete this.video.dataset.engine;
  }

  release() {
    const engine = this.engine;
    this.engine = null;
    try {
      engine?.destroy();
    } catch {
      // a player torn down mid-load: nothing left to release
    }
    this.video.onerror = null;
    this.video.removeAttribute("src");
  }
}
