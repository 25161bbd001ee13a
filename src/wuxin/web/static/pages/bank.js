// Bank pages: the portfolio overview and the map of sites and vehicles.
import { api, indicatorCatalog, session } from "../api.js";
import { code, colourOf, fmtCny, fmtCnyCompact, fmtNum, fmtPct, fmtValue, labelOf, t } from "../i18n.js";
import { card, chart, esc, h, section, table, tooltipHtml } from "../ui.js";
import { WORKBENCH_ROLES, workbenchSection } from "./workbench.js";

export const industryLabel = (x) => code("scenario", x);

export async function portfolio() {
  const data = await api("/api/v1/console/portfolio");
  const rows = data.enterprises;
  const sum = (f) => rows.reduce((a, r) => a + f(r), 0);
  const devices = sum((r) => r.devices || 0), online = sum((r) => r.connectivity.online);
  const page = h("div", {},
    h("h1", {}, t("nav_portfolio")),
    h("div", { class: "kpis" },
      kpi(t("enterprises"), fmtNum(rows.length)), kpi(t("devices"), fmtNum(devices)),
      kpi(t("online_share"), devices ? fmtPct(online / devices) : "—"), kpi(t("machines"), fmtNum(sum((r) => r.machines)))));
  const byScenario = h("div", { class: "chart" }), byRegion = h("div", { class: "chart" }), conn = h("div", { class: "chart" });
  const pending = h("div", { class: "grid" });
  const workbench = WORKBENCH_ROLES.includes(session.me?.role);  // bank staff get the risk workbench, others the plain list
  if (workbench) page.append(workbenchSection());
  page.append(h("div", { class: "grid" }, card(t("by_scenario"), byScenario), card(t("by_region"), byRegion), card(t("connectivity"), conn)), pending);
  if (!workbench) page.append(card(t("enterprises"), table([
      { title: t("name"), render: (r) => h("a", { href: `#/enterprise/${r.id}` }, r.name) },
      { title: t("industry"), render: (r) => industryLabel(r.industry) },
      { title: t("region"), render: (r) => r.region },
      { title: t("devices"), num: true, render: (r) => r.devices == null ? "—" : fmtNum(r.devices) },
      { title: t("online"), num: true, render: (r) => fmtNum(r.connectivity.online) },
      { title: t("offline"), num: true, render: (r) => fmtNum(r.connectivity.offline) },
    ], rows)));
  setTimeout(() => {  // once the page is in the document (charts need a size)
    barChart(byScenario, countBy(rows, (r) => industryLabel(r.industry)));
    barChart(byRegion, countBy(rows, (r) => r.region.replace(/^(.+?(省|自治区|市)).*$/, "$1")));
    chart(conn, { tooltip: {}, series: [{ type: "pie", radius: ["40%", "70%"], data: ["online", "offline", "unknown"].map((k) => ({
      name: t(k), value: sum((r) => r.connectivity[k]), itemStyle: { color: { online: "#2e8540", offline: "#c0392b", unknown: "#b0b7c0" }[k] } })) }] });
  }, 0);
  section(pending, () => monitoringPanels(rows));
  return page;
}

