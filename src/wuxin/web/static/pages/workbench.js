// The risk workbench on the portfolio page (credit officers and risk managers): where the exposure sits, what changed
// this week, and the borrower table searched, filtered, sorted and paged by the server, with a sparkline of each
// borrower's activity, a watch star and exports. Every value from the API reaches the page as text (h() / svg()).
import { api, apiBlob } from "../api.js";
import { code, codesOf, fmtCny, fmtDate, fmtNum, fmtPct, getLang, t } from "../i18n.js";
import { card, h, section, svg } from "../ui.js";

export const WORKBENCH_ROLES = ["credit_officer", "risk_manager"];
const COLUMNS = ["watched", "name", "industry", "outcome", "grade", "score", "score_change", "exposure_cny", "limit_use_ratio",
  "activity_trend_ratio", "alarms_critical", "alarms_open", "evidence_coverage_ratio", "online_share_ratio", "pledge_coverage_ratio"];
const NUMERIC = new Set(COLUMNS.slice(4).filter((c) => c !== "grade"));
const TEXT_FIRST = new Set(["name", "industry", "outcome"]);  // sorted A→Z first; figures largest first
const PAGE_SIZE = 20;

/** The summary and the table, as one element for the portfolio page. */
export function workbenchSection() {
  const state = { q: "", industry: "", outcome: "", critical: false, watched: false, sort: "exposure_cny", order: "desc", page: 1 };
  const summary = h("div", { "data-wb": "summary" }), table = h("div", { "data-wb": "table" });
  const reload = () => section(table, () => tableView(state, reload));
  section(summary, summaryView);
  reload();
  return h("div", { "data-workbench": "" }, summary,
    h("section", { class: "card" }, h("h2", {}, t("wb_title")), toolbar(state, reload), table));
}

// ---------------------------------------------------------------- the summary

async function summaryView() {
  const s = await api("/api/v1/portfolio/summary");
  return h("div", { class: "grid" },
    card(`${t("wb_concentration")} · ${fmtCny(Number(s.exposure_cny))}`,
      h("h3", {}, t("wb_by_industry")), shareTable(s.by_industry, (k) => code("scenario", k), "industry"),
      h("h3", {}, t("wb_by_grade")), shareTable(s.by_grade, (k) => k ?? t("wb_ungraded"), "grade")),
    card(t("wb_week"), weekView(s.week)));
}

function shareTable(groups, name, kind) {
  if (!groups.length) return h("p", { class: "muted" }, t("wb_no_exposure"));
  return h("table", { class: "wb-shares", "data-shares": kind }, h("tbody", {}, groups.map((g) => h("tr", {},
    h("td", {}, name(g.key)), h("td", { class: "num" }, fmtCny(Number(g.exposure_cny))),
    h("td", { class: "wb-bar-cell" }, h("div", { class: "wb-bar", style: `width:${Math.round(100 * (g.share_ratio || 0))}%` })),
    h("td", { class: "num" }, fmtPct(g.share_ratio)), h("td", { class: "num muted" }, t("wb_borrowers_n", { n: fmtNum(g.borrowers) }))))));
}

function weekView(week) {
  const d = week.decisions;
  return h("div", { "data-week": "" },
    h("p", { class: "small muted" }, `${fmtDate(week.from_ms)} – ${fmtDate(week.to_ms)}`),
    h("h3", {}, `${t("wb_downgrades")} (${fmtNum(week.downgrades.length)})`),
    week.downgrades.length ? h("ul", { "data-downgrades": "" }, week.downgrades.map((x) =>
      h("li", {}, h("a", { href: `#/enterprise/${x.enterprise_id}` }, x.name), ` ${x.from_grade} → ${x.to_grade} · ${fmtDate(x.decided_ms)}`)))
      : h("p", { class: "muted" }, t("none")),
    h("h3", {}, `${t("wb_new_critical")} (${fmtNum(week.new_critical_alarms.reduce((a, x) => a + x.alarms, 0))})`),
    week.new_critical_alarms.length ? h("ul", { "data-new-critical": "" }, week.new_critical_alarms.map((x) =>
      h("li", {}, h("a", { href: `#/enterprise/${x.enterprise_id}` }, x.name), ` · ${fmtNum(x.alarms)}`)))
      : h("p", { class: "muted" }, t("none")),
    h("h3", {}, `${t("wb_decisions_made")} (${fmtNum(d.total)})`),
    h("p", { "data-decisions-made": d.total }, Object.entries(d.by_outcome).map(([o, n]) => `${code("outcome", o)} ${fmtNum(n)}`).join(" · ")));
}

// ---------------------------------------------------------------- search, filters, exports

