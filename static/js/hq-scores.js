// The HQ dashboard's scores panel: the store ranking (overall or one region, the bottom N
// flagged), a store's daily score trend (Apache ECharts, vendored), the guide contest, the
// before/after of the stores' first broadcasts, and what every figure means. Every table has
// its CSV beside it.
import { createApi } from "./api.js";
import { $, h } from "./dom.js";
import { HQ_SCORES_STRINGS } from "./hq-scores-strings.js";
import { addStrings, currentLang, onLangChange, t } from "./i18n.js";
import { yuan } from "./money.js";
import { toast } from "./toast.js";

addStrings(HQ_SCORES_STRINGS);
const token = new URLSearchParams(location.search).get("token");
const api = createApi(() => token);
const REFRESH_MS = 30_000; // figures of a week move slowly; a broadcast's sales show within this

const state = {
  days: 7,
  regionId: "",
  bottom: 1,
  by: "sales",
  ranking: null,
  regions: new Map(),
  trends: [],
  guides: [],
  beforeAfter: [],
  storeId: null,
  chart: null,
};

const pct = (x) => `${(x * 100).toFixed(1)}%`;
const signed = (x) => (x === null ? "—" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`);

function query(extra = {}) {
  const to = new Date();
  const from = new Date(to.getTime() - state.days * 86_400_000);
  const params = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), ...extra });
  return params;
}

function csvLink(path, params) {
  params.set("token", token);
  return h("a", { class: "small-btn", href: `${path}?${params}`, download: "" }, t("sc.csv"));
}

function rankingParams() {
  const params = query({ bottom: String(state.bottom) });
  if (state.regionId) params.set("region_id", state.regionId);
  return params;
}

async function load() {
  const [ranking, trends, guides, beforeAfter] = await Promise.all([
    api.get(`/api/hq/scores/ranking?${rankingParams()}`),
    api.get("/api/hq/scores/trends?days=30"),
    api.get(`/api/hq/scores/guides?${query({ by: state.by })}`),
    api.get("/api/hq/kpis/before-after?weeks=4"),
  ]);
  state.ranking = ranking;
  for (const s of ranking.stores) state.regions.set(String(s.region_id), s.region);
  state.trends = trends;
  state.guides = guides;
  state.beforeAfter = beforeAfter;
  if (!ranking.stores.some((s) => s.store_id === state.storeId)) {
    state.storeId = ranking.stores.length ? ranking.stores[0].store_id : null;
  }
  render();
}

function controls() {
  const select = (name, options, value, onchange) =>
    h(
      "select",
      { name, onchange: (e) => onchange(e.target.value) },
      ...options.map(([v, label]) => h("option", { value: v, selected: String(v) === String(value) }, label)),
    );
  return h(
    "div",
    { class: "sc-controls" },
    select("days", [7, 30, 90].map((n) => [n, t("sc.days", { n })]), state.days, (v) => {
      state.days = Number(v);
      refresh();
    }),
    select(
      "region",
      [["", t("sc.all_regions")], ...[...state.regions].map(([id, name]) => [id, name])],
      state.regionId,
      (v) => {
        state.regionId = v;
        refresh();
      },
    ),
    select("bottom", [0, 1, 2, 3, 5].map((n) => [n, t("sc.bottom", { n })]), state.bottom, (v) => {
      state.bottom = Number(v);
      refresh();
    }),
    csvLink("/api/hq/scores/ranking/csv", rankingParams()),
  );
}

function rankingTable() {
  const stores = state.ranking.stores;
  if (!stores.length) return h("p", { class: "muted" }, t("sc.no_stores"));
  const heads = ["rank", "region_rank", "store", "phase", "score", "live_minutes", "sessions",
    "live_sales", "private_share", "execution", "add_fan", "reactivation", "missed"];
  return h(
    "table",
    { class: "sc-table", "data-testid": "store-ranking" },
    h("thead", {}, h("tr", {}, ...heads.map((key) => h("th", {}, t(`sc.${key}`))))),
    h(
      "tbody",
      {},
      ...stores.map((s) =>
        h(
          "tr",
          {
            class: `${s.bottom ? "bottom" : ""}${s.store_id === state.storeId ? " chosen" : ""}`,
            "data-testid": `rank-row-${s.code}`,
            onclick: () => {
              state.storeId = s.store_id;
              render();
            },
          },
          h("td", { class: "num" }, s.rank_overall),
          h("td", { class: "num" }, `${s.rank_region} · ${s.region}`),
          h("td", {}, h("b", {}, s.store), s.bottom ? h("span", { class: "sc-flag" }, t("sc.flag_bottom")) : null),
          h("td", {}, t(`sc.phase.${s.phase}`)),
          h("td", { class: "num score", "data-testid": "score" }, s.score.toFixed(1)),
          h("td", { class: "num" }, s.kpis.live_minutes),
          h("td", { class: "num" }, s.kpis.sessions),
          h("td", { class: "num" }, yuan(s.kpis.live_sales_fen)),
          h("td", { class: "num" }, pct(s.kpis.private_share)),
          h("td", { class: "num" }, pct(s.kpis.execution_rate)),
          h("td", { class: "num" }, pct(s.kpis.add_fan_rate)),
          h("td", { class: "num" }, pct(s.kpis.reactivation_rate)),
          h("td", { class: "num" }, s.kpis.missed_slots),
        ),
      ),
    ),
  );
}

function definitions() {
  const en = currentLang() === "en";
  return h(
    "dl",
    { class: "sc-defs", "data-testid": "kpi-definitions" },
    ...state.ranking.definitions.flatMap((d) => [
      h("dt", {}, en ? d.name_en : d.name_zh),
      h("dd", {}, en ? d.means_en : d.means_zh),
    ]),
  );
}

function renderTrend(box) {
  const trend = state.trends.find((x) => x.store_id === state.storeId);
  const store = state.ranking.stores.find((s) => s.store_id === state.storeId);
  $("#sc-trend-title").textContent = store ? t("sc.trend", { store: store.store }) : t("sc.trend_hint");
  if (!trend || !trend.points.length || !window.echarts) {
    if (state.chart) state.chart.clear();
    box.dataset.points = "0";
    $("#sc-trend-empty").textContent = t("sc.no_trend");
    return;
  }
  $("#sc-trend-empty").textContent = "";
  box.dataset.points = String(trend.points.length);
  state.chart = state.chart || window.echarts.init(box, null, { renderer: "canvas" });
  state.chart.setOption(
    {
      animation: false,
      grid: { left: 40, right: 44, top: 30, bottom: 28 },
      tooltip: { trigger: "axis" },
      legend: { data: [t("sc.trend_score"), t("sc.trend_rank")], top: 0 },
      xAxis: { type: "category", data: trend.points.map((p) => p.day.slice(5)) },
      yAxis: [
        { type: "value", min: 0, max: 100, name: t("sc.trend_score") },
        { type: "value", inverse: true, minInterval: 1, min: 1, name: t("sc.trend_rank") },
      ],
      series: [
        { name: t("sc.trend_score"), type: "line", smooth: true, data: trend.points.map((p) => p.score), color: "#ff2e63", areaStyle: { opacity: 0.08 } },
        { name: t("sc.trend_rank"), type: "line", step: "middle", yAxisIndex: 1, data: trend.points.map((p) => p.rank_overall), color: "#5b4dff" },
      ],
    },
    true,
  );
  state.chart.resize();
}

function guideTable() {
  const params = query({ by: state.by });
  const toggle = (by) =>
    h("button", { type: "button", class: `small-btn${state.by === by ? " on" : ""}`, onclick: () => {
      state.by = by;
      refresh();
    } }, t(`sc.by_${by}`));
  return h(
    "div",
    {},
    h("div", { class: "panel-head" }, h("h2", {}, t("sc.guides")),
      h("div", { class: "sc-controls" }, toggle("sales"), toggle("execution"), csvLink("/api/hq/scores/guides/csv", params))),
    h(
      "table",
      { class: "sc-table", "data-testid": "guide-ranking" },
      h("thead", {}, h("tr", {}, ...["rank", "guide", "store", "credited", "execution", "tasks"].map((k) => h("th", {}, t(`sc.${k}`))))),
      h(
        "tbody",
        {},
        ...state.guides.slice(0, 20).map((g) =>
          h(
            "tr",
            {},
            h("td", { class: "num" }, g.rank),
            h("td", {}, g.guide),
            h("td", {}, g.store),
            h("td", { class: "num" }, yuan(g.credited_fen)),
            h("td", { class: "num" }, pct(g.execution_rate)),
            h("td", { class: "num" }, `${g.tasks_done}/${g.tasks_due}`),
          ),
        ),
      ),
    ),
  );
}

function beforeAfterTable() {
  return h(
    "div",
    {},
    h("div", { class: "panel-head" }, h("h2", {}, t("sc.before_after")),
      csvLink("/api/hq/kpis/before-after/csv", new URLSearchParams({ weeks: "4" }))),
    h(
      "table",
      { class: "sc-table", "data-testid": "before-after" },
      h("thead", {}, h("tr", {}, ...["store", "first_live", "freq", "sales"].map((k) => h("th", {}, t(`sc.${k}`))))),
      h(
        "tbody",
        {},
        ...state.beforeAfter.map((r) =>
          h(
            "tr",
            {},
            h("td", {}, r.store),
            h("td", {}, r.first_broadcast_at ? new Date(r.first_broadcast_at).toLocaleDateString("zh-CN") : t("sc.not_live_yet")),
            h("td", { class: "num" }, r.before ? `${r.before.frequency.toFixed(2)} → ${r.after.frequency.toFixed(2)} (${signed(r.frequency_change)})` : "—"),
            h("td", { class: "num" }, r.before ? `${yuan(r.before.sales_fen)} → ${yuan(r.after.sales_fen)} (${signed(r.sales_change)})` : "—"),
          ),
        ),
      ),
    ),
  );
}

function render() {
  const panel = $("#scores-panel");
  if (state.chart) {
    state.chart.dispose();
    state.chart = null;
  }
  const chartBox = h("div", { class: "sc-chart", id: "sc-trend", "data-testid": "trend-chart" });
  panel.replaceChildren(
    h("div", { class: "panel-head" }, h("h2", { id: "scores-title" }, t("sc.title")), controls()),
    h(
      "div",
      { class: "sc-body" },
      h(
        "div",
        { class: "sc-main" },
        rankingTable(),
        h("h3", { id: "sc-trend-title", class: "sc-sub" }),
        h("p", { id: "sc-trend-empty", class: "muted" }),
        chartBox,
      ),
      h("aside", { class: "sc-side" }, h("h3", { class: "sc-sub" }, t("sc.definitions")), definitions()),
    ),
    h("div", { class: "sc-lower" }, guideTable(), beforeAfterTable()),
  );
  renderTrend(chartBox);
}

async function refresh() {
  try {
    await load();
  } catch (err) {
    toast(err.message, "error", 8_000);
  }
}

if (token && $("#scores-panel")) {
  onLangChange(() => state.ranking && render());
  window.addEventListener("resize", () => state.chart && state.chart.resize());
  refresh();
  setInterval(refresh, REFRESH_MS);
}