async function monitoringPanels(rows) {
  const [alarmRows, loanRows] = await Promise.all([api("/api/v1/alarms?status=active&limit=1000"), api("/api/v1/loans")]);
  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  const exposure = h("div", { class: "chart", "data-wired": "exposure" }), classes = h("div", { class: "chart" }), alarms = h("div", { class: "chart" });
  setTimeout(() => {
    if (loanRows) {
      const sumBy = (f) => { const m = new Map(); for (const l of loanRows) m.set(f(l), (m.get(f(l)) || 0) + Number(l.outstanding_cny || 0)); return [...m.entries()]; };
      const pairs = sumBy((l) => `${industryLabel(byId[l.enterprise_id]?.industry ?? "?")} · ${(byId[l.enterprise_id]?.region ?? "").replace(/^(.+?(省|自治区|市)).*$/, "$1")}`);
      // the scenario · region names are long: cut to 150 px (whole in the tooltip), the grid makes room for them;
      // amounts as ¥120万 / CN¥1.2M
      chart(exposure, { tooltip: { valueFormatter: fmtCny }, grid: { left: 10, right: 30, top: 10, bottom: 24, containLabel: true },
        xAxis: { type: "value", splitNumber: 3, axisLabel: { formatter: (v) => fmtCnyCompact(v) } },
        yAxis: { type: "category", data: pairs.map((p) => p[0]), axisLabel: { width: 150, overflow: "truncate" } },
        series: [{ type: "bar", data: pairs.map((p) => p[1]), itemStyle: { color: "#0b5cad" } }] });
      const cls = new Map(); for (const l of loanRows) cls.set(l.risk_class ?? "—", (cls.get(l.risk_class ?? "—") || 0) + 1);
      chart(classes, { tooltip: {}, series: [{ type: "pie", radius: ["35%", "65%"], data: [...cls.entries()].map(([name, value]) => ({ name: code("risk_class", name), value })) }] });
    }
    if (alarmRows) {
      const sev = new Map(); for (const a of alarmRows) sev.set(a.severity, (sev.get(a.severity) || 0) + 1);
      chart(alarms, { tooltip: {}, xAxis: { type: "category", data: [...sev.keys()].map((s) => code("severity", s)) }, yAxis: { type: "value", minInterval: 1 }, grid: { left: 40, right: 10, top: 10, bottom: 24 },
        series: [{ type: "bar", data: [...sev.values()], itemStyle: { color: "#c0392b" } }] });
    }
  }, 0);
  const empty = (list, el) => list && !list.length ? h("p", { class: "muted" }, t("none")) : el;
  return h("div", { class: "grid" },
    card(t("exposure"), empty(loanRows, exposure)),
    card(t("risk_classes"), empty(loanRows, classes)),
    card(`${t("open_alarms")} (${fmtNum(alarmRows.length)})`, empty(alarmRows, alarms)),
    trendCard());
}

/** The portfolio's key indicator per scenario (median over its enterprises) and alarms over the last 30 days. */
function trendCard() {
  const slot = h("div");
  section(slot, async () => {
    const [data, catalog] = await Promise.all([api("/api/v1/console/portfolio/trend?days=30"), indicatorCatalog()]);
    const ind = h("div", { class: "chart", "data-trend": "indicators" }), al = h("div", { class: "chart", style: "height:200px", "data-trend": "alarms" });
    setTimeout(() => {
      // Each scenario's own unit differs: plot each against its window mean (= 100), show the values in the tooltip.
      const lines = data.scenarios.map((s) => {
        const known = s.median.filter((v) => v != null), mean = known.reduce((a, v) => a + v, 0) / (known.length || 1);
        const row = catalogRow(catalog, s);
        return { s, row, name: `${industryLabel(s.scenario)} · ${labelOf(row, s.indicator)}`, scaled: s.median.map((v) => v == null || !mean ? null : (100 * v) / mean) };
      });
      chart(ind, { tooltip: { trigger: "axis", formatter: (ps) => tooltipHtml(data.days[ps[0].dataIndex], ps.filter((p) => p.value != null).map((p) => {
        const l = lines[p.seriesIndex];
        return [p.marker, `${l.name}: ${fmtValue(l.s.median[p.dataIndex], l.row.unit, 2)} (${fmtNum(p.value, 0)})`];
      })) }, legend: { type: "scroll", top: 0 },
        grid: { left: 50, right: 20, top: 36, bottom: 30 }, xAxis: { type: "category", data: data.days, axisLabel: { formatter: (d) => d.slice(5) } },
        yAxis: { type: "value", scale: true },
        series: lines.map((l) => ({ name: l.name, type: "line", data: l.scaled })) });
      if (data.alarms) chart(al, { tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 20, top: 30, bottom: 30 },
        xAxis: { type: "category", data: data.days, axisLabel: { formatter: (d) => d.slice(5) } }, yAxis: { type: "value", minInterval: 1 },
        series: [{ name: t("raised"), type: "bar", data: data.alarms.raised, itemStyle: { color: "#d68910" } },
          { name: t("open"), type: "line", step: "end", data: data.alarms.open, itemStyle: { color: "#c0392b" } }] });
    }, 0);
    return h("div", {}, h("h3", {}, `${t("trend_indicators")} · ${t("trend_scale")}`), ind,
      data.hidden_enterprises ? h("p", { class: "muted small" }, t("hidden_enterprises", { n: data.hidden_enterprises })) : null,
      data.alarms ? [h("h3", {}, t("trend_alarms")), al] : null);
  });
  return h("section", { class: "card span-2" }, h("h2", {}, t("trend")), slot);
}