function toolbar(state, reload) {
  const search = h("input", { id: "wb-search", type: "search", placeholder: t("wb_search"), "aria-label": t("wb_search") });
  const go = () => { state.q = search.value.trim(); state.page = 1; reload(); };
  search.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
  const pick = (id, key, options) => h("select", { id, "aria-label": t(id.replace("-", "_")), onchange: (e) => { state[key] = e.target.value; state.page = 1; reload(); } },
    options.map(([value, text]) => h("option", { value }, text)));
  const flag = (id, key, text) => h("label", { class: "wb-flag" }, h("input", { id, type: "checkbox",
    onchange: (e) => { state[key] = e.target.checked; state.page = 1; reload(); } }), ` ${text}`);
  return h("div", { class: "wb-toolbar" }, search, h("button", { id: "wb-search-go", onclick: go }, t("wb_search_go")),
    pick("wb-industry", "industry", [["", t("wb_all_industries")], ...codesOf("scenario").map((s) => [s, code("scenario", s)])]),
    pick("wb-outcome", "outcome", [["", t("wb_all_outcomes")], ...["approve", "refer", "decline"].map((o) => [o, code("outcome", o)]), ["none", t("wb_no_decision")]]),
    flag("wb-critical", "critical", t("wb_critical_only")), flag("wb-watched", "watched", t("wb_watched_only")),
    h("span", { class: "wb-exports" }, exportButton(state, "csv"), exportButton(state, "xlsx")));
}

function params(state, extra = {}) {
  const p = new URLSearchParams({ sort: state.sort, order: state.order, ...extra });
  if (state.q) p.set("q", state.q);
  if (state.industry) p.set("industry", state.industry);
  if (state.outcome) p.set("outcome", state.outcome);
  if (state.critical) p.set("critical", "true");
  if (state.watched) p.set("watched", "true");
  return p;
}

function exportButton(state, format) {
  return h("button", { id: `wb-export-${format}`, onclick: async () => {
    const blob = await apiBlob(`/api/v1/portfolio/borrowers/export?${params(state, { format, lang: getLang() })}`);
    const a = h("a", { href: URL.createObjectURL(blob), download: `borrowers.${format}` });
    a.click();
  } }, t(`wb_export_${format}`));
}

// ---------------------------------------------------------------- the table

async function tableView(state, reload) {
  const body = await api(`/api/v1/portfolio/borrowers?${params(state, { page: state.page, page_size: PAGE_SIZE })}`);
  const head = h("tr", {}, COLUMNS.map((c) => header(c, state, reload)));
  const rows = body.items.map((r) => row(r, body.days, reload));
  return h("div", { "data-total": body.total, "data-page-no": body.page },
    body.items.length ? h("div", { class: "wb-scroll" }, h("table", { class: "wb-table" }, h("thead", {}, head), h("tbody", {}, rows)))
      : h("p", { class: "muted", "data-wb-empty": "" }, t("wb_empty")),
    pager(body, state, reload));
}

function header(column, state, reload) {
  const active = state.sort === column;
  const arrow = active ? (state.order === "asc" ? " ▲" : " ▼") : "";
  return h("th", { class: NUMERIC.has(column) ? "num" : null, "aria-sort": active ? (state.order === "asc" ? "ascending" : "descending") : "none" },
    h("button", { class: "wb-sort", "data-sort": column, onclick: () => {
      state.order = active ? (state.order === "asc" ? "desc" : "asc") : TEXT_FIRST.has(column) ? "asc" : "desc";
      state.sort = column; state.page = 1; reload();
    } }, code("portfolio_column", column), arrow));
}

function pager(body, state, reload) {
  const go = (page) => { state.page = page; reload(); };
  return h("div", { class: "wb-pager" },
    h("button", { id: "wb-prev", disabled: body.page <= 1, onclick: () => go(body.page - 1) }, t("wb_prev")),
    h("span", { "data-pager": "" }, t("wb_page", { page: fmtNum(body.page), pages: fmtNum(body.pages), total: fmtNum(body.total) })),
    h("button", { id: "wb-next", disabled: body.page >= body.pages, onclick: () => go(body.page + 1) }, t("wb_next")));
}

function row(r, days, reload) {
  const d = r.decision, a = r.alarms_open;
  const num = (text, title) => h("td", { class: "num", title: title || null }, text);
  return h("tr", { "data-borrower": r.enterprise_id },
    h("td", {}, star(r, reload)),
    h("td", {}, h("a", { href: `#/enterprise/${r.enterprise_id}` }, r.name), h("div", { class: "small muted" }, r.region),
      r.consent_partial ? h("div", { class: "small muted", "data-partial": "" }, t("wb_consent_partial")) : null),
    h("td", {}, code("scenario", r.industry)),
    h("td", {}, d ? h("span", { class: `badge ${d.outcome}` }, code("outcome", d.outcome)) : "—",
      d ? h("div", { class: "small muted" }, fmtDate(d.decided_ms)) : null),
    h("td", { class: null }, d ? d.grade : "—", d?.previous_grade ? h("div", { class: "small muted" }, t("wb_was", { grade: d.previous_grade })) : null),
    num(d ? fmtNum(d.score, 1) : "—"),
    num(d?.score_change == null ? "—" : signed(d.score_change)),
    num(r.exposure_cny == null ? "—" : fmtCny(Number(r.exposure_cny))),
    num(fmtPct(r.limit_use_ratio), r.limit_cny == null ? null : `${t("wb_limit")} ${fmtCny(Number(r.limit_cny))}`),
    h("td", { class: "num" }, sparkline(r.activity, days), h("div", { class: "small" }, fmtPct(r.activity.trend_ratio))),
    num(a.critical ? h("span", { class: "badge offline" }, fmtNum(a.critical)) : fmtNum(a.critical)),
    num(fmtNum(a.total), ["critical", "major", "minor", "warning"].map((s) => `${code("severity", s)} ${a[s]}`).join(" · ")),
    num(fmtPct(r.evidence_coverage_ratio), r.evidence_days == null ? null : t("wb_evidence_days", { n: r.evidence_days })),
    num(fmtPct(r.online_share_ratio), t("wb_devices_online", { online: r.devices_online, devices: r.devices })),
    num(fmtPct(r.pledge_coverage_ratio), r.pledged_value_cny == null ? null : `${t("wb_pledged")} ${fmtCny(Number(r.pledged_value_cny))}`));
}

const signed = (x) => (x > 0 ? "+" : "") + fmtNum(x, 1);

function star(r, reload) {
  return h("button", { class: `wb-star${r.watched ? " on" : ""}`, "data-watch": r.enterprise_id, "aria-pressed": String(r.watched),
    "aria-label": t(r.watched ? "wb_unwatch" : "wb_watch"), title: t(r.watched ? "wb_unwatch" : "wb_watch"), onclick: async () => {
      await api(`/api/v1/portfolio/watchlist/${r.enterprise_id}`, { method: r.watched ? "DELETE" : "PUT" });
      reload();
    } }, r.watched ? "★" : "☆");
}

// ---------------------------------------------------------------- the sparkline

const SPARK_W = 120, SPARK_H = 28;

/** The activity of the last 30 days as an inline SVG line (gaps where no data), the industry median dashed; "—"
 * when there is no value at all. Its title says what it is in words. */
export function sparkline(activity, days) {
  const values = activity.values || [], median = activity.industry_median || [];
  const known = [...values, ...median].filter((v) => v != null);
  if (!values.some((v) => v != null)) return h("span", { "data-spark": "none" }, "—");
  const lo = Math.min(...known), hi = Math.max(...known), span = hi - lo || 1;
  const x = (i) => (i * (SPARK_W - 2)) / Math.max(1, days.length - 1) + 1;
  const y = (v) => SPARK_H - 2 - ((v - lo) * (SPARK_H - 4)) / span;
  const lines = (series, cls) => runs(series).map((run) => run.length === 1
    ? svg("circle", { cx: x(run[0][0]), cy: y(run[0][1]), r: 1.5, class: cls })
    : svg("polyline", { points: run.map(([i, v]) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "), class: cls }));
  const last = [...values].reverse().find((v) => v != null);
  const unit = activity.unit ? ` ${code("unit", activity.unit)}` : "";
  const title = t("wb_spark_title", { indicator: code("indicator", activity.indicator), last: `${fmtNum(last, 1)}${unit}`,
    median: activity.industry_median ? t("wb_spark_median") : t("wb_spark_no_median") });
  return svg("svg", { width: SPARK_W, height: SPARK_H, viewBox: `0 0 ${SPARK_W} ${SPARK_H}`, class: "wb-spark", role: "img",
    "aria-label": title, "data-spark": values.filter((v) => v != null).length },
  svg("title", {}, title), ...lines(median, "wb-median"), ...lines(values, "wb-line"));
}

/** Consecutive known points as runs of [index, value]: a missing day breaks the line rather than reading as 0. */
function runs(series) {
  const out = [];
  let current = [];
  series.forEach((v, i) => {
    if (v == null) { if (current.length) out.push(current); current = []; } else current.push([i, v]);
  });
  if (current.length) out.push(current);
  return out;
}