const catalogRow = (catalog, s) => catalog.find((c) => c.scenario === s.scenario && c.name === s.indicator) || {};

function kpi(label, value) { return h("div", { class: "kpi" }, h("div", { class: "v" }, value), h("div", { class: "l" }, label)); }

function countBy(rows, f) {
  const m = new Map();
  for (const r of rows) m.set(f(r), (m.get(f(r)) || 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

function barChart(el, pairs) {
  chart(el, { tooltip: {}, grid: { left: 110, right: 20, top: 10, bottom: 24 }, xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: pairs.map((p) => p[0]).reverse() },
    series: [{ type: "bar", data: pairs.map((p) => p[1]).reverse(), itemStyle: { color: "#0b5cad" } }] });
}

export async function mapPage() {
  const data = await api("/api/v1/console/map");
  const el = h("div", { class: "chart tall", id: "map" });
  const page = h("div", {}, h("h1", {}, t("sites_map")), card(null, el),
    card(t("vehicles"), data.vehicles.length ? table([
      { title: t("key"), render: (v) => h("a", { href: `#/device/${v.enterprise_id}/${encodeURIComponent(v.key)}` }, v.plate || v.key) },
      { title: t("name"), render: (v) => v.enterprise },
      { title: t("connectivity"), render: (v) => h("span", { class: `badge ${v.connectivity}` }, t(v.connectivity)) },
      { title: t("position"), render: (v) => `${fmtNum(v.lat, 4)}, ${fmtNum(v.lon, 4)}` },
    ], data.vehicles) : h("p", { class: "muted" }, t("none"))));
  setTimeout(() => {  // once the page is in the document (charts need a size)
    const groups = {};
    for (const s of data.sites) (groups[s.industry] ||= []).push({ name: `${s.enterprise} · ${s.name}`, value: [s.lon, s.lat], id: s.enterprise_id });
    const series = Object.entries(groups).map(([ind, pts]) => ({ name: industryLabel(ind), type: "scatter", coordinateSystem: "geo",
      symbolSize: 9, itemStyle: { color: colourOf(ind) }, data: pts }));
    series.push({ name: t("vehicles"), type: "effectScatter", coordinateSystem: "geo", symbolSize: 7, itemStyle: { color: "#c0392b" },
      data: data.vehicles.map((v) => ({ name: v.plate || v.key, value: [v.lon, v.lat] })) });
    const c = chart(el, { tooltip: { formatter: (p) => esc(p.name) }, legend: { bottom: 0 },
      geo: { map: "china", roam: true, zoom: 1.2, itemStyle: { areaColor: "#eef2f6", borderColor: "#9aa5b1" }, emphasis: { itemStyle: { areaColor: "#dbe4ee" } } },
      series });
    c?.on("click", (p) => { if (p.data?.id) location.hash = `#/enterprise/${p.data.id}`; });
  }, 0);
  return page;
}
